"""Pictures: one module per picture, the run report and the comparison of runs.

The entry point for a run is ``learning.draw_run(folder, result)``: it draws
every picture of a run into its folder and writes ``report.html`` last (the
command line calls it after ``runs.folders.write_run``).  The other modules
draw what they are handed (a model, a history, a recording) and save it
atomically; ``style`` holds the colours, ``new_figure`` and ``save_figure``
they share.

May import: ``engine``, ``data`` and ``runs`` (to read what runs hold); never
``experiments`` or ``cli``.
"""
