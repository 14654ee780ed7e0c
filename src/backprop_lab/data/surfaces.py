"""Two-input regression surfaces, as TensorFlow Playground has them.

Every maker has the signature ``make_<name>(n_samples=5000, *, noise=0.0,
random_state=None) -> (X, y)``: ``X`` of shape ``(n_samples, 2)`` is uniform
on ``[-1, 1]^2`` and ``y`` of shape ``(n_samples,)``, float64, is the
surface's value ``f(X)`` plus Gaussian noise of standard deviation ``noise``
(drawn after the points, so the same ``random_state`` gives the same points
whatever the noise).  :data:`SURFACES` holds the exact, noise-free ``f``:

``plane``
    ``f = 0.6 x1 + 0.4 x2``, a tilted plane (a network without hidden layers
    fits it).
``bump``
    ``f = exp(-(x1**2 + x2**2) / (2 * 0.35**2))``, a Gaussian bump of height 1.
``ripple``
    ``f = sin(2 pi r)`` with ``r = sqrt(x1**2 + x2**2)``: concentric waves,
    harder for a small network.
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Any

import numpy as np

from ..engine._checks import check_positive_int
from ..engine.random import SeedLike, check_random_state

__all__ = ["SURFACES", "bump", "make_bump", "make_plane", "make_ripple", "plane", "ripple"]

BUMP_WIDTH = 0.35


def _check_non_negative(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a non-negative finite number, got {value!r}")
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be a non-negative finite number, got {value!r}")
    return float(value)


def _points(X: Any) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must have shape (n_samples, 2), got {X.shape}")
    return X


def plane(X: Any) -> np.ndarray:
    """``0.6 x1 + 0.4 x2`` for points ``X`` of shape ``(n, 2)``; returns shape ``(n,)``."""
    X = _points(X)
    return 0.6 * X[:, 0] + 0.4 * X[:, 1]


def bump(X: Any) -> np.ndarray:
    """``exp(-|x|**2 / (2 * 0.35**2))`` for ``X`` of shape ``(n, 2)``; returns shape ``(n,)``."""
    X = _points(X)
    return np.exp(-(X**2).sum(axis=1) / (2 * BUMP_WIDTH**2))


def ripple(X: Any) -> np.ndarray:
    """``sin(2 pi |x|)`` for ``X`` of shape ``(n, 2)``; returns shape ``(n,)``."""
    X = _points(X)
    return np.sin(2 * np.pi * np.sqrt((X**2).sum(axis=1)))


SURFACES = {"plane": plane, "bump": bump, "ripple": ripple}


def _make(f, n_samples, noise, random_state) -> tuple[np.ndarray, np.ndarray]:
    n = check_positive_int("n_samples", n_samples)
    noise = _check_non_negative("noise", noise)
    rng = check_random_state(random_state)
    X = rng.uniform(-1.0, 1.0, size=(n, 2))
    y = f(X)
    if noise > 0:
        y = y + rng.normal(0.0, noise, size=n)
    return X, y


def make_plane(
    n_samples: int = 5000, *, noise: float = 0.0, random_state: SeedLike = None
) -> tuple[np.ndarray, np.ndarray]:
    """Points on ``[-1, 1]^2`` and the plane :func:`plane` at them, plus noise.

    Parameters
    ----------
    n_samples : int, default=5000
    noise : float, default=0.0
        Standard deviation of Gaussian noise added to the targets, >= 0.
    random_state : None, int or numpy.random.Generator, default=None

    Returns
    -------
    X : ndarray of shape (n_samples, 2), dtype float64
    y : ndarray of shape (n_samples,), dtype float64
    """
    return _make(plane, n_samples, noise, random_state)


def make_bump(
    n_samples: int = 5000, *, noise: float = 0.0, random_state: SeedLike = None
) -> tuple[np.ndarray, np.ndarray]:
    """Points on ``[-1, 1]^2`` and the Gaussian bump :func:`bump` at them, plus noise.

    Parameters
    ----------
    n_samples : int, default=5000
    noise : float, default=0.0
        Standard deviation of Gaussian noise added to the targets, >= 0.
    random_state : None, int or numpy.random.Generator, default=None

    Returns
    -------
    X : ndarray of shape (n_samples, 2), dtype float64
    y : ndarray of shape (n_samples,), dtype float64
    """
    return _make(bump, n_samples, noise, random_state)


def make_ripple(
    n_samples: int = 5000, *, noise: float = 0.0, random_state: SeedLike = None
) -> tuple[np.ndarray, np.ndarray]:
    """Points on ``[-1, 1]^2`` and the ripple :func:`ripple` at them, plus noise.

    Parameters
    ----------
    n_samples : int, default=5000
    noise : float, default=0.0
        Standard deviation of Gaussian noise added to the targets, >= 0.
    random_state : None, int or numpy.random.Generator, default=None

    Returns
    -------
    X : ndarray of shape (n_samples, 2), dtype float64
    y : ndarray of shape (n_samples,), dtype float64
    """
    return _make(ripple, n_samples, noise, random_state)
