"""Experiments: many trainings over a grid, in parallel, with a tidy table.

``scale`` measures how test accuracy grows with the size of the training set
under two protocols:

* ``fixed-epochs``: the article's setting, so more data also means more
  gradient steps;
* ``fixed-steps``: the same number of updates for every size, so only the
  amount of data differs.

``sweep`` varies one or two settings (``lr``, ``hidden``, ...).  Every training
is tested on one large, fixed test set drawn independently of all training
sets.  Each training's seed comes from the experiment seed and its position in
the grid, so the table does not depend on the number of workers or on the
order in which they finish.  Rows are appended to ``results.csv`` as trainings
finish, which is what lets an interrupted experiment resume.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..data import datasets
from ..engine._checks import check_positive_int
from ..engine.metrics import baseline_accuracy, grid_points
from ..runs.runner import EXTENT, Data, build_model, evaluate_run
from ..runs.settings import FIELDS, Settings

PROTOCOLS = ("fixed-epochs", "fixed-steps")
COLUMNS = (
    "index",
    "protocol",
    "size",
    "seed",
    "steps",
    "status",
    "test_accuracy",
    "test_loss",
    "disagreement_area",
    "iou",
    "seconds",
)
GRID_RESOLUTION = 80  # pixels per side of the stored probability maps
# Settings an experiment does not vary: test_size is unused (one shared test set).
VARY_EXCLUDED = {"seed", "out", "name", "engine", "dataset", "test_size"}


def default_sizes() -> list[int]:
    """Ten sizes on a log grid from 50 to 500,000."""
    return [int(round(v)) for v in np.logspace(np.log10(50), np.log10(500_000), 10)]


@dataclass(frozen=True)
class Job:
    """One training: a point of the grid, a protocol and a seed."""

    index: int  # row order of the final table
    values: tuple  # ((setting, value), ...) applied to the base settings
    protocol: str
    seed: int  # derived from the experiment seed and the grid position
    steps: int | None  # gradient steps for fixed-steps, else None
    keep_grid: bool = False  # store the learned probability map (for pictures)


def derive_seed(experiment_seed: int, point: int, replicate: int) -> int:
    """A training's seed from the experiment seed and its (point, replicate) position."""
    return int(
        np.random.SeedSequence(experiment_seed, spawn_key=(point, replicate)).generate_state(1)[0]
    )


@functools.lru_cache(maxsize=4)
def _test_set(dataset: str, noise: float, n: int, seed: int):
    maker = datasets.DATASETS[dataset]
    # spawn_key (2**31,) keeps the test stream apart from every training stream.
    data_seed = int(np.random.SeedSequence(seed, spawn_key=(2**31,)).generate_state(1)[0])
    return maker(n, noise=noise, random_state=data_seed)


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
        pick = model._rng.permutation(len(X))[: rest * batch]
        model.fit(X[pick], y[pick], epochs=1, batch_size=batch, verbose=0, shuffle=False)
    return steps


# --------------------------------------------------------------------------- grids


def scale_jobs(sizes, seeds: int, protocols, steps: int, experiment_seed: int) -> list[Job]:
    """The jobs of a scaling experiment: sizes × seeds × protocols."""
    jobs = []
    pictured = set(sizes[:: max(1, len(sizes) // 4)][:4])
    for point, size in enumerate(sizes):
        for replicate in range(seeds):
            seed = derive_seed(experiment_seed, point, replicate)
            for protocol in protocols:
                jobs.append(
                    Job(
                        len(jobs),
                        (("samples", size),),
                        protocol,
                        seed,
                        steps if protocol == "fixed-steps" else None,
                        keep_grid=replicate == 0 and protocol == protocols[0] and size in pictured,
                    )
                )
    return jobs


def parse_vary(specs: list[str]) -> list[tuple[str, list]]:
    """Parse ``["lr=0.001,0.01", "hidden=2,4"]`` into ``[("lr", [0.001, 0.01]), ...]``."""
    if not specs or len(specs) > 2:
        raise ValueError("sweep needs one or two --vary NAME=V1,V2,... options")
    parsed = []
    types = {f.name: f.type for f in dataclasses.fields(Settings)}
    for spec in specs:
        name, sep, text = spec.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or not text.strip():
            raise ValueError(f"--vary {spec!r} must look like NAME=V1,V2,...")
        if name not in FIELDS or name in VARY_EXCLUDED:
            valid = ", ".join(sorted(FIELDS - VARY_EXCLUDED))
            raise ValueError(f"--vary: unknown parameter {name!r}; valid names: {valid}")
        kind = str(types[name])
        values = []
        # hidden values are layer lists such as "8:tanh"; separate several with ";"
        raw = text.split(";") if name == "hidden" and ";" in text else text.split(",")
        for item in raw:
            item = item.strip()
            if not item:
                raise ValueError(f"--vary {spec!r} has an empty value")
            try:
                if "int" in kind and "float" not in kind:
                    values.append(int(item))
                elif "float" in kind:
                    values.append(float(item))
                else:
                    values.append(item)
            except ValueError:
                raise ValueError(f"--vary {name}: {item!r} is not a valid value") from None
        parsed.append((name, values))
    if len(parsed) == 2 and parsed[0][0] == parsed[1][0]:
        raise ValueError(f"--vary {parsed[0][0]} is given twice")
    return parsed


def sweep_jobs(vary, seeds: int, experiment_seed: int) -> list[Job]:
    """The jobs of a sweep: the product of the varied values × seeds."""
    grids = [[(name, v) for v in values] for name, values in vary]
    points = (
        [(a,) for a in grids[0]]
        if len(grids) == 1
        else [(a, b) for a in grids[0] for b in grids[1]]
    )
    jobs = []
    for point, values in enumerate(points):
        for replicate in range(seeds):
            seed = derive_seed(experiment_seed, point, replicate)
            jobs.append(Job(len(jobs), tuple(values), "sweep", seed, None))
    return jobs


def check_jobs(jobs: list[Job], base: dict) -> None:
    """Refuse settings no training could use, before anything runs."""
    if base["dataset"].lower().startswith("csv:"):
        raise ValueError("experiments generate their data; --dataset csv:PATH is not supported")
    for job in jobs:
        values = {**base, **dict(job.values), "seed": 0}
        settings = Settings(**values).validate()
        if settings.samples < settings.batch_size:
            raise ValueError(
                f"size {settings.samples} is smaller than the batch size {settings.batch_size}"
            )
        if settings.samples < 4:
            raise ValueError(f"size {settings.samples} is too small: need 2 points per class")


# --------------------------------------------------------------------------- running


def _executor(jobs_n: int, scheduler: str | None, dask_workers: int | None):
    """Yield-results function for the chosen backend: in-process, joblib or Dask."""
    if scheduler or dask_workers:
        return functools.partial(_run_dask, scheduler=scheduler, workers=dask_workers)
    if jobs_n == 1:
        return lambda fn, todo: (fn(job) for job in todo)

    def run_joblib(fn, todo):
        from joblib import Parallel, delayed

        parallel = Parallel(n_jobs=jobs_n, return_as="generator_unordered")
        return parallel(delayed(fn)(job) for job in todo)

    return run_joblib


def _distributed():
    try:
        import distributed
    except ImportError:
        raise ValueError(
            "running on Dask needs dask.distributed: pip install 'backprop-lab[dask]'"
        ) from None
    return distributed


def connect(scheduler: str, timeout: float = 5.0):
    """A Dask client for ``scheduler``, or ConnectionError within ``timeout`` seconds."""
    Client = _distributed().Client

    try:
        return Client(scheduler, timeout=f"{timeout}s")
    except (OSError, TimeoutError, ValueError) as e:
        raise ConnectionError(f"could not reach the Dask scheduler at {scheduler}: {e}") from None


def _run_dask(fn, todo, *, scheduler, workers):
    distributed = _distributed()
    Client, LocalCluster = distributed.Client, distributed.LocalCluster

    cluster = None
    if scheduler:
        client = connect(scheduler)
    else:
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = Client(cluster)
    try:
        futures = [client.submit(fn, job, pure=False) for job in todo]
        for future in distributed.as_completed(futures):
            yield future.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def read_results(path: Path) -> list[dict]:
    """Rows already in ``results.csv`` (for ``--resume``)."""
    if not path.exists():
        return []
    with path.open(newline="") as f:
        return [_typed(row) for row in csv.DictReader(f)]


def _finished_rows(path: Path, jobs: list[Job]) -> dict[int, dict]:
    """Complete rows of ``path`` by index; refuse rows of another experiment."""
    by_index = {job.index: job for job in jobs}
    done = {}
    for row in read_results(path):
        if row.get("status") not in ("ok", "diverged"):
            continue  # cut short by an interruption: that training runs again
        job = by_index.get(row.get("index"))
        if job is None or (row.get("seed"), row.get("protocol")) != (job.seed, job.protocol):
            raise ValueError(f"{path} holds results of a different experiment")
        done[job.index] = row
    return done


def _typed(row: dict) -> dict:
    """Numbers back from CSV text: ints where they parse, then floats; "" is None."""
    out = {}
    for key, value in row.items():
        if not isinstance(value, str):
            out[key] = value
        elif value == "":
            out[key] = None
        else:
            for cast in (int, float, str):
                try:
                    out[key] = cast(value)
                    break
                except ValueError:
                    continue
    return out


def run_experiment(
    folder: Path,
    jobs: list[Job],
    base: dict,
    *,
    test_samples: int,
    experiment_seed: int,
    n_jobs: int = 1,
    scheduler: str | None = None,
    dask_workers: int | None = None,
    progress=None,
) -> list[dict]:
    """Run the ``jobs`` not yet in ``folder/results.csv``; return the full table.

    Rows are written as trainings finish; probability maps go to
    ``folder/grids/<index>.npy``.  The returned rows are in grid order.
    """
    path = folder / "results.csv"
    columns = list(COLUMNS) + sorted({k for job in jobs for k, _ in job.values} - set(COLUMNS))
    done = _finished_rows(path, jobs)
    todo = [job for job in jobs if job.index not in done]
    # Rewrite what is kept, so a row cut short by an interruption is dropped and
    # the next row starts on a line of its own.
    tmp = path.with_name(".results.csv.tmp")
    with tmp.open("w", newline="") as f:
        writer = csv.DictWriter(f, columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(done[i] for i in sorted(done))
    os.replace(tmp, path)
    fn = functools.partial(
        run_job, base=base, test_samples=test_samples, experiment_seed=experiment_seed
    )
    run = _executor(n_jobs, scheduler, dask_workers)
    (folder / "grids").mkdir(exist_ok=True)
    with path.open("a", newline="") as f:
        writer = csv.DictWriter(f, columns, extrasaction="ignore", lineterminator="\n")
        for count, row in enumerate(run(fn, todo), start=1):
            grid = row.pop("grid", None)
            if grid is not None:
                np.save(folder / "grids" / f"{row['index']}.npy", grid)
            writer.writerow(row)
            f.flush()
            done[row["index"]] = _typed({k: row.get(k, "") for k in columns})
            if progress:
                progress(count, len(todo))
    return [done[i] for i in sorted(done)]


def to_table(rows: list[dict]):
    """A pandas DataFrame when pandas is installed, else the list of records."""
    try:
        import pandas as pd
    except ImportError:
        return rows
    return pd.DataFrame(rows)


def summarise(rows: list[dict], by: tuple[str, ...]) -> list[dict]:
    """Mean, standard deviation, min and max test accuracy per group of ``by``."""
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault(tuple(row[k] for k in by), []).append(row)
    out = []
    for key, members in groups.items():
        acc = [r["test_accuracy"] for r in members if r["status"] == "ok"]
        out.append(
            {
                **dict(zip(by, key)),
                "runs": len(members),
                "diverged": sum(r["status"] != "ok" for r in members),
                "mean": float(np.mean(acc)) if acc else float("nan"),
                "std": float(np.std(acc)) if acc else float("nan"),
                "min": min(acc, default=float("nan")),
                "max": max(acc, default=float("nan")),
            }
        )
    return out


ARTICLE_STEPS = 50 * 125  # the article's 50 epochs of 125 batches


def plan_scale(settings: Settings, sizes, seeds: int, protocol: str, steps: int, seed: int):
    """Checked jobs and base settings of a scaling experiment."""
    if protocol not in (*PROTOCOLS, "both"):
        raise ValueError(f"protocol must be fixed-epochs, fixed-steps or both, got {protocol!r}")
    check_positive_int("seeds", seeds)
    check_positive_int("steps", steps)
    protocols = PROTOCOLS if protocol == "both" else (protocol,)
    base = settings.to_dict()
    jobs = scale_jobs(list(sizes or default_sizes()), seeds, protocols, steps, seed)
    check_jobs(jobs, base)
    return jobs, base


def plan_sweep(settings: Settings, vary, seeds: int, seed: int):
    """Checked jobs and base settings of a sweep."""
    check_positive_int("seeds", seeds)
    base = settings.to_dict()
    jobs = sweep_jobs(vary, seeds, seed)
    check_jobs(jobs, base)
    return jobs, base


def reference_accuracies(settings: Settings, test_samples: int, seed: int) -> dict:
    """Majority-class accuracy and the true rule's accuracy on the shared test set."""
    X, y = _test_set(settings.dataset, settings.noise, test_samples, seed)
    out = {"baseline": baseline_accuracy(y), "best": None}
    if settings.dataset in datasets.TRUE_LABELS:
        out["best"] = float(np.mean(datasets.true_labels(settings.dataset, X) == y))
    return out


def _table_in(folder, jobs, base, test_samples, seed, **options):
    """Run the jobs with results in ``folder`` (a temporary one if None); the tidy table."""
    if folder is not None:
        return to_table(
            run_experiment(
                Path(folder), jobs, base, test_samples=test_samples, experiment_seed=seed, **options
            )
        )
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        return _table_in(tmp, jobs, base, test_samples, seed, **options)


def scale(
    settings: Settings | None = None,
    *,
    sizes=None,
    seeds: int = 5,
    protocol: str = "both",
    steps: int = ARTICLE_STEPS,
    test_samples: int = 100_000,
    seed: int = 0,
    n_jobs: int = 1,
    scheduler: str | None = None,
    dask_workers: int | None = None,
    folder=None,
    progress=None,
):
    """Test accuracy against training-set size; returns a tidy table (one row per training).

    Parameters
    ----------
    settings : Settings, optional
        The network and training (the article's by default); ``samples`` is
        replaced by each size.
    sizes : list of int, optional
        Training-set sizes; ``default_sizes()`` by default.
    seeds : int
        Trainings per size and protocol.
    protocol : {"both", "fixed-epochs", "fixed-steps"}
    steps : int
        Gradient steps of every training under ``fixed-steps``.
    test_samples : int
        Size of the one test set shared by all trainings.
    seed : int
        The experiment seed every training's seed is derived from.
    n_jobs : int
        Worker processes (joblib); ``-1`` for all cores.
    scheduler, dask_workers
        Run on a Dask cluster at this address, or on a local one of N workers.
    folder : path, optional
        Where ``results.csv`` is written (and resumed from).
    """
    jobs, base = plan_scale(settings or Settings(), sizes, seeds, protocol, steps, seed)
    options = dict(n_jobs=n_jobs, scheduler=scheduler, dask_workers=dask_workers)
    return _table_in(folder, jobs, base, test_samples, seed, progress=progress, **options)


def sweep(
    vary,
    settings: Settings | None = None,
    *,
    seeds: int = 3,
    test_samples: int = 100_000,
    seed: int = 0,
    n_jobs: int = 1,
    scheduler: str | None = None,
    dask_workers: int | None = None,
    folder=None,
    progress=None,
):
    """Test accuracy over one or two varied settings; returns a tidy table.

    ``vary`` is ``{"lr": [0.01, 0.1]}`` (at most two entries) or a list of
    ``"NAME=V1,V2"`` strings as on the command line.
    """
    if isinstance(vary, dict):
        vary = [f"{k}={','.join(map(str, v))}" for k, v in vary.items()]
    jobs, base = plan_sweep(settings or Settings(), parse_vary(list(vary)), seeds, seed)
    options = dict(n_jobs=n_jobs, scheduler=scheduler, dask_workers=dask_workers)
    return _table_in(folder, jobs, base, test_samples, seed, progress=progress, **options)
