"""Each epoch's sample order, drawn a block of epochs at a time for the kernels.

``fit_loop`` orders every epoch by ``model.rng.permutation(n_samples)``.  When
the compiled engine trains several epochs per kernel call
(``CompiledTrainer.train_epochs``), their permutations are drawn beforehand,
from the same generator and in the same sequence, so the orders and the
generator's state afterwards are exactly those of the epoch-by-epoch loop.
A ``np.random.PCG64`` generator (``default_rng``'s) is drawn from by the
compiled copy of NumPy's algorithm (``pcg64`` in numba, or ``permutations`` in
``whole_fit.c``), one call per block; any other through NumPy.
"""

from __future__ import annotations

import numpy as np

_MASK64 = 2**64 - 1

# At most this many int64 entries (8 MB) of orders held at once: a block of epochs
# is also what one kernel call trains (about 20 ms for the article's network), so
# an interrupted fit loses at most that much of its History.
ROWS_CAP = 1 << 20


def order_blocks(rng, n_samples: int, epochs: int, permutations):
    """Yield ``(first, stop, orders)``: epochs ``first..stop`` are ready to train.

    Parameters
    ----------
    rng : numpy.random.Generator or None
        Epoch ``e`` takes ``orders[e % len(orders)] == rng.permutation(n_samples)``,
        drawn in sequence; None: every epoch in the stored order.
    n_samples, epochs : int
    permutations : callable or None
        ``pcg64.permutations``, compiled, or the C copy (``native``), called as
        ``permutations(state, n_samples, first, stop, orders)`` (it may also train the
        block: ``native.fit_shuffled``); None: drawn by NumPy.

    ``orders`` has shape ``(rows, n_samples)`` (int64), reused: consume each
    block before asking for the next.  A block is drawn when it is asked for,
    so a ``fit`` stopped between blocks leaves ``rng`` exactly where the
    epochs trained left it.
    """
    if rng is None:
        yield 0, epochs, np.arange(n_samples, dtype=np.int64)[None, :]
        return
    rows = max(1, min(epochs, ROWS_CAP // max(n_samples, 1)))
    orders = np.empty((rows, n_samples), np.int64)
    bits = rng.bit_generator
    compiled = permutations is not None and compiled_draws(rng, n_samples)
    for first in range(0, epochs, rows):
        stop = min(first + rows, epochs)
        if compiled:
            with bits.lock:  # the generator may be shared with other threads
                state = pack(bits)
                permutations(state, n_samples, first, stop, orders)
                unpack(bits, state)
        else:
            for e in range(first, stop):
                orders[e % rows] = rng.permutation(n_samples)
        yield first, stop, orders


def compiled_draws(rng, n_samples: int) -> bool:
    """Whether ``order_blocks`` hands ``rng``'s draws to its ``permutations`` (a PCG64
    generator and fewer than 2**32 samples) rather than to NumPy."""
    return rng is not None and type(rng.bit_generator) is np.random.PCG64 and n_samples < 2**32


def pack(bit_generator) -> np.ndarray:
    """A ``np.random.PCG64``'s state as ``pcg64.permutations`` takes it."""
    s = bit_generator.state
    state, inc = s["state"]["state"], s["state"]["inc"]
    return np.array(
        [state >> 64, state & _MASK64, inc >> 64, inc & _MASK64, s["has_uint32"], s["uinteger"]],
        np.uint64,
    )


def unpack(bit_generator, st: np.ndarray) -> None:
    """Set a ``np.random.PCG64``'s state from ``pack``'s layout (the increment is unchanged)."""
    s = bit_generator.state
    s["state"]["state"] = (int(st[0]) << 64) | int(st[1])
    s["has_uint32"], s["uinteger"] = int(st[4]), int(st[5])
    bit_generator.state = s
