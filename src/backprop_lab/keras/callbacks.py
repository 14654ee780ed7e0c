"""``keras.callbacks``: the engine's callbacks under their Keras names.

Every Callback class of ``engine.callbacks``, ``engine.schedule_callbacks``
(LearningRateScheduler, ReduceLROnPlateau) and ``engine.file_callbacks``
(ModelCheckpoint, CSVLogger) is here.

``Callback`` is here to subclass, as in Keras; a subclass is the engine's.
"""

from ..engine import callbacks as _callbacks
from ..engine import file_callbacks as _file_callbacks
from ..engine import schedule_callbacks as _schedule_callbacks
from ._names import classes_in, refuse_missing, wrap_all

_NAMES = {
    name: cls
    for module in (_callbacks, _schedule_callbacks, _file_callbacks)
    for name, cls in wrap_all(classes_in(module, _callbacks.Callback)).items()
}
globals().update(_NAMES)

__all__ = sorted(_NAMES)
__getattr__ = refuse_missing("keras.callbacks", __all__)
