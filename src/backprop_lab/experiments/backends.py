"""Where trainings run: in this process, on its threads, on joblib workers, or on Dask.

Every backend yields results as trainings finish, in any order; the table
puts them back in grid order.  Trainings on the compiled engine run on
threads of this process: its kernels release the GIL, so the threads train
on all cores at once, without the second or so each joblib worker process
spends importing numba and loading the kernels.  The NumPy engine, whose
Python holds the GIL, keeps joblib's worker processes.
"""

from __future__ import annotations

import functools
import os
import queue
import threading
from numbers import Integral

from ..engine._checks import check_positive_int


def check_backend(
    scheduler: str | None = None, dask_workers: int | None = None, n_jobs: int = 1
) -> None:
    """Refuse a backend that cannot run, before anything is created or written.

    One of ``scheduler`` (an existing Dask cluster) and ``dask_workers`` (a
    local one) at most, a positive number of workers, and Dask installed;
    ``n_jobs`` a whole number, not 0.  Reaching the scheduler is `connect`'s job.
    """
    _workers(n_jobs)
    if scheduler and dask_workers is not None:
        raise ValueError(
            "give scheduler (an existing Dask cluster) or dask_workers (a local one), not both"
        )
    if dask_workers is not None:
        check_positive_int("dask_workers", dask_workers)
    if scheduler or dask_workers:
        _distributed()


def executor(
    jobs_n: int, scheduler: str | None, dask_workers: int | None, *, threads: bool = False
):
    """Yield-results function for the chosen backend: in-process, threads, joblib or Dask.

    ``jobs_n`` workers (joblib's count: -1 for all cores) run on threads of
    this process when ``threads`` (every training is on the compiled
    engine), else on joblib's worker processes; ``scheduler`` or
    ``dask_workers`` take Dask whatever ``threads`` says.  A Dask backend is
    checked here (`check_backend`), not when the first result is asked for,
    so a missing Dask leaves no table behind.
    """
    check_backend(scheduler, dask_workers)
    if scheduler or dask_workers:
        return functools.partial(_run_dask, scheduler=scheduler, workers=dask_workers)
    if jobs_n == 1:
        return lambda fn, todo: (fn(job) for job in todo)
    if threads:
        return functools.partial(_run_threads, workers=_workers(jobs_n))

    def run_joblib(fn, todo):
        from joblib import Parallel, delayed

        parallel = Parallel(n_jobs=jobs_n, return_as="generator_unordered")
        return parallel(delayed(fn)(job) for job in todo)

    return run_joblib


def _workers(jobs_n: int) -> int:
    """joblib's reading of ``n_jobs``: N workers, or all cores but ``-1 - N`` when negative."""
    if isinstance(jobs_n, bool) or not isinstance(jobs_n, Integral) or jobs_n == 0:
        raise ValueError(
            f"n_jobs must be a whole number of workers, or -1 for all cores; got {jobs_n!r}"
        )
    cores = os.cpu_count() or 1
    return jobs_n if jobs_n > 0 else max(1, cores + 1 + jobs_n)


def _run_threads(fn, todo, *, workers: int):
    """``fn(job)`` for every job on ``workers`` threads; results as they finish.

    Leaving early (an error, Ctrl-C, the consumer stopping) starts no more
    trainings and returns at once.  The running ones, which a thread cannot
    interrupt, finish in the background, their results dropped; the threads
    are daemons, so they do not keep a finished command's process alive.
    """
    waiting, done = queue.SimpleQueue(), queue.SimpleQueue()
    for job in todo:
        waiting.put(job)
    stop = threading.Event()

    def work():
        while not stop.is_set():
            try:
                job = waiting.get_nowait()
            except queue.Empty:
                return
            try:
                done.put((True, fn(job)))
            except BaseException as exc:  # raised in the caller's thread
                done.put((False, exc))

    for k in range(max(1, min(workers, len(todo)))):
        threading.Thread(target=work, name=f"experiment-{k}", daemon=True).start()
    try:
        for _ in todo:
            ok, value = done.get()  # Ctrl-C interrupts the wait
            if not ok:
                raise value
            yield value
    finally:
        stop.set()


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
