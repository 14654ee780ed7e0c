"""``keras.regularizers``: L1, L2 and L1L2, and Keras's lower-case aliases."""

from ..engine import regularizers as _regularizers
from ._names import KerasClass, classes_in, refuse_missing, wrap_all

_NAMES = wrap_all(classes_in(_regularizers, _regularizers.Regularizer))
# keras.regularizers.l2(0.01) is the class L2 under another name.
_NAMES.update({name: KerasClass(cls, name) for name, cls in _regularizers.REGULARIZERS.items()})
globals().update(_NAMES)

__all__ = sorted(_NAMES)
__getattr__ = refuse_missing("keras.regularizers", __all__)
