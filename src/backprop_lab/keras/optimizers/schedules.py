"""``keras.optimizers.schedules``: learning-rate schedules (``ExponentialDecay``, ...).

``LearningRateSchedule`` itself is here to subclass, as in Keras.
"""

from ...engine import schedules as _schedules
from .._names import classes_in, refuse_missing, wrap_all

_NAMES = {
    **wrap_all(classes_in(_schedules, _schedules.LearningRateSchedule)),
    "serialize": _schedules.serialize,
    "deserialize": _schedules.deserialize,
}
globals().update(_NAMES)

__all__ = sorted(_NAMES)
__getattr__ = refuse_missing("keras.optimizers.schedules", __all__)
