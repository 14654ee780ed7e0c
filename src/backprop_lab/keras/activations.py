"""``keras.activations``: each activation as a callable object (``relu(Z)``).

``Dense(8, activation=keras.activations.relu)`` takes them as it takes names.
"""

from ..engine import activations as _activations
from ._names import refuse_missing

_NAMES = {name: cls() for name, cls in _activations.ACTIVATIONS.items()}
_NAMES["get"] = _activations.get
globals().update(_NAMES)

__all__ = sorted(_NAMES)
__getattr__ = refuse_missing("keras.activations", __all__)
