"""The whole ``fit`` of a one-hidden-layer binary classifier in one kernel call.

``fit_epochs`` is ``kernels.train_steps`` written out for one model family, the
article's: ``Dense(H, act) -> Dense(1, "sigmoid")`` trained on binary
cross-entropy (the fused rule) by plain SGD, without regularizers, float32 or
float64.  It runs a range of epochs, each in its own sample order, and returns
each epoch's loss sum and correct count, so a ``fit`` whose callbacks need no
control between epochs is one call (``trainer.CompiledTrainer.train_epochs``).

It is the same math in the same order as ``train_steps`` (which it must match
bit for bit; ``tests/test_compiled_fit.py``): the feature-major buffers
``A``, ``Z``, ``G`` with rows ``[x | hidden | output]`` and the batch
innermost, the bias first in every weighted sum, the hidden activation through
``pointwise``, the batch sums through ``kernels._layer_grads``.  What it saves
is the generic kernel's bookkeeping: no layer table, no loss and optimizer
codes, the output layer's single unit written as loops over the batch, one
call for every epoch, and no reference counting (the caller makes the work
buffers, so the kernel is compiled with ``_nrt=False``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..losses import EPSILON
from .kernels import _layer_grads
from .pointwise import _add_log, _clip, _tanh, activate, activation_backward


@njit(inline="always")
def _step(X, Y, order, start, n, act, slope, theta, grad, lr, A, Z, G, T, S):
    """One mini-batch step (``train_steps``'s loop body); returns (batch loss, correct)."""
    f = theta.dtype.type
    single = theta.itemsize == 4
    n_features = X.shape[1]
    H = A.shape[0] - n_features - 1
    o = n_features + H  # the output's row in A, Z, G
    # Offsets in theta: W1 [n_features, H], b1, W2 [H, 1], b2.  Ints built by np.int64, not
    # literals, so _layer_grads gets the signature train_steps gives it (one compile).
    zero, one = np.int64(0), np.int64(1)
    w1, b1 = zero, n_features * H
    w2, b2 = b1 + H, b1 + 2 * H
    for k in range(n_features):  # gather the batch, so no shuffled copy of X is made
        for r in range(n):
            A[k, r] = X[order[start + r], k]
    for r in range(n):
        T[0, r] = Y[order[start + r], 0]
    # Forward (Dense.forward): Z1 = X @ W1 + b1, A1 = act(Z1); Z2 = A1 @ W2 + b2, P = sigmoid.
    # Each sum as kernels._weighted_sums adds it: the bias first, then the inputs in order.
    for j in range(H):
        bias = theta[b1 + j]
        for r in range(n):
            Z[n_features + j, r] = bias
        for i in range(n_features):
            w = theta[w1 + i * H + j]
            for r in range(n):
                Z[n_features + j, r] += A[i, r] * w
    activate(act, slope, Z, A, n_features, H, S, n)
    bias = theta[b2]
    for r in range(n):
        Z[o, r] = bias
    for i in range(H):
        w = theta[w2 + i]
        for r in range(n):
            Z[o, r] += A[n_features + i, r] * w
    for r in range(n):  # sigmoid through tanh, as pointwise.activate
        A[o, r] = f(0.5) * (f(1) + f(_tanh(f(0.5) * Z[o, r], single)))
    # Loss (losses.BinaryCrossentropy, fused with the sigmoid): dZ2 = (P - Y) * inside / n.
    eps = f(EPSILON)
    hi = f(1) - eps
    size = f(n)
    total, product = 0.0, 1.0
    for r in range(n):
        p, y = A[o, r], T[0, r]
        pc = _clip(p, eps, hi)
        S[0, r] = pc if y == 1 else f(1) - pc
        g = p - y
        G[o, r] = (g if p >= eps and p <= hi else g * f(0)) / size
    for r in range(n):
        y = T[0, r]
        if y == 1 or y == 0:
            total, product = _add_log(total, product, S[0, r])
        else:  # a soft label
            pc = _clip(A[o, r], eps, hi)
            total += y * np.log(pc) + (f(1) - y) * np.log(f(1) - pc)
    loss = -(total + np.log(product)) / n
    correct = 0
    for r in range(n):  # metrics.count_correct with one output
        correct += (A[o, r] > 0.5) == (T[0, r] > 0.5)
    # Backward (Dense.backward): the output layer's grads, dA1 = dZ2 @ W2.T, act', then layer 1.
    _layer_grads(A, n_features, H, G, o, grad, w2, one, b2, n)
    for j in range(H):
        w = theta[w2 + j]
        for r in range(n):
            G[n_features + j, r] = f(0) + G[o, r] * w
    activation_backward(act, slope, Z, A, G, n_features, H, S, n)
    _layer_grads(A, zero, n_features, G, n_features, grad, w1, H, b1, n)
    for p in range(theta.size):  # optimizers.SGD without momentum
        theta[p] -= lr * grad[p]
    return loss, correct


def fit_epochs(
    X, Y, orders, first, stop, batch_size, act, slope, theta, grad, lr, loss, correct, work
):
    """Train epochs ``first..stop``; epoch ``e`` takes the samples in order ``orders[e % rows]``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, 1)
        0/1 (or soft) labels, in ``X``'s dtype.
    orders : ndarray of shape (rows, n_samples), int64
        A ring of orders (``orders.order_blocks``); one row: the same for every epoch.
    first, stop : int
        The epochs to train.
    batch_size : int
    act : int
        The hidden layer's activation code (``codes``), ``slope`` its leaky slope.
    theta, grad : ndarray of shape (n_params,)
        ``W1, b1, W2, b2`` flat, as ``train_steps`` takes them; ``grad`` ends
        holding the last step's gradients.
    lr : float
        The learning rate, in ``X``'s dtype.
    loss : ndarray of shape (n_epochs,), float64
    correct : ndarray of shape (n_epochs,), int64
        Each epoch's sum of batch loss times batch size, and its correct count.
    work : tuple of ndarray
        The work buffers ``A``, ``Z``, ``G``, ``T``, ``S`` (``trainer.work_buffers``), made by the
        caller: the kernel allocates nothing, so it is compiled without numba's
        reference counting (``_nrt=False``), whose atomic updates around every
        array handed to a helper cost a quarter of the time.
    """
    A, Z, G, T, S = work
    n_samples = X.shape[0]
    for e in range(first, stop):
        loss_sum, right = 0.0, 0
        order = orders[e % orders.shape[0]]
        for start in range(0, n_samples, batch_size):
            n = min(batch_size, n_samples - start)
            batch_loss, c = _step(X, Y, order, start, n, act, slope, theta, grad, lr, A, Z, G, T, S)
            loss_sum += batch_loss * n
            right += c
        loss[e] = loss_sum
        correct[e] = right
