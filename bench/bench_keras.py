"""Keras scripts on backprop-lab against Keras 3 on JAX and on TensorFlow, in one run.

Two unchanged scripts:

- ``article``: the article's script (``import tensorflow as tf``; 4,000 circle points,
  Dense(8, relu) -> Dense(1, sigmoid), SGD 0.01, 50 epochs of batches of 32,
  validation on the test points after each epoch, the progress display on);
- ``tutorial``: ``tests/keras_scripts/circles_dropout.py`` (Dropout + Adam +
  EarlyStopping with restore_best_weights, 2,250 points, ``tensorflow.keras`` imports).

Each runs on three contenders: backprop-lab (``backprop-lab run script.py``), Keras 3
on JAX and Keras 3 on TensorFlow (when TensorFlow is importable:
``pip install -e '.[bench]'``). Two times, medians:

- **fit**: the script's ``fit`` call alone, timed inside the process (Keras traces
  and compiles its train step in it, as a user's first ``fit`` does);
- **process**: the whole process, from start to exit, imports included: wall time,
  and the CPU time it used (user + system, all threads), which a busy machine
  disturbs less. (The process is ``python script.py`` or ``backprop-lab run
  script.py`` with the fit timer added: this file runs the script as either does.)

Each figure is the median over ``--repeats`` fresh processes.

Keras on JAX runs as a JAX-only install would: ``tf.keras`` is served by Keras itself
(the stand-in the script tests use), so TensorFlow is not imported. Run
``python bench/bench_keras.py`` (``--repeats`` sets the number of runs).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import importlib.util
import io
import json
import os
import platform
import resource
import runpy
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = ROOT / "tests" / "keras_scripts" / "circles_dropout.py"

ARTICLE = '''"""The article's script: a circle learnt by a tiny network, tf.keras as written."""
import numpy as np
import tensorflow as tf
from sklearn.model_selection import train_test_split


def circle_points(count):
    points = np.random.uniform(-1, 1, (count, 2))
    labels = np.zeros((count, 1))
    for i in range(count):
        a, b = points[i]
        if a**2 + b**2 <= 0.25:
            labels[i] = 1
    return points, labels


points, labels = circle_points(5000)
x_train, x_test, y_train, y_test = train_test_split(points, labels, test_size=0.2)
model = tf.keras.Sequential(
    [
        tf.keras.layers.Dense(8, activation="relu", input_shape=(2,)),
        tf.keras.layers.Dense(1, activation="sigmoid"),
    ]
)
model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
model.fit(x_train, y_train, epochs=50, batch_size=32, validation_data=(x_test, y_test))
loss, accuracy = model.evaluate(x_test, y_test)
print(f"Test Accuracy: {accuracy * 100:.2f}%")
'''

CONTENDERS = {
    "backprop-lab": "backprop-lab (`backprop-lab run`)",
    "jax": "Keras 3 on JAX",
    "tensorflow": "Keras 3 on TensorFlow",
}


def _tf_stand_in(folder: Path) -> Path:
    """A folder whose ``tensorflow`` package serves Keras's own tf.keras (see the tests)."""
    sys.path.insert(0, str(ROOT / "tests"))
    from test_keras_scripts import TF_STAND_IN

    (folder / "tensorflow").mkdir(parents=True, exist_ok=True)
    (folder / "tensorflow" / "__init__.py").write_text(TF_STAND_IN)
    return folder


def _environment(contender: str, folder: Path) -> dict:
    env = {**os.environ, "MPLBACKEND": "Agg", "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.pop("PYTHONPATH", None)
    if contender != "backprop-lab":
        env["KERAS_BACKEND"] = contender
    if contender == "jax":
        env["PYTHONPATH"] = str(_tf_stand_in(folder / "stand-in"))
    return env


def _command(contender: str, script: Path) -> list[str]:
    if contender == "backprop-lab":
        cli = shutil.which("backprop-lab", path=str(Path(sys.executable).parent))
        return [*([cli] if cli else [sys.executable, "-m", "backprop_lab"]), "run", str(script)]
    return [sys.executable, str(script)]


# ---------------------------------------------------------------------- worker
def worker(contender: str, script: str) -> None:
    """Run ``script`` once in this process, as ``python script.py`` or ``backprop-lab run``
    would; print its fits' times as JSON."""
    fits = []

    def timed(fit):
        def timed_fit(model, *args, **kwargs):
            start = time.perf_counter()
            history = fit(model, *args, **kwargs)
            fits.append(
                {
                    "seconds": time.perf_counter() - start,
                    "epochs": len(history.history["loss"]),
                    "engine": getattr(model, "engine_used", None),
                }
            )
            return history

        return timed_fit

    if contender == "backprop-lab":
        from backprop_lab.cli.run_script import run_script
        from backprop_lab.engine.model import Sequential

        Sequential.fit = timed(Sequential.fit)

        def run():
            if run_script(script, []) != 0:
                raise SystemExit(f"backprop-lab run {script} failed")

    else:
        import keras

        keras.Model.fit = timed(keras.Model.fit)

        def run():
            runpy.run_path(script, run_name="__main__")

    sys.path.insert(0, str(Path(script).parent))
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        run()
    print(json.dumps(fits))


# ---------------------------------------------------------------------- driver
def measure(contender: str, script: Path, repeats: int, folder: Path) -> dict:
    """Medians over ``repeats`` fresh processes, each running the script once."""
    env = _environment(contender, folder)
    fits, process, cpu = [], [], []
    for _ in range(repeats):
        start, before = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.run(
            [sys.executable, __file__, "--worker", contender, str(script)],
            cwd=folder, env=env, capture_output=True, text=True,
        )  # fmt: skip
        process.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        if done.returncode != 0:
            raise SystemExit(f"{contender} on {script.name} failed:\n{done.stderr[-2000:]}")
        fits.extend(json.loads(done.stdout.splitlines()[-1]))
    return {
        "fit": statistics.median(f["seconds"] for f in fits),
        "process": statistics.median(process),
        "cpu": statistics.median(cpu),
        "epochs": statistics.median(f["epochs"] for f in fits),
        "engine": fits[-1]["engine"],
    }


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError, StopIteration), open("/proc/cpuinfo") as f:
        cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    versions = []
    for name in ("numpy", "numba", "keras", "jax", "tensorflow"):
        if importlib.util.find_spec(name) is not None:
            from importlib.metadata import version

            dist = "tensorflow-cpu" if name == "tensorflow" else name
            with contextlib.suppress(Exception):
                versions.append(f"{name} {version(dist)}")
    return (
        f"{datetime.date.today().isoformat()}; {platform.platform()}; {cpu}; "
        f"{os.cpu_count()} logical CPUs; load average {load}; "
        f"Python {platform.python_version()}, {', '.join(versions)}"
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs of each script (default 3)")
    parser.add_argument(
        "--worker", nargs=2, metavar=("CONTENDER", "SCRIPT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.worker:
        worker(*args.worker)
        return

    print(machine())
    contenders = ["backprop-lab", "jax"]
    if importlib.util.find_spec("tensorflow") is not None:
        contenders.append("tensorflow")
    else:
        print("TensorFlow is not installed (pip install -e '.[bench]'): no TensorFlow rows")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "article.py").write_text(ARTICLE)
        for workload, script in [("article", Path(tmp) / "article.py"), ("tutorial", TUTORIAL)]:
            base = None
            for contender in contenders:
                folder = Path(tmp) / f"{workload}-{contender}"
                folder.mkdir()
                got = measure(contender, script, args.repeats, folder)
                base = base or got
                engine = f" ({got['engine']} engine)" if got["engine"] else ""
                rows.append(
                    f"| {workload} | {CONTENDERS[contender]}{engine} | {got['epochs']:g} "
                    f"| {got['fit']:.3f} | {got['fit'] / base['fit']:.1f}x "
                    f"| {got['process']:.2f} | {got['process'] / base['process']:.1f}x "
                    f"| {got['cpu']:.2f} | {got['cpu'] / base['cpu']:.1f}x |"
                )
                print(rows[-1], flush=True)
    print(
        f"\nMedians of {args.repeats} runs; x = time / backprop-lab's time.\n\n"
        "| script | contender | epochs | fit s | fit ratio | process s | process ratio "
        "| process CPU s | CPU ratio |\n"
        "|---|---|---|---|---|---|---|---|---|"
    )
    print("\n".join(rows))


if __name__ == "__main__":
    main()
