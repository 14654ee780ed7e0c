"""Behaviour of the Keras-like API: fit, History, validation, weights, seeds,
callbacks, printing, and the errors bad arguments raise."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from backprop_lab import (
    SGD,
    Callback,
    Dense,
    EarlyStopping,
    History,
    Sequential,
    TerminateOnNaN,
    set_random_seed,
)
from backprop_lab.engine.regularizers import L2


def circle(n=200, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(n, 2))
    y = ((X**2).sum(axis=1) <= 0.25).astype(float)
    return X, y


@pytest.fixture(params=["numpy", "compiled"])
def engine(request):
    """Behaviour that involves fit is checked on both training engines."""
    if request.param == "compiled":
        pytest.importorskip("numba")
    return request.param


def article_model(seed=0, lr=0.1, dtype=None, **compile_kwargs):
    model = Sequential(
        [Dense(8, "relu", input_shape=(2,)), Dense(1, "sigmoid")], seed=seed, dtype=dtype
    )
    model.compile(SGD(lr), "binary_crossentropy", metrics=["accuracy"], **compile_kwargs)
    return model


def bce(y, p):
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


class Recorder(Callback):
    """Records every hook call, with the logs it was given."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def on_train_begin(self, logs=None):
        self.calls.append(("train_begin",))

    def on_train_end(self, logs=None):
        self.calls.append(("train_end",))

    def on_epoch_begin(self, epoch, logs=None):
        self.calls.append(("epoch_begin", epoch))

    def on_epoch_end(self, epoch, logs=None):
        self.calls.append(("epoch_end", epoch, dict(logs)))

    def on_train_batch_begin(self, batch, logs=None):
        self.calls.append(("batch_begin", batch))

    def on_train_batch_end(self, batch, logs=None):
        self.calls.append(("batch_end", batch, dict(logs)))


class WeightsAtEpochEnd(Callback):
    def __init__(self):
        super().__init__()
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.model.get_weights())


def assert_weights_equal(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


# ---------------------------------------------------------------------- fit and History
def test_fit_returns_history_with_one_value_per_epoch(engine):
    X, y = circle()
    Xv, yv = circle(50, seed=1)
    model = article_model(engine=engine)
    history = model.fit(X, y, epochs=3, batch_size=16, validation_data=(Xv, yv), verbose=0)
    assert isinstance(history, History)
    assert model.history is history
    assert model.engine_used == engine
    assert history.epoch == [0, 1, 2]
    assert sorted(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert all(len(values) == 3 for values in history.history.values())
    assert all(
        0.0 <= a <= 1.0 for a in history.history["accuracy"] + history.history["val_accuracy"]
    )
    # The last epoch's validation values are those of the final weights.
    val_loss, val_accuracy = model.evaluate(Xv, yv, verbose=0)
    assert history.history["val_loss"][-1] == pytest.approx(val_loss, rel=1e-6)
    assert history.history["val_accuracy"][-1] == val_accuracy


def test_epoch_loss_is_the_mean_of_batch_losses_before_each_step(engine):
    """One full batch: the logged loss and accuracy are those of the initial weights."""
    X, y = circle(64)
    model = article_model(dtype="float64", engine=engine)
    before_loss, before_accuracy = model.evaluate(X, y, verbose=0)
    history = model.fit(X, y, epochs=1, batch_size=64, verbose=0)
    assert history.history["loss"] == [pytest.approx(before_loss, rel=1e-12)]
    assert history.history["accuracy"] == [before_accuracy]
    assert model.evaluate(X, y, verbose=0)[0] != pytest.approx(before_loss, rel=1e-6)


def test_history_without_metrics_has_only_loss(engine):
    X, y = circle()
    model = Sequential([Dense(4, "tanh", input_shape=(2,)), Dense(1, "sigmoid")], seed=0)
    model.compile("sgd", "binary_crossentropy", engine=engine)
    history = model.fit(X, y, epochs=2, verbose=0)
    assert list(history.history) == ["loss"]
    assert isinstance(model.evaluate(X, y, verbose=0), float)


def test_logged_loss_includes_the_regularization_penalty(engine):
    X, y = circle(64)
    model = Sequential(
        [Dense(8, "relu", input_shape=(2,), kernel_regularizer=L2(0.1)), Dense(1, "sigmoid")],
        seed=0,
        dtype="float64",
    )
    model.compile("sgd", "binary_crossentropy", engine=engine)
    penalty = 0.1 * float((model.layers[0].W ** 2).sum())
    expected = bce(y, model.predict(X, verbose=0)[:, 0]) + penalty
    assert model.evaluate(X, y, verbose=0) == pytest.approx(expected, rel=1e-12)
    history = model.fit(X, y, epochs=1, batch_size=64, verbose=0)
    assert history.history["loss"] == [pytest.approx(expected, rel=1e-12)]


def test_validation_split_holds_out_the_last_samples_before_shuffling(engine):
    """10 samples, split 0.25: floor(10 * 0.75) = 7 train, the last 3 validate (as Keras)."""
    X, y = circle(10, seed=3)
    model_a = article_model(seed=5, engine=engine)
    split = model_a.fit(X, y, epochs=4, batch_size=3, validation_split=0.25, verbose=0)
    model_b = article_model(seed=5, engine=engine)
    explicit = model_b.fit(
        X[:7], y[:7], epochs=4, batch_size=3, validation_data=(X[7:], y[7:]), verbose=0
    )
    # Shuffling permutes only the 7 training samples, with the same generator.
    assert split.history == explicit.history
    assert_weights_equal(model_a.get_weights(), model_b.get_weights())
    # Holding out the first 3 instead would give a different validation loss.
    model_c = article_model(seed=5, engine=engine)
    other = model_c.fit(
        X[3:], y[3:], epochs=4, batch_size=3, validation_data=(X[:3], y[:3]), verbose=0
    )
    assert other.history["val_loss"] != split.history["val_loss"]


def test_validation_data_takes_precedence_over_validation_split():
    X, y = circle(40)
    Xv, yv = circle(10, seed=9)
    a = article_model().fit(
        X, y, epochs=2, validation_data=(Xv, yv), validation_split=0.5, verbose=0
    )
    b = article_model().fit(X, y, epochs=2, validation_data=(Xv, yv), verbose=0)
    assert a.history == b.history


def test_model_without_input_shape_builds_from_the_first_data(engine):
    X, y = circle(30)
    X3 = np.hstack([X, X[:, :1] ** 2])
    model = Sequential([Dense(4, "relu"), Dense(1, "sigmoid")], seed=0)
    assert not model.built and model.get_weights() == []
    model.compile("sgd", "binary_crossentropy", engine=engine)
    model.fit(X3, y, epochs=1, verbose=0)
    assert model.built
    assert [w.shape for w in model.get_weights()] == [(3, 4), (4,), (4, 1), (1,)]
    # Built lazily or up front, the same seed draws the same weights.
    eager = Sequential([Dense(4, "relu", input_shape=(3,)), Dense(1, "sigmoid")], seed=0)
    lazy = Sequential([Dense(4, "relu"), Dense(1, "sigmoid")], seed=0)
    lazy.predict(X3, verbose=0)
    assert_weights_equal(lazy.get_weights(), eager.get_weights())
    with pytest.raises(ValueError, match="x has 2 columns but the model expects 3"):
        model.predict(X, verbose=0)


# ---------------------------------------------------------------------- weights
def test_get_and_set_weights_round_trip():
    model = article_model()
    weights = model.get_weights()
    assert [w.shape for w in weights] == [(2, 8), (8,), (8, 1), (1,)]
    params = model.params
    new = [np.full(w.shape, i + 0.5) for i, w in enumerate(weights)]
    model.set_weights(new)
    assert_weights_equal(model.get_weights(), new)
    # Loaded in place (optimizer state stays aligned) and kept in the model's dtype.
    assert all(p is q for p, q in zip(model.params, params))
    assert all(p.dtype == np.float32 for p in model.params)
    # Both directions copy: editing either side leaves the other alone.
    new[0][0, 0] = 99.0
    model.get_weights()[1][0] = 99.0
    assert model.params[0][0, 0] == 0.5 and model.params[1][0] == 1.5


def test_set_weights_errors():
    model = article_model()
    weights = model.get_weights()
    with pytest.raises(ValueError, match="set_weights got 3 arrays, the model has 4"):
        model.set_weights(weights[:3])
    with pytest.raises(ValueError, match=r"weight 2 has shape \(1, 8\), expected \(8, 1\)"):
        model.set_weights([weights[0], weights[1], weights[2].T, weights[3]])
    bad = [w.copy() for w in weights]
    bad[1][0] = np.nan
    with pytest.raises(ValueError, match="weight 1 contains NaN"):
        model.set_weights(bad)
    assert_weights_equal(model.get_weights(), weights)  # a refused load changes nothing


# ---------------------------------------------------------------------- determinism
def train(seed, X, y, engine):
    model = article_model(seed=seed, engine=engine)
    history = model.fit(X, y, epochs=3, batch_size=16, shuffle=True, verbose=0)
    return model.get_weights(), history.history, model.predict(X, verbose=0)


def test_same_seed_gives_bit_identical_runs(engine):
    X, y = circle()
    w1, h1, p1 = train(7, X, y, engine)
    w2, h2, p2 = train(7, X, y, engine)
    assert_weights_equal(w1, w2)
    assert h1 == h2
    np.testing.assert_array_equal(p1, p2)


def test_different_seeds_give_different_runs(engine):
    X, y = circle()
    w1, h1, _ = train(7, X, y, engine)
    w2, h2, _ = train(8, X, y, engine)
    assert not np.array_equal(w1[0], w2[0])
    assert h1["loss"] != h2["loss"]
    # Same initial weights, different shuffling: still a different run.
    a, b = article_model(seed=7, engine=engine), article_model(seed=8, engine=engine)
    b.set_weights(a.get_weights())
    ha = a.fit(X, y, epochs=2, batch_size=16, verbose=0).history
    hb = b.fit(X, y, epochs=2, batch_size=16, verbose=0).history
    assert ha["loss"][1] != hb["loss"][1]


def test_set_random_seed_makes_unseeded_models_reproducible(engine):
    X, y = circle()
    runs = []
    for _ in range(2):
        set_random_seed(123)
        model = Sequential([Dense(8, "relu", input_shape=(2,)), Dense(1, "sigmoid")])
        model.compile("sgd", "binary_crossentropy", engine=engine)
        runs.append((model.fit(X, y, epochs=2, verbose=0).history, model.get_weights()))
    assert runs[0][0] == runs[1][0]
    assert_weights_equal(runs[0][1], runs[1][1])


# ---------------------------------------------------------------------- callbacks
def test_callback_hooks_are_called_in_order(engine):
    X, y = circle(10)
    recorder = Recorder()
    model = article_model(engine=engine)
    model.fit(X, y, epochs=2, batch_size=4, verbose=0, callbacks=[recorder])
    names = [call[:2] for call in recorder.calls]  # drop the logs
    epoch = [
        ("batch_begin", 0),
        ("batch_end", 0),
        ("batch_begin", 1),
        ("batch_end", 1),
        ("batch_begin", 2),
        ("batch_end", 2),
    ]  # ceil(10 / 4) = 3 batches
    expected = [("train_begin",)]
    for e in range(2):
        expected += [("epoch_begin", e), *epoch, ("epoch_end", e)]
    expected.append(("train_end",))
    assert names == expected
    assert recorder.model is model
    assert recorder.params["epochs"] == 2 and recorder.params["steps"] == 3
    # Batch logs are running means over the epoch; the last equals the epoch's.
    batch_ends = [c for c in recorder.calls if c[0] == "batch_end"]
    epoch_ends = [c for c in recorder.calls if c[0] == "epoch_end"]
    assert set(batch_ends[0][2]) == {"loss", "accuracy"}
    assert batch_ends[2][2] == epoch_ends[0][2]
    assert batch_ends[5][2] == epoch_ends[1][2]


def test_early_stopping_patience_counts_epochs_without_improvement():
    model = article_model()
    stopper = EarlyStopping(monitor="val_loss", patience=2)
    stopper.set_model(model)
    stopper.on_train_begin()
    values = [1.0, 0.9, 0.95, 0.92, 0.5]
    for epoch, value in enumerate(values):
        stopper.on_epoch_end(epoch, {"val_loss": value})
        if model.stop_training:
            break
    # Best 0.9 at epoch 1; epochs 2 and 3 do not improve, so it stops at epoch 3.
    assert (epoch, stopper.stopped_epoch, stopper.best, stopper.best_epoch) == (3, 3, 0.9, 1)


@pytest.mark.parametrize(
    ("monitor", "mode", "values", "stop_epoch"),
    [
        ("val_accuracy", "auto", [0.5, 0.6, 0.55], 2),  # auto means max for accuracies
        ("val_loss", "auto", [0.5, 0.6, 0.55], 1),  # and min otherwise
        ("loss", "max", [0.5, 0.6, 0.55], 2),
        ("loss", "MIN", [0.5, 0.6, 0.55], 1),
        ("accuracy", "min", [0.5, 0.6, 0.55], 1),
    ],
)
def test_early_stopping_mode(monitor, mode, values, stop_epoch):
    model = article_model()
    stopper = EarlyStopping(monitor=monitor, mode=mode, patience=0)
    stopper.set_model(model)
    stopper.on_train_begin()
    for epoch, value in enumerate(values):
        stopper.on_epoch_end(epoch, {monitor: value})
        if model.stop_training:
            break
    assert stopper.stopped_epoch == stop_epoch


def test_early_stopping_min_delta():
    model = article_model()
    stopper = EarlyStopping(monitor="loss", min_delta=0.01, patience=1)
    stopper.set_model(model)
    stopper.on_train_begin()
    stopper.on_epoch_end(0, {"loss": 1.0})
    stopper.on_epoch_end(1, {"loss": 0.995})  # better, but by less than min_delta
    assert model.stop_training and stopper.best == 1.0


def test_early_stopping_in_fit_restores_the_best_weights(engine):
    """mode="max" on a falling loss: epoch 0 is the best, then patience runs out."""
    X, y = circle()
    model = article_model(engine=engine)
    snapshots = WeightsAtEpochEnd()
    stopper = EarlyStopping(monitor="loss", mode="max", patience=2, restore_best_weights=True)
    history = model.fit(X, y, epochs=20, verbose=0, callbacks=[snapshots, stopper])
    losses = history.history["loss"]
    assert all(b < a for a, b in zip(losses, losses[1:]))  # the premise: loss falls
    assert len(losses) == 3 and stopper.stopped_epoch == 2
    assert_weights_equal(model.get_weights(), snapshots.weights[0])


def test_early_stopping_restores_the_best_weights_even_without_stopping(engine):
    """Keras 3 restores at the end of training, also when patience never ran out."""
    X, y = circle()
    model = article_model(engine=engine)
    snapshots = WeightsAtEpochEnd()
    stopper = EarlyStopping(monitor="loss", mode="max", patience=50, restore_best_weights=True)
    history = model.fit(X, y, epochs=4, verbose=0, callbacks=[snapshots, stopper])
    assert len(history.history["loss"]) == 4 and stopper.stopped_epoch == 0
    assert_weights_equal(model.get_weights(), snapshots.weights[0])


def test_early_stopping_without_restore_keeps_the_last_weights(engine):
    X, y = circle()
    model = article_model(engine=engine)
    snapshots = WeightsAtEpochEnd()
    stopper = EarlyStopping(monitor="loss", mode="max", patience=1)
    model.fit(X, y, epochs=20, verbose=0, callbacks=[snapshots, stopper])
    assert len(snapshots.weights) == 2
    assert_weights_equal(model.get_weights(), snapshots.weights[-1])


def test_early_stopping_errors():
    with pytest.raises(ValueError, match="unknown mode 'biggest'; valid names: auto, max, min"):
        EarlyStopping(mode="biggest")
    X, y = circle(20)
    # Keras 3 warns, naming what is available, and trains on.
    with pytest.warns(UserWarning, match="`val_loss` which is not available.*accuracy,loss"):
        history = article_model().fit(X, y, epochs=2, verbose=0, callbacks=[EarlyStopping()])
    assert len(history.history["loss"]) == 2
    with pytest.raises(ValueError, match="cannot tell whether that metric.*mode='max'"):
        article_model().fit(X, y, verbose=0, callbacks=[EarlyStopping("accuracy_2")])


@pytest.mark.filterwarnings(
    # Diverging on purpose: NumPy reports the overflow on its way to inf and NaN.
    "ignore:overflow encountered:RuntimeWarning",
    "ignore:invalid value encountered:RuntimeWarning",
)
def test_terminate_on_nan_stops_at_the_first_bad_batch(engine):
    X, y = circle()
    model = Sequential([Dense(8, "relu", input_shape=(2,)), Dense(1, "linear")], seed=0)
    model.compile(SGD(1e3), "mse", engine=engine)
    recorder = Recorder()
    history = model.fit(
        X, y, epochs=50, batch_size=10, verbose=0, callbacks=[TerminateOnNaN(), recorder]
    )
    batch_losses = [c[2]["loss"] for c in recorder.calls if c[0] == "batch_end"]
    # Every batch before the last was finite; training stopped right after it.
    assert not math.isfinite(batch_losses[-1])
    assert all(math.isfinite(v) for v in batch_losses[:-1])
    assert len(batch_losses) < 20  # within the first epoch of 20 batches
    assert len(history.history["loss"]) == 1
    assert not math.isfinite(history.history["loss"][-1])
    assert recorder.calls[-1] == ("train_end",)


# ---------------------------------------------------------------------- printing
def test_verbose_0_prints_nothing(capsys, engine):
    X, y = circle(50)
    model = article_model(engine=engine)
    model.fit(X, y, epochs=3, validation_split=0.2, verbose=0)
    model.evaluate(X, y, verbose=0)
    model.predict(X, verbose=0)
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize("verbose", [1, 2])
def test_verbose_prints_one_line_per_epoch(capsys, verbose, engine):
    """verbose=2 always, verbose=1 when the output is not a terminal (as here)."""
    X, y = circle(50)
    article_model(engine=engine).fit(
        X, y, epochs=3, batch_size=10, validation_split=0.2, verbose=verbose
    )
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert err == "" and len(lines) == 3
    for epoch, line in enumerate(lines, start=1):
        assert line.startswith(f"Epoch {epoch}/3")
        assert "4/4" in line  # 40 training samples in batches of 10
        assert all(k in line for k in ("loss", "accuracy", "val_loss", "val_accuracy"))


def test_repr_and_summary_are_readable():
    model = article_model()
    assert repr(model) == (
        "Sequential([Dense(8, activation='relu'), Dense(1, activation='sigmoid')])"
    )
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "relu" in text and "sigmoid" in text
    assert "(None, 8)" in text and "(None, 1)" in text
    rows = [line.split() for line in lines]
    assert any(row[-1] == "24" for row in rows if row)  # 2 * 8 + 8
    assert any(row[-1] == "9" for row in rows if row)  # 8 * 1 + 1
    assert "Total params: 33" in lines
    unbuilt = Sequential([Dense(4, "relu")])
    lines = []
    unbuilt.summary(print_fn=lines.append)
    assert any("not built" in line for line in lines)


# ---------------------------------------------------------------------- evaluate, predict, dtype
def test_evaluate_returns_loss_and_accuracy_of_the_predictions(engine):
    X, y = circle()
    model = article_model(dtype="float64", engine=engine)
    model.fit(X, y, epochs=3, verbose=0)
    loss, accuracy = model.evaluate(X, y, verbose=0)
    p = model.predict(X, verbose=0)[:, 0]
    assert loss == pytest.approx(bce(y, p), rel=1e-12)
    assert accuracy == np.mean((p > 0.5) == (y == 1))
    assert model.predict(X, verbose=0).shape == (200, 1)


def test_float64_on_request(engine):
    X, y = circle()
    model = article_model(dtype="float64", engine=engine)
    model.fit(X, y, epochs=2, verbose=0)
    assert model.dtype == np.float64
    assert all(w.dtype == np.float64 for w in model.get_weights())
    assert model.predict(X, verbose=0).dtype == np.float64


def test_float32_by_default(engine):
    X, y = circle()
    model = article_model(engine=engine)
    model.fit(X, y, epochs=2, verbose=0)
    assert all(w.dtype == np.float32 for w in model.get_weights())
    assert model.predict(X, verbose=0).dtype == np.float32  # float64 input is cast


# ---------------------------------------------------------------------- bad input
def fitted_inputs():
    X, y = circle(20)
    return article_model(), X, y


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        (lambda X, y: (np.hstack([X, X[:, :1]]), y), ValueError, "x has 3 columns"),
        (lambda X, y: (X[:, 0], y), ValueError, "x must be 2-D"),
        (lambda X, y: (X[:0], y[:0]), ValueError, "x is empty"),
        (lambda X, y: (X.astype(str), y), TypeError, "x must be numeric"),
        (lambda X, y: (X, y[:-1]), ValueError, "x has 20 samples but y has 19"),
        (lambda X, y: (np.where(X > 0.9, np.nan, X), y), ValueError, "x contains NaN"),
        (lambda X, y: (np.where(X > 0.9, np.inf, X), y), ValueError, "x contains NaN or inf"),
        (lambda X, y: (X, np.where(y > 0, np.nan, y)), ValueError, "y contains NaN"),
        (lambda X, y: (X, np.where(y > 0, -np.inf, y)), ValueError, "y contains NaN or inf"),
        (lambda X, y: (X, y * 2), ValueError, r"labels in \{0, 1\}, got a label 2"),
        (lambda X, y: (X, y - 0.5), ValueError, r"binary_crossentropy needs labels in \{0, 1\}"),
        (lambda X, y: (X, np.stack([y, y], axis=1)), ValueError, "y has shape"),
    ],
    ids=[
        "x_3_columns",
        "x_1d",
        "x_empty",
        "x_strings",
        "y_short",
        "x_nan",
        "x_inf",
        "y_nan",
        "y_inf",
        "y_label_2",
        "y_label_half",
        "y_2_columns",
    ],
)
def test_bad_data_is_refused(change, error, match):
    model, X, y = fitted_inputs()
    Xb, yb = change(X, y)
    with pytest.raises(error, match=match):
        model.fit(Xb, yb, verbose=0)
    with pytest.raises(error, match=match):
        model.evaluate(Xb, yb, verbose=0)


def test_bad_data_in_predict_and_validation_is_refused():
    model, X, y = fitted_inputs()
    with pytest.raises(ValueError, match="x has 3 columns"):
        model.predict(np.ones((4, 3)), verbose=0)
    with pytest.raises(ValueError, match="x contains NaN"):
        model.predict(np.full((4, 2), np.nan), verbose=0)
    with pytest.raises(ValueError, match=r"labels in \{0, 1\}"):
        model.fit(X, y, validation_data=(X, y + 1), verbose=0)
    with pytest.raises(ValueError, match="validation_data must be a tuple"):
        model.fit(X, y, validation_data=X, verbose=0)


def test_sparse_labels_out_of_range_are_refused():
    X, _ = circle(20)
    model = Sequential([Dense(3, "softmax", input_shape=(2,))])
    model.compile("sgd", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"integer labels in \[0, 2\]"):
        model.fit(X, np.full(20, 3), verbose=0)
    with pytest.raises(ValueError, match=r"integer labels in \[0, 2\]"):
        model.fit(X, np.full(20, 0.5), verbose=0)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (
            lambda: Dense(4, "relux"),
            "Could not interpret activation identifier: 'relux'; valid names: elu, exponential",
        ),
        (
            lambda: Dense(4, kernel_initializer="glorot"),
            "Could not interpret initializer identifier: 'glorot'.*he_normal",
        ),
        (lambda: Dense(4, kernel_regularizer="l3"), "unknown regularizer 'l3'; valid names: l1"),
        (
            lambda: Sequential([Dense(1, input_shape=(2,))]).compile("sgd", "bce_loss"),
            "Could not interpret loss identifier: 'bce_loss'; "
            "valid names: bce, binary_crossentropy",
        ),
        (
            lambda: Sequential([Dense(1, input_shape=(2,))]).compile("adamx", "mse"),
            "unknown optimizer 'adamx'; valid names: adadelta, adagrad, adam, adamax, adamw, lion, "
            "nadam, rmsprop, sgd",
        ),
        (lambda: Sequential([Dense(1, input_shape=(2,))]).compile("sgd"), "compile needs a loss"),
    ],
    ids=["activation", "initializer", "regularizer", "loss", "optimizer", "no_loss"],
)
def test_unknown_names_list_the_valid_ones(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_metrics_keras_has_but_backprop_lab_lacks_are_refused_by_name():
    model = Sequential([Dense(1, input_shape=(2,))])
    with pytest.raises(NotImplementedError, match="metric 'f1_score' is not supported.*auc"):
        model.compile("sgd", "mse", metrics=["f1_score"])
    # A name Keras does not know either: Keras's ValueError, with the valid names.
    with pytest.raises(ValueError, match="Could not interpret metric identifier: 'auc2'.*mae"):
        model.compile("sgd", "mse", metrics=["auc2"])


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"batch_size": 0}, ValueError, "batch_size must be a positive integer"),
        ({"batch_size": -8}, ValueError, "batch_size"),
        ({"batch_size": 2.5}, TypeError, "batch_size"),
        ({"batch_size": True}, TypeError, "batch_size"),
        ({"epochs": 0}, ValueError, "epochs must be a positive integer"),
        ({"epochs": "3"}, TypeError, "epochs"),
        ({"validation_split": 1.0}, ValueError, "validation_split"),
        ({"validation_split": -0.1}, ValueError, "validation_split"),
        ({"validation_split": 0.99}, ValueError, "validation_split=0.99 leaves no training"),
        ({"validation_split": 1e-20}, ValueError, "leaves no training or no validation"),
        ({"validation_split": "0.2"}, TypeError, "validation_split"),
    ],
)
def test_bad_fit_arguments_are_refused(kwargs, error, match):
    model, X, y = fitted_inputs()
    with pytest.raises(error, match=match):
        model.fit(X, y, verbose=0, **kwargs)


@pytest.mark.parametrize(
    ("lr", "error"),
    [
        (0.0, ValueError),
        (-0.1, ValueError),
        (float("nan"), ValueError),
        (float("inf"), ValueError),
        (True, TypeError),
        ("fast", TypeError),
    ],
)
def test_bad_learning_rate_is_refused(lr, error):
    with pytest.raises(error, match="learning_rate"):
        SGD(learning_rate=lr)


def test_unsupported_keras_options_fail_loudly():
    model, X, y = fitted_inputs()
    with pytest.raises(NotImplementedError, match="steps_per_epoch"):
        model.fit(X, y, steps_per_epoch=2, verbose=0)
    with pytest.raises(NotImplementedError, match="steps"):
        model.predict(X, steps=2, verbose=0)


def test_fit_and_evaluate_before_compile_are_refused():
    X, y = circle(20)
    model = Sequential([Dense(1, "sigmoid", input_shape=(2,))])
    with pytest.raises(ValueError, match=r"call compile\(\) before fit\(\)"):
        model.fit(X, y, verbose=0)
    with pytest.raises(ValueError, match=r"call compile\(\) before evaluate\(\)"):
        model.evaluate(X, y, verbose=0)
    assert model.predict(X, verbose=0).shape == (20, 1)  # predicting needs no loss


def test_bad_layers_and_shapes_are_refused():
    for units in (2.5, 0, None, "64"):  # Keras's ValueError and message
        with pytest.raises(ValueError, match=r"invalid value for `units`, expected a positive int"):
            Dense(units)
    with pytest.raises(ValueError, match="dtype must be 'float32' or 'float64'"):
        Dense(2, dtype="float16")
    with pytest.raises(TypeError, match="Sequential takes layers"):
        Sequential(["relu"])
    with pytest.raises(ValueError, match="input_shape"):
        Dense(2, input_shape=(0,))


def test_apply_is_forward_without_touching_the_layers():
    model = Sequential([Dense(5, "tanh", input_shape=(2,)), Dense(3, "softmax")], seed=0)
    X = np.random.default_rng(0).uniform(-1, 1, (6, 2)).astype(np.float32)
    outputs = model.layer_outputs(X)
    assert [A.shape for A in outputs] == [(6, 2), (6, 5), (6, 3)]
    assert not hasattr(model.layers[0], "Z")  # nothing cached for a backward pass
    np.testing.assert_array_equal(model.apply(X), model.forward(X))


def test_apply_with_other_weights_leaves_the_model_unchanged():
    model = Sequential([Dense(4, "relu", input_shape=(2,)), Dense(1, "sigmoid")], seed=0)
    X = np.random.default_rng(1).uniform(-1, 1, (5, 2)).astype(np.float32)
    before = model.get_weights()
    other = [2 * w + 0.1 for w in before]
    W1, b1, W2, b2 = other
    by_hand = 1 / (1 + np.exp(-(np.maximum(X @ W1 + b1, 0) @ W2 + b2)))
    np.testing.assert_allclose(model.apply(X, other), by_hand, rtol=1e-6)
    for w, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(w, b)


@pytest.mark.parametrize(
    ("name", "call", "instead"),
    [
        ("export", lambda m: m.export("saved"), "save('model.keras')"),
        ("quantize", lambda m: m.quantize("int8"), "float32 or float64"),
        ("input", lambda m: m.input, "n_features"),
        ("output", lambda m: m.output, "predict(x)"),
    ],
)
def test_missing_keras_model_names_raise_not_implemented_naming_what_exists(name, call, instead):
    """The README promises NotImplementedError for what is unsupported: NotSupported is one
    (and an AttributeError too, so hasattr answers no)."""
    model = Sequential([Dense(1, "sigmoid", input_shape=(2,))], seed=0)
    with pytest.raises(NotImplementedError) as info:
        call(model)
    message = str(info.value)
    assert message.startswith(f"Sequential.{name} is not supported by backprop_lab; instead: ")
    assert instead in message and "\n" not in message
    assert not hasattr(model, "no_such_keras_name")  # other names stay AttributeError


def test_progbar_counts_steps_by_default_and_other_units_on_request():
    import io

    from backprop_lab.engine.progress import Progbar

    lines = []
    for kwargs in ({}, {"unit": "training", "prefix": "trainings"}):
        stream = io.StringIO()
        bar = Progbar(18, stream=stream, interactive=False, **kwargs)
        bar.start -= 1.8  # 0.1 s per unit
        bar.update(18, finalize=True)
        lines.append(stream.getvalue())
    assert re.fullmatch(r"18/18 2s 100ms/step\n", lines[0]), lines[0]
    assert re.fullmatch(r"trainings - 18/18 2s 100ms/training\n", lines[1]), lines[1]
    stream = io.StringIO()
    bar = Progbar(2, stream=stream, interactive=False, unit="training")
    bar.start -= 6.0
    bar.update(2, finalize=True)
    assert stream.getvalue() == "2/2 6s 3s/training\n"  # Keras writes whole seconds too


def test_unsupported_keras_attributes_answer_hasattr_and_getmembers():
    """They raise NotSupported, a NotImplementedError that is also an AttributeError."""
    import inspect

    model = Sequential([Dense(1, "sigmoid", input_shape=(2,))], seed=0)
    for name in ("input", "output"):
        assert not hasattr(model, name)
        assert getattr(model, name, "absent") == "absent"
    names = dict(inspect.getmembers(model))
    assert "get_weights" in names and "input" not in names

    from backprop_lab.engine.model import NotSupported

    for name in ("input", "output"):
        with pytest.raises(NotSupported, match=f"Sequential.{name} is not supported"):
            getattr(model, name)
    with pytest.raises(NotSupported):
        model.export("saved")
    assert issubclass(NotSupported, NotImplementedError)
    assert issubclass(NotSupported, AttributeError)


def test_an_unsupported_keras_name_is_one_line_on_the_command_line(monkeypatch):
    """The CLI reports NotSupported as the NotImplementedError it is: exit 2, one line."""
    from cli_helpers import run_main

    def use_weights(args):
        return Sequential([Dense(1, input_shape=(2,))], seed=0).output

    monkeypatch.setattr("backprop_lab.cli._commands", lambda: {"gradcheck": use_weights})
    code, out, err = run_main(["gradcheck"])
    assert (code, out) == (2, "")
    assert err == (
        "backprop-lab: error: Sequential.output is not supported by backprop_lab; instead: "
        "predict(x) returns the network's output\n"
    )
