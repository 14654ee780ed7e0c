"""Run folders: ``runs/<UTC timestamp>-<name>/`` and the data files in them.

A folder is created exclusively (an existing one is never reused or
overwritten) and each file is written atomically.  ``write_run`` writes the
data of a run (``config.json``, ``history.csv``, ``metrics.json`` and the
model).  The images of a run are drawn afterwards, by the command line
calling ``draw_run`` of the layer above; nothing here imports it.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import platform
import time
from pathlib import Path

import numpy as np

from .._version import __version__
from ..engine.metrics import padded_extent
from .fileio import read_json_object, write_atomic
from .modelio import CONFIG_FILE, WEIGHTS_FILE, load_model, save_model
from .recording import Recording
from .runner import RunResult, load_data
from .settings import Settings

GRADIENTS_FILE = "gradients.csv"
HISTORY_COLUMNS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "seconds")


def new_run_dir(out: str | Path, name: str) -> Path:
    """Create and return ``out/<UTC timestamp>-<name>``, adding ``-2``, ``-3``... if taken."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    stem = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + f"-{name}"
    for i in range(1, 1000):
        folder = out / (stem if i == 1 else f"{stem}-{i}")
        try:
            folder.mkdir()
            return folder
        except FileExistsError:
            continue
    raise OSError(f"could not create a new run folder under {out}")


def check_gradient_table(epochs, norms) -> tuple[np.ndarray, np.ndarray]:
    """Checked ``epochs`` (int64, shape ``(n,)``) and ``norms`` (float64, ``(n, n_layers)``)."""
    epochs = np.asarray(epochs, dtype=np.int64).reshape(-1)
    norms = np.asarray(norms, dtype=np.float64)
    if norms.ndim != 2 or len(norms) != len(epochs) or len(epochs) == 0:
        raise ValueError(
            f"need one row of layer norms per epoch, got {len(epochs)} epochs and "
            f"norms of shape {norms.shape}"
        )
    return epochs, norms


def write_gradients(path: str | os.PathLike, epochs, norms) -> Path:
    """Write the gradient norms per epoch as ``epoch,layer_1,...`` rows of CSV, atomically."""
    epochs, norms = check_gradient_table(epochs, norms)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["epoch", *(f"layer_{i + 1}" for i in range(norms.shape[1]))])
    for e, row in zip(epochs, norms):
        writer.writerow([int(e), *(repr(float(v)) for v in row)])
    path = Path(path)
    write_atomic(path, buf.getvalue().encode())
    return path


def read_gradients(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Read what ``write_gradients`` wrote: ``(epochs, norms)``."""
    path = Path(path)
    try:
        rows = list(csv.reader(path.read_text().splitlines()))
    except FileNotFoundError:
        raise ValueError(f"{path.parent} has no {path.name} (gradient norms per epoch)") from None
    if len(rows) < 2 or rows[0][:1] != ["epoch"]:
        raise ValueError(f"{path} is not a gradient table (epoch,layer_1,...)")
    try:
        data = np.array([[float(v) for v in row] for row in rows[1:]])
    except ValueError:
        raise ValueError(f"{path} holds a value that is not a number") from None
    return check_gradient_table(data[:, 0], data[:, 1:])


def write_json(path: Path, data: dict) -> None:
    write_atomic(path, (json.dumps(data, indent=2) + "\n").encode())


def history_rows(history: dict, seconds: list) -> list[dict]:
    n = len(history.get("loss", []))
    rows = []
    for i in range(n):
        row = {"epoch": i + 1, "seconds": seconds[i] if i < len(seconds) else ""}
        row.update({k: history[k][i] for k in HISTORY_COLUMNS[1:5] if k in history})
        rows.append(row)
    return rows


def write_history(path: Path, history: dict, seconds: list) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, HISTORY_COLUMNS, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(history_rows(history, seconds))
    write_atomic(path, buf.getvalue().encode())


def run_config(result) -> dict:
    """Every setting, the seed, the engine used and the versions, for config.json."""
    model, recording = result.model, result.recording
    return {
        "settings": result.settings.to_dict(),
        "seed": result.settings.seed,
        "engine_used": getattr(model, "engine_used", model.engine),
        "model": model.get_config(),
        "optimizer": model.optimizer.get_config(),
        # What the pictures of learning need that only training can record.
        "recorded": {
            "frames": bool(recording and recording.n_frames),
            "trajectory": bool(recording and recording.n_trajectory),
        },
        "versions": {
            "backprop_lab": __version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
        },
    }


def write_run(folder: Path, result) -> list[str]:
    """Write the data files of a finished (or stopped) run; returns their names.

    Parameters
    ----------
    folder : Path
        The run folder, from ``new_run_dir``.
    result : RunResult
        What ``runner.train_run`` returned.

    Returns
    -------
    names : list of str
        ``config.json``, ``history.csv``, ``metrics.json``, the two model files
        and, when gradient norms were recorded, ``gradients.csv``.
    """
    write_json(folder / "config.json", run_config(result))
    write_history(folder / "history.csv", result.history, result.epoch_seconds)
    metrics = dict(result.metrics)
    metrics["epochs_completed"] = len(result.epoch_seconds)
    metrics["train_seconds"] = result.train_seconds
    metrics["diverged_epoch"] = result.diverged_epoch
    metrics["interrupted"] = result.interrupted
    # Where Ctrl-C stopped the command; mark_interrupted adds the later stages.
    metrics["interrupted_during"] = ["training"] if result.interrupted else []
    write_json(folder / "metrics.json", metrics)
    save_model(result.model, folder)
    names = ["config.json", "history.csv", "metrics.json", CONFIG_FILE, WEIGHTS_FILE]
    recording = result.recording
    if recording is not None and recording.gradient_norms:
        # Rows both lists have (an interrupt may fall between the two appends).
        rows = min(len(recording.gradient_epochs), len(recording.gradient_norms))
        write_gradients(
            folder / GRADIENTS_FILE,
            recording.gradient_epochs[:rows],
            recording.gradient_table()[:rows],
        )
        names.append(GRADIENTS_FILE)
    return names


def mark_interrupted(folder: Path, stage: str) -> None:
    """Record in ``metrics.json`` that Ctrl-C stopped the command while ``stage``.

    The run's data files are complete; what ``stage`` would have written
    (e.g. pictures) may be missing, and ``backprop-lab report`` draws it again.
    """
    metrics = read_json_object(folder / "metrics.json", "marking the run as interrupted")
    during = metrics.setdefault("interrupted_during", [])
    if stage not in during:
        during.append(stage)
    write_json(folder / "metrics.json", metrics)


def run_files(folder: Path) -> list[str]:
    """The names of the files in a run folder, sorted, without temporary (hidden) ones."""
    return sorted(p.name for p in Path(folder).iterdir() if not p.name.startswith("."))


def read_run(folder: str | Path) -> tuple[Path, dict]:
    """Check that ``folder`` is a run folder and return its config.json."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"run folder {folder} does not exist")
    path = folder / "config.json"
    if not path.exists():
        raise ValueError(f"{folder} is not a run folder: config.json is missing")
    config = read_json_object(path, "a run folder")
    if not isinstance(config.get("settings"), dict):
        raise ValueError(f"{path} has no 'settings' object; is {folder} a run folder?")
    return folder, config


def read_history(folder: Path, needed_for: str) -> dict:
    """``history.csv`` of a run folder as ``{"loss": [...], "val_loss": [...], ...}``.

    ``needed_for`` completes the error for a missing file ("which NEEDED_FOR");
    a cell left empty (a metric the run did not log) reads as NaN.
    """
    path = folder / "history.csv"
    try:
        rows = list(csv.DictReader(path.read_text().splitlines()))
    except FileNotFoundError:
        raise ValueError(f"{folder} has no history.csv, which {needed_for}") from None
    if not rows or "loss" not in rows[0]:
        raise ValueError(f"{path} has no epochs with a 'loss' column")
    history = {}
    for key in HISTORY_COLUMNS[1:5]:
        if key in rows[0]:
            history[key] = [float(r[key]) if r[key] not in ("", None) else math.nan for r in rows]
    return history


def read_result(folder: str | Path, *, data: bool = True) -> RunResult:
    """A saved run as the ``RunResult`` its pictures are drawn from.

    The settings, model, history, metrics and the gradient norms of
    ``gradients.csv`` (if present) come from the folder's files.  The folder
    does not keep the data: they are made again from the run's settings and
    seed or, for a ``csv:PATH`` run, read again from that file, which must
    still be at ``PATH`` (a relative path is taken from the current
    directory).  Frames and the weights' trajectory are not kept.

    Parameters
    ----------
    folder : str or Path
        A run folder, as ``write_run`` wrote it.
    data : bool
        Make or read the data now (``add_data``).  False leaves
        ``result.data`` None and the recording's extent the default square:
        enough for the pictures that need no data points (``curves.png``,
        ``gradients.png``).

    Returns
    -------
    RunResult
        With ``epoch_seconds`` empty and a ``Recording`` of what the folder keeps.

    Raises
    ------
    ValueError
        A file is missing or malformed, or (with ``data``) the data cannot be
        made or read again, e.g. the CSV file is gone.
    """
    folder, config = read_run(folder)
    settings = Settings(**config["settings"]).validate()
    metrics = read_json_object(folder / "metrics.json", "drawing the run's pictures")
    history = read_history(folder, "its pictures are drawn from")
    model = load_model(folder)
    recording = Recording()
    if (folder / GRADIENTS_FILE).exists():
        recording.gradient_epochs, norms = read_gradients(folder / GRADIENTS_FILE)
        recording.gradient_norms = list(norms)
    result = RunResult(
        settings,
        model,
        None,
        history,
        [],
        metrics.get("train_seconds", 0.0),
        metrics.get("diverged_epoch"),
        bool(metrics.get("interrupted")),
        metrics,
        recording,
    )
    return add_data(result) if data else result


def add_data(result: RunResult) -> RunResult:
    """Make (or read) again the data of a run ``read_result(folder, data=False)`` read back.

    Sets ``result.data`` and the extent and size of its recording, and
    returns ``result``; raises ValueError as ``runner.load_data`` does (one
    line: a CSV file that does not exist, bad labels, ...).
    """
    result.data = load_data(result.settings)
    result.recording.extent = padded_extent(result.data.X_train)
    result.recording.n_train = len(result.data.X_train)
    return result


def remove_quietly(folder: Path) -> None:
    """Remove a run folder we just created and that holds nothing of value."""
    for p in folder.iterdir():
        p.unlink()
    os.rmdir(folder)
