"""Callbacks: hooks the training loop calls at the start and end of training,
of each epoch and of each batch, as in Keras.

The training loop itself prints nothing; progress display is the
``ProgbarLogger`` callback.
"""

from __future__ import annotations

import math
import sys
import warnings

from ._checks import lookup
from .progress import Progbar


class Callback:
    """Base class.  Override any hook; ``self.model`` is set before training.

    A callback that reads only the logs (it may set ``model.stop_training``, never
    reads or changes the weights) can say ``reads_only_logs = True``: the compiled
    engine then need not copy the weights out to the model after every epoch.
    """

    def __init__(self):
        self.model = None
        self.params: dict = {}

    def set_model(self, model) -> None:
        self.model = model

    def set_params(self, params: dict) -> None:
        self.params = params

    def on_train_begin(self, logs=None): ...
    def on_train_end(self, logs=None): ...
    def on_epoch_begin(self, epoch, logs=None): ...
    def on_epoch_end(self, epoch, logs=None): ...
    def on_train_batch_begin(self, batch, logs=None): ...
    def on_train_batch_end(self, batch, logs=None): ...
    # fit calls these two around each epoch's validation.  The other evaluate/predict
    # hooks are defined so subclasses may call super(); fit refuses a callback that
    # overrides them (see ``UNCALLED_HOOKS``): evaluation runs whole arrays, not batches.
    def on_test_begin(self, logs=None): ...
    def on_test_end(self, logs=None): ...
    def on_predict_begin(self, logs=None): ...
    def on_predict_end(self, logs=None): ...
    def on_test_batch_begin(self, batch, logs=None): ...
    def on_test_batch_end(self, batch, logs=None): ...
    def on_predict_batch_begin(self, batch, logs=None): ...
    def on_predict_batch_end(self, batch, logs=None): ...

    def batches_wanted(self, steps: int):
        """The batches of the current epoch (0-based, sorted) after which this
        callback must see the exact model and logs, or None for every batch.

        Asked at the start of each epoch of ``steps`` batches, of callbacks
        with batch hooks.  An engine may run the other batches without stopping:
        the compiled engine then calls the hooks once per run of batches, with
        the logs of its last batch.
        """
        return None


BATCH_HOOKS = ("on_train_batch_begin", "on_train_batch_end")
UNCALLED_HOOKS = (
    "on_predict_begin",
    "on_predict_end",
    "on_test_batch_begin",
    "on_test_batch_end",
    "on_predict_batch_begin",
    "on_predict_batch_end",
)


def refuse_uncalled_hooks(callbacks) -> None:
    """A callback overriding a hook backprop_lab never calls fails now, not silently."""
    for callback in callbacks:
        for hook in UNCALLED_HOOKS:
            if getattr(type(callback), hook) is not getattr(Callback, hook):
                raise NotImplementedError(
                    f"{type(callback).__name__}.{hook} is not supported by backprop_lab: "
                    "evaluation and prediction run on whole arrays (fit calls on_test_begin "
                    "and on_test_end around each validation)"
                )


def overrides_batch_hooks(callback: Callback, base: type = Callback) -> bool:
    """Whether ``callback``'s class, or the object itself (``LambdaCallback``),
    replaces a batch hook of ``base``."""
    return any(
        h in vars(callback) or getattr(type(callback), h) is not getattr(base, h)
        for h in BATCH_HOOKS
    )


def needs_every_batch(callback: Callback) -> bool:
    """Whether ``callback`` must see every batch with exact running logs.

    A ``ProgbarLogger`` only draws, so an engine may call its batch hooks once
    per chunk of batches; any other callback with batch hooks (or a progress
    bar whose subclass changes them) gets every batch.
    """
    base = ProgbarLogger if isinstance(callback, ProgbarLogger) else Callback
    return overrides_batch_hooks(callback, base)


def batches_wanted(callbacks, steps: int):
    """``batches_wanted(steps)`` of all ``callbacks``: sorted indices, or None for every batch."""
    wanted = set()
    for callback in callbacks:
        batches = callback.batches_wanted(steps)
        if batches is None:
            return None
        wanted.update(int(b) for b in batches if 0 <= b < steps)
    return sorted(wanted)


def looks_at_model(callback: Callback) -> bool:
    """Whether ``callback`` may read or change the model during training.

    ``History`` and ``ProgbarLogger`` only record and show the logs, so an
    engine need not bring the model's arrays up to date for them; nor for a
    callback that says ``reads_only_logs = True`` (it reads the logs, and may
    set ``model.stop_training``, but never touches the weights).
    """
    if getattr(callback, "reads_only_logs", False):
        return False
    return type(callback) not in (History, ProgbarLogger)


class CallbackList:
    """Calls a hook on every callback; knows whether any callback wants batch hooks."""

    def __init__(self, callbacks, model, params: dict):
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            cb.set_model(model)
            cb.set_params(params)
        # Skipping batch hooks nobody overrides keeps the hot loop lean.
        self.wants_batches = any(overrides_batch_hooks(cb) for cb in self.callbacks)

    def __getattr__(self, hook):
        if not hook.startswith("on_"):
            raise AttributeError(hook)

        # Keras hands every hook a logs dict, {} when there is nothing to log.
        n_args = int(hook.endswith(("epoch_begin", "epoch_end", "batch_begin", "batch_end")))
        methods = [getattr(cb, hook) for cb in self.callbacks]

        def call(*args, **kwargs):
            if len(args) == n_args and "logs" not in kwargs:
                args = (*args, {})
            for method in methods:
                method(*args, **kwargs)

        setattr(self, hook, call)  # found directly from now on: the hot loop calls it often
        return call


class History(Callback):
    """Records the logs of every epoch in ``history`` (``{"loss": [...], ...}``)."""

    def __init__(self):
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs=None):
        self.history = {}
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)

    def record(self, epochs: range, columns: dict) -> None:
        """``on_epoch_end`` of several epochs at once: ``columns[k][i]`` is log ``k`` of
        epoch ``epochs[i]``."""
        self.epoch.extend(epochs)
        for k, v in columns.items():
            self.history.setdefault(k, []).extend(v)


class ProgbarLogger(Callback):
    """Shows progress: a bar on a terminal, one line per epoch otherwise.

    Parameters
    ----------
    verbose : int
        1: a bar on a terminal, else one line per epoch; 2: one line per epoch.
    stream : file, optional
        Where to write; ``sys.stdout`` by default.
    """

    def __init__(self, verbose: int = 1, stream=None):
        super().__init__()
        self.verbose = verbose
        self.stream = stream

    def _stream(self):
        return self.stream if self.stream is not None else sys.stdout

    def on_epoch_begin(self, epoch, logs=None):
        stream = self._stream()
        interactive = self.verbose == 1 and stream.isatty()
        epochs = self.params.get("epochs", 1)
        if interactive:
            stream.write(f"Epoch {epoch + 1}/{epochs}\n")
        self.bar = Progbar(
            self.params.get("steps", 1),
            stream=stream,
            interactive=interactive,
            prefix=f"Epoch {epoch + 1}/{epochs}",
        )

    def on_train_batch_end(self, batch, logs=None):
        self.bar.update(batch + 1, logs)

    def on_epoch_end(self, epoch, logs=None):
        self.bar.update(self.params.get("steps", 1), logs, finalize=True)


class MonitorCallback(Callback):
    """Base of callbacks that watch one value of the epoch logs (Keras's ``MonitorCallback``).

    ``mode="auto"`` asks the model: ``loss`` and ``val_loss`` are minimised, and a
    compiled metric maximised or minimised by its kind (accuracy, AUC, precision
    up; errors down); a value it cannot tell raises a ValueError asking for a mode.
    """

    def __init__(self, monitor="val_loss", mode="auto", baseline=None, min_delta=0):
        super().__init__()
        # lookup ignores case, so keep its canonical answer: "MIN" must act as "min".
        self.mode = lookup("mode", mode, {"auto": "auto", "min": "min", "max": "max"})
        self.monitor = monitor
        self.best = baseline
        self.min_delta = abs(float(min_delta))
        self.monitor_op = None

    def _set_monitor_op(self) -> None:
        mode = self.mode
        if mode == "auto":
            name = self.monitor.removeprefix("val_")
            metrics = getattr(self.model, "compile_metrics", None)
            direction = metrics.direction(name) if metrics else None
            if direction is None and name == "loss":
                direction = "down"
            if direction is None:
                raise ValueError(
                    f"{type(self).__name__} callback received monitor={self.monitor}, but "
                    "backprop_lab cannot tell whether that metric should be maximized or "
                    "minimized; pass mode='max' or mode='min'"
                )
            mode = "max" if direction == "up" else "min"
        self.monitor_op = mode
        # Keras compares value - min_delta against the best, min_delta negated for "min".
        self._delta = -self.min_delta if mode == "min" else self.min_delta

    def _is_improvement(self, value, reference) -> bool:
        if reference is None:
            return True
        if self.monitor_op == "min":
            return value - self._delta < reference
        return value - self._delta > reference

    def _monitor_value(self, logs, what: str):
        """``logs[monitor]``, or None with Keras's warning when it is missing."""
        value = (logs or {}).get(self.monitor)
        if value is None:
            warnings.warn(
                f"{what} conditioned on metric `{self.monitor}` which is not available. "
                f"Available metrics are: {','.join(logs or {})}",
                stacklevel=3,
            )
        return value


class EarlyStopping(MonitorCallback):
    """Stops training when ``monitor`` has not improved for ``patience`` epochs (Keras 3).

    Parameters
    ----------
    monitor : str
        A key of the epoch logs, e.g. ``"val_loss"``; a missing key warns, as in Keras.
    min_delta : float
        Smallest change that counts as an improvement.
    patience : int
        Epochs without improvement before stopping.
    verbose : int
        1 prints the epoch it stopped at and the restoring of weights.
    mode : {"auto", "min", "max"}
        Whether smaller or larger is better (``auto``: see ``MonitorCallback``).
    baseline : float, optional
        The patience counter restarts only on values better than this too.
    restore_best_weights : bool
        Put back the weights of the best epoch when training ends, stopped
        early or not (as Keras 3 does).
    start_from_epoch : int
        Epochs to wait before watching at all.
    """

    def __init__(
        self,
        monitor="val_loss",
        min_delta=0.0,
        patience=0,
        verbose=0,
        mode="auto",
        baseline=None,
        restore_best_weights=False,
        start_from_epoch=0,
    ):
        super().__init__(monitor, mode, min_delta=min_delta)
        self.patience = int(patience)
        self.verbose = verbose
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = int(start_from_epoch)
        self.stopped_epoch = 0
        self.wait = 0
        self.best_weights = None

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        current = self._monitor_value(logs, "Early stopping")
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights, self.best_epoch = self.model.get_weights(), epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            # Only a value that also beats the baseline restarts the patience.
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        # Keras 3 restores the best weights at the end of every run, whether or
        # not it stopped early.
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                best = self.best_epoch + 1
                print(f"Restoring model weights from the end of the best epoch: {best}.")
            self.model.set_weights(self.best_weights)


class TerminateOnNaN(Callback):
    """Stops training as soon as a batch loss is NaN or infinite."""

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            self.model.stop_training = True


class LambdaCallback(Callback):
    """A callback made of functions, as Keras's: ``on_epoch_end=lambda epoch, logs: ...``.

    Each function given replaces that hook on this object; batch functions make
    the engine stop at every batch for it.
    """

    def __init__(
        self,
        on_epoch_begin=None,
        on_epoch_end=None,
        on_train_begin=None,
        on_train_end=None,
        on_train_batch_begin=None,
        on_train_batch_end=None,
    ):
        super().__init__()
        hooks = {
            "on_epoch_begin": on_epoch_begin,
            "on_epoch_end": on_epoch_end,
            "on_train_begin": on_train_begin,
            "on_train_end": on_train_end,
            "on_train_batch_begin": on_train_batch_begin,
            "on_train_batch_end": on_train_batch_end,
        }
        for hook, fn in hooks.items():
            if fn is not None:
                setattr(self, hook, fn)
