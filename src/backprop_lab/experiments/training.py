"""One training of an experiment, tested on the shared test set.

Every training is tested on one large, fixed test set drawn independently of
all training sets.  This module runs in the worker processes.
"""

from __future__ import annotations

import functools
import math
import time

import numpy as np

from ..data import datasets
from ..engine.metrics import baseline_accuracy, grid_points
from ..runs.runner import EXTENT, Data, build_model, evaluate_run
from ..runs.settings import Settings
from .jobs import Job

GRID_RESOLUTION = 80  # pixels per side of the stored probability maps


@functools.lru_cache(maxsize=4)
def _test_set(dataset: str, noise: float, n: int, seed: int):
    maker = datasets.DATASETS[dataset]
    # spawn_key (2**31,) keeps the test stream apart from every training stream.
    data_seed = int(np.random.SeedSequence(seed, spawn_key=(2**31,)).generate_state(1)[0])
    return maker(n, noise=noise, random_state=data_seed)


def reference_accuracies(settings: Settings, test_samples: int, seed: int) -> dict:
    """Majority-class accuracy and the true rule's accuracy on the shared test set."""
    X, y = _test_set(settings.dataset, settings.noise, test_samples, seed)
    out = {"baseline": baseline_accuracy(y), "best": None}
    if settings.dataset in datasets.TRUE_LABELS:
        out["best"] = float(np.mean(datasets.true_labels(settings.dataset, X) == y))
    return out


def run_job(job: Job, base: dict, test_samples: int, experiment_seed: int) -> dict:
    """Train and test one job; returns its table row (and probability map)."""
    settings = Settings(**{**base, **dict(job.values), "seed": job.seed}).validate()
    X_test, y_test = _test_set(settings.dataset, settings.noise, test_samples, experiment_seed)
    maker = datasets.DATASETS[settings.dataset]
    data_seed = int(np.random.SeedSequence(job.seed).generate_state(1)[0])
    X, y = maker(settings.samples, noise=settings.noise, random_state=data_seed)
    true = None
    if settings.dataset in datasets.TRUE_LABELS:
        true = functools.partial(datasets.true_labels, settings.dataset)
    data = Data(X, y, X_test, y_test, true)
    model = build_model(settings, 2, data.n_classes)
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
    for key in ("test_accuracy", "test_loss", "disagreement_area", "iou"):
        if key in metrics:
            row[key] = metrics[key]
    if job.keep_grid:
        G = grid_points(EXTENT, GRID_RESOLUTION)
        row["grid"] = model.predict(G, verbose=0)[:, 0].reshape(GRID_RESOLUTION, GRID_RESOLUTION)
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
