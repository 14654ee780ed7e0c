"""Experiments: many trainings over a grid of settings, on joblib or Dask.

``scale`` (accuracy against training-set size) and ``sweep`` (one or two
settings) return one results table, written row by row and resumable.  The
room holds the planning of the grid (``jobs``), one training (``training``),
the backends that run them (``backends``), the table (``results``) and the
public functions (``api``).  Varied settings are typed by the settings schema
of ``runs.settings``, as the command line and config files are.

May import: ``engine``, ``data`` and ``runs``; never ``pictures`` or ``cli``.
"""

from .api import run_experiment, scale, sweep
from .backends import check_backend, connect
from .jobs import (
    PROTOCOLS,
    VARY_NAMES,
    default_sizes,
    parse_vary,
    plan_scale,
    plan_sweep,
    scale_jobs,
)
from .results import score_column, summarise
from .training import reference_accuracies

__all__ = [
    "PROTOCOLS",
    "VARY_NAMES",
    "check_backend",
    "connect",
    "default_sizes",
    "parse_vary",
    "plan_scale",
    "plan_sweep",
    "reference_accuracies",
    "run_experiment",
    "scale",
    "scale_jobs",
    "score_column",
    "summarise",
    "sweep",
]
