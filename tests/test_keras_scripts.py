"""Tutorial-style Keras scripts run on backprop-lab unchanged, and after a one-line port.

``tests/keras_scripts/`` holds small Keras 3 scripts written the way tutorials and
course notebooks write dense networks (moons, circles, iris, XOR, breast cancer,
diabetes, wine, digits). Each prints, as its last ``RESULT`` line, a JSON object
of what it measured. Every script runs three ways, each in its own directory:

- ``keras``: real Keras 3 on JAX, the reference (once per session, shared);
- ``run``: ``backprop-lab run script.py``, the file untouched;
- ``import``: a copy whose import lines name backprop-lab (:func:`port_imports`).

and each backprop-lab result must agree with the reference: see :func:`check_close`.
The runs go two at a time (the machine's two cores), in the order the tests ask.

Scripts written for ``import tensorflow`` need ``tf.keras``. Since TensorFlow 2.16
that is Keras 3 itself, served from Keras's ``keras._tf_keras.keras``; so the
reference serves that package as ``tensorflow.keras`` (:data:`TF_STAND_IN`) and
runs on JAX, with or without TensorFlow installed.
"""

from __future__ import annotations

import concurrent.futures
import importlib.util
import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPTS_DIR = Path(__file__).resolve().parent / "keras_scripts"
SCRIPTS = sorted(path.stem for path in SCRIPTS_DIR.glob("*.py"))
MODES = ("run", "import")

TF_STAND_IN = '''"""tensorflow for the reference runs: tf.keras is Keras 3 (TensorFlow >= 2.16)."""
import importlib
import importlib.abc
import importlib.util
import sys
import types

from keras.src.utils import module_utils

_PREFIX = "tensorflow.keras"


class _KerasAlias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path=None, target=None):
        if name == _PREFIX or name.startswith(_PREFIX + "."):
            return importlib.util.spec_from_loader(name, self)
        return None

    def create_module(self, spec):
        return importlib.import_module("keras._tf_keras.keras" + spec.name[len(_PREFIX):])

    def exec_module(self, module):
        pass


def executing_eagerly():
    return True  # Keras asks once "tensorflow" is in sys.modules


sys.meta_path.insert(0, _KerasAlias())
# Keras's own "is TensorFlow installed?": no (so it never calls back into this module
# for TensorFlow types), and its few lookups (executing_eagerly) are served from here.
module_utils.tensorflow.module = sys.modules[__name__]
module_utils.tensorflow._available = False
keras = importlib.import_module(_PREFIX)
_seeding = []


def _set_seed(seed):
    """tf.random.set_seed: seed what Keras 3 draws from (Keras seeds TF in turn)."""
    if not _seeding:
        _seeding.append(seed)
        try:
            keras.utils.set_random_seed(seed)
        finally:
            _seeding.clear()


random = types.SimpleNamespace(set_seed=_set_seed)
'''

_FROM = re.compile(r"^(\s*)from (keras|tensorflow)((?:\.\w+)*) import ")
_IMPORT = re.compile(r"^(\s*)import (keras|tensorflow)(?:\s+as\s+(\w+))?\s*$")
_PORTED = {"keras": "backprop_lab.keras", "tensorflow": "backprop_lab.compat.tf"}


def port_imports(source: str) -> str:
    """The one-line port: each import of ``keras`` or ``tensorflow`` names backprop-lab.

    ``import keras`` -> ``from backprop_lab import keras``; ``import tensorflow as tf``
    -> ``from backprop_lab.compat import tf``; ``from keras.layers import Dense`` ->
    ``from backprop_lab.keras.layers import Dense``; ``from tensorflow.keras... import``
    -> ``from backprop_lab.compat.tf.keras... import``. Other lines are left alone.
    """
    lines = []
    for line in source.splitlines(keepends=True):
        if match := _FROM.match(line):
            indent, package, path = match.groups()
            line = f"{indent}from {_PORTED[package]}{path} import " + line[match.end() :]
        elif match := _IMPORT.match(line):
            indent, package, alias = match.groups()
            parent, name = _PORTED[package].rsplit(".", 1)
            as_name = "" if (alias or package) == name else f" as {alias or package}"
            line = f"{indent}from {parent} import {name}{as_name}\n"
        lines.append(line)
    return "".join(lines)


def _imports_tensorflow(source: str) -> bool:
    return re.search(r"^\s*(import|from) tensorflow\b", source, re.MULTILINE) is not None


def _command(script: str, mode: str, folder: Path) -> tuple[list[str], dict]:
    source_path = SCRIPTS_DIR / f"{script}.py"
    env = {**os.environ, "MPLBACKEND": "Agg", "KERAS_BACKEND": "jax"}
    env.pop("PYTHONPATH", None)
    if mode == "keras":
        if _imports_tensorflow(source_path.read_text()):
            (folder / "_reference" / "tensorflow").mkdir(parents=True)
            (folder / "_reference" / "tensorflow" / "__init__.py").write_text(TF_STAND_IN)
            env["PYTHONPATH"] = str(folder / "_reference")
        return [sys.executable, str(source_path)], env
    if mode == "run":
        cli = shutil.which("backprop-lab", path=str(Path(sys.executable).parent))
        prefix = [cli] if cli else [sys.executable, "-m", "backprop_lab"]
        return [*prefix, "run", str(source_path)], env
    ported = folder / f"{script}.py"
    ported.write_text(port_imports(source_path.read_text()))
    return [sys.executable, str(ported)], env


def _run(script: str, mode: str, folder: Path) -> dict:
    """Run one script one way in ``folder``; its RESULT object, or why there is none."""
    command, env = _command(script, mode, folder)
    done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=900)
    results = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not results:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-12:])
        return {"error": f"{mode} run of {script}.py: exit {done.returncode}\n{tail}"}
    return json.loads(results[-1][len("RESULT ") :])


class _Runs:
    """Every run the selected tests need, started at once, two at a time."""

    def __init__(self, session, folders):
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=2)
        self._folders = folders
        self._futures = {}
        wanted = [
            item.callspec.params
            for item in session.items
            if item.originalname == "test_script_matches_keras"
        ]
        # Interleave the references with the runs that compare against them, so
        # results arrive in the order the tests ask for them.
        for params in wanted:
            for mode in ("keras", params["mode"]):
                self._submit(params["script"], mode)

    def _submit(self, script, mode):
        key = (script, mode)
        if key not in self._futures:
            folder = self._folders.mktemp(f"{script}-{mode}")
            self._futures[key] = self._pool.submit(_run, script, mode, folder)
        return self._futures[key]

    def result(self, script, mode):
        return self._submit(script, mode).result()

    def close(self):
        self._pool.shutdown(cancel_futures=True)


@pytest.fixture(scope="session")
def script_runs(request, tmp_path_factory):
    if importlib.util.find_spec("keras") is None or importlib.util.find_spec("jax") is None:
        pytest.skip("the reference runs need Keras 3 and JAX")
    runs = _Runs(request.session, tmp_path_factory)
    yield runs
    runs.close()


# How close is close enough, by the result's name.
ACCURACY_POINTS = 0.02  # the issue's bar: within 2 points of real Keras
R2_TOLERANCE = 0.1  # see check_close
RELATIVE_TOLERANCE = 0.05
EXACT = 1e-4  # losses and activations computed on fixed arrays, in float32


def _accuracy_like(key: str) -> bool:
    return key.endswith(("accuracy", "_auc", "_precision", "_recall"))


def check_close(key: str, got, want) -> str | None:
    """Why ``got`` does not match Keras's ``want`` for the result ``key``, or None.

    - accuracies (and AUC, precision, recall): within 2 points;
    - ``r2``: within 0.1. The weights start from different random numbers in each
      framework, and with 265 training points the test R² of the diabetes script
      under real Keras is 0.446, 0.448 and 0.509 for three seeds;
    - ``*_mae``: within 5% relative (the Poisson MAE over three Keras seeds: 0.992,
      0.995, 0.994);
    - ``loss_values`` and ``activation_values``: the same numbers (1e-4 relative);
    - anything else (file rows, names, flags): equal.
    """
    if isinstance(want, dict):
        problems = [check_close(f"{key}.{k}", (got or {}).get(k), v) for k, v in want.items()]
        return "; ".join(p for p in problems if p) or None
    if key.startswith(("loss_values", "activation_values")):
        want_list = want if isinstance(want, list) else [want]
        got_list = got if isinstance(got, list) else [got]
        close = len(got_list) == len(want_list) and all(
            isinstance(g, int | float) and math.isclose(g, w, rel_tol=EXACT, abs_tol=EXACT)
            for g, w in zip(got_list, want_list)
        )
        return None if close else f"{key}: {got} where Keras gives {want}"
    if isinstance(want, float) and not isinstance(got, int | float):
        return f"{key}: {got!r} where Keras gives {want}"
    if _accuracy_like(key):
        bar, gap = ACCURACY_POINTS, abs(got - want)
    elif key == "r2":
        bar, gap = R2_TOLERANCE, abs(got - want)
    elif key.endswith("_mae"):
        bar, gap = RELATIVE_TOLERANCE, abs(got - want) / abs(want)
    else:
        return None if got == want else f"{key}: {got!r} where Keras gives {want!r}"
    return None if gap <= bar else f"{key}: {got:.4f} where Keras gives {want:.4f}"


@pytest.mark.keras
@pytest.mark.subprocess
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("script", SCRIPTS)
def test_script_matches_keras(script_runs, script, mode):
    reference = script_runs.result(script, "keras")
    assert "error" not in reference, f"real Keras failed: {reference['error']}"
    got = script_runs.result(script, mode)
    assert "error" not in got, got["error"]
    problems = [check_close(key, got.get(key), want) for key, want in reference.items()]
    problems = [p for p in problems if p]
    assert not problems, f"{script}.py ({mode}) differs from Keras: " + "; ".join(problems)


def test_port_changes_only_import_lines():
    source = (
        "import keras\n"
        "import tensorflow as tf\n"
        "import tensorflow\n"
        "from keras import layers\n"
        "from keras.models import Sequential\n"
        "from tensorflow import keras as K\n"
        "    from tensorflow.keras.layers import (Dense,\n"
        "        Dropout)\n"
        "import kerastuner\n"
        "model = keras.Sequential()  # from keras import layers, import tensorflow\n"
    )
    assert port_imports(source).splitlines() == [
        "from backprop_lab import keras",
        "from backprop_lab.compat import tf",
        "from backprop_lab.compat import tf as tensorflow",
        "from backprop_lab.keras import layers",
        "from backprop_lab.keras.models import Sequential",
        "from backprop_lab.compat.tf import keras as K",
        "    from backprop_lab.compat.tf.keras.layers import (Dense,",
        "        Dropout)",
        "import kerastuner",
        "model = keras.Sequential()  # from keras import layers, import tensorflow",
    ]


# What the issue lists, and text that shows a script uses it.
FEATURES = {
    "from keras.models import": "from keras.models import Sequential",
    "from keras.layers import": "from keras.layers import Dense",
    "from keras import layers": "from keras import layers",
    "from tensorflow.keras.layers import": "from tensorflow.keras.layers import Dense, Dropout",
    "from tensorflow.keras.utils import": "from tensorflow.keras.utils import set_random_seed, to",
    "from tensorflow import keras": "from tensorflow import keras",
    "import tensorflow as tf": "import tensorflow as tf",
    "tf.keras": "tf.keras.layers.Dense(",
    "input_dim": "input_dim=",
    "Dropout": "Dropout(",
    "Activation layer": "Activation(",
    "BatchNormalization": "BatchNormalization()",
    "to_categorical": "to_categorical(",
    'metric "acc"': 'metrics=["acc"]',
    "binary_accuracy": '"binary_accuracy"',
    "mae/mse metrics": 'metrics=["mae", "mse"]',
    "AUC": "metrics.AUC()",
    "Precision": "metrics.Precision()",
    "Recall": "metrics.Recall()",
    "metrics_names": "model.metrics_names",
    "save .keras": 'model.save("moons_model.keras")',
    "load_model": "keras.models.load_model(",
    "save_weights/load_weights": ".load_weights(",
    "to_json": ".to_json()",
    "ExponentialDecay": "schedules.ExponentialDecay(",
    "LearningRateScheduler": "LearningRateScheduler(",
    "ReduceLROnPlateau": "ReduceLROnPlateau(",
    "ModelCheckpoint": "ModelCheckpoint(",
    "CSVLogger": "CSVLogger(",
    "EarlyStopping": "EarlyStopping(",
    "class_weight": "class_weight=class_weight",
    "sample_weight": "fit(X_train, y_train, sample_weight=",
    'initializer "uniform"': 'kernel_initializer="uniform"',
    'initializer "normal"': 'kernel_initializer="normal"',
    "other activations": '"elu", "selu", "gelu", "swish", "softplus", "softsign", "relu6"',
    "hard_sigmoid, exponential": '"hard_sigmoid",',
    "other losses": "keras.losses.KLDivergence()",
    "losses in training": 'loss="hinge"',
    "from_logits": "from_logits=True",
    "label_smoothing": "label_smoothing=0.1",
    "use_bias=False": "use_bias=False",
    "clipnorm": "clipnorm=1.0",
    "clipvalue": "clipvalue=0.5",
    "weight_decay": "weight_decay=0.004",
    "AdamW": "AdamW(",
    "set_random_seed": "keras.utils.set_random_seed(",
    "tf.random.set_seed": "tf.random.set_seed(",
}


def test_the_scripts_cover_every_feature_of_the_issue():
    sources = "\n".join(path.read_text() for path in SCRIPTS_DIR.glob("*.py"))
    missing = [feature for feature, text in FEATURES.items() if text not in sources]
    assert not missing, f"no script uses: {missing}"
    assert len(SCRIPTS) >= 12
    for script in SCRIPTS:
        assert "backprop_lab" not in (SCRIPTS_DIR / f"{script}.py").read_text(), script


def test_check_close_applies_each_bar():
    assert check_close("test_accuracy", 0.955, 0.97) is None
    assert "0.9450 where Keras gives 0.9700" in check_close("test_accuracy", 0.945, 0.97)
    assert check_close("test_recall", 0.80, 0.81) is None
    assert check_close("r2", 0.40, 0.48) is None and check_close("r2", 0.35, 0.48)
    assert check_close("poisson_mae", 1.04, 1.0) is None and check_close("poisson_mae", 1.06, 1.0)
    assert check_close("loss_values", {"mae": 0.63334}, {"mae": 0.63333}) is None
    assert "loss_values.mae" in check_close("loss_values", {"mae": 0.634}, {"mae": 0.63333})
    assert "activation_values.elu" in check_close(
        "activation_values", {"elu": [0.1, 0.2]}, {"elu": [0.1, 0.25]}
    )
    assert check_close("csv_rows", 39, 40) and check_close("same_after_load", True, True) is None
    assert "None where Keras gives 0.9" in check_close("test_accuracy", None, 0.9)
