"""The numba kernels of the compiled engine (see ``compiled`` for how they are driven).

``train_steps`` runs a range of mini-batch steps of a stack of Dense layers
(forward, loss, backward, regularization, optimizer update) in one call, and
``forward_rows`` is the inference pass.  Each helper is the loop form of a
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
reference count).  Small ones are inlined by numba (``inline="always"``); the
others are left to LLVM, which keeps compilation to a few seconds.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..losses import EPSILON

# Codes the kernels branch on; numba folds these module constants.
LINEAR, RELU, LEAKY_RELU, TANH, SIGMOID, SOFTMAX = range(6)
BCE, CCE, MSE = range(3)
SGD, ADAM, RMSPROP, ADAGRAD = range(4)
# Columns of ``spec`` (int64, one row per layer) and ``lconst`` (float64).
FAN_IN, UNITS, W_OFF, B_OFF, COL_IN, COL_OUT, ACT = range(7)
SLOPE, L1, L2 = range(3)
# Entries of ``hp`` (float64), the optimizer's hyper-parameters.
LR, MOMENTUM, NESTEROV, BETA_1, BETA_2, EPS, RHO = range(7)


@njit(inline="always")
def _weighted_sum(Out, o, b, In, c, m, theta, w, step, n):
    """``Out[o, :n] = b + sum(In[c + i, :n] * theta[w + i * step] for i in range(m))``.

    One column of a matrix product (plus the bias ``b``, added first), summed in
    order of ``i``, up to four terms per pass over the batch.
    """
    i = 0
    while i < m:
        k = min(4, m - i)
        w0 = theta[w + i * step]
        w1 = theta[w + (i + 1) * step] if k > 1 else w0
        w2 = theta[w + (i + 2) * step] if k > 2 else w0
        w3 = theta[w + (i + 3) * step] if k > 3 else w0
        first = i == 0
        if k == 4:
            for r in range(n):
                Out[o, r] = (
                    (b if first else Out[o, r])
                    + In[c + i, r] * w0
                    + In[c + i + 1, r] * w1
                    + In[c + i + 2, r] * w2
                    + In[c + i + 3, r] * w3
                )
        elif k == 3:
            for r in range(n):
                Out[o, r] = (
                    (b if first else Out[o, r])
                    + In[c + i, r] * w0
                    + In[c + i + 1, r] * w1
                    + In[c + i + 2, r] * w2
                )
        elif k == 2:
            for r in range(n):
                Out[o, r] = (b if first else Out[o, r]) + In[c + i, r] * w0 + In[c + i + 1, r] * w1
        else:
            for r in range(n):
                Out[o, r] = (b if first else Out[o, r]) + In[c + i, r] * w0
        i += k


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
def _activate(act, slope, Z, A, c, u, S, n):
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
        elif act == TANH:
            for r in range(n):
                A[j, r] = _tanh(Z[j, r], single)
        else:  # SIGMOID as 1 / (1 + exp(-z)) written through tanh: no overflow
            for r in range(n):
                A[j, r] = f(0.5) * (f(1) + f(_tanh(f(0.5) * Z[j, r], single)))


@njit
def _activation_backward(act, slope, Z, A, G, c, u, S, n):
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
def _forward(spec, lconst, theta, A, Z, S, n):
    """Samples ``0..n`` of ``A[:n_features]`` through every layer: ``Z = X @ W + b``."""
    for layer in range(spec.shape[0]):
        fan_in, u = spec[layer, FAN_IN], spec[layer, UNITS]
        wo, bo = spec[layer, W_OFF], spec[layer, B_OFF]
        ci, co = spec[layer, COL_IN], spec[layer, COL_OUT]
        for j in range(u):
            _weighted_sum(Z, co + j, theta[bo + j], A, ci, fan_in, theta, wo + j, u, n)
        _activate(spec[layer, ACT], lconst[layer, SLOPE], Z, A, co, u, S, n)


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
def _loss_and_output_grad(loss, fused, act, slope, Z, A, G, T, c, m, S, n):
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
        _activation_backward(act, slope, Z, A, G, c, m, S, n)
    return total


@njit(inline="always")
def _count_correct(A, T, c, m, n):
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


@njit(inline="always")
def _backward(spec, lconst, theta, grad, A, Z, G, S, n):
    """From ``G`` = dL/dZ of the last layer, fill ``grad`` (with regularization)."""
    f = theta.dtype.type
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
        for k in range(fan_in):  # dX = dZ @ W.T, then back through the previous activation
            _weighted_sum(G, ci + k, f(0), G, co, u, theta, wo + k * u, 1, n)
        _activation_backward(
            spec[layer - 1, ACT], lconst[layer - 1, SLOPE], Z, A, G, ci, fan_in, S, n
        )


@njit(fastmath={"reassoc"})
def _layer_grads(A, ci, fan_in, G, co, grad, wo, u, bo, n):
    """``db = dZ.sum(axis=0)`` and ``dW = X.T @ dZ`` of one layer.

    Sums over the batch, which the compiler may reassociate (``fastmath``
    ``reassoc`` only) to vectorise them, as BLAS does; nothing else is relaxed.
    """
    for j in range(u):
        _unit_grads(A, ci, fan_in, G, co + j, grad, wo + j, u, bo + j, n)


@njit(inline="always")  # into _layer_grads, whose fastmath flag then applies
def _unit_grads(A, ci, fan_in, G, o, grad, w, u, b, n):
    """db and the column of dW for one unit: sums over the batch, up to four inputs per pass."""
    f = G.dtype.type
    sb = f(0)
    for r in range(n):
        sb += G[o, r]
    grad[b] = sb
    k = 0
    while k < fan_in:
        m = min(4, fan_in - k)
        c = ci + k
        s0, s1, s2, s3 = f(0), f(0), f(0), f(0)
        if m == 4:
            for r in range(n):
                g = G[o, r]
                s0 += A[c, r] * g
                s1 += A[c + 1, r] * g
                s2 += A[c + 2, r] * g
                s3 += A[c + 3, r] * g
        elif m >= 2:
            m = 2
            for r in range(n):
                g = G[o, r]
                s0 += A[c, r] * g
                s1 += A[c + 1, r] * g
        else:
            for r in range(n):
                s0 += A[c, r] * G[o, r]
        grad[w + k * u] = s0
        if m > 1:
            grad[w + (k + 1) * u] = s1
        if m > 2:
            grad[w + (k + 2) * u] = s2
            grad[w + (k + 3) * u] = s3
        k += m


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
):
    """Train batches ``first..stop`` of the epoch whose sample order is ``order``.

    The loop of ``training.train_epoch``: batch ``b`` is the samples
    ``order[b * batch_size : (b + 1) * batch_size]``; forward, loss, backward,
    optimizer step.
    ``loss_sum`` and ``correct`` come in as the epoch's running totals (loss
    times batch size, before each update, as Keras logs) and go out updated.
    """
    n_samples, n_features = X.shape
    last = spec.shape[0] - 1
    n_out, c_out = spec[last, UNITS], spec[last, COL_OUT]
    rows = min(batch_size, n_samples)
    A = np.empty((c_out + n_out, rows), X.dtype)  # rows: [x | a1 | a2 | ...]
    Z = np.empty_like(A)
    G = np.empty_like(A)
    T = np.empty((n_out, rows), X.dtype)  # the batch's targets
    S = np.empty((2, rows), X.dtype)  # per-sample scratch (softmax, CCE)
    regularized = np.any(lconst[:, L1] != 0) or np.any(lconst[:, L2] != 0)
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
        batch_loss = _loss_and_output_grad(
            loss, fused, spec[last, ACT], lconst[last, SLOPE], Z, A, G, T, c_out, n_out, S, n
        )
        if regularized:
            batch_loss += _penalty(spec, lconst, theta)
        loss_sum += batch_loss * n
        correct += _count_correct(A, T, c_out, n_out, n)
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
