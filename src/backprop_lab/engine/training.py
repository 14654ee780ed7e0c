"""The training loop: epochs of shuffled mini-batches, each one forward pass,
one backward pass and one optimizer step, with callbacks around them.
"""

from __future__ import annotations

import numpy as np

from .callbacks import CallbackList, History, refuse_uncalled_hooks


def train_epoch(model, X: np.ndarray, Y: np.ndarray, batch_size: int, callbacks, weights=None):
    """One pass over ``(X, Y)`` in order, in batches; returns the epoch's logs.

    The logged loss is the running mean over the epoch of each batch's loss
    *before* its update, weighted by batch size, and the metrics stream over
    the same predictions, as Keras logs them.  With ``weights`` (shape
    ``(n_samples,)``) each batch's loss is Keras's ``sum(w * l) / batch size``;
    the metrics ignore them, except ``weighted_metrics``.
    """
    loss, optimizer = model.loss, model.optimizer
    params, grads = model.params, model.grads
    regularized = any(
        getattr(layer, "kernel_regularizer", None) or getattr(layer, "bias_regularizer", None)
        for layer in model.layers
    )
    metrics = model.compile_metrics if model.compile_metrics else None
    if metrics is not None:
        metrics.reset_state()
    batch_hooks = callbacks.wants_batches
    loss_sum, seen = 0.0, 0

    def logs() -> dict:
        out = {"loss": loss_sum / seen}
        if metrics is not None:
            out.update(metrics.result())
        return dict(sorted(out.items()))  # Keras hands callbacks sorted logs

    for batch, start in enumerate(range(0, len(X), batch_size)):
        Xb, Yb = X[start : start + batch_size], Y[start : start + batch_size]
        Wb = None if weights is None else weights[start : start + batch_size]
        if batch_hooks:
            callbacks.on_train_batch_begin(batch)
        P = model.forward(Xb)
        batch_loss = loss.value(Yb, P) if Wb is None else loss.value(Yb, P, Wb)
        loss_sum += (batch_loss + (model.penalty() if regularized else 0.0)) * len(Xb)
        if metrics is not None:
            metrics.update_state(Yb, P, Wb)
        if Wb is None:
            model.backward(Yb, P)
        else:
            model.backward(Yb, P, Wb)
        optimizer.step(params, grads)
        seen += len(Xb)
        if batch_hooks:
            callbacks.on_train_batch_end(batch, logs())
            # As in Keras, a callback that stops training (TerminateOnNaN) ends
            # the epoch now, not after more steps on NaN weights.
            if model.stop_training:
                break
    return logs()


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
    weights : ndarray of shape (n_samples,), optional
        Sample weights (from ``sample_weight`` or ``class_weight``).
    """

    def __init__(self, model, X, Y, batch_size: int, weights=None):
        self.model, self.X, self.Y, self.batch_size = model, X, Y, batch_size
        self.weights = weights

    def train_epoch(self, order: np.ndarray | None, callbacks) -> dict:
        X, Y, W = self.X, self.Y, self.weights
        if order is not None:
            X, Y, W = X[order], Y[order], (None if W is None else W[order])
        return train_epoch(self.model, X, Y, self.batch_size, callbacks, W)

    def close(self) -> None:
        """Nothing to do: the NumPy engine trains the model's own arrays."""


def passive(callbacks: CallbackList) -> bool:
    """Whether the callbacks only record the epochs' logs (a ``History``, nothing else),
    so none can look at the model or stop training between epochs."""
    return all(type(cb) is History for cb in callbacks.callbacks)


def fit_loop(
    model, X, Y, epochs, batch_size, validation, shuffle, callbacks, engine, weights=None, verbose=0
) -> History:
    """Run ``epochs`` epochs of ``train_epoch`` with validation and callbacks.

    Parameters
    ----------
    model : Sequential
        A compiled, built model.
    X : ndarray of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_outputs)
        Targets as prepared by the loss.
    validation : tuple (X_val, Y_val, weights_val or None) or None
    shuffle : bool
        Permute the samples each epoch with the model's generator.
    callbacks : list of Callback
        In Keras's order: the user's, then a ``History`` (which this returns;
        one is added last if missing), then the progress bar.
    engine : NumpyEngine or CompiledEngine
        Makes the trainer that runs the epochs (``engines.select``); both
        draw the same batches and do the same math.  A trainer with
        ``train_epochs(epochs, rng)`` (the compiled one) trains every epoch in
        one go when no callback but ``History`` listens and nothing is
        validated; the results are those of the epoch-by-epoch loop.
    weights : ndarray of shape (n_samples,), optional
        Sample weights (NumPy engine only).
    verbose : int
        Only passed on to the callbacks in ``params``, as Keras does.
    """
    history = next((cb for cb in callbacks if isinstance(cb, History)), None)
    if history is None:
        history = History()
        callbacks = [*callbacks, history]
    steps = -(-len(X) // batch_size)
    # Keras's params (epochs, steps, verbose), and the batch size and sample count.
    params = {
        "epochs": epochs,
        "steps": steps,
        "verbose": verbose,
        "batch_size": batch_size,
        "samples": len(X),
    }
    refuse_uncalled_hooks(callbacks)
    callbacks = CallbackList(callbacks, model, params)
    model.history = history
    model.stop_training = False
    callbacks.on_train_begin()
    validating = validation is not None
    trainer = engine.trainer(model, X, Y, batch_size, callbacks, validating, weights)
    try:
        if hasattr(trainer, "train_epochs") and not validating and passive(callbacks):
            logs = _all_at_once(model, trainer, epochs, shuffle, callbacks)
        else:
            logs = _epoch_by_epoch(model, X, trainer, epochs, shuffle, callbacks, validation)
    finally:
        trainer.close()  # the model's arrays may lag the compiled engine's buffers until now
    callbacks.on_train_end(logs)
    return history


def _all_at_once(model, trainer, epochs, shuffle, callbacks) -> dict | None:
    """Nothing acts between epochs: the engine trains them all in one go (in the same
    orders), and the callbacks, all ``History`` (``passive``), record each block of
    epochs after it.  Returns the last epoch's logs."""
    logs = None
    for first, stop, columns in trainer.train_epochs(epochs, model.rng if shuffle else None):
        for history in callbacks.callbacks:
            history.record(range(first, stop), columns)
        logs = {k: v[-1] for k, v in columns.items()}
    return logs


def _epoch_by_epoch(model, X, trainer, epochs, shuffle, callbacks, validation) -> dict | None:
    """One epoch at a time, each followed by its validation and its callbacks, which may
    stop training.  Returns the last epoch's logs."""
    logs = None
    for epoch in range(epochs):
        callbacks.on_epoch_begin(epoch)
        order = model.rng.permutation(len(X)) if shuffle else None
        logs = trainer.train_epoch(order, callbacks)
        if validation is not None:
            callbacks.on_test_begin()
            val_logs = model.evaluate_arrays(*validation)
            callbacks.on_test_end(val_logs)
            logs.update({f"val_{k}": v for k, v in val_logs.items()})
            logs = dict(sorted(logs.items()))
        callbacks.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    return logs
