"""Check backpropagation against central finite differences.

For every parameter ``w`` the numerical derivative is::

    (L(w + eps) - L(w - eps)) / (2 * eps)

computed in float64 over the whole flattened parameter vector and compared
with the gradient that ``model.backward`` computes.

Every evaluation of the loss is a training pass (``model.forward``) with the
same random draws: the generators the layers draw from (Dropout's masks) are
put back to their state before each pass, so the masks stay fixed.
BatchNormalization's moving statistics, which each pass moves, are put back
at the end.
"""

from __future__ import annotations

import numpy as np

# Gradient entries smaller than this are compared absolutely: central
# differences in float64 carry an absolute error of about 1e-11 at eps=1e-5,
# which would make the relative error of a near-zero entry meaningless.
FLOOR = 1e-5
TOLERANCE = 1e-6


def _generators(model) -> list[np.random.Generator]:
    """The distinct generators the model's layers draw from while training."""
    found = {id(g): g for g in [getattr(layer, "rng", None) for layer in model.layers] if g}
    return list(found.values())


def random_states(model) -> list[tuple]:
    """``(generator, state)`` of each generator the layers draw from, for
    ``training_output`` to draw the same masks again (or to put them back)."""
    return [(g, g.bit_generator.state) for g in _generators(model)]


def training_output(model, X: np.ndarray, draws=()) -> np.ndarray:
    """``model.forward(X)`` with the layers' generators first put back to ``draws``."""
    for generator, state in draws:
        generator.bit_generator.state = state
    return model.forward(X)


def loss_value(model, X: np.ndarray, Y: np.ndarray, draws=()) -> float:
    """The training objective, the loss plus the regularization penalties, with the
    random draws (Dropout masks) that ``draws`` fixes."""
    return model.loss.value(Y, training_output(model, X, draws)) + model.penalty()


def numerical_gradients(model, X, Y, eps: float = 1e-5, draws=None) -> list[np.ndarray]:
    """Central-difference gradients, one array per parameter, in place of ``grads``."""
    draws = random_states(model) if draws is None else draws
    numeric = []
    for p in model.params:
        g = np.zeros_like(p)
        flat, gflat = p.reshape(-1), g.reshape(-1)
        for i in range(flat.size):
            saved = flat[i]
            flat[i] = saved + eps
            up = loss_value(model, X, Y, draws)
            flat[i] = saved - eps
            down = loss_value(model, X, Y, draws)
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
        Per layer with parameters: ``layer`` (its repr), the largest relative
        difference of each parameter by its name (``kernel`` and ``bias`` for
        Dense, ``gamma`` and ``beta`` for BatchNormalization) and ``max``.
    """
    if model.dtype != np.float64:
        raise ValueError(f"gradient checks need a float64 model, got {model.dtype}")
    state = [w.copy() for w in model.non_trainable_weights]
    draws = random_states(model)
    model.backward(Y, training_output(model, X, draws))
    analytic = [g.copy() for g in model.grads]
    numeric = numerical_gradients(model, X, Y, eps, draws)
    for w, saved in zip(model.non_trainable_weights, state):
        w[...] = saved
    rows, start = [], 0
    for layer in model.layers:
        if not layer.params:
            continue
        row = {"layer": repr(layer)}
        for name in layer.param_names:
            row[name] = relative_error(analytic[start], numeric[start])
            start += 1
        row["max"] = max(row[name] for name in layer.param_names)
        rows.append(row)
    return rows
