"""Weight initializers with Keras's formulas and defaults.

Each initializer is called as ``init(shape, rng, dtype)``; for a Dense kernel
``shape`` is ``(fan_in, fan_out)``.
"""

from __future__ import annotations

import numpy as np

from ._checks import lookup

# Keras draws "normal" variance-scaling initializers from a normal truncated at
# two standard deviations, and divides the scale by this constant (the standard
# deviation of a unit normal truncated to [-2, 2]) so the variance is as asked.
_TRUNCATED_STD = 0.87962566103423978


def _fans(shape: tuple[int, ...]) -> tuple[int, int]:
    if len(shape) == 1:
        return shape[0], shape[0]
    return shape[0], shape[1]


def _truncated_normal(shape, stddev: float, rng: np.random.Generator) -> np.ndarray:
    values = rng.normal(0.0, 1.0, size=shape)
    outside = np.abs(values) > 2
    while outside.any():  # redraw the tails until every value lies in [-2, 2]
        values[outside] = rng.normal(0.0, 1.0, size=int(outside.sum()))
        outside = np.abs(values) > 2
    return values * stddev


def glorot_uniform(shape, rng, dtype="float32"):
    """Uniform on ``[-limit, limit]``, ``limit = sqrt(6 / (fan_in + fan_out))``."""
    fan_in, fan_out = _fans(shape)
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=shape).astype(dtype)


def glorot_normal(shape, rng, dtype="float32"):
    """Truncated normal, ``stddev = sqrt(2 / (fan_in + fan_out))``."""
    fan_in, fan_out = _fans(shape)
    std = np.sqrt(2.0 / (fan_in + fan_out)) / _TRUNCATED_STD
    return _truncated_normal(shape, std, rng).astype(dtype)


def he_uniform(shape, rng, dtype="float32"):
    """Uniform on ``[-limit, limit]``, ``limit = sqrt(6 / fan_in)``."""
    fan_in, _ = _fans(shape)
    limit = np.sqrt(6.0 / fan_in)
    return rng.uniform(-limit, limit, size=shape).astype(dtype)


def he_normal(shape, rng, dtype="float32"):
    """Truncated normal, ``stddev = sqrt(2 / fan_in)``."""
    fan_in, _ = _fans(shape)
    std = np.sqrt(2.0 / fan_in) / _TRUNCATED_STD
    return _truncated_normal(shape, std, rng).astype(dtype)


def random_uniform(shape, rng, dtype="float32"):
    """Uniform on ``[-0.05, 0.05]`` (Keras's ``RandomUniform`` defaults)."""
    return rng.uniform(-0.05, 0.05, size=shape).astype(dtype)


def zeros(shape, rng=None, dtype="float32"):
    return np.zeros(shape, dtype=dtype)


def ones(shape, rng=None, dtype="float32"):
    return np.ones(shape, dtype=dtype)


INITIALIZERS = {
    f.__name__: f
    for f in (glorot_uniform, glorot_normal, he_uniform, he_normal, random_uniform, zeros, ones)
}


def get(identifier):
    """Return an initializer from a name or a callable ``(shape, rng, dtype) -> array``."""
    if callable(identifier):
        return identifier
    return lookup("initializer", identifier, INITIALIZERS)
