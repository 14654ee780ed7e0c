"""Two-dimensional toy datasets for classification, scikit-learn style.

Every maker has the signature ``make_<name>(n_samples=5000, *, ..., noise=0.0,
label_noise=0.0, random_state=None) -> (X, y)`` and returns ``X`` as float64 of
shape ``(n_samples, 2)`` and ``y`` as int64 of shape ``(n_samples,)`` with
values in ``{0, 1}``, or ``{0, ..., n_classes - 1}`` for the makers that take
``n_classes`` (spiral, gaussians, blobs; 2 to ``MAX_CLASSES``).  The
regression surfaces are in :mod:`backprop_lab.data.surfaces`;
:data:`DATASETS` lists both kinds and :data:`REGRESSION` names the surfaces.
All work is vectorised (ten million circle points take a fraction of a
second).

Randomness is drawn in a fixed order: first the clean points and their labels,
then the label flips (only if ``label_noise > 0``), then the jitter (only if
``noise > 0``).  So with the same ``random_state``, changing ``noise`` leaves
``y`` unchanged and moves every point by exactly the jitter, which makes the
noise measurable and the clean data recoverable.

``label_noise`` always flips exactly ``round(label_noise * n_samples)`` labels,
chosen uniformly without replacement.

For the datasets whose classes are a fixed function of the position (circle,
xor and rings), :func:`true_labels` gives that exact noise-free label for any
points, e.g. to measure where a learned decision region disagrees with the
true one.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..engine._checks import check_float_in, check_positive_float, check_positive_int, lookup
from ..engine.random import SeedLike, check_random_state
from .surfaces import SURFACES, _check_non_negative, make_bump, make_plane, make_ripple

__all__ = [
    "CLASSIFICATION",
    "DATASETS",
    "MAX_CLASSES",
    "MULTICLASS",
    "REGRESSION",
    "TRUE_LABELS",
    "circle_true_label",
    "make_blobs",
    "make_bump",
    "make_circle",
    "make_gaussians",
    "make_moons",
    "make_plane",
    "make_rings",
    "make_ripple",
    "make_spiral",
    "make_xor",
    "rings_true_label",
    "train_test_split",
    "true_labels",
    "xor_true_label",
]

# Options of every maker that shape the sample, not the true class regions.
_SAMPLING_OPTIONS = frozenset({"n_samples", "noise", "label_noise", "random_state"})

MAX_CLASSES = 8  # the most classes a maker with ``n_classes`` draws


# --------------------------------------------------------------------------- checks


def _check_common(n_samples: Any, noise: Any, label_noise: Any) -> tuple[int, float, float]:
    return (
        check_positive_int("n_samples", n_samples),
        _check_non_negative("noise", noise),
        check_float_in("label_noise", label_noise, 0.0, 1.0),
    )


def _check_points(X: Any) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must have shape (n_samples, 2), got {X.shape}")
    if not np.isfinite(X).all():
        raise ValueError("X must contain only finite values, got NaN or infinity")
    return X


# --------------------------------------------------------------------------- helpers


def _check_classes(n_classes: Any) -> int:
    k = check_positive_int("n_classes", n_classes)
    if not 2 <= k <= MAX_CLASSES:
        raise ValueError(f"n_classes must be an integer from 2 to {MAX_CLASSES}, got {k}")
    return k


def _balanced_labels(n: int, rng: np.random.Generator, k: int = 2) -> np.ndarray:
    """Labels in random order, class ``c`` ``n // k`` times (once more for the first
    ``n % k`` classes); with two classes, exactly ``n // 2`` ones."""
    counts = np.full(k, n // k)
    counts[: n % k] += 1
    return rng.permutation(np.repeat(np.arange(k, dtype=np.int64), counts))


def _corrupt(X, y, noise, label_noise, rng, k: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Change labels (to another class, uniformly), then jitter points; draws
    nothing when a rate is 0."""
    n_flip = round(label_noise * len(y))
    if n_flip:
        flip = rng.choice(len(y), size=n_flip, replace=False)
        shift = 1 if k == 2 else rng.integers(1, k, size=n_flip)
        y[flip] = (y[flip] + shift) % k
    if noise > 0:
        X += rng.normal(0.0, noise, size=X.shape)
    return X, y


def _circle_labels(X: np.ndarray, radius: float) -> np.ndarray:
    return (X[:, 0] ** 2 + X[:, 1] ** 2 <= radius * radius).astype(np.int64)


def _xor_labels(X: np.ndarray) -> np.ndarray:
    x1, x2 = X[:, 0], X[:, 1]
    return (((x1 < 0) & (x2 > 0)) | ((x1 > 0) & (x2 < 0))).astype(np.int64)


def _ring_labels(X: np.ndarray, n_rings: int) -> np.ndarray:
    r_sq = X[:, 0] ** 2 + X[:, 1] ** 2
    if r_sq.size == 0:
        return np.zeros(0, dtype=np.int64)
    # Ring k lies between the circles of radius k/n_rings and (k+1)/n_rings, so
    # k counts the circles a point is strictly outside of.  Comparing squared
    # radii uses the same float expression as circle_true_label.
    n_circles = math.ceil(math.sqrt(r_sq.max()) * n_rings) + 1
    radii = np.arange(1, n_circles + 1) / n_rings
    ring = np.searchsorted(radii * radii, r_sq, side="left")
    return (ring % 2).astype(np.int64)


# --------------------------------------------------------------------------- makers


def make_circle(
    n_samples: int = 5000,
    *,
    radius: float = 0.5,
    noise: float = 0.0,
    label_noise: float = 0.0,
    random_state: SeedLike = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Points in a square, labelled 1 inside a centred circle.

    ``X = rng.uniform(-1, 1, (n_samples, 2))`` and ``y = 1`` where
    ``x1**2 + x2**2 <= radius**2`` (inside or on the circle), else 0.  The
    share of ones is about ``pi * radius**2 / 4`` for ``radius <= 1``.

    Parameters
    ----------
    n_samples : int, default=5000
        Number of points.
    radius : float, default=0.5
        Radius of the circle, > 0.
    noise : float, default=0.0
        Standard deviation of Gaussian jitter added to each coordinate *after*
        labelling, so labels describe the clean point and jittered points may
        sit on the wrong side of the circle or outside the square.
    label_noise : float, default=0.0
        Fraction of labels flipped, in ``[0, 1)``.
    random_state : None, int or numpy.random.Generator, default=None
        See :func:`backprop_lab.engine.random.check_random_state`.

    Returns
    -------
    X : ndarray of shape (n_samples, 2), dtype float64
    y : ndarray of shape (n_samples,), dtype int64
    """
    n, noise, label_noise = _check_common(n_samples, noise, label_noise)
    radius = check_positive_float("radius", radius)
    rng = check_random_state(random_state)
    X = rng.uniform(-1.0, 1.0, size=(n, 2))
    return _corrupt(X, _circle_labels(X, radius), noise, label_noise, rng)


def make_xor(
    n_samples: int = 5000,
    *,
    noise: float = 0.0,
    label_noise: float = 0.0,
    random_state: SeedLike = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Points in a square, labelled 1 in the quadrants where x1 and x2 differ in sign.

    Each class is uniform on its two quadrants of ``[-1, 1]^2`` and has exactly
    ``n_samples // 2`` (class 1) or ``n_samples - n_samples // 2`` (class 0)
    points.  No clean point lies on an axis.

    Parameters
    ----------
    n_samples : int, default=5000
        Number of points.
    noise : float, default=0.0
        Standard deviation of Gaussian jitter added to each coordinate after
        labelling; points near the axes may cross into the other class's
        quadrant.
    label_noise : float, default=0.0
        Fraction of labels flipped, in ``[0, 1)``.
    random_state : None, int or numpy.random.Generator, default=None
        See :func:`backprop_lab.engine.random.check_random_state`.

    Returns
    -------
    X : ndarray of shape (n_samples, 2), dtype float64
    y : ndarray of shape (n_samples,), dtype int64
    """
    n, noise, label_noise = _check_common(n_samples, noise, label_noise)
    rng = check_random_state(random_state)
    y = _balanced_labels(n, rng)
    magnitude = 1.0 - rng.random((n, 2))  # in (0, 1], so never on an axis
    sign1 = rng.integers(0, 2, size=n) * 2.0 - 1.0
    sign2 = np.where(y == 1, -sign1, sign1)
    X = magnitude * np.column_stack([sign1, sign2])
    return _corrupt(X, y, noise, label_noise, rng)


def make_gaussians(
    n_samples: int = 5000,
    *,
    n_classes: int = 2,
    center_distance: float = 1.0,
    std: float = 0.25,
    noise: float = 0.0,
    label_noise: float = 0.0,
    random_state: SeedLike = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Isotropic Gaussian blobs, one per class, evenly spaced on a circle.

    Class ``c`` is centred at angle ``225 + 360 * c / n_classes`` degrees on
    the circle of radius ``center_distance / 2``.  With two classes the
    centres lie on the diagonal, class 0 at ``-c`` and class 1 at ``+c`` with
    ``c = center_distance / 2 * (1, 1) / sqrt(2)``, ``center_distance``
    apart.  The classes overlap, so there are no exact true labels.

    Parameters
    ----------
    n_samples : int, default=5000
        Number of points, split as evenly as possible between the classes
        (with two, class 1 gets ``n_samples // 2``).
    n_classes : int, default=2
        Number of classes, 2 to ``MAX_CLASSES``.
    center_distance : float, default=1.0
        Diameter of the circle of centres, >= 0.
    std : float, default=0.25
        Standard deviation of each blob along each axis, >= 0.
    noise : float, default=0.0
        Standard deviation of extra Gaussian jitter; it widens each blob to a
        standard deviation of ``sqrt(std**2 + noise**2)``.  Kept so every maker
        has the same options.
    label_noise : float, default=0.0
        Fraction of labels changed to another class, in ``[0, 1)``.
    random_state : None, int or numpy.random.Generator, default=None
        See :func:`backprop_lab.engine.random.check_random_state`.

    Returns
    -------
    X : ndarray of shape (n_samples, 2), dtype float64
    y : ndarray of shape (n_samples,), dtype int64
    """
    n, noise, label_noise = _check_common(n_samples, noise, label_noise)
    k = _check_classes(n_classes)
    center_distance = _check_non_negative("center_distance", center_distance)
    std = _check_non_negative("std", std)
    rng = check_random_state(random_state)
    y = _balanced_labels(n, rng, k)
    angle = 1.25 * np.pi + 2 * np.pi * np.arange(k) / k
    centers = center_distance / 2 * np.column_stack([np.cos(angle), np.sin(angle)])
    X = centers[y] + std * rng.standard_normal((n, 2))
    return _corrupt(X, y, noise, label_noise, rng, k)


def make_blobs(
    n_samples: int = 5000,
    *,
    n_classes: int = 2,
    std: float = 0.12,
    noise: float = 0.0,
    label_noise: float = 0.0,
    random_state: SeedLike = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian blobs around random centres, one per class, like scikit-learn's.

    The ``n_classes`` centres are drawn uniformly in ``[-0.7, 0.7]^2`` (first,
    from ``random_state``), so blobs may touch or overlap; there are no exact
    true labels.

    Parameters
    ----------
    n_samples : int, default=5000
        Number of points, split as evenly as possible between the classes.
    n_classes : int, default=2
        Number of classes, 2 to ``MAX_CLASSES``.
    std : float, default=0.12
        Standard deviation of each blob along each axis, >= 0.
    noise : float, default=0.0
        Standard deviation of extra Gaussian jitter of the points.
    label_noise : float, default=0.0
        Fraction of labels changed to another class, in ``[0, 1)``.
    random_state : None, int or numpy.random.Generator, default=None
        See :func:`backprop_lab.engine.random.check_random_state`.

    Returns
    -------
    X : ndarray of shape (n_samples, 2), dtype float64
    y : ndarray of shape (n_samples,), dtype int64
    """
    n, noise, label_noise = _check_common(n_samples, noise, label_noise)
    k = _check_classes(n_classes)
    std = _check_non_negative("std", std)
    rng = check_random_state(random_state)
    centers = rng.uniform(-0.7, 0.7, size=(k, 2))
    y = _balanced_labels(n, rng, k)
    X = centers[y] + std * rng.standard_normal((n, 2))
    return _corrupt(X, y, noise, label_noise, rng, k)


def make_spiral(
    n_samples: int = 5000,
    *,
    n_classes: int = 2,
    turns: float = 1.5,
    noise: float = 0.0,
    label_noise: float = 0.0,
    random_state: SeedLike = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved Archimedean spirals, one arm per class, inside the unit disc.

    A class-0 point is ``r * (cos t, sin t)`` with ``r`` uniform on ``[0, 1)``
    and ``t = 2 * pi * turns * r``; class ``c`` is the same arm turned by
    ``c / n_classes`` of a revolution (with two classes, class 1 is
    ``-r * (cos t, sin t)``).  Neighbouring arms are
    ``1 / (n_classes * turns)`` apart along a radius.

    Parameters
    ----------
    n_samples : int, default=5000
        Number of points, split as evenly as possible between the classes
        (with two, class 1 gets ``n_samples // 2``).
    n_classes : int, default=2
        Number of arms and classes, 2 to ``MAX_CLASSES``.
    turns : float, default=1.5
        Number of revolutions of each arm, > 0.
    noise : float, default=0.0
        Standard deviation of Gaussian jitter added to each coordinate of the
        points on the arms; the label stays the arm a point was drawn from.
    label_noise : float, default=0.0
        Fraction of labels changed to another class, in ``[0, 1)``.
    random_state : None, int or numpy.random.Generator, default=None
        See :func:`backprop_lab.engine.random.check_random_state`.

    Returns
    -------
    X : ndarray of shape (n_samples, 2), dtype float64
    y : ndarray of shape (n_samples,), dtype int64
    """
    n, noise, label_noise = _check_common(n_samples, noise, label_noise)
    k = _check_classes(n_classes)
    turns = check_positive_float("turns", turns)
    rng = check_random_state(random_state)
    y = _balanced_labels(n, rng, k)
    r = rng.random(n)
    t = 2 * np.pi * (turns * r + y / k)
    X = r[:, None] * np.column_stack([np.cos(t), np.sin(t)])
    return _corrupt(X, y, noise, label_noise, rng, k)


# Scikit-learn's moons span x in [-1, 2] and y in [-0.5, 1]; this maps them to
# x in [-1, 1], y in [-0.5, 0.5] without changing their shape.
_MOONS_SHIFT = np.array([0.5, 0.25])
_MOONS_SCALE = 1.5


def make_moons(
    n_samples: int = 5000,
    *,
    noise: float = 0.0,
    label_noise: float = 0.0,
    random_state: SeedLike = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved half circles, scikit-learn's moons scaled into ``[-1, 1]^2``.

    Before scaling, class 0 is ``(cos t, sin t)`` and class 1 is
    ``(1 - cos t, 0.5 - sin t)`` with ``t`` uniform on ``[0, pi]``; then
    ``X = (X - (0.5, 0.25)) / 1.5``.  So class 0 lies on the upper half of the
    circle of radius 2/3 around ``(-1/3, -1/6)`` and class 1 on the lower half
    of the circle of radius 2/3 around ``(1/3, 1/6)``.

    Parameters
    ----------
    n_samples : int, default=5000
        Number of points; class 1 gets ``n_samples // 2`` of them.
    noise : float, default=0.0
        Standard deviation of Gaussian jitter added to each coordinate of the
        (scaled) points on the arcs; the label stays the arc a point was drawn
        from.
    label_noise : float, default=0.0
        Fraction of labels flipped, in ``[0, 1)``.
    random_state : None, int or numpy.random.Generator, default=None
        See :func:`backprop_lab.engine.random.check_random_state`.

    Returns
    -------
    X : ndarray of shape (n_samples, 2), dtype float64
    y : ndarray of shape (n_samples,), dtype int64
    """
    n, noise, label_noise = _check_common(n_samples, noise, label_noise)
    rng = check_random_state(random_state)
    y = _balanced_labels(n, rng)
    t = rng.uniform(0.0, np.pi, size=n)
    arc = np.column_stack([np.cos(t), np.sin(t)])
    X = np.where(y[:, None] == 1, np.array([1.0, 0.5]) - arc, arc)
    X = (X - _MOONS_SHIFT) / _MOONS_SCALE
    return _corrupt(X, y, noise, label_noise, rng)


def make_rings(
    n_samples: int = 5000,
    *,
    n_rings: int = 4,
    noise: float = 0.0,
    label_noise: float = 0.0,
    random_state: SeedLike = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Points in a square, labelled by the parity of the concentric ring they fall in.

    Circles of radius ``k / n_rings`` (k = 1, 2, ...) cut the plane into rings;
    ring 0 is the disc ``x1**2 + x2**2 <= (1/n_rings)**2`` and ring k holds the
    points strictly outside circle k and inside or on circle k + 1.  ``y`` is
    the ring index modulo 2, so the centre disc is class 0.  Points are uniform
    on ``[-1, 1]^2`` (``n_rings`` rings fill the unit disc, the corners carry
    on the pattern); with 4 rings about 52% of points are class 1.

    Parameters
    ----------
    n_samples : int, default=5000
        Number of points.
    n_rings : int, default=4
        Number of rings inside the unit disc, >= 1; each is ``1 / n_rings`` wide.
    noise : float, default=0.0
        Standard deviation of Gaussian jitter added to each coordinate after
        labelling, so labels describe the clean point.
    label_noise : float, default=0.0
        Fraction of labels flipped, in ``[0, 1)``.
    random_state : None, int or numpy.random.Generator, default=None
        See :func:`backprop_lab.engine.random.check_random_state`.

    Returns
    -------
    X : ndarray of shape (n_samples, 2), dtype float64
    y : ndarray of shape (n_samples,), dtype int64
    """
    n, noise, label_noise = _check_common(n_samples, noise, label_noise)
    n_rings = check_positive_int("n_rings", n_rings)
    rng = check_random_state(random_state)
    X = rng.uniform(-1.0, 1.0, size=(n, 2))
    return _corrupt(X, _ring_labels(X, n_rings), noise, label_noise, rng)


# --------------------------------------------------------------------------- true labels


def circle_true_label(X: Any, *, radius: float = 0.5) -> np.ndarray:
    """Noise-free :func:`make_circle` labels: 1 where ``x1**2 + x2**2 <= radius**2``.

    Parameters
    ----------
    X : array-like of shape (n_samples, 2)
        Finite points.
    radius : float, default=0.5
        Radius of the circle, > 0.

    Returns
    -------
    y : ndarray of shape (n_samples,), dtype int64
    """
    return _circle_labels(_check_points(X), check_positive_float("radius", radius))


def xor_true_label(X: Any) -> np.ndarray:
    """Noise-free :func:`make_xor` labels: 1 where x1 and x2 have strictly opposite signs.

    Points on an axis (a coordinate equal to 0) are class 0.

    Parameters
    ----------
    X : array-like of shape (n_samples, 2)
        Finite points.

    Returns
    -------
    y : ndarray of shape (n_samples,), dtype int64
    """
    return _xor_labels(_check_points(X))


def rings_true_label(X: Any, *, n_rings: int = 4) -> np.ndarray:
    """Noise-free :func:`make_rings` labels: parity of the ring each point is in.

    Parameters
    ----------
    X : array-like of shape (n_samples, 2)
        Finite points, anywhere in the plane.
    n_rings : int, default=4
        Number of rings inside the unit disc, >= 1.

    Returns
    -------
    y : ndarray of shape (n_samples,), dtype int64
    """
    return _ring_labels(_check_points(X), check_positive_int("n_rings", n_rings))


CLASSIFICATION = {
    "circle": make_circle,
    "gaussians": make_gaussians,
    "moons": make_moons,
    "rings": make_rings,
    "spiral": make_spiral,
    "xor": make_xor,
    "blobs": make_blobs,
}
# The makers that take ``n_classes``.
MULTICLASS = ("spiral", "gaussians", "blobs")
# Regression surfaces: float targets of shape (n_samples,).
REGRESSION = {"plane": make_plane, "bump": make_bump, "ripple": make_ripple}
DATASETS = {**CLASSIFICATION, **REGRESSION}

# Only datasets whose class is a fixed function of the clean position; the
# others (overlapping blobs, arms and arcs sampled with jitter) have none.
TRUE_LABELS = {
    "circle": circle_true_label,
    "rings": rings_true_label,
    "xor": xor_true_label,
    **SURFACES,  # the exact target functions of the regression surfaces
}


def true_labels(name: str, X: Any, **params: Any) -> np.ndarray:
    """Exact noise-free labels (or, for a regression surface, target values) of the
    points ``X`` for the dataset ``name``.

    Parameters
    ----------
    name : str
        A key of :data:`DATASETS` that is also in :data:`TRUE_LABELS`.
    X : array-like of shape (n_samples, 2)
        Finite points, e.g. a grid over the plotting area.
    **params
        The keyword arguments given to the maker.  The sampling options
        (``n_samples``, ``noise``, ``label_noise``, ``random_state``) are
        ignored, so the same dict that made the data can be passed as is.

    Returns
    -------
    y : ndarray of shape (n_samples,)
        int64 class ids, or float64 values for the surfaces of :data:`REGRESSION`.

    Raises
    ------
    ValueError
        If ``name`` is unknown, or names a dataset without exact labels.
    """
    lookup("dataset", name, DATASETS)
    key = name.lower()
    if key not in TRUE_LABELS:
        valid = ", ".join(sorted(TRUE_LABELS))
        raise ValueError(f"dataset {name!r} has no exact noise-free labels; only {valid} have")
    geometry = {k: v for k, v in params.items() if k not in _SAMPLING_OPTIONS}
    return TRUE_LABELS[key](X, **geometry)


# --------------------------------------------------------------------------- splitting


def train_test_split(
    X: Any,
    y: Any,
    *,
    test_size: float = 0.2,
    random_state: SeedLike = None,
    shuffle: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split samples into a training and a test part, like scikit-learn.

    The test part gets ``ceil(test_size * n_samples)`` samples and the training
    part the rest.  Without shuffling, the test part is the last samples.

    Parameters
    ----------
    X : array-like of shape (n_samples, ...)
    y : array-like of shape (n_samples, ...)
    test_size : float, default=0.2
        Fraction of samples in the test part, strictly between 0 and 1; both
        parts must end up with at least one sample.
    random_state : None, int or numpy.random.Generator, default=None
        Used only when ``shuffle`` is True.
    shuffle : bool, default=True
        Whether to permute the samples before splitting.

    Returns
    -------
    X_train : ndarray of shape (n_train, ...)
    X_test : ndarray of shape (n_test, ...)
    y_train : ndarray of shape (n_train, ...)
    y_test : ndarray of shape (n_test, ...)
    """
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim == 0 or y.ndim == 0:
        raise ValueError(f"X and y must be arrays of samples, got shapes {X.shape} and {y.shape}")
    if len(X) != len(y):
        raise ValueError(f"X and y must have the same number of samples, got {len(X)} and {len(y)}")
    test_size = check_float_in("test_size", test_size, 0.0, 1.0, closed_low=False)
    n = len(X)
    n_test = math.ceil(test_size * n)
    n_train = n - n_test
    if n_train < 1 or n_test < 1:
        raise ValueError(
            f"test_size={test_size!r} with {n} samples gives {n_train} training and "
            f"{n_test} test samples; both must be at least 1"
        )
    if shuffle:
        order = check_random_state(random_state).permutation(n)
    else:
        order = np.arange(n)
    train, test = order[:n_train], order[n_train:]
    return X[train], X[test], y[train], y[test]
