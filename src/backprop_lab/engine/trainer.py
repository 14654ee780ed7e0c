"""``Trainer``: Keras's compile / fit / evaluate / predict, for a model to inherit.

As in Keras (``keras.src.trainers.trainer.Trainer``), the model class holds
the structure and the math (``model.Sequential``) and inherits the training
API from here.  The epochs themselves run in ``training.fit_loop`` on the
engine ``engines.select`` picks.
"""

from __future__ import annotations

import numpy as np

from . import engines, losses, optimizers
from ._checks import check_float_in, check_positive_int, lookup
from .callbacks import ProgbarLogger
from .engines import ENGINES
from .metrics import count_correct
from .progress import Progbar
from .training import fit_loop

_METRICS = {"accuracy": "accuracy", "acc": "accuracy"}


def refuse(method: str, kwargs: dict) -> None:
    """Keras options outside the supported subset fail loudly, never silently."""
    if kwargs:
        names = ", ".join(f"{k}=" for k in kwargs)
        raise NotImplementedError(f"{method}({names}) is not supported by backprop_lab")


class Trainer:
    """compile / fit / evaluate / predict for a model with ``layers``, ``forward``,
    ``backward``, ``apply``, ``penalty``, ``params``/``grads`` and ``_inputs``.
    """

    # ------------------------------------------------------------------ compile
    def compile(
        self, optimizer="rmsprop", loss=None, metrics=None, *, engine="auto", **unsupported
    ):
        """Choose the optimizer, the loss and the metrics.

        Parameters
        ----------
        optimizer : str or Optimizer
            A name (Keras defaults) or an object such as ``SGD(0.1)``.
        loss : str or Loss
            A name from ``losses.LOSSES`` or an object.
        metrics : list of str, optional
            Only ``["accuracy"]`` is supported.
        engine : {"auto", "numpy", "compiled"}
            Which engine runs ``fit``, ``evaluate`` and ``predict``.  ``"compiled"``
            runs numba kernels (see ``backprop_lab.engine.engines``) and raises a
            ValueError for a model they do not support (a custom layer,
            activation, loss or optimizer); ``"auto"`` uses them when it can and
            NumPy otherwise.  ``engine_used`` tells which one the last ``fit`` ran.
        """
        refuse("compile", unsupported)
        if loss is None:
            raise ValueError(f"compile needs a loss; valid names: {', '.join(losses.LOSSES)}")
        self.optimizer = optimizers.get(optimizer)
        self.loss = losses.get(loss)
        for m in metrics or []:
            if not isinstance(m, str) or m.lower() not in _METRICS:
                raise NotImplementedError(
                    f"metric {m!r} is not supported by backprop_lab; supported: accuracy"
                )
        self.metrics = [_METRICS[m.lower()] for m in metrics or []]
        self.engine = lookup("engine", engine, {e: e for e in ENGINES})
        self.compiled = True
        if self.engine == "compiled" and self.layers:
            self._engine()  # fail now, not at fit

    def _engine(self, *, training: bool = True):
        """The engine (``engines.NUMPY`` or ``COMPILED``) that ``self.engine`` selects."""
        return engines.select(self, getattr(self, "engine", "auto"), training=training)

    def _output(self, X: np.ndarray, chunk: int | None = None) -> np.ndarray:
        """``apply(X)`` through the selected engine (NumPy: ``chunk`` rows at a time)."""
        return self._engine(training=False).predict(self, X, chunk)

    def _require_compiled(self, what: str) -> None:
        if not self.compiled:
            raise ValueError(f"call compile() before {what}()")

    def _targets(self, X, y) -> np.ndarray:
        Y = self.loss.prepare_targets(y, self.layers[-1].units, self.dtype)
        if len(Y) != len(X):
            raise ValueError(f"x has {len(X)} samples but y has {len(Y)}; they must match")
        return Y

    # ------------------------------------------------------------------ public API
    def fit(
        self,
        x,
        y,
        epochs: int = 1,
        batch_size: int | None = 32,
        validation_data=None,
        validation_split: float = 0.0,
        shuffle: bool = True,
        verbose: int = 1,
        callbacks=None,
        **unsupported,
    ):
        """Train with mini-batch gradient descent; returns a ``History``.

        Parameters
        ----------
        x : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        epochs : int
            Passes over the training data.
        batch_size : int or None
            Samples per gradient step (None means 32, as in Keras); the last
            batch may be smaller.
        validation_data : tuple (x_val, y_val), optional
            Evaluated at the end of each epoch (``val_loss``, ``val_accuracy``).
        validation_split : float in [0, 1)
            Fraction of the data, taken from the end before any shuffling, held
            out for validation (ignored when ``validation_data`` is given).
        shuffle : bool
            Draw a new batch order each epoch from the model's generator.
        verbose : {0, 1, 2}
            0 silent, 1 a progress bar on a terminal (one line per epoch
            otherwise), 2 one line per epoch.
        callbacks : list of Callback, optional
        """
        refuse("fit", unsupported)
        self._require_compiled("fit")
        epochs = check_positive_int("epochs", epochs)
        batch_size = check_positive_int("batch_size", 32 if batch_size is None else batch_size)
        X = self._inputs(x)
        Y = self._targets(X, y)
        if validation_data is None and validation_split:
            check_float_in("validation_split", validation_split, 0.0, 1.0, closed_low=False)
            split = int(np.floor(len(X) * (1.0 - validation_split)))
            if split < 1 or split == len(X):
                raise ValueError(
                    f"validation_split={validation_split} leaves no training or no "
                    f"validation samples out of {len(X)}"
                )
            validation = (X[split:], Y[split:])
            X, Y = X[:split], Y[:split]
        elif validation_data is not None:
            if not isinstance(validation_data, tuple | list) or len(validation_data) != 2:
                raise ValueError("validation_data must be a tuple (x_val, y_val)")
            Xv = self._inputs(validation_data[0])
            validation = (Xv, self._targets(Xv, validation_data[1]))
        else:
            validation = None
        engine = self._engine()
        self.engine_used = engine.name
        callbacks = list(callbacks or [])
        if verbose:
            callbacks.append(ProgbarLogger(verbose))
        return fit_loop(self, X, Y, epochs, batch_size, validation, shuffle, callbacks, engine)

    def evaluate_arrays(self, X: np.ndarray, Y: np.ndarray) -> dict:
        """``{"loss": ..., "accuracy": ...}`` of prepared arrays, no checks and no callbacks.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            In the model's dtype.
        Y : ndarray of shape (n_samples, n_outputs)
            Targets as prepared by the loss; the loss includes the penalties.
        """
        P = self._output(X)
        logs = {"loss": self.loss.value(Y, P) + self.penalty()}
        if self.metrics:
            logs["accuracy"] = count_correct(Y, P) / len(X)
        return logs

    def evaluate(self, x, y, batch_size: int | None = None, verbose: int = 1, **unsupported):
        """Loss (with penalties) and accuracy on ``(x, y)``.

        Parameters
        ----------
        x : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        batch_size : int, optional
            Only sets the step count shown by the progress bar (Keras's 32 by
            default); the arithmetic runs on the whole array.
        verbose : {0, 1}

        Returns
        -------
        list of float or float
            ``[loss, accuracy]``, or just the loss when compiled without metrics.
        """
        refuse("evaluate", unsupported)
        self._require_compiled("evaluate")
        X = self._inputs(x)
        Y = self._targets(X, y)
        logs = self.evaluate_arrays(X, Y)
        if verbose:
            n_batches = -(-len(X) // (batch_size or 32))
            Progbar(n_batches).update(n_batches, logs, finalize=True)
        return [logs["loss"], logs["accuracy"]] if self.metrics else logs["loss"]

    def predict(
        self, x, batch_size: int | None = None, verbose: int = 1, **unsupported
    ) -> np.ndarray:
        """The network's outputs: probabilities for a classifier.

        Parameters
        ----------
        x : array-like of shape (n_samples, n_features)
        batch_size : int, optional
            Rows per forward pass (65,536 by default, which bounds memory).
        verbose : {0, 1}

        Returns
        -------
        ndarray of shape (n_samples, units)
        """
        refuse("predict", unsupported)
        X = self._inputs(x)
        P = self._output(X, chunk=batch_size or 65536)  # bounded memory, whole blocks
        if verbose:
            n_batches = -(-len(X) // (batch_size or 32))
            Progbar(n_batches).update(n_batches, {}, finalize=True)
        return P

    def _engine_preview(self) -> str:
        """What ``fit`` would run, for display: never raises."""
        try:
            return self._engine().name if self.layers else "not resolved yet"
        except ValueError as exc:
            return str(exc)
