"""backprop_lab.keras and backprop_lab.compat.tf.keras: real modules with Keras's paths."""

from __future__ import annotations

import importlib
import os

import numpy as np
import pytest

from backprop_lab import keras
from backprop_lab.compat import tf
from backprop_lab.engine import callbacks as engine_callbacks
from backprop_lab.engine import keras_metrics, losses, optimizers, schedules
from backprop_lab.engine import layers as engine_layers
from backprop_lab.engine.file_callbacks import CSVLogger, ModelCheckpoint
from backprop_lab.engine.model import NotSupported, Sequential
from backprop_lab.engine.schedule_callbacks import LearningRateScheduler, ReduceLROnPlateau
from backprop_lab.keras._aliases import ModuleNotSupported

MODULES = [
    "layers",
    "models",
    "optimizers",
    "optimizers.schedules",
    "losses",
    "metrics",
    "callbacks",
    "utils",
    "initializers",
    "regularizers",
    "activations",
    "backend",
    "saving",
]


@pytest.mark.parametrize(
    "statement",
    [
        "from backprop_lab.keras.models import Sequential",
        "from backprop_lab.keras.layers import Dense, Dropout",
        "from backprop_lab.keras import layers",
        "from backprop_lab.keras.utils import to_categorical",
        "from backprop_lab.keras.optimizers.schedules import ExponentialDecay",
        "from backprop_lab.keras.callbacks import EarlyStopping",
        "from backprop_lab.compat.tf import keras",
        "from backprop_lab.compat.tf.keras.layers import Dense",
        "from backprop_lab.compat.tf.keras.utils import to_categorical",
        "import backprop_lab.compat.tf.keras.optimizers.schedules",
    ],
)
def test_every_keras_import_path_works(statement):
    exec(statement, {})


@pytest.mark.parametrize("path", MODULES)
def test_tf_keras_modules_hold_the_same_objects_as_keras(path):
    ours = importlib.import_module(f"backprop_lab.keras.{path}")
    alias = importlib.import_module(f"backprop_lab.compat.tf.keras.{path}")
    assert ours.__all__ and alias.__all__ == ours.__all__
    for name in ours.__all__:
        a, b = getattr(alias, name), getattr(ours, name)
        if type(a) is type(os):  # a submodule: its own alias
            assert a.__name__ == b.__name__.replace("backprop_lab.", "backprop_lab.compat.tf.")
        else:
            assert a is b


@pytest.mark.parametrize("path", MODULES)
def test_a_missing_name_is_refused_naming_it_and_what_the_module_has(path):
    ours = importlib.import_module(f"backprop_lab.keras.{path}")
    alias = importlib.import_module(f"backprop_lab.compat.tf.keras.{path}")
    with pytest.raises(NotSupported, match=rf"^keras\.{path}\.Nope is not supported.*provides"):
        ours.Nope  # noqa: B018
    with pytest.raises(NotImplementedError, match=rf"^tf\.keras\.{path}\.Nope is not supported"):
        alias.Nope  # noqa: B018
    assert not hasattr(ours, "Nope")  # NotSupported is an AttributeError as well


def test_a_missing_module_is_refused_and_is_an_import_error():
    with pytest.raises(ModuleNotSupported, match=r"tf\.keras\.applications is not supported"):
        import backprop_lab.compat.tf.keras.applications  # noqa: F401
    assert issubclass(ModuleNotSupported, NotImplementedError)
    assert issubclass(ModuleNotSupported, ImportError)


@pytest.mark.parametrize(
    ("namespace", "engine_classes"),
    [
        (keras.layers, [engine_layers.Dense, engine_layers.Dropout, engine_layers.Activation]),
        (keras.layers, [engine_layers.BatchNormalization]),
        (keras.optimizers, list(optimizers.OPTIMIZERS.values())),
        (keras.optimizers.schedules, list(schedules.SCHEDULES.values())),
        (keras.losses, list(losses.LOSSES.values())),
        (keras.metrics, [c for c in keras_metrics.METRICS.values() if isinstance(c, type)]),
        (keras.callbacks, [engine_callbacks.EarlyStopping, engine_callbacks.History]),
        (keras.callbacks, [LearningRateScheduler, ReduceLROnPlateau, ModelCheckpoint, CSVLogger]),
    ],
)
def test_the_namespaces_take_every_class_the_engine_registers(namespace, engine_classes):
    for cls in engine_classes:
        assert getattr(namespace, cls.__name__).cls is cls


def test_keras_names_build_engine_objects_that_isinstance_and_subclassing_see():
    layer = keras.layers.Dense(3, activation="relu", input_dim=2)
    assert type(layer) is engine_layers.Dense
    assert isinstance(layer, keras.layers.Dense) and isinstance(layer, tf.keras.layers.Dense)
    assert not isinstance(layer, keras.layers.Dropout)

    class Counter(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.epochs = epoch + 1

    assert issubclass(Counter, engine_callbacks.Callback)
    model = keras.Sequential([layer, keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse")
    counter = Counter()
    model.fit(np.zeros((4, 2)), np.zeros(4), epochs=2, verbose=0, callbacks=[counter])
    assert isinstance(model, Sequential) and counter.epochs == 2


def test_an_unknown_keyword_names_the_option_and_the_accepted_ones():
    with pytest.raises(NotImplementedError) as info:
        keras.layers.Dropout(0.5, lora_rank=2)
    message = str(info.value)
    assert message.startswith("Dropout(lora_rank=...) is not supported by backprop_lab")
    assert "rate" in message and "noise_shape" in message


def test_keras_model_is_refused_as_a_call_and_as_a_base_class():
    with pytest.raises(NotImplementedError, match="keras.Model is not supported.*only Sequential"):
        keras.Model(inputs=keras.Input(shape=(2,)), outputs=None)
    with pytest.raises(NotImplementedError, match="only Sequential"):

        class Net(keras.Model):
            pass


def test_keras_input_declares_the_width_of_a_sequential():
    model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(2)])
    assert model.built and model.get_weights()[0].shape == (3, 2)


def test_utilities_and_backend():
    with pytest.raises(NotImplementedError, match="plot_model is not supported.*summary"):
        keras.utils.plot_model(keras.Sequential())
    assert keras.backend.epsilon() == 1e-7 and keras.backend.floatx() == "float32"
    assert keras.backend.clear_session() is None
    assert "backprop-lab" in keras.__version__ and "backprop-lab" in tf.__version__
    assert keras.activations.relu(np.array([-1.0, 2.0])).tolist() == [0.0, 2.0]
    assert keras.losses.mse == "mse" and keras.metrics.mae == "mae"
    # Called directly, a loss name gives Keras's per-sample losses.
    per_sample = keras.losses.binary_crossentropy([[1.0], [0.0]], [[0.9], [0.2]])
    np.testing.assert_allclose(per_sample, [-np.log(0.9), -np.log(0.8)], rtol=1e-6)
    np.testing.assert_allclose(keras.losses.mse([[1.0, 0.0]], [[0.5, 0.5]]), [0.25])


def test_tf_random_set_seed_seeds_as_keras_utils_does():
    tf.random.set_seed(5)
    a = np.random.rand(3)  # noqa: NPY002 - scripts use the legacy global generator
    keras.utils.set_random_seed(5)
    np.testing.assert_array_equal(np.random.rand(3), a)  # noqa: NPY002


def test_to_categorical_by_hand():
    np.testing.assert_array_equal(
        keras.utils.to_categorical([2, 0, 1]), [[0, 0, 1], [1, 0, 0], [0, 1, 0]]
    )
    assert keras.utils.to_categorical(np.array([[1], [0]]), num_classes=3).shape == (2, 3)


TO_CATEGORICAL_CASES = [
    ([0, 1, 2, 3], None),
    ([0, 1, 2, 3], 6),
    (np.array([[1], [0], [2]]), None),
    (np.array([[1, 0], [2, 2]]), None),
    (np.array([1.0, 0.0, 1.0]), None),
    (np.array([3, 1]), 0),  # 0, like None, means max + 1
]


@pytest.mark.keras
@pytest.mark.parametrize(("labels", "num_classes"), TO_CATEGORICAL_CASES)
def test_to_categorical_matches_keras(labels, num_classes):
    os.environ.setdefault("KERAS_BACKEND", "jax")  # before keras's first import
    real = pytest.importorskip("keras")
    expected = real.utils.to_categorical(labels, num_classes=num_classes)
    got = keras.utils.to_categorical(labels, num_classes=num_classes)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)


def test_importing_a_missing_name_is_refused_by_name_and_is_an_import_error():
    # `from m import X` turns an AttributeError into a bare "cannot import name";
    # this error names the feature and what the module has, and is an ImportError
    # for code that tries one import and falls back to another.
    with pytest.raises(
        NotImplementedError, match=r"^keras\.layers\.Conv2D is not supported.*Dense"
    ):
        from backprop_lab.keras.layers import Conv2D  # noqa: F401
    with pytest.raises(ImportError, match=r"^tf\.keras\.layers\.LSTM is not supported"):
        from backprop_lab.compat.tf.keras.layers import LSTM, Dense  # noqa: F401


def test_tf_config_has_a_cpu_and_no_gpu():
    assert tf.config.list_physical_devices("GPU") == []
    (cpu,) = tf.config.list_physical_devices()
    assert cpu.device_type == "CPU" and cpu.name == "/physical_device:CPU:0"
    with pytest.raises(NotImplementedError, match=r"tf\.config\.experimental is not supported"):
        tf.config.experimental.set_memory_growth  # noqa: B018


def test_keras_function_names_compile_and_compute_as_keras_functions():
    # keras.losses.mse and keras.metrics.mae are functions in Keras: compile takes
    # them, and called directly they give one value per sample.
    model = keras.Sequential([keras.layers.Dense(1, input_shape=(2,))])
    model.compile("sgd", loss=keras.losses.mean_squared_error, metrics=[keras.metrics.mae])
    assert model.loss.name == "mean_squared_error"
    history = model.fit(np.zeros((4, 2)), np.ones(4), epochs=1, verbose=0)
    assert set(history.history) == {"loss", "mae"}
    y, p = np.array([[1.0], [0.0], [1.0]]), np.array([[0.8], [0.6], [0.3]])
    np.testing.assert_allclose(keras.metrics.mae(y, p), [0.2, 0.6, 0.7], rtol=1e-6)
    np.testing.assert_allclose(keras.metrics.binary_accuracy(y, p), [1.0, 0.0, 0.0])
    with pytest.raises(NotImplementedError, match=r"keras\.metrics\.AUC\(\)"):
        keras.metrics.auc(y, p)


def test_what_tutorials_read_and_call_on_a_model():
    assert keras.layers.Dense(4, activation="relu").activation.__name__ == "relu"  # tutorials
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.layers.Dense(4, input_shape=(2,)), keras.layers.Dropout(0.5)])
    X = np.ones((200, 2), dtype="float32")
    out = model(X)
    assert np.all(out != 0)
    np.testing.assert_array_equal(out, model.predict(X, verbose=0))
    # training=True is the training pass: Dropout zeroes about half of the outputs.
    assert 0.4 < np.mean(model(X, training=True) == 0) < 0.6
    model.compile("sgd", "mse")
    seen = []
    one = keras.callbacks.LambdaCallback(on_train_begin=lambda logs: seen.append(1))
    model.fit(X, np.ones((200, 4)), epochs=1, verbose=0, callbacks=one)  # one, not a list
    assert seen == [1] and model.history.params["verbose"] == 0
    with pytest.raises(NotImplementedError, match="model_from_json"):
        keras.Sequential.from_config(model.get_config())


def test_saving_into_a_missing_folder_names_the_path_asked_for(tmp_path):
    model = keras.Sequential([keras.layers.Dense(1, input_shape=(2,))])
    with pytest.raises(FileNotFoundError, match=r"m\.keras: the folder .*nodir does not exist"):
        model.save(tmp_path / "nodir" / "m.keras")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(NotImplementedError, match="legacy .h5"):
        keras.callbacks.ModelCheckpoint(str(tmp_path / "best.h5"))
