"""``backprop-lab run --record RUN_DIR``: a run folder for the model a script trained.

The folder (``RUN_DIR/<UTC time>-<script name>``) holds ``config.json`` (the
script, its arguments, the engine that ran and the model), ``history.csv``,
``model.keras`` (Keras's format, for any supported model), ``model.safetensors``
and ``model.json`` (the CLI's own files, for a model of plain Dense layers),
``curves.png``, for a classifier of two input features ``boundary.png`` drawn
over the data it was trained on, and ``metrics.json`` with ``report.html``: the
metrics measured on that same data (``evaluated_on: "training"``; the script's
test set is its own), which the report names as such.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from .._version import __version__
from ..engine.keras_format import save_model as save_keras
from ..engine.metrics import (
    baseline_accuracy,
    class_scores,
    confusion_matrix,
    padded_extent,
    predicted_labels,
    regression_scores,
)
from ..pictures.plotting import plot_boundary, plot_curves
from ..pictures.report import write_report
from ..pictures.style import save_figure
from ..pictures.surface import problem_kind
from ..runs.folders import new_run_dir, write_history, write_json
from ..runs.modelio import save_model as save_run_model
from .errors import EXIT_BAD_INPUT


def _say(text: str) -> None:
    print(f"backprop-lab run: {text}", file=sys.stderr)


def _boundary(model, data, folder: Path, title: str) -> str | None:
    """Draw ``boundary.png`` when the model classifies points of the plane; why not, else."""
    if model.n_features != 2:
        return f"boundary.png needs 2 input features, the model has {model.n_features}"
    try:
        if problem_kind(model) == "regression":
            return "boundary.png is drawn for classifiers, and the model is a regression"
    except ValueError as exc:
        return f"boundary.png: {exc}"
    X, y = (np.asarray(a) for a in data)
    fig = plot_boundary(
        lambda grid: model.predict(grid, verbose=0),
        X,
        y,
        extent=padded_extent(X),
        title=f"{title}: the training data",
    )
    save_figure(fig, folder / "boundary.png")
    return None


def _metrics(model, data) -> dict:
    """The model's metrics on the data it was fit on (a script's test set is its own).

    The keys are a CLI run's (``test_accuracy``, ``r2``, ...) with ``evaluated_on``
    set to ``"training"``, which the report names in its labels.
    """
    X, y = (np.asarray(a) for a in data)
    P = model.predict(X, verbose=0)
    history = model.history.history
    loss = model.evaluate(X, y, verbose=0)
    out = {"evaluated_on": "training", "n_train": len(X)}
    out["test_loss"] = float(loss[0] if isinstance(loss, list) else loss)
    out["epochs_completed"] = len(next(iter(history.values()), []))
    if problem_kind(model) == "regression":
        return out | regression_scores(y.reshape(len(X), -1)[:, 0], P[:, 0])
    one_hot = y.ndim == 2 and y.shape[1] > 1
    labels = y.argmax(axis=1) if one_hot else y.reshape(len(X)).astype(int)
    C = confusion_matrix(labels, predicted_labels(P), max(P.shape[1], 2))
    return out | {
        "test_accuracy": float(np.trace(C) / len(X)),
        "baseline_accuracy": baseline_accuracy(labels),
        "confusion_matrix": C.tolist(),
        **class_scores(C),
    }


def record(trained, run_dir: str, script: str) -> int:
    """Write the run folder of ``trained``'s last model under ``run_dir``; the exit code."""
    model = trained.model
    if model is None:
        _say(f"error: --record: {script} trained no model (no fit on a keras Sequential)")
        return EXIT_BAD_INPUT
    folder = new_run_dir(run_dir, Path(script).stem)
    # Keras keeps the metric name the script chose; history.csv's column is "accuracy".
    renamed = {"acc": "accuracy", "val_acc": "val_accuracy"}
    history = {renamed.get(k, k): v for k, v in model.history.history.items()}
    write_json(
        folder / "config.json",
        {
            "script": script,
            # What the report's configuration table shows (a CLI run's settings).
            "settings": {"script": script, "data points": len(trained.data[0])},
            "engine_used": model.engine_used,
            "model": model.get_config(),
            "optimizer": model.optimizer.get_config(),
            "versions": {"backprop_lab": __version__, "numpy": np.__version__},
        },
    )
    write_history(folder / "history.csv", history, [])
    files = ["config.json", "history.csv"]
    notes = []
    save_keras(model, folder / "model.keras")
    files.append("model.keras")
    try:
        save_run_model(model, folder)
        files += ["model.json", "model.safetensors"]
    except NotImplementedError as exc:  # model.keras above holds this model
        notes.append(f"model.safetensors and model.json (the CLI's model files): {exc}")
    title = Path(script).name  # the pictures name the script, not Keras's "sequential"
    save_figure(plot_curves(history, title=title), folder / "curves.png")
    files.append("curves.png")
    absent = _boundary(model, trained.data, folder, title) if trained.data else None
    files += [] if absent else ["boundary.png"]
    notes += [absent] if absent else []
    try:
        metrics = _metrics(model, trained.data)
    except ValueError as exc:  # labels the metrics cannot read; the rest stands
        notes.append(f"metrics.json and report.html: {exc}")
    else:
        write_json(folder / "metrics.json", metrics)
        write_report(folder)
        files += ["metrics.json", "report.html"]
    _say(f"recorded {folder}: {', '.join(files)}")
    for note in notes:
        _say(f"  not written: {note}")
    return 0
