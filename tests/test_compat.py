"""Keras scripts run after changing their import line; the rest is refused by name."""

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from backprop_lab import Dense, Sequential, keras
from backprop_lab.compat import tf

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run_example(name, tmp_path):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run(
        [sys.executable, str(EXAMPLES / name)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
    )


@pytest.mark.subprocess
def test_the_article_style_script_runs_with_only_its_import_changed(tmp_path):
    source = (EXAMPLES / "keras_script.py").read_text()
    # The port is one line: the script uses tf.keras exactly as a TensorFlow script does.
    assert "from backprop_lab.compat import tf" in source
    assert "backprop_lab" not in source.replace("from backprop_lab.compat import tf", "")
    result = run_example("keras_script.py", tmp_path)
    assert result.returncode == 0, result.stderr
    accuracy = float(re.search(r"Test Accuracy: ([\d.]+)%", result.stdout).group(1))
    assert 70 <= accuracy <= 100
    assert result.stdout.count("Epoch ") == 50
    assert "Traceback" not in result.stderr


@pytest.mark.subprocess
def test_the_keras3_script_runs(tmp_path):
    result = run_example("keras3_script.py", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "validation accuracy" in result.stdout


def test_namespaces_hand_out_the_engine_classes():
    model = tf.keras.Sequential(
        [tf.keras.layers.Dense(4, activation="tanh", input_shape=(2,)), tf.keras.layers.Dense(1)]
    )
    assert isinstance(model, Sequential) and isinstance(model.layers[0], Dense)
    model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(2, activation="relu")])
    assert model.built and model.get_weights()[0].shape == (3, 2)
    assert keras.optimizers.Adam(learning_rate=0.01).learning_rate == 0.01
    assert tf.keras.losses.BinaryCrossentropy().name == "binary_crossentropy"


def test_set_random_seed_makes_scripts_repeatable():
    def run():
        tf.keras.utils.set_random_seed(3)
        x = np.random.uniform(-1, 1, (64, 2))  # noqa: NPY002 - as Keras scripts do
        model = tf.keras.Sequential([tf.keras.layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
        model.fit(x, (x[:, 0] > 0).astype(float), epochs=2, verbose=0)
        return model.get_weights()

    for a, b in zip(run(), run()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: tf.keras.layers.Conv2D, r"tf\.keras\.layers\.Conv2D is not supported"),
        (lambda: keras.applications, r"keras\.applications is not supported"),
        (lambda: tf.constant, r"tf\.constant is not supported"),
        (lambda: keras.layers.Dense(3, lora_rank=4), r"Dense\(lora_rank=\.\.\.\)"),
        (lambda: tf.keras.optimizers.Adam(jit=True), r"Adam\(jit=\.\.\.\)"),
        (lambda: keras.callbacks.EarlyStopping(period=2), r"EarlyStopping\(period=\.\.\.\)"),
        (lambda: keras.regularizers.OrthogonalRegularizer, "OrthogonalRegularizer is not"),
        (lambda: keras.Model(inputs=None, outputs=None), "only Sequential"),
        (
            lambda: keras.Sequential([keras.layers.Dense(1)]).compile(
                optimizer="sgd", loss="mse", metrics=["cosine_similarity"]
            ),
            "cosine_similarity",
        ),
    ],
)
def test_unsupported_features_raise_not_implemented_naming_them(make, match):
    with pytest.raises(NotImplementedError, match=match):
        make()


def test_unsupported_fit_options_are_refused_by_name():
    model = keras.Sequential([keras.layers.Dense(1, activation="sigmoid", input_shape=(2,))])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    x, y = np.zeros((4, 2)), np.zeros(4)
    with pytest.raises(NotImplementedError, match=r"fit\(steps_per_epoch=\)"):
        model.fit(x, y, steps_per_epoch=2)


def test_missing_attributes_still_behave_for_introspection():
    # copy, pickle and hasattr probe dunder names; those must stay AttributeErrors.
    assert not hasattr(tf.keras, "__wrapped__")
