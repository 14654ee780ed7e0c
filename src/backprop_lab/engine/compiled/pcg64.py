"""``Generator.permutation`` of NumPy's PCG64, bit for bit, as a numba kernel.

``fit_loop`` orders each epoch by ``model.rng.permutation(n_samples)``.  NumPy
draws it as ``arange(n)`` then a Fisher-Yates shuffle (``_shuffle_raw``):
for ``i = n-1 .. 1``, swap ``i`` with ``j = random_interval(i)``, which masks
32-bit draws to the next power of two minus one and rejects values above
``i`` (``distributions.c``).  The 32-bit draws are halves of PCG64's 64-bit
outputs, low half first, the high half buffered in the generator's state
(``has_uint32``, ``uinteger``).  PCG64 is a 128-bit LCG (``state = state *
MULTIPLIER + inc``) whose output is the XSL-RR permutation of the new state.
``permutations`` repeats exactly that, so the orders and the generator's state
afterwards are NumPy's (``tests/test_compiled_fit.py``); it is a few tenths
faster than NumPy, and being one ``nogil`` call per block of epochs it needs
no Python between epochs.

The state travels as six uint64: the LCG state (high, low), its increment
(high, low), ``has_uint32`` and ``uinteger`` (``orders.pack`` and ``orders.unpack``,
which import no numba: the C copy, ``whole_fit.c``, takes the same state).
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

MULTIPLIER = 0x2360ED051FC65DA44385DF649FCCF645  # PCG_DEFAULT_MULTIPLIER_128
_M_HI, _M_LO = np.uint64(MULTIPLIER >> 64), np.uint64(MULTIPLIER & (2**64 - 1))


@intrinsic
def _lcg_step(typingctx, hi, lo, m_hi, m_lo, inc_hi, inc_lo):
    """``(hi, lo) * (m_hi, m_lo) + (inc_hi, inc_lo)`` modulo 2**128, in LLVM's i128."""
    sig = types.UniTuple(types.uint64, 2)(hi, lo, m_hi, m_lo, inc_hi, inc_lo)

    def codegen(context, builder, signature, args):
        i128, i64 = ir.IntType(128), ir.IntType(64)

        def join(high, low):
            high = builder.shl(builder.zext(high, i128), ir.Constant(i128, 64))
            return builder.or_(high, builder.zext(low, i128))

        state, mult, inc = join(*args[0:2]), join(*args[2:4]), join(*args[4:6])
        new = builder.add(builder.mul(state, mult), inc)
        high = builder.trunc(builder.lshr(new, ir.Constant(i128, 64)), i64)
        return context.make_tuple(builder, signature.return_type, (high, builder.trunc(new, i64)))

    return sig, codegen


@njit(inline="always")
def _next64(st):
    """pcg64_random_r: step the LCG, then XSL-RR (xor the halves, rotate by the top 6 bits)."""
    hi, lo = _lcg_step(st[0], st[1], _M_HI, _M_LO, st[2], st[3])
    st[0], st[1] = hi, lo
    x = hi ^ lo
    rot = hi >> np.uint64(58)
    return (x >> rot) | (x << ((np.uint64(64) - rot) & np.uint64(63)))


@njit(inline="always")
def _next32(st):
    """pcg64_next32: the buffered high half if there is one, else the low half of a new draw."""
    if st[4] != 0:
        st[4] = 0
        return st[5]
    value = _next64(st)
    st[4] = 1
    st[5] = value >> np.uint64(32)
    return value & np.uint64(0xFFFFFFFF)


@njit(inline="always")
def _interval(st, top):
    """random_interval(top) for 0 < top < 2**32: masked rejection sampling in ``[0, top]``."""
    mask = np.uint64(top)
    mask |= mask >> np.uint64(1)
    mask |= mask >> np.uint64(2)
    mask |= mask >> np.uint64(4)
    mask |= mask >> np.uint64(8)
    mask |= mask >> np.uint64(16)
    value = _next32(st) & mask
    while value > np.uint64(top):
        value = _next32(st) & mask
    return np.int64(value)


def permutations(st, n, first, stop, out):
    """``out[e % len(out)] = rng.permutation(n)`` for ``e = first..stop``, in sequence.

    Parameters
    ----------
    st : ndarray of shape (6,), uint64
        The generator's state (``pack``), advanced in place.
    n : int
        Below 2**32 (larger would take NumPy's 64-bit path).
    out : ndarray of shape (rows, n), int64
    """
    rows = out.shape[0]
    for e in range(first, stop):
        order = out[e % rows]
        for i in range(n):
            order[i] = i
        for i in range(n - 1, 0, -1):
            j = _interval(st, i)
            order[i], order[j] = order[j], order[i]
