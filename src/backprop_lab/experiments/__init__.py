"""Experiments: many trainings over a grid of settings, on joblib or Dask.

``scale`` (accuracy against training-set size) and ``sweep`` (any settings)
return one results table, written row by row and resumable.

May import: ``engine``, ``data`` and ``runs``; never ``pictures`` or ``cli``.
"""

from .core import (
    PROTOCOLS,
    connect,
    default_sizes,
    parse_vary,
    plan_scale,
    plan_sweep,
    reference_accuracies,
    run_experiment,
    scale,
    scale_jobs,
    summarise,
    sweep,
)

__all__ = [
    "PROTOCOLS",
    "connect",
    "default_sizes",
    "parse_vary",
    "plan_scale",
    "plan_sweep",
    "reference_accuracies",
    "run_experiment",
    "scale",
    "scale_jobs",
    "summarise",
    "sweep",
]
