"""Pictures: one module per picture, the run report and the comparison of runs.

Each module draws what it is handed (a model, a history, a recording) and
saves it atomically; drawing a whole run folder is ``learning.draw_run``.

May import: ``engine``, ``data`` and ``runs`` (to read what runs hold); never
``experiments`` or ``cli``.
"""
