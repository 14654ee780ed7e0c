"""The experiment commands: scale and sweep."""

from __future__ import annotations

import argparse
import os
from concurrent.futures import Future, ThreadPoolExecutor

from ..engine._checks import check_positive_int
from ..engine.random import fresh_seed
from ..runs.settings import Settings
from . import interrupts
from .common import UsageError, settings_from_args

# What a command's experiment options default to; None in the parser tells "not given".
PLAN_DEFAULTS = {
    "scale": {"seeds": 5, "test_samples": 100_000, "protocol": "both", "steps": 6250},
    "sweep": {"seeds": 3, "test_samples": 100_000},
}


def add_experiment_options(p: argparse.ArgumentParser, kind: str) -> None:
    defaults = PLAN_DEFAULTS[kind]
    g = p.add_argument_group("experiment")
    g.add_argument(
        "--seeds", type=int, help=f"trainings per grid point (default {defaults['seeds']})"
    )
    g.add_argument(
        "--test-samples",
        type=int,
        help="size of the shared, independent test set (default 100000)",
    )
    g.add_argument(
        "--jobs",
        type=int,
        help="trainings at once: threads on the compiled engine, worker processes on NumPy "
        "(default: all cores)",
    )
    g.add_argument("--scheduler", help="address of a Dask scheduler, e.g. tcp://host:8786")
    g.add_argument("--dask-workers", type=int, help="start a local Dask cluster of N workers")
    g.add_argument(
        "--resume",
        metavar="RUN_DIR",
        help=f"finish an interrupted experiment (its settings come from RUN_DIR; "
        f"{_resume_options_text()})",
    )


# Options that may go with --resume: where and how to run, not what.
_RESUME_OPTIONS = ("jobs", "scheduler", "dask_workers", "quiet")


def _option(name: str) -> str:
    return "--" + name.replace("_", "-")


def _resume_options_text() -> str:
    """``"only --jobs, ... and --quiet go with it"``, from ``_RESUME_OPTIONS``."""
    names = [_option(name) for name in _RESUME_OPTIONS]
    listed = f"{', '.join(names[:-1])} and {names[-1]}" if len(names) > 1 else names[0]
    return f"only {listed} go with it"


def _refuse_options_with_resume(args) -> None:
    """A resumed experiment runs what its folder says: any other option would be ignored."""
    allowed = {"command", "resume", *_RESUME_OPTIONS}
    given = [
        name
        for name, value in vars(args).items()
        if name not in allowed and value is not None and value is not False
    ]
    if given:
        raise UsageError(
            f"{_option(given[0])} cannot be given with --resume: a resumed experiment keeps the "
            f"settings in its config.json ({_resume_options_text()})"
        )


def _parse_sizes(text: str) -> list[int]:
    try:
        sizes = [int(v) for v in text.split(",")]
    except ValueError:
        raise UsageError(f"--sizes must be comma-separated integers, got {text!r}") from None
    if any(v < 1 for v in sizes):
        raise UsageError(f"--sizes must be positive, got {text!r}")
    return sizes


def _run_experiment(args, kind: str, plan):
    """Shared by scale and sweep: plan or resume, run, write the table and pictures."""

    from .. import experiments as ex
    from ..engine.progress import Progbar
    from ..runs.folders import new_run_dir, read_run, write_json

    if args.resume:
        folder, config = read_run(args.resume)
        if config.get("kind") != kind:
            raise UsageError(f"{folder} is not a {kind} experiment (kind {config.get('kind')!r})")
        _refuse_options_with_resume(args)
        settings = Settings(**config["settings"]).validate()
    else:
        for name, value in PLAN_DEFAULTS[kind].items():
            if getattr(args, name) is None:
                setattr(args, name, value)
        settings = settings_from_args(args, Settings(name=kind))
        if settings.seed is None:
            settings.seed = fresh_seed()
        config = {
            "kind": kind,
            "settings": settings.to_dict(),
            "seed": settings.seed,
            "test_samples": args.test_samples,
            **plan_args(args),
        }
    jobs, base = plan(settings, config)
    workers = args.jobs if args.jobs is not None else (os.cpu_count() or 1)
    if workers < 1:
        raise UsageError(f"--jobs must be at least 1, got {workers}")
    check_positive_int("test_samples", config["test_samples"])
    # Scheduler or workers, not both, and Dask installed: before any folder exists.
    ex.check_backend(args.scheduler, args.dask_workers)
    if args.scheduler:  # refuse an unreachable cluster before creating anything
        try:
            ex.connect(args.scheduler).close()
        except ConnectionError as e:
            raise UsageError(str(e)) from None
    stop = interrupts.current
    if not args.resume:
        with stop.deferred():  # the folder and its config.json, or neither
            folder = new_run_dir(settings.out, settings.name)
            write_json(folder / "config.json", config)
    print(f"{kind}: {len(jobs)} trainings, results in {folder}")
    resume = f"backprop-lab {kind} --resume {folder}"
    stop.enter(f"training; the finished trainings are in {folder}: finish with {resume}")
    bar = None if args.quiet else Progbar(len(jobs), prefix="trainings", unit="training")

    def progress(done: int, todo: int) -> None:
        bar.target = todo  # a resumed experiment runs only the trainings still missing
        bar.update(done, finalize=done == todo)

    try:
        rows = ex.run_experiment(
            folder,
            jobs,
            base,
            test_samples=config["test_samples"],
            experiment_seed=config["seed"],
            n_jobs=workers,
            scheduler=args.scheduler,
            dask_workers=args.dask_workers,
            progress=None if bar is None else progress,
        )
    except ConnectionError as e:
        raise UsageError(str(e)) from None
    stop.enter(f"drawing the pictures; the table is complete: draw them with {resume}")
    refs = ex.reference_accuracies(settings, config["test_samples"], config["seed"])
    refs["task"] = settings.generated_task()
    return rows, refs, folder, config


def _print_summary(summary: list[dict], keys: list[tuple[str, str]], refs: dict) -> None:
    """The summary table: ``keys`` (column, format) then the task's score, named in the header."""
    from ..pictures.experiment_plots import BASELINE_NAMES, score_name, score_text

    task = refs["task"]
    score = score_name(task)

    def cell(value, width):
        return f"{score_text(task, value):>{width}}"

    header = "".join(f"{name:{fmt}}" for name, fmt in keys)
    print(f"\n{header}{'mean ' + score:>14}{'std':>8}{'min':>8}{'max':>8}{'diverged':>10}")
    for r in summary:
        line = "".join(f"{r[name]!s:{fmt}}" for name, fmt in keys)
        line += cell(r["mean"], 14) + cell(r["std"], 8) + cell(r["min"], 8) + cell(r["max"], 8)
        print(f"{line}{r['diverged']:>10}")
    print(f"{BASELINE_NAMES[task]}: {score} {score_text(task, refs['baseline'])}")
    if refs.get("best") is not None:
        rule = "the exact surface" if task == "regression" else "the true rule"
        print(f"best possible ({rule}): {score} {score_text(task, refs['best'])}")


def plan_args(args) -> dict:
    if hasattr(args, "vary"):
        return {"vary": args.vary, "seeds": args.seeds}
    return {
        "sizes": args.sizes,
        "seeds": args.seeds,
        "protocol": args.protocol,
        "steps": args.steps,
    }


def _import_pictures():
    from ..pictures import experiment_plots, style

    return experiment_plots, style


def _pictures() -> Future:
    """``pictures.experiment_plots`` and ``pictures.style`` (matplotlib), imported on a
    thread while the trainings run (about half a second of a default ``scale``);
    ``result()`` gives them, or raises what the import raised."""
    pool = ThreadPoolExecutor(1, thread_name_prefix="import-pictures")
    future = pool.submit(_import_pictures)
    pool.shutdown(wait=False)
    return future


def cmd_scale(args) -> int:
    from .. import experiments as ex

    pictures = _pictures()

    if not args.resume:  # a resumed experiment has its sizes in its config.json
        args.sizes = _parse_sizes(args.sizes) if args.sizes else ex.default_sizes()

    def plan(settings, config):
        return ex.plan_scale(
            settings,
            config["sizes"],
            config["seeds"],
            config["protocol"],
            config["steps"],
            config["seed"],
        )

    rows, refs, folder, config = _run_experiment(args, "scale", plan)
    task = refs["task"]
    summary = ex.summarise(rows, ("protocol", "size"), task)
    _print_summary(summary, [("protocol", "<14"), ("size", ">9")], refs)
    xp, style = pictures.result()
    style.save_figure(
        xp.plot_scaling(summary, baseline=refs["baseline"], best=refs["best"], task=task),
        folder / "scaling.png",
    )
    fig = xp.plot_scale_boundaries(
        rows,
        folder / "grids",
        seeds=config["seeds"],
        test_samples=config["test_samples"],
        radius=0.5 if config["settings"]["dataset"] == "circle" else None,
        task=task,
    )
    if fig is not None:
        style.save_figure(fig, folder / "boundaries.png")
    print(f"Wrote results.csv, scaling.png{', boundaries.png' if fig else ''} to {folder}")
    return 0


def cmd_sweep(args) -> int:
    from .. import experiments as ex

    if not args.resume:  # a resumed sweep varies what its config.json says
        if not args.vary:
            raise UsageError("sweep needs --vary NAME=V1,V2,... (once or twice)")
        ex.parse_vary(args.vary)  # refuse a bad --vary before anything is created
    pictures = _pictures()

    def plan(settings, config):
        return ex.plan_sweep(settings, config["vary"], config["seeds"], config["seed"])

    rows, refs, folder, config = _run_experiment(args, "sweep", plan)
    names = [name for name, _ in ex.parse_vary(config["vary"])]
    task = refs["task"]
    summary = ex.summarise(rows, tuple(names), task)
    _print_summary(summary, [(name, ">12") for name in names], refs)
    xp, style = pictures.result()
    style.save_figure(
        xp.plot_sweep(summary, names, baseline=refs["baseline"], task=task), folder / "sweep.png"
    )
    print(f"Wrote results.csv, sweep.png to {folder}")
    return 0
