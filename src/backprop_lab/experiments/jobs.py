"""Planning: the grid of trainings of an experiment, each with its own seed.

Each training's seed comes from the experiment seed and its position in the
grid, so the table does not depend on the number of workers or on the order
in which they finish.  Varied settings are typed by the settings schema
(`runs.settings.coerce`), whether they come as command-line text or as Python
values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..engine._checks import check_positive_int
from ..runs.settings import FIELD_NAMES, Settings, coerce, did_you_mean

PROTOCOLS = ("fixed-epochs", "fixed-steps")
ARTICLE_STEPS = 50 * 125  # the article's 50 epochs of 125 batches
# Settings an experiment does not vary: test_size is unused (one shared test set),
# and one experiment poses one problem (its task and classes stay as they are).
VARY_EXCLUDED = {"seed", "out", "name", "engine", "dataset", "test_size", "task", "classes"}
# What ``--vary`` takes, in the settings' order; --help and the README list these.
VARY_NAMES = tuple(name for name in FIELD_NAMES if name not in VARY_EXCLUDED)


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
    keep_grid: bool = False  # store the learned map over the plane (for pictures)


def derive_seed(experiment_seed: int, point: int, replicate: int) -> int:
    """A training's seed from the experiment seed and its (point, replicate) position."""
    return int(
        np.random.SeedSequence(experiment_seed, spawn_key=(point, replicate)).generate_state(1)[0]
    )


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


def cost(job: Job, base: dict) -> int:
    """A training's rough cost: the samples it draws and the samples it trains on.

    Parallel backends start the costliest first, so the last trainings to
    finish are short ones and the workers end together.
    """
    values = {**base, **dict(job.values)}
    samples, batch = int(values["samples"]), int(values["batch_size"])
    trained = job.steps * batch if job.steps else int(values["epochs"]) * samples
    return trained + samples


def _split_spec(spec: str) -> tuple[str, list[str]]:
    """``"lr=0.01,0.1"`` into ``("lr", ["0.01", "0.1"])``; several hidden values take ";"."""
    name, sep, text = spec.partition("=")
    if not sep or not text.strip():
        raise ValueError(f"--vary {spec!r} must look like NAME=V1,V2,...")
    name = name.strip()
    items = [item.strip() for item in text.split(";" if name == "hidden" and ";" in text else ",")]
    if not all(items):
        raise ValueError(f"--vary {spec!r} has an empty value")
    return name, items


def parse_vary(vary) -> list[tuple[str, list]]:
    """The one or two settings a sweep varies, checked and typed by the settings schema.

    Parameters
    ----------
    vary : dict or list
        ``{"lr": [0.01, 0.1], "hidden": ["8,8", [4]]}``, a list of such
        ``(name, values)`` pairs, or command-line text such as
        ``["lr=0.01,0.1", "hidden=8,8;4"]`` (several ``hidden`` values are
        separated by ";" when there is one, else by ",").

    Returns
    -------
    list of (str, list)
        ``[("lr", [0.01, 0.1]), ("hidden", ["8,8", "4"])]``: each value as
        `runs.settings.coerce` gives it.

    Raises
    ------
    ValueError
        One line naming what was wrong and what is allowed.
    """
    if isinstance(vary, Mapping):
        pairs = list(vary.items())
    else:
        pairs = [_split_spec(p) if isinstance(p, str) else tuple(p) for p in vary]
    if not 1 <= len(pairs) <= 2:
        raise ValueError("sweep needs one or two --vary NAME=V1,V2,... options")
    parsed = []
    for name, values in pairs:
        name = str(name).strip().replace("-", "_")
        if name not in VARY_NAMES:
            raise ValueError(
                f"--vary: unknown parameter {name!r}; valid names: {', '.join(VARY_NAMES)}"
                + did_you_mean(name, VARY_NAMES)
            )
        if not isinstance(values, list | tuple) or not values:
            raise ValueError(f"--vary {name} needs a list of values, got {values!r}")
        try:
            parsed.append((name, [coerce(name, v) for v in values]))
        except ValueError as e:
            raise ValueError(f"--vary {e}") from None
    if len(parsed) == 2 and parsed[0][0] == parsed[1][0]:
        raise ValueError(f"--vary {parsed[0][0]} is given twice")
    return parsed


def sweep_jobs(vary, seeds: int, experiment_seed: int) -> list[Job]:
    """The jobs of a sweep: the product of the varied values × seeds.

    ``vary`` is as `parse_vary` returns it.
    """
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
        least = 4 if settings.generated_task() == "regression" else 2 * settings.classes
        if settings.samples < least:
            raise ValueError(
                f"size {settings.samples} is too small: need at least {least} points"
                + ("" if settings.generated_task() == "regression" else " (2 per class)")
            )


def plan_scale(settings: Settings, sizes, seeds: int, protocol: str, steps: int, seed: int):
    """Checked jobs and base settings of a scaling experiment."""
    if protocol not in (*PROTOCOLS, "both"):
        raise ValueError(f"protocol must be fixed-epochs, fixed-steps or both, got {protocol!r}")
    check_positive_int("seeds", seeds)
    check_positive_int("steps", steps)
    protocols = PROTOCOLS if protocol == "both" else (protocol,)
    try:  # each size is the samples setting of its trainings
        sizes = [coerce("samples", size) for size in sizes or default_sizes()]
    except ValueError as e:
        raise ValueError(f"sizes: {e}") from None
    base = settings.to_dict()
    jobs = scale_jobs(sizes, seeds, protocols, steps, seed)
    check_jobs(jobs, base)
    return jobs, base


def plan_sweep(settings: Settings, vary, seeds: int, seed: int):
    """Checked jobs and base settings of a sweep; ``vary`` in any form `parse_vary` takes."""
    check_positive_int("seeds", seeds)
    base = settings.to_dict()
    jobs = sweep_jobs(parse_vary(vary), seeds, seed)
    check_jobs(jobs, base)
    return jobs, base
