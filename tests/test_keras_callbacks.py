"""Keras's callbacks: decisions checked against real Keras fed the same logs.

``ReduceLROnPlateau``, ``EarlyStopping`` and ``ModelCheckpoint`` are driven
epoch by epoch with one sequence of logs, next to Keras's own callback on a
stand-in model, and must take the same decisions; ``CSVLogger`` must write the
same bytes; ``LearningRateScheduler`` must train as Keras does in a real fit.
"""

from __future__ import annotations

import importlib.util
import os

import numpy as np
import pytest

from backprop_lab import SGD, Dense, EarlyStopping, Sequential
from backprop_lab.engine.callbacks import Callback, LambdaCallback
from backprop_lab.engine.file_callbacks import (
    CSVLogger,
    ModelCheckpoint,
    RemoteMonitor,
    TensorBoard,
)
from backprop_lab.engine.schedule_callbacks import LearningRateScheduler, ReduceLROnPlateau

ENGINES = ["numpy"] + (["compiled"] if importlib.util.find_spec("numba") else [])


@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("KERAS_BACKEND", "jax")
    return pytest.importorskip("keras")


def data(n=48, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3)).astype(np.float32)
    return X, (X[:, 0] + 0.3 * X[:, 1] > 0.1).astype(np.float32)


class Saver:
    """A stand-in model: records what a checkpoint asks it to save."""

    def __init__(self, optimizer=None):
        self.saved, self.stop_training, self.optimizer = [], False, optimizer
        self.weights = [np.zeros(1)]

    def save(self, filepath, overwrite=True):
        self.saved.append(("model", os.path.basename(filepath)))

    def save_weights(self, filepath, overwrite=True):
        self.saved.append(("weights", os.path.basename(filepath)))

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        self.weights = weights


def drive(callback, model, logs_per_epoch, after_epoch):
    """Run ``callback``'s epoch hooks on ``model`` over the logs; collect ``after_epoch()``."""
    callback.set_model(model)
    callback.on_train_begin({})
    seen = []
    for epoch, logs in enumerate(logs_per_epoch):
        callback.on_epoch_begin(epoch, {})
        callback.on_epoch_end(epoch, dict(logs))
        seen.append(after_epoch())
        if model.stop_training:
            break
    callback.on_train_end({})
    return seen


PLATEAU = [1.0, 0.9, 0.95, 0.93, 0.91, 0.92, 0.899, 0.9, 0.95, 0.97, 0.96, 0.5, 0.6, 0.7, 0.8]


# ---------------------------------------------------------------------- ReduceLROnPlateau
@pytest.mark.keras
@pytest.mark.parametrize(
    "kwargs",
    [
        {"patience": 2},
        {"patience": 1, "factor": 0.5, "cooldown": 2},
        {"patience": 1, "factor": 0.2, "min_lr": 0.003},
        {"patience": 2, "min_delta": 0.05},
        {"patience": 1, "mode": "max"},
    ],
)
def test_reduce_lr_on_plateau_decides_as_keras(keras, kwargs):
    ours_model = Saver(SGD(0.1))
    theirs_model = Saver(keras.optimizers.SGD(0.1))
    logs = [{"val_loss": v} for v in PLATEAU]
    ours = drive(
        ReduceLROnPlateau(**kwargs), ours_model, logs, lambda: ours_model.optimizer.learning_rate
    )
    theirs = drive(
        keras.callbacks.ReduceLROnPlateau(**kwargs),
        theirs_model,
        logs,
        lambda: float(theirs_model.optimizer.learning_rate),
    )
    assert len(set(theirs)) > 1  # the premise: the rate changed at least once
    np.testing.assert_allclose([float(lr) for lr in ours], theirs, rtol=1e-6)


@pytest.mark.parametrize("engine", ENGINES)
def test_reduce_lr_on_plateau_lowers_the_rate_in_fit(engine):
    """mode="max" on a falling loss never improves: the rate drops after each patience."""
    X, y = data()
    model = Sequential([Dense(1, "sigmoid", input_shape=(3,))], seed=0)
    model.compile(SGD(0.1), "binary_crossentropy", engine=engine)
    plateau = ReduceLROnPlateau("loss", factor=0.5, patience=2, mode="max")
    history = model.fit(X, y, epochs=6, verbose=0, callbacks=[plateau])
    # Epoch 0 sets the best; epochs 1, 2 wait, reduce after 2; then 3, 4 wait, reduce after 4.
    assert history.history["learning_rate"] == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05, 0.025])
    assert float(model.optimizer.learning_rate) == pytest.approx(0.025)


# ---------------------------------------------------------------------- LearningRateScheduler
@pytest.mark.keras
@pytest.mark.parametrize("engine", ENGINES)
def test_learning_rate_scheduler_trains_as_keras(keras, engine):
    X, y = data()

    def schedule(epoch, lr):
        return lr if epoch < 1 else lr * 0.5

    k = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, activation="sigmoid")])
    k.compile(keras.optimizers.SGD(0.5), "binary_crossentropy")
    ours = Sequential([Dense(1, "sigmoid", input_shape=(3,))])
    ours.compile(SGD(0.5), "binary_crossentropy", engine=engine)
    ours.set_weights(k.get_weights())
    fit = {"batch_size": 16, "epochs": 4, "shuffle": False, "verbose": 0}
    hk = k.fit(X, y, callbacks=[keras.callbacks.LearningRateScheduler(schedule)], **fit).history
    hb = ours.fit(X, y, callbacks=[LearningRateScheduler(schedule)], **fit).history
    assert ours.engine_used == engine
    assert list(hb) == list(hk) == ["loss", "learning_rate"]  # added after the sort
    np.testing.assert_allclose(hb["learning_rate"], [0.5, 0.25, 0.125, 0.0625])
    np.testing.assert_allclose(hb["learning_rate"], hk["learning_rate"], rtol=1e-6)
    np.testing.assert_allclose(hb["loss"], hk["loss"], rtol=1e-5)
    for a, b in zip(ours.get_weights(), k.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_learning_rate_scheduler_refuses_a_non_float():
    X, y = data()
    model = Sequential([Dense(1, "sigmoid", input_shape=(3,))], seed=0)
    model.compile(SGD(0.1), "binary_crossentropy")
    with pytest.raises(ValueError, match="schedule` function should be a float. Got: 1"):
        model.fit(X, y, verbose=0, callbacks=[LearningRateScheduler(lambda epoch: 1)])


# ---------------------------------------------------------------------- EarlyStopping
@pytest.mark.keras
@pytest.mark.parametrize(
    ("kwargs", "values"),
    [
        ({"patience": 2, "baseline": 0.85}, [1.0, 0.9, 0.88, 0.87, 0.86, 0.8]),
        ({"patience": 1, "start_from_epoch": 3}, [1.0, 1.1, 1.2, 1.3, 1.4, 1.5]),
        ({"patience": 2, "min_delta": 0.05}, [1.0, 0.97, 0.96, 0.9, 0.89, 0.88]),
        ({"patience": 1, "restore_best_weights": True}, [1.0, 0.5, 0.7, 0.8]),
        ({"patience": 1, "mode": "max"}, [0.5, 0.7, 0.6, 0.9]),
    ],
)
def test_early_stopping_decides_as_keras(keras, kwargs, values):
    def run(callback):
        model = Saver()
        stops = drive(
            callback,
            model,
            [{"val_loss": v} for v in values],
            lambda: model.stop_training,
        )
        model.weights = [np.array([float(len(stops))])]  # "weights" at the end of each epoch
        return stops, getattr(callback, "best", None), callback.stopped_epoch

    assert run(EarlyStopping(**kwargs)) == run(keras.callbacks.EarlyStopping(**kwargs))


# ---------------------------------------------------------------------- ModelCheckpoint
@pytest.mark.keras
@pytest.mark.parametrize(
    "kwargs",
    [
        {"filepath": "ckpt-{epoch:02d}-{val_loss:.2f}.keras"},
        {"filepath": "best.keras", "save_best_only": True},
        {"filepath": "best.keras", "save_best_only": True, "monitor": "loss", "mode": "max"},
        {"filepath": "w-{epoch}.weights.h5", "save_weights_only": True, "save_best_only": True},
        {"filepath": "b.keras", "save_best_only": True, "initial_value_threshold": 0.92},
    ],
)
def test_model_checkpoint_saves_as_keras(keras, kwargs, tmp_path):
    logs = [{"loss": 1 - i / 10, "val_loss": v} for i, v in enumerate(PLATEAU[:8])]
    kwargs = {**kwargs, "filepath": str(tmp_path / kwargs["filepath"])}
    ours, theirs = Saver(), Saver()
    drive(ModelCheckpoint(**kwargs), ours, logs, lambda: None)
    drive(keras.callbacks.ModelCheckpoint(**kwargs), theirs, logs, lambda: None)
    assert ours.saved == theirs.saved and ours.saved


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"filepath": "m.txt"}, ValueError, "must end in `.keras`"),
        ({"filepath": "m.keras", "save_weights_only": True}, ValueError, "`.weights.h5`"),
        ({"filepath": "m.keras", "save_freq": 10}, NotImplementedError, "save_freq=<batches>"),
        ({"filepath": "m.keras", "save_freq": "batch"}, ValueError, "Unrecognized save_freq"),
    ],
)
def test_model_checkpoint_refuses_bad_options(kwargs, error, match):
    with pytest.raises(error, match=match):
        ModelCheckpoint(**kwargs)


def test_model_checkpoint_names_a_missing_log_key(tmp_path):
    checkpoint = ModelCheckpoint(str(tmp_path / "m-{val_acc:.2f}.keras"))
    with pytest.raises(KeyError, match="Failed to format this callback filepath"):
        drive(checkpoint, Saver(), [{"loss": 1.0}], lambda: None)


def test_model_checkpoint_writes_a_real_keras_file(tmp_path):
    loading = pytest.importorskip("backprop_lab.engine.keras_loading")
    X, y = data()
    model = Sequential([Dense(2, "relu", input_shape=(3,)), Dense(1, "sigmoid")], seed=0)
    model.compile(SGD(0.1), "binary_crossentropy", metrics=["accuracy"])
    path = tmp_path / "sub" / "m-{epoch:02d}.keras"
    model.fit(X, y, epochs=2, verbose=0, callbacks=[ModelCheckpoint(str(path), monitor="loss")])
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["m-01.keras", "m-02.keras"]
    loaded = loading.load_model(tmp_path / "sub" / "m-02.keras")
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------------- CSVLogger
@pytest.mark.keras
@pytest.mark.parametrize(
    ("separator", "append", "logs"),
    [
        (",", False, [{"loss": 0.5, "acc": 0.25}, {"loss": 0.4, "acc": 0.5}]),
        (";", True, [{"loss": 0.5, "val_loss": 0.75}, {"loss": 0.25, "val_loss": 0.5}]),
    ],
)
def test_csv_logger_writes_what_keras_writes(keras, tmp_path, separator, append, logs):
    texts = []
    for name, cls in [("ours.csv", CSVLogger), ("keras.csv", keras.callbacks.CSVLogger)]:
        path = tmp_path / name
        for _ in range(2 if append else 1):  # append: a second run adds rows, no header
            drive(cls(str(path), separator=separator, append=append), Saver(), logs, lambda: None)
        texts.append(path.read_bytes())
    assert texts[0] == texts[1]
    assert texts[0].count(b"epoch") == 1


def test_csv_logger_in_fit_has_a_row_per_epoch(tmp_path):
    X, y = data()
    model = Sequential([Dense(1, "sigmoid", input_shape=(3,))], seed=0)
    model.compile(SGD(0.1), "binary_crossentropy", metrics=["acc"])
    path = tmp_path / "log.csv"
    history = model.fit(X, y, epochs=3, verbose=0, callbacks=[CSVLogger(path)])
    rows = [line.split(",") for line in path.read_text().splitlines()]
    assert rows[0] == ["epoch", "acc", "loss", "val_acc", "val_loss"]
    assert [r[0] for r in rows[1:]] == ["0", "1", "2"]
    assert [float(r[2]) for r in rows[1:]] == history.history["loss"]
    assert {r[3] for r in rows[1:]} == {"NA"}


# ---------------------------------------------------------------------- the others
@pytest.mark.parametrize("engine", ENGINES)
def test_lambda_callback_gets_every_hook_it_was_given(engine):
    X, y = data()
    calls = []
    callback = LambdaCallback(
        on_epoch_end=lambda epoch, logs: calls.append(("epoch", epoch, sorted(logs))),
        on_train_batch_end=lambda batch, logs: calls.append(("batch", batch)),
        on_train_begin=lambda logs: calls.append(("begin", logs)),
    )
    model = Sequential([Dense(1, "sigmoid", input_shape=(3,))], seed=0)
    model.compile(SGD(0.1), "binary_crossentropy", metrics=["acc"], engine=engine)
    model.fit(X, y, epochs=2, batch_size=16, verbose=0, callbacks=[callback])
    epoch = [("batch", 0), ("batch", 1), ("batch", 2)]  # a compiled run stops at each batch too
    assert calls == [("begin", {}), *epoch, ("epoch", 0, ["acc", "loss"])] + [
        *epoch,
        ("epoch", 1, ["acc", "loss"]),
    ]


@pytest.mark.parametrize("cls", [RemoteMonitor, TensorBoard])
def test_remote_monitor_and_tensorboard_are_refused_by_name(cls):
    with pytest.raises(NotImplementedError, match=f"keras.callbacks.{cls.__name__} is not"):
        cls(log_dir="logs")


def test_fit_calls_the_test_hooks_around_validation_and_refuses_those_it_never_calls():
    class Seen(Callback):
        def __init__(self):
            super().__init__()
            self.calls = []

        def on_test_begin(self, logs=None):
            self.calls.append("begin")

        def on_test_end(self, logs=None):
            self.calls.append(sorted(logs))

    class PerBatch(Callback):
        def on_test_batch_end(self, batch, logs=None): ...

    model = Sequential([Dense(1, "sigmoid", input_shape=(2,))], seed=0)
    model.compile("sgd", "binary_crossentropy", metrics=["accuracy"])
    X, y = np.zeros((8, 2)), np.array([0, 1] * 4)
    seen = Seen()
    model.fit(X, y, epochs=2, validation_split=0.25, verbose=0, callbacks=[seen])
    assert seen.calls == ["begin", ["accuracy", "loss"]] * 2
    with pytest.raises(NotImplementedError, match="PerBatch.on_test_batch_end is not supported"):
        model.fit(X, y, epochs=1, verbose=0, callbacks=[PerBatch()])
