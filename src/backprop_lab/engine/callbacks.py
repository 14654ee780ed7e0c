"""Callbacks: hooks the training loop calls at the start and end of training,
of each epoch and of each batch, as in Keras.

The training loop itself prints nothing; progress display is the
``ProgbarLogger`` callback.
"""

from __future__ import annotations

import math
import sys

import numpy as np

from ._checks import lookup
from .progress import Progbar


class Callback:
    """Base class.  Override any hook; ``self.model`` is set before training."""

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


def overrides_batch_hooks(callback: Callback, base: type = Callback) -> bool:
    """Whether ``callback``'s class replaces a batch hook of ``base``."""
    return any(getattr(type(callback), h) is not getattr(base, h) for h in BATCH_HOOKS)


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
    engine need not bring the model's arrays up to date for them.
    """
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

        def call(*args, **kwargs):
            for cb in self.callbacks:
                getattr(cb, hook)(*args, **kwargs)

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


class EarlyStopping(Callback):
    """Stops training when ``monitor`` has not improved for ``patience`` epochs.

    Parameters
    ----------
    monitor : str
        A key of the epoch logs, e.g. ``"val_loss"``.
    min_delta : float
        Smallest change that counts as an improvement.
    patience : int
        Epochs without improvement before stopping.
    mode : {"auto", "min", "max"}
        Whether smaller or larger is better; ``auto`` takes ``max`` for
        accuracies and ``min`` otherwise.
    restore_best_weights : bool
        Put back the weights of the best epoch when training ends, stopped
        early or not (as Keras 3 does).
    """

    def __init__(
        self,
        monitor="val_loss",
        min_delta=0.0,
        patience=0,
        mode="auto",
        restore_best_weights=False,
    ):
        super().__init__()
        # lookup ignores case, so keep its canonical answer: "MIN" must act as "min".
        mode = lookup("mode", mode, {"auto": "auto", "min": "min", "max": "max"})
        self.monitor = monitor
        self.min_delta = abs(float(min_delta))
        self.patience = int(patience)
        if mode == "auto":
            mode = "max" if "acc" in monitor else "min"
        self.mode = mode
        self.restore_best_weights = restore_best_weights
        self.stopped_epoch = 0

    def _improved(self, value) -> bool:
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = np.inf if self.mode == "min" else -np.inf
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor not in (logs or {}):
            valid = ", ".join(sorted(logs or {}))
            raise ValueError(
                f"EarlyStopping monitor {self.monitor!r} is not in the epoch logs; "
                f"available: {valid}"
            )
        value = logs[self.monitor]
        self.wait += 1
        if self._improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        # Keras 3 restores the best weights at the end of every run, whether or
        # not it stopped early.
        if self.restore_best_weights and self.best_weights is not None:
            self.model.set_weights(self.best_weights)


class TerminateOnNaN(Callback):
    """Stops training as soon as a batch loss is NaN or infinite."""

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            self.model.stop_training = True
