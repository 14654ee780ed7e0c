"""Loss functions with Keras's semantics and their gradients.

A loss is called as ``loss(Y, P)`` with targets ``Y`` and predictions ``P``,
both of shape ``(n_samples, n_outputs)``, and returns the mean over samples
(and over outputs), as Keras's default ``"sum_over_batch_size"`` reduction.
``backward(Y, P)`` returns ``dL/dP`` of the same shape.

``prepare_targets`` turns what a user passes as ``y`` into that 2-D ``Y`` once,
before training, and refuses labels the loss cannot use.

Fused gradients
---------------
For the pairs sigmoid + binary cross-entropy and softmax + categorical
cross-entropy, the chain rule through the activation collapses to::

    dZ = (P - Y) / (n_samples * n_outputs)

``backward_logits`` returns that directly; it is cheaper and exact.  It is
valid only for those pairs, so each loss names the activation it fuses with
(``fuses_with``) and the model uses the shortcut only when they match.
Keras clips probabilities to ``[eps, 1 - eps]`` before the logarithm, and the
clip has zero gradient outside that range; the fused rules below keep that
mask so the shortcut is the exact derivative of the clipped loss.
"""

from __future__ import annotations

import numpy as np

from ._checks import lookup

EPSILON = 1e-7  # Keras's backend.epsilon(), the clip used by cross-entropies


def _check_finite(y: np.ndarray) -> None:
    if not np.all(np.isfinite(y)):
        raise ValueError("y contains NaN or infinite values; all targets must be finite")


class Loss:
    """Base class for losses."""

    name = "loss"
    fuses_with: str | None = None  # activation name whose gradient fuses with this loss

    def prepare_targets(self, y, n_outputs: int, dtype) -> np.ndarray:
        """Return ``y`` as a float array of shape ``(n_samples, n_outputs)``."""
        Y = np.asarray(y, dtype=dtype)
        _check_finite(Y)
        if Y.ndim == 1:
            Y = Y.reshape(-1, 1)
        if Y.ndim != 2 or Y.shape[1] != n_outputs:
            raise ValueError(
                f"y has shape {np.shape(y)}, but the model has {n_outputs} output(s); "
                f"expected shape (n_samples, {n_outputs})"
            )
        return Y

    def value(self, Y: np.ndarray, P: np.ndarray) -> float:
        """The mean loss of prepared targets ``Y`` and predictions ``P``."""
        raise NotImplementedError

    def __call__(self, Y: np.ndarray, P: np.ndarray) -> float:
        return self.value(Y, P)

    def options(self) -> dict:
        """Options that change the math from the plain loss (e.g. ``from_logits``): the
        compiled engine runs only a loss with none."""
        return {}

    def backward(self, Y: np.ndarray, P: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward_logits(self, Y: np.ndarray, P: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{self.name} has no fused gradient")

    def get_config(self) -> dict:
        return {"name": self.name}

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class BinaryCrossentropy(Loss):
    """``-mean(Y log P + (1 - Y) log(1 - P))`` with ``P`` clipped to ``[1e-7, 1 - 1e-7]``."""

    name = "binary_crossentropy"
    fuses_with = "sigmoid"

    def prepare_targets(self, y, n_outputs, dtype):
        Y = super().prepare_targets(y, n_outputs, dtype)
        if not np.all((Y == 0) | (Y == 1)):
            bad = Y[(Y != 0) & (Y != 1)][0]
            raise ValueError(f"binary_crossentropy needs labels in {{0, 1}}, got a label {bad:g}")
        return Y

    def _clip(self, P):
        """``P`` clipped to ``[eps, 1 - eps]``, and the mask of entries the clip left alone."""
        Pc = np.minimum(np.maximum(P, EPSILON), 1 - EPSILON)
        return Pc, Pc == P

    def value(self, Y, P):
        Pc, _ = self._clip(P)
        return -float((Y * np.log(Pc) + (1 - Y) * np.log(1 - Pc)).sum()) / P.size

    def backward(self, Y, P):
        Pc, inside = self._clip(P)
        return (-(Y / Pc) + (1 - Y) / (1 - Pc)) * inside / P.size

    def backward_logits(self, Y, P):
        # sigmoid + BCE: dL/dZ = dL/dP * P (1 - P) = (P - Y) / size where unclipped.
        _, inside = self._clip(P)
        return (P - Y) * inside / P.size


class CategoricalCrossentropy(Loss):
    """``-mean(sum(Y log P, axis=1))``; ``P`` rows normalised, then clipped as Keras does."""

    name = "categorical_crossentropy"
    fuses_with = "softmax"

    def _normalise(self, P):
        eps = P.dtype.type(EPSILON)
        Q = P / P.sum(axis=1, keepdims=True)
        return Q, np.clip(Q, eps, 1 - eps), (Q >= eps) & (Q <= 1 - eps)

    def value(self, Y, P):
        _, Qc, _ = self._normalise(P)
        return float(-np.mean(np.sum(Y * np.log(Qc), axis=1)))

    def backward(self, Y, P):
        Q, Qc, inside = self._normalise(P)
        G = -(Y / Qc) * inside / len(P)  # dL/dQ
        # Back through Q = P / sum(P): dQ_j/dP_k = (delta_jk - Q_j) / sum(P).
        return (G - (G * Q).sum(axis=1, keepdims=True)) / P.sum(axis=1, keepdims=True)

    def backward_logits(self, Y, P):
        # softmax + CCE: dL/dZ = (P * sum(Y) - Y) / n_samples, i.e. (P - Y) / n for
        # one-hot Y; targets whose probability is clipped contribute nothing.
        _, _, inside = self._normalise(P)
        Ym = Y * inside
        return (P * Ym.sum(axis=1, keepdims=True) - Ym) / len(P)


class SparseCategoricalCrossentropy(CategoricalCrossentropy):
    """Categorical cross-entropy with integer class labels ``y`` of shape ``(n_samples,)``."""

    name = "sparse_categorical_crossentropy"

    def prepare_targets(self, y, n_outputs, dtype):
        labels = np.asarray(y)
        _check_finite(labels.astype(float))
        if labels.ndim == 2 and labels.shape[1] == 1:
            labels = labels[:, 0]
        if labels.ndim != 1:
            raise ValueError(
                f"sparse_categorical_crossentropy needs y of shape (n_samples,), got {labels.shape}"
            )
        ids = labels.astype(np.int64)
        if np.any(ids != labels) or np.any((ids < 0) | (ids >= n_outputs)):
            raise ValueError(
                f"sparse_categorical_crossentropy needs integer labels in "
                f"[0, {n_outputs - 1}] for a model with {n_outputs} outputs"
            )
        return np.eye(n_outputs, dtype=dtype)[ids]


class MeanSquaredError(Loss):
    """``mean((P - Y) ** 2)``."""

    name = "mean_squared_error"

    def value(self, Y, P):
        return float(np.mean((P - Y) ** 2))

    def backward(self, Y, P):
        return 2 * (P - Y) / P.size


LOSSES: dict[str, type[Loss]] = {
    cls.name: cls
    for cls in (
        BinaryCrossentropy,
        CategoricalCrossentropy,
        SparseCategoricalCrossentropy,
        MeanSquaredError,
    )
}
LOSSES["mse"] = MeanSquaredError


def get(identifier: str | Loss) -> Loss:
    """Return a loss object from a name or an object."""
    if isinstance(identifier, Loss):
        return identifier
    return lookup("loss", identifier, LOSSES)()
