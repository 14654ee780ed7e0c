"""Check backpropagation against central finite differences.

For every parameter ``w`` the numerical derivative is::

    (L(w + eps) - L(w - eps)) / (2 * eps)

computed in float64 over the whole flattened parameter vector and compared
with the gradient that ``model.backward`` computes.
"""

from __future__ import annotations

import numpy as np

# Gradient entries smaller than this are compared absolutely: central
# differences in float64 carry an absolute error of about 1e-11 at eps=1e-5,
# which would make the relative error of a near-zero entry meaningless.
FLOOR = 1e-5
TOLERANCE = 1e-6


def loss_value(model, X: np.ndarray, Y: np.ndarray) -> float:
    """The training objective: the loss plus the regularization penalties."""
    return model.loss.value(Y, model.forward(X)) + model.penalty()


def numerical_gradients(model, X, Y, eps: float = 1e-5) -> list[np.ndarray]:
    """Central-difference gradients, one array per parameter, in place of ``grads``."""
    numeric = []
    for p in model.params:
        g = np.zeros_like(p)
        flat, gflat = p.reshape(-1), g.reshape(-1)
        for i in range(flat.size):
            saved = flat[i]
            flat[i] = saved + eps
            up = loss_value(model, X, Y)
            flat[i] = saved - eps
            down = loss_value(model, X, Y)
            flat[i] = saved
            gflat[i] = (up - down) / (2 * eps)
        numeric.append(g)
    return numeric


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """Largest ``|a - b| / max(|a|, |b|, FLOOR)`` over the entries."""
    scale = np.maximum(np.maximum(np.abs(a), np.abs(b)), FLOOR)
    return float(np.max(np.abs(a - b) / scale)) if a.size else 0.0


def check_gradients(model, X, Y, eps: float = 1e-5) -> list[dict]:
    """Compare backprop with finite differences, layer by layer.

    Parameters
    ----------
    model : Sequential
        A compiled float64 model.
    X : ndarray of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_outputs)
        Targets as prepared by ``model.loss.prepare_targets``.

    Returns
    -------
    list of dict
        Per layer: ``layer`` (its repr), ``kernel`` and ``bias`` (largest
        relative differences) and ``max``.
    """
    if model.dtype != np.float64:
        raise ValueError(f"gradient checks need a float64 model, got {model.dtype}")
    model.backward(Y, model.forward(X))
    analytic = [g.copy() for g in model.grads]
    numeric = numerical_gradients(model, X, Y, eps)
    rows = []
    for i, layer in enumerate(model.layers):
        kernel = relative_error(analytic[2 * i], numeric[2 * i])
        bias = relative_error(analytic[2 * i + 1], numeric[2 * i + 1])
        rows.append(
            {"layer": repr(layer), "kernel": kernel, "bias": bias, "max": max(kernel, bias)}
        )
    return rows
