"""The experiments' Python API: ``scale``, ``sweep`` and the runner under both.

``scale`` measures how the test score (accuracy for classification, R² for
regression) grows with the size of the training set under two protocols:

* ``fixed-epochs``: the article's setting, so more data also means more
  gradient steps;
* ``fixed-steps``: the same number of updates for every size, so only the
  amount of data differs.

``sweep`` varies one or two settings (``lr``, ``hidden``, ...).
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from ..runs.fileio import atomic_path
from ..runs.settings import Settings
from . import results
from .backends import check_backend, executor
from .jobs import ARTICLE_STEPS, Job, cost, plan_scale, plan_sweep
from .training import run_job, runs_compiled


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

    Rows are written as trainings finish; the kept maps over the plane
    (probabilities, or predicted values) go to ``folder/grids/<index>.npy``.
    The returned rows are in grid order.  With ``n_jobs`` other than 1,
    trainings on the compiled engine run on threads of this process, others
    on joblib's worker processes (see `backends`); every backend gives the
    same table.  On threads, an error or Ctrl-C starts no more trainings and
    returns at once, but the ones already running cannot be interrupted: they
    finish in the background (their results dropped), using their cores until
    then.
    """
    check_backend(scheduler, dask_workers, n_jobs)  # refuses before any file is written
    path = folder / "results.csv"
    done = results.resume(path, jobs)
    todo = [job for job in jobs if job.index not in done]
    dask = bool(scheduler or dask_workers)
    threads = not dask and n_jobs != 1 and runs_compiled(todo, base)
    run = executor(n_jobs, scheduler, dask_workers, threads=threads)
    if dask or n_jobs != 1:  # the costliest first, so that the workers finish together
        todo.sort(key=lambda job: cost(job, base), reverse=True)
    fn = functools.partial(
        run_job, base=base, test_samples=test_samples, experiment_seed=experiment_seed
    )
    (folder / "grids").mkdir(exist_ok=True)
    with results.appending(path, jobs) as write:
        for count, row in enumerate(run(fn, todo), start=1):
            grid = row.pop("grid", None)
            if grid is not None:  # whole or absent, whenever Ctrl-C comes
                with atomic_path(folder / "grids" / f"{row['index']}.npy", ".npy") as tmp:
                    np.save(tmp, grid)
            done[row["index"]] = write(row)
            if progress:
                progress(count, len(todo))
    return [done[i] for i in sorted(done)]


def _table_in(folder, jobs, base, test_samples, seed, **options):
    """Run the jobs with results in ``folder`` (a temporary one if None); the tidy table."""
    if folder is not None:
        return results.to_table(
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
    """Test score against training-set size; returns a tidy table (one row per training).

    Each row holds ``test_accuracy`` and ``macro_f1`` for classification (any
    number of classes), ``r2`` and ``mse`` for regression.

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
        Trainings run at once (``-1``: one per core): on threads of this
        process when every training runs on the compiled engine (its kernels
        release the GIL), else on joblib's worker processes.
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
    """Test score (accuracy, or R² for regression) over one or two settings; a tidy table.

    Parameters
    ----------
    vary : dict or list
        ``{"lr": [0.01, 0.1], "hidden": ["8,8", "4"]}`` (at most two
        entries), or ``"NAME=V1,V2"`` strings as on the command line; values
        are checked and typed as config files are (see `parse_vary`).
    settings : Settings, optional
        The other settings (the article's by default).
    seeds : int
        Trainings per grid point.
    test_samples, seed, n_jobs, scheduler, dask_workers, folder
        As for `scale`.
    """
    jobs, base = plan_sweep(settings or Settings(), vary, seeds, seed)
    options = dict(n_jobs=n_jobs, scheduler=scheduler, dask_workers=dask_workers)
    return _table_in(folder, jobs, base, test_samples, seed, progress=progress, **options)
