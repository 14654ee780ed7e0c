"""Cross-entropies: binary, categorical and sparse categorical, as Keras 3 computes them.

On probabilities Keras clips ``P`` to ``[eps, 1 - eps]`` before the logarithm
(categorical: after dividing each row by its sum), and the clip has zero
gradient outside that range; the rules below keep that mask, so every gradient
is the exact derivative of the clipped loss.  With ``from_logits=True`` ``P`` are
logits and no clip happens (``log_sigmoid`` / ``log_softmax`` instead).

Fused gradients
---------------
For the pairs sigmoid + binary cross-entropy and softmax + categorical
cross-entropy, the chain rule through the activation collapses to::

    dZ = (P - Y) / (n_samples * n_outputs)        # binary, per output
    dZ = (P * sum(Y) - Y) / n_samples             # categorical; (P - Y) / n for one-hot Y

``backward_logits`` returns that directly; it is cheaper and exact.  It is
valid only for those pairs, so each loss names the activation it fuses with
(``fuses_with``) and the model uses the shortcut only when they match.  With
``from_logits=True`` the loss applies the sigmoid / softmax itself, so it fuses
with a ``"linear"`` output and the same formulas hold with ``P`` the logits.

``label_smoothing`` moves the targets towards uniform before all of this:
``Y (1 - s) + s / 2`` (binary), ``Y (1 - s) + s / n_classes`` (categorical).
"""

from __future__ import annotations

import numpy as np

from ._base import EPSILON, ElementwiseLoss, Loss, check_axis, check_finite, same_rank


def _sigmoid(Z):
    return 0.5 * (1 + np.tanh(0.5 * Z))


def _softplus(Z):
    return np.logaddexp(Z, 0.0).astype(Z.dtype, copy=False)


def _log_softmax(Z):
    shifted = Z - Z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _check_smoothing(label_smoothing) -> float:
    if not 0 <= label_smoothing <= 1:
        raise ValueError(f"label_smoothing must be in [0, 1], got {label_smoothing!r}")
    return float(label_smoothing)


def _same_shape(y: np.ndarray, P: np.ndarray) -> None:
    if y.shape != P.shape:
        raise ValueError(
            "Arguments `target` and `output` must have the same shape. "
            f"Received: target.shape={y.shape}, output.shape={P.shape}"
        )


class _FromLogits:
    """The two cross-entropies' options, with Keras's signature: ``from_logits`` (fuse
    with a linear output, and say so in ``options``) and ``label_smoothing``."""

    def __init__(
        self,
        from_logits=False,
        label_smoothing=0.0,
        axis=-1,
        reduction="sum_over_batch_size",
        name=None,
        dtype=None,
    ):
        super().__init__(reduction=reduction, name=name, dtype=dtype)
        check_axis(axis)
        self.from_logits = bool(from_logits)
        self.label_smoothing = _check_smoothing(label_smoothing)

    @property
    def fuses_with(self) -> str:
        return "linear" if self.from_logits else self.probability_activation

    def options(self) -> dict:
        options = {"from_logits": True} if self.from_logits else {}
        if self.label_smoothing:
            options["label_smoothing"] = self.label_smoothing
        return options

    def get_config(self) -> dict:
        return {**Loss.get_config(self), "from_logits": self.from_logits, "axis": -1}


class BinaryCrossentropy(_FromLogits, ElementwiseLoss):
    """``-mean(Y log P + (1 - Y) log(1 - P))``, ``P`` clipped to ``[1e-7, 1 - 1e-7]``.

    Parameters
    ----------
    from_logits : bool
        ``P`` are logits: the loss is ``Y softplus(-P) + (1 - Y) softplus(P)``.
    label_smoothing : float in [0, 1]
        Targets become ``Y (1 - label_smoothing) + label_smoothing / 2``.
    axis : int
        Only -1 (the outputs).
    """

    name = "binary_crossentropy"
    probability_activation = "sigmoid"

    def prepare_targets(self, y, n_outputs, dtype):
        Y = super().prepare_targets(y, n_outputs, dtype)
        if not np.all((Y == 0) | (Y == 1)):
            bad = Y[(Y != 0) & (Y != 1)][0]
            raise ValueError(f"binary_crossentropy needs labels in {{0, 1}}, got a label {bad:g}")
        return Y

    def keras_targets(self, y, P):
        Y, P = super().keras_targets(y, P)
        _same_shape(Y, P)
        return Y, P

    def _smooth(self, Y):
        s = self.label_smoothing
        return Y * (1 - s) + 0.5 * s if s else Y

    @staticmethod
    def _clip(P):
        """``P`` clipped to ``[eps, 1 - eps]``, and the mask of entries the clip left alone."""
        Pc = np.minimum(np.maximum(P, EPSILON), 1 - EPSILON)
        return Pc, Pc == P

    def elementwise(self, Y, P):
        Y = self._smooth(Y)
        if self.from_logits:
            return Y * _softplus(-P) + (1 - Y) * _softplus(P)
        Pc, _ = self._clip(P)
        return -(Y * np.log(Pc) + (1 - Y) * np.log(1 - Pc))

    def elementwise_grad(self, Y, P):
        Y = self._smooth(Y)
        if self.from_logits:
            return _sigmoid(P) - Y
        Pc, inside = self._clip(P)
        return (-(Y / Pc) + (1 - Y) / (1 - Pc)) * inside

    def backward_logits(self, Y, P, weights=None):
        if self.from_logits:  # P are the logits: this is the plain gradient
            return self.backward(Y, P, weights)
        # sigmoid + BCE: dL/dZ = dL/dP * P (1 - P) = (P - Y) / size where unclipped.
        _, inside = self._clip(P)
        G = (P - self._smooth(Y)) * inside
        if weights is not None:
            G = G * np.asarray(weights, dtype=G.dtype).reshape(-1, 1)
        return G / P.size

    def get_config(self):
        return {**super().get_config(), "label_smoothing": self.label_smoothing}


class CategoricalCrossentropy(_FromLogits, Loss):
    """``-sum(Y log P)`` per sample; ``P`` rows normalised, then clipped as Keras does.

    Parameters
    ----------
    from_logits : bool
        ``P`` are logits: the loss is ``-sum(Y log_softmax(P))``.
    label_smoothing : float in [0, 1]
        Targets become ``Y (1 - label_smoothing) + label_smoothing / n_classes``.
    axis : int
        Only -1 (the classes).
    """

    name = "categorical_crossentropy"
    probability_activation = "softmax"

    def keras_targets(self, y, P):
        Y, P = super().keras_targets(y, P)
        _same_shape(Y, P)
        return Y, P

    def _smooth(self, Y):
        s = self.label_smoothing
        return Y * (1 - s) + s / Y.shape[-1] if s else Y

    @staticmethod
    def _normalise(P):
        """Rows scaled to sum 1, then clipped; and the mask the clip left alone."""
        Q = P / P.sum(axis=-1, keepdims=True)
        Qc = np.minimum(np.maximum(Q, EPSILON), 1 - EPSILON)
        return Q, Qc, Qc == Q

    def per_sample(self, Y, P):
        Y = self._smooth(Y)
        if self.from_logits:
            return -(Y * _log_softmax(P)).sum(axis=-1)
        _, Qc, _ = self._normalise(P)
        return -(Y * np.log(Qc)).sum(axis=-1)

    def sample_grad(self, Y, P):
        Y = self._smooth(Y)
        if self.from_logits:  # d/dZ -sum(Y log_softmax(Z)) = softmax(Z) sum(Y) - Y
            return np.exp(_log_softmax(P)) * Y.sum(axis=-1, keepdims=True) - Y
        Q, Qc, inside = self._normalise(P)
        G = -(Y / Qc) * inside  # d/dQ
        # Back through Q = P / sum(P): dQ_j/dP_k = (delta_jk - Q_j) / sum(P).
        return (G - (G * Q).sum(axis=-1, keepdims=True)) / P.sum(axis=-1, keepdims=True)

    def backward_logits(self, Y, P, weights=None):
        if self.from_logits:
            return self.backward(Y, P, weights)
        # softmax + CCE: dL/dZ = (P * sum(Y) - Y) / n_samples, i.e. (P - Y) / n for
        # one-hot Y; targets whose probability is clipped contribute nothing.
        _, _, inside = self._normalise(P)
        Ym = self._smooth(Y) * inside
        G = P * Ym.sum(axis=-1, keepdims=True) - Ym
        if weights is not None:
            G = G * np.asarray(weights, dtype=G.dtype).reshape(-1, 1)
        return G / len(P)

    def get_config(self):
        return {**super().get_config(), "label_smoothing": self.label_smoothing}


class SparseCategoricalCrossentropy(CategoricalCrossentropy):
    """Categorical cross-entropy with integer class labels ``y`` of shape ``(n_samples,)``.

    The engine turns the labels into one-hot rows once (``prepare_targets``); a
    direct call ``loss(labels, P)`` does the same, as Keras does.

    Parameters
    ----------
    from_logits : bool
        ``P`` are logits.
    ignore_class : None
        Only None (every class counts).
    axis : int
        Only -1 (the classes).
    """

    name = "sparse_categorical_crossentropy"

    def __init__(
        self,
        from_logits=False,
        ignore_class=None,
        axis=-1,
        reduction="sum_over_batch_size",
        name=None,
        dtype=None,
    ):
        if ignore_class is not None:
            raise NotImplementedError(
                "SparseCategoricalCrossentropy(ignore_class=...) is not supported by backprop_lab"
            )
        super().__init__(
            from_logits=from_logits, axis=axis, reduction=reduction, name=name, dtype=dtype
        )
        self.ignore_class = None

    def prepare_targets(self, y, n_outputs, dtype):
        labels = np.asarray(y)
        check_finite(labels.astype(float))
        if labels.ndim == 2 and labels.shape[1] == 1:
            labels = labels[:, 0]
        if labels.ndim != 1:
            raise ValueError(
                f"sparse_categorical_crossentropy needs y of shape (n_samples,), got {labels.shape}"
            )
        return self._one_hot(labels, n_outputs, dtype)

    def keras_targets(self, y, P):
        labels, P = same_rank(y, P)
        if labels.ndim == P.ndim and labels.shape[-1] == 1:
            labels = labels[..., 0]
        if labels.shape != P.shape[:-1]:
            raise ValueError(
                "Arguments `target` and `output` must have the same shape up until the "
                f"last dimension: target.shape={labels.shape}, output.shape={P.shape}"
            )
        return self._one_hot(labels, P.shape[-1], P.dtype), P

    @staticmethod
    def _one_hot(labels, n_classes, dtype):
        ids = labels.astype(np.int64)
        if np.any(ids != labels) or np.any((ids < 0) | (ids >= n_classes)):
            raise ValueError(
                f"sparse_categorical_crossentropy needs integer labels in "
                f"[0, {n_classes - 1}] for a model with {n_classes} outputs"
            )
        return np.eye(n_classes, dtype=dtype)[ids]

    def get_config(self):
        return {**Loss.get_config(self), "from_logits": self.from_logits, "ignore_class": None}
