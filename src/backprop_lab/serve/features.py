"""The input features a playground network can be given, as TensorFlow Playground has them.

Each feature is a function of the two coordinates; a network sees the
columns of the features switched on, in the order of :data:`FEATURES`.
With ``x1`` and ``x2`` alone the inputs are the points themselves, as in
``backprop-lab train``.
"""

from __future__ import annotations

import numpy as np

FEATURES = {
    "x1": lambda X: X[:, 0],
    "x2": lambda X: X[:, 1],
    "x1sq": lambda X: X[:, 0] ** 2,
    "x2sq": lambda X: X[:, 1] ** 2,
    "x1x2": lambda X: X[:, 0] * X[:, 1],
    "sinx1": lambda X: np.sin(X[:, 0]),
    "sinx2": lambda X: np.sin(X[:, 1]),
}


def transform(X: np.ndarray, names) -> np.ndarray:
    """The feature columns ``names`` of the points ``X``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, 2)
    names : sequence of str
        Keys of :data:`FEATURES`, kept in the order of :data:`FEATURES`.

    Returns
    -------
    ndarray of shape (n_samples, len(names))
    """
    ordered = [name for name in FEATURES if name in names]
    return np.column_stack([FEATURES[name](X) for name in ordered]).astype(X.dtype)
