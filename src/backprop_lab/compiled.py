"""The compiled engine: the NumPy engine's training step, fused into numba kernels.

``train_steps`` runs a range of mini-batch steps of a stack of ``Dense`` layers
(forward, loss, backward, regularization, optimizer update) in one compiled
call, and ``forward_rows`` is the matching inference pass.  The math is the
NumPy engine's, line for line: the same activations, the same Keras loss
semantics (clip at 1e-7, fused sigmoid/softmax gradients with their masks),
the same optimizer rules, evaluated in the model's dtype with the same
constants, so the two engines agree to rounding.  Only the order of the
additions inside a matrix product differs (BLAS blocks them its own way).

Data layout
-----------
Every array the kernels touch is flat or 2-D, so one compiled specialisation
serves any depth and width (there is one per dtype):

* ``theta`` is ``np.concatenate(model.params, axis=None)``: ``W1, b1, W2, b2, ...``
  each row-major, so ``W_l[k, j] = theta[w_off + k * units + j]``.  ``grad``
  and the optimizer slots ``slot_a``, ``slot_b`` have the same layout.
* ``spec`` is an int array with one row per layer (see ``FAN_IN`` ... ``ACT``)
  and ``lconst`` a float64 array with the leaky slope and the L1/L2 factors.
* The work buffers ``A``, ``Z`` and ``G`` have one row per sample and the
  columns ``[x | layer 1 | layer 2 | ...]``: layer ``l`` reads its input from
  the columns where layer ``l - 1`` wrote its output, so the forward pass is a
  walk from left to right and the backward pass from right to left.
  ``G`` holds ``dL/dA`` of a layer and is turned into ``dL/dZ`` in place.

The trainer packs the model's arrays and the optimizer's state into the flat
buffers before each call and copies them back after it, so the ``Dense``
layers, their ``grads`` and the optimizer (its slots and ``iterations``) are
exactly as the NumPy engine would leave them: the engines can alternate.

Callbacks with batch hooks
--------------------------
A kernel call covers many steps, so batch hooks are served as follows.
``ProgbarLogger`` only draws, so it gets one ``on_train_batch_begin`` /
``on_train_batch_end`` pair per chunk of batches (chunks last about 20 ms,
the running logs are exact at the chunk's last batch).  Any other callback
that overrides a batch hook gets every batch, one kernel call per batch: it
sees exact running logs and the weights after that batch, as with NumPy.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
from numba import njit

from . import activations, losses, optimizers, regularizers
from .callbacks import _BATCH_HOOKS, Callback, ProgbarLogger
from .layers import Dense

# Codes the kernels branch on; numba folds these module constants.
LINEAR, RELU, LEAKY_RELU, TANH, SIGMOID, SOFTMAX = range(6)
BCE, CCE, MSE = range(3)
SGD, ADAM, RMSPROP, ADAGRAD = range(4)
# Columns of ``spec`` (int64, one row per layer) and ``lconst`` (float64).
FAN_IN, UNITS, W_OFF, B_OFF, COL_IN, COL_OUT, ACT = range(7)
SLOPE, L1, L2 = range(3)
# Entries of ``hp`` (float64), the optimizer's hyper-parameters.
LR, MOMENTUM, NESTEROV, BETA_1, BETA_2, EPS, RHO = range(7)

ACTIVATION_CODES = {
    activations.Linear: LINEAR,
    activations.ReLU: RELU,
    activations.LeakyReLU: LEAKY_RELU,
    activations.Tanh: TANH,
    activations.Sigmoid: SIGMOID,
    activations.Softmax: SOFTMAX,
}
LOSS_CODES = {
    losses.BinaryCrossentropy: BCE,
    losses.CategoricalCrossentropy: CCE,
    # Targets arrive one-hot from prepare_targets, so this is CCE in the kernel.
    losses.SparseCategoricalCrossentropy: CCE,
    losses.MeanSquaredError: MSE,
}
OPTIMIZER_CODES = {
    optimizers.SGD: SGD,
    optimizers.Adam: ADAM,
    optimizers.RMSprop: RMSPROP,
    optimizers.Adagrad: ADAGRAD,
}
# The optimizer attributes holding its per-parameter state, as (slot_a, slot_b).
OPTIMIZER_SLOTS = {
    optimizers.SGD: ("_velocities",),
    optimizers.Adam: ("_m", "_v"),
    optimizers.RMSprop: ("_s", "_v"),
    optimizers.Adagrad: ("_s",),
}
REGULARIZER_TYPES = (regularizers.Regularizer, regularizers.L1, regularizers.L2, regularizers.L1L2)
_DENSE_MATH = ("forward", "backward", "backward_z", "penalty")


def unsupported_reason(model, *, training: bool = True) -> str | None:
    """Why the compiled engine cannot run ``model``, or None if it can.

    Exact classes are required: a subclass may override the math.  With
    ``training=False`` only the layers matter (inference).
    """
    if not model.layers:
        return "the model has no layers"
    dtype = model.dtype
    if dtype not in (np.float32, np.float64):
        return f"dtype {dtype} (only float32 and float64 are compiled)"
    for i, layer in enumerate(model.layers):
        what = f"layer {i} ({type(layer).__name__})"
        if not isinstance(layer, Dense) or any(
            getattr(type(layer), m) is not getattr(Dense, m) for m in _DENSE_MATH
        ):
            return f"{what} is not a Dense layer"
        if type(layer.activation) not in ACTIVATION_CODES:
            return f"{what} has the custom activation {type(layer.activation).__name__}"
        reg = layer.kernel_regularizer
        if reg is not None and type(reg) not in REGULARIZER_TYPES:
            return f"{what} has the custom regularizer {type(reg).__name__}"
        if layer.dtype is not None and layer.dtype != dtype:
            return f"{what} has dtype {layer.dtype}, the model {dtype} (mixed precision)"
    if training:
        if type(model.loss) not in LOSS_CODES:
            return f"the custom loss {type(model.loss).__name__}"
        if type(model.optimizer) not in OPTIMIZER_CODES:
            return f"the custom optimizer {type(model.optimizer).__name__}"
    return None


# --------------------------------------------------------------------------- kernels
# Buffers are feature-major: row c of A, Z, G is one unit's values for the whole
# batch, so every inner loop runs over the batch, contiguous and vectorised.
# Scalars are built with f = dtype.type so float32 models compute in float32,
# as the NumPy engine does; loss sums are accumulated in float64 like Python's.
# The helpers are inlined into the two cached kernels at the end (_Kernel); they
# index arrays directly rather than slicing rows, which would cost a reference
# count per slice.


@njit(inline="always")
def _weighted_sum(Out, o, b, In, c, m, theta, w, step, n):
    """``Out[o, :n] = b + sum(In[c + i, :n] * theta[w + i * step] for i in range(m))``.

    The terms are added in order of ``i``; up to four per pass over the batch.
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
    e = np.exp(-2 * abs(x))
    t = (1 - e) / (1 + e)
    return -t if x < 0 else t


@njit
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
def _loss_and_output_grad(loss, fused, act, slope, Z, A, G, T, c, m, S, n):
    """Batch loss (float64); writes ``dL/dZ`` of the output layer to ``G[c:c+m]``.

    ``T`` holds the batch's targets, one row per output.  Fused rules (see
    losses.py), valid only for sigmoid + BCE and softmax + CCE:
    ``dZ = (P - Y) * inside / size`` and ``dZ = (P * sum(Ym) - Ym) / n``.
    Otherwise ``G = dL/dP`` and the activation's own backward rule follows.
    """
    f = A.dtype.type
    eps = f(losses.EPSILON)
    hi = f(1) - eps
    size, rows = f(n * m), f(n)
    total = 0.0
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
                    total += np.log(S[0, r])
                else:
                    pc = _clip(A[c + j, r], eps, hi)
                    total += y * np.log(pc) + (f(1) - y) * np.log(f(1) - pc)
        total = -total / (n * m)
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
                if y != 0:
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
        total = -total / n
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


@njit(fastmath={"reassoc"}, inline="always")
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


def _train_steps(
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

    Batch ``b`` is the samples ``order[b * batch_size : (b + 1) * batch_size]``.
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


def _forward_rows(X, spec, lconst, theta):
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


class _Kernel:
    """A ``njit(cache=True)`` kernel that survives an unreadable on-disk cache.

    numba recompiles by itself when the source changed (stale cache), but a
    corrupted cache file makes the call raise.  Then the cache index is
    emptied (the next process recompiles and rewrites it), a warning is
    issued, and the call is retried with a freshly compiled, uncached kernel.
    A second failure is a real error and is raised.
    """

    def __init__(self, func):
        self.func = func
        self.dispatcher = njit(cache=True)(func)
        self.recovered = False

    def __call__(self, *args):
        try:
            return self.dispatcher(*args)
        except Exception as exc:  # noqa: BLE001 - any cache failure, retried once below
            if self.recovered:
                raise
            self.recovered = True
            warnings.warn(
                f"numba cache for {self.func.__name__} is unusable ({type(exc).__name__}: "
                f"{exc}); recompiling without the cache",
                RuntimeWarning,
                stacklevel=2,
            )
            try:
                self.dispatcher._cache.flush()  # an empty index: rewritten next run
            except Exception:  # noqa: BLE001 - healing the cache is best effort
                pass
            self.dispatcher = njit(cache=False)(self.func)
            return self.dispatcher(*args)


train_steps = _Kernel(_train_steps)
forward_rows = _Kernel(_forward_rows)


# --------------------------------------------------------------------------- Python side


def layout(model) -> tuple[np.ndarray, np.ndarray]:
    """``spec`` (int64, one row per layer) and ``lconst`` (float64) for the kernels."""
    layers = model.layers
    spec = np.zeros((len(layers), 7), np.int64)
    lconst = np.zeros((len(layers), 3), np.float64)
    offset, col = 0, 0
    for i, layer in enumerate(layers):
        fan_in, units = layer.W.shape
        spec[i] = (fan_in, units, offset, offset + fan_in * units, col, col + fan_in, 0)
        spec[i, ACT] = ACTIVATION_CODES[type(layer.activation)]
        offset += fan_in * units + units
        col += fan_in
        lconst[i, SLOPE] = getattr(layer.activation, "negative_slope", 0.0)
        reg = layer.kernel_regularizer
        if reg is not None:
            lconst[i, L1], lconst[i, L2] = reg.l1, reg.l2
    return spec, lconst


def predict(model, X: np.ndarray) -> np.ndarray:
    """``model.forward(X)`` through the compiled kernel; ``X`` in the model's dtype."""
    spec, lconst = layout(model)
    return forward_rows(X, spec, lconst, np.concatenate(model.params, axis=None))


def _exact_batch_hooks(callbacks) -> bool:
    """Whether a callback other than a progress bar overrides a batch hook."""
    for cb in callbacks.callbacks:
        base = ProgbarLogger if isinstance(cb, ProgbarLogger) else Callback
        if any(getattr(type(cb), h) is not getattr(base, h) for h in _BATCH_HOOKS):
            return True
    return False


class CompiledTrainer:
    """Runs ``fit_loop``'s epochs through ``train_steps``; made once per ``fit``.

    Parameters
    ----------
    model : Sequential
        A compiled, built model that ``unsupported_reason`` accepts.
    X : ndarray of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_outputs)
        Targets as prepared by the loss.
    batch_size : int
    """

    chunk_seconds = 0.02  # kernel time between two progress-bar updates

    def __init__(self, model, X, Y, batch_size: int):
        self.model = model
        self.X = np.ascontiguousarray(X)
        self.Y = np.ascontiguousarray(Y, dtype=self.X.dtype)
        self.batch_size = batch_size
        self.steps = -(-len(X) // batch_size)
        self.spec, self.lconst = layout(model)
        opt = model.optimizer
        self.opt_code = OPTIMIZER_CODES[type(opt)]
        self.slot_names = OPTIMIZER_SLOTS[type(opt)]
        self.loss_code = LOSS_CODES[type(model.loss)]
        self.fused = int(model.loss.fuses_with == model.layers[-1].activation.name)
        params = model.params
        self.theta = np.concatenate(params, axis=None)
        self.grad = np.zeros_like(self.theta)
        self.slot_a, self.slot_b = np.zeros_like(self.theta), np.zeros_like(self.theta)
        bounds = np.cumsum([0] + [p.size for p in params])
        self._bounds = list(zip(bounds[:-1], bounds[1:]))
        self._slot_lists = None  # the optimizer's state lists the copy plan was made for
        self.chunk = 16
        self._natural_order = None

    def _hyper_parameters(self) -> np.ndarray:
        opt = self.model.optimizer
        hp = np.zeros(7)
        hp[LR] = opt.learning_rate
        hp[MOMENTUM] = getattr(opt, "momentum", 0.0)
        hp[NESTEROV] = getattr(opt, "nesterov", False)
        hp[BETA_1] = getattr(opt, "beta_1", 0.0)
        hp[BETA_2] = getattr(opt, "beta_2", 0.0)
        hp[EPS] = getattr(opt, "epsilon", 0.0)
        hp[RHO] = getattr(opt, "rho", 0.0)
        return hp

    def _views(self, arrays, buffer):
        return [(a, buffer[lo:hi].reshape(a.shape)) for a, (lo, hi) in zip(arrays, self._bounds)]

    def _plan_copies(self) -> None:
        """(model array, view of a flat buffer) pairs to copy in before a call and out after."""
        model, opt = self.model, self.model.optimizer
        if opt.iterations == 0:
            opt.build(model.params)  # as Optimizer.step does on its first step
        slot_lists = [getattr(opt, name) for name in self.slot_names]
        if self._slot_lists is not None and all(
            a is b for a, b in zip(slot_lists, self._slot_lists)
        ):
            return
        self._slot_lists = slot_lists
        self._copy_in = self._views(model.params, self.theta)
        for arrays, buffer in zip(slot_lists, (self.slot_a, self.slot_b)):
            self._copy_in += self._views(arrays, buffer)
        # Every gradient is overwritten by each step: copied out only.
        self._copy_out = self._copy_in + self._views(model.grads, self.grad)

    def _run(self, order, first, stop, loss_sum, correct):
        """Steps ``first..stop``, with the model's and optimizer's state copied around them."""
        self._plan_copies()
        for array, view in self._copy_in:
            np.copyto(view, array)
        opt = self.model.optimizer
        loss_sum, correct = train_steps(
            self.X,
            self.Y,
            order,
            self.batch_size,
            first,
            stop,
            self.spec,
            self.lconst,
            self.theta,
            self.grad,
            self.slot_a,
            self.slot_b,
            self.loss_code,
            self.fused,
            self.opt_code,
            self._hyper_parameters(),
            opt.iterations,
            loss_sum,
            correct,
        )
        opt.iterations += stop - first
        for array, view in self._copy_out:
            np.copyto(array, view)
        return loss_sum, correct

    def train_epoch(self, order: np.ndarray | None, callbacks) -> dict:
        """One epoch in the sample order ``order`` (None: as stored); returns the mean logs."""
        if order is None:
            if self._natural_order is None:
                self._natural_order = np.arange(len(self.X))
            order = self._natural_order
        with_accuracy = bool(self.model.metrics)
        hooks = callbacks.wants_batches
        exact = hooks and _exact_batch_hooks(callbacks)
        loss_sum, correct, batch, seen = 0.0, 0, 0, 0

        def logs():
            out = {"loss": loss_sum / seen}
            if with_accuracy:
                out["accuracy"] = correct / seen
            return out

        while batch < self.steps:
            if exact:
                stop = batch + 1
            elif hooks:
                stop = min(batch + self.chunk, self.steps)
            else:
                stop = self.steps
            if hooks:
                callbacks.on_train_batch_begin(batch)
            began = time.perf_counter()
            loss_sum, correct = self._run(order, batch, stop, loss_sum, correct)
            seen = min(stop * self.batch_size, len(self.X))
            batch = stop
            if not hooks:
                continue
            if not exact:  # aim at chunk_seconds per call
                elapsed = time.perf_counter() - began
                if elapsed < self.chunk_seconds / 2:
                    self.chunk = min(2 * self.chunk, self.steps)
                elif elapsed > 2 * self.chunk_seconds:
                    self.chunk = max(1, self.chunk // 2)
            callbacks.on_train_batch_end(stop - 1, logs())
            if self.model.stop_training:  # as the NumPy loop: end the epoch now
                break
        return logs()
