"""Export a session: the command and TOML that repeat its run, its model files, a run folder.

A session trains the batches ``backprop-lab train --seed S`` trains (see
session.py), so after ``E`` finished epochs the command with ``--epochs E``
ends with the session's weights up to float rounding (the engines' sums may
round differently), provided nothing about the run is the playground's own:
named data, the features ``x1, x2``, no L1, the initial weights of the seed
(``weights`` 0), one optimizer, learning rate and batch size from the first
batch on, and one optimizer object (not made again, losing its slots and
step count).  :func:`note_chunk` keeps, per finished epoch, the loss ``fit``
logged (16 bytes an epoch) and, per run, what trained it, so both the last
conditions and a run folder's history are known without training again.

Model files are written by the same code as a run folder's (``runs.modelio``)
and Keras files (``engine.keras_format``), into a temporary folder of the
server's own choosing, and sent as bytes.  A run folder (named data and the
features ``x1, x2`` only, at most ``LIMITS["max_run_exports"]`` per session)
goes under the server's ``--out`` folder; the reply names the folder, never a
path.
"""

from __future__ import annotations

import base64
import dataclasses
import math
import shlex
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..data import datasets
from ..engine import keras_format
from ..runs import folders
from ..runs.diagnosis import diagnose
from ..runs.fileio import read_json_object
from ..runs.modelio import CONFIG_FILE, WEIGHTS_FILE, save_model
from ..runs.recording import Recording
from ..runs.runner import Data, RunResult, evaluate_run
from ..runs.settings import Settings, output_for
from .divergence import params_finite
from .protocol import LIMITS, ProtocolError
from .run_settings import run_settings

RUN_NAME = "playground"


GROW = 1024  # rows the per-epoch record grows by
MAX_LOGGED_EPOCHS = 100_000  # finished epochs whose losses are kept (16 bytes each)


@dataclass
class Partial:
    """The record of the epoch in progress: sums over its chunks, and what changed in it."""

    batches: int = 0
    loss: float = 0.0  # sums of the logged values, weighted by batches
    accuracy: float = 0.0
    changed: bool = False  # a chunk trained with settings other than the run's first
    rebuilt: bool = False  # a chunk trained with an optimizer made again after batch 1


@dataclass
class Log:
    """What trained the finished epochs of one run (``Session.run``), in bounded memory.

    ``scores`` holds the loss and accuracy ``fit`` logged per finished epoch
    (NaN: not logged), grown ``GROW`` rows at a time and kept for the first
    ``MAX_LOGGED_EPOCHS`` epochs.  What trained them is one tuple for the run
    and the first finished epoch in which something else trained.
    """

    run: int
    first: tuple  # (optimizer, lr, batch_size) of the run's first batch
    closed: int = 0  # finished epochs followed
    scores: np.ndarray = field(default_factory=lambda: np.empty((0, 2)))
    has_accuracy: bool = False
    changed_at: int | None = None  # first epoch (0-based) a chunk trained with other settings
    rebuilt_at: int | None = None  # first epoch a chunk trained with a remade optimizer
    partial: Partial = field(default_factory=Partial)


def _trained_with(s: dict) -> tuple:
    return s["optimizer"], s["lr"], s["batch_size"]


def _log(session) -> Log | None:
    log = getattr(session, "export_log", None)
    return log if log is not None and log.run == session.run else None


def note_chunk(session, logs: dict, batches: int, epoch_start: bool) -> None:
    """Note a chunk of ``batches`` batches that ``fit`` trained (its ``history``: ``logs``).

    Called by the session after each chunk, once its epoch and position count
    it.  A chunk that ends an epoch closes that epoch's record; the records
    after it (the future a restored snapshot dropped) are forgotten.  A chunk
    trained while the optimizer's step count differs from the run's (the
    optimizer was made again, losing its slots) marks its epoch as rebuilt.
    """
    log = _log(session)
    if log is None or session.iterations == batches:  # a new run, or its first batch again
        log = session.export_log = Log(session.run, _trained_with(session.settings))
    if epoch_start:
        log.partial = Partial()
    part = log.partial
    part.batches += batches
    part.loss += float(logs["loss"][-1]) * batches if "loss" in logs else math.nan
    if "accuracy" in logs:
        log.has_accuracy = True
        part.accuracy += float(logs["accuracy"][-1]) * batches
    part.changed |= _trained_with(session.settings) != log.first
    part.rebuilt |= session.model.optimizer.iterations != session.iterations
    if session.position == 0:  # the chunk finished an epoch
        k = session.epoch - 1
        if log.changed_at is not None and log.changed_at >= k:
            log.changed_at = None  # it was in the future a restored snapshot dropped
        if log.rebuilt_at is not None and log.rebuilt_at >= k:
            log.rebuilt_at = None
        if part.changed and log.changed_at is None:
            log.changed_at = k
        if part.rebuilt and log.rebuilt_at is None:
            log.rebuilt_at = k
        if k < MAX_LOGGED_EPOCHS:
            if k >= len(log.scores):
                grown = np.full((len(log.scores) + GROW, 2), math.nan)
                grown[: len(log.scores)] = log.scores
                log.scores = grown
            n = part.batches
            log.scores[k] = (part.loss / n, part.accuracy / n if log.has_accuracy else math.nan)
        log.closed = k + 1
        log.partial = Partial()


def partial_state(session) -> tuple | None:
    """A copy of the export record's epoch in progress, for a timeline snapshot."""
    log = _log(session)
    return None if log is None else (log.run, dataclasses.replace(log.partial))


def restore_partial(session, state: tuple | None) -> None:
    """Put back the epoch in progress that :func:`partial_state` saved (the same run only)."""
    log = _log(session)
    if log is not None and state is not None and state[0] == log.run:
        log.partial = dataclasses.replace(state[1])


def _history(session) -> dict:
    log = _log(session)
    n = min(session.epoch, log.closed, MAX_LOGGED_EPOCHS) if log is not None else 0
    scores = log.scores[:n] if log is not None else np.empty((0, 2))
    history = {"loss": scores[:, 0].tolist()}
    if log is not None and log.has_accuracy:
        history["accuracy"] = scores[:, 1].tolist()
    return history


def reason(session) -> str | None:
    """Why no ``backprop-lab train`` command repeats the session's run, or None."""
    s = session.settings
    log = _log(session)
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
    if (
        log is None
        or log.closed < session.epoch
        or log.first != _trained_with(s)
        or (log.changed_at is not None and log.changed_at < session.epoch)
    ):
        return (
            "the optimizer, learning rate or batch size changed during this run; press Reset "
            "and train with the settings of your choice to export it"
        )
    if log.rebuilt_at is not None and log.rebuilt_at < session.epoch:
        return (
            "the optimizer was made again during this run (its velocity and step count were "
            "lost); press Reset and train with one optimizer to export it"
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


def run_refusal(session) -> str | None:
    """Why the session's model makes no run folder ``evaluate``/``predict`` can read, or None."""
    s = session.settings
    if s["dataset"] == "custom":
        return (
            "export run: the points are your own, and a run folder would split its data.csv "
            "differently from the session; download them as CSV and train with "
            "backprop-lab train --dataset csv:FILE"
        )
    if s["features"] != ["x1", "x2"]:
        return (
            "export run: a run folder's model takes the inputs x1, x2 (evaluate and predict "
            "give it those); choose just those features, or export the model files"
        )
    most = LIMITS["max_run_exports"]
    if getattr(session, "run_exports", 0) >= most:
        return f"export run: at most {most} run folders per session (limits.max_run_exports)"
    return None


def write_run_folder(session, out: str) -> Path:
    """A run folder of the session's model and named data under ``out``, with report.html.

    Its config says the run's settings (the loss by the settings' name), so
    ``evaluate`` and ``predict`` read it; its history holds the losses the
    session logged, and its timings are the folder's writing, not training.
    """
    from ..pictures.learning import draw_run  # matplotlib: loaded for this export only

    d = session.data
    d = Data(d.X_train, d.y_train, d.X_test, d.y_test, d.true_labels, d.task)
    settings = _settings(session, session.epoch, out)
    settings.loss = output_for(d.task, d.n_classes, session.settings["loss"])[0]
    settings.task = d.task
    history = _history(session)
    recording = Recording(n_train=len(d.X_train))
    recording.extent = session.extent
    result = RunResult(settings, session.model, d, history, [], 0.0, recording=recording)
    with np.errstate(all="ignore"):
        result.metrics = evaluate_run(session.model, d)
    result.metrics["diagnosis"] = diagnose(result)
    folder = folders.new_run_dir(out, RUN_NAME)
    try:
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
    if session.model is None or not params_finite(session.model.params):
        raise ProtocolError(f"export {what}: the weights are not finite (training diverged)")
    if what == "safetensors":
        return {**reply, "files": _model_files(session)}
    if what == "keras":
        return {**reply, "files": _keras_files(session)}
    why = run_refusal(session)
    if why is not None:
        raise ProtocolError(why)
    try:
        folder = write_run_folder(session, out)
    except OSError as e:
        why = e.strerror or type(e).__name__
        raise ProtocolError(
            f"export run: the server could not write a run folder ({why})"
        ) from None
    session.run_exports = getattr(session, "run_exports", 0) + 1
    return {**reply, "folder": folder.name}
