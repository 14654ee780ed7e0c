"""``keras.utils``: ``to_categorical``, ``set_random_seed``; ``plot_model`` is refused."""

import numpy as np

from ..engine.random import set_random_seed
from ._names import Refused, refuse_missing

plot_model = Refused(
    "keras.utils.plot_model",
    "print model.summary(), or draw the network with backprop_lab.plot.network(model)",
)


def to_categorical(x, num_classes=None) -> np.ndarray:
    """One-hot rows for integer class labels, exactly as Keras's ``to_categorical``.

    Parameters
    ----------
    x : array-like of int, shape (n,) or (..., 1) or any shape
        Class labels in ``[0, num_classes)``; a last axis of length 1 is dropped.
    num_classes : int, optional
        ``max(x) + 1`` when None (or 0, as in Keras).

    Returns
    -------
    ndarray of float64, shape ``x.shape + (num_classes,)`` (last 1 dropped)
    """
    x = np.array(x, dtype="int64")
    input_shape = x.shape
    if input_shape and input_shape[-1] == 1 and len(input_shape) > 1:
        input_shape = tuple(input_shape[:-1])
    x = x.reshape(-1)
    if not num_classes:
        num_classes = np.max(x) + 1
    categorical = np.zeros((x.shape[0], num_classes))
    categorical[np.arange(x.shape[0]), x] = 1
    return np.reshape(categorical, input_shape + (num_classes,))


__all__ = ["plot_model", "set_random_seed", "to_categorical"]
__getattr__ = refuse_missing("keras.utils", __all__)
