"""The compiled engine: ``fit``, ``evaluate`` and ``predict`` through numba kernels.

The kernels (``_kernels``) are the NumPy engine's math as loops over the batch:
the same activations, Keras's loss semantics (clip at 1e-7, fused sigmoid and
softmax gradients with their masks), the same optimizer rules, in the model's
dtype.  One call trains a range of mini-batch steps, so Python runs once per
epoch instead of once per layer and batch.  This module decides which models
the kernels support, packs the model for them and drives them from
``training.fit_loop``; the batches are those of the NumPy engine (the same
permutation of the model's generator), so the engines agree to rounding.

Shared state
------------
The kernels train flat buffers: the weights and the optimizer's state are
copied into them, and back into the ``Dense`` layers, their ``grads`` and the
optimizer (slots; ``iterations`` is counted on the optimizer), so the model
ends as the NumPy engine would leave it and the engines can take turns on one
model.  When something can look at the model between kernel calls (a
callback other than ``History`` and ``ProgbarLogger``, or validation), the
copies are made around every call, so it sees, and may change, the current
state.  Otherwise the buffers stay authoritative from the first call to
``close`` at the end of ``fit``: the copies cost about 8 us per epoch, 4% of
the article's run.

Callbacks with batch hooks
--------------------------
``ProgbarLogger`` only draws, so it gets one ``on_train_batch_begin`` /
``on_train_batch_end`` pair per chunk of batches (chunks of about 20 ms of
kernel time; the running logs are exact at the chunk's last batch).  Any other
callback that overrides a batch hook gets every batch, one kernel call per
batch: it sees the exact running logs and the weights after that batch, and
can stop training mid-epoch, as with the NumPy engine.

The on-disk numba cache is an optimisation only: see ``_Kernel``.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
from numba import njit

from .. import activations, losses, optimizers, regularizers
from ..callbacks import _BATCH_HOOKS, Callback, History, ProgbarLogger
from ..layers import Dense
from . import kernels as K

ACTIVATION_CODES = {
    activations.Linear: K.LINEAR,
    activations.ReLU: K.RELU,
    activations.LeakyReLU: K.LEAKY_RELU,
    activations.Tanh: K.TANH,
    activations.Sigmoid: K.SIGMOID,
    activations.Softmax: K.SOFTMAX,
}
LOSS_CODES = {
    losses.BinaryCrossentropy: K.BCE,
    losses.CategoricalCrossentropy: K.CCE,
    # Targets arrive one-hot from prepare_targets, so this is CCE in the kernel.
    losses.SparseCategoricalCrossentropy: K.CCE,
    losses.MeanSquaredError: K.MSE,
}
OPTIMIZER_CODES = {
    optimizers.SGD: K.SGD,
    optimizers.Adam: K.ADAM,
    optimizers.RMSprop: K.RMSPROP,
    optimizers.Adagrad: K.ADAGRAD,
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
# Callbacks that never look at the model (see "Shared state" above).
_BLIND_CALLBACKS = (History, ProgbarLogger)


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


class _Kernel:
    """A ``njit(cache=True)`` kernel that an unusable on-disk cache cannot break.

    numba recompiles by itself when the source changed (a stale cache), but a
    corrupted cache file makes the call raise.  Then a warning is issued, the
    cache index is emptied (the next process recompiles and rewrites it) and
    the call is retried once with a freshly compiled, uncached kernel; a
    failure after that is a real error and is raised.  Without any writable
    cache directory the kernel compiles in every process.

    The kernels use numba's "numpy" error model: a float division by zero gives
    inf or NaN, as in the NumPy engine, instead of raising ZeroDivisionError, so
    a kernel call never stops half-way, and loops with a division can vectorise.
    """

    options = {"error_model": "numpy"}

    def __init__(self, func):
        self.func = func
        self.recovered = False
        try:
            self.dispatcher = njit(cache=True, **self.options)(func)
        except RuntimeError as exc:  # numba found no directory to cache in
            warnings.warn(f"{exc}; compiling in every run", RuntimeWarning, stacklevel=2)
            self.dispatcher = njit(**self.options)(func)

    def __call__(self, *args):
        try:
            return self.dispatcher(*args)
        except Exception as exc:  # whatever a damaged cache file raises; retried once
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
                self.dispatcher._cache.flush()  # an empty index, rewritten by the next run
            except Exception:  # healing the cache is best effort
                pass
            self.dispatcher = njit(**self.options)(self.func)
            return self.dispatcher(*args)


train_steps = _Kernel(K.train_steps)
forward_rows = _Kernel(K.forward_rows)


def layout(model) -> tuple[np.ndarray, np.ndarray]:
    """``spec`` (int64) and ``lconst`` (float64), one row per layer, for the kernels.

    ``spec`` columns: fan-in, units, offsets of ``W`` and ``b`` in ``theta``, and
    the buffer rows of the layer's input and output; then the activation code.
    """
    layers = model.layers
    spec = np.zeros((len(layers), 7), np.int64)
    lconst = np.zeros((len(layers), 3), np.float64)
    offset, col = 0, 0
    for i, layer in enumerate(layers):
        fan_in, units = layer.W.shape
        spec[i] = (fan_in, units, offset, offset + fan_in * units, col, col + fan_in, 0)
        spec[i, K.ACT] = ACTIVATION_CODES[type(layer.activation)]
        offset += fan_in * units + units
        col += fan_in
        lconst[i, K.SLOPE] = getattr(layer.activation, "negative_slope", 0.0)
        reg = layer.kernel_regularizer
        if reg is not None:
            lconst[i, K.L1], lconst[i, K.L2] = reg.l1, reg.l2
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
    callbacks : CallbackList
    validating : bool
        Whether the model is evaluated on validation data after each epoch.

    Call ``close`` when training ends, even by an exception: it brings the
    model up to date.
    """

    chunk_seconds = 0.02  # kernel time between two progress-bar updates

    def __init__(self, model, X, Y, batch_size: int, callbacks, validating: bool):
        self.model = model
        # Whether the model's arrays must be current between kernel calls.
        self.shared = validating or any(
            type(cb) not in _BLIND_CALLBACKS for cb in callbacks.callbacks
        )
        self._loaded = False  # whether the buffers hold the model's state
        self._ahead = False  # whether the buffers hold steps the model has not got
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
        hp[K.LR] = opt.learning_rate
        hp[K.MOMENTUM] = getattr(opt, "momentum", 0.0)
        hp[K.NESTEROV] = getattr(opt, "nesterov", False)
        hp[K.BETA_1] = getattr(opt, "beta_1", 0.0)
        hp[K.BETA_2] = getattr(opt, "beta_2", 0.0)
        hp[K.EPS] = getattr(opt, "epsilon", 0.0)
        hp[K.RHO] = getattr(opt, "rho", 0.0)
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
        """Steps ``first..stop`` on the buffers, loaded from the model first if need be."""
        self._plan_copies()
        if not self._loaded:
            for array, view in self._copy_in:
                np.copyto(view, array)
            self._loaded = not self.shared  # if shared, a callback may change the model
        opt = self.model.optimizer
        iterations = opt.iterations
        # Counted before the call: an interrupt raised as the kernel returns
        # leaves the buffers and the count in step (the kernel never raises).
        opt.iterations += stop - first
        self._ahead = True
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
            iterations,
            loss_sum,
            correct,
        )
        if self.shared:
            self.close()
        return loss_sum, correct

    def close(self) -> None:
        """Copy the buffers' state to the model, if it is behind them."""
        if self._ahead:
            for array, view in self._copy_out:
                np.copyto(array, view)
            self._ahead = False

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
