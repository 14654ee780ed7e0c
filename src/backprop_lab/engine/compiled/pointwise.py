"""Activations, losses and accuracy in loop form, along the batch (see ``kernels``).

Each function is the loop translation of a NumPy-engine rule and names it:
``activate`` and ``activation_backward`` are ``activations.py``;
``loss_and_output_grad`` is ``losses.py`` (with the fused output rules);
``count_correct`` is ``metrics.count_correct``.  Arrays are feature-major:
row ``c + j`` holds unit ``j`` of a layer, one column per sample.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..losses import EPSILON
from .codes import BCE, CCE, LEAKY_RELU, LINEAR, RELU, SIGMOID, SOFTMAX, TANH

# exp's Taylor coefficients 1/13!, ..., 1/1!, 1/0! (Horner order) and 2**-(2**i).
_INV_FACTORIALS = tuple(1.0 / math.factorial(k) for k in range(13, -1, -1))
_HALVINGS = tuple(2.0 ** -(2**i) for i in range(6))


@njit(inline="always")
def _exp_neg(y):
    """``np.exp(y)`` for ``y <= 0`` (not NaN) in float64, within an ulp or two.

    Written out (range reduction and a Taylor polynomial) rather than calling
    the C library's ``exp``, because a loop with a library call stays scalar:
    this lets the sigmoid and tanh loops vectorise, which saves about 0.5 ms of
    the article's 10 ms run (one ``exp`` per sample).  Its float64 error is far
    below float32 rounding, so the float32 activations built on it are those
    of the C library's ``exp``: identical on 2 x 10^8 inputs when it was written.
    """
    y = max(y, -40.0)  # exp(-40) < 2**-57: the callers round 1 +- e to 1 anyway
    k = np.floor(y * 1.4426950408889634 + 0.5)  # y = k ln2 + r, |r| <= ln2 / 2
    r = (y - k * 6.93147180369123816490e-01) - k * 1.90821492927058770002e-10
    p = 0.0
    for c in _INV_FACTORIALS:  # the last term, r**14 / 14!, is below 1e-17
        p = p * r + c
    n = -np.int64(k)  # 0 <= n <= 58; times 2**-n, one exact halving per bit of n
    for i in range(6):
        if (n >> i) & 1:
            p *= _HALVINGS[i]
    return p


@njit(inline="always")
def _tanh(z, single):
    """``np.tanh(z)``; in float32 through float64 ``exp``, rounded once by the caller.

    That is as accurate as the C library's ``tanhf`` (both agree with NumPy's
    float32 ``tanh`` to the last bit equally often) and twice as fast.
    """
    if not single:
        return np.tanh(z)
    x = np.float64(z)
    if abs(x) < 4e-4:  # exp would cancel; this series is exact to float32 here
        return x - x * x * x / 3
    if x != x:  # NaN, which _exp_neg does not take
        return x
    e = _exp_neg(-2 * abs(x))
    t = (1 - e) / (1 + e)
    return -t if x < 0 else t


# error_model="numpy": no ZeroDivisionError check on ``(1 - e) / (1 + e)`` (never
# zero), a branch that would keep the sigmoid and tanh loops from vectorising.
@njit(error_model="numpy")
def activate(act, slope, Z, A, c, u, S, n):
    """``A[c:c+u, :n] = activation(Z[c:c+u, :n])``; ``S`` is a (2, batch) scratch."""
    f = Z.dtype.type
    single = Z.itemsize == 4
    if act == SOFTMAX:  # over the units of each sample, shifted by the max
        for r in range(n):
            S[0, r] = Z[c, r]
            S[1, r] = f(0)
        for j in range(c + 1, c + u):
            for r in range(n):
                z = Z[j, r]
                if z > S[0, r] or z != z:  # NaN wins, as in np.max
                    S[0, r] = z
        for j in range(c, c + u):
            for r in range(n):
                e = np.exp(Z[j, r] - S[0, r])
                A[j, r] = e
                S[1, r] += e
        for j in range(c, c + u):
            for r in range(n):
                A[j, r] = A[j, r] / S[1, r]
        return
    s = f(slope)
    for j in range(c, c + u):
        if act == LINEAR:
            for r in range(n):
                A[j, r] = Z[j, r]
        elif act == RELU:
            for r in range(n):
                z = Z[j, r]
                A[j, r] = f(0) if z < 0 else z  # NaN passes through, as np.maximum
        elif act == LEAKY_RELU:
            for r in range(n):
                z = Z[j, r]
                A[j, r] = z if z > 0 else z * s
        else:  # TANH, or SIGMOID as 1 / (1 + exp(-z)) written through tanh: no overflow
            # (one loop for both: each copy of _tanh inlined costs compile time)
            half = act != TANH
            h = f(0.5) if half else f(1)
            for r in range(n):
                t = f(_tanh(h * Z[j, r], single))
                A[j, r] = f(0.5) * (f(1) + t) if half else t


@njit
def activation_backward(act, slope, Z, A, G, c, u, S, n):
    """``G[c:c+u, :n]``: ``dL/dA`` in, ``dL/dZ`` out (the rules of activations.py)."""
    f = Z.dtype.type
    if act == SOFTMAX:  # Jacobian-vector product: A_i * (dA_i - sum_j dA_j A_j)
        for r in range(n):
            S[0, r] = f(0)
        for j in range(c, c + u):
            for r in range(n):
                S[0, r] += G[j, r] * A[j, r]
        for j in range(c, c + u):
            for r in range(n):
                G[j, r] = A[j, r] * (G[j, r] - S[0, r])
        return
    s = f(slope)
    for j in range(c, c + u):
        if act == RELU:  # dA * (Z > 0), NaN-faithful
            for r in range(n):
                G[j, r] = G[j, r] if Z[j, r] > 0 else G[j, r] * f(0)
        elif act == LEAKY_RELU:
            for r in range(n):
                G[j, r] = G[j, r] if Z[j, r] > 0 else G[j, r] * s
        elif act == TANH:
            for r in range(n):
                G[j, r] = G[j, r] * (f(1) - A[j, r] * A[j, r])
        elif act == SIGMOID:
            for r in range(n):
                G[j, r] = G[j, r] * A[j, r] * (f(1) - A[j, r])


@njit(inline="always")
def _clip(p, lo, hi):
    return lo if p < lo else (hi if p > hi else p)  # NaN stays NaN, as np.clip


@njit(inline="always")
def _add_log(total, product, p):
    """``total + log(product) == old total + log(old product) + log(p)``, with few logs.

    The logarithms of the clipped probabilities are summed as the logarithm of
    their product, one ``log`` call per ~40 samples instead of one per sample
    (the product of factors >= 1e-7 is folded into ``total`` before it can
    underflow).  In float64 this is more accurate than NumPy's float32 sum.
    """
    product *= np.float64(p)
    if product < 1e-200:
        return total + np.log(product), 1.0
    return total, product


@njit(inline="always")
def loss_and_output_grad(loss, fused, act, slope, Z, A, G, T, c, m, S, n):
    """Batch loss (float64); writes ``dL/dZ`` of the output layer to ``G[c:c+m]``.

    ``T`` holds the batch's targets, one row per output.  Fused rules (see
    losses.py), valid only for sigmoid + BCE and softmax + CCE:
    ``dZ = (P - Y) * inside / size`` and ``dZ = (P * sum(Ym) - Ym) / n``.
    Otherwise ``G = dL/dP`` and the activation's own backward rule follows.
    """
    f = A.dtype.type
    eps = f(EPSILON)
    hi = f(1) - eps
    size, rows = f(n * m), f(n)
    total, product = 0.0, 1.0  # the loss is total + log(product), see _add_log
    if loss == BCE:
        for j in range(m):
            for r in range(n):
                p, y = A[c + j, r], T[j, r]
                pc = _clip(p, eps, hi)
                # y log(pc) + (1 - y) log(1 - pc): a 0/1 label leaves one term, exactly.
                S[0, r] = pc if y == 1 else f(1) - pc
                g = p - y if fused else -(y / pc) + (f(1) - y) / (f(1) - pc)
                G[c + j, r] = (g if p >= eps and p <= hi else g * f(0)) / size
            for r in range(n):
                y = T[j, r]
                if y == 1 or y == 0:
                    total, product = _add_log(total, product, S[0, r])
                else:
                    pc = _clip(A[c + j, r], eps, hi)
                    total += y * np.log(pc) + (f(1) - y) * np.log(f(1) - pc)
        total = -(total + np.log(product)) / (n * m)
    elif loss == CCE:
        for r in range(n):  # S[0] = sum(P) per sample (Keras renormalises), S[1] = sum(Ym)
            S[0, r] = f(0)
            S[1, r] = f(0)
        for j in range(m):
            for r in range(n):
                S[0, r] += A[c + j, r]
        for j in range(m):
            for r in range(n):
                y = T[j, r]
                q = A[c + j, r] / S[0, r]
                qc = _clip(q, eps, hi)
                if y == 1:
                    total, product = _add_log(total, product, qc)
                elif y != 0:
                    total += y * np.log(qc)
                ym = y if q >= eps and q <= hi else y * f(0)
                if fused:
                    S[1, r] += ym
                    G[c + j, r] = ym
                else:  # dL/dQ, then back through Q = P / sum(P)
                    g = -(ym / qc) / rows
                    S[1, r] += g * q
                    G[c + j, r] = g
        for j in range(m):
            for r in range(n):
                if fused:
                    G[c + j, r] = (A[c + j, r] * S[1, r] - G[c + j, r]) / rows
                else:
                    G[c + j, r] = (G[c + j, r] - S[1, r]) / S[0, r]
        total = -(total + np.log(product)) / n
    else:  # MSE
        for j in range(m):
            for r in range(n):
                d = A[c + j, r] - T[j, r]
                total += d * d
                G[c + j, r] = f(2) * d / size
        total = total / (n * m)
    if not fused:
        activation_backward(act, slope, Z, A, G, c, m, S, n)
    return total


@njit(inline="always")
def count_correct(A, T, c, m, n):
    """metrics.count_correct: threshold 0.5 for one output, else arg-max against arg-max."""
    correct = 0
    for r in range(n):
        if m == 1:
            correct += (A[c, r] > 0.5) == (T[0, r] > 0.5)
            continue
        best_p, best_y = 0, 0
        for j in range(1, m):
            if A[c + j, r] > A[c + best_p, r]:
                best_p = j
            if T[j, r] > T[best_y, r]:
                best_y = j
        correct += best_p == best_y
    return correct
