"""Hinge losses, and the two probabilistic losses (KL divergence, Poisson).

The hinge losses want labels in ``{-1, 1}``; as Keras does, labels that are all
in ``{0, 1}`` are first mapped to ``2 y - 1`` (a batch already in ``{-1, 1}``
stays as it is, so doing this batch by batch is the same as doing it once).
"""

from __future__ import annotations

import numpy as np

from ._base import EPSILON, ElementwiseLoss, Loss


def to_signs(Y: np.ndarray) -> np.ndarray:
    """Keras's ``convert_binary_labels_to_hinge``: ``{0, 1}`` labels become ``{-1, 1}``."""
    return 2 * Y - 1 if np.all((Y == 0) | (Y == 1)) else Y


class Hinge(ElementwiseLoss):
    """``mean(max(1 - Y P, 0))`` with ``Y`` in ``{-1, 1}``."""

    name = "hinge"

    def elementwise(self, Y, P):
        return np.maximum(1 - to_signs(Y) * P, 0)

    def elementwise_grad(self, Y, P):
        S = to_signs(Y)
        return -S * (1 - S * P > 0)


class SquaredHinge(ElementwiseLoss):
    """``mean(max(1 - Y P, 0) ** 2)`` with ``Y`` in ``{-1, 1}``."""

    name = "squared_hinge"

    def elementwise(self, Y, P):
        return np.maximum(1 - to_signs(Y) * P, 0) ** 2

    def elementwise_grad(self, Y, P):
        S = to_signs(Y)
        return -2 * S * np.maximum(1 - S * P, 0)


class CategoricalHinge(Loss):
    """``max(neg - pos + 1, 0)``: ``pos = sum(Y P)``, ``neg = max((1 - Y) P)`` per sample."""

    name = "categorical_hinge"

    def per_sample(self, Y, P):
        pos = (Y * P).sum(axis=-1)
        neg = ((1 - Y) * P).max(axis=-1)
        return np.maximum(neg - pos + 1, 0)

    def sample_grad(self, Y, P):
        N = (1 - Y) * P
        # The max's gradient goes to its arg-max, shared equally between ties (as JAX).
        top = N == N.max(axis=-1, keepdims=True)
        dneg = (1 - Y) * top / top.sum(axis=-1, keepdims=True)
        active = (self.per_sample(Y, P) > 0)[:, None]
        return (dneg - Y) * active


class KLDivergence(Loss):
    """``sum(Y log(Y / P))`` per sample, ``Y`` and ``P`` clipped to ``[1e-7, 1]``."""

    name = "kl_divergence"

    def per_sample(self, Y, P):
        Yc = np.clip(Y, EPSILON, 1)
        return (Yc * np.log(Yc / np.clip(P, EPSILON, 1))).sum(axis=-1)

    def sample_grad(self, Y, P):
        Pc = np.clip(P, EPSILON, 1)
        return -np.clip(Y, EPSILON, 1) / Pc * (Pc == P)


class Poisson(ElementwiseLoss):
    """``mean(P - Y log(P + 1e-7))``."""

    name = "poisson"

    def elementwise(self, Y, P):
        return P - Y * np.log(P + EPSILON)

    def elementwise_grad(self, Y, P):
        return 1 - Y / (P + EPSILON)
