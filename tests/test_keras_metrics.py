"""Streaming metrics: values, names and history keys checked against real Keras 3.

Metric objects are fed the same arrays as ``keras.metrics`` (in two batches, one
of them weighted, so the streaming and the weighting are both exercised); a tiny
model trained here and in Keras from the same weights, on the same batches
(``shuffle=False``), must log the same keys with the same values.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from backprop_lab import SGD, Dense, Sequential
from backprop_lab.engine import keras_metrics as km
from backprop_lab.engine.compile_metrics import CompileMetrics


@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("KERAS_BACKEND", "jax")
    return pytest.importorskip("keras")


def binary_data(n=300, seed=1):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) > 0.4).astype(np.float32)
    p = rng.random(n).astype(np.float32)
    # Values on the AUC buckets' edges, and at 0, 0.5 and 1.
    p[:6] = [0.5, 0.0, 1.0, 0.25, 1 / 199, 100 / 199]
    w = rng.uniform(0.1, 2.0, n).astype(np.float32)
    return y.reshape(-1, 1), p.reshape(-1, 1), w


def stream(metric, y, p, w):
    """Two updates: the whole arrays unweighted, then the first 50 rows weighted."""
    metric.update_state(y, p)
    metric.update_state(y[:50], p[:50], sample_weight=w[:50])
    return float(metric.result())


# ---------------------------------------------------------------------- values
@pytest.mark.keras
@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("AUC", {}),
        ("AUC", {"curve": "PR"}),
        ("AUC", {"summation_method": "minoring"}),
        ("AUC", {"summation_method": "majoring", "num_thresholds": 7}),
        ("AUC", {"thresholds": [0.1, 0.35, 0.8]}),
        ("AUC", {"from_logits": True}),
        ("Precision", {}),
        ("Precision", {"thresholds": 0.3}),
        ("Recall", {}),
        ("Recall", {"thresholds": 0.7}),
        ("BinaryAccuracy", {}),
        ("BinaryAccuracy", {"threshold": 0.3}),
        ("MeanAbsoluteError", {}),
        ("MeanSquaredError", {}),
        ("RootMeanSquaredError", {}),
        ("MeanAbsolutePercentageError", {}),
        ("MeanSquaredLogarithmicError", {}),
        ("Accuracy", {}),
    ],
)
def test_binary_metrics_equal_keras(keras, name, kwargs):
    y, p, w = binary_data()
    if kwargs.get("from_logits"):
        p = (p - 0.5) * 8
    ours = stream(getattr(km, name)(**kwargs), y, p, w)
    theirs = stream(getattr(keras.metrics, name)(**kwargs), y, p, w)
    assert ours == pytest.approx(theirs, rel=1e-5, abs=1e-6)


@pytest.mark.keras
@pytest.mark.parametrize("name", ["CategoricalAccuracy", "AUC", "Precision", "MeanAbsoluteError"])
def test_several_outputs_equal_keras(keras, name):
    """One-hot targets against softmax-like rows: Keras flattens confusion metrics."""
    rng = np.random.default_rng(2)
    P = rng.dirichlet(np.ones(4), size=120).astype(np.float32)
    Y = np.eye(4, dtype=np.float32)[rng.integers(0, 4, 120)]
    w = rng.uniform(0.1, 2.0, 120).astype(np.float32)
    ours = stream(getattr(km, name)(), Y, P, w)
    theirs = stream(getattr(keras.metrics, name)(), Y, P, w)
    assert ours == pytest.approx(theirs, rel=1e-5, abs=1e-6)


@pytest.mark.keras
def test_sparse_accuracy_and_class_id_equal_keras(keras):
    rng = np.random.default_rng(3)
    P = rng.dirichlet(np.ones(3), size=90).astype(np.float32)
    labels = rng.integers(0, 3, 90)
    w = rng.uniform(0.1, 2.0, 90).astype(np.float32)
    for shape in [(90,), (90, 1)]:
        y = labels.reshape(shape)
        ours = stream(km.SparseCategoricalAccuracy(), y, P, w)
        assert ours == pytest.approx(stream(keras.metrics.SparseCategoricalAccuracy(), y, P, w))
    Y = np.eye(3, dtype=np.float32)[labels]
    ours = stream(km.Recall(class_id=2), Y, P, w)
    assert ours == pytest.approx(stream(keras.metrics.Recall(class_id=2), Y, P, w))


@pytest.mark.keras
@pytest.mark.parametrize("name", ["MeanAbsoluteError", "RootMeanSquaredError", "BinaryAccuracy"])
def test_one_dimensional_batches_count_as_keras_counts_them(keras, name):
    """Keras's mae of 1-D arrays averages their last axis: one value per batch."""
    y, p, _ = binary_data()
    y, p = y[:, 0], p[:, 0]
    ours, theirs = getattr(km, name)(), getattr(keras.metrics, name)()
    for m in (ours, theirs):
        m.update_state(y, p)
        m.update_state(y[:10], p[:10])
    assert float(ours.result()) == pytest.approx(float(theirs.result()), rel=1e-5)


def test_auc_by_hand_and_empty_states():
    # Perfect ranking: ROC AUC 1; reversed ranking: 0 (to the thresholds' resolution).
    y = np.array([0, 0, 1, 1])
    assert km.AUC()(y, np.array([0.1, 0.2, 0.8, 0.9])) == pytest.approx(1.0)
    assert km.AUC()(y, np.array([0.9, 0.8, 0.2, 0.1])) == pytest.approx(0.0)
    # Keras's divide_no_nan: nothing seen gives 0, not NaN.
    assert km.Precision().result() == 0.0 and km.AUC().result() == 0.0
    m = km.MeanAbsoluteError()
    m.update_state([1.0, 2.0], [1.5, 2.0])
    assert m.result() == 0.25
    m.reset_state()
    assert m.result() == 0.0


def test_default_names_count_up_as_in_keras():
    km.reset_uids()
    assert [km.AUC().name, km.AUC().name, km.Precision().name] == ["auc", "auc_1", "precision"]
    # Classes with a default name string keep it.
    assert km.BinaryAccuracy().name == km.BinaryAccuracy().name == "binary_accuracy"


# ---------------------------------------------------------------------- names in a fit
def tiny_data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3)).astype(np.float32)
    y = (X[:, 0] + 0.3 * X[:, 1] > 0.1).astype(np.float32)
    return X, y


def twin_models(kr, keras_metrics, our_metrics, units=1, activation="sigmoid", loss="bce"):
    """A Keras model (``kr`` is keras) and ours with the same initial weights."""
    loss = "binary_crossentropy" if loss == "bce" else loss
    k = kr.Sequential(
        [kr.Input((3,)), kr.layers.Dense(4, activation="relu"), kr.layers.Dense(units, activation)]
    )
    k.compile(kr.optimizers.SGD(0.1), loss, metrics=keras_metrics)
    b = Sequential([Dense(4, "relu", input_shape=(3,)), Dense(units, activation)])
    b.compile(SGD(0.1), loss, metrics=our_metrics)
    b.set_weights(k.get_weights())
    return k, b


@pytest.mark.keras
def test_history_evaluate_and_metrics_names_match_keras(keras):
    """Names as the user gave them, duplicates numbered, values equal, epoch by epoch."""
    X, y = tiny_data()
    keras.backend.clear_session()  # both number default names from 0 in the process
    keras_list = ["acc", "mae", "mse", keras.metrics.AUC(), keras.metrics.AUC(), "binary_accuracy"]
    keras_list += [keras.metrics.Precision(), keras.metrics.Recall(), "auc", "precision"]
    km.reset_uids()
    ours_list = ["acc", "mae", "mse", km.AUC(), km.AUC(), "binary_accuracy"]
    ours_list += [km.Precision(), km.Recall(), "auc", "precision"]
    k, b = twin_models(keras, keras_list, ours_list)
    assert b.metrics_names == k.metrics_names == ["loss", "compile_metrics"]
    fit = {"batch_size": 16, "epochs": 2, "shuffle": False, "verbose": 0}
    hk = k.fit(X, y, validation_data=(X[:15], y[:15]), **fit).history
    hb = b.fit(X, y, validation_data=(X[:15], y[:15]), **fit).history
    assert b.engine_used == "numpy"  # AUC and friends are NumPy's
    assert list(hb) == list(hk)  # the same keys, in the same (sorted) order
    for key in hk:
        np.testing.assert_allclose(hb[key], hk[key], rtol=1e-4, atol=1e-6, err_msg=key)
    np.testing.assert_allclose(b.evaluate(X, y, verbose=0), k.evaluate(X, y, verbose=0), 1e-5)
    dk, db = k.evaluate(X, y, verbose=0, return_dict=True), b.evaluate(X, y, 0, 0, return_dict=True)
    assert list(db) == list(dk)
    assert b.metrics_names == k.metrics_names


@pytest.mark.keras
@pytest.mark.parametrize(
    ("units", "activation", "loss", "labels"),
    [
        (1, "sigmoid", "binary_crossentropy", "binary"),
        (3, "softmax", "sparse_categorical_crossentropy", "sparse"),
        (3, "softmax", "categorical_crossentropy", "onehot"),
        (1, "linear", "mse", "binary"),
    ],
)
def test_accuracy_resolves_by_output_and_labels_as_in_keras(keras, units, activation, loss, labels):
    X, _ = tiny_data(60, seed=4)
    classes = np.digitize(X[:, 0], [-0.4, 0.4]) if units == 3 else (X[:, 0] > 0).astype(int)
    y = {"binary": classes.astype(np.float32), "sparse": classes}.get(labels)
    if labels == "onehot":
        y = np.eye(3, dtype=np.float32)[classes]
    metrics = ["accuracy", "Acc"]
    k, b = twin_models(keras, metrics, metrics, units, activation, loss)
    fit = {"batch_size": 16, "epochs": 2, "shuffle": False, "verbose": 0}
    hk, hb = k.fit(X, y, **fit).history, b.fit(X, y, **fit).history
    assert list(hb) == list(hk) == ["Acc", "accuracy", "loss"]
    for key in hk:
        np.testing.assert_allclose(hb[key], hk[key], rtol=1e-4, err_msg=key)


def test_epoch_metrics_are_computed_before_each_update():
    """One full batch: the logged AUC is that of the initial predictions."""
    X, y = tiny_data()
    model = Sequential([Dense(4, "relu", input_shape=(3,)), Dense(1, "sigmoid")], seed=1)
    model.compile(SGD(0.5), "binary_crossentropy", metrics=[km.AUC(name="roc")])
    before = km.AUC()(y, model.predict(X, verbose=0))
    history = model.fit(X, y, batch_size=len(X), epochs=2, verbose=0)
    assert history.history["roc"][0] == pytest.approx(before)
    assert history.history["roc"][1] != pytest.approx(before)  # it trained


def test_weighted_metric_named_like_a_metric_gets_weighted_prefix():
    metrics = CompileMetrics(["mae", "acc", "acc"], ["acc", "acc"])
    metrics.build(1, sparse=False)
    Y = np.array([[1.0], [0.0], [1.0]])
    P = np.array([[0.9], [0.8], [0.2]])
    metrics.update_state(Y, P, np.array([3.0, 1.0, 1.0]))
    assert metrics.result() == {
        "mae": pytest.approx((0.1 + 0.8 + 0.8) / 3),
        "acc": pytest.approx(1 / 3),
        "acc_1": pytest.approx(1 / 3),
        "weighted_acc": pytest.approx(3 / 5),  # only the first, weighing 3 of 5, is right
        "weighted_acc_1": pytest.approx(3 / 5),
    }


def test_custom_metric_function_is_averaged_and_named_by_its_function():
    def half_error(y_true, y_pred):
        return np.abs(y_true - y_pred) / 2

    X, y = tiny_data()
    model = Sequential([Dense(1, "sigmoid", input_shape=(3,))], seed=0)
    model.compile(SGD(0.1), "binary_crossentropy", metrics=[half_error, "mae"])
    logs = model.evaluate(X, y, verbose=0, return_dict=True)
    assert logs["half_error"] == pytest.approx(logs["mae"] / 2)


# ---------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("metrics", "error", "match"),
    [
        (["f1_score"], NotImplementedError, "metric 'f1_score' is not supported by backprop_lab"),
        (["TopKCategoricalAccuracy"], NotImplementedError, "'TopKCategoricalAccuracy' is not"),
        (["rmse"], ValueError, "Could not interpret metric identifier: 'rmse'"),
        ("accuracy", ValueError, "Expected `metrics` argument to be a list"),
        ({"out": ["acc"]}, NotImplementedError, "metrics as a dict"),
        ([None], ValueError, "Expected metric, received `None`"),
    ],
)
def test_bad_metrics_are_refused_at_compile(metrics, error, match):
    model = Sequential([Dense(1, "sigmoid", input_shape=(2,))])
    with pytest.raises(error, match=match):
        model.compile("sgd", "binary_crossentropy", metrics=metrics)


def test_unsupported_metric_options_are_refused():
    with pytest.raises(NotImplementedError, match="multi_label"):
        km.AUC(multi_label=True)
    with pytest.raises(NotImplementedError, match="top_k"):
        km.Precision(top_k=2)
    with pytest.raises(NotImplementedError, match="several thresholds"):
        km.Recall(thresholds=[0.3, 0.6])


def test_metrics_names_before_compile_and_without_metrics():
    model = Sequential([Dense(1, "sigmoid", input_shape=(2,))])
    assert model.metrics_names == []
    model.compile("sgd", "binary_crossentropy")
    assert model.metrics_names == ["loss"]
    X, y = tiny_data()
    model = Sequential([Dense(1, "sigmoid", input_shape=(3,))])
    model.compile("sgd", "binary_crossentropy")
    assert isinstance(model.evaluate(X, y, verbose=0), float)  # the loss alone


# ---------------------------------------------------------------------- engine choice
def test_compiled_engine_runs_accuracy_only():
    pytest.importorskip("numba")
    X, y = tiny_data()
    for metrics, engine in [
        (["accuracy", "acc"], "compiled"),
        (["auc"], "numpy"),
        ([], "compiled"),
    ]:
        model = Sequential([Dense(1, "sigmoid", input_shape=(3,))], seed=0)
        model.compile("sgd", "binary_crossentropy", metrics=metrics)
        history = model.fit(X, y, epochs=2, verbose=0)
        assert model.engine_used == engine, metrics
        assert set(history.history) == {"loss", *metrics}


def test_engine_compiled_refuses_what_only_numpy_computes():
    pytest.importorskip("numba")
    model = Sequential([Dense(1, "sigmoid", input_shape=(3,))], seed=0)
    with pytest.raises(ValueError, match="engine='compiled' cannot run.*metric 'auc'"):
        model.compile("sgd", "binary_crossentropy", metrics=["auc"], engine="compiled")
    # Keras's one-output accuracy is y == (p > 0.5); the kernel's count agrees only on 0/1.
    X, _ = tiny_data()
    model = Sequential([Dense(1, input_shape=(3,))], seed=0)
    model.compile("sgd", "mse", metrics=["accuracy"], engine="compiled")
    with pytest.raises(ValueError, match="metric 'accuracy' on targets other than 0/1"):
        model.fit(X, X[:, 0], verbose=0)
    model.compile("sgd", "mse", metrics=["accuracy"])
    history = model.fit(X, X[:, 0], verbose=0)
    assert model.engine_used == "numpy" and history.history["accuracy"] == [0.0]


@pytest.mark.keras
@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("AUC", {}),
        ("AUC", {"curve": "PR", "thresholds": [0.2, 0.5]}),
        ("Precision", {}),
        ("Recall", {"thresholds": 0.3, "class_id": 1}),
        ("BinaryAccuracy", {"threshold": 0.4}),
        ("MeanAbsoluteError", {}),
    ],
)
def test_get_config_is_keras_config(keras, name, kwargs):
    """What a saved model's compile_config holds, so real Keras rebuilds the same metric."""
    ours = getattr(km, name)(name="m", **kwargs).get_config()
    assert ours == getattr(keras.metrics, name)(name="m", **kwargs).get_config()
    getattr(keras.metrics, name).from_config(ours)
