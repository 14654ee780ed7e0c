"""L1 and L2 kernel penalties, added to the loss as Keras adds them."""

from __future__ import annotations

import numpy as np

from ._checks import check_float_in, lookup


class Regularizer:
    """``penalty(W) = l1 * sum(|W|) + l2 * sum(W**2)``; ``gradient`` is its derivative."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0):
        self.l1 = check_float_in("l1", l1, 0.0, np.inf)
        self.l2 = check_float_in("l2", l2, 0.0, np.inf)

    def penalty(self, W: np.ndarray) -> float:
        return self.l1 * float(np.abs(W).sum()) + self.l2 * float((W * W).sum())

    def gradient(self, W: np.ndarray) -> np.ndarray:
        dW = 2 * W.dtype.type(self.l2) * W
        if self.l1:
            dW += W.dtype.type(self.l1) * np.sign(W)
        return dW

    def get_config(self) -> dict:
        return {"l1": self.l1, "l2": self.l2}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(l1={self.l1:g}, l2={self.l2:g})"


class L1(Regularizer):
    def __init__(self, l1: float = 0.01):
        super().__init__(l1=l1)


class L2(Regularizer):
    def __init__(self, l2: float = 0.01):
        super().__init__(l2=l2)


class L1L2(Regularizer):
    pass


REGULARIZERS = {"l1": L1, "l2": L2, "l1_l2": L1L2}


def get(identifier) -> Regularizer | None:
    """Return a regularizer from ``None``, a name (Keras defaults) or an object."""
    if identifier is None or isinstance(identifier, Regularizer):
        return identifier
    return lookup("regularizer", identifier, REGULARIZERS)()
