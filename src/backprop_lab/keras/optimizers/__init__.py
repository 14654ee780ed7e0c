"""``keras.optimizers``: the engine's optimizers under their Keras names, and ``schedules``."""

from ...engine import optimizers as _optimizers
from .._names import classes_in, refuse_missing, wrap_all
from . import schedules

_NAMES = {**wrap_all(classes_in(_optimizers, _optimizers.Optimizer)), "schedules": schedules}
globals().update(_NAMES)

__all__ = sorted(_NAMES)
__getattr__ = refuse_missing("keras.optimizers", __all__)
