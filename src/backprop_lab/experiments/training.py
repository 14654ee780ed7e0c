"""One training of an experiment, tested on the shared test set.

Every training is tested on one large, fixed test set drawn independently of
all training sets.  This module runs in the worker processes, or in several
threads of one process at once: a training shares nothing it writes (its
data, model and generators are its own; the test set is only read) and draws
no pictures.
"""

from __future__ import annotations

import functools
import math
import threading
import time

import numpy as np

from ..data import datasets
from ..engine import engines
from ..engine.metrics import baseline_accuracy, grid_points, regression_scores
from ..runs.runner import EXTENT, Data, build_model, evaluate_run
from ..runs.settings import Settings
from .jobs import Job
from .results import score_column

GRID_RESOLUTION = 80  # pixels per side of the stored maps
# The metrics a training's row keeps, where its task has them.
ROW_METRICS = ("test_accuracy", "test_loss", "macro_f1", "mse", "r2", "disagreement_area", "iou")


def _make(dataset: str, classes: int, n: int, noise: float, seed: int):
    """``n`` points of ``dataset`` (with ``classes`` classes where it takes them)."""
    options = {"n_classes": classes} if dataset in datasets.MULTICLASS else {}
    return datasets.DATASETS[dataset](n, noise=noise, random_state=seed, **options)


@functools.lru_cache(maxsize=4)
def _test_set(dataset: str, noise: float, n: int, seed: int, classes: int = 2):
    # spawn_key (2**31,) keeps the test stream apart from every training stream.
    data_seed = int(np.random.SeedSequence(seed, spawn_key=(2**31,)).generate_state(1)[0])
    return _make(dataset, classes, n, noise, data_seed)


_TEST_SET_LOCK = threading.Lock()


def _shared_test_set(dataset: str, noise: float, n: int, seed: int, classes: int):
    """`_test_set`, drawn once when several threads ask for it at the same time."""
    with _TEST_SET_LOCK:
        return _test_set(dataset, noise, n, seed, classes)


def runs_compiled(jobs: list[Job], base: dict) -> bool:
    """Whether every job's model trains on the compiled engine (so threads suit them).

    The model of each distinct setting is built, as `run_job` builds it, and
    asked which engine ``fit`` would select; nothing is trained.
    """
    for values in {job.values for job in jobs}:
        settings = Settings(**{**base, **dict(values), "seed": 0}).validate()
        task = settings.generated_task()
        classes = settings.classes if task == "classification" else 0
        model = build_model(settings, 2, classes, task=task)
        try:
            if engines.select(model, settings.engine) is not engines.COMPILED:
                return False
        except ValueError:  # "compiled" asked for a model it cannot run: the job will say so
            return False
    return True


def reference_accuracies(settings: Settings, test_samples: int, seed: int) -> dict:
    """The baseline and the best score of the task on the shared test set.

    Classification: ``baseline`` is the accuracy of always answering the
    majority class, ``best`` that of the true rule (None where it is not
    known).  Regression: ``baseline`` is R² 0 (predicting the mean), ``best``
    the R² of the exact, noise-free surface.  ``score`` names the column
    compared (``test_accuracy`` or ``r2``).
    """
    X, y = _test_set(settings.dataset, settings.noise, test_samples, seed, settings.classes)
    task = settings.generated_task()
    out = {"score": score_column(task), "best": None}
    exact = None
    if settings.dataset in datasets.TRUE_LABELS:
        exact = datasets.true_labels(settings.dataset, X)
    if task == "regression":
        out["baseline"] = 0.0
        if exact is not None:
            out["best"] = regression_scores(y, exact)["r2"]
    else:
        out["baseline"] = baseline_accuracy(y)
        if exact is not None:
            out["best"] = float(np.mean(exact == y))
    return out


def run_job(job: Job, base: dict, test_samples: int, experiment_seed: int) -> dict:
    """Train and test one job; returns its table row (and its map over the plane).

    The map, kept for ``job.keep_grid``, is P(class 1) of shape (r, r) for
    two classes, the k probabilities (r, r, k) for k classes, the predicted
    value (r, r) for regression.
    """
    settings = Settings(**{**base, **dict(job.values), "seed": job.seed}).validate()
    task = settings.generated_task()
    X_test, y_test = _shared_test_set(
        settings.dataset, settings.noise, test_samples, experiment_seed, settings.classes
    )
    data_seed = int(np.random.SeedSequence(job.seed).generate_state(1)[0])
    X, y = _make(settings.dataset, settings.classes, settings.samples, settings.noise, data_seed)
    true = None
    if settings.dataset in datasets.TRUE_LABELS:
        true = functools.partial(datasets.true_labels, settings.dataset)
    data = Data(X, y, X_test, y_test, true, task)
    classes = settings.classes if task == "classification" else 0
    model = build_model(settings, 2, classes, task=task)
    start = time.perf_counter()
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        steps = _train(model, X, y, settings, job.steps)
    seconds = time.perf_counter() - start
    history = model.history.history["loss"] if model.history else []
    row = {
        "index": job.index,
        "protocol": job.protocol,
        "size": settings.samples,
        "seed": job.seed,
        "steps": steps,
        "seconds": round(seconds, 4),
    }
    row.update(dict(job.values))
    if not all(math.isfinite(v) for v in history) or not _finite(model):
        row["status"] = "diverged"
        return row
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        metrics = evaluate_run(model, data, resolution=400)
    row["status"] = "ok"
    row.update({key: metrics[key] for key in ROW_METRICS if key in metrics})
    if job.keep_grid:
        P = model.predict(grid_points(EXTENT, GRID_RESOLUTION), verbose=0)
        P = P[:, 0] if P.shape[1] == 1 else P
        row["grid"] = P.reshape(GRID_RESOLUTION, GRID_RESOLUTION, *P.shape[1:])
    return row


def _finite(model) -> bool:
    return all(np.all(np.isfinite(p)) for p in model.params)


def _train(model, X, y, settings: Settings, steps: int | None) -> int:
    """Fit for ``settings.epochs`` epochs, or for exactly ``steps`` updates.

    For a fixed number of steps, whole epochs are followed by one partial
    epoch on a random subset, so the count is exact at every size.
    """
    batch = settings.batch_size
    per_epoch = -(-len(X) // batch)
    if steps is None:
        model.fit(X, y, epochs=settings.epochs, batch_size=batch, verbose=0)
        return settings.epochs * per_epoch
    full, rest = divmod(steps, per_epoch)
    if full:
        model.fit(X, y, epochs=full, batch_size=batch, verbose=0)
    if rest:
        pick = model.rng.permutation(len(X))[: rest * batch]
        model.fit(X[pick], y[pick], epochs=1, batch_size=batch, verbose=0, shuffle=False)
    return steps
