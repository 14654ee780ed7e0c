"""Start-up cost of the compiled engine (issue 15): the first run on a new machine, and a
fresh process with warm caches (numba's, the C kernels').

Each part runs twice: with the C kernels (``native``, the default wherever
there is a C compiler) and with numba only (``BACKPROP_LAB_NATIVE=0``).  The
children write Python's bytecode, as a user's interpreter does (this
environment sets ``PYTHONDONTWRITEBYTECODE``, which the children drop).

(a) First run on a new machine: a child process with ``NUMBA_CACHE_DIR`` and
    ``BACKPROP_LAB_CACHE_DIR`` set to a new, empty folder imports backprop_lab,
    builds the article's data and network (compiled engine, float32, as
    ``backprop-lab demo`` does), fits it and predicts once, as the demo does
    (its validation and evaluation run the same prediction kernel).
    Compiling = the first ``fit`` minus a warm ``fit`` (median of 5 in the same
    process) plus the first ``predict`` minus a warm ``predict``.  Also the
    whole process's wall time, and ``backprop-lab demo`` itself from an empty
    cache against a warm one (the difference is what a newcomer's first demo
    spends compiling).
(b) Warm fresh process: the same folder is filled once, then each child
    imports backprop_lab, builds the article's data and network and fits it
    (nothing more): the whole process's wall time, median of ``--repeats``;
    and where the time goes (interpreter start, ``import backprop_lab``,
    data, ``Sequential`` + ``compile``, the first ``fit`` = loading the
    kernels + training, exit), ``import numba`` alone, and the training alone.

The caches are temporary folders under /tmp, deleted at the end.  Run:
``.venv/bin/python bench/bench_startup.py`` (about 5 minutes).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time

# One child process: the article's run, timing its phases on the wall clock
# (time.time, comparable with the parent's) and printing them as JSON.
CHILD = textwrap.dedent(
    """
    import time
    t = {"start": time.time()}
    import json, sys
    import backprop_lab
    from backprop_lab import SGD, Dense, Sequential
    t["import"] = time.time()
    from backprop_lab.data.datasets import make_circle, train_test_split
    X, y = make_circle(5000, random_state=0)
    X, X_test, y, y_test = [
        a.astype("float32") for a in train_test_split(X, y, test_size=0.2, random_state=0)
    ]
    t["data"] = time.time()
    def article_model():
        model = Sequential([Dense(8, "relu", input_shape=(2,)), Dense(1, "sigmoid")], seed=0)
        model.compile(SGD(0.01), "binary_crossentropy", metrics=["accuracy"], engine="compiled")
        return model
    model = article_model()
    t["build"] = time.time()
    t["numba_at_build"] = "numba" in sys.modules
    model.fit(X, y, epochs=50, batch_size=32, verbose=0)
    t["fit"] = time.time()
    if "--predict" in sys.argv:
        model.predict(X_test, verbose=0)
        t["predict"] = time.time()
    if "--warm" in sys.argv:  # after the timed part: the same work, warm
        fits, predicts = [], []
        for _ in range(5):
            model = article_model()
            s = time.perf_counter()
            model.fit(X, y, epochs=50, batch_size=32, verbose=0)
            fits.append(time.perf_counter() - s)
            s = time.perf_counter()
            model.predict(X_test, verbose=0)
            predicts.append(time.perf_counter() - s)
        t["warm_fit"] = sorted(fits)[2]
        t["warm_predict"] = sorted(predicts)[2]
    t["numba_loaded"] = "numba" in sys.modules
    print(json.dumps(t))
    """
)


def environment(cache: str, native: bool) -> dict:
    """A child's environment: ``cache`` for numba's and the C kernels' caches; the C
    kernels off unless ``native``; Python writing its bytecode, as on a user's machine."""
    env = {**os.environ, "NUMBA_CACHE_DIR": cache, "BACKPROP_LAB_CACHE_DIR": cache}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("BACKPROP_LAB_NATIVE", None)
    if not native:
        env["BACKPROP_LAB_NATIVE"] = "0"
    return env


def child(cache: str, *flags: str, native: bool = True) -> dict:
    """Run CHILD with ``cache`` as the kernel caches; its phases plus the parent's view."""
    env = environment(cache, native)
    before = time.time()
    wall = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", CHILD, *flags], env=env, capture_output=True, text=True
    )
    wall = time.perf_counter() - wall
    after = time.time()
    if done.returncode:
        raise SystemExit(f"the child process failed:\n{done.stderr}")
    t = json.loads(done.stdout.splitlines()[-1])
    t.update(wall=wall, spawned=before, ended=after)
    return t


def python_seconds(code: str, repeats: int) -> float:
    """Median wall time of ``python -c code`` (the interpreter's own cost)."""
    times = []
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, env=env)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def import_numba_seconds(repeats: int) -> float:
    """Median time of ``import numba`` in a process that has imported NumPy."""
    code = (
        "import time, numpy; s = time.perf_counter(); import numba; print(time.perf_counter() - s)"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    out = [
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True, env=env).stdout)
        for _ in range(repeats)
    ]  # fmt: skip
    return statistics.median(out)


def demo_seconds(cache: str, native: bool) -> float:
    """Wall time of ``backprop-lab demo --seed 1 --quiet`` with ``cache`` as the kernel caches."""
    out = tempfile.mkdtemp(prefix="bench-startup-demo-", dir="/tmp")
    env = environment(cache, native)
    try:
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "backprop_lab", "demo", "--seed", "1", "--quiet", "--out", out],
            env=env, check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        return time.perf_counter() - start
    finally:
        shutil.rmtree(out, ignore_errors=True)


def med(runs: list[dict], key) -> float:
    return statistics.median(key(t) for t in runs)


# ---------------------------------------------------------------------- (a) and (b)
def first_run(scratch: str, repeats: int, demo_repeats: int, native: bool) -> dict:
    runs = []
    for i in range(repeats):
        cache = tempfile.mkdtemp(prefix=f"cold{i}-", dir=scratch)  # empty: a new machine
        runs.append(child(cache, "--predict", "--warm", native=native))
    fit_compile = med(runs, lambda t: t["fit"] - t["build"] - t["warm_fit"])
    predict_compile = med(runs, lambda t: t["predict"] - t["fit"] - t["warm_predict"])
    compile_s = med(
        runs,
        lambda t: (
            t["fit"] - t["build"] - t["warm_fit"] + t["predict"] - t["fit"] - t["warm_predict"]
        ),
    )
    out = {
        "repeats": repeats,
        "fit_compile": fit_compile,
        "predict_compile": predict_compile,
        "compile": compile_s,
        # The process up to its first predict (the warm repeats come after it).
        "process": med(runs, lambda t: t["predict"] - t["spawned"]),
        "import": med(runs, lambda t: t["import"] - t["start"]),
        "build": med(runs, lambda t: t["build"] - t["data"]),
    }
    if demo_repeats:
        cold = []
        for i in range(demo_repeats):
            cache = tempfile.mkdtemp(prefix=f"demo{i}-", dir=scratch)
            cold.append(demo_seconds(cache, native))  # empty cache; this run fills it
        warm = [demo_seconds(cache, native) for _ in range(demo_repeats)]
        out.update(
            demo_repeats=demo_repeats,
            demo_cold=statistics.median(cold),
            demo_warm=statistics.median(warm),
        )
    return out


def warm_process(scratch: str, repeats: int, native: bool) -> dict:
    cache = tempfile.mkdtemp(prefix="warm-", dir=scratch)
    child(cache, native=native)  # fills the cache
    runs = [child(cache, native=native) for _ in range(repeats)]
    trained = child(cache, "--warm", native=native)  # one more process: the training alone
    return {
        "repeats": repeats,
        "wall": med(runs, lambda t: t["wall"]),
        "wall_min": min(t["wall"] for t in runs),
        "start": med(runs, lambda t: t["start"] - t["spawned"]),
        "import": med(runs, lambda t: t["import"] - t["start"]),
        "data": med(runs, lambda t: t["data"] - t["import"]),
        "build": med(runs, lambda t: t["build"] - t["data"]),
        "first_fit": med(runs, lambda t: t["fit"] - t["build"]),
        "exit": med(runs, lambda t: t["ended"] - t["fit"]),
        "training": trained["warm_fit"],
        "numba_at_build": all(t["numba_at_build"] for t in runs),
        "numba_loaded": all(t["numba_loaded"] for t in runs),
        "python": python_seconds("pass", repeats),
        "python_numpy": python_seconds("import numpy", repeats),
        "import_numba": import_numba_seconds(repeats),
    }


# ---------------------------------------------------------------------- report
def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    line = lambda cells: "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"  # noqa: E731
    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(headers), rule, *map(line, rows)])


def report(a: dict | None, b: dict | None, how: str) -> list[list[str]]:
    """Print (a) and (b) for one way of running; return its rows of the targets' table."""
    if a:
        print(
            f"\n(a) {how}. First run on a new machine (empty caches), the article's network, "
            f"compiled engine, float32; medians of {a['repeats']} processes:\n"
        )
        rows = [
            ["import backprop_lab", f"{a['import']:.2f}"],
            ["Sequential + compile(engine='compiled')", f"{a['build']:.2f}"],
            ["compiling at the first fit (first fit - warm fit)", f"{a['fit_compile']:.2f}"],
            ["compiling at the first predict (first - warm)", f"{a['predict_compile']:.2f}"],
            ["compiling, total", f"{a['compile']:.2f}"],
            ["whole process, start to the first predict done", f"{a['process']:.2f}"],
        ]
        if "demo_cold" in a:
            rows += [
                [f"`backprop-lab demo`, empty cache (median of {a['demo_repeats']})",
                 f"{a['demo_cold']:.2f}"],
                ["`backprop-lab demo`, warm cache", f"{a['demo_warm']:.2f}"],
                ["  difference (the demo's compiling)", f"{a['demo_cold'] - a['demo_warm']:.2f}"],
            ]  # fmt: skip
        print(table(["", "seconds"], rows))
    if b:
        print(
            f"\n(b) {how}. Fresh process, warm caches: import, the article's data and network, "
            f"fit (50 epochs), nothing more; medians of {b['repeats']} processes:\n"
        )
        rows = [
            ["whole process (wall, from the parent)", f"{b['wall']:.3f}"],
            ["  interpreter start, until the script's first line", f"{b['start']:.3f}"],
            ["  import backprop_lab", f"{b['import']:.3f}"],
            ["  the data", f"{b['data']:.3f}"],
            ["  Sequential + compile(engine='compiled')"
             + (" (imports numba)" if b["numba_at_build"] else ""), f"{b['build']:.3f}"],
            ["  first fit (" + ("" if b["numba_at_build"] or not b["numba_loaded"]
             else "importing numba, ") + "loading the kernels, training)",
             f"{b['first_fit']:.3f}"],
            ["    of which training (a warm fit, same process)", f"{b['training']:.4f}"],
            ["  exit (after the fit, until the parent sees the end)", f"{b['exit']:.3f}"],
            ["reference: python -c pass", f"{b['python']:.3f}"],
            ["reference: python -c 'import numpy'", f"{b['python_numpy']:.3f}"],
            ["reference: import numba after numpy", f"{b['import_numba']:.3f}"],
        ]  # fmt: skip
        print(table(["", "seconds"], rows))
        print(f"numba imported in the process: {'yes' if b['numba_loaded'] else 'no'}")

    rows = []
    if a:
        rows.append(
            [f"{how}: first run on a new machine, compiling (fit + predict)", "<= 3 s",
             f"{a['compile']:.2f} s", "met" if a["compile"] <= 3 else "not met"]
        )  # fmt: skip
    if b:
        rows.append(
            [f"{how}: warm fresh process, whole-process, the article's fit", "<= 0.3 s",
             f"{b['wall']:.2f} s", "met" if b["wall"] <= 0.3 else "not met"]
        )  # fmt: skip
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="processes per median")
    parser.add_argument("--cold-repeats", type=int, default=7, help="empty-cache processes")
    parser.add_argument("--demo-repeats", type=int, default=3, help="0 skips the demo runs")
    parser.add_argument("--part", choices=["a", "b", "all"], default="all")
    args = parser.parse_args(argv)

    import numba
    import numpy as np

    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(
        f"{time.strftime('%Y-%m-%d')}; {platform.platform()}; {os.cpu_count()} logical CPUs; "
        f"load average {load}; Python {platform.python_version()}, NumPy {np.__version__}, "
        f"numba {numba.__version__}",
        flush=True,
    )
    scratch = tempfile.mkdtemp(prefix="bench-startup-", dir="/tmp")
    targets = []
    try:
        for native, how in ((True, "C kernels (the default)"), (False, "numba only")):
            a = b = None
            if args.part != "b":
                a = first_run(scratch, args.cold_repeats, args.demo_repeats, native)
            if args.part != "a":
                b = warm_process(scratch, args.repeats, native)
            targets += report(a, b, how)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print("\nIssue 15's start-up targets:\n")
    print(table(["measure", "target", "measured (median)", ""], targets))
    print(f"\nload average at the end: {', '.join(f'{v:.1f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
