"""backprop-lab's scikit-learn estimators against MLPClassifier / MLPRegressor.

Two tables, one run (``python bench/bench_sklearn.py``; ``--quick`` uses 3 folds
and fewer grid settings):

1. Quality: the same Pipeline(StandardScaler, estimator) with the same settings
   on datasets bundled with scikit-learn, scored by 5-fold cross-validation
   (stratified for classifiers; accuracy, or R² for diabetes).  "Within noise"
   means the difference of the means is smaller than the folds' spread.
2. Speed: GridSearchCV over 24 settings x 5 folds with n_jobs=2 on two bundled
   datasets, each search timed whole, after a small search of each estimator
   has started the two workers (and loaded the compiled kernels in them); that
   start-up is printed below the table.  The same search over a
   ``DummyClassifier`` (24 settings of ``strategy`` x ``random_state``, fits
   that cost microseconds) measures what the search itself costs: cloning,
   dispatching to the workers, scaling and scoring.  No estimator can make a
   search faster than that, so "MLP time / that floor" is the largest ratio any
   estimator could show on this search.

Both estimators train in float64 (backprop-lab's default); the speed table
adds backprop-lab with ``dtype="float32"``.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings

os.environ.setdefault("PYTHONWARNINGS", "ignore")  # the workers' ConvergenceWarnings
warnings.simplefilter("ignore")

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn import datasets  # noqa: E402
from sklearn.dummy import DummyClassifier  # noqa: E402
from sklearn.model_selection import (  # noqa: E402
    GridSearchCV,
    KFold,
    StratifiedKFold,
    cross_val_score,
)
from sklearn.neural_network import MLPClassifier, MLPRegressor  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from backprop_lab.sklearn import BackpropClassifier, BackpropRegressor  # noqa: E402

SETTINGS = {"hidden_layer_sizes": (64,), "max_iter": 300, "random_state": 0}
DATASETS = {
    "breast cancer": (lambda: datasets.load_breast_cancer(return_X_y=True), "clf", {}),
    "iris": (lambda: datasets.load_iris(return_X_y=True), "clf", {}),
    "digits": (lambda: datasets.load_digits(return_X_y=True), "clf", {}),
    "make_moons (1000, noise 0.3)": (
        lambda: datasets.make_moons(1000, noise=0.3, random_state=0),
        "clf",
        {},
    ),
    # the target is in the hundreds: a larger step and more epochs for both
    "diabetes (R²)": (
        lambda: datasets.load_diabetes(return_X_y=True),
        "reg",
        {"learning_rate_init": 0.01, "max_iter": 1000},
    ),
}
GRID = {
    "est__hidden_layer_sizes": [(16,), (64,), (32, 32)],
    "est__alpha": [1e-4, 1e-2],
    "est__learning_rate_init": [1e-3, 1e-2],
    "est__solver": ["sgd", "adam"],
}
STRATEGIES = ["most_frequent", "prior", "stratified", "uniform"]


def pipeline(estimator):
    from sklearn.pipeline import Pipeline

    return Pipeline([("scale", StandardScaler()), ("est", estimator)])


def quality(folds: int) -> list[str]:
    rows = [
        "| dataset | samples × features | backprop-lab | scikit-learn MLP | difference |",
        "|---|---|---|---|---|",
    ]
    for name, (load, kind, extra) in DATASETS.items():
        X, y = load()
        ours, theirs = (
            (BackpropClassifier, MLPClassifier)
            if kind == "clf"
            else (BackpropRegressor, MLPRegressor)
        )
        cv = (StratifiedKFold if kind == "clf" else KFold)(folds, shuffle=True, random_state=0)
        scores = {}
        for cls in (ours, theirs):
            est = make_pipeline(StandardScaler(), cls(**{**SETTINGS, **extra}))
            scores[cls] = cross_val_score(est, X, y, cv=cv)
        a, b = scores[ours], scores[theirs]
        noise = max(a.std(), b.std())
        verdict = "within noise" if abs(a.mean() - b.mean()) <= noise else "outside noise"
        rows.append(
            f"| {name} | {X.shape[0]} × {X.shape[1]} | {a.mean():.3f} ± {a.std():.3f} "
            f"| {b.mean():.3f} ± {b.std():.3f} | {a.mean() - b.mean():+.3f} ({verdict}) |"
        )
    return rows


def grid_time(X, y, estimator, grid, folds) -> tuple[float, float]:
    search = GridSearchCV(pipeline(estimator), grid, cv=folds, n_jobs=2)
    start = time.perf_counter()
    search.fit(X, y)
    return time.perf_counter() - start, search.best_score_


def warm_up(X, y) -> list[str]:
    """Start the two workers and load the compiled kernels in them, untimed by the table."""
    tiny = {"est__alpha": [1e-4, 1e-3]}
    lines = []
    contenders = [BackpropClassifier(max_iter=5, dtype=d) for d in ("float64", "float32")]
    for est in (*contenders, MLPClassifier(max_iter=5)):
        seconds, _ = grid_time(X, y, est, tiny, 2)
        name = " ".join([type(est).__name__, getattr(est, "dtype", "")]).strip()
        lines.append(f"{name} {seconds:.1f} s")
    return lines


def speed(folds: int, grid: dict) -> list[str]:
    n = int(np.prod([len(v) for v in grid.values()]))
    X, y = datasets.load_iris(return_X_y=True)
    warm = warm_up(X, y)
    rows = [
        f"| GridSearchCV, {n} settings × {folds} folds, n_jobs=2, max_iter 200 "
        "| backprop-lab | scikit-learn MLP | MLP time / backprop-lab time "
        "| the search alone (DummyClassifier) | MLP time / that floor |",
        "|---|---|---|---|---|---|",
    ]
    for name, load in (
        ("iris", datasets.load_iris),
        ("breast cancer", datasets.load_breast_cancer),
    ):
        X, y = load(return_X_y=True)
        theirs, best_theirs = grid_time(X, y, MLPClassifier(random_state=0), grid, folds)
        # the same number of settings for a do-nothing estimator: the search's own cost
        floor_grid = {"est__strategy": STRATEGIES, "est__random_state": list(range(n // 4))}
        floor, _ = grid_time(X, y, DummyClassifier(), floor_grid, folds)
        for dtype in ("float64", "float32"):
            est = BackpropClassifier(random_state=0, dtype=dtype)
            ours, best_ours = grid_time(X, y, est, grid, folds)
            rows.append(
                f"| {name}, backprop-lab in {dtype} (best CV accuracy {best_ours:.3f} "
                f"vs {best_theirs:.3f}) | {ours:.1f} s | {theirs:.1f} s | {theirs / ours:.1f}× "
                f"| {floor:.2f} s | {theirs / floor:.1f}× |"
            )
    rows.append(
        "\nWorkers started first, untimed above (a first search in a fresh process pays "
        "this once): " + ", ".join(warm)
    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 folds, 4 grid settings")
    parser.add_argument("--only", choices=["quality", "speed"], help="one of the two tables")
    args = parser.parse_args()
    folds = 3 if args.quick else 5
    grid = dict(GRID)
    if args.quick:
        grid["est__hidden_layer_sizes"] = [(16,)]
        grid["est__alpha"] = [1e-4]
    for dtype in ("float64", "float32"):  # load (or compile) the kernels once here
        BackpropClassifier(max_iter=1, dtype=dtype).fit([[0.0], [1.0]], [0, 1])
    print(
        f"scikit-learn {sklearn.__version__}, NumPy {np.__version__}, "
        f"Python {platform.python_version()}, {os.cpu_count()} cores\n"
    )
    if args.only != "speed":
        print(
            f"Quality: Pipeline(StandardScaler, estimator), hidden (64,), adam, "
            f"max_iter 300 (diabetes: lr 0.01, 1000), {folds}-fold CV, mean ± std\n"
        )
        print("\n".join(quality(folds)))
        print()
    if args.only != "quality":
        print("\n".join(speed(folds, grid)))


if __name__ == "__main__":
    main()
