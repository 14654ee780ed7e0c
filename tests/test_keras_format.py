""".keras model files and .weights.h5 files: Keras 3's format, both ways.

The first tests hold the format to itself (round trips, refusals, nothing
partial on disk); the ``keras`` tests hold it to real Keras: a model trained
here loads in ``keras.models.load_model`` with the same predictions, a model
Keras saved loads here with the same predictions, and the layer configs are
the ones Keras writes.
"""

from __future__ import annotations

import io
import json
import os
import warnings
import zipfile

import h5py
import numpy as np
import pytest

from backprop_lab.engine import keras_format, keras_loading
from backprop_lab.engine.initializers import RandomNormal
from backprop_lab.engine.keras_config import KerasFileError
from backprop_lab.engine.layers import Activation, BatchNormalization, Dense, Dropout, Layer
from backprop_lab.engine.model import Sequential
from backprop_lab.engine.optimizers import Adam
from backprop_lab.engine.regularizers import L2


def data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (n, 2)).astype(np.float32)
    return X, (X[:, 0] * X[:, 1] > 0).astype(np.float32)


def trained_model(epochs=3):
    X, y = data()
    model = Sequential(
        [
            Dense(6, activation="relu", input_shape=(2,)),
            Dropout(0.25),
            BatchNormalization(),
            Activation("tanh"),
            Dense(1, activation="sigmoid"),
        ],
        seed=1,
    )
    model.compile(optimizer=Adam(0.02), loss="binary_crossentropy", metrics=["acc"])
    model.fit(X, y, epochs=epochs, batch_size=16, verbose=0)
    return model


def write_keras_file(path, config, weights: dict | None = None):
    """A .keras archive with ``config`` and ``weights`` ({"layers/dense/vars/0": array})."""
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as h5:
        for key, value in (weights or {}).items():
            h5.create_dataset(key, data=value)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("metadata.json", "{}")
        zf.writestr("config.json", json.dumps(config))
        zf.writestr("model.weights.h5", buffer.getvalue())


# ---------------------------------------------------------------------- on its own
def test_a_saved_model_loads_with_the_same_predictions_and_training_state(tmp_path):
    model = trained_model()
    path = tmp_path / "m.keras"
    model.save(path)  # Sequential.save writes through keras_format.save_model
    assert sorted(zipfile.ZipFile(path).namelist()) == [
        "config.json",
        "metadata.json",
        "model.weights.h5",
    ]
    loaded = keras_loading.load_model(path)
    X, _ = data(seed=5)
    np.testing.assert_array_equal(loaded.predict(X, verbose=0), model.predict(X, verbose=0))
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in model.layers]
    assert loaded.compiled and loaded.optimizer.learning_rate == pytest.approx(0.02)
    # The optimizer continues where it stopped: same step count and moments.
    assert loaded.optimizer.iterations == model.optimizer.iterations == 12
    np.testing.assert_array_equal(loaded.optimizer.slots["m"][0], model.optimizer.slots["m"][0])


def test_the_weights_file_uses_keras_groups_by_class_not_by_layer_name(tmp_path):
    model = trained_model(epochs=1)
    keras_format.save_weights(model, tmp_path / "w.weights.h5")
    with h5py.File(tmp_path / "w.weights.h5") as h5:
        assert sorted(h5["layers"]) == [
            "activation",
            "batch_normalization",
            "dense",
            "dense_1",
            "dropout",
        ]
        bn = model.layers[2]
        # gamma, beta (trainable) then the moving mean and variance
        for i, w in enumerate(bn.weights):
            np.testing.assert_array_equal(h5[f"layers/batch_normalization/vars/{i}"], w)
        assert h5["layers/dense_1/vars"].attrs["name"] == model.layers[4].name


def test_weights_round_trip_into_a_fresh_model(tmp_path):
    model = trained_model(epochs=1)
    keras_format.save_weights(model, tmp_path / "w.weights.h5")
    fresh = keras_loading.model_from_json(keras_format.to_json(model))
    keras_format.load_weights(fresh, tmp_path / "w.weights.h5")
    for a, b in zip(fresh.layers, model.layers):
        for x, y in zip(a.weights, b.weights):
            np.testing.assert_array_equal(x, y)


def test_json_round_trip_keeps_the_architecture():
    model = trained_model(epochs=1)
    again = keras_loading.model_from_json(keras_format.to_json(model))
    assert (
        json.loads(keras_format.to_json(again))["config"]["layers"][1:]
        == json.loads(keras_format.to_json(model))["config"]["layers"][1:]
    )


def test_legacy_h5_and_other_suffixes_are_refused(tmp_path):
    model = trained_model(epochs=1)
    with pytest.raises(NotImplementedError, match="legacy HDF5 model format is not supported"):
        keras_format.save_model(model, tmp_path / "m.h5")
    with pytest.raises(ValueError, match=r"must end in \.keras"):
        keras_format.save_model(model, tmp_path / "m.zip")
    with pytest.raises(ValueError, match=r"must end in \.weights\.h5"):
        keras_format.save_weights(model, tmp_path / "m.h5")
    assert list(tmp_path.iterdir()) == []


def test_overwrite_false_keeps_the_existing_file(tmp_path):
    path = tmp_path / "m.keras"
    path.write_bytes(b"precious")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        keras_format.save_model(trained_model(epochs=1), path, overwrite=False)
    assert path.read_bytes() == b"precious"


def test_a_refused_save_leaves_no_file_behind(tmp_path):
    class Custom(Layer):
        def forward(self, X):
            return X

    model = Sequential([Dense(2, input_shape=(2,)), Custom()])
    path = tmp_path / "m.keras"
    path.write_bytes(b"old")
    with pytest.raises(KerasFileError, match="Custom layers cannot be written"):
        keras_format.save_model(model, path)
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["m.keras"]


def config_with(*layers, compile_config=None):
    config = {
        "module": "keras",
        "class_name": "Sequential",
        "config": {"name": "s", "layers": list(layers)},
        "registered_name": None,
    }
    if compile_config:
        config["compile_config"] = compile_config
    return config


def layer(class_name, **config):
    return {"module": "keras.layers", "class_name": class_name, "config": config}


def test_unsupported_layers_are_named_in_one_line(tmp_path):
    path = tmp_path / "cnn.keras"
    write_keras_file(
        path,
        config_with(
            layer("InputLayer", batch_shape=[None, 8, 8, 1]),
            layer("Conv2D", filters=4),
            layer("Flatten"),
            layer("Dense", units=1),
        ),
    )
    with pytest.raises(NotImplementedError) as info:
        keras_loading.load_model(path)
    message = str(info.value)
    assert "\n" not in message and "Conv2D, Flatten" in message and "supported: Dense" in message


def test_loading_runs_no_code_named_in_the_file(tmp_path):
    # A Lambda layer carries Python code; a functional model names other classes.
    path = tmp_path / "lambda.keras"
    write_keras_file(path, config_with(layer("Lambda", function={"class_name": "__lambda__"})))
    with pytest.raises(NotImplementedError, match="Lambda"):
        keras_loading.load_model(path)
    functional = {"module": "keras", "class_name": "Functional", "config": {}}
    write_keras_file(path, functional)
    with pytest.raises(NotImplementedError, match="Functional model .only Sequential"):
        keras_loading.load_model(path)


def test_a_file_that_is_not_a_keras_archive_is_named(tmp_path):
    path = tmp_path / "m.keras"
    path.write_text("not a zip")
    with pytest.raises(KerasFileError, match="not a zip archive"):
        keras_loading.load_model(path)
    write_keras_file(path, {"no": "class"})
    with pytest.raises(KerasFileError, match="not a Keras model config"):
        keras_loading.load_model(path)


def test_weights_that_do_not_fit_the_config_are_refused(tmp_path):
    path = tmp_path / "m.keras"
    dense = layer("Dense", units=3, activation="relu")
    write_keras_file(
        path,
        config_with(layer("InputLayer", batch_shape=[None, 2]), dense),
        {"layers/dense/vars/0": np.zeros((5, 3)), "layers/dense/vars/1": np.zeros(3)},
    )
    with pytest.raises(KerasFileError, match=r"layers/dense holds arrays of shapes \[\(5, 3\)"):
        keras_loading.load_model(path)


def test_unsupported_compile_settings_load_uncompiled_with_a_warning(tmp_path):
    path = tmp_path / "m.keras"
    optimizer = {"module": "keras.optimizers", "class_name": "Lamb", "config": {}}
    write_keras_file(
        path,
        config_with(
            layer("InputLayer", batch_shape=[None, 2]),
            layer("Dense", units=1),
            compile_config={"optimizer": optimizer, "loss": "mse"},
        ),
        {"layers/dense/vars/0": np.ones((2, 1)), "layers/dense/vars/1": np.zeros(1)},
    )
    with pytest.warns(UserWarning, match="loaded uncompiled.*optimizer Lamb"):
        model = keras_loading.load_model(path)
    assert not model.compiled
    np.testing.assert_allclose(model.predict(np.array([[1.0, 2.0]]), verbose=0), [[3.0]])


# ---------------------------------------------------------------------- against real Keras
@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("KERAS_BACKEND", "jax")  # before keras's first import
    return pytest.importorskip("keras")


@pytest.mark.keras
def test_real_keras_loads_a_model_trained_here(keras, tmp_path):
    model = trained_model()
    keras_format.save_model(model, tmp_path / "ours.keras")
    X, y = data(seed=7)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # e.g. "Skipping variable loading"
        theirs = keras.models.load_model(tmp_path / "ours.keras")
    np.testing.assert_allclose(
        theirs.predict(X, verbose=0), model.predict(X, verbose=0), rtol=1e-5, atol=1e-6
    )
    assert [type(layer).__name__ for layer in theirs.layers] == [
        "Dense",
        "Dropout",
        "BatchNormalization",
        "Activation",
        "Dense",
    ]
    # Compiled as here, with the optimizer's state: training goes on from step 12.
    assert type(theirs.optimizer).__name__ == "Adam"
    assert int(theirs.optimizer.iterations) == 12
    theirs.fit(X, y, epochs=1, verbose=0)


@pytest.mark.keras
def test_a_model_saved_by_real_keras_loads_here(keras, tmp_path):
    keras.utils.set_random_seed(3)
    theirs = keras.Sequential(
        [
            keras.Input(shape=(2,)),
            keras.layers.Dense(
                5, activation="tanh", kernel_regularizer=keras.regularizers.L2(1e-3)
            ),
            keras.layers.Dropout(0.3),
            keras.layers.BatchNormalization(momentum=0.9),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    theirs.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["acc"])
    X = np.random.default_rng(0).uniform(-1, 1, (96, 2)).astype(np.float32)
    theirs.fit(X, (X[:, 0] > 0).astype(int) + (X[:, 1] > 0), epochs=2, verbose=0)
    theirs.save(tmp_path / "theirs.keras")
    model = keras_loading.load_model(tmp_path / "theirs.keras")
    np.testing.assert_allclose(
        model.predict(X, verbose=0), theirs.predict(X, verbose=0), rtol=1e-5, atol=1e-6
    )
    assert model.compiled and type(model.optimizer).__name__ == "RMSprop"
    assert model.layers[2].momentum == 0.9
    assert model.layers[0].kernel_regularizer.l2 == pytest.approx(1e-3)


@pytest.mark.keras
def test_layer_configs_are_the_ones_keras_writes(keras, tmp_path):
    ours = Sequential(
        [
            Dense(4, activation="relu", input_shape=(3,)),
            Dropout(0.5),
            BatchNormalization(epsilon=0.01),
            Dense(
                2,
                use_bias=False,
                kernel_initializer=RandomNormal(stddev=0.1),
                kernel_regularizer=L2(0.01),
            ),
            Activation("softmax"),
        ]
    )
    theirs = keras.Sequential(
        [
            keras.Input(shape=(3,)),
            keras.layers.Dense(4, activation="relu"),
            keras.layers.Dropout(0.5),
            keras.layers.BatchNormalization(epsilon=0.01),
            keras.layers.Dense(
                2,
                use_bias=False,
                kernel_initializer=keras.initializers.RandomNormal(stddev=0.1),
                kernel_regularizer=keras.regularizers.L2(0.01),
            ),
            keras.layers.Activation("softmax"),
        ]
    )
    keras_format.save_model(ours, tmp_path / "ours.keras")
    theirs.save(tmp_path / "theirs.keras")

    def layer_configs(path):
        config = json.loads(zipfile.ZipFile(path).read("config.json"))
        out = []
        for c in config["config"]["layers"]:
            c["config"].pop("name")
            if isinstance(c["config"].get("dtype"), dict):
                c["config"]["dtype"].pop("shared_object_id", None)
            out.append(c)
        return out

    assert layer_configs(tmp_path / "ours.keras") == layer_configs(tmp_path / "theirs.keras")


@pytest.mark.keras
def test_weights_files_cross_over_both_ways(keras, tmp_path):
    ours = trained_model(epochs=1)
    theirs = keras.models.model_from_json(keras_format.to_json(ours))
    keras_format.save_weights(ours, tmp_path / "ours.weights.h5")
    theirs.load_weights(tmp_path / "ours.weights.h5")
    X, _ = data(seed=2)
    np.testing.assert_allclose(
        theirs.predict(X, verbose=0), ours.predict(X, verbose=0), rtol=1e-5, atol=1e-6
    )
    for w in theirs.trainable_weights:
        w.assign(np.asarray(w) * 0.5)
    theirs.save_weights(tmp_path / "theirs.weights.h5")
    keras_format.load_weights(ours, tmp_path / "theirs.weights.h5")
    np.testing.assert_allclose(
        ours.predict(X, verbose=0), theirs.predict(X, verbose=0), rtol=1e-5, atol=1e-6
    )


@pytest.mark.keras
def test_compile_settings_cross_over_both_ways(keras, tmp_path):
    from backprop_lab.engine.keras_metrics import AUC
    from backprop_lab.engine.losses import BinaryCrossentropy
    from backprop_lab.engine.optimizers import SGD
    from backprop_lab.engine.schedules import ExponentialDecay

    X, y = data()
    model = Sequential([Dense(4, activation="relu", input_shape=(2,)), Dense(1)], seed=0)
    schedule = ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    model.compile(
        optimizer=SGD(learning_rate=schedule, momentum=0.9),
        loss=BinaryCrossentropy(from_logits=True),
        metrics=[AUC(), "acc"],
    )
    model.fit(X, y, epochs=2, batch_size=16, verbose=0)
    model.save(tmp_path / "ours.keras")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        theirs = keras.models.load_model(tmp_path / "ours.keras")
    # The schedule is a schedule there too: at step 8 it gives 0.1 * 0.5 ** 0.8.
    assert int(theirs.optimizer.iterations) == 8
    assert float(theirs.optimizer.learning_rate) == pytest.approx(0.1 * 0.5**0.8, rel=1e-6)
    np.testing.assert_allclose(
        theirs.predict(X, verbose=0), model.predict(X, verbose=0), rtol=1e-5, atol=1e-6
    )
    theirs.save(tmp_path / "theirs.keras")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        again = keras_loading.load_model(tmp_path / "theirs.keras")
    assert again.loss.get_config()["from_logits"] is True
    assert again.optimizer.learning_rate == pytest.approx(0.1 * 0.5**0.8, rel=1e-6)
    assert again.optimizer.iterations == 8
    np.testing.assert_array_equal(again.optimizer.slots["v"][0], model.optimizer.slots["v"][0])
