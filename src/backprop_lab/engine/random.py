"""Random number generators: one seed makes a whole run reproducible.

Every function in the package that draws random numbers takes a
``random_state`` argument and turns it into a :class:`numpy.random.Generator`
with :func:`check_random_state`.  When ``random_state`` is None it draws from a
module-level generator, which :func:`set_random_seed` reseeds, so::

    set_random_seed(0)
    X, y = make_circle()      # same data on every run

The module is named after the stdlib :mod:`random`; inside the package,
``import random`` still means the stdlib module (imports are absolute).
"""

from __future__ import annotations

import random
from numbers import Integral

import numpy as np

SeedLike = int | np.integer | np.random.Generator | None

_MAX_SEED = 2**32 - 1  # np.random.seed rejects larger seeds

# Unseeded until set_random_seed is called: fresh OS entropy on each import.
_global_rng: np.random.Generator = np.random.default_rng()


def set_random_seed(seed: int) -> None:
    """Seed every random number generator a run may use.

    Reseeds the package's global generator (used wherever ``random_state`` is
    None), NumPy's legacy global state (``np.random.rand`` and friends) and the
    stdlib :mod:`random`, so user scripts that mix them are reproducible too.

    Parameters
    ----------
    seed : int
        Integer in ``[0, 2**32 - 1]`` (the range NumPy's legacy seeding accepts).
    """
    if isinstance(seed, bool) or not isinstance(seed, Integral):
        raise TypeError(f"seed must be an integer in [0, {_MAX_SEED}], got {seed!r}")
    if not 0 <= seed <= _MAX_SEED:
        raise ValueError(f"seed must be an integer in [0, {_MAX_SEED}], got {seed!r}")
    seed = int(seed)
    # Reseed in place, so models that already hold the global generator follow.
    _global_rng.bit_generator.state = np.random.default_rng(seed).bit_generator.state
    np.random.seed(seed)  # noqa: NPY002 - seeding the legacy API is the point here
    random.seed(seed)


def fresh_seed() -> int:
    """A new seed in ``[0, 2**31)`` from OS entropy, to record and repeat a run."""
    return int(np.random.default_rng().integers(2**31))


def check_random_state(seed: SeedLike) -> np.random.Generator:
    """Turn ``seed`` into a :class:`numpy.random.Generator`.

    Parameters
    ----------
    seed : None, int or numpy.random.Generator
        None returns the package's global generator (reseeded by
        :func:`set_random_seed`; successive calls continue its stream).
        A non-negative int returns a new generator seeded with it, so the same
        int always gives the same numbers.  A Generator is returned as is, so
        the caller's stream advances.

    Returns
    -------
    rng : numpy.random.Generator
    """
    if seed is None:
        return _global_rng
    if isinstance(seed, np.random.Generator):
        return seed
    allowed = "None, a non-negative integer or a numpy.random.Generator"
    if isinstance(seed, bool) or not isinstance(seed, Integral):
        raise TypeError(f"random_state must be {allowed}, got {seed!r}")
    if seed < 0:
        raise ValueError(f"random_state must be {allowed}, got {seed!r}")
    return np.random.default_rng(int(seed))
