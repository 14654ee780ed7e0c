"""Where trainings run: in this process, on joblib workers, or on a Dask cluster.

Every backend yields results as trainings finish, in any order; the table
puts them back in grid order.
"""

from __future__ import annotations

import functools

from ..engine._checks import check_positive_int


def check_backend(scheduler: str | None = None, dask_workers: int | None = None) -> None:
    """Refuse a backend that cannot run, before anything is created or written.

    One of ``scheduler`` (an existing Dask cluster) and ``dask_workers`` (a
    local one) at most, a positive number of workers, and Dask installed.
    Reaching the scheduler is `connect`'s job.
    """
    if scheduler and dask_workers is not None:
        raise ValueError(
            "give scheduler (an existing Dask cluster) or dask_workers (a local one), not both"
        )
    if dask_workers is not None:
        check_positive_int("dask_workers", dask_workers)
    if scheduler or dask_workers:
        _distributed()


def executor(jobs_n: int, scheduler: str | None, dask_workers: int | None):
    """Yield-results function for the chosen backend: in-process, joblib or Dask.

    A Dask backend is checked here (`check_backend`), not when the first
    result is asked for, so a missing Dask leaves no table behind.
    """
    check_backend(scheduler, dask_workers)
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
            "running on Dask needs dask.distributed, which is not installed: "
            "pip install 'dask[distributed]' (in a clone of backprop-lab: pip install -e '.[dask]')"
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
