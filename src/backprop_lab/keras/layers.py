"""``keras.layers``: the engine's layers under their Keras names.

Every ``Layer`` subclass ``backprop_lab.engine.layers`` exports is here (Dense,
Dropout, Activation, BatchNormalization, ...), plus ``Input``; any other
``keras.layers`` name raises NotSupported naming it.
"""

from ..engine import layers as _layers
from ._names import KerasClass, classes_in, refuse_missing, wrap_all

_NAMES = {**wrap_all(classes_in(_layers, _layers.Layer)), "Input": KerasClass(_layers.Input)}
globals().update(_NAMES)

__all__ = sorted(_NAMES)
__getattr__ = refuse_missing("keras.layers", __all__)
