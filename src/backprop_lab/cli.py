"""The ``backprop-lab`` command: a thin layer over the Python API.

Every refused input prints one line on stderr and exits with code 2, before
anything is written.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
from pathlib import Path

import numpy as np

from . import __version__, activations, optimizers
from ._checks import check_positive_int
from .datasets import DATASETS
from .model import ENGINES
from .modelio import ModelFileError
from .settings import RUN_LOSSES, Settings, load_toml

EXIT_BAD_INPUT = 2
EXIT_DIVERGED = 1
EXIT_INTERRUPTED = 130
EXIT_INTERNAL = 70  # EX_SOFTWARE


class UsageError(Exception):
    """Bad input from the command line, a config file or a run folder."""


class _Parser(argparse.ArgumentParser):
    """argparse, but errors are one line (no usage block) and exit code 2."""

    def error(self, message):
        raise UsageError(message)


def _network_options(p: argparse.ArgumentParser) -> None:
    """The options that define the network; None means "not given"."""
    g = p.add_argument_group("network")
    g.add_argument("--hidden", help="hidden widths, e.g. 8,8 or 8:tanh,8:relu (default 8)")
    g.add_argument(
        "--activation",
        help=f"hidden activation: {', '.join(activations.ACTIVATIONS)} (default relu)",
    )
    g.add_argument("--loss", help=f"{', '.join(RUN_LOSSES)} (default binary_crossentropy)")
    g.add_argument("--l2", type=float, help="L2 penalty on every kernel (default 0)")
    g.add_argument("--seed", type=int, help="makes the run reproducible (default: random)")
    g.add_argument("--config", help="TOML file with the same keys; options given here win")


def _train_options(p: argparse.ArgumentParser) -> None:
    """Options shared by demo, train, scale and sweep."""
    g = p.add_argument_group("data")
    g.add_argument("--dataset", help=f"{'|'.join(DATASETS)}|csv:PATH (default circle)")
    g.add_argument("--samples", type=int, help="number of points to generate (default 5000)")
    g.add_argument("--noise", type=float, help="std of Gaussian jitter of the points (default 0)")
    g.add_argument("--test-size", type=float, help="fraction held out for testing (default 0.2)")
    _network_options(p)
    g = p.add_argument_group("training")
    g.add_argument("--optimizer", help=f"{', '.join(optimizers.OPTIMIZERS)} (default sgd)")
    g.add_argument("--lr", type=float, help="learning rate (default: the optimizer's, sgd 0.01)")
    g.add_argument("--momentum", type=float, help="momentum for sgd or rmsprop (default 0)")
    g.add_argument("--epochs", type=int, help="passes over the training data (default 50)")
    g.add_argument("--batch-size", type=int, help="samples per gradient step (default 32)")
    g.add_argument("--engine", choices=ENGINES, help="training engine (default auto)")
    g = p.add_argument_group("output")
    g.add_argument("--out", help="parent folder of the run folder (default runs)")
    g.add_argument("--name", help="suffix of the run folder's name (default: the command)")
    g.add_argument("--quiet", action="store_true", help="no progress output")


def _settings(args, defaults: Settings) -> Settings:
    values = load_toml(args.config) if args.config else {}
    given = {k: v for k, v in vars(args).items() if k in Settings.__dataclass_fields__}
    values.update({k: v for k, v in given.items() if v is not None})
    try:
        return Settings(**{**defaults.to_dict(), **values}).validate()
    except TypeError as e:
        raise UsageError(str(e)) from None


def _class_name(dataset: str, label: int) -> str:
    if dataset == "circle":
        return "inside" if label else "outside"
    return f"class {label}"


def _report(result, folder: Path, files: list[str], out=None) -> None:
    out = out or sys.stdout  # looked up now: a default would freeze the stream at import
    m, s = result.metrics, result.settings
    majority = int(np.bincount(result.data.y_test).argmax())
    print(
        f"\nTest accuracy {m['test_accuracy']:.1%} — always answering "
        f"'{_class_name(s.dataset, majority)}' would score {m['baseline_accuracy']:.1%}.",
        file=out,
    )
    if "disagreement_area" in m:
        print(
            f"The learned region differs from the true one on {m['disagreement_fraction']:.1%} "
            f"of the square (area {m['disagreement_area']:.3f}); IoU {m['iou']:.2f}.",
            file=out,
        )
    print(f"Run folder: {folder}", file=out)
    print("  " + "  ".join(files), file=out)


def _explain_demo(result, out=None) -> None:
    out = out or sys.stdout
    m, s = result.metrics, result.settings
    margin = m["test_accuracy"] - m["baseline_accuracy"]
    steps = s.epochs * -(-m["n_train"] // s.batch_size)
    lr = s.make_optimizer().learning_rate
    shape = "the circle" if s.dataset == "circle" else f"the {s.dataset} pattern"
    if margin < 0.05:
        verdict = "no better than" if margin <= 0 else "barely better than"
        text = (
            f"That is {verdict} the baseline: {steps:,} {s.optimizer} steps at a learning "
            f"rate of {lr:g} did not carve out {shape}. On the article's circle, a larger "
            "step (--lr 0.1), more data (--samples 50000, which at a fixed number of epochs "
            "also means more steps) or another optimizer (--optimizer adam) does learn it."
        )
    else:
        text = (
            f"The network beats the baseline by {margin * 100:.1f} percentage points: "
            f"backpropagation and gradient descent found {shape} from labelled points alone."
        )
    print("\n" + text, file=out)


def cmd_train(args, *, demo: bool = False) -> int:
    from .runner import OVERFLOW_IS_REPORTED, load_data, train_run
    from .runs import new_run_dir, remove_quietly, write_run

    settings = _settings(args, Settings(name="demo" if demo else "run"))
    if settings.seed is None:
        settings.seed = int(np.random.default_rng().integers(2**31))
    data = load_data(settings)  # refuse bad data before creating anything
    if args.animate and data.X_train.shape[1] != 2:
        raise UsageError(f"--animate needs 2 input features, the data has {data.X_train.shape[1]}")
    if Path(settings.out).exists() and not Path(settings.out).is_dir():
        raise UsageError(f"--out {settings.out} is a file, not a folder")
    folder = new_run_dir(settings.out, settings.name)
    try:
        result = train_run(
            settings,
            verbose=0 if args.quiet else 1,
            data=data,
            animate=args.animate,
            landscape=args.landscape,
        )
    except BaseException:
        remove_quietly(folder)  # still empty: a failed command leaves nothing behind
        raise
    with np.errstate(**OVERFLOW_IS_REPORTED):  # drawing a diverged run's huge weights
        files = write_run(folder, result)
    if result.interrupted:
        n = len(result.epoch_seconds)
        print(
            f"\nInterrupted: kept the history and weights of {n} finished epoch(s).",
            file=sys.stderr,
        )
    if result.diverged_epoch:
        print(
            f"\nTraining diverged in epoch {result.diverged_epoch} (the loss or the weights "
            "became NaN or infinite); try a smaller learning rate (--lr). Saved the weights "
            "of the last finite epoch.",
            file=sys.stderr,
        )
    _report(result, folder, files)
    if demo and not (result.interrupted or result.diverged_epoch):
        _explain_demo(result)
    if result.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_DIVERGED if result.diverged_epoch else 0


def cmd_report(args) -> int:
    from .report import write_report

    path = write_report(args.run_dir)
    print(f"Wrote {path}")
    return 0


def cmd_compare(args) -> int:
    from .compare import compare_runs, format_table

    folder, rows = compare_runs(args.run_dirs, args.out)
    print(format_table(rows))
    print(f"\nWrote {folder / 'compare.png'} and {folder / 'compare.csv'}")
    return 0


def _load_run(folder):
    from .modelio import load_model
    from .runs import read_run

    folder, config = read_run(folder)
    return folder, config, load_model(folder)


def cmd_evaluate(args) -> int:
    from .metrics import baseline_accuracy
    from .runner import Data, evaluate_run, load_data

    folder, config, model = _load_run(args.run_dir)
    base = {k: v for k, v in config["settings"].items() if k in Settings.__dataclass_fields__}
    overrides = {
        k: v
        for k, v in (("dataset", args.dataset), ("samples", args.samples), ("noise", args.noise))
        if v is not None
    }
    if args.seed is not None:
        overrides["seed"] = args.seed
    elif overrides:  # the run's own seed would redraw its training points
        overrides["seed"] = int(np.random.default_rng().integers(2**31))
    settings = Settings(**{**base, **overrides}).validate()
    data = load_data(settings)
    if overrides:  # new data: score all of it, not just a split of it
        data = Data(
            data.X_train[:0],
            data.y_train[:0],
            np.concatenate([data.X_train, data.X_test]),
            np.concatenate([data.y_train, data.y_test]),
            data.true_labels,
        )
    if data.X_test.shape[1] != model.n_features:
        raise UsageError(
            f"the model takes {model.n_features} features, the data has {data.X_test.shape[1]}"
        )
    m = evaluate_run(model, data)
    what = (
        "the run's own test split"
        if not overrides
        else f"new data ({settings.dataset}, seed {settings.seed})"
    )
    print(f"Evaluated {folder} on {what} ({m['n_test']} points):")
    print(
        f"  loss {m['test_loss']:.4f}  accuracy {m['test_accuracy']:.1%}  "
        f"baseline {baseline_accuracy(data.y_test):.1%}"
    )
    if "iou" in m:
        print(f"  disagreement area {m['disagreement_area']:.3f}  IoU {m['iou']:.3f}")
    return 0


def cmd_predict(args) -> int:
    from .csvio import load_csv

    folder, _, model = _load_run(args.run_dir)
    if args.csv:
        try:
            X, _ = load_csv(args.csv, labelled=False)
        except FileNotFoundError:
            raise UsageError(f"CSV file {args.csv} does not exist") from None
    elif args.point:
        X = np.array([args.point], dtype=float)
    else:
        raise UsageError("predict needs a point (X1 X2 ...) or --csv FILE")
    if args.csv and X.shape[1] == model.n_features + 1:
        X = X[:, :-1]  # a labelled file (x1,x2,label), as save_csv writes: ignore the labels
    if X.shape[1] != model.n_features:
        raise UsageError(f"the model takes {model.n_features} features, got {X.shape[1]}")
    if args.output and Path(args.output).exists():
        raise UsageError(f"{args.output} exists; refusing to overwrite it")
    if args.output and not Path(args.output).absolute().parent.is_dir():
        raise UsageError(f"the folder of {args.output} does not exist")
    P = model.predict(X, verbose=0)
    labels = (P[:, 0] > 0.5).astype(int) if P.shape[1] == 1 else P.argmax(axis=1)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    names = [f"x{i + 1}" for i in range(X.shape[1])]
    probs = ["probability"] if P.shape[1] == 1 else [f"p{k}" for k in range(P.shape[1])]
    writer.writerow([*names, *probs, "label"])
    for x, p, label in zip(X, P, labels):
        writer.writerow([*(repr(float(v)) for v in x), *(f"{v:.6f}" for v in p), int(label)])
    if args.output:
        from .fileio import write_atomic

        write_atomic(Path(args.output), buf.getvalue().encode())
        print(f"Wrote {len(X)} predictions to {args.output}")
    else:
        sys.stdout.write(buf.getvalue())
    return 0


def cmd_gradcheck(args) -> int:
    from .gradcheck import TOLERANCE, check_gradients
    from .runner import build_model

    settings = _settings(args, Settings(seed=0))
    check_positive_int("points", args.points)
    n_classes = 3 if settings.loss == "sparse_categorical_crossentropy" else 2
    model = build_model(settings, 2, n_classes, dtype="float64")  # FD needs float64
    rng = np.random.default_rng(settings.seed)
    # Zero biases put a relu unit fed only by dead units exactly on its kink,
    # where the derivative is undefined and finite differences see half of it.
    for layer in model.layers:
        layer.b[...] = rng.uniform(-0.1, 0.1, layer.b.shape)
    X = rng.uniform(-1, 1, (args.points, 2))
    y = rng.integers(0, n_classes, args.points)
    Y = model.loss.prepare_targets(y, model.layers[-1].units, np.float64)
    rows = check_gradients(model, X, Y)
    print(f"Gradient check of {model!r} with {settings.loss} on {args.points} random points")
    print("(largest relative difference between backprop and central finite differences)")
    for i, row in enumerate(rows):
        print(f"  layer {i}: {row['layer']:<36} kernel {row['kernel']:.2e}  bias {row['bias']:.2e}")
    worst = max(r["max"] for r in rows)
    ok = worst < TOLERANCE
    verdict = "PASS" if ok else "FAIL"
    print(f"{verdict}: largest difference {worst:.2e} (tolerance {TOLERANCE:.0e})")
    return 0 if ok else 1


def _experiment_options(p: argparse.ArgumentParser, default_seeds: int) -> None:
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
    g.add_argument("--resume", metavar="RUN_DIR", help="finish an interrupted experiment")


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

    from . import experiments as ex
    from .progress import Progbar
    from .runs import new_run_dir, read_run, write_json

    if args.resume:
        folder, config = read_run(args.resume)
        if config.get("kind") != kind:
            raise UsageError(f"{folder} is not a {kind} experiment (kind {config.get('kind')!r})")
        settings = Settings(**config["settings"]).validate()
    else:
        settings = _settings(args, Settings(name=kind))
        if settings.seed is None:
            settings.seed = int(np.random.default_rng().integers(2**31))
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
    if args.dask_workers is not None and args.dask_workers < 1:
        raise UsageError(f"--dask-workers must be at least 1, got {args.dask_workers}")
    from ._checks import check_positive_int

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
    from . import experiment_plots as xp
    from . import experiments as ex
    from .plotting import save_figure

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
    from . import experiment_plots as xp
    from . import experiments as ex
    from .plotting import save_figure

    if not args.vary:
        raise UsageError("sweep needs --vary NAME=V1,V2,... (once or twice)")
    args.vary = list(args.vary)

    def plan(settings, config):
        return ex.plan_sweep(
            settings, ex.parse_vary(config["vary"]), config["seeds"], config["seed"]
        )

    ex.parse_vary(args.vary)  # refuse a bad --vary before anything is created
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


EXAMPLES = {
    "report": "examples:\n  backprop-lab report runs/20261128T120000Z-demo",
    "compare": (
        "examples:\n  backprop-lab compare runs/20261128T120000Z-demo runs/20261128T121500Z-run\n"
        "  backprop-lab compare runs/*-sgd runs/*-adam --out comparisons"
    ),
    "demo": "examples:\n  backprop-lab demo\n  backprop-lab demo --seed 1 --lr 0.1",
    "train": (
        "examples:\n  backprop-lab train --dataset xor --hidden 8,8 --optimizer adam\n"
        "  backprop-lab train --dataset csv:points.csv --epochs 100 --out results\n"
        "  backprop-lab train --config run.toml --seed 3"
    ),
    "evaluate": (
        "examples:\n  backprop-lab evaluate runs/20261128T120000Z-demo\n"
        "  backprop-lab evaluate runs/20261128T120000Z-demo --samples 100000 --seed 9"
    ),
    "predict": (
        "examples:\n  backprop-lab predict runs/20261128T120000Z-demo 0.1 0.2\n"
        "  backprop-lab predict runs/20261128T120000Z-demo --csv points.csv --output p.csv"
    ),
    "scale": (
        "examples:\n  backprop-lab scale\n"
        "  backprop-lab scale --sizes 50,500,5000 --seeds 3 --lr 0.1\n"
        "  backprop-lab scale --dask-workers 2\n"
        "  backprop-lab scale --scheduler tcp://scheduler.example.org:8786\n"
        "  backprop-lab scale --resume runs/20261128T120000Z-scale"
    ),
    "sweep": (
        "examples:\n  backprop-lab sweep --vary lr=0.001,0.01,0.1,1\n"
        "  backprop-lab sweep --vary lr=0.01,0.1 --vary hidden=2,4,8,16 --seeds 3"
    ),
    "gradcheck": (
        "examples:\n  backprop-lab gradcheck\n"
        "  backprop-lab gradcheck --hidden 8:tanh,4:relu --loss mse"
    ),
}


def build_parser() -> argparse.ArgumentParser:
    fmt = argparse.RawDescriptionHelpFormatter
    parser = _Parser(
        prog="backprop-lab",
        description="Train, measure and look at small neural networks learning 2-D patterns.",
        epilog="Run 'backprop-lab COMMAND --help' for a command's options and examples.",
        formatter_class=fmt,
    )
    parser.add_argument("--version", action="version", version=f"backprop-lab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    def add(name, help_text):
        return sub.add_parser(
            name, help=help_text, description=help_text, epilog=EXAMPLES[name], formatter_class=fmt
        )

    for name, text in (
        ("demo", "The article's experiment: a circle learned by Dense(8)→Dense(1)."),
        ("train", "Train a network on a dataset and write a run folder."),
    ):
        p = add(name, text)
        _train_options(p)
        g = p.add_argument_group("pictures (cost extra time)")
        g.add_argument("--animate", action="store_true", help="learning.gif (and .mp4)")
        g.add_argument("--landscape", action="store_true", help="landscape.png: the loss surface")
    p = add("report", "Rebuild a run folder's report.html from its files.")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p = add("compare", "Draw runs side by side and tabulate their metrics.")
    p.add_argument("run_dirs", nargs="+", metavar="RUN_DIR")
    p.add_argument("--out", default="runs", help="parent of the new folder (default runs)")
    p = add("evaluate", "Evaluate a saved run on its test split or on new data.")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("--dataset", help="another dataset (name or csv:PATH)")
    p.add_argument("--samples", type=int, help="points to generate")
    p.add_argument("--noise", type=float, help="point jitter")
    p.add_argument("--seed", type=int, help="seed for the generated data")
    p = add("predict", "Print the probabilities and labels a saved run gives.")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("point", nargs="*", type=float, metavar="X", help="one point's coordinates")
    p.add_argument("--csv", help="CSV of points (x1,x2 columns)")
    p.add_argument("--output", help="write the predictions here as CSV")
    p = add("scale", "Accuracy against training-set size, fixed epochs vs fixed steps.")
    _train_options(p)
    _experiment_options(p, 5)
    p.add_argument("--sizes", help="comma-separated training-set sizes (default: 50 … 500000)")
    p.add_argument("--protocol", default="both", choices=("fixed-epochs", "fixed-steps", "both"))
    p.add_argument(
        "--steps",
        type=int,
        default=6250,
        help="gradient steps per training under fixed-steps (default 6250)",
    )
    p = add("sweep", "Accuracy over one or two settings (--vary NAME=V1,V2,...).")
    _train_options(p)
    _experiment_options(p, 3)
    p.add_argument(
        "--vary",
        action="append",
        metavar="NAME=V1,V2",
        help="a setting and its values; give once or twice",
    )
    p = add("gradcheck", "Compare backprop gradients with finite differences, per layer.")
    _network_options(p)
    p.add_argument("--points", type=int, default=16, help="random points (default 16)")
    return parser


COMMANDS = {
    "report": cmd_report,
    "compare": cmd_compare,
    "demo": lambda a: cmd_train(a, demo=True),
    "train": cmd_train,
    "evaluate": cmd_evaluate,
    "predict": cmd_predict,
    "gradcheck": cmd_gradcheck,
    "scale": cmd_scale,
    "sweep": cmd_sweep,
}


def main(argv=None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        return COMMANDS[args.command](args)
    except (UsageError, ValueError, TypeError, ModelFileError, NotImplementedError) as e:
        print(f"backprop-lab: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as e:  # an unreadable or unwritable path
        where = f"{e.filename}: " if e.filename else ""
        print(f"backprop-lab: error: {where}{e.strerror or e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:  # outside training, which handles Ctrl-C itself
        print("backprop-lab: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as e:  # a bug or a failing library: one line, unless asked for more
        if os.environ.get("BACKPROP_LAB_DEBUG"):
            raise
        print(
            f"backprop-lab: internal error: {type(e).__name__}: {e} "
            "(set BACKPROP_LAB_DEBUG=1 to see the traceback)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
