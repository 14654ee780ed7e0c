"""One training run from ``Settings``: data, model, training, metrics.

The command line and the experiments both call ``train_run``; it prints
nothing itself and writes no files (``runs.folders`` does that).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from ..data import datasets
from ..data.csvio import load_csv
from ..engine.callbacks import Callback
from ..engine.layers import Dense
from ..engine.metrics import (
    baseline_accuracy,
    class_scores,
    confusion_matrix,
    predicted_labels,
    region_agreement,
    regression_scores,
)
from ..engine.model import Sequential
from ..engine.random import fresh_seed
from ..engine.regularizers import L2
from .diagnosis import diagnose
from .recording import make_recorders
from .settings import Settings, output_for

EXTENT = (-1.0, 1.0, -1.0, 1.0)

# A diverging run overflows: RunRecorder detects that and the run reports it,
# so NumPy's overflow warnings would only be noise (and, with warnings as
# errors, an exception that loses the run).
OVERFLOW_IS_REPORTED = {"over": "ignore", "invalid": "ignore", "divide": "ignore"}


@dataclass
class Data:
    """A train/test split, the problem it poses and, where known, the exact rule.

    ``X_*`` are float arrays of shape ``(n, n_features)``.  For
    ``task="classification"``, ``y_*`` hold int64 class ids ``0..k-1`` and
    ``true_labels`` (if not None) maps points of shape ``(n, 2)`` to the true
    class ids, shape ``(n,)``.  For ``task="regression"``, ``y_*`` hold float
    targets and ``true_labels`` (the name is kept) is the exact target
    function ``f(X) -> (n,)`` float, where the generator knows it.

    Raises
    ------
    ValueError
        On creation, for features or targets that are not finite numbers,
        class ids that are not non-negative integers, or an unknown task.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    true_labels: object = None  # callable (n, 2) -> (n,), or None
    task: str = "classification"

    def __post_init__(self):
        if self.task not in ("classification", "regression"):
            raise ValueError(f"task must be classification or regression, got {self.task!r}")
        for name in ("X_train", "y_train", "X_test", "y_test"):
            a = np.asarray(getattr(self, name))
            if not (np.issubdtype(a.dtype, np.number) or a.dtype == np.bool_):
                raise ValueError(f"{name} must hold numbers, got dtype {a.dtype}")
            if not np.isfinite(a).all():
                raise ValueError(f"{name} holds NaN or infinity; only finite values are allowed")
            if name[0] == "y" and self.task == "classification":
                if np.any((a < 0) | (a != np.floor(a))):
                    raise ValueError(
                        f"{name} must hold class ids 0..k-1 for classification; "
                        "use task='regression' for real targets"
                    )
                a = a.astype(np.int64)
            setattr(self, name, a)

    @property
    def n_classes(self) -> int:
        """Number of classes (the largest class id + 1), or 0 for regression."""
        if self.task == "regression":
            return 0
        return int(np.concatenate([self.y_train, self.y_test]).max()) + 1


def seeds(seed: int) -> tuple[int, int, int]:
    """Independent seeds for the data, the split and the model, from one run seed."""
    a, b, c = np.random.SeedSequence(seed).generate_state(3)
    return int(a), int(b), int(c)


def check_problem(task: str, y: np.ndarray, source: str) -> None:
    """Refuse class labels a classifier cannot learn: one class only, more than
    allowed, or a gap (a class id below the largest with no points)."""
    if task != "classification":
        return
    found = np.unique(y)
    if len(found) < 2:
        raise ValueError(
            f"{source}: every label is class {int(found[0])}; classification needs at least "
            "2 classes"
        )
    if found[-1] + 1 > datasets.MAX_CLASSES:
        raise ValueError(
            f"{source}: labels up to {int(found[-1])} make {int(found[-1]) + 1} classes; "
            f"at most {datasets.MAX_CLASSES} are allowed (use task regression for real values)"
        )
    missing = np.setdiff1d(np.arange(int(found[-1]) + 1), found)
    if len(missing):
        raise ValueError(
            f"{source}: class {int(missing[0])} has no points; class labels must be "
            "0..k-1 with every class present"
        )


def load_data(settings: Settings) -> Data:
    """Make or read the dataset and split it, reproducibly from ``settings.seed``.

    Raises
    ------
    ValueError
        One line naming the problem: a missing or malformed CSV file, labels
        that fit no task or not the one asked for, one class only, too many
        classes, a loss that does not fit the data, non-finite points.
    """
    data_seed, split_seed, _ = seeds(settings.seed)
    true = None
    if settings.dataset.startswith("csv:"):
        path = settings.dataset[4:]
        asked = None if settings.task == "auto" else settings.task
        try:
            X, y = load_csv(path, task=asked)
        except FileNotFoundError:
            raise ValueError(f"CSV file {path} does not exist") from None
        task = "regression" if y.dtype.kind == "f" else "classification"
        check_problem(task, y, path)
        try:
            output_for(task, int(y.max()) + 1, settings.loss)
        except ValueError as e:
            raise ValueError(f"{path}: {e}") from None
        if len(X) < 2:
            raise ValueError(f"{path}: need at least 2 rows to split into train and test")
    else:
        task = settings.generated_task()
        maker = datasets.DATASETS[settings.dataset]
        options = {"n_classes": settings.classes} if settings.dataset in datasets.MULTICLASS else {}
        X, y = maker(settings.samples, noise=settings.noise, random_state=data_seed, **options)
        if not (np.isfinite(X).all() and np.isfinite(y).all()):  # refused before a folder exists
            raise ValueError(f"noise={settings.noise!r} makes points that are not finite")
        if settings.dataset in datasets.TRUE_LABELS:
            name = settings.dataset

            def true(P):
                return datasets.true_labels(name, P)

    X_tr, X_te, y_tr, y_te = datasets.train_test_split(
        X, y, test_size=settings.test_size, random_state=split_seed
    )
    return Data(X_tr, y_tr, X_te, y_te, true, task)


def build_model(
    settings: Settings,
    n_features: int,
    n_classes: int,
    dtype=None,
    task: str = "classification",
    regularizer=None,
) -> Sequential:
    """The network of ``settings``: hidden Dense layers, then the output the problem needs.

    The output and the loss follow ``task`` and ``n_classes`` unless
    ``settings.loss`` names a loss (see ``settings.output_for``): 1 sigmoid
    unit for 2 classes, ``n_classes`` softmax units for more, 1 linear unit
    trained with "mse" for regression.  ``regularizer`` (an engine
    ``Regularizer``, e.g. the playground's L1) replaces ``settings.l2``'s L2
    penalty on every kernel when given.
    """
    _, _, model_seed = seeds(settings.seed)
    loss, units, activation = output_for(task, n_classes, settings.loss)
    reg = regularizer or (L2(settings.l2) if settings.l2 else None)
    model = Sequential(seed=model_seed, dtype=dtype)
    fan_in = {"input_shape": (n_features,)}
    for width, act in settings.hidden:
        model.add(Dense(width, act or settings.activation, kernel_regularizer=reg, **fan_in))
        fan_in = {}
    model.add(Dense(units, activation, kernel_regularizer=reg, **fan_in))
    metrics = [] if task == "regression" else ["accuracy"]
    model.compile(settings.make_optimizer(), loss, metrics, engine=settings.engine)
    return model


class RunRecorder(Callback):
    """Times each epoch, keeps the weights of the last finished epoch, and stops
    at the end of the first epoch whose loss, validation loss or weights are
    not finite (divergence)."""

    def __init__(self):
        super().__init__()
        self.seconds: list[float] = []
        self.diverged_epoch: int | None = None

    def on_train_begin(self, logs=None):
        self.seconds = []
        self.last_weights = self.model.get_weights()
        self.diverged_epoch = None
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self._start
        weights = self.model.get_weights()
        # The last batch's update can overflow the weights after the epoch's
        # loss was measured, so the weights are checked too: the weights kept
        # must be finite to be saved and loaded again.
        if all(math.isfinite(v) for v in logs.values()) and all(
            np.isfinite(w).all() for w in weights
        ):
            self.last_weights = weights
        else:
            self.diverged_epoch = epoch + 1
            self.model.stop_training = True
        # Last: an epoch counts as finished once its weights are kept (Ctrl-C).
        self.seconds.append(seconds)


class _WhenTrainingEnds(Callback):
    """Calls ``hook()`` when ``fit`` ends by itself (not by an exception)."""

    def __init__(self, hook):
        super().__init__()
        self.hook = hook

    def on_train_end(self, logs=None):
        self.hook()


@dataclass
class RunResult:
    settings: Settings
    model: Sequential
    data: Data
    history: dict
    epoch_seconds: list
    train_seconds: float
    diverged_epoch: int | None = None
    interrupted: bool = False
    metrics: dict = field(default_factory=dict)
    recording: object = None  # recording.Recording: what the pictures of learning need


def evaluate_run(model: Sequential, data: Data, resolution: int = 1000) -> dict:
    """The test metrics of ``model`` on ``data``.

    Classification: test loss and accuracy, the majority baseline, the
    confusion matrix, per-class precision and recall, macro-F1 and, where the
    true rule of two classes is known, the area of disagreement and IoU.
    Regression: test loss, ``mse``, ``mae``, ``r2`` and ``baseline_mse`` (the
    MSE of predicting the mean, against which R² is measured).
    """
    P = model.predict(data.X_test, verbose=0)
    out = model.evaluate(data.X_test, data.y_test, verbose=0)
    loss = out[0] if isinstance(out, list | tuple) else out
    metrics = {"test_loss": float(loss), "n_train": len(data.X_train), "n_test": len(data.X_test)}
    if data.task == "regression":
        metrics.update(regression_scores(data.y_test, P[:, 0]))
        return metrics
    pred = predicted_labels(P)
    n_classes = max(data.n_classes, P.shape[1], 2)
    C = confusion_matrix(data.y_test, pred, n_classes)
    metrics.update(
        {
            "test_accuracy": float(np.mean(pred == data.y_test)),
            "baseline_accuracy": baseline_accuracy(data.y_test),
            "confusion_matrix": C.tolist(),
            **class_scores(C),
        }
    )
    if data.true_labels is not None and P.shape[1] == 1:

        def learned(G):
            return model.predict(G, verbose=0)[:, 0] > 0.5

        metrics.update(region_agreement(learned, data.true_labels, EXTENT, resolution))
    return metrics


def train_run(
    settings: Settings,
    *,
    verbose: int = 0,
    callbacks=(),
    data: Data | None = None,
    animate: bool = False,
    landscape: bool = False,
    when_trained=None,
):
    """Train the network of ``settings`` and measure it.

    Returns a ``RunResult``.  A diverging run stops at the end of the epoch in
    which the loss became non-finite and keeps the last finite weights;
    Ctrl-C stops it the same way, with ``interrupted=True``, once an epoch has
    finished (before that, the ``KeyboardInterrupt`` is raised: nothing is kept).

    ``settings.loss`` and ``settings.task`` are set to the loss and the task
    the run used (``"auto"`` follows the data).

    ``result.recording`` always holds each layer's gradient norm per epoch;
    ``animate`` adds frames of the output over the plane (2-D data only) and
    ``landscape`` the trajectory of the weights (see ``recording``).
    ``when_trained()``, if given, is called as soon as training has ended by
    itself, before the run is measured (the CLI holds Ctrl-C from then on).
    """
    if settings.seed is None:
        settings.seed = fresh_seed()
    if data is None:
        data = load_data(settings)
    else:  # given from Python: refuse what load_data refuses for files
        check_problem(data.task, np.concatenate([data.y_train, data.y_test]), "the data")
    # config.json records the loss and the task the run used, not "auto".
    settings.loss = output_for(data.task, data.n_classes, settings.loss)[0]
    settings.task = data.task
    model = build_model(settings, data.X_train.shape[1], data.n_classes, task=data.task)
    recorders, recording = make_recorders(
        data.X_train,
        data.y_train,
        frames=animate,
        trajectory=landscape,
    )
    recorder = RunRecorder()
    start = time.perf_counter()
    interrupted = False
    try:
        with np.errstate(**OVERFLOW_IS_REPORTED):
            history = model.fit(
                data.X_train,
                data.y_train,
                epochs=settings.epochs,
                batch_size=settings.batch_size,
                validation_data=(data.X_test, data.y_test),
                verbose=verbose,
                # Recorders last: their final snapshot sees what other callbacks
                # leave at the end (EarlyStopping's restored weights).
                callbacks=[
                    *([_WhenTrainingEnds(when_trained)] if when_trained else []),
                    recorder,
                    *callbacks,
                    *recorders,
                ],
            ).history
    except KeyboardInterrupt:
        if not recorder.seconds:  # no finished epoch: nothing worth keeping
            raise
        interrupted = True
        # The finished epochs: a Ctrl-C can land after History saw an epoch
        # and before RunRecorder kept its weights.
        history = {k: v[: len(recorder.seconds)] for k, v in model.history.history.items()}
    seconds = time.perf_counter() - start
    if (recorder.diverged_epoch or interrupted) and hasattr(recorder, "last_weights"):
        model.set_weights(recorder.last_weights)  # the last finished, finite epoch
    result = RunResult(
        settings,
        model,
        data,
        history,
        recorder.seconds,
        seconds,
        recorder.diverged_epoch,
        interrupted,
        recording=recording,
    )
    with np.errstate(**OVERFLOW_IS_REPORTED):  # the last finite weights may still be huge
        result.metrics = evaluate_run(model, data)
    result.metrics["diagnosis"] = diagnose(result)  # what went wrong, or right (diagnosis.py)
    return result
