"""``keras.initializers``: the engine's initializers under Keras's names.

``keras.initializers.HeNormal(seed=1)`` builds the engine's initializer, which
``Dense(kernel_initializer=...)`` takes; the lower-case names Keras also
exports (``he_normal``, ``uniform``, ...) are the same classes.
"""

from ..engine import initializers as _init
from ._names import KerasClass, classes_in, refuse_missing, wrap_all

_NAMES = wrap_all(classes_in(_init, _init.Initializer))
_NAMES.update({name: KerasClass(cls, name) for name, cls in _init.INITIALIZERS.items()})
globals().update(_NAMES)

__all__ = sorted(_NAMES)
__getattr__ = refuse_missing("keras.initializers", __all__)
