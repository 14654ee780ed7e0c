"""Export over the WebSocket: the command and TOML that repeat a run, model files, run folders.

The command and the TOML are run for real (``@pytest.mark.subprocess``) and
must end with the session's weights (to a relative 1e-5); the model files are read back with the
readers of the rest of the package and must hold the weights the session's
frames show.
"""

from __future__ import annotations

import base64
import json
import shlex
import subprocess
import sys

import numpy as np
import pytest
from starlette.testclient import TestClient
from test_serve_protocol import Session, errors

from backprop_lab.cli.parser import build_parser
from backprop_lab.engine.keras_loading import load_model as load_keras
from backprop_lab.runs.modelio import load_model
from backprop_lab.serve import export, protocol, timeline
from backprop_lab.serve.app import create_app
from backprop_lab.serve.config import ServeConfig
from backprop_lab.serve.session import Session as ServerSession

SMALL = {"points": 300, "seed": 5, "layers": [{"units": 4, "activation": "tanh"}]}
BARRIER = {"type": "step", "unit": "BARRIER"}  # answered by an error naming BARRIER


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    return tmp_path_factory.mktemp("served-runs")


@pytest.fixture(scope="module")
def client(out):
    with TestClient(create_app(ServeConfig(out=str(out)))) as c:
        yield c


@pytest.fixture
def tab(client):
    with client.websocket_connect("/ws") as ws:
        session = Session(ws)
        session.hidden_units = 4
        yield session


def ask(tab: Session, what: str) -> dict:
    """The reply to ``export what`` (an export, or an error)."""
    tab.send({"type": "export", "what": what})
    reply, _ = tab.until(lambda m: isinstance(m, dict) and m["type"] in ("export", "error"))
    return reply


def train_epochs(tab: Session, epochs: int):
    """Step ``epochs`` epochs; the frame that shows the last one."""
    for _ in range(epochs):
        tab.send({"type": "step", "unit": "epoch"})
    return tab.frame(lambda meta: meta["epoch"] == epochs and not meta["playing"])


def weights_of(files: list[dict]) -> np.ndarray:
    from safetensors.numpy import load

    tensors = load(base64.b64decode(files[0]["base64"]))
    n = len(tensors) // 2
    return np.concatenate(
        [tensors[f"layers.{i}.{k}"].ravel() for i in range(n) for k in ("kernel", "bias")]
    )


def run_weights(folder) -> np.ndarray:
    return np.concatenate([w.ravel() for w in load_model(folder).get_weights()])


# --------------------------------------------------------------------------- command and TOML


def test_the_command_and_toml_name_every_setting_of_the_run(tab):
    tab.start({**SMALL, "optimizer": "momentum", "lr": 0.05, "batch_size": 16})
    train_epochs(tab, 2)
    command = ask(tab, "command")["text"]
    words = shlex.split(command)
    assert words[:2] == ["backprop-lab", "train"]
    opts = dict(zip(words[2::2], words[3::2]))
    assert opts["--hidden"] == "4:tanh" and opts["--epochs"] == "2" and opts["--seed"] == "5"
    assert opts["--optimizer"] == "sgd" and opts["--momentum"] == "0.9"
    assert opts["--lr"] == "0.05" and opts["--batch-size"] == "16"
    assert opts["--samples"] == "300" and opts["--dataset"] == "circle"
    toml = ask(tab, "toml")["text"]
    import tomllib

    values = tomllib.loads(toml)
    assert values["epochs"] == 2 and values["batch_size"] == 16 and values["momentum"] == 0.9


@pytest.mark.parametrize(
    "settings, word",
    [
        ({"features": ["x1", "x2", "x1sq"]}, "x1, x2 only"),
        ({"regularization": "l1", "reg_rate": 0.001}, "L1"),
        ({"weights": 7}, "other initial weights"),
    ],
)
def test_a_run_no_command_repeats_gets_a_reason(tab, settings, word):
    tab.start({**SMALL, **settings})
    train_epochs(tab, 1)
    reply = ask(tab, "command")
    assert reply["text"] is None and word in reply["reason"] and "\n" not in reply["reason"]


def test_no_command_before_an_epoch_ends_mid_epoch_or_after_a_change_of_rate(tab):
    tab.start(SMALL)
    assert "no epoch has finished" in ask(tab, "command")["reason"]
    tab.send({"type": "step", "unit": "batch"})
    assert "inside epoch 1" in ask(tab, "toml")["reason"]
    tab.send({"type": "step", "unit": "epoch"})
    tab.barrier({"lr": 0.1})
    tab.send({"type": "step", "unit": "epoch"})
    tab.send({"type": "step", "unit": "epoch"})
    tab.frame(lambda meta: meta["epoch"] == 3)
    assert "learning rate" in ask(tab, "command")["reason"]
    tab.send({"type": "reset"})
    train_epochs(tab, 1)
    assert ask(tab, "command")["text"].startswith("backprop-lab train")


def test_custom_points_have_no_command(tab):
    tab.start(SMALL)
    tab.send({"type": "points", "action": "add", "part": "train", "x": [0, 0], "t": 1})
    train_epochs(tab, 1)
    assert "your own" in ask(tab, "command")["reason"]


@pytest.mark.subprocess
def test_the_exported_command_and_toml_end_with_the_sessions_weights(tab, tmp_path):
    tab.start({**SMALL, "optimizer": "adam", "lr": 0.02})
    frame = train_epochs(tab, 3)
    session_weights = weights_of(ask(tab, "safetensors")["files"])
    np.testing.assert_array_equal(session_weights, frame.weights[: len(session_weights)])
    command = shlex.split(ask(tab, "command")["text"])
    toml = tmp_path / "run.toml"
    toml.write_text(ask(tab, "toml")["text"])
    for i, args in enumerate([command[2:], ["--config", str(toml)]]):
        runs = tmp_path / f"runs{i}"
        cli = [sys.executable, "-m", "backprop_lab", "train", *args, "--out", str(runs), "--quiet"]
        done = subprocess.run(cli, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
        (folder,) = runs.iterdir()
        np.testing.assert_allclose(run_weights(folder), session_weights, rtol=1e-5, atol=1e-6)
        metrics = json.loads((folder / "metrics.json").read_text())
        assert metrics["test_loss"] == pytest.approx(frame.meta["test_loss"], rel=1e-4)


# --------------------------------------------------------------------------- files


def test_safetensors_and_json_load_back_as_the_sessions_model(tab, tmp_path):
    tab.start(SMALL)
    frame = train_epochs(tab, 1)
    files = ask(tab, "safetensors")["files"]
    assert [f["name"] for f in files] == ["model.safetensors", "model.json"]
    (tmp_path / "model.safetensors").write_bytes(base64.b64decode(files[0]["base64"]))
    (tmp_path / "model.json").write_text(files[1]["text"])
    weights = run_weights(tmp_path)  # checks the SHA-256 in model.json too
    np.testing.assert_array_equal(weights, frame.weights[: len(weights)])
    assert json.loads(files[1]["text"])["layers"][0] == {"units": 4, "activation": "tanh"}


def test_keras_file_loads_back_as_the_sessions_model(tab, tmp_path):
    tab.start(SMALL)
    frame = train_epochs(tab, 1)
    (file,) = ask(tab, "keras")["files"]
    assert file["name"] == "model.keras"
    path = tmp_path / "model.keras"
    path.write_bytes(base64.b64decode(file["base64"]))
    model = load_keras(path)
    weights = np.concatenate([w.ravel() for w in model.get_weights()])
    np.testing.assert_array_equal(weights, frame.weights[: len(weights)])


# --------------------------------------------------------------------------- run folders


def test_a_run_folder_is_written_under_out_and_named_not_pathed(tab, out):
    tab.start(SMALL)
    frame = train_epochs(tab, 2)
    reply = ask(tab, "run")
    name = reply["folder"]
    assert "/" not in name and "\\" not in name and str(out) not in json.dumps(reply)
    folder = out / name
    files = {p.name for p in folder.iterdir()}
    assert {"config.json", "history.csv", "metrics.json", "report.html", "curves.png"} <= files
    assert {"model.safetensors", "model.json", "boundary.png", "network.png"} <= files
    np.testing.assert_array_equal(run_weights(folder), frame.weights[: len(run_weights(folder))])
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["test_loss"] == pytest.approx(frame.meta["test_loss"], rel=1e-5)
    assert metrics["epochs_completed"] == 2
    history = (folder / "history.csv").read_text().splitlines()
    assert len(history) == 1 + 2  # a header, then one row per finished epoch
    config = json.loads((folder / "config.json").read_text())
    assert config["settings"]["epochs"] == 2 and config["settings"]["seed"] == 5


def test_a_run_folder_of_custom_points_is_refused_as_it_would_split_them_otherwise(tab, out):
    tab.start(SMALL)
    tab.send({"type": "points", "action": "add", "part": "test", "x": [1.5, 1.5], "t": 1})
    tab.text("data")
    before = set(out.iterdir())
    reply = ask(tab, "run")
    assert reply["type"] == "error" and "\n" not in reply["message"]
    assert "your own" in reply["message"] and "download them as CSV" in reply["message"]
    assert set(out.iterdir()) == before  # nothing written


def test_a_run_folder_needs_the_features_x1_x2_but_model_files_do_not(tab, out):
    tab.start({**SMALL, "features": ["x1", "x2", "x1sq"]})
    train_epochs(tab, 1)
    before = set(out.iterdir())
    reply = ask(tab, "run")
    assert reply["type"] == "error" and "x1, x2" in reply["message"]
    assert "\n" not in reply["message"] and set(out.iterdir()) == before
    assert ask(tab, "safetensors")["type"] == "export"


def test_run_folders_per_session_are_limited(tab, out, monkeypatch):
    assert protocol.LIMITS["max_run_exports"] == 20
    monkeypatch.setitem(protocol.LIMITS, "max_run_exports", 2)
    tab.start(SMALL)
    assert tab.hello["limits"]["max_run_exports"] == 20  # sent before the patch
    train_epochs(tab, 1)
    assert ask(tab, "run")["type"] == "export" and ask(tab, "run")["type"] == "export"
    before = set(out.iterdir())
    reply = ask(tab, "run")
    assert reply["type"] == "error" and "at most 2 run folders" in reply["message"]
    assert "max_run_exports" in reply["message"] and set(out.iterdir()) == before
    assert ask(tab, "command")["text"] is not None  # the other exports go on


def test_a_regression_run_folder_is_read_by_evaluate(tab, out, capsys):
    from backprop_lab.cli import main

    tab.start({**SMALL, "dataset": "plane"})
    train_epochs(tab, 1)
    folder = out / ask(tab, "run")["folder"]
    config = json.loads((folder / "config.json").read_text())
    assert config["settings"]["loss"] == "mse"  # the settings' name, not the engine's
    assert main(["evaluate", str(folder)]) == 0, capsys.readouterr().err


# --------------------------------------------------------------------------- the export record


def small_session(**settings) -> ServerSession:
    session = ServerSession()
    session.start({**SMALL, **settings})
    return session


def test_an_optimizer_made_again_mid_run_is_refused_even_when_its_name_comes_back():
    session = small_session(optimizer="momentum")
    session.step("epoch")
    assert export.reason(session) is None
    session.update({"optimizer": "adam"})
    session.update({"optimizer": "momentum"})  # the velocity and step count are gone
    session.step("epoch")
    why = export.reason(session)
    assert why is not None and "made again" in why and "\n" not in why
    timeline.seek(session, 1)  # the end of epoch 1, before the optimizer was made again
    assert session.epoch == 1 and export.reason(session) is None
    session.step("epoch")  # the snapshot's optimizer state: a clean run again
    assert session.epoch == 2 and export.reason(session) is None


def test_changing_the_optimizer_before_the_first_batch_is_no_change():
    session = small_session(optimizer="momentum")
    session.update({"optimizer": "adam"})
    session.update({"optimizer": "momentum"})
    session.step("epoch")
    assert export.reason(session) is None


def test_a_seek_into_an_epoch_restores_its_half_finished_record():
    session = small_session()
    session.step("epoch")
    session.step("batch")  # a snapshot inside epoch 2
    session.step("epoch")
    straight = export._history(session)["loss"]
    (inside,) = [i for i, s in enumerate(session.timeline.snapshots) if s.position]
    timeline.seek(session, inside)
    session.step("epoch")  # the rest of epoch 2 again
    assert session.epoch == 2
    assert export._history(session)["loss"] == straight  # the same batches, the same mean


def test_the_export_record_stays_small_over_many_epochs():
    import tracemalloc
    from types import SimpleNamespace

    opt = SimpleNamespace(iterations=0)
    session = SimpleNamespace(
        run=1,
        settings={"optimizer": "sgd", "lr": 0.01, "batch_size": 32},
        position=0,
        epoch=0,
        iterations=0,
        model=SimpleNamespace(optimizer=opt),
    )
    logs = {"loss": [0.5], "accuracy": [0.75]}

    def one_epoch():  # one batch an epoch, as fit logs it
        session.epoch += 1
        session.iterations += 1
        opt.iterations += 1
        export.note_chunk(session, logs, 1, True)

    one_epoch()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(20_000):
            one_epoch()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 24 * 20_000, grown  # 16 bytes an epoch and a chunk's slack, not ~545
    history = export._history(session)
    assert len(history["loss"]) == 20_001 and history["accuracy"][-1] == 0.75


def test_the_export_field_is_checked(tab):
    tab.start(SMALL)
    tab.send({"type": "export", "what": "onnx"})
    _, seen = tab.barrier()
    (error,) = errors(seen)
    assert "what must be one of command, toml, safetensors, keras, run" in error["message"]


def test_serve_takes_out():
    assert build_parser().parse_args(["serve", "--out", "elsewhere"]).out == "elsewhere"
    assert build_parser().parse_args(["serve"]).out == "runs"
