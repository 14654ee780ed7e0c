"""The numba kernels of the compiled engine (see ``trainer`` for how they are driven).

``train_steps`` runs a range of mini-batch steps of a stack of Dense layers
(forward, loss, backward, regularization, optimizer update) in one call, and
``forward_rows`` is the inference pass.  The activations and losses they call
are in ``pointwise``, the codes and columns in ``codes``.  Each helper is the loop form of a
NumPy-engine method and says which: the same formulas in the same order, in
the model's dtype (scalars are built with ``f = dtype.type``, so float32
models compute in float32), so the engines agree to rounding.  Only the order
of additions inside matrix products differs (the bias joins the sum first), as
it differs between BLAS builds.

Data layout
-----------
Every array is flat or 2-D, so one compiled specialisation serves any depth
and width; there is one per dtype.

* ``theta`` is ``np.concatenate(model.params, axis=None)``, i.e. ``W1, b1, W2,
  b2, ...`` each row-major: ``W_l[k, j] = theta[w_off + k * units + j]``.
  ``grad`` and the optimizer slots ``slot_a``, ``slot_b`` share that layout.
* ``spec`` (int64) has one row per layer, columns ``FAN_IN`` ... ``ACT``;
  ``lconst`` (float64) the leaky slope and the L1/L2 factors.
* The work buffers ``A`` (activations), ``Z`` (pre-activations) and ``G``
  (gradients) are feature-major: one row per column of ``[x | layer 1 |
  layer 2 | ...]`` and one column per sample of the batch, so every inner loop
  runs along the batch, contiguous and vectorised.  Layer ``l`` reads the rows
  where layer ``l - 1`` wrote: the forward pass walks the rows down, the
  backward pass up.  ``G`` holds ``dL/dA`` of a layer and becomes ``dL/dZ``
  in place.  ``S`` is a two-row scratch (softmax, categorical cross-entropy).

Helpers index arrays directly rather than slicing rows (a slice costs a
reference count).  Those called from one place are inlined by numba
(``inline="always"``); those called from several (``_weighted_sums``, the
activations, ``_layer_grads``) are compiled once as functions of their own and
linked, as numba inlines a helper anew, and at a cost, at every call site:
that keeps the first compilation short.  Integer arguments are passed as
``np.int64`` values rather than literals, so each helper has one signature.  The
kernels touch no Python object, so they run without the GIL (``trainer``
compiles them with ``nogil=True``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .codes import (
    ACT,
    ADAM,
    B_OFF,
    BETA_1,
    BETA_2,
    COL_IN,
    COL_OUT,
    EPS,
    FAN_IN,
    L1,
    L2,
    LR,
    MOMENTUM,
    NESTEROV,
    RHO,
    RMSPROP,
    SGD,
    SLOPE,
    UNITS,
    W_OFF,
)
from .pointwise import activate, activation_backward, count_correct, loss_and_output_grad


@njit(error_model="numpy")
def _weighted_sums(Out, o, u, theta, b, In, c, m, w, w_unit, w_in, n):
    """``Out[o + j, :n] = b_j + sum(In[c + i, :n] * theta[w + j * w_unit + i * w_in] for i < m)``.

    ``u`` columns ``j`` of a matrix product, each plus its bias ``b_j = theta[b +
    j]`` (``b < 0``: ``0``), added first, then the terms in order of ``i``, up
    to four per pass over the batch.  A compiled function of its own rather
    than inlined (numba's inlining of it at every call site was most of the
    compile time); it takes a whole layer per call, so the call costs little.
    """
    f = theta.dtype.type
    for j in range(u):
        oj, wj = o + j, w + j * w_unit
        bj = theta[b + j] if b >= 0 else f(0)
        i = 0
        while i < m:
            k = min(4, m - i)
            w0 = theta[wj + i * w_in]
            w1 = theta[wj + (i + 1) * w_in] if k > 1 else w0
            w2 = theta[wj + (i + 2) * w_in] if k > 2 else w0
            w3 = theta[wj + (i + 3) * w_in] if k > 3 else w0
            first = i == 0
            if k == 4:
                for r in range(n):
                    Out[oj, r] = (
                        (bj if first else Out[oj, r])
                        + In[c + i, r] * w0
                        + In[c + i + 1, r] * w1
                        + In[c + i + 2, r] * w2
                        + In[c + i + 3, r] * w3
                    )
            elif k == 3:
                for r in range(n):
                    Out[oj, r] = (
                        (bj if first else Out[oj, r])
                        + In[c + i, r] * w0
                        + In[c + i + 1, r] * w1
                        + In[c + i + 2, r] * w2
                    )
            elif k == 2:
                for r in range(n):
                    Out[oj, r] = (
                        (bj if first else Out[oj, r]) + In[c + i, r] * w0 + In[c + i + 1, r] * w1
                    )
            else:
                for r in range(n):
                    Out[oj, r] = (bj if first else Out[oj, r]) + In[c + i, r] * w0
            i += k


@njit(inline="always")
def _forward(spec, lconst, theta, A, Z, S, n):
    """Samples ``0..n`` of ``A[:n_features]`` through every layer: ``Z = X @ W + b``."""
    one = np.int64(1)  # ints, not literals: each helper compiles one signature
    for layer in range(spec.shape[0]):
        fan_in, u = spec[layer, FAN_IN], spec[layer, UNITS]
        wo, bo = spec[layer, W_OFF], spec[layer, B_OFF]
        ci, co = spec[layer, COL_IN], spec[layer, COL_OUT]
        _weighted_sums(Z, co, u, theta, bo, A, ci, fan_in, wo, one, u, n)  # W[i, j] at wo + i*u + j
        activate(spec[layer, ACT], lconst[layer, SLOPE], Z, A, co, u, S, n)


@njit(inline="always")
def _backward(spec, lconst, theta, grad, A, Z, G, S, n):
    """From ``G`` = dL/dZ of the last layer, fill ``grad`` (with regularization)."""
    f = theta.dtype.type
    one, no_bias = np.int64(1), np.int64(-1)  # ints, not literals: one signature per helper
    for layer in range(spec.shape[0] - 1, -1, -1):
        fan_in, u = spec[layer, FAN_IN], spec[layer, UNITS]
        wo, bo = spec[layer, W_OFF], spec[layer, B_OFF]
        ci, co = spec[layer, COL_IN], spec[layer, COL_OUT]
        _layer_grads(A, ci, fan_in, G, co, grad, wo, u, bo, n)
        l1, l2 = lconst[layer, L1], lconst[layer, L2]
        if l1 != 0 or l2 != 0:  # dW += 2 * l2 * W + l1 * sign(W)
            two_l2, f_l1 = f(2) * f(l2), f(l1)
            for p in range(wo, wo + fan_in * u):
                w = theta[p]
                reg = two_l2 * w
                if l1 != 0:
                    reg += f_l1 * (f(1) if w > 0 else (-f(1) if w < 0 else w * f(0)))
                grad[p] += reg
        if layer == 0:
            break
        # dX = dZ @ W.T (column k of it is row k of W), then back through the previous activation
        _weighted_sums(G, ci, fan_in, theta, no_bias, G, co, u, wo, u, one, n)
        activation_backward(
            spec[layer - 1, ACT], lconst[layer - 1, SLOPE], Z, A, G, ci, fan_in, S, n
        )


@njit
def _layer_grads(A, ci, fan_in, G, co, grad, wo, u, bo, n):
    """``db = dZ.sum(axis=0)`` and ``dW = X.T @ dZ`` of one layer, as batch sums in lanes.

    Each sum over the batch is ``_lane_sum``'s: a fixed order, so the result
    is the same on every machine (whatever its vector width) and in the C
    translation of the article's kernel (``whole_fit.c``).  The weights of four
    inputs are summed in one pass (``_lane_sums4``): four independent chains of
    additions instead of one, and each ``dZ`` value loaded once for the four.
    """
    for j in range(u):
        o = co + j
        grad[bo + j] = _lane_sum(G, o, G, o, n, False)
        i = 0
        while i + 4 <= fan_in:
            s0, s1, s2, s3 = _lane_sums4(A, ci + i, G, o, n)
            grad[wo + i * u + j] = s0
            grad[wo + (i + 1) * u + j] = s1
            grad[wo + (i + 2) * u + j] = s2
            grad[wo + (i + 3) * u + j] = s3
            i += 4
        while i < fan_in:
            grad[wo + i * u + j] = _lane_sum(A, ci + i, G, o, n, True)
            i += 1


@njit(inline="always")
def _lane_sum(A, c, G, o, n, product):
    """``sum(A[c, :n] * G[o, :n])`` (or ``sum(G[o, :n])`` if not ``product``) in 8 lanes.

    Sample ``r`` is added to lane ``r % 8`` in increasing ``r``; the lanes are
    then added as ``((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))``.  The
    eight running sums are independent, so LLVM's SLP vectorizer (switched on
    for ``train_steps``: ``trainer._with_slp``) keeps them in vector registers
    (SIMD over the batch) without reordering any addition.
    """
    f = G.dtype.type
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = f(0)
    full = n - n % 8
    for r in range(0, full, 8):
        if product:
            s0 += A[c, r] * G[o, r]
            s1 += A[c, r + 1] * G[o, r + 1]
            s2 += A[c, r + 2] * G[o, r + 2]
            s3 += A[c, r + 3] * G[o, r + 3]
            s4 += A[c, r + 4] * G[o, r + 4]
            s5 += A[c, r + 5] * G[o, r + 5]
            s6 += A[c, r + 6] * G[o, r + 6]
            s7 += A[c, r + 7] * G[o, r + 7]
        else:
            s0 += G[o, r]
            s1 += G[o, r + 1]
            s2 += G[o, r + 2]
            s3 += G[o, r + 3]
            s4 += G[o, r + 4]
            s5 += G[o, r + 5]
            s6 += G[o, r + 6]
            s7 += G[o, r + 7]
    left = n - full  # the last n % 8 samples, into lanes 0..left-1
    r = full
    if left > 0:
        s0 += A[c, r] * G[o, r] if product else G[o, r]
    if left > 1:
        s1 += A[c, r + 1] * G[o, r + 1] if product else G[o, r + 1]
    if left > 2:
        s2 += A[c, r + 2] * G[o, r + 2] if product else G[o, r + 2]
    if left > 3:
        s3 += A[c, r + 3] * G[o, r + 3] if product else G[o, r + 3]
    if left > 4:
        s4 += A[c, r + 4] * G[o, r + 4] if product else G[o, r + 4]
    if left > 5:
        s5 += A[c, r + 5] * G[o, r + 5] if product else G[o, r + 5]
    if left > 6:
        s6 += A[c, r + 6] * G[o, r + 6] if product else G[o, r + 6]
    return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))


@njit(inline="always")
def _lane_sums4(A, c, G, o, n):
    """``_lane_sum(A, c + i, G, o, n, True)`` for ``i < 4``, side by side: four rows'
    eight lanes each (the rows ``a``, ``b``, ``d``, ``e``), one ``G`` value for four
    products.  Written out, as ``_lane_sum``: tuples of lanes compile three times
    slower in numba."""
    f = G.dtype.type
    a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = f(0)
    b0 = b1 = b2 = b3 = b4 = b5 = b6 = b7 = f(0)
    d0 = d1 = d2 = d3 = d4 = d5 = d6 = d7 = f(0)
    e0 = e1 = e2 = e3 = e4 = e5 = e6 = e7 = f(0)
    full = n - n % 8
    for r in range(0, full, 8):
        g0, g1, g2, g3 = G[o, r], G[o, r + 1], G[o, r + 2], G[o, r + 3]
        g4, g5, g6, g7 = G[o, r + 4], G[o, r + 5], G[o, r + 6], G[o, r + 7]
        a0 += A[c, r] * g0
        a1 += A[c, r + 1] * g1
        a2 += A[c, r + 2] * g2
        a3 += A[c, r + 3] * g3
        a4 += A[c, r + 4] * g4
        a5 += A[c, r + 5] * g5
        a6 += A[c, r + 6] * g6
        a7 += A[c, r + 7] * g7
        b0 += A[c + 1, r] * g0
        b1 += A[c + 1, r + 1] * g1
        b2 += A[c + 1, r + 2] * g2
        b3 += A[c + 1, r + 3] * g3
        b4 += A[c + 1, r + 4] * g4
        b5 += A[c + 1, r + 5] * g5
        b6 += A[c + 1, r + 6] * g6
        b7 += A[c + 1, r + 7] * g7
        d0 += A[c + 2, r] * g0
        d1 += A[c + 2, r + 1] * g1
        d2 += A[c + 2, r + 2] * g2
        d3 += A[c + 2, r + 3] * g3
        d4 += A[c + 2, r + 4] * g4
        d5 += A[c + 2, r + 5] * g5
        d6 += A[c + 2, r + 6] * g6
        d7 += A[c + 2, r + 7] * g7
        e0 += A[c + 3, r] * g0
        e1 += A[c + 3, r + 1] * g1
        e2 += A[c + 3, r + 2] * g2
        e3 += A[c + 3, r + 3] * g3
        e4 += A[c + 3, r + 4] * g4
        e5 += A[c + 3, r + 5] * g5
        e6 += A[c + 3, r + 6] * g6
        e7 += A[c + 3, r + 7] * g7
    return (
        _lanes_total(a0, a1, a2, a3, a4, a5, a6, a7, A, c, G, o, full, n),
        _lanes_total(b0, b1, b2, b3, b4, b5, b6, b7, A, c + 1, G, o, full, n),
        _lanes_total(d0, d1, d2, d3, d4, d5, d6, d7, A, c + 2, G, o, full, n),
        _lanes_total(e0, e1, e2, e3, e4, e5, e6, e7, A, c + 3, G, o, full, n),
    )


@njit
def _lanes_total(s0, s1, s2, s3, s4, s5, s6, s7, A, c, G, o, r, n):
    """``_lane_sum``'s end: samples ``r..n`` (fewer than 8) into lanes 0.., then the tree."""
    left = n - r
    if left > 0:
        s0 += A[c, r] * G[o, r]
    if left > 1:
        s1 += A[c, r + 1] * G[o, r + 1]
    if left > 2:
        s2 += A[c, r + 2] * G[o, r + 2]
    if left > 3:
        s3 += A[c, r + 3] * G[o, r + 3]
    if left > 4:
        s4 += A[c, r + 4] * G[o, r + 4]
    if left > 5:
        s5 += A[c, r + 5] * G[o, r + 5]
    if left > 6:
        s6 += A[c, r + 6] * G[o, r + 6]
    return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))


@njit(inline="always")
def _penalty(spec, lconst, theta):
    """Sum of ``l1 * sum(|W|) + l2 * sum(W**2)`` over the layers."""
    total = 0.0
    for layer in range(spec.shape[0]):
        l1, l2 = lconst[layer, L1], lconst[layer, L2]
        wo = spec[layer, W_OFF]
        s1, s2 = 0.0, 0.0
        for p in range(wo, wo + spec[layer, FAN_IN] * spec[layer, UNITS]):
            s1 += abs(theta[p])
            s2 += theta[p] * theta[p]
        total += l1 * s1 + l2 * s2
    return total


@njit(inline="always")
def _update(opt, hp, theta, grad, slot_a, slot_b, t):
    """One optimizer step on every parameter; the rules of optimizers.py, in order."""
    f = theta.dtype.type
    lr = f(hp[LR])
    if opt == SGD:
        if hp[MOMENTUM] == 0:
            for p in range(theta.size):
                theta[p] -= lr * grad[p]
        else:
            mu = f(hp[MOMENTUM])
            for p in range(theta.size):
                slot_a[p] = mu * slot_a[p] - lr * grad[p]
                if hp[NESTEROV] != 0:
                    theta[p] += mu * slot_a[p] - lr * grad[p]
                else:
                    theta[p] += slot_a[p]
    elif opt == ADAM:
        alpha = lr * np.sqrt(f(1) - f(hp[BETA_2]) ** f(t)) / (f(1) - f(hp[BETA_1]) ** f(t))
        c1, c2, eps = f(1 - hp[BETA_1]), f(1 - hp[BETA_2]), f(hp[EPS])
        for p in range(theta.size):
            g = grad[p]
            slot_a[p] += (g - slot_a[p]) * c1
            slot_b[p] += (g * g - slot_b[p]) * c2
            theta[p] -= slot_a[p] * alpha / (np.sqrt(slot_b[p]) + eps)
    elif opt == RMSPROP:
        rho, one_rho, eps, mu = f(hp[RHO]), f(1 - hp[RHO]), f(hp[EPS]), f(hp[MOMENTUM])
        for p in range(theta.size):
            g = grad[p]
            slot_a[p] = rho * slot_a[p] + one_rho * (g * g)
            step = lr * g / np.sqrt(slot_a[p] + eps)
            if hp[MOMENTUM] == 0:
                theta[p] -= step
            else:
                slot_b[p] = mu * slot_b[p] + step
                theta[p] -= slot_b[p]
    else:  # ADAGRAD
        eps = f(hp[EPS])
        for p in range(theta.size):
            g = grad[p]
            slot_a[p] += g * g
            theta[p] -= lr * g / np.sqrt(slot_a[p] + eps)


def train_steps(
    X,
    Y,
    order,
    batch_size,
    first,
    stop,
    spec,
    lconst,
    theta,
    grad,
    slot_a,
    slot_b,
    loss,
    fused,
    opt,
    hp,
    iterations,
    loss_sum,
    correct,
    work,
):
    """Train batches ``first..stop`` of the epoch whose sample order is ``order``.

    The loop of ``training.train_epoch``: batch ``b`` is the samples
    ``order[b * batch_size : (b + 1) * batch_size]``; forward, loss, backward,
    optimizer step.
    ``loss_sum`` and ``correct`` come in as the epoch's running totals (loss
    times batch size, before each update, as Keras logs) and go out updated.
    ``work`` holds the work buffers (``trainer.work_buffers``): the kernel allocates
    nothing, so it runs without numba's reference counting (``_nrt=False``).
    """
    n_samples, n_features = X.shape
    last = spec.shape[0] - 1
    n_out, c_out = spec[last, UNITS], spec[last, COL_OUT]
    A, Z, G, T, S = work
    regularized = False
    for layer in range(spec.shape[0]):
        regularized |= lconst[layer, L1] != 0 or lconst[layer, L2] != 0
    for b in range(first, stop):
        start = b * batch_size
        n = min(batch_size, n_samples - start)
        for k in range(n_features):  # gather the batch, so no shuffled copy of X is made
            for r in range(n):
                A[k, r] = X[order[start + r], k]
        for j in range(n_out):
            for r in range(n):
                T[j, r] = Y[order[start + r], j]
        _forward(spec, lconst, theta, A, Z, S, n)
        batch_loss = loss_and_output_grad(
            loss, fused, spec[last, ACT], lconst[last, SLOPE], Z, A, G, T, c_out, n_out, S, n
        )
        if regularized:
            batch_loss += _penalty(spec, lconst, theta)
        loss_sum += batch_loss * n
        correct += count_correct(A, T, c_out, n_out, n)
        _backward(spec, lconst, theta, grad, A, Z, G, S, n)
        iterations += 1
        _update(opt, hp, theta, grad, slot_a, slot_b, iterations)
    return loss_sum, correct


def forward_rows(X, spec, lconst, theta):
    """``model.forward(X)`` for all samples, a block of samples at a time."""
    n_samples, n_features = X.shape
    last = spec.shape[0] - 1
    n_out, c_out = spec[last, UNITS], spec[last, COL_OUT]
    block = min(256, n_samples)
    A = np.empty((c_out + n_out, block), X.dtype)
    Z = np.empty_like(A)
    S = np.empty((2, block), X.dtype)
    P = np.empty((n_samples, n_out), X.dtype)
    for start in range(0, n_samples, block):
        n = min(block, n_samples - start)
        for r in range(n):
            for k in range(n_features):
                A[k, r] = X[start + r, k]
        _forward(spec, lconst, theta, A, Z, S, n)
        for r in range(n):
            for j in range(n_out):
                P[start + r, j] = A[c_out + j, r]
    return P
