"""The loss surface around a model's weights, and the path to them: the numbers, no drawing.

``landscape.png`` (``pictures.landscape``) and the playground's live landscape
(``serve.landscape``) both compute their planes here; this module imports
only NumPy, so the server can use it without loading matplotlib.

The surface is ``f(α, β) = L(θ* + α d1 + β d2)``, the training loss on the
plane through the weights ``θ*`` spanned by two directions: filter-normalised
random directions, and the first two principal components of the path
(Li et al., "Visualizing the Loss Landscape of Neural Nets", NeurIPS 2018;
``pictures.landscape``'s docstring has the details).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "RESOLUTION",
    "Surface",
    "filter_normalized_direction",
    "loss_at",
    "loss_surface",
    "pca_directions",
    "project",
    "surfaces",
]

RESOLUTION = 31  # odd, so the grid's centre is exactly the trained weights


def _split(model, theta: np.ndarray) -> list[np.ndarray]:
    """Cut a flat vector into arrays shaped like ``model.params``."""
    out, start = [], 0
    for p in model.params:
        out.append(theta[start : start + p.size].reshape(p.shape))
        start += p.size
    return out


def loss_at(model, X: np.ndarray, Y: np.ndarray, theta: np.ndarray) -> float:
    """The loss of ``model`` with its weights replaced by ``theta``, as ``evaluate`` computes it.

    ``theta`` is ``np.concatenate(model.params, axis=None)``-shaped; the model is
    not modified.
    """
    weights = _split(model, theta)
    penalty = sum(
        layer.kernel_regularizer.penalty(W)
        for layer, W in zip(model.layers, weights[0::2])
        if layer.kernel_regularizer is not None
    )
    return float(model.loss.value(Y, model.apply(X, weights)) + penalty)


def filter_normalized_direction(model, rng: np.random.Generator) -> np.ndarray:
    """A Gaussian direction with each filter rescaled to its filter's norm in the model.

    A filter of a Dense kernel ``W`` (shape ``(fan_in, units)``) is one column
    ``W[:, j]``; biases get a zero direction (Li et al. 2018, section 4).
    """
    parts = []
    for layer in model.layers:
        W = layer.W.astype(np.float64)
        D = rng.standard_normal(W.shape)
        D *= np.linalg.norm(W, axis=0) / (np.linalg.norm(D, axis=0) + 1e-10)
        parts += [D.ravel(), np.zeros(layer.b.size)]
    return np.concatenate(parts)


def pca_directions(path: np.ndarray, rng: np.random.Generator | None = None):
    """The first two principal directions of ``path`` (shape ``(n, n_params)``, rows
    ``θ_t - θ*``) and the fraction of its variance each explains.

    When the path spans fewer than two dimensions (one step, or none), the
    missing directions are random unit vectors orthogonal to the others, with
    an explained fraction of 0.
    """
    rng = rng or np.random.default_rng(0)
    n_params = path.shape[1]
    if len(path):
        _, s, vt = np.linalg.svd(path, full_matrices=False)
    else:
        s, vt = np.zeros(0), np.zeros((0, n_params))
    total = float((s**2).sum())
    keep = [i for i in range(min(2, len(s))) if s[i] > 1e-12 * max(s[0], 1e-300)]
    dirs = [vt[i] for i in keep]
    ratios = [float(s[i] ** 2 / total) for i in keep]
    while len(dirs) < 2:
        v = rng.standard_normal(n_params)
        for d in dirs:
            v -= (v @ d) * d
        dirs.append(v / np.linalg.norm(v))
        ratios.append(0.0)
    return dirs[0], dirs[1], ratios


def project(points: np.ndarray, d1: np.ndarray, d2: np.ndarray) -> np.ndarray:
    """Coordinates ``(α, β)`` of the points (rows) in the plane of ``d1``, ``d2``,
    by least squares (the directions need not be orthogonal); shape ``(n, 2)``."""
    D = np.column_stack([d1, d2])
    coef, *_ = np.linalg.lstsq(D, points.T, rcond=None)
    return coef.T


@dataclass
class Surface:
    """A loss surface ``loss[i, j] = L(θ* + alphas[j] d1 + betas[i] d2)`` and a path on it."""

    alphas: np.ndarray
    betas: np.ndarray
    loss: np.ndarray  # shape (len(betas), len(alphas))
    path: np.ndarray  # shape (n, 2): the trajectory's coordinates
    xlabel: str
    ylabel: str
    title: str

    @property
    def centre(self) -> float:
        """The loss at ``α = β = 0``: the trained weights."""
        return float(self.loss[len(self.betas) // 2, len(self.alphas) // 2])


def loss_surface(model, X, Y, d1, d2, span: tuple[float, float], resolution=RESOLUTION):
    """``(alphas, betas, loss)`` on ``[-span[0], span[0]] x [-span[1], span[1]]`` around θ*."""
    if resolution < 3 or resolution % 2 == 0:
        raise ValueError(f"resolution must be odd and >= 3 (centred on θ*), got {resolution}")
    theta = np.concatenate(model.params, axis=None)
    alphas = np.linspace(-span[0], span[0], resolution)
    betas = np.linspace(-span[1], span[1], resolution)
    alphas[resolution // 2] = betas[resolution // 2] = 0.0  # exactly θ*, not 1e-17 off it
    d1 = d1.astype(theta.dtype)
    d2 = d2.astype(theta.dtype)
    loss = np.empty((resolution, resolution))
    for i, b in enumerate(betas):
        for j, a in enumerate(alphas):
            # Scaling in the model's dtype: 0 * d adds exactly nothing at the centre.
            point = theta + theta.dtype.type(a) * d1 + theta.dtype.type(b) * d2
            loss[i, j] = loss_at(model, X, Y, point)
    return alphas, betas, loss


def _span(path: np.ndarray, floor: float) -> tuple[float, float]:
    finite = path[np.isfinite(path).all(axis=1)]
    reach = np.abs(finite).max(axis=0) if len(finite) else np.zeros(2)
    return (max(floor, 1.15 * reach[0]), max(floor, 1.15 * reach[1]))


def surfaces(
    model, X, Y, trajectory: np.ndarray, *, seed: int = 0, resolution: int = RESOLUTION
) -> list[Surface]:
    """The random-direction and the PCA surfaces around ``model``'s weights.

    Parameters
    ----------
    model : Sequential
        The trained model; its weights are the centre ``θ*``.
    X : ndarray of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_outputs)
        Targets as ``model.loss.prepare_targets`` returns them.
    trajectory : ndarray of shape (n_points, n_params)
        The flattened weights during training, first to last.
    seed : int
        Seeds the random directions.
    """
    trajectory = np.asarray(trajectory, dtype=np.float64)
    theta = np.concatenate(model.params, axis=None).astype(np.float64)
    if trajectory.ndim != 2 or trajectory.shape[1] != theta.size:
        raise ValueError(
            f"trajectory must have shape (n_points, {theta.size}), got {trajectory.shape}"
        )
    trajectory = trajectory[np.isfinite(trajectory).all(axis=1)]
    if len(trajectory) == 0:
        raise ValueError("the trajectory has no finite weights to draw")
    path = trajectory - theta
    rng = np.random.default_rng(seed)

    d1 = filter_normalized_direction(model, rng)
    d2 = filter_normalized_direction(model, rng)
    coords = project(path, d1, d2)
    a, b, loss = loss_surface(model, X, Y, d1, d2, _span(coords, 1.0), resolution)
    random_plane = Surface(
        a,
        b,
        loss,
        coords,
        "α along random direction 1",
        "β along random direction 2",
        "random directions (filter-normalised)",
    )

    u1, u2, ratios = pca_directions(path, rng)
    coords = path @ np.column_stack([u1, u2])
    floor = 0.05 * max(float(np.linalg.norm(theta)), 1e-3)
    a, b, loss = loss_surface(model, X, Y, u1, u2, _span(coords, floor), resolution)
    pca_plane = Surface(
        a,
        b,
        loss,
        coords,
        _pc_label(1, ratios[0], " of the path's variance"),
        _pc_label(2, ratios[1], ""),
        "principal components of the path",
    )
    return [random_plane, pca_plane]


def _pc_label(i: int, ratio: float, of: str) -> str:
    if ratio == 0.0:  # see pca_directions: the path does not span this direction
        return f"random direction {i} (the path did not move)"
    return f"PC {i} ({100 * ratio:.1f}%{of})"
