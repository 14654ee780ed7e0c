"""``backprop-lab run script.py``: unmodified Keras scripts, their errors and exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from backprop_lab.cli import run_script

IMPORTS = """\
import sys
import numpy as np
import keras
import tensorflow as tf
from keras import layers
from keras.models import Sequential
from keras.layers import Dense, Dropout
from tensorflow import keras as tfk
from tensorflow.keras.utils import to_categorical
from tensorflow.keras.layers import Dense as TfDense
import tensorflow.keras.optimizers.schedules
"""

TRAIN = """\
tf.random.set_seed(0)
x = np.random.rand(120, 2)
y = to_categorical((x[:, 0] > x[:, 1]).astype(int))
model = Sequential([Dense(8, activation="relu", input_dim=2), Dense(2, activation="softmax")])
model.compile(optimizer=tfk.optimizers.Adam(0.05), loss="categorical_crossentropy",
              metrics=["acc"])
history = model.fit(x, y, epochs=3, verbose=0)
print("trained", len(history.history["acc"]), TfDense is Dense, keras.__name__, tf.__name__)
print("versions", keras.__version__, tf.__version__)
"""


def write(tmp_path, body: str, name: str = "script.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return path


def run(tmp_path, *args, cwd=None):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run(
        [sys.executable, "-m", "backprop_lab", "run", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd or tmp_path,
        env=env,
        timeout=300,
    )


@pytest.mark.subprocess
def test_a_keras_script_runs_unchanged_with_its_arguments(tmp_path):
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub", "VALUE = 41\n", name="helper.py")
    script = write(
        tmp_path / "sub",
        IMPORTS + TRAIN + "import os, helper\nprint('args', sys.argv, helper.VALUE, os.getcwd())\n",
    )
    result = run(tmp_path, script, "--epochs", "3", "-v")
    assert result.returncode == 0, result.stderr
    assert "trained 3 True keras tensorflow" in result.stdout
    assert "versions backprop-lab" in result.stdout
    # sys.argv is the script and its arguments; its folder is importable; cwd is unchanged.
    assert f"args ['{script}', '--epochs', '3', '-v'] 41 {tmp_path}" in result.stdout
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("backprop-lab run: keras and tensorflow imports in")
    assert lines[-1] == "backprop-lab run: the last model trained ran on the compiled engine"


@pytest.mark.subprocess
@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("from keras.layers import Conv2D", "keras.layers.Conv2D is not supported"),
        ("model.add(layers.LSTM(4))", "keras.layers.LSTM is not supported"),
        ("tf.constant([1.0])", "tf.constant is not supported"),
        ("import keras.src.engine", "keras.src is not supported"),
        ("import tf_keras", "tf_keras is not supported"),
        (
            "from tensorflow.keras.layers.experimental import preprocessing",
            "tf.keras.layers.experimental is not supported",
        ),
        ("keras.Model(inputs=None, outputs=None)", "only Sequential"),
        ("model.fit(x, y, steps_per_epoch=3, verbose=0)", r"fit(steps_per_epoch=)"),
    ],
)
def test_an_unsupported_feature_is_one_line_naming_the_script_line(tmp_path, line, message):
    script = write(tmp_path, IMPORTS + TRAIN + line + "\nprint('not reached')\n")
    result = run(tmp_path, "script.py")
    assert result.returncode == 2
    assert "not reached" not in result.stdout and "Traceback" not in result.stderr
    n = (IMPORTS + TRAIN).count("\n") + 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"script.py:{n}: ") and message in last, result.stderr
    assert script.exists()


@pytest.mark.subprocess
def test_an_error_in_the_script_gets_python_s_traceback_and_exit_1(tmp_path):
    write(tmp_path, IMPORTS + "def f():\n    return {}['missing']\n\nf()\n")
    result = run(tmp_path, "script.py")
    assert result.returncode == 1
    traceback = result.stderr[result.stderr.index("Traceback") :]
    assert "KeyError: 'missing'" in traceback
    # It starts at the script, as `python script.py` shows it: no runpy or CLI frames.
    assert "runpy" not in traceback and "backprop_lab" not in traceback
    n = IMPORTS.count("\n") + 4  # the line calling f()
    assert f'script.py", line {n}, in <module>' in traceback


@pytest.mark.subprocess
def test_sys_exit_passes_through(tmp_path):
    write(tmp_path, "import sys\nimport keras\nsys.exit(3)\n")
    assert run(tmp_path, "script.py").returncode == 3


@pytest.mark.subprocess
@pytest.mark.parametrize(
    ("name", "message"), [("missing.py", "no such file"), ("data.csv", "not a Python script")]
)
def test_a_missing_or_non_python_script_is_one_line_and_exit_2(tmp_path, name, message):
    (tmp_path / "data.csv").write_text("x\n1\n")
    result = run(tmp_path, name)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and message in result.stderr


def test_the_hook_lasts_only_for_the_script(tmp_path):
    write(tmp_path, "import keras\nimport tensorflow\nassert keras.layers.Dense\n")
    before = set(sys.modules)
    argv = list(sys.argv)
    assert run_script.run_script(str(tmp_path / "script.py"), []) == 0
    leaked = {m for m in set(sys.modules) - before if m.split(".")[0] in ("keras", "tensorflow")}
    assert leaked == set() and sys.argv == argv
    assert not any(getattr(f, "aliases", {}).get("keras") for f in sys.meta_path)


@pytest.mark.subprocess
def test_record_writes_a_run_folder_of_the_last_model_trained(tmp_path):
    write(
        tmp_path,
        IMPORTS
        + TRAIN.replace("Dropout", "Dense")
        + "other = Sequential([Dense(1, input_dim=3)])\n"  # built but never trained
        + "print(model.predict(np.array([[0.2, 0.7]]), verbose=0).tolist())\n",
    )
    result = run(tmp_path, "--record", tmp_path / "runs", "script.py")
    assert result.returncode == 0, result.stderr
    (folder,) = (tmp_path / "runs").iterdir()
    assert folder.name.endswith("-script")
    assert {p.name for p in folder.iterdir()} == {
        "config.json",
        "history.csv",
        "model.keras",
        "model.json",
        "model.safetensors",
        "curves.png",
        "boundary.png",
        "metrics.json",
        "report.html",
    }
    assert f"recorded {tmp_path / 'runs'}" in result.stderr
    # The metrics are measured on the data the script fit on, and the report says so.
    import json

    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["evaluated_on"] == "training" and 0 <= metrics["test_accuracy"] <= 1
    assert sum(map(sum, metrics["confusion_matrix"])) == metrics["n_train"]
    report = (folder / "report.html").read_text()
    assert "Training accuracy" in report and "Test accuracy" not in report
    assert "majority baseline" in report
    # Both model files hold the trained model: the script's own prediction comes back.
    from backprop_lab.engine.keras_loading import load_model
    from backprop_lab.runs.modelio import load_model as load_run_model

    printed = result.stdout.strip().splitlines()[-1]
    point = [[0.2, 0.7]]
    for model in (load_model(folder / "model.keras"), load_run_model(folder)):
        assert str(model.predict(point, verbose=0).tolist()) == printed
    header, first = (folder / "history.csv").read_text().splitlines()[:2]
    assert header.startswith("epoch,loss,accuracy") and first.split(",")[2] != ""


@pytest.mark.subprocess
def test_record_without_a_trained_model_says_so(tmp_path):
    write(tmp_path, "import keras\nprint('no training')\n")
    result = run(tmp_path, "--record", tmp_path / "runs", "script.py")
    assert result.returncode == 2 and "trained no model" in result.stderr
    assert not (tmp_path / "runs").exists()
