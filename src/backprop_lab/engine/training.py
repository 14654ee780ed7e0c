"""The training loop: epochs of shuffled mini-batches, each one forward pass,
one backward pass and one optimizer step, with callbacks around them.
"""

from __future__ import annotations

import numpy as np

from .callbacks import CallbackList, History
from .metrics import count_correct


def train_epoch(model, X: np.ndarray, Y: np.ndarray, batch_size: int, callbacks) -> dict:
    """One pass over ``(X, Y)`` in order, in batches; returns the epoch's mean logs.

    The logged loss and accuracy are running means over the epoch of each
    batch's values *before* its update, weighted by batch size, as Keras logs them.
    """
    loss, optimizer = model.loss, model.optimizer
    params, grads = model.params, model.grads
    regularized = any(getattr(layer, "kernel_regularizer", None) for layer in model.layers)
    with_accuracy = bool(model.metrics)
    batch_hooks = callbacks.wants_batches
    loss_sum, correct, seen = 0.0, 0, 0
    for batch, start in enumerate(range(0, len(X), batch_size)):
        Xb, Yb = X[start : start + batch_size], Y[start : start + batch_size]
        if batch_hooks:
            callbacks.on_train_batch_begin(batch)
        P = model.forward(Xb)
        batch_loss = loss.value(Yb, P) + (model.penalty() if regularized else 0.0)
        loss_sum += batch_loss * len(Xb)
        if with_accuracy:
            correct += count_correct(Yb, P)
        model.backward(Yb, P)
        optimizer.step(params, grads)
        seen += len(Xb)
        if batch_hooks:
            logs = {"loss": loss_sum / seen}
            if with_accuracy:
                logs["accuracy"] = correct / seen
            callbacks.on_train_batch_end(batch, logs)
            # As in Keras, a callback that stops training (TerminateOnNaN) ends
            # the epoch now, not after more steps on NaN weights.
            if model.stop_training:
                break
    logs = {"loss": loss_sum / seen}
    if with_accuracy:
        logs["accuracy"] = correct / seen
    return logs


class NumpyTrainer:
    """Trains with ``train_epoch`` on NumPy arrays; one per ``fit``.

    The trainer interface both engines offer (see ``engines``):
    ``train_epoch(order, callbacks)`` runs one epoch with the samples in
    ``order`` (None: as stored) and returns its logs; ``close()`` is called when
    training ends, even by an exception.

    Parameters
    ----------
    model : Sequential
    X : ndarray of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_outputs)
        Targets as prepared by the loss.
    batch_size : int
    """

    def __init__(self, model, X, Y, batch_size: int):
        self.model, self.X, self.Y, self.batch_size = model, X, Y, batch_size

    def train_epoch(self, order: np.ndarray | None, callbacks) -> dict:
        X, Y = (self.X, self.Y) if order is None else (self.X[order], self.Y[order])
        return train_epoch(self.model, X, Y, self.batch_size, callbacks)

    def close(self) -> None:
        """Nothing to do: the NumPy engine trains the model's own arrays."""


def fit_loop(model, X, Y, epochs, batch_size, validation, shuffle, callbacks, engine) -> History:
    """Run ``epochs`` epochs of ``train_epoch`` with validation and callbacks.

    Parameters
    ----------
    model : Sequential
        A compiled, built model.
    X : ndarray of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_outputs)
        Targets as prepared by the loss.
    validation : tuple (X_val, Y_val) or None
    shuffle : bool
        Permute the samples each epoch with the model's generator.
    callbacks : list of Callback
    engine : NumpyEngine or CompiledEngine
        Makes the trainer that runs the epochs (``engines.select``); both
        draw the same batches and do the same math.
    """
    history = History()
    steps = -(-len(X) // batch_size)
    params = {"epochs": epochs, "steps": steps, "batch_size": batch_size, "samples": len(X)}
    callbacks = CallbackList([history, *callbacks], model, params)
    model.history = history
    model.stop_training = False
    callbacks.on_train_begin()
    trainer = engine.trainer(model, X, Y, batch_size, callbacks, validation is not None)
    try:
        for epoch in range(epochs):
            callbacks.on_epoch_begin(epoch)
            order = model.rng.permutation(len(X)) if shuffle else None
            logs = trainer.train_epoch(order, callbacks)
            if validation is not None:
                val_logs = model.evaluate_arrays(*validation)
                logs.update({f"val_{k}": v for k, v in val_logs.items()})
            callbacks.on_epoch_end(epoch, logs)
            if model.stop_training:
                break
    finally:
        trainer.close()  # the model's arrays may lag the compiled engine's buffers until now
    callbacks.on_train_end()
    return history
