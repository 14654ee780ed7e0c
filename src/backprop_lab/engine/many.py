"""Many models per call: ``fit_many`` trains K independent models on a pool of threads.

The compiled engine's kernels release the GIL while they run, so K models
fitted in K threads train in parallel, one core each.  Each model is fitted
by its own ``model.fit``, exactly as if it were fitted alone: the same
batches (each model shuffles with its own generator), the same kernel, the
same results, bit for bit, whatever the number of threads.  What must not
be shared is anything a fit writes: a model, its layers, its optimizer or
its generator (two threads updating one would race), so ``fit_many``
refuses them.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor, wait

import numpy as np

from ._checks import check_positive_int
from .keras_metrics import Metric
from .model import Sequential
from .random import check_random_state


def fit_many(models, x, y, *, threads: int | None = None, verbose=0, **fit_options) -> list:
    """Fit each of ``models`` on a pool of threads; their ``History`` objects, in order.

    Parameters
    ----------
    models : list of Sequential
        Compiled models, of the same or different settings, seeds or shapes;
        none may appear twice or share a layer, an optimizer or a generator
        with another.
    x : array-like of shape (n_samples, n_features), or list of them
        One data set for every model, or a list of one ndarray of shape
        (n_samples_k, n_features_k) per model (a list of 2-D ndarrays is
        always read as one per model).
    y : array-like of shape (n_samples,) or (n_samples, n_outputs), or list of them
        The targets, one array per model when ``x`` is a list.
    threads : int, optional
        Threads to fit on: ``os.cpu_count()`` by default, never more than
        ``len(models)``.  ``threads=1`` fits one model after another in the
        calling thread.
    verbose : {0, 1, 2}
        As for ``fit``; silent by default (the progress bars of models fitted
        at the same time would mix).
    **fit_options
        Passed to every ``fit`` (``epochs``, ``batch_size``, ``shuffle``,
        ``validation_data``, ...); not ``callbacks``, since one callback
        object cannot follow several models at once.

    Returns
    -------
    list of History
        ``histories[k]`` is what ``models[k].fit`` returned.

    Raises
    ------
    ValueError
        For an empty list, an item that is not a compiled model, a model (or a
        layer, optimizer or generator) given twice, ``threads`` below 1, data
        lists of the wrong length, or ``callbacks``.  An error inside a fit is
        raised once every fit has ended (the first one in input order).

    Notes
    -----
    Only models on the compiled engine train in parallel.  Models on the
    NumPy engine are accepted and give the same results, but gain little:
    most of their time is Python code holding the GIL, one thread at a time.

    Examples
    --------
    >>> from backprop_lab import Sequential, Dense
    >>> from backprop_lab.engine.many import fit_many
    >>> import numpy as np
    >>> X = np.random.default_rng(0).normal(size=(64, 2))
    >>> y = (X[:, 0] > 0).astype(int)
    >>> models = []
    >>> for seed in range(3):
    ...     m = Sequential([Dense(4, "relu", input_shape=(2,)), Dense(1, "sigmoid")], seed=seed)
    ...     m.compile("sgd", "binary_crossentropy")
    ...     models.append(m)
    >>> histories = fit_many(models, X, y, epochs=2)
    >>> len(histories), len(histories[0].history["loss"])
    (3, 2)
    """
    models = list(models) if isinstance(models, list | tuple) else models
    if not isinstance(models, list) or not models:
        raise ValueError(f"fit_many needs a non-empty list of models, got {models!r}")
    _check_models(models)
    if "callbacks" in fit_options:
        raise ValueError("fit_many takes no callbacks: one callback cannot follow several models")
    threads = (os.cpu_count() or 1) if threads is None else check_positive_int("threads", threads)
    threads = min(threads, len(models))
    xs, ys = _per_model(x, y, len(models))

    def fit(k: int):
        return models[k].fit(xs[k], ys[k], verbose=verbose, **fit_options)

    if threads == 1:  # here, in order; an error waits until every fit has ended
        histories, errors = [], []
        for k in range(len(models)):
            try:
                histories.append(fit(k))
            except Exception as e:
                errors.append(e)
        if errors:
            raise errors[0]
        return histories
    pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="fit_many")
    try:
        futures = [pool.submit(fit, k) for k in range(len(models))]
        wait(futures)
    except BaseException:  # Ctrl-C: the waiting fits never start, the running ones end
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown()
    return [future.result() for future in futures]  # the first error in input order is raised


def _check_models(models: list) -> None:
    """Refuse non-models, uncompiled models, and anything two fits would both write."""
    owner: dict[int, str] = {}  # id of a written object -> who holds it first
    for k, model in enumerate(models):
        if not isinstance(model, Sequential):
            raise ValueError(f"models[{k}] is not a Sequential model: {type(model).__name__}")
        if not getattr(model, "compiled", False):
            raise ValueError(f"models[{k}] is not compiled: call compile() before fit_many")
        # The generator is compared by its bit generator: two Generators may share one.
        parts = [("model", model), ("generator", model.rng.bit_generator)]
        parts += [("optimizer", model.optimizer)]
        parts += [(f"layer {layer.name!r}", layer) for layer in model.layers]
        given = [m for group in model.compile_metrics.given for m in group]  # names make new ones
        parts += [(f"metric {m.name!r}", m) for m in given if isinstance(m, Metric)]
        for what, part in parts:
            first = owner.setdefault(id(part), f"models[{k}]")
            if first != f"models[{k}]":
                shared = "is the same object as" if what == "model" else f"shares its {what} with"
                hint = ""
                if what == "generator" and model.rng is check_random_state(None):
                    hint = " (built without seed=: give each model a seed of its own)"
                raise ValueError(
                    f"models[{k}] {shared} {first}{hint}: fitting both at once would be a data race"
                )


def _per_model(x, y, n: int) -> tuple[list, list]:
    """``x`` and ``y`` as one entry per model: the same arrays n times, or the given lists."""
    if not (isinstance(x, list | tuple) and x and all(_is_table(a) for a in x)):
        return [x] * n, [y] * n
    if len(x) != n or not isinstance(y, list | tuple) or len(y) != n:
        got = len(y) if isinstance(y, list | tuple) else type(y).__name__
        raise ValueError(
            f"x is a list of {len(x)} data sets: it needs one per model ({n}), "
            f"and y a list of as many target arrays (got {got})"
        )
    return list(x), list(y)


def _is_table(a) -> bool:
    return isinstance(a, np.ndarray) and a.ndim == 2
