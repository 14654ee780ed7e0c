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
import os
import platform
import time
from pathlib import Path

import numpy as np

from .._version import __version__
from .fileio import read_json_object, write_atomic
from .modelio import CONFIG_FILE, WEIGHTS_FILE, save_model

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
    model = result.model
    return {
        "settings": result.settings.to_dict(),
        "seed": result.settings.seed,
        "engine_used": getattr(model, "engine_used", model.engine),
        "model": model.get_config(),
        "optimizer": model.optimizer.get_config(),
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
        ``config.json``, ``history.csv``, ``metrics.json`` and the two model files.
    """
    write_json(folder / "config.json", run_config(result))
    write_history(folder / "history.csv", result.history, result.epoch_seconds)
    metrics = dict(result.metrics)
    metrics["epochs_completed"] = len(result.epoch_seconds)
    metrics["train_seconds"] = result.train_seconds
    metrics["diverged_epoch"] = result.diverged_epoch
    metrics["interrupted"] = result.interrupted
    write_json(folder / "metrics.json", metrics)
    save_model(result.model, folder)
    return ["config.json", "history.csv", "metrics.json", CONFIG_FILE, WEIGHTS_FILE]


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


def remove_quietly(folder: Path) -> None:
    """Remove a run folder we just created and that holds nothing of value."""
    for p in folder.iterdir():
        p.unlink()
    os.rmdir(folder)
