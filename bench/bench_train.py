"""Training speed of the article's run: backprop-lab's engines against other libraries.

The article's configuration: 4,000 points of the circle data set (2 features),
Dense(8, relu) -> Dense(1, sigmoid), SGD with learning rate 0.01, binary
cross-entropy, 50 epochs of batches of 32 (6,250 steps, 200,000 sample-steps).

Run ``python bench/bench_train.py`` (``--quick`` skips PyTorch and Keras and the
10-million-point epoch).  Each contender is timed on a fresh model per repeat;
the table gives the median.  The compiled engine runs the article's network
through its C kernels (``native``) where there is a C compiler, as here, and
through numba otherwise: both are timed (``BACKPROP_LAB_NATIVE=0`` for numba),
each warmed up once first, so their caches are loaded; the cost of a cold
process is measured separately (``bench_startup.py``).
Add a contender by appending to ``contenders()``.

The same training written in JAX, the strongest general-purpose competitor
(issue 15), is timed apart: ``jax.jit`` over a ``lax.scan`` of the 6,250 SGD
steps, from the same initial weights and with the same per-epoch permutations
as the compiled ``fit`` draws, so its final weights are checked against
backprop-lab's.  The script ends with issue 15's targets, met or not.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import datetime
import os
import platform
import statistics
import subprocess
import sys
import textwrap
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from backprop_lab import SGD, Dense, Sequential
from backprop_lab.data.datasets import make_circle, train_test_split

N_SAMPLES = 5000  # the article's data set; 80% is trained on
EPOCHS, BATCH_SIZE, LEARNING_RATE, HIDDEN = 50, 32, 0.01, 8


@dataclass
class Contender:
    name: str
    train: Callable[[np.ndarray, np.ndarray], object]  # fits a fresh model on (X, y)
    repeats: int


def article_split() -> list[np.ndarray]:
    """``X_train, X_test, y_train, y_test`` of the article's data, in float32."""
    X, y = make_circle(N_SAMPLES, random_state=0)
    return [a.astype(np.float32) for a in train_test_split(X, y, test_size=0.2, random_state=0)]


def article_data() -> tuple[np.ndarray, np.ndarray]:
    X_train, _, y_train, _ = article_split()
    return X_train, y_train


def as_in_the_article(fit):
    """Call ``fit`` as the article's script does: validation on the test points
    after every epoch, and the progress display on (sent to /dev/null)."""

    def train(X, y):
        _, X_test, _, y_test = article_split()
        with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
            return fit(X, y, validation_data=(X_test, y_test), verbose=1)

    return train


# ---------------------------------------------------------------------- contenders
def backprop_lab_fit(engine: str, epochs: int = EPOCHS, seed: int = 0):
    def train(X, y, validation_data=None, verbose=0):
        model = Sequential(
            [Dense(HIDDEN, "relu", input_shape=(2,)), Dense(1, "sigmoid")], seed=seed
        )
        model.compile(
            SGD(LEARNING_RATE), "binary_crossentropy", metrics=["accuracy"], engine=engine
        )
        model.fit(
            X, y, epochs=epochs, batch_size=BATCH_SIZE, validation_data=validation_data,
            verbose=verbose,
        )  # fmt: skip
        return model

    return train


def numba_only(train):
    """``train`` with the C kernels off (``BACKPROP_LAB_NATIVE=0``): the numba kernels."""

    def run(X, y, **fit):
        os.environ["BACKPROP_LAB_NATIVE"] = "0"
        try:
            return train(X, y, **fit)
        finally:
            del os.environ["BACKPROP_LAB_NATIVE"]

    return run


def sklearn_fit(X, y):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    model = MLPClassifier(
        hidden_layer_sizes=(HIDDEN,), activation="relu", solver="sgd",
        learning_rate_init=LEARNING_RATE, batch_size=BATCH_SIZE, max_iter=EPOCHS, momentum=0,
        nesterovs_momentum=False, shuffle=True, tol=0, n_iter_no_change=EPOCHS, alpha=0,
        random_state=0,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # max_iter reached, as intended
        return model.fit(X, y)


def torch_fit(X, y):
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(2, HIDDEN), torch.nn.ReLU(), torch.nn.Linear(HIDDEN, 1), torch.nn.Sigmoid()
    )
    optimizer = torch.optim.SGD(net.parameters(), lr=LEARNING_RATE)
    loss_fn = torch.nn.BCELoss()
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y).reshape(-1, 1)
    generator = torch.Generator().manual_seed(0)
    for _ in range(EPOCHS):
        order = torch.randperm(len(Xt), generator=generator)
        for start in range(0, len(Xt), BATCH_SIZE):
            batch = order[start : start + BATCH_SIZE]
            optimizer.zero_grad()
            loss = loss_fn(net(Xt[batch]), yt[batch])
            loss.backward()
            optimizer.step()
    return net


def keras_fit(X, y, validation_data=None, verbose=0):
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((2,)), keras.layers.Dense(HIDDEN, "relu"), keras.layers.Dense(1, "sigmoid")]
    )
    model.compile(keras.optimizers.SGD(LEARNING_RATE), "binary_crossentropy", metrics=["accuracy"])
    model.fit(
        X, y, epochs=EPOCHS, batch_size=BATCH_SIZE, validation_data=validation_data,
        verbose=verbose,
    )  # fmt: skip
    return model


def importable(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def contenders(args) -> list[Contender]:
    r = args.repeats
    found = [
        Contender("backprop-lab, compiled engine", backprop_lab_fit("compiled"), r),
        Contender(
            "backprop-lab, compiled engine, numba kernels only",
            numba_only(backprop_lab_fit("compiled")),
            r,
        ),
        Contender("backprop-lab, NumPy engine", backprop_lab_fit("numpy"), max(3, r // 3)),
        Contender(
            "backprop-lab, compiled, the article's fit",
            as_in_the_article(backprop_lab_fit("compiled")),
            max(3, r // 3),
        ),
        Contender("scikit-learn MLPClassifier (sgd)", sklearn_fit, max(3, r // 3)),
    ]
    if not args.quick:
        if importable("torch"):
            found.append(Contender("PyTorch (1 thread, eager loop)", torch_fit, max(2, r // 5)))
        else:
            print("PyTorch is not installed: skipped")
        os.environ.setdefault("KERAS_BACKEND", "jax")
        if importable("keras"):
            backend = os.environ["KERAS_BACKEND"]
            found.append(
                Contender(f"Keras 3 ({backend}), fit verbose=0", keras_fit, args.keras_repeats)
            )
            found.append(
                Contender(
                    f"Keras 3 ({backend}), the article's fit",
                    as_in_the_article(keras_fit),
                    args.keras_repeats,
                )
            )
        else:
            print("Keras is not installed: skipped")
    return found


# ---------------------------------------------------------------------- JAX (issue 15)
@dataclass
class JaxResult:
    version: str
    import_s: float | None  # None: already imported (by Keras)
    first_call_s: float  # trace + compile + one run
    median_s: float
    compiled_s: float  # the compiled fit's median, timed alternately with JAX's call
    repeats: int
    max_weight_diff: float  # max |w_JAX - w_backprop-lab| over every weight
    weight_scale: float  # max |w| of backprop-lab's final weights


def article_model(seed: int = 0) -> Sequential:
    """The article's network, compiled for the compiled engine (not yet fitted)."""
    model = Sequential([Dense(HIDDEN, "relu", input_shape=(2,)), Dense(1, "sigmoid")], seed=seed)
    model.compile(
        SGD(LEARNING_RATE), "binary_crossentropy", metrics=["accuracy"], engine="compiled"
    )
    return model


def jax_article(X: np.ndarray, y: np.ndarray, repeats: int) -> JaxResult | None:
    """The article's training in JAX, or None when JAX is not installed.

    The initial weights are those of ``article_model()``; the batches are the
    ones its ``fit`` draws: the 50 per-epoch permutations are taken from a copy
    of the model's generator (``fit`` calls ``rng.permutation(len(X))`` once
    per epoch), reshaped to [6250, 32] batch indices.  One jitted call runs
    the 6,250 steps (``lax.scan``): forward, clipped binary cross-entropy
    (``clip(p, 1e-7, 1 - 1e-7)``, as the engine), ``value_and_grad``, SGD
    update, in float32.  The arrays are on the device before the timing, and
    the permutations drawn beforehand, so JAX's time (the jitted call until
    ``block_until_ready``) leaves out work the compiled ``fit``'s time includes
    (drawing the permutations, input checks, the History): the comparison
    favours JAX.  JAX's call and a compiled ``fit`` (fresh model) are timed
    alternately, so the ratio of their medians sees the same load.
    """
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    imported_before = "jax" in sys.modules  # by Keras on JAX, timed before
    start = time.perf_counter()
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    import_s = None if imported_before else time.perf_counter() - start

    model = article_model()
    weights = [w.copy() for w in model.get_weights()]  # kernel [2,8], bias [8], [8,1], [1]
    rng = copy.deepcopy(model.rng)
    if len(X) % BATCH_SIZE:
        raise ValueError("the JAX version assumes full batches (4,000 = 125 x 32)")
    batches = np.stack([rng.permutation(len(X)) for _ in range(EPOCHS)])
    batches = batches.reshape(-1, BATCH_SIZE)  # [6250, 32]

    def loss_fn(params, xb, yb):
        W1, b1, W2, b2 = params
        p = jax.nn.sigmoid(jax.nn.relu(xb @ W1 + b1) @ W2 + b2)[:, 0]
        p = jnp.clip(p, 1e-7, 1 - 1e-7)
        return -jnp.mean(yb * jnp.log(p) + (1 - yb) * jnp.log(1 - p))

    @jax.jit
    def train(params, X, y, batches):
        def step(params, batch):
            loss, grads = jax.value_and_grad(loss_fn)(params, X[batch], y[batch])
            return jax.tree.map(lambda w, g: w - LEARNING_RATE * g, params, grads), loss

        return jax.lax.scan(step, params, batches)

    args = [[jnp.asarray(w) for w in weights], jnp.asarray(X), jnp.asarray(y)]
    args.append(jnp.asarray(batches))

    def run():
        return jax.block_until_ready(train(*args))[0]

    start = time.perf_counter()
    final = run()
    first_call_s = time.perf_counter() - start
    fit = backprop_lab_fit("compiled")
    times, compiled = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
        start = time.perf_counter()
        fit(X, y)
        compiled.append(time.perf_counter() - start)

    model.fit(X, y, epochs=EPOCHS, batch_size=BATCH_SIZE, verbose=0)
    ours = model.get_weights()
    diff = max(float(np.abs(np.asarray(a) - b).max()) for a, b in zip(final, ours))
    scale = max(float(np.abs(w).max()) for w in ours)
    return JaxResult(
        jax.__version__, import_s, first_call_s, statistics.median(times),
        statistics.median(compiled), repeats, diff, scale,
    )  # fmt: skip


# ---------------------------------------------------------------------- measuring
def median_seconds(train, X, y, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        train(X, y)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


FRESH_PROCESS = textwrap.dedent(
    """
    import time
    start = time.perf_counter()
    import numpy as np
    from backprop_lab import SGD, Dense, Sequential
    from backprop_lab.data.datasets import make_circle
    X, y = make_circle(4000, random_state=0)
    model = Sequential([Dense(8, "relu", input_shape=(2,)), Dense(1, "sigmoid")], seed=0)
    model.compile(SGD(0.01), "binary_crossentropy", metrics=["accuracy"], engine="compiled")
    model.fit(X, y, epochs=50, batch_size=32, verbose=0)
    print(time.perf_counter() - start)
    """
)


def fresh_process_seconds(repeats: int) -> tuple[float, float]:
    """(wall time of the whole process, time inside it from the first import), medians."""
    outside, inside = [], []
    for _ in range(repeats + 1):  # the first run may compile and fill the cache
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", FRESH_PROCESS], capture_output=True, text=True, check=True
        )
        outside.append(time.perf_counter() - start)
        inside.append(float(done.stdout.split()[-1]))
    return statistics.median(outside[1:]), statistics.median(inside[1:])


def one_epoch_seconds(n: int, repeats: int) -> float:
    X, y = make_circle(n, random_state=0)
    X, y = X.astype(np.float32), y.astype(np.float32)
    return median_seconds(backprop_lab_fit("compiled", epochs=1), X, y, repeats)


# ---------------------------------------------------------------------- report
def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    import numba

    load = ", ".join(f"{v:.1f}" for v in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return (
        f"{datetime.date.today().isoformat()}; {platform.platform()}; {cpu}; "
        f"{os.cpu_count()} logical CPUs; load average {load}; Python {platform.python_version()}, "
        f"NumPy {np.__version__}, numba {numba.__version__}"
    )


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    line = lambda cells: "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"  # noqa: E731
    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(headers), rule, *map(line, rows)])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip PyTorch, Keras and 10^7 points")
    parser.add_argument("--repeats", type=int, default=15, help="repeats of the fastest runs")
    parser.add_argument("--keras-repeats", type=int, default=2)
    args = parser.parse_args(argv)

    print(machine())
    X, y = article_data()
    sample_steps = len(X) * EPOCHS
    print(
        f"\nThe article's run: {len(X)} points, Dense({HIDDEN}, relu) -> Dense(1, sigmoid), "
        f"SGD {LEARNING_RATE}, {EPOCHS} epochs of batches of {BATCH_SIZE} "
        f"({-(-len(X) // BATCH_SIZE) * EPOCHS} steps, {sample_steps:,} sample-steps)\n"
    )
    backprop_lab_fit("compiled")(X, y)  # warm-up: build or load the C kernels
    numba_only(backprop_lab_fit("compiled"))(X, y)  # and compile or load numba's
    results = []
    for contender in contenders(args):
        seconds = median_seconds(contender.train, X, y, contender.repeats)
        results.append((contender, seconds))
        print(f"  {contender.name}: {seconds:.4f} s (median of {contender.repeats})", flush=True)
    compiled_s, numpy_s = results[0][1], results[2][1]
    rows = [
        [
            c.name, f"{s:.4f}", f"{sample_steps / s / 1e6:.2f} M", f"{s / compiled_s:.1f}x",
            f"{s / numpy_s:.2f}x", str(c.repeats),
        ]
        for c, s in results
    ]  # fmt: skip
    headers = ["", "median s", "sample-steps/s", "time / compiled", "time / NumPy", "runs"]
    print("\n" + table(headers, rows))

    jax_result = jax_article(X, y, repeats=max(11, args.repeats))
    print_jax(jax_result, steps=len(X) // BATCH_SIZE * EPOCHS)

    outside, inside = fresh_process_seconds(repeats=3)
    print(
        f"\nFresh process, warm caches, compiled engine, the article's run: "
        f"{outside:.2f} s wall for the whole process, {inside:.2f} s from the first import"
    )

    sizes = [10**4, 10**5, 10**6] + ([] if args.quick else [10**7])
    rows, epoch_s = [], {}
    for n in sizes:
        epoch_s[n] = seconds = one_epoch_seconds(n, repeats=3)
        rows.append(
            [f"{n:,}", f"{seconds:.4f}", f"{n / seconds / 1e6:.1f} M", f"{seconds / n * 1e9:.0f}"]
        )
    print("\nOne epoch, compiled engine, batch 32 (includes the permutation and input checks):\n")
    print(table(["points", "seconds", "sample-steps/s", "ns per sample"], rows))
    print_targets(compiled_s, args.repeats, jax_result, epoch_s.get(10**7))


def print_jax(j: JaxResult | None, steps: int) -> None:
    if j is None:
        print("\nJAX not installed: the JAX version is skipped")
        return
    imported = "already imported by Keras" if j.import_s is None else f"{j.import_s:.2f} s"
    agree = j.max_weight_diff <= 1e-4 * j.weight_scale
    print(
        f"\nJAX {j.version}, jax.jit over lax.scan of the {steps} SGD steps, float32, the same "
        f"initial weights and batches:\n  import {imported}, first call (trace + compile + run) "
        f"{j.first_call_s:.3f} s, warm median {j.median_s * 1e3:.2f} ms of {j.repeats}"
        f"\n  timed alternately with the compiled fit ({j.compiled_s * 1e3:.2f} ms, median of "
        f"{j.repeats}): compiled fit / JAX = {j.compiled_s / j.median_s:.2f}, "
        f"JAX takes {j.median_s / j.compiled_s:.2f}x the compiled fit's time"
        f"\n  correctness check: final weights max |w_JAX - w_backprop-lab| = "
        f"{j.max_weight_diff:.1e} (weights up to {j.weight_scale:.2f}): "
        + ("the same training" if agree else "DIFFERENT training, the comparison is void")
    )


def print_targets(compiled_s: float, runs: int, jax_result, epoch_10m: float | None) -> None:
    """Issue 15's targets for this benchmark, each met or not."""
    rows = [["the article's run, compiled fit (warm)", "<= 3 ms", f"{compiled_s * 1e3:.2f} ms "
             f"(median of {runs})", "met" if compiled_s <= 0.003 else "not met"]]  # fmt: skip
    if jax_result is None:
        rows.append(["the same, against JAX lax.scan", ">= 4x faster", "JAX not installed", "?"])
    else:
        j = jax_result
        speedup = j.median_s / j.compiled_s
        rows.append(
            ["the same, against JAX lax.scan (timed alternately)", ">= 4x faster",
             f"{speedup:.2f}x ({j.compiled_s * 1e3:.2f} vs {j.median_s * 1e3:.2f} ms)",
             "met" if speedup >= 4 else "not met"]
        )  # fmt: skip
    if epoch_10m is None:
        rows.append(["one epoch of 10^7 points", "<= 0.3 s", "not run (--quick)", "?"])
    else:
        rows.append(
            ["one epoch of 10^7 points", "<= 0.3 s", f"{epoch_10m:.2f} s (median of 3)",
             "met" if epoch_10m <= 0.3 else "not met"]
        )  # fmt: skip
    print("\nIssue 15's targets (bench/bench_startup.py measures the start-up ones):\n")
    print(table(["measure", "target", "measured", ""], rows))
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    print(f"\nload average at the end: {load}")


if __name__ == "__main__":
    main()
