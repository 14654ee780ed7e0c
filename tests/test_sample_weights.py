"""``fit(sample_weight=..., class_weight=...)`` and weighted validation, as Keras 3.

Keras weighs each sample's loss and divides by the batch size
(``sum(w * l) / n``, its "sum_over_batch_size" reduction); ``class_weight``
becomes per-sample weights from each label; metrics ignore the weights unless
listed in ``weighted_metrics``.  Checked by hand on one step, and against real
Keras on the same initial weights and the same batches.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from backprop_lab import SGD, Dense, Sequential
from backprop_lab.engine.trainer import class_weights


@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("KERAS_BACKEND", "jax")
    return pytest.importorskip("keras")


def data(n=40, seed=0, classes=2):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3)).astype(np.float32)
    score = X[:, 0] + 0.3 * X[:, 1]
    y = np.digitize(score, [-0.3, 0.5]) if classes == 3 else (score > 0.2).astype(np.float32)
    return X, y, rng.uniform(0.2, 2.0, n).astype(np.float32)


# ---------------------------------------------------------------------- by hand
def test_one_weighted_step_by_hand():
    """Linear unit, MSE, one batch of 3 with weights w:

    loss = sum(w * (p - y)^2) / 3, so dL/dW = X.T @ (2 w (p - y) / 3) and
    dL/db = sum(2 w (p - y) / 3); with W = 0, b = 0 every p is 0.
    """
    X = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    y = np.array([1.0, -1.0, 2.0])
    w = np.array([2.0, 0.0, 0.5])
    model = Sequential([Dense(1, input_shape=(2,), kernel_initializer="zeros")], dtype="float64")
    model.compile(SGD(0.1), "mse")
    history = model.fit(X, y, batch_size=3, epochs=1, sample_weight=w, shuffle=False, verbose=0)
    # loss = (2 * 1 + 0 * 1 + 0.5 * 4) / 3 = 4 / 3; the zero weight still counts in n.
    assert history.history["loss"] == [pytest.approx(4 / 3)]
    g = 2 * w * (0.0 - y) / 3  # dL/dp = [-4/3, 0, -2/3]
    W, b = model.get_weights()
    np.testing.assert_allclose(W[:, 0], -0.1 * (X.T @ g))  # [0.2, 0.0667]
    np.testing.assert_allclose(b, [-0.1 * g.sum()])  # [0.2]


def test_class_weights_follow_keras_rules():
    cw = {0: 0.5, 2: 3.0}  # class 1 missing: weight 1
    np.testing.assert_array_equal(class_weights([0, 1, 2, 2], cw), [0.5, 1, 3, 3])
    # Labels are rounded, a (n, 1) column is squeezed, one-hot rows give their arg-max.
    np.testing.assert_array_equal(class_weights([[0.4], [1.6]], cw), [0.5, 3.0])
    np.testing.assert_array_equal(class_weights(np.eye(3)[[2, 0]], cw), [3.0, 0.5])


def test_metrics_ignore_weights_unless_weighted():
    X, y, w = data()
    model = Sequential([Dense(1, "sigmoid", input_shape=(3,))], seed=0)
    model.compile(SGD(0.1), "binary_crossentropy", metrics=["acc"], weighted_metrics=["acc"])
    logs = model.evaluate(X, y, sample_weight=w, verbose=0, return_dict=True)
    right = (model.predict(X, verbose=0)[:, 0] > 0.5) == y
    assert logs["acc"] == pytest.approx(right.mean())
    assert logs["weighted_acc"] == pytest.approx((right * w).sum() / w.sum())
    unweighted = model.evaluate(X, y, verbose=0, return_dict=True)
    assert logs["loss"] != pytest.approx(unweighted["loss"])


def test_validation_split_takes_the_tail_of_the_sample_weights():
    X, y, w = data()
    model = Sequential([Dense(1, "sigmoid", input_shape=(3,))], seed=0)
    model.compile(SGD(0.1), "binary_crossentropy")
    history = model.fit(X, y, epochs=1, sample_weight=w, validation_split=0.25, verbose=0)
    expected = model.evaluate(X[30:], y[30:], sample_weight=w[30:], verbose=0)
    assert history.history["val_loss"] == [pytest.approx(expected)]
    # Class weights weigh the training samples only (Keras computes them after the split).
    history = model.fit(X, y, epochs=1, class_weight={1: 5.0}, validation_split=0.25, verbose=0)
    assert history.history["val_loss"] == [pytest.approx(model.evaluate(X[30:], y[30:], verbose=0))]


# ---------------------------------------------------------------------- against Keras
@pytest.mark.keras
@pytest.mark.parametrize("weighting", ["class_weight", "sample_weight"])
@pytest.mark.parametrize("classes", [2, 3])
def test_weighted_training_equals_keras(keras, weighting, classes):
    X, y, w = data(classes=classes)
    Xv, yv, wv = data(17, seed=5, classes=classes)
    units, act = (1, "sigmoid") if classes == 2 else (3, "softmax")
    loss = "binary_crossentropy" if classes == 2 else "sparse_categorical_crossentropy"
    k = keras.Sequential(
        [
            keras.Input((3,)),
            keras.layers.Dense(4, activation="relu"),
            keras.layers.Dense(units, act),
        ]
    )
    k.compile(keras.optimizers.SGD(0.1), loss, metrics=["acc"], weighted_metrics=["acc"])
    ours = Sequential([Dense(4, "relu", input_shape=(3,)), Dense(units, act)])
    ours.compile(SGD(0.1), loss, metrics=["acc"], weighted_metrics=["acc"])
    ours.set_weights(k.get_weights())
    weights = {"class_weight": {0: 1.0, 1: 3.0}} if weighting == "class_weight" else {}
    if weighting == "sample_weight":
        weights = {"sample_weight": w}
    fit = {"batch_size": 8, "epochs": 2, "shuffle": False, "verbose": 0}
    hk = k.fit(X, y, validation_data=(Xv, yv, wv), **fit, **weights).history
    hb = ours.fit(X, y, validation_data=(Xv, yv, wv), **fit, **weights).history
    assert ours.engine_used == "numpy"
    assert list(hb) == list(hk)
    for key in hk:
        np.testing.assert_allclose(hb[key], hk[key], rtol=1e-4, atol=1e-6, err_msg=key)
    moved = max(np.abs(a - b).max() for a, b in zip(k.get_weights(), ours.get_weights()))
    assert moved < 1e-5
    assert ours.evaluate(Xv, yv, sample_weight=wv, verbose=0) == pytest.approx(
        k.evaluate(Xv, yv, sample_weight=wv, verbose=0), rel=1e-5
    )


@pytest.mark.keras
def test_train_on_batch_with_class_weight_equals_keras(keras):
    X, y, _ = data()
    k = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, activation="sigmoid")])
    k.compile(keras.optimizers.SGD(0.5), "binary_crossentropy", metrics=["accuracy"])
    ours = Sequential([Dense(1, "sigmoid", input_shape=(3,))])
    ours.compile(SGD(0.5), "binary_crossentropy", metrics=["accuracy"])
    ours.set_weights(k.get_weights())
    for _ in range(2):
        got = ours.train_on_batch(X, y, class_weight={0: 2.0})
        np.testing.assert_allclose(got, k.train_on_batch(X, y, class_weight={0: 2.0}), rtol=1e-5)
    for a, b in zip(ours.get_weights(), k.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert ours.test_on_batch(X, y, return_dict=True) == pytest.approx(
        k.test_on_batch(X, y, return_dict=True), rel=1e-5
    )


# ---------------------------------------------------------------------- engines and errors
def test_weights_train_on_numpy_and_compiled_refuses_them():
    pytest.importorskip("numba")
    X, y, w = data()
    model = Sequential([Dense(1, "sigmoid", input_shape=(3,))], seed=0)
    model.compile(SGD(0.1), "binary_crossentropy", metrics=["accuracy"])
    model.fit(X, y, epochs=1, verbose=0)
    assert model.engine_used == "compiled"
    model.fit(X, y, epochs=1, sample_weight=w, verbose=0)
    assert model.engine_used == "numpy"
    model.compile(SGD(0.1), "binary_crossentropy", metrics=["accuracy"], engine="compiled")
    with pytest.raises(ValueError, match="engine='compiled' cannot run.*sample or class weights"):
        model.fit(X, y, epochs=1, class_weight={0: 2.0}, verbose=0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"sample_weight": "w", "class_weight": {0: 1.0}}, "cannot `class_weight` and `sample"),
        ({"sample_weight": np.ones(39)}, r"sample_weight must have shape \(40,\)"),
        ({"sample_weight": np.full(40, np.nan)}, "sample_weight contains NaN"),
        ({"class_weight": [1.0, 2.0]}, "class_weight must be a dict"),
        ({"validation_data": (1, 2, 3, 4)}, r"validation_data must be a tuple \(x_val, y_val"),
    ],
)
def test_bad_weights_are_refused(kwargs, match):
    X, y, w = data()
    kwargs = {k: (w if isinstance(v, str) else v) for k, v in kwargs.items()}
    model = Sequential([Dense(1, "sigmoid", input_shape=(3,))], seed=0)
    model.compile(SGD(0.1), "binary_crossentropy")
    with pytest.raises(ValueError, match=match):
        model.fit(X, y, verbose=0, **kwargs)
