"""The commands about single runs: demo, train, evaluate, predict, gradcheck, report, compare."""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

import numpy as np

from ..data.datasets import MULTICLASS
from ..engine._checks import check_positive_int
from ..engine.metrics import predicted_labels
from ..engine.model import problem_kind
from ..engine.random import fresh_seed
from ..runs.settings import Settings, output_for, unused_by_dataset
from . import interrupts
from .common import settings_from_args
from .errors import EXIT_DIVERGED, EXIT_INTERRUPTED, UsageError
from .explain import explain_demo, report_run


def cmd_train(args, *, demo: bool = False) -> int:
    from ..pictures.learning import absent_pictures, draw_run
    from ..runs import folders
    from ..runs.runner import OVERFLOW_IS_REPORTED, load_data, train_run

    stop = interrupts.current
    settings = settings_from_args(args, Settings(name="demo" if demo else "run"))
    if settings.seed is None:
        settings.seed = fresh_seed()
    stop.enter("loading the data")
    data = load_data(settings)  # refuse bad data before creating anything
    if args.animate and data.X_train.shape[1] != 2:
        raise UsageError(f"--animate needs 2 input features, the data has {data.X_train.shape[1]}")
    if Path(settings.out).exists() and not Path(settings.out).is_dir():
        raise UsageError(f"--out {settings.out} is a file, not a folder")
    folder, saved = None, False
    try:
        with stop.deferred():  # the folder is made and known, or not made
            folder = folders.new_run_dir(settings.out, settings.name)
        with stop.stop_then_save() as saving:
            stop.enter("training, before the first epoch finished: nothing was kept")
            result = train_run(
                settings,
                verbose=0 if args.quiet else 1,
                data=data,
                animate=args.animate,
                landscape=args.landscape,
                when_trained=saving,  # from then on, Ctrl-C waits until the run is saved
            )
            saving()  # (already, unless Ctrl-C stopped the training)
            folders.write_run(folder, result)
            saved = True
    except BaseException as e:
        if saved and isinstance(e, KeyboardInterrupt):
            return _pictures_interrupted(folder)  # pressed while the run was being saved
        if folder is not None:
            with stop.deferred():
                folders.remove_quietly(folder)  # a failed command leaves nothing behind
        raise
    stop.enter("drawing the pictures")
    try:
        with np.errstate(**OVERFLOW_IS_REPORTED):  # drawing a diverged run's huge weights
            draw_run(folder, result)
    except KeyboardInterrupt:
        return _pictures_interrupted(folder)
    stop.enter("printing the summary (the run and its pictures are saved)")
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
    for line in absent_pictures(result):
        print(line)
    report_run(result, folder, folders.run_files(folder))
    if demo and not (result.interrupted or result.diverged_epoch):
        explain_demo(result)
    if result.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_DIVERGED if result.diverged_epoch else 0


def _pictures_interrupted(folder: Path) -> int:
    """Ctrl-C after the run was saved: say so in its metrics.json and on the console."""
    from ..runs import folders

    with interrupts.current.deferred():
        folders.mark_interrupted(folder, "drawing the pictures")
    print(
        f"\nInterrupted while drawing the pictures: the run is saved in {folder} without all "
        f"of them; draw the missing ones with: backprop-lab report {folder}",
        file=sys.stderr,
    )
    return EXIT_INTERRUPTED


def cmd_report(args) -> int:
    from ..pictures.redraw import redraw_missing

    interrupts.current.enter("drawing the missing pictures and the report")
    drawn, lost = redraw_missing(args.run_dir)
    if drawn:
        print(f"Drew the missing {', '.join(drawn)}")
    for line in lost:
        print(line)
    print(f"Wrote {Path(args.run_dir) / 'report.html'}")
    return 0


def cmd_compare(args) -> int:
    from ..pictures.compare import compare_runs, format_table

    interrupts.current.enter("comparing: nothing was written")
    folder, rows = compare_runs(args.run_dirs, args.out)
    print(format_table(rows))
    print(f"\nWrote {folder / 'compare.png'} and {folder / 'compare.csv'}")
    return 0


def _load_run(folder):
    from ..runs.folders import read_run
    from ..runs.modelio import load_model

    folder, config = read_run(folder)
    return folder, config, load_model(folder)


def _check_fits(model, data, dataset: str) -> None:
    """Refuse data of another problem than the one the model was trained for."""
    if data.X_test.shape[1] != model.n_features:
        raise UsageError(
            f"the model takes {model.n_features} features, the data has {data.X_test.shape[1]}"
        )
    if (problem_kind(model) == "regression") != (data.task == "regression"):
        kind = "predicts values (regression)" if data.task != "regression" else "is a classifier"
        raise UsageError(f"the model {kind}, but {dataset} is a {data.task} dataset")
    k = max(model.layers[-1].units, 2)
    if data.task == "classification" and data.n_classes > k:
        raise UsageError(
            f"the model knows {k} classes, but {dataset} has labels up to {data.n_classes - 1}"
        )


def cmd_evaluate(args) -> int:
    from ..runs.runner import Data, evaluate_run, load_data
    from .explain import baseline_sentence

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
        overrides["seed"] = fresh_seed()
    if "dataset" in overrides:  # a CSV file's labels are read as the model's kind of problem
        regression = problem_kind(model) == "regression"
        task = "regression" if regression else "classification"
        csv_data = args.dataset.lower().startswith("csv:")
        base.update(task=task if csv_data else "auto", loss="auto")
        multiclass = args.dataset.lower() in MULTICLASS and not regression
        base["classes"] = max(model.layers[-1].units, 2) if multiclass else 2
    settings = Settings(**{**base, **overrides}).validate()
    for name in unused_by_dataset(settings.dataset, overrides):
        raise UsageError(
            f"--{name} does not apply to the CSV data {settings.dataset}: "
            "its points are scored as they are"
        )
    data = load_data(settings)
    if overrides:  # new data: score all of it, not just a split of it
        data = Data(
            data.X_train[:0],
            data.y_train[:0],
            np.concatenate([data.X_train, data.X_test]),
            np.concatenate([data.y_train, data.y_test]),
            data.true_labels,
            data.task,
        )
    _check_fits(model, data, settings.dataset)
    m = evaluate_run(model, data)
    what = (
        "the run's own test split"
        if not overrides
        else f"new data ({settings.dataset}, seed {settings.seed})"
    )
    print(f"Evaluated {folder} on {what} ({m['n_test']} points):")
    print(f"  loss {m['test_loss']:.4f}")
    print("  " + baseline_sentence(m, data.y_test, settings.dataset))
    if "confusion_matrix" in m:
        print("  confusion matrix (rows: true class, columns: predicted class):")
        for i, row in enumerate(m["confusion_matrix"]):
            print(f"    {i}: " + " ".join(f"{v:>6}" for v in row))
        for i, (p, r) in enumerate(zip(m["precision"], m["recall"])):
            print(f"  class {i}: precision {p:.3f}  recall {r:.3f}")
        print(f"  macro-F1 {m['macro_f1']:.3f}")
    if "iou" in m:
        print(f"  disagreement area {m['disagreement_area']:.3f}  IoU {m['iou']:.3f}")
    return 0


def cmd_predict(args) -> int:
    from ..data.csvio import load_csv

    folder, _, model = _load_run(args.run_dir)
    if args.csv and args.point:
        raise UsageError("predict takes a point (X1 X2 ...) or --csv FILE, not both")
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
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    names = [f"x{i + 1}" for i in range(X.shape[1])]
    if problem_kind(model) == "regression":
        writer.writerow([*names, "value"])
        for x, p in zip(X, P[:, 0]):
            writer.writerow([*(repr(float(v)) for v in x), repr(float(p))])
    else:
        probs = ["probability"] if P.shape[1] == 1 else [f"p{k}" for k in range(P.shape[1])]
        writer.writerow([*names, *probs, "label"])
        for x, p, label in zip(X, P, predicted_labels(P)):
            writer.writerow([*(repr(float(v)) for v in x), *(f"{v:.6f}" for v in p), int(label)])
    if args.output:
        from ..runs.fileio import write_atomic

        write_atomic(Path(args.output), buf.getvalue().encode())
        print(f"Wrote {len(X)} predictions to {args.output}")
    else:
        sys.stdout.write(buf.getvalue())
    return 0


def cmd_gradcheck(args) -> int:
    from ..engine.gradcheck import TOLERANCE, check_gradients
    from ..runs.runner import build_model

    settings = settings_from_args(args, Settings(seed=0))
    check_positive_int("points", args.points)
    n_classes = 3 if settings.loss == "sparse_categorical_crossentropy" else 2
    model = build_model(settings, 2, n_classes, dtype="float64")  # FD needs float64
    settings.loss = output_for("classification", n_classes, settings.loss)[0]  # what auto is
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
