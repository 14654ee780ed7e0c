"""``Trainer``: Keras's compile / fit / evaluate / predict, for a model to inherit.

As in Keras (``keras.src.trainers.trainer.Trainer``), the model class holds
the structure and the math (``model.Sequential``) and inherits the training
API from here.  The epochs themselves run in ``training.fit_loop`` on the
engine ``engines.select`` picks.

Metrics are streaming objects (``keras_metrics``) resolved and named as Keras
does (``compile_metrics``); sample and class weights follow Keras's data
adapters: ``class_weight`` maps each sample's class (its rounded label, or the
arg-max of a one-hot row) to a weight, missing classes weigh 1, and it cannot
be combined with ``sample_weight``.
"""

from __future__ import annotations

import numpy as np

from . import engines, losses, optimizers
from ._checks import check_float_in, check_positive_int, lookup
from .callbacks import Callback, CallbackList, History, ProgbarLogger
from .compile_metrics import CompileMetrics
from .engines import ENGINES
from .keras_metrics import Mean
from .progress import Progbar
from .training import fit_loop, train_epoch


def refuse(method: str, kwargs: dict) -> None:
    """Keras options outside the supported subset fail loudly, never silently."""
    if kwargs:
        names = ", ".join(f"{k}=" for k in kwargs)
        raise NotImplementedError(f"{method}({names}) is not supported by backprop_lab")


def _verbose(verbose) -> int:
    return 1 if verbose == "auto" else int(verbose)


def class_weights(y, class_weight) -> np.ndarray:
    """Per-sample weights from ``class_weight`` (Keras's ``class_weight_to_sample_weights``).

    Parameters
    ----------
    y : array-like of shape (n_samples,), (n_samples, 1) or (n_samples, k) one-hot
    class_weight : dict {class index: weight}

    Returns
    -------
    ndarray of shape (n_samples,)
    """
    if not isinstance(class_weight, dict):
        raise ValueError(
            "class_weight must be a dict {class index: weight}, "
            f"got {type(class_weight).__name__}"
        )
    labels = np.asarray(y, dtype=np.float64)
    if labels.ndim > 1:
        labels = labels.argmax(axis=-1) if labels.shape[-1] != 1 else labels[..., 0]
    labels = np.round(labels).astype(np.int64)
    weights = np.ones(len(labels), dtype=np.float32)
    for cls, weight in class_weight.items():
        weights[labels == int(cls)] = weight
    return weights


class Trainer:
    """compile / fit / evaluate / predict for a model with ``layers``, ``forward``,
    ``backward``, ``apply``, ``penalty``, ``params``/``grads`` and ``_inputs``.
    """

    # ------------------------------------------------------------------ compile
    def compile(
        self,
        optimizer="rmsprop",
        loss=None,
        metrics=None,
        *,
        weighted_metrics=None,
        engine="auto",
        **unsupported,
    ):
        """Choose the optimizer, the loss and the metrics.

        Parameters
        ----------
        optimizer : str or Optimizer
            A name (Keras defaults) or an object such as ``SGD(0.1)``.
        loss : str or Loss
            A name from ``losses.LOSSES`` or an object.
        metrics : list of str, Metric or function, optional
            Keras names (``"accuracy"``, ``"acc"``, ``"mae"``, ``"auc"``...) or
            objects (``AUC()``, ``Precision()``...); logged under the name given.
        weighted_metrics : list, optional
            Metrics that take the sample (or class) weights into account.
        engine : {"auto", "numpy", "compiled"}
            Which engine runs ``fit``, ``evaluate`` and ``predict``.  ``"compiled"``
            runs numba kernels (see ``backprop_lab.engine.engines``) and raises a
            ValueError for a model or a fit they do not support (a custom layer,
            activation, loss or optimizer; sample weights; metrics other than
            accuracy); ``"auto"`` uses them when it can and NumPy otherwise.
            ``engine_used`` tells which one the last ``fit`` ran.
        """
        refuse("compile", unsupported)
        if loss is None:
            raise ValueError(f"compile needs a loss; valid names: {', '.join(losses.LOSSES)}")
        self.optimizer = optimizers.get(optimizer)
        self.loss = losses.get(loss)
        self.compile_metrics = CompileMetrics(metrics, weighted_metrics)
        self._loss_tracker = Mean(name="loss")
        self.engine = lookup("engine", engine, {e: e for e in ENGINES})
        self.compiled = True
        units = getattr(self.layers[-1], "units", None) if self.layers else None
        if self.engine == "compiled" and units is not None:
            self._engine(reason=self.compile_metrics.kernel_reason(units))  # fail now, not at fit

    @property
    def metrics(self) -> list:
        """Keras's ``model.metrics``: the loss tracker, then the compiled metrics if any."""
        if not getattr(self, "compiled", False):
            return []
        return [self._loss_tracker] + ([self.compile_metrics] if self.compile_metrics else [])

    @property
    def metrics_names(self) -> list[str]:
        """``[m.name for m in model.metrics]``, as Keras 3 gives it.

        Keras 3 answers ``["loss", "compile_metrics"]`` once compiled with metrics
        (the metrics' own names are the keys of ``evaluate(..., return_dict=True)``
        and of ``history.history``), ``["loss"]`` without, ``[]`` before compile.
        """
        return [m.name for m in self.metrics]

    def _engine(self, *, training: bool = True, reason: str | None = None):
        """The engine (``engines.NUMPY`` or ``COMPILED``) that ``self.engine`` selects;
        ``reason``: why this fit needs NumPy, if it does."""
        choice = getattr(self, "engine", "auto")
        return engines.select(self, choice, training=training, numpy_reason=reason)

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
        n_outputs = Y.shape[1]
        sparse = n_outputs > 1 and (np.ndim(y) == 1 or np.shape(y)[-1] == 1)
        self.compile_metrics.build(n_outputs, sparse)
        return Y

    def _sample_weights(self, y, n: int, sample_weight, class_weight) -> np.ndarray | None:
        """The per-sample weights of (n,) samples, or None; Keras's rules."""
        if class_weight is not None:
            if sample_weight is not None:
                raise ValueError("You cannot `class_weight` and `sample_weight` at the same time.")
            return class_weights(y, class_weight).astype(self.dtype)
        if sample_weight is None:
            return None
        w = np.asarray(sample_weight, dtype=self.dtype)
        if w.ndim == 2 and w.shape[1] == 1:
            w = w[:, 0]
        if w.shape != (n,):
            raise ValueError(
                f"sample_weight must have shape ({n},), one weight per sample, got {w.shape}"
            )
        if not np.all(np.isfinite(w)):
            raise ValueError("sample_weight contains NaN or infinite values")
        return w

    def _validation(self, validation_data):
        """``(X, Y, weights)`` from Keras's ``(x, y)`` or ``(x, y, sample_weight)``."""
        if not isinstance(validation_data, tuple | list) or len(validation_data) not in (2, 3):
            raise ValueError("validation_data must be a tuple (x_val, y_val[, sample_weight_val])")
        Xv = self._inputs(validation_data[0])
        yv = validation_data[1]
        sw = validation_data[2] if len(validation_data) == 3 else None
        return Xv, self._targets(Xv, yv), self._sample_weights(yv, len(Xv), sw, None)

    # ------------------------------------------------------------------ public API
    def fit(
        self,
        x,
        y,
        batch_size: int | None = None,
        epochs: int = 1,
        verbose=1,
        callbacks=None,
        validation_split: float = 0.0,
        validation_data=None,
        shuffle: bool = True,
        class_weight=None,
        sample_weight=None,
        **unsupported,
    ):
        """Train with mini-batch gradient descent; returns a ``History``.

        Parameters (Keras's order)
        ----------
        x : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        batch_size : int or None
            Samples per gradient step (None means 32, as in Keras); the last
            batch may be smaller.
        epochs : int
            Passes over the training data.
        verbose : {"auto", 0, 1, 2}
            0 silent, 1 ("auto") a progress bar on a terminal (one line per epoch
            otherwise), 2 one line per epoch.
        callbacks : list of Callback, optional
        validation_split : float in [0, 1)
            Fraction of the data (and of ``sample_weight``), taken from the end
            before any shuffling, held out for validation (ignored when
            ``validation_data`` is given).
        validation_data : tuple (x_val, y_val) or (x_val, y_val, sample_weight_val)
            Evaluated at the end of each epoch (``val_loss``, ``val_<metric>``).
        shuffle : bool
            Draw a new batch order each epoch from the model's generator.
        class_weight : dict {class index: weight}, optional
            Weights each sample's loss by its class (see ``class_weights``).
        sample_weight : array-like of shape (n_samples,), optional
            Weights each sample's loss: ``sum(w * l) / batch size`` per batch.
        """
        refuse("fit", unsupported)
        self._require_compiled("fit")
        epochs = check_positive_int("epochs", epochs)
        batch_size = check_positive_int("batch_size", 32 if batch_size is None else batch_size)
        X = self._inputs(x)
        Y = self._targets(X, y)
        weights = self._sample_weights(y, len(X), sample_weight, class_weight)
        validation = None
        if validation_data is None and validation_split:
            check_float_in("validation_split", validation_split, 0.0, 1.0, closed_low=False)
            split = int(np.floor(len(X) * (1.0 - validation_split)))
            if split < 1 or split == len(X):
                raise ValueError(
                    f"validation_split={validation_split} leaves no training or no "
                    f"validation samples out of {len(X)}"
                )
            # Keras splits sample_weight too; class weights apply to training only.
            val_w = None if sample_weight is None else weights[split:]
            validation = (X[split:], Y[split:], val_w)
            X, Y = X[:split], Y[:split]
            weights = None if weights is None else weights[:split]
        elif validation_data is not None:
            validation = self._validation(validation_data)
        engine = self._engine(reason=self._numpy_reason(Y, weights))
        self.engine_used = engine.name
        history = History()
        if isinstance(callbacks, Callback):  # Keras takes one callback as well as a list
            callbacks = [callbacks]
        callbacks = [*(callbacks or []), history]
        verbose = _verbose(verbose)
        if verbose:
            callbacks.append(ProgbarLogger(verbose))
        return fit_loop(
            self, X, Y, epochs, batch_size, validation, shuffle, callbacks, engine, weights, verbose
        )

    def _numpy_reason(self, Y: np.ndarray, weights) -> str | None:
        """Why this fit must run on NumPy (the kernels count only accuracy, unweighted)."""
        if weights is not None:
            return "sample or class weights"
        binary = Y.shape[1] != 1 or bool(np.all((Y == 0) | (Y == 1)))
        return self.compile_metrics.kernel_reason(Y.shape[1], binary)

    def evaluate_arrays(self, X: np.ndarray, Y: np.ndarray, weights=None) -> dict:
        """``{"loss": ..., <metric>: ...}`` of prepared arrays, no checks and no callbacks.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            In the model's dtype.
        Y : ndarray of shape (n_samples, n_outputs)
            Targets as prepared by the loss; the loss includes the penalties.
        weights : ndarray of shape (n_samples,), optional
            Sample weights for the loss (and the weighted metrics).
        """
        P = self._output(X)
        loss = self.loss.value(Y, P) if weights is None else self.loss.value(Y, P, weights)
        logs = {"loss": loss + self.penalty()}
        if self.compile_metrics:
            self.compile_metrics.reset_state()
            self.compile_metrics.update_state(Y, P, weights)
            logs.update(self.compile_metrics.result())
        return logs

    def _in_order(self, logs: dict, return_dict: bool):
        """Keras's return value: the sorted logs, or a list in ``metrics`` order."""
        if return_dict:
            return dict(sorted(logs.items()))
        names = ["loss"] + [m.name for m in self.compile_metrics.metrics]
        values = [logs[n] for n in names if n in logs]
        values += [logs[k] for k in sorted(logs) if k not in names]
        return values[0] if len(values) == 1 else values

    def evaluate(
        self,
        x,
        y,
        batch_size: int | None = None,
        verbose=1,
        sample_weight=None,
        return_dict: bool = False,
        **unsupported,
    ):
        """Loss (with penalties) and metrics on ``(x, y)``.

        Parameters
        ----------
        x : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        batch_size : int, optional
            Only sets the step count shown by the progress bar (Keras's 32 by
            default); the arithmetic runs on the whole array, which gives
            Keras's numbers (every batch mean is weighted by its size).
        verbose : {"auto", 0, 1}
        sample_weight : array-like of shape (n_samples,), optional
        return_dict : bool

        Returns
        -------
        float, list of float or dict
            The loss alone without metrics, else ``[loss, *metrics]`` in compile
            order; with ``return_dict`` ``{name: value}`` sorted by name.
        """
        refuse("evaluate", unsupported)
        self._require_compiled("evaluate")
        X = self._inputs(x)
        Y = self._targets(X, y)
        logs = self.evaluate_arrays(X, Y, self._sample_weights(y, len(X), sample_weight, None))
        if _verbose(verbose):
            n_batches = -(-len(X) // (batch_size or 32))
            Progbar(n_batches).update(n_batches, logs, finalize=True)
        return self._in_order(logs, return_dict)

    def predict(self, x, batch_size: int | None = None, verbose=1, **unsupported) -> np.ndarray:
        """The network's outputs: probabilities for a classifier.

        Parameters
        ----------
        x : array-like of shape (n_samples, n_features)
        batch_size : int, optional
            Rows per forward pass (65,536 by default, which bounds memory).
        verbose : {"auto", 0, 1}

        Returns
        -------
        ndarray of shape (n_samples, units)
        """
        refuse("predict", unsupported)
        X = self._inputs(x)
        P = self._output(X, chunk=batch_size or 65536)  # bounded memory, whole blocks
        if _verbose(verbose):
            n_batches = -(-len(X) // (batch_size or 32))
            Progbar(n_batches).update(n_batches, {}, finalize=True)
        return P

    # ------------------------------------------------------------------ one batch
    def train_on_batch(
        self, x, y=None, sample_weight=None, class_weight=None, return_dict: bool = False
    ):
        """One gradient step on ``(x, y)`` (NumPy); the batch's loss and metrics, as Keras."""
        self._require_compiled("train_on_batch")
        X = self._inputs(x)
        Y = self._targets(X, y)
        weights = self._sample_weights(y, len(X), sample_weight, class_weight)
        self.stop_training = False
        logs = train_epoch(self, X, Y, len(X), CallbackList([], self, {}), weights)
        return self._in_order(logs, return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict: bool = False):
        """``evaluate`` on one batch, silently (Keras's signature)."""
        return self.evaluate(x, y, verbose=0, sample_weight=sample_weight, return_dict=return_dict)

    def predict_on_batch(self, x) -> np.ndarray:
        """``predict`` on one batch, silently."""
        return self.predict(x, verbose=0)

    def _engine_preview(self) -> str:
        """What ``fit`` would run, for display: never raises."""
        try:
            return self._engine().name if self.layers else "not resolved yet"
        except ValueError as exc:
            return str(exc)
