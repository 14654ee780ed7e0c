"""The compiled engine: ``fit``, ``evaluate`` and ``predict`` through numba kernels.

The kernels (``kernels`` and ``pointwise``) are the NumPy engine's math as
loops over the batch: the same activations, Keras's loss semantics (clip at
1e-7, fused sigmoid and softmax gradients with their masks), the same
optimizer rules, in the model's dtype.  One call trains a range of mini-batch
steps, so Python runs once per epoch instead of once per layer and batch.
This module decides which models the kernels support, packs the model for
them and drives them as ``training.fit_loop``'s trainer (``CompiledTrainer``);
the batches are those of the NumPy engine (the same permutation of the
model's generator), so the engines agree to rounding.  It reads the model only
through public interfaces: the layers' arrays, ``Optimizer.slots`` and
``hyperparameters()``, and the callbacks' ``looks_at_model`` and
``needs_every_batch``.  When only a ``History`` listens and nothing is
validated, ``fit_loop`` asks for all the epochs at once (``train_epochs``):
the permutations are drawn by a compiled copy of NumPy's (``pcg64``), and the
article's family of models trains in one call of ``whole_fit.fit_epochs``.

The article's family also has C kernels (``whole_fit.c`` through ``native``,
``native_kernels``): where a C compiler has built them, that family trains and
predicts through them, bit for bit as through numba, and numba is never
imported; the numba kernels (``_Kernel``) import numba at their first call.

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
callback that overrides a batch hook says which batches it must see
(``Callback.batches_wanted``; by default every one): a kernel call ends at
each of them (and at chunk ends), so there it sees the exact running logs
and the weights after that batch, and can stop training mid-epoch, as with
the NumPy engine.  The recorders of ``--animate`` want only their snapshot
steps, so the steps between two snapshots run in one call.

The on-disk numba cache is an optimisation only: see ``_Kernel``.
"""

from __future__ import annotations

import functools
import importlib
import os
import threading
import time
import warnings
from pathlib import Path

import numpy as np

from .. import activations, losses, optimizers, regularizers
from ..callbacks import batches_wanted, looks_at_model, needs_every_batch
from ..layers import Dense
from . import codes, native
from .orders import compiled_draws, order_blocks

ACTIVATION_CODES = {
    activations.Linear: codes.LINEAR,
    activations.ReLU: codes.RELU,
    activations.LeakyReLU: codes.LEAKY_RELU,
    activations.Tanh: codes.TANH,
    activations.Sigmoid: codes.SIGMOID,
    activations.Softmax: codes.SOFTMAX,
}
LOSS_CODES = {
    losses.BinaryCrossentropy: codes.BCE,
    losses.CategoricalCrossentropy: codes.CCE,
    # Targets arrive one-hot from prepare_targets, so this is CCE in the kernel.
    losses.SparseCategoricalCrossentropy: codes.CCE,
    losses.MeanSquaredError: codes.MSE,
}
OPTIMIZER_CODES = {
    optimizers.SGD: codes.SGD,
    optimizers.Adam: codes.ADAM,
    optimizers.RMSprop: codes.RMSPROP,
    optimizers.Adagrad: codes.ADAGRAD,
}
# Where each optimizer hyper-parameter goes in the kernels' ``hp`` vector; the
# optimizer's slots (``slot_names``, at most two) are ``slot_a`` and ``slot_b``.
HYPERPARAMETER_INDEX = {
    "learning_rate": codes.LR,
    "momentum": codes.MOMENTUM,
    "nesterov": codes.NESTEROV,
    "beta_1": codes.BETA_1,
    "beta_2": codes.BETA_2,
    "epsilon": codes.EPS,
    "rho": codes.RHO,
    "initial_accumulator_value": None,  # only the slot's start, set by Optimizer.build
}
REGULARIZER_TYPES = (regularizers.Regularizer, regularizers.L1, regularizers.L2, regularizers.L1L2)
_DENSE_MATH = ("apply", "forward", "backward", "backward_z", "penalty")


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
            name = type(layer.activation).__name__
            return f"{what} has the activation {name} (no compiled kernel)"
        reg = layer.kernel_regularizer
        if reg is not None and type(reg) not in REGULARIZER_TYPES:
            return f"{what} has the custom regularizer {type(reg).__name__}"
        if layer.dtype is not None and layer.dtype != dtype:
            return f"{what} has dtype {layer.dtype}, the model {dtype} (mixed precision)"
        if layer.options():
            return f"{what} has {_listed(layer.options())}"
    if training:
        if type(model.loss) not in LOSS_CODES:
            return f"the loss {type(model.loss).__name__} (no compiled kernel)"
        if model.loss.options():
            return f"the loss has {_listed(model.loss.options())}"
        if type(model.optimizer) not in OPTIMIZER_CODES:
            return f"the optimizer {type(model.optimizer).__name__} (no compiled kernel)"
        if model.optimizer.options():
            return f"the optimizer has {_listed(model.optimizer.options())}"
    return None


def _listed(options: dict) -> str:
    """``{"from_logits": True}`` as ``from_logits=True``."""
    return ", ".join(f"{k}={v!r}" for k, v in options.items())


def _cache_failure(exc: BaseException) -> str | None:
    """Where in numba's on-disk cache ``exc`` was raised (a function name), or None.

    Only an exception raised inside numba's cache module while loading counts:
    a corrupted index or data file (unpickling errors of any type).
    """
    tb, where = exc.__traceback__, None
    while tb is not None:
        if tb.tb_frame.f_globals.get("__name__") == "numba.core.caching":
            where = tb.tb_frame.f_code.co_name
        tb = tb.tb_next
    return where


def _with_slp(compile_signature):
    """``compile_signature`` run with LLVM's SLP vectorizer on, for this compilation only.

    ``train_steps`` keeps eight running sums per batch sum (``kernels._lane_sum``):
    SLP puts them in vector registers, which makes the backward pass several times
    faster, and changes no result (it never reorders floating-point operations).
    numba leaves SLP off by default (``NUMBA_SLP_VECTORIZE``) since LLVM once
    miscompiled with it; the tests check these kernels against the C kernels bit
    for bit and against the NumPy engine to rounding.  The switch is global, so it is
    flipped under numba's compiler lock, which every compilation holds, and
    restored at once: other numba code in the process compiles as before.
    """
    from numba.core import config
    from numba.core.compiler_lock import global_compiler_lock

    @functools.wraps(compile_signature)
    def compile_with_slp(sig):
        with global_compiler_lock:
            saved, config.SLP_VECTORIZE = config.SLP_VECTORIZE, 1
            try:
                return compile_signature(sig)
            finally:
                config.SLP_VECTORIZE = saved

    return compile_with_slp


class _Kernel:
    """A ``njit(cache=True)`` kernel that a damaged on-disk cache cannot break.

    numba recompiles by itself when the source changed (a stale cache), but a
    corrupted cache file makes the call raise while numba loads it.  Only then
    (the exception comes from numba's cache module) is this kernel's cache
    removed, with a warning that says which error and where, and the call
    retried once with a freshly compiled kernel, which writes a new cache.  Any
    other exception is the caller's.  Without a writable cache directory the
    kernel compiles in every process.

    The kernels use numba's "numpy" error model: a float division by zero gives
    inf or NaN, as in the NumPy engine, instead of raising ZeroDivisionError, so
    a kernel call never stops half-way, and loops with a division can vectorise.
    They release the GIL while they run (``nogil``), so models trained in
    several threads, such as the playground's sessions, train in parallel.
    """

    options = {"error_model": "numpy", "nogil": True}

    def __init__(self, where: str, slp: bool = False, **options):
        self.module, self.name = where.split(".")
        self.slp = slp  # compile with LLVM's SLP vectorizer (``_with_slp``)
        self.options = {**self.options, **options}
        self._dispatcher = None
        self._lock = threading.Lock()

    @property
    def func(self):
        """The Python function (importing its module imports numba)."""
        return getattr(importlib.import_module(f"{__package__}.{self.module}"), self.name)

    @property
    def dispatcher(self):
        """numba's dispatcher, made at the first use: a run that never calls this
        kernel never imports numba for it."""
        with self._lock:
            if self._dispatcher is None:
                self._dispatcher = self._compile()
            return self._dispatcher

    def _compile(self):
        from numba import njit

        try:
            dispatcher = njit(cache=True, **self.options)(self.func)
        except RuntimeError as exc:  # numba found no directory to cache in
            warnings.warn(f"{exc}; compiling in every run", RuntimeWarning, stacklevel=3)
            dispatcher = njit(**self.options)(self.func)
        if self.slp:
            dispatcher.compile = _with_slp(dispatcher.compile)
        return dispatcher

    def cache_files(self) -> list[Path]:
        """This kernel's files in numba's cache folder (index ``.nbi``, data ``.nbc``)."""
        folder = Path(self.dispatcher.stats.cache_path)
        stem = Path(self.func.__code__.co_filename).stem
        return sorted(folder.glob(f"{stem}.{self.func.__name__}-*.nb[ci]"))

    def __call__(self, *args):
        try:
            return self.dispatcher(*args)
        except Exception as exc:
            where = _cache_failure(exc)
            if where is None:
                raise
            removed = self.cache_files()
            for path in removed:
                path.unlink(missing_ok=True)
            warnings.warn(
                f"numba cache for {self.func.__name__} is unusable ({type(exc).__name__} "
                f"in {where}: {exc}); removed {len(removed)} cache file(s) and recompiled",
                RuntimeWarning,
                stacklevel=2,
            )
            with self._lock:
                self._dispatcher = self._compile()
            return self._dispatcher(*args)


# SLP vectorises train_steps's batch sums (its backward pass several times faster); the
# whole-fit kernel (the article's family without a C compiler) measured no faster with it
# (15.9-18.9 ms against 16.6-21.6 ms), so the other kernels keep numba's default.
train_steps = _Kernel("kernels.train_steps", slp=True, _nrt=False)
forward_rows = _Kernel("kernels.forward_rows")
fit_epochs = _Kernel("whole_fit.fit_epochs", _nrt=False)
permutations = _Kernel("pcg64.permutations", _nrt=False)


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
        spec[i, codes.ACT] = ACTIVATION_CODES[type(layer.activation)]
        offset += fan_in * units + units
        col += fan_in
        lconst[i, codes.SLOPE] = getattr(layer.activation, "negative_slope", 0.0)
        reg = layer.kernel_regularizer
        if reg is not None:
            lconst[i, codes.L1], lconst[i, codes.L2] = reg.l1, reg.l2
    return spec, lconst


def work_buffers(spec, batch_size: int, dtype) -> tuple:
    """The training kernels' work buffers for the layer table ``spec``.

    ``A``, ``Z``, ``G`` (rows ``[x | a1 | a2 | ...]``), the batch's targets ``T``
    (one row per output) and the per-sample scratch ``S`` (softmax, CCE), one
    column per sample of a batch.
    """
    n_out, c_out = spec[-1, codes.UNITS], spec[-1, codes.COL_OUT]
    A, Z, G = (np.empty((c_out + n_out, batch_size), dtype) for _ in range(3))
    return A, Z, G, np.empty((n_out, batch_size), dtype), np.empty((2, batch_size), dtype)


def native_kernels(model, *, training: bool = True):
    """The C translation of the article's family (``native``) for ``model``, or None.

    None when ``model`` is outside the family (``whole_fit_reason``; for
    inference only its layers count) or when no C compiler could build the
    kernels (``native.reason`` says why); numba then runs the model, with the
    same results bit for bit.
    """
    if whole_fit_reason(model, training=training) is not None:
        return None
    return native.load(model.dtype)


def predict(model, X: np.ndarray) -> np.ndarray:
    """``model.apply(X)`` through the compiled kernel; ``X`` in the model's dtype."""
    theta = np.concatenate(model.params, axis=None)
    fast = native_kernels(model, training=False)
    if fast is not None:
        hidden = model.layers[0]
        act = ACTIVATION_CODES[type(hidden.activation)]
        slope = getattr(hidden.activation, "negative_slope", 0.0)
        return fast.forward(X, theta, hidden.W.shape[1], act, slope)
    spec, lconst = layout(model)
    return forward_rows(_unless_read_only(X), spec, lconst, theta)


def _unless_read_only(array: np.ndarray) -> np.ndarray:
    """``array``, or a copy of it if it is read-only (a read-only memmap, say): numba
    types read-only arrays apart, so each kernel would compile again (10 s or more)
    for an array that no kernel writes."""
    return array if array.flags.writeable else array.copy()


def hyperparameter_vector(optimizer) -> np.ndarray:
    """The kernels' ``hp`` (float64): ``optimizer.hyperparameters()`` by ``codes`` index.

    A name this table does not know is an error, never silently 0.
    """
    hp = np.zeros(7)
    for name, value in optimizer.hyperparameters().items():
        if name not in HYPERPARAMETER_INDEX:
            raise ValueError(
                f"the compiled engine does not know {type(optimizer).__name__}'s "
                f"hyper-parameter {name!r}"
            )
        if HYPERPARAMETER_INDEX[name] is not None:
            hp[HYPERPARAMETER_INDEX[name]] = value
    return hp


def whole_fit_reason(model, *, training: bool = True) -> str | None:
    """Why ``whole_fit.fit_epochs`` cannot train ``model`` (already compiled-supported), or None.

    It trains ``Dense(H, act) -> Dense(1, "sigmoid")`` with the fused binary
    cross-entropy and plain SGD, without regularizers; ``act`` not softmax.
    With ``training=False`` only the layers count (the C ``forward``).
    """
    layers = model.layers
    if len(layers) != 2 or layers[1].W.shape[1] != 1:
        return "not one hidden layer and one output"
    if type(layers[0].activation) is activations.Softmax:
        return "a softmax hidden layer"
    if type(layers[1].activation) is not activations.Sigmoid:
        return "the output is not a sigmoid"
    if not training:
        return None
    if type(model.loss) is not losses.BinaryCrossentropy:
        return "the loss is not binary cross-entropy"
    if type(model.optimizer) is not optimizers.SGD or model.optimizer.momentum != 0:
        return "the optimizer is not plain SGD"
    if any(layer.kernel_regularizer is not None for layer in layers):
        return "a regularizer"
    return None


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
        self.shared = validating or any(looks_at_model(cb) for cb in callbacks.callbacks)
        self._loaded = False  # whether the buffers hold the model's state
        self._ahead = False  # whether the buffers hold steps the model has not got
        self.X = _unless_read_only(np.ascontiguousarray(X))
        self.Y = _unless_read_only(np.ascontiguousarray(Y, dtype=self.X.dtype))
        self.batch_size = batch_size
        self.steps = -(-len(X) // batch_size)
        self.spec, self.lconst = layout(model)
        self.work = work_buffers(self.spec, min(batch_size, len(X)), self.X.dtype)
        self.native = native_kernels(model)
        self._act, self._slope = int(self.spec[0, codes.ACT]), float(self.lconst[0, codes.SLOPE])
        opt = model.optimizer
        self.opt_code = OPTIMIZER_CODES[type(opt)]
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

    def _views(self, arrays, buffer):
        return [(a, buffer[lo:hi].reshape(a.shape)) for a, (lo, hi) in zip(arrays, self._bounds)]

    def _plan_copies(self) -> None:
        """(model array, view of a flat buffer) pairs to copy in before a call and out after."""
        model, opt = self.model, self.model.optimizer
        if opt.iterations == 0 or not opt.built:
            opt.build(model.params)  # as Optimizer.step does on its first step
        slot_lists = [opt.slots[name] for name in opt.slot_names]
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
        if self.native is not None:  # the same steps, in C (only plain SGD: lr is all it needs)
            lr = self.theta.dtype.type(hyperparameter_vector(opt)[codes.LR])
            loss_sum, correct = self.native.train_range(
                self.X, self.Y, order, self.batch_size, first, stop, self._act, self._slope,
                self.theta, self.grad, lr, loss_sum, correct, self.work,
            )  # fmt: skip
        else:
            loss_sum, correct = train_steps(
                self.X, self.Y, order, self.batch_size, first, stop, self.spec, self.lconst,
                self.theta, self.grad, self.slot_a, self.slot_b, self.loss_code, self.fused,
                self.opt_code, hyperparameter_vector(opt), iterations, loss_sum, correct,
                self.work,
            )  # fmt: skip
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
        metrics = self.model.compile_metrics if self.model.compile_metrics else None
        hooks = callbacks.wants_batches
        # The batches whose end a callback must see (a progress bar: none but the
        # last): a kernel call ends at each of them, or sooner, at a chunk's end.
        exact = [cb for cb in callbacks.callbacks if needs_every_batch(cb)] if hooks else []
        wanted = batches_wanted(exact, self.steps) if exact else []
        stops, next_stop = iter(range(self.steps) if wanted is None else wanted), -1
        loss_sum, correct, batch, seen = 0.0, 0, 0, 0

        def logs():
            return _logs(metrics, loss_sum, correct, seen)

        while batch < self.steps:
            if not hooks:  # the whole epoch in one call
                loss_sum, correct = self._run(order, batch, self.steps, loss_sum, correct)
                seen, batch = len(self.X), self.steps
                continue
            while next_stop < batch:
                next_stop = next(stops, self.steps - 1)
            stop = min(next_stop + 1, batch + self.chunk)
            callbacks.on_train_batch_begin(batch)
            began = time.perf_counter()
            loss_sum, correct = self._run(order, batch, stop, loss_sum, correct)
            seen = min(stop * self.batch_size, len(self.X))
            batch = stop
            elapsed = time.perf_counter() - began  # aim at chunk_seconds per call
            if elapsed < self.chunk_seconds / 2:
                self.chunk = min(2 * self.chunk, self.steps)
            elif elapsed > 2 * self.chunk_seconds:
                self.chunk = max(1, self.chunk // 2)
            callbacks.on_train_batch_end(stop - 1, logs())
            if self.model.stop_training:  # as the NumPy loop: end the epoch now
                break
        return logs()

    def train_epochs(self, epochs: int, rng):
        """All ``epochs`` with no callback between them; yields ``(first, stop, columns)``
        for each block of epochs trained, ``columns[name][e - first]`` being epoch
        ``e``'s log ``name`` (``train_epoch``'s logs, as columns).

        ``fit_loop`` calls this instead of ``train_epoch`` when no callback can
        act between epochs (only ``History``, no validation).  Epoch ``e``
        takes the samples in the order ``rng.permutation(n_samples)`` (drawn
        beforehand, a block of epochs at a time: ``orders.order_blocks``), or as
        stored if ``rng`` is None, so the weights, logs and ``rng`` end exactly as
        after ``epochs`` calls of ``train_epoch``.  A model that
        ``whole_fit_reason`` accepts trains in one ``fit_epochs`` call per block
        of epochs (``orders.ROWS_CAP``: the article's 50 epochs are one block);
        any other, one ``train_steps`` call per epoch.  The logs of a block come
        as soon as it is trained, so a fit interrupted part-way (Ctrl-C, which
        Python raises between kernel calls) keeps the epochs of the blocks
        before in ``History``, and ``rng`` has drawn exactly the orders of the
        epochs trained.
        """
        metrics = self.model.compile_metrics if self.model.compile_metrics else None
        n = len(self.X)
        loss_sum, correct = np.zeros(epochs), np.zeros(epochs, np.int64)
        # With numba, one epoch is one kernel call either way: it stays with the generic
        # kernel, the one that one-epoch callers (the playground's sessions) warm up.
        # The C kernels are built together, so they take every whole fit, and draw
        # the orders too.
        fast = self.native
        whole = fast is not None or (epochs > 1 and whole_fit_reason(self.model) is None)
        kernel = fit_epochs if fast is None else fast.fit_epochs
        self._plan_copies()
        if not self._loaded:
            for array, view in self._copy_in:
                np.copyto(view, array)
            self._loaded = True  # train_epochs runs only when nothing else looks
        opt = self.model.optimizer
        lr = self.theta.dtype.type(hyperparameter_vector(opt)[codes.LR])

        def train(first, stop, orders, state=None):
            """Epochs first..stop in one kernel call; with ``state``, the C kernels
            draw their orders in the same call (``native.fit_shuffled``: on a second
            thread where there is a second core)."""
            opt.iterations += (stop - first) * self.steps  # before the call, as _run
            self._ahead = True
            args = (
                self.X, self.Y, orders, first, stop, self.batch_size, self._act, self._slope,
                self.theta, self.grad, lr, loss_sum, correct, self.work,
            )  # fmt: skip
            if state is None:
                kernel(*args)
            else:
                fast.fit_shuffled(state, *args, threads=_cores())

        def draw_and_train(state, n_samples, first, stop, orders):
            train(first, stop, orders, state)

        fused = fast is not None and compiled_draws(rng, n)
        draw = draw_and_train if fused else permutations  # else: numba's, or NumPy's
        for first, stop, orders in order_blocks(rng, n, epochs, draw):
            if not whole:
                for e in range(first, stop):
                    order = orders[e % len(orders)]
                    loss_sum[e], correct[e] = self._run(order, 0, self.steps, 0.0, 0)
            elif not fused:
                train(first, stop, orders)
            yield first, stop, _columns(metrics, loss_sum[first:stop], correct[first:stop], n)


def _columns(metrics, loss_sum: np.ndarray, correct: np.ndarray, seen: int) -> dict:
    """``_logs`` of several epochs as columns (lists of floats, keys in ``_logs``'s
    order); the metrics are left at the last epoch's counts, as ``_logs`` leaves them."""
    logs = _logs(metrics, float(loss_sum[-1]), int(correct[-1]), seen)
    accuracy = (correct / seen).tolist()
    return {k: (loss_sum / seen).tolist() if k == "loss" else accuracy for k in logs}


@functools.cache
def _cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _logs(metrics, loss_sum: float, correct: int, seen: int) -> dict:
    """An epoch's logs from the kernel's totals; the kernel counts the accuracy, and
    every metric is one (``engines.select``)."""
    if metrics is None:
        return {"loss": loss_sum / seen}
    out = {"loss": loss_sum / seen, **metrics.set_counts(correct, seen)}
    return dict(sorted(out.items()))  # Keras hands callbacks sorted logs
