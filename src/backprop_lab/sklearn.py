"""scikit-learn estimators: ``BackpropClassifier`` and ``BackpropRegressor``.

They take ``MLPClassifier``'s and ``MLPRegressor``'s parameters and train a
backprop-lab ``Sequential`` (the compiled engine when it can run it), so they
work wherever a scikit-learn estimator does: ``Pipeline``, ``GridSearchCV``,
``cross_val_score``, ``pickle``; and ``check_estimator`` passes.

How the parameters map onto the engine
--------------------------------------
* ``hidden_layer_sizes`` and ``activation`` ("identity", "logistic", "tanh",
  "relu") give the hidden ``Dense`` layers; the output is ``Dense(1, sigmoid)``
  with binary cross-entropy for two classes, ``Dense(k, softmax)`` with sparse
  categorical cross-entropy for more, ``Dense(n_outputs)`` with squared error
  for regression.  The weights start as Keras's (Glorot uniform, zero bias).
* ``alpha`` is scikit-learn's L2 term, ``alpha / 2 * sum(W**2) / batch_size``
  added to the loss on every layer's kernel (an engine ``L2``).  For the
  regressor the engine's loss is the mean squared error, twice scikit-learn's
  ``squared_error / 2``: the L2 weight and the SGD step are scaled so that
  the training is scikit-learn's objective, and ``loss_curve_`` is on
  scikit-learn's scale.
* ``solver`` "sgd" (``momentum``, ``nesterovs_momentum``), "adam"
  (``beta_1``, ``beta_2``, ``epsilon``) or "rmsprop", at a constant
  ``learning_rate_init`` (no "invscaling"/"adaptive" schedules; no "lbfgs").
* ``max_iter`` is epochs; training stops earlier, as scikit-learn's, when the
  training loss (or, with ``early_stopping``, the score on a held-out
  ``validation_fraction``, stratified for classifiers) has not improved by
  ``tol`` for ``n_iter_no_change`` epochs; early stopping restores the best
  weights.
* The network computes in float64 by default (inputs of any numeric dtype
  are converted), as ``MLPClassifier`` does for float64 data: scikit-learn's
  checks compare predictions to 1e-7, which float32 rounding does not meet.
  ``dtype="float32"`` trains faster (Keras's precision; outputs in float32).
"""

from __future__ import annotations

import json
import warnings
from numbers import Integral, Real
from pathlib import Path

import numpy as np

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import LabelEncoder
    from sklearn.utils import check_random_state
    from sklearn.utils.multiclass import check_classification_targets, unique_labels
    from sklearn.utils.validation import check_is_fitted, validate_data
except ImportError as e:  # scikit-learn is an optional extra
    raise ImportError(
        "backprop_lab.sklearn needs scikit-learn >= 1.6, which is not installed "
        f"({e}); install it with: pip install -e '.[sklearn]'"
    ) from None

from .engine.callbacks import Callback
from .engine.layers import Dense
from .engine.metrics import r2_score
from .engine.model import Sequential
from .engine.optimizers import SGD, Adam, RMSprop
from .engine.regularizers import L2
from .runs.fileio import read_json_object, write_atomic
from .runs.modelio import load_model, save_model

__all__ = ["BackpropClassifier", "BackpropRegressor"]

ACTIVATIONS = {"identity": "linear", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu"}
SOLVERS = ("sgd", "adam", "rmsprop")
ESTIMATOR_FILE = "estimator.json"
FORMAT = "backprop-lab-sklearn"


class _StopWhenStalled(Callback):
    """scikit-learn's stopping rule: ``patience`` epochs without a gain of ``tol``.

    ``score(model)`` is the validation score (higher is better) or None to
    watch the training loss; with a score the best weights are restored.
    """

    def __init__(self, tol, patience, score=None, stop=True):
        super().__init__()
        self.tol, self.patience, self.score, self.stop = tol, patience, score, stop
        self.reads_only_logs = score is None  # the compiled engine need not copy the weights
        self.best, self.wait, self.best_weights, self.scores = np.inf, 0, None, []

    def on_epoch_end(self, epoch, logs=None):
        if self.score is None:
            value = logs["loss"]
        else:
            value = -self.score(self.model)
            self.scores.append(-value)
        self.wait = self.wait + 1 if value > self.best - self.tol else 0
        if value < self.best:
            self.best = value
            if self.score is not None:
                self.best_weights = self.model.get_weights()
        if self.stop and self.wait > self.patience:
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)


def _check_params(est) -> tuple:
    """Validate the hyper-parameters; return the hidden sizes as a tuple."""
    sizes = est.hidden_layer_sizes
    sizes = (sizes,) if isinstance(sizes, Integral) else tuple(sizes)
    if not all(isinstance(s, Integral) and not isinstance(s, bool) and s > 0 for s in sizes):
        raise ValueError(f"hidden_layer_sizes must be positive integers, got {sizes!r}")
    choices = {"activation": tuple(ACTIVATIONS), "solver": SOLVERS}
    for name, allowed in choices.items():
        if getattr(est, name) not in allowed:
            raise ValueError(f"{name} must be one of {allowed}, got {getattr(est, name)!r}")
    ranges = {  # name: (low, high, low allowed, high allowed), as MLPClassifier's
        "alpha": (0, np.inf, True, False),
        "learning_rate_init": (0, np.inf, False, False),
        "momentum": (0, 1, True, True),
        "beta_1": (0, 1, True, False),
        "beta_2": (0, 1, True, False),
        "epsilon": (0, np.inf, False, False),
        "tol": (0, np.inf, True, False),
        "validation_fraction": (0, 1, False, False),
    }
    for name, (low, high, low_ok, high_ok) in ranges.items():
        value = getattr(est, name)
        ok = isinstance(value, Real) and not isinstance(value, bool)
        if (
            not ok
            or not (low <= value if low_ok else low < value)
            or not (value <= high if high_ok else value < high)
        ):
            bounds = f"{'[' if low_ok else '('}{low}, {high}{']' if high_ok else ')'}"
            raise ValueError(f"{name} must be a number in {bounds}, got {value!r}")
    for name in ("max_iter", "n_iter_no_change"):
        value = getattr(est, name)
        if not isinstance(value, Integral) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    b = est.batch_size
    if b != "auto" and (not isinstance(b, Integral) or isinstance(b, bool) or b < 1):
        raise ValueError(f"batch_size must be 'auto' or a positive integer, got {b!r}")
    if est.engine not in ("auto", "numpy", "compiled"):
        raise ValueError(f"engine must be 'auto', 'numpy' or 'compiled', got {est.engine!r}")
    if est.dtype not in ("float64", "float32"):
        raise ValueError(f"dtype must be 'float64' or 'float32', got {est.dtype!r}")
    return sizes


class _BackpropBase(BaseEstimator):
    """The parameters, the network and the training loop both estimators share."""

    _loss_scale = 1.0  # engine loss = _loss_scale * scikit-learn's loss

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate_init=0.001,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        engine="auto",
        dtype="float64",
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.engine = engine
        self.dtype = dtype

    # ------------------------------------------------------------ subclass hooks
    def _encode_targets(self, y, first: bool, classes=None):
        raise NotImplementedError

    def _output_layer(self):
        raise NotImplementedError

    def _val_score(self, X, y):
        raise NotImplementedError

    # ------------------------------------------------------------ the network
    def _batch(self, n_samples: int) -> int:
        return min(200 if self.batch_size == "auto" else self.batch_size, n_samples)

    def _optimizer(self):
        if self.solver == "sgd":
            # The regressor's engine loss is twice scikit-learn's: halve the step.
            lr = self.learning_rate_init / self._loss_scale
            return SGD(lr, momentum=self.momentum, nesterov=bool(self.nesterovs_momentum))
        if self.solver == "adam":
            return Adam(self.learning_rate_init, self.beta_1, self.beta_2, self.epsilon)
        return RMSprop(self.learning_rate_init, epsilon=self.epsilon)

    def _compile(self, model, batch: int) -> None:
        """Attach the L2 penalty and compile ``model`` with this estimator's settings."""
        l2 = self._loss_scale * self.alpha / (2 * batch)
        for layer in model.layers:
            layer.kernel_regularizer = L2(l2) if l2 else None
        units, loss = self._output_layer()
        model.compile(self._optimizer(), loss, engine=self.engine)

    def _build(self, n_features: int, batch: int):
        sizes = _check_params(self)
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        units, loss = self._output_layer()
        act = ACTIVATIONS[self.activation]
        out_act = {"binary_crossentropy": "sigmoid", "mse": "linear"}.get(loss, "softmax")
        layers = [Dense(n, act) for n in sizes] + [Dense(units, out_act)]
        layers[0].input_shape = (n_features,)
        model = Sequential(layers, seed=seed, dtype=self.dtype)
        self._compile(model, batch)
        return model, seed

    def _train(self, X, Y, epochs: int, split_seed, stop: bool):
        """``epochs`` epochs of ``model_.fit``; updates ``loss_curve_`` and ``n_iter_``."""
        batch = self._batch(len(X))
        if self.early_stopping and stop:
            strat = Y if isinstance(self, ClassifierMixin) else None
            X, Xv, Y, Yv = train_test_split(
                X, Y, test_size=self.validation_fraction, random_state=split_seed, stratify=strat
            )
            X, Y = np.ascontiguousarray(X), np.ascontiguousarray(Y)

            def score(model):
                return self._val_score(model.apply(np.asarray(Xv, model.dtype)), Yv)
        else:
            score = None
        watch = _StopWhenStalled(self.tol, self.n_iter_no_change, score, stop)
        history = self.model_.fit(
            X,
            Y,
            epochs=epochs,
            batch_size=batch,
            shuffle=bool(self.shuffle),
            verbose=2 if self.verbose else 0,
            callbacks=[watch],
        )
        losses = [v / self._loss_scale for v in history.history["loss"]]
        self.loss_curve_ = getattr(self, "loss_curve_", []) + losses
        self.n_iter_ = getattr(self, "n_iter_", 0) + len(losses)
        self.t_ = getattr(self, "t_", 0) + len(losses) * len(X)
        self.best_loss_ = min(self.loss_curve_) if score is None else None
        if score is not None:
            self.validation_scores_ = watch.scores
            self.best_validation_score_ = max(watch.scores)
        if stop and not self.model_.stop_training and len(losses) == epochs:
            warnings.warn(
                f"{type(self).__name__}: maximum iterations ({self.max_iter}) reached "
                "and the optimization hasn't converged yet.",
                ConvergenceWarning,
                stacklevel=4,  # the caller of fit
            )

    def _fit(self, X, y, *, partial: bool, classes=None):
        _check_params(self)
        first = not hasattr(self, "model_") or not (partial or self.warm_start)
        X, y = validate_data(self, X, y, reset=first, dtype=np.float64, **self._target_checks())
        Y = self._encode_targets(y, first, classes)
        if first:
            for name in ("loss_curve_", "n_iter_", "t_", "validation_scores_"):
                self.__dict__.pop(name, None)
            self.model_, self._seed = self._build(X.shape[1], self._batch(len(X)))
        epochs = 1 if partial else self.max_iter
        self._train(X, Y, epochs, self._seed, stop=not partial)
        return self

    def fit(self, X, y):
        """Train a new network on ``(X, y)`` (or keep training one with ``warm_start``)."""
        return self._fit(X, y, partial=False)

    # ------------------------------------------------------------ inspection
    def _logits(self, X) -> np.ndarray:
        """The output layer's pre-activation ``Z`` for validated ``X``."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        X = np.ascontiguousarray(X, dtype=self.model_.dtype)
        hidden = self.model_.layer_outputs(X)[-2]
        last = self.model_.layers[-1]
        return hidden @ last.W + last.b

    @property
    def coefs_(self) -> list:
        """The kernels, ``coefs_[i]`` of shape ``(fan_in, units)`` (the model's own arrays)."""
        return [layer.W for layer in self.model_.layers]

    @property
    def intercepts_(self) -> list:
        """The biases, ``intercepts_[i]`` of shape ``(units,)`` (the model's own arrays)."""
        return [layer.b for layer in self.model_.layers]

    @property
    def n_layers_(self) -> int:
        return len(self.model_.layers) + 1

    @property
    def n_outputs_(self) -> int:
        return self.model_.layers[-1].units

    @property
    def out_activation_(self) -> str:
        name = self.model_.layers[-1].activation.name
        return {v: k for k, v in ACTIVATIONS.items()}.get(name, name)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Dense NumPy arrays only: sparse input gets scikit-learn's TypeError.
        tags.input_tags.sparse = False
        tags.input_tags.allow_nan = False
        return tags

    # ------------------------------------------------------------ files
    def save(self, folder) -> Path:
        """Write the network (``model.safetensors`` + ``model.json``, the project's
        safe model files) and ``estimator.json`` (parameters, classes, curves) into
        ``folder``, created if needed.  Nothing is pickled."""
        check_is_fitted(self)
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        save_model(self.model_, folder)
        params = self.get_params()
        if not (params["random_state"] is None or isinstance(params["random_state"], Integral)):
            params["random_state"] = None  # a RandomState object has no JSON form
        params["hidden_layer_sizes"] = list(_check_params(self))
        state = {
            "format": FORMAT,
            "version": 1,
            "class": type(self).__name__,
            "params": params,
            "n_features_in": int(self.n_features_in_),
            "feature_names_in": getattr(self, "feature_names_in_", np.array([])).tolist(),
            "loss_curve": [float(v) for v in self.loss_curve_],
            "n_iter": int(self.n_iter_),
            "t": int(self.t_),
            "seed": int(self._seed),
            **self._target_state(),
        }
        write_atomic(folder / ESTIMATOR_FILE, (json.dumps(state, indent=2) + "\n").encode())
        return folder

    @classmethod
    def load(cls, folder):
        """The estimator ``save(folder)`` wrote, ready to predict and to ``partial_fit``
        (the optimizer's state starts afresh)."""
        folder = Path(folder)
        state = read_json_object(folder / ESTIMATOR_FILE, "load")
        if state.get("format") != FORMAT or state.get("class") != cls.__name__:
            raise ValueError(f"{folder / ESTIMATOR_FILE} was not written by {cls.__name__}.save")
        try:
            est = cls(**state["params"])
            _check_params(est)
            est.model_ = load_model(folder)
            if est.model_.n_features != state["n_features_in"] or est.model_.dtype != np.dtype(
                est.dtype
            ):
                raise ValueError(f"{folder}: the model does not match {ESTIMATOR_FILE}")
            est.n_features_in_ = state["n_features_in"]
            if state.get("feature_names_in"):
                est.feature_names_in_ = np.asarray(state["feature_names_in"], dtype=object)
            est.loss_curve_, est.n_iter_, est.t_ = state["loss_curve"], state["n_iter"], state["t"]
            est._seed = state["seed"]
            est._restore_targets(state)
            est._compile(est.model_, est._batch(max(1, state["t"] // max(1, state["n_iter"]))))
        except (KeyError, TypeError, AttributeError) as e:
            raise ValueError(
                f"{folder / ESTIMATOR_FILE} is incomplete or malformed ({e!r})"
            ) from None
        return est


class BackpropClassifier(ClassifierMixin, _BackpropBase):
    """A multi-layer perceptron classifier trained by backprop-lab, with
    ``MLPClassifier``'s parameters (see the module's docstring for the mapping).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The labels, in the order of ``predict_proba``'s columns (any labels
        ``numpy.unique`` sorts: integers, strings, ...).
    model_ : backprop_lab.Sequential
        The trained network, for ``backprop_lab.plot`` and the run reports.
    loss_curve_, n_iter_, coefs_, intercepts_, n_features_in_, feature_names_in_
        As in ``MLPClassifier``.
    """

    def _target_checks(self) -> dict:
        return {}

    def _encode_targets(self, y, first, classes=None):
        check_classification_targets(y)
        if first:
            labels = unique_labels(y) if classes is None else unique_labels(classes)
            if len(labels) < 2:
                raise ValueError(
                    f"{type(self).__name__} needs samples of at least 2 classes; the data "
                    f"has one class only ({labels[0]!r})"
                )
            self.classes_ = labels
            self._encoder = LabelEncoder().fit(labels)
        elif classes is not None and not np.array_equal(unique_labels(classes), self.classes_):
            raise ValueError(f"classes={classes!r} is not the classes_ of the first call")
        unknown = np.setdiff1d(y, self.classes_)
        if len(unknown):
            raise ValueError(f"y has labels not in classes_ {self.classes_!r}: {unknown!r}")
        return self._encoder.transform(y).astype(np.float64)

    def _output_layer(self):
        k = len(self.classes_)
        return (1, "binary_crossentropy") if k == 2 else (k, "sparse_categorical_crossentropy")

    def _val_score(self, P, y):
        codes = (P[:, 0] > 0.5) if P.shape[1] == 1 else P.argmax(axis=1)
        return float(np.mean(codes == y))

    def partial_fit(self, X, y, classes=None):
        """One epoch on ``(X, y)``, keeping the weights and the optimizer's state.

        ``classes`` (every label) is required on the first call."""
        if not hasattr(self, "model_") and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit")
        return self._fit(X, y, partial=True, classes=classes)

    def decision_function(self, X):
        """The output layer's logits: shape ``(n_samples,)`` for two classes
        (positive favours ``classes_[1]``), ``(n_samples, n_classes)`` otherwise."""
        Z = self._logits(X)
        return Z[:, 0] if Z.shape[1] == 1 else Z

    def predict_proba(self, X):
        """Class probabilities, shape ``(n_samples, n_classes)``; rows sum to 1."""
        Z = self._logits(X)
        P = self.model_.layers[-1].activation(Z)
        return np.hstack([1 - P, P]) if P.shape[1] == 1 else P

    def predict_log_proba(self, X):
        """``log(predict_proba(X))``; a probability of exactly 0 gives ``-inf``."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X):
        """The most probable class of each row, as labels of ``classes_``."""
        Z = self._logits(X)
        codes = (Z[:, 0] > 0).astype(int) if Z.shape[1] == 1 else Z.argmax(axis=1)
        return self.classes_[codes]

    def _target_state(self) -> dict:
        return {"classes": self.classes_.tolist(), "classes_dtype": self.classes_.dtype.str}

    def _restore_targets(self, state) -> None:
        dtype = np.dtype(state["classes_dtype"])
        self.classes_ = np.asarray(state["classes"], dtype=object if dtype.kind == "O" else dtype)
        self._encoder = LabelEncoder().fit(self.classes_)


class BackpropRegressor(RegressorMixin, _BackpropBase):
    """A multi-layer perceptron regressor trained by backprop-lab, with
    ``MLPRegressor``'s parameters (see the module's docstring for the mapping).

    ``y`` may have several columns (one output unit each).  ``model_`` is the
    trained ``backprop_lab.Sequential``; the other attributes are ``MLPRegressor``'s.
    """

    _loss_scale = 2.0  # the engine's "mse" against scikit-learn's squared_error / 2

    def _target_checks(self) -> dict:
        return {"multi_output": True, "y_numeric": True}

    def _encode_targets(self, y, first, classes=None):
        Y = y.reshape(len(y), -1).astype(np.float64)
        if first:
            self._y_ndim, self._n_targets = y.ndim, Y.shape[1]
        elif Y.shape[1] != self._n_targets:
            raise ValueError(f"y has {Y.shape[1]} columns; the model has {self._n_targets} outputs")
        return Y

    def _output_layer(self):
        return self._n_targets, "mse"

    def _val_score(self, P, y):
        return r2_score(y, P)  # RegressorMixin.score's R², averaged over the outputs

    def partial_fit(self, X, y):
        """One epoch on ``(X, y)``, keeping the weights and the optimizer's state."""
        return self._fit(X, y, partial=True)

    def predict(self, X):
        """Predictions, shape ``(n_samples,)`` for a 1-D ``y``, else ``(n_samples, n_outputs)``."""
        P = self._logits(X)
        return P[:, 0] if self._y_ndim == 1 else P

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _target_state(self) -> dict:
        return {"y_ndim": int(self._y_ndim)}

    def _restore_targets(self, state) -> None:
        self._y_ndim = int(state["y_ndim"])
        self._n_targets = self.model_.layers[-1].units
