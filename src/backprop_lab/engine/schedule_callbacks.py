"""Callbacks that change the learning rate between epochs, as Keras's.

Both set ``optimizer.learning_rate``, which the next step of either engine
reads (the compiled engine reads ``hyperparameters()`` before each kernel
call), and add ``learning_rate`` to the epoch logs, so it appears in
``history.history`` as in Keras 3.
"""

from __future__ import annotations

import warnings

import numpy as np

from .callbacks import Callback, MonitorCallback


def _learning_rate(optimizer) -> float:
    return float(optimizer.learning_rate)


class LearningRateScheduler(Callback):
    """Sets the learning rate at the start of each epoch to ``schedule(epoch, lr)``.

    Parameters
    ----------
    schedule : callable
        ``schedule(epoch, lr) -> float`` with the 0-based epoch and the current
        rate (``schedule(epoch)`` is accepted too, as Keras does).
    verbose : int
        1 prints the rate set at each epoch.
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        try:
            lr = self.schedule(epoch, _learning_rate(optimizer))
        except TypeError:  # Keras's fallback for the old one-argument schedules
            lr = self.schedule(epoch)
        if not isinstance(lr, float | np.float32 | np.float64):
            raise ValueError(f"The output of the `schedule` function should be a float. Got: {lr}")
        optimizer.learning_rate = float(lr)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {lr}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = _learning_rate(self.model.optimizer)


class ReduceLROnPlateau(MonitorCallback):
    """Multiplies the learning rate by ``factor`` when ``monitor`` stops improving.

    After ``patience`` epochs without an improvement larger than ``min_delta``
    the rate becomes ``max(lr * factor, min_lr)`` (only while ``lr > min_lr``),
    then ``cooldown`` epochs pass before counting again.  Keras's rules and
    defaults (``keras.callbacks.ReduceLROnPlateau``).

    Parameters
    ----------
    monitor : str
    factor : float < 1
    patience : int
    verbose : int
    mode : {"auto", "min", "max"}
    min_delta : float
    cooldown : int
    min_lr : float
    """

    def __init__(
        self,
        monitor="val_loss",
        factor=0.1,
        patience=10,
        verbose=0,
        mode="auto",
        min_delta=1e-4,
        cooldown=0,
        min_lr=0.0,
    ):
        super().__init__(monitor, mode, min_delta=min_delta)
        if factor >= 1.0:
            raise ValueError(
                f"ReduceLROnPlateau does not support a factor >= 1.0. Received factor={factor}"
            )
        self.factor = factor
        self.min_lr = min_lr
        self.patience = patience
        self.verbose = verbose
        self.cooldown = cooldown
        self.cooldown_counter = 0
        self.wait = 0

    def on_train_begin(self, logs=None):
        self.best = None
        self.cooldown_counter = 0
        self.wait = 0

    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def _reduce(self, epoch) -> bool:
        optimizer = self.model.optimizer
        old = _learning_rate(optimizer)
        if old <= np.float32(self.min_lr):
            return False
        new = max(old * self.factor, self.min_lr)
        optimizer.learning_rate = new
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new}.")
        return True

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        logs = logs if logs is not None else {}
        logs["learning_rate"] = _learning_rate(self.model.optimizer)
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(
                f"Learning rate reduction is conditioned on metric `{self.monitor}` which is "
                f"not available. Available metrics are: {','.join(logs)}.",
                stacklevel=2,
            )
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience and self._reduce(epoch):
                self.cooldown_counter = self.cooldown
                self.wait = 0
