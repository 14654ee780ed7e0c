"""Regression losses: each an element-wise term, averaged over the outputs.

Each class writes the term ``e(Y, P)`` and its derivative ``de/dP`` next to each
other; the base class averages and weighs them (see ``_base``).  The formulas
are Keras 3's ``keras/src/losses/losses.py``.  At the kink of ``|P - Y|`` the
derivative is taken as ``sign(0) = 0``, as TensorFlow and PyTorch do (JAX takes 1).
"""

from __future__ import annotations

import math

import numpy as np

from ._base import EPSILON, ElementwiseLoss, Loss, check_axis


class MeanSquaredError(ElementwiseLoss):
    """``mean((P - Y) ** 2)``."""

    name = "mean_squared_error"

    def elementwise(self, Y, P):
        return (P - Y) ** 2

    def elementwise_grad(self, Y, P):
        return 2 * (P - Y)


class MeanAbsoluteError(ElementwiseLoss):
    """``mean(|P - Y|)``."""

    name = "mean_absolute_error"

    def elementwise(self, Y, P):
        return np.abs(P - Y)

    def elementwise_grad(self, Y, P):
        return np.sign(P - Y)


class MeanAbsolutePercentageError(ElementwiseLoss):
    """``100 * mean(|Y - P| / max(|Y|, 1e-7))``."""

    name = "mean_absolute_percentage_error"

    def elementwise(self, Y, P):
        return 100 * np.abs((Y - P) / np.maximum(np.abs(Y), EPSILON))

    def elementwise_grad(self, Y, P):
        return 100 * np.sign(P - Y) / np.maximum(np.abs(Y), EPSILON)


class MeanSquaredLogarithmicError(ElementwiseLoss):
    """``mean((log(max(P, eps) + 1) - log(max(Y, eps) + 1)) ** 2)``."""

    name = "mean_squared_logarithmic_error"

    def elementwise(self, Y, P):
        return (np.log(np.maximum(P, EPSILON) + 1) - np.log(np.maximum(Y, EPSILON) + 1)) ** 2

    def elementwise_grad(self, Y, P):
        Pm = np.maximum(P, EPSILON)
        diff = np.log(Pm + 1) - np.log(np.maximum(Y, EPSILON) + 1)
        return 2 * diff / (Pm + 1) * (P > EPSILON)  # the max() is flat below eps


class Huber(ElementwiseLoss):
    """``0.5 r^2`` where ``|r| <= delta``, else ``delta |r| - 0.5 delta^2``; ``r = P - Y``.

    Parameters
    ----------
    delta : float
        Where the quadratic turns linear.
    """

    name = "huber_loss"

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name=None, dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)
        self.delta = float(delta)

    def elementwise(self, Y, P):
        r = P - Y
        d = self.delta
        return np.where(np.abs(r) <= d, 0.5 * r * r, d * np.abs(r) - 0.5 * d * d)

    def elementwise_grad(self, Y, P):
        return np.clip(P - Y, -self.delta, self.delta)

    def options(self):
        return {} if self.delta == 1.0 else {"delta": self.delta}

    def get_config(self):
        return {**super().get_config(), "delta": self.delta}


class LogCosh(ElementwiseLoss):
    """``mean(log(cosh(P - Y)))``, computed as ``r + softplus(-2 r) - log 2``."""

    name = "log_cosh"

    def elementwise(self, Y, P):
        r = P - Y
        return r + np.logaddexp(-2 * r, 0.0) - math.log(2.0)

    def elementwise_grad(self, Y, P):
        return np.tanh(P - Y)


class CosineSimilarity(Loss):
    """``-sum(normalise(Y) * normalise(P))`` per sample (between -1 and 1).

    ``normalise(x) = x * min(1 / ||x||, 1 / eps)`` as Keras's ``ops.normalize``, so a
    zero row gives 0.

    Parameters
    ----------
    axis : int
        Only -1 (the outputs).
    """

    name = "cosine_similarity"

    def __init__(self, axis=-1, reduction="sum_over_batch_size", name=None, dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)
        check_axis(axis)

    @staticmethod
    def _inverse_norm(X):
        """``min(1 / ||x||, 1 / eps)`` per row, and where the ``min`` takes the norm."""
        norm = np.sqrt((X * X).sum(axis=-1, keepdims=True))
        unclipped = norm > EPSILON
        return np.where(unclipped, 1 / np.where(unclipped, norm, 1), 1 / EPSILON), unclipped

    def per_sample(self, Y, P):
        return -((Y * self._inverse_norm(Y)[0]) * (P * self._inverse_norm(P)[0])).sum(axis=-1)

    def sample_grad(self, Y, P):
        Yn = Y * self._inverse_norm(Y)[0]
        r, unclipped = self._inverse_norm(P)
        Pn = P * r
        # d Pn / dP = r (I - Pn Pn^T) where the norm counts, r I where it is clipped.
        along = np.where(unclipped, (Yn * Pn).sum(axis=-1, keepdims=True) * Pn, 0)
        return -r * (Yn - along)

    def get_config(self):
        return {**super().get_config(), "axis": -1}
