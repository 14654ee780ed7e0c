"""Export a session: the command and TOML that repeat its run, its model files, a run folder.

A session trains the batches ``backprop-lab train --seed S`` trains (see
session.py), so after ``E`` finished epochs the command with ``--epochs E``
ends with the same weights, provided nothing about the run is the
playground's own: named data, the features ``x1, x2``, no L1, the initial
weights of the seed (``weights`` 0), and one optimizer, learning rate and
batch size from the first batch on.  :func:`note_chunk` keeps, per finished
epoch, the loss ``fit`` logged and what trained it, so both the last
condition and a run folder's history are known without training again.

Model files are written by the same code as a run folder's (``runs.modelio``)
and Keras files (``engine.keras_format``), into a temporary folder of the
server's own choosing, and sent as bytes.  A run folder goes under the
server's ``--out`` folder; the reply names the folder, never a path.
"""

from __future__ import annotations

import base64
import math
import shlex
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..data import datasets
from ..data.csvio import save_csv
from ..engine import keras_format
from ..runs import folders
from ..runs.diagnosis import diagnose
from ..runs.fileio import read_json_object
from ..runs.modelio import CONFIG_FILE, WEIGHTS_FILE, save_model
from ..runs.recording import Recording
from ..runs.runner import Data, RunResult, evaluate_run
from ..runs.settings import Settings
from .protocol import ProtocolError
from .run_settings import run_settings

RUN_NAME = "playground"


@dataclass
class Log:
    """What trained each finished epoch of one run (``Session.run``)."""

    run: int
    epochs: list[dict] = field(default_factory=list)  # {"loss", "accuracy", "with"}
    partial: dict = field(default_factory=dict)


def _trained_with(s: dict) -> tuple:
    return s["optimizer"], s["lr"], s["batch_size"]


def note_chunk(session, logs: dict, batches: int, epoch_start: bool) -> None:
    """Note a chunk of ``batches`` batches that ``fit`` trained (its ``history``: ``logs``).

    Called by the session after each chunk, once its epoch and position count
    it.  A chunk that ends an epoch closes that epoch's record; the records
    after it (the future a restored snapshot dropped) are forgotten.
    """
    log = getattr(session, "export_log", None)
    if log is None or log.run != session.run:
        log = session.export_log = Log(session.run)
    if epoch_start:
        log.partial = {}
    part = log.partial
    part["batches"] = part.get("batches", 0) + batches
    for key in ("loss", "accuracy"):
        if key in logs:
            part[key] = part.get(key, 0.0) + float(logs[key][-1]) * batches
    part.setdefault("with", set()).add(_trained_with(session.settings))
    if session.position == 0:  # the chunk finished an epoch
        n = part.pop("batches")
        entry = {k: (v / n if k != "with" else v) for k, v in part.items()}
        del log.epochs[session.epoch - 1 :]
        log.epochs.append(entry)
        log.partial = {}


def _history(session) -> dict:
    log = getattr(session, "export_log", None)
    epochs = log.epochs if log is not None and log.run == session.run else []
    epochs = epochs[: session.epoch]
    history = {"loss": [e.get("loss", math.nan) for e in epochs]}
    if epochs and "accuracy" in epochs[0]:
        history["accuracy"] = [e.get("accuracy", math.nan) for e in epochs]
    return history


def reason(session) -> str | None:
    """Why no ``backprop-lab train`` command repeats the session's run, or None."""
    s = session.settings
    log = getattr(session, "export_log", None)
    epochs = log.epochs[: session.epoch] if log is not None and log.run == session.run else []
    if s["dataset"] == "custom":
        return "the points are your own; download them as CSV and train with --dataset csv:FILE"
    if s["features"] != ["x1", "x2"]:
        return "the command's network takes the inputs x1, x2 only; choose just those features"
    if s["regularization"] == "l1" and s["reg_rate"] > 0:
        return "the command has L2 regularization (--l2) only, not L1"
    if s.get("weights", 0):
        return "these are other initial weights (New weights); the command draws those of weights 0"
    if session.diverged:
        return "training diverged; the command stops at the last finite epoch instead"
    if session.position:
        return (
            f"training stopped inside epoch {session.epoch + 1}; finish it (step one epoch) "
            "to export, as the command trains whole epochs"
        )
    if session.epoch == 0:
        return "no epoch has finished yet; the command trains whole epochs"
    if len(epochs) < session.epoch or any(e["with"] != {_trained_with(s)} for e in epochs):
        return (
            "the optimizer, learning rate or batch size changed during this run; press Reset "
            "and train with the settings of your choice to export it"
        )
    return None


def _settings(session, epochs: int, out: str = "runs") -> Settings:
    """The ``backprop-lab train`` settings of the session's run (custom points as data.csv)."""
    csv = {"dataset": "csv:data.csv"} if session.settings["dataset"] == "custom" else {}
    return run_settings(session.settings, epochs=max(epochs, 1), name=RUN_NAME, out=out, **csv)


def options(session) -> dict:
    """The ``backprop-lab train`` options of the run, in the order of ``--help``."""
    t = _settings(session, session.epoch)
    out = {"dataset": t.dataset}
    if t.dataset in datasets.MULTICLASS:
        out["classes"] = t.classes
    out.update(samples=t.samples, noise=t.noise, test_size=t.test_size, hidden=t.hidden_text())
    if t.loss != "auto":
        out["loss"] = t.loss
    if t.l2:
        out["l2"] = t.l2
    out.update(optimizer=t.optimizer, lr=t.lr)
    if t.momentum:
        out["momentum"] = t.momentum
    out.update(epochs=t.epochs, batch_size=t.batch_size, seed=t.seed)
    return out


def command_text(opts: dict) -> str:
    words = ["backprop-lab", "train"]
    for key, value in opts.items():
        words += ["--" + key.replace("_", "-"), str(value)]
    return " ".join(shlex.quote(w) for w in words)


def toml_text(opts: dict) -> str:
    lines = ["# backprop-lab train --config THIS_FILE.toml"]
    for key, value in opts.items():
        text = f'"{value}"' if isinstance(value, str) else repr(value)
        lines.append(f"{key} = {text}")
    return "\n".join(lines) + "\n"


def _model_files(session) -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="backprop-lab-export-") as tmp:
        save_model(session.model, tmp)
        blob = (Path(tmp) / WEIGHTS_FILE).read_bytes()
        text = (Path(tmp) / CONFIG_FILE).read_text()
    return [
        {"name": WEIGHTS_FILE, "base64": base64.b64encode(blob).decode("ascii")},
        {"name": CONFIG_FILE, "text": text},
    ]


def _keras_files(session) -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="backprop-lab-export-") as tmp:
        path = Path(tmp) / "model.keras"
        keras_format.save_model(session.model, path)
        blob = path.read_bytes()
    return [{"name": "model.keras", "base64": base64.b64encode(blob).decode("ascii")}]


def write_run_folder(session, out: str) -> Path:
    """A complete run folder of the session's model and data under ``out``, with report.html."""
    from ..pictures.learning import draw_run  # matplotlib: loaded for this export only

    d = session.data
    if session.settings["features"] != ["x1", "x2"]:  # the model's inputs are the features
        d = Data(session.inputs["train"], d.y_train, session.inputs["test"], d.y_test, None, d.task)
    else:
        d = Data(d.X_train, d.y_train, d.X_test, d.y_test, d.true_labels, d.task)
    settings = _settings(session, session.epoch, out)
    settings.loss = session.model.loss.name
    settings.task = d.task
    history = _history(session)
    recording = Recording(n_train=len(d.X_train))
    if d.X_train.shape[1] == 2:
        recording.extent = session.extent
    result = RunResult(settings, session.model, d, history, [], 0.0, recording=recording)
    with np.errstate(all="ignore"):
        result.metrics = evaluate_run(session.model, d)
    result.metrics["diagnosis"] = diagnose(result)
    folder = folders.new_run_dir(out, RUN_NAME)
    try:
        if settings.dataset == "csv:data.csv":  # custom points: the folder keeps them
            X = np.concatenate([d.X_train, d.X_test])
            save_csv(folder / "data.csv", X, np.concatenate([d.y_train, d.y_test]))
            settings.dataset = f"csv:{folder / 'data.csv'}"
        folders.write_run(folder, result)
        # write_run counts the epochs it timed; the session timed none but trained these.
        metrics = read_json_object(folder / "metrics.json", "exporting a run")
        metrics["epochs_completed"] = session.epoch
        folders.write_json(folder / "metrics.json", metrics)
        with np.errstate(all="ignore"):
            draw_run(folder, result)
    except BaseException:
        folders.remove_quietly(folder)  # a failed export leaves nothing behind
        raise
    return folder


def export(session, what: str, out: str) -> dict:
    """The ``export`` reply for ``what`` (see docs/playground-protocol.md).

    Raises
    ------
    ProtocolError
        When the model cannot be written in the format asked for.
    """
    reply = {"type": "export", "what": what}
    if what in ("command", "toml"):
        why = reason(session)
        if why is not None:
            return {**reply, "text": None, "reason": why}
        opts = options(session)
        return {**reply, "text": command_text(opts) if what == "command" else toml_text(opts)}
    if session.model is None or not all(np.isfinite(p).all() for p in session.model.params):
        raise ProtocolError(f"export {what}: the weights are not finite (training diverged)")
    if what == "safetensors":
        return {**reply, "files": _model_files(session)}
    if what == "keras":
        return {**reply, "files": _keras_files(session)}
    try:
        folder = write_run_folder(session, out)
    except OSError as e:
        why = e.strerror or type(e).__name__
        raise ProtocolError(
            f"export run: the server could not write a run folder ({why})"
        ) from None
    return {**reply, "folder": folder.name}
