"""Layers: each turns ``X`` of shape ``(n_samples, fan_in)`` into ``A`` of shape
``(n_samples, units)`` in ``forward`` and sends the gradient back in
``backward``, each gradient written next to the forward line it differentiates.

``base`` (the interface and ``Input``), ``dense``, ``dropout``, ``activation``
(the layer), ``normalization`` (``BatchNormalization``).
"""

from .activation import Activation
from .base import Input, Layer
from .dense import Dense
from .dropout import Dropout
from .normalization import BatchNormalization

__all__ = ["Activation", "BatchNormalization", "Dense", "Dropout", "Input", "Layer"]
