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
from ..engine.metrics import baseline_accuracy, confusion_matrix, predicted_labels, region_agreement
from ..engine.model import Sequential
from ..engine.random import fresh_seed
from ..engine.regularizers import L2
from .diagnosis import diagnose
from .recording import make_recorders
from .settings import Settings

EXTENT = (-1.0, 1.0, -1.0, 1.0)

# A diverging run overflows: RunRecorder detects that and the run reports it,
# so NumPy's overflow warnings would only be noise (and, with warnings as
# errors, an exception that loses the run).
OVERFLOW_IS_REPORTED = {"over": "ignore", "invalid": "ignore", "divide": "ignore"}


@dataclass
class Data:
    """A train/test split and, where known, the exact labelling rule."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    true_labels: object = None  # callable (n, 2) -> (n,) 0/1, or None

    @property
    def n_classes(self) -> int:
        return int(np.concatenate([self.y_train, self.y_test]).max()) + 1


def seeds(seed: int) -> tuple[int, int, int]:
    """Independent seeds for the data, the split and the model, from one run seed."""
    a, b, c = np.random.SeedSequence(seed).generate_state(3)
    return int(a), int(b), int(c)


def load_data(settings: Settings) -> Data:
    """Make or read the dataset and split it, reproducibly from ``settings.seed``."""
    data_seed, split_seed, _ = seeds(settings.seed)
    true = None
    if settings.dataset.startswith("csv:"):
        path = settings.dataset[4:]
        try:
            X, y = load_csv(path)
        except FileNotFoundError:
            raise ValueError(f"CSV file {path} does not exist") from None
        if settings.loss != "sparse_categorical_crossentropy" and np.any(y > 1):
            raise ValueError(
                f"{path}: labels must be 0 or 1 for {settings.loss}, found {int(y.max())}; "
                "use --loss sparse_categorical_crossentropy for more classes"
            )
        if len(X) < 2:
            raise ValueError(f"{path}: need at least 2 rows to split into train and test")
    else:
        maker = datasets.DATASETS[settings.dataset]
        X, y = maker(settings.samples, noise=settings.noise, random_state=data_seed)
        if not np.isfinite(X).all():  # refused here, before a run folder exists
            raise ValueError(f"noise={settings.noise!r} makes points that are not finite")
        if settings.dataset in datasets.TRUE_LABELS:
            name = settings.dataset

            def true(P):
                return datasets.true_labels(name, P)

    X_tr, X_te, y_tr, y_te = datasets.train_test_split(
        X, y, test_size=settings.test_size, random_state=split_seed
    )
    return Data(X_tr, y_tr, X_te, y_te, true)


def build_model(settings: Settings, n_features: int, n_classes: int, dtype=None) -> Sequential:
    """The network of ``settings``: hidden Dense layers, then the output the loss needs."""
    _, _, model_seed = seeds(settings.seed)
    reg = L2(settings.l2) if settings.l2 else None
    model = Sequential(seed=model_seed, dtype=dtype)
    fan_in = {"input_shape": (n_features,)}
    for width, act in settings.hidden:
        model.add(Dense(width, act or settings.activation, kernel_regularizer=reg, **fan_in))
        fan_in = {}
    if settings.loss == "sparse_categorical_crossentropy":
        model.add(Dense(max(n_classes, 2), "softmax", kernel_regularizer=reg, **fan_in))
    else:
        model.add(Dense(1, "sigmoid", kernel_regularizer=reg, **fan_in))
    model.compile(settings.make_optimizer(), settings.loss, ["accuracy"], engine=settings.engine)
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
    """Test loss and accuracy, the majority baseline, the confusion matrix and,
    where the true rule is known, the area of disagreement and IoU."""
    loss, acc = model.evaluate(data.X_test, data.y_test, verbose=0)
    P = model.predict(data.X_test, verbose=0)
    pred = predicted_labels(P)
    n_classes = max(data.n_classes, P.shape[1], 2)
    metrics = {
        "test_loss": float(loss),
        "test_accuracy": float(acc),
        "baseline_accuracy": baseline_accuracy(data.y_test),
        "n_train": len(data.X_train),
        "n_test": len(data.X_test),
        "confusion_matrix": confusion_matrix(data.y_test, pred, n_classes).tolist(),
    }
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

    ``result.recording`` always holds each layer's gradient norm per epoch;
    ``animate`` adds frames of the output over the plane (2-D data only) and
    ``landscape`` the trajectory of the weights (see ``recording``).
    ``when_trained()``, if given, is called as soon as training has ended by
    itself, before the run is measured (the CLI holds Ctrl-C from then on).
    """
    if settings.seed is None:
        settings.seed = fresh_seed()
    data = data or load_data(settings)
    model = build_model(settings, data.X_train.shape[1], data.n_classes)
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
