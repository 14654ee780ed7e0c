"""The loss base class: one per-sample rule, and Keras's reduction around it.

A loss defines two things, next to each other:

- ``per_sample(Y, P)``: the loss of each sample, shape ``(n_samples,)``, from
  targets ``Y`` and predictions ``P`` of shape ``(n_samples, n_outputs)``;
- ``sample_grad(Y, P)``: its derivative, ``G[i, j] = d per_sample[i] / d P[i, j]``.

The base class turns them into what the engine calls, with Keras's default
``"sum_over_batch_size"`` reduction and optional per-sample weights ``w``::

    value    = sum_i w_i * per_sample_i / n_samples       # w = 1 without weights
    backward = w[:, None] * G / n_samples                 # dL/dP

Most losses are a mean over the outputs of an element-wise term; those subclass
``ElementwiseLoss`` and define ``elementwise`` and ``elementwise_grad`` instead.

``loss(y_true, y_pred, sample_weight=None)`` is Keras's ``Loss.__call__`` on raw
arrays (any rank, the last axis the outputs): Keras's shape rules and label
conversions, then the same reduction.
"""

from __future__ import annotations

import numpy as np

EPSILON = 1e-7  # Keras's backend.epsilon(), the clip used by cross-entropies

# The reductions keras.losses.Loss accepts; only the default is supported here.
KERAS_REDUCTIONS = ("sum_over_batch_size", "sum", None, "none", "mean", "mean_with_sample_weight")


def check_finite(y: np.ndarray) -> None:
    if not np.all(np.isfinite(y)):
        raise ValueError("y contains NaN or infinite values; all targets must be finite")


def same_rank(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keras's ``squeeze_or_expand_to_same_rank``: fix a rank difference of one.

    A trailing axis of length 1 is dropped from the higher-rank array, except that
    a 1-D array facing an ``(n, 1)`` one gets the axis added instead.
    """
    if a.ndim == b.ndim + 1 and a.shape[-1] == 1:
        return (a, b[..., None]) if b.ndim == 1 else (a[..., 0], b)
    if b.ndim == a.ndim + 1 and b.shape[-1] == 1:
        return (a[..., None], b) if a.ndim == 1 else (a, b[..., 0])
    return a, b


def sum_over_batch_size(values: np.ndarray, weights=None) -> float:
    """Keras's "sum_over_batch_size": ``sum(w * values) / size`` (0 for no values)."""
    if weights is not None:
        values, w = same_rank(values, np.asarray(weights, dtype=values.dtype))
        values = values * w
    return float(values.sum() / values.size) if values.size else 0.0


def _weigh(G: np.ndarray, weights) -> np.ndarray:
    """``w[:, None] * G / n_samples``: the reduction's derivative."""
    if weights is not None:
        G = G * np.asarray(weights, dtype=G.dtype).reshape(-1, 1)
    return G / len(G)


def check_reduction(reduction) -> str:
    if reduction == "sum_over_batch_size":
        return reduction
    if reduction in KERAS_REDUCTIONS:
        raise NotImplementedError(
            f"reduction={reduction!r} is not supported by backprop_lab; "
            "only 'sum_over_batch_size' (Keras's default)"
        )
    raise ValueError(
        f"Invalid value for argument `reduction`. Expected one of "
        f"{', '.join(map(repr, KERAS_REDUCTIONS))}. Received: reduction={reduction!r}"
    )


def check_axis(axis) -> None:
    if axis != -1:
        raise NotImplementedError(f"axis={axis!r} is not supported by backprop_lab; only -1")


class Loss:
    """Base class for losses (see the module docstring).

    Parameters
    ----------
    reduction : str
        Only Keras's default, ``"sum_over_batch_size"``.
    name : str, optional
        Keras's name of the loss object; the class's default name otherwise.
    dtype : str, optional
        The dtype of a direct call ``loss(y_true, y_pred)``.  By default that of a
        floating ``y_pred``, else float32 (Keras computes in float32 always).  The
        engine computes in the model's dtype.
    """

    name = "loss"
    fuses_with: str | None = None  # activation name whose gradient fuses with this loss

    def __init__(self, reduction="sum_over_batch_size", name=None, dtype=None):
        self.reduction = check_reduction(reduction)
        self.name = type(self).name if name is None else str(name)
        if dtype not in (None, "float16", "float32", "float64", np.float32, np.float64):
            raise NotImplementedError(
                f"dtype={dtype!r} is not supported by backprop_lab; use float32 or float64"
            )
        self.dtype = None if dtype is None else np.dtype(dtype)

    # ------------------------------------------------------------ the rule
    def per_sample(self, Y: np.ndarray, P: np.ndarray) -> np.ndarray:
        """The loss of each sample: shape ``(n_samples,)`` (``Y.shape[:-1]`` in general)."""
        raise NotImplementedError

    def sample_grad(self, Y: np.ndarray, P: np.ndarray) -> np.ndarray:
        """``d per_sample[i] / d P[i, j]``, shape ``(n_samples, n_outputs)``."""
        raise NotImplementedError

    # ------------------------------------------------------------ what the engine calls
    def prepare_targets(self, y, n_outputs: int, dtype) -> np.ndarray:
        """Return ``y`` as a float array of shape ``(n_samples, n_outputs)``."""
        Y = np.asarray(y, dtype=dtype)
        check_finite(Y)
        if Y.ndim == 1:
            Y = Y.reshape(-1, 1)
        if Y.ndim != 2 or Y.shape[1] != n_outputs:
            raise ValueError(
                f"y has shape {np.shape(y)}, but the model has {n_outputs} output(s); "
                f"expected shape (n_samples, {n_outputs})"
            )
        return Y

    def value(self, Y: np.ndarray, P: np.ndarray, weights=None) -> float:
        """The loss of prepared targets ``Y`` and predictions ``P``, both ``(n, k)``.

        ``weights`` (shape ``(n,)``) weigh the samples; the sum is still divided by
        ``n``, as Keras's "sum_over_batch_size" does.
        """
        return sum_over_batch_size(self.per_sample(Y, P), weights)

    def backward(self, Y: np.ndarray, P: np.ndarray, weights=None) -> np.ndarray:
        """``dL/dP`` of ``value``, shape ``(n, k)``."""
        return _weigh(self.sample_grad(Y, P), weights)

    def backward_logits(self, Y: np.ndarray, P: np.ndarray, weights=None) -> np.ndarray:
        """``dL/dZ`` through the output activation named ``fuses_with`` (``P`` its output)."""
        raise NotImplementedError(f"{self.name} has no fused gradient")

    # ------------------------------------------------------------ Keras's direct call
    def __call__(self, y_true, y_pred, sample_weight=None) -> float:
        """Keras's ``loss(y_true, y_pred, sample_weight=None)`` on raw arrays."""
        P = np.asarray(y_pred, dtype=self.dtype)
        if not np.issubdtype(P.dtype, np.floating):
            P = P.astype(np.float32)
        Y, P = self.keras_targets(np.asarray(y_true), P)
        return sum_over_batch_size(self.per_sample(Y, P), sample_weight)

    def keras_targets(self, y: np.ndarray, P: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Raw ``y_true`` as Keras's loss wrapper sees it beside ``P``."""
        return same_rank(y.astype(P.dtype), P)

    # ------------------------------------------------------------ description
    def options(self) -> dict:
        """Options that change the math from the plain loss (e.g. ``from_logits``): the
        compiled engine runs only a loss with none."""
        return {}

    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.options().items())
        return f"{type(self).__name__}({args})"


class ElementwiseLoss(Loss):
    """A loss that is the mean over the outputs of ``elementwise(Y, P)``."""

    def elementwise(self, Y: np.ndarray, P: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def elementwise_grad(self, Y: np.ndarray, P: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def per_sample(self, Y, P):
        return self.elementwise(Y, P).mean(axis=-1)

    def sample_grad(self, Y, P):
        return self.elementwise_grad(Y, P) / P.shape[-1]
