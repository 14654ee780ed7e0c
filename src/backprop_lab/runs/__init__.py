"""Runs: one training from its settings, and what it leaves on disk.

``settings`` (one validated schema for the CLI, TOML files and experiments),
``runner`` (data → model → fit → metrics), ``recording`` (what is recorded
during training for the pictures), ``folders`` (run folders and the files in
them), ``modelio`` (safetensors model files) and ``fileio`` (atomic writes).

May import: ``engine`` and ``data``; never ``pictures``, ``experiments`` or ``cli``.
"""
