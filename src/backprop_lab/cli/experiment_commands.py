"""The experiment commands: scale and sweep."""

from __future__ import annotations

import argparse
import os

import numpy as np

from ..engine._checks import check_positive_int
from ..engine.random import fresh_seed
from ..runs.settings import Settings
from .common import UsageError, settings_from_args


def add_experiment_options(p: argparse.ArgumentParser, default_seeds: int) -> None:
    g = p.add_argument_group("experiment")
    g.add_argument(
        "--seeds",
        type=int,
        default=default_seeds,
        help=f"trainings per grid point (default {default_seeds})",
    )
    g.add_argument(
        "--test-samples",
        type=int,
        default=100_000,
        help="size of the shared, independent test set (default 100000)",
    )
    g.add_argument("--jobs", type=int, help="worker processes (default: all cores)")
    g.add_argument("--scheduler", help="address of a Dask scheduler, e.g. tcp://host:8786")
    g.add_argument("--dask-workers", type=int, help="start a local Dask cluster of N workers")
    g.add_argument(
        "--resume",
        metavar="RUN_DIR",
        help="finish an interrupted experiment (its settings come from RUN_DIR)",
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
        settings = Settings(**config["settings"]).validate()
    else:
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
    if args.scheduler and args.dask_workers is not None:
        raise UsageError("give --scheduler (an existing cluster) or --dask-workers, not both")
    if args.dask_workers is not None and args.dask_workers < 1:
        raise UsageError(f"--dask-workers must be at least 1, got {args.dask_workers}")

    check_positive_int("test_samples", config["test_samples"])
    if args.scheduler:  # refuse an unreachable cluster before creating anything
        try:
            ex.connect(args.scheduler).close()
        except ConnectionError as e:
            raise UsageError(str(e)) from None
    if not args.resume:
        folder = new_run_dir(settings.out, settings.name)
        write_json(folder / "config.json", config)
    bar = None if args.quiet else Progbar(len(jobs), prefix="trainings")
    print(f"{kind}: {len(jobs)} trainings, results in {folder}")
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
            progress=None if bar is None else (lambda i, n: bar.update(i, finalize=i == n)),
        )
    except ConnectionError as e:
        raise UsageError(str(e)) from None
    refs = ex.reference_accuracies(settings, config["test_samples"], config["seed"])
    return rows, refs, folder, config


def plan_args(args) -> dict:
    if hasattr(args, "vary"):
        return {"vary": args.vary, "seeds": args.seeds}
    return {
        "sizes": args.sizes,
        "seeds": args.seeds,
        "protocol": args.protocol,
        "steps": args.steps,
    }


def cmd_scale(args) -> int:
    from .. import experiments as ex
    from ..pictures import experiment_plots as xp
    from ..pictures.style import save_figure

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
    summary = ex.summarise(rows, ("protocol", "size"))
    print(f"\n{'protocol':<14}{'size':>9}{'mean':>9}{'std':>8}{'min':>8}{'max':>8}{'diverged':>10}")
    for r in summary:
        print(
            f"{r['protocol']:<14}{r['size']:>9}{r['mean']:>9.1%}{r['std']:>8.1%}"
            f"{r['min']:>8.1%}{r['max']:>8.1%}{r['diverged']:>10}"
        )
    print(f"always the majority: {refs['baseline']:.1%}")
    save_figure(
        xp.plot_scaling(summary, baseline=refs["baseline"], best=refs["best"]),
        folder / "scaling.png",
    )
    grids = []
    for row in rows:
        path = folder / "grids" / f"{row['index']}.npy"
        if path.exists():
            grids.append((f"{row['size']:,} points · {row['test_accuracy']:.1%}", np.load(path)))
    if grids:
        radius = 0.5 if config["settings"]["dataset"] == "circle" else None
        save_figure(xp.plot_boundaries(grids, radius=radius), folder / "boundaries.png")
    print(f"Wrote results.csv, scaling.png{', boundaries.png' if grids else ''} to {folder}")
    return 0


def cmd_sweep(args) -> int:
    from .. import experiments as ex
    from ..pictures import experiment_plots as xp
    from ..pictures.style import save_figure

    if not args.resume:  # a resumed sweep varies what its config.json says
        if not args.vary:
            raise UsageError("sweep needs --vary NAME=V1,V2,... (once or twice)")
        ex.parse_vary(args.vary)  # refuse a bad --vary before anything is created

    def plan(settings, config):
        return ex.plan_sweep(settings, config["vary"], config["seeds"], config["seed"])

    rows, refs, folder, config = _run_experiment(args, "sweep", plan)
    names = [name for name, _ in ex.parse_vary(config["vary"])]
    summary = ex.summarise(rows, tuple(names))
    header = "".join(f"{n:>12}" for n in names)
    print(f"\n{header}{'mean':>9}{'std':>8}{'min':>8}{'max':>8}{'diverged':>10}")
    for r in summary:
        keys = "".join(f"{r[n]!s:>12}" for n in names)
        print(
            f"{keys}{r['mean']:>9.1%}{r['std']:>8.1%}{r['min']:>8.1%}{r['max']:>8.1%}"
            f"{r['diverged']:>10}"
        )
    save_figure(xp.plot_sweep(summary, names, baseline=refs["baseline"]), folder / "sweep.png")
    print(f"Wrote results.csv, sweep.png to {folder}")
    return 0
