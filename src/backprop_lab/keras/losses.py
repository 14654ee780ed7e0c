"""``keras.losses``: the engine's loss classes, and the loss names as constants.

``keras.losses.BinaryCrossentropy(from_logits=True)`` builds the engine's loss;
``keras.losses.mse`` (a function in Keras) is the name ``"mse"`` here, which
``compile(loss=...)`` takes as Keras takes the function; called directly it
returns the per-sample losses, as Keras's function does.
"""

import numpy as np

from ..engine import losses as _losses
from ._names import classes_in, refuse_missing, wrap_all


class LossName(str):
    """A loss's name standing in for Keras's loss function of that name."""

    def __call__(self, y_true, y_pred):
        """The loss of each sample, shape ``y_pred.shape[:-1]``."""
        loss = _losses.get(str(self))
        P = np.asarray(y_pred, dtype="float32")
        return loss.per_sample(*loss.keras_targets(np.asarray(y_true), P))


_CLASSES = classes_in(_losses, _losses.Loss)
_CLASSES.pop("ElementwiseLoss", None)  # a base class of the engine's, not a Keras name
_NAMES = {**wrap_all(_CLASSES), **{n: LossName(n) for n in _losses.LOSSES}}
globals().update(_NAMES)

__all__ = sorted(_NAMES)
__getattr__ = refuse_missing("keras.losses", __all__)
