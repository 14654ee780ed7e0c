"""The export menu's command, read off the page in real Chromium and run in a subprocess, ends
with the losses (and the weights) the page shows.

The run is set up through the page's controls (points, seed, optimizer, learning rate, batch
size), trained with Play, Pause and Step (which finishes the epoch Pause stopped in), and the
command is the text of the export box, run as it is (the ``backprop-lab`` script next to this
interpreter, in a scratch folder, so the run folder lands in its default ``runs/``). The page
rounds its losses to 4 decimals; the exact values it drew from are read from the frames the
page received (its WebSocket, as Playwright sees it), and must be the ones shown.
"""

from __future__ import annotations

import json
import shlex
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from browser_helpers import epoch, open_page, wait_for_current_frame, wait_for_epoch

pytestmark = [pytest.mark.browser, pytest.mark.subprocess]

# Set through the page's controls, each a change from the page's default: label, URL key, value.
CONTROLS = [
    ("Points", "points", "400"),
    ("Seed", "seed", "11"),
    ("Batch size", "batch_size", "16"),
    ("Learning rate", "lr", "0.03"),
]
OPTIMIZER = "adam"


# ----------------------------------------------------------------------------- helpers


def frame_parts(data: bytes) -> tuple[dict, np.ndarray]:
    """(meta, float32 parameters) of one binary frame (docs/playground-protocol.md).

    Parameters
    ----------
    data : bytes
        ``BPLF``, the meta's length (uint32, little-endian), the meta JSON, then the
        ``meta["weights"]`` parameters as float32.
    """
    assert data[:4] == b"BPLF"
    (m,) = struct.unpack_from("<I", data, 4)
    meta = json.loads(data[8 : 8 + m])
    weights = np.frombuffer(data, dtype="<f4", count=meta["weights"], offset=8 + m)
    return meta, weights.copy()


def record_frames(page) -> list[tuple[dict, np.ndarray]]:
    """Every frame the page will receive from now on, in order (its socket's, not a copy's)."""
    frames = []

    def on_socket(ws):
        def on_frame(payload):
            if isinstance(payload, bytes):
                frames.append(frame_parts(payload))

        ws.on("framereceived", on_frame)

    page.on("websocket", on_socket)
    return frames


def set_control(page, label: str, value: str) -> None:
    """Type ``value`` into the labelled input and commit it as a user does (Enter, then away)."""
    box = page.get_by_label(label, exact=True)
    box.fill(value)
    box.press("Enter")
    box.blur()


def wait_for_setting(page, key: str, value: str) -> None:
    """Until the URL (kept in step with the server's accepted settings) has ``key=value``."""
    page.wait_for_function(
        "([k, v]) => new URLSearchParams(location.search).get(k) === v",
        arg=[key, value],
        timeout=20_000,
    )


def paused_at_an_epoch_end(page, at_least: int) -> None:
    """Until the page shows the end of epoch ``at_least`` or a later one, paused."""
    page.wait_for_function(
        """n => document.querySelector('#play').dataset.playing === '0'
            && Number(document.querySelector('[data-testid=epoch]').textContent) >= n
            && document.querySelector('[data-testid=batch]').textContent === ''""",
        arg=at_least,
        timeout=30_000,
    )


def exported_command(page) -> str:
    page.get_by_text("Export", exact=True).click()
    page.get_by_role("button", name="Command", exact=True).click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=export-text]').value.startsWith('backprop')",
        timeout=20_000,
    )
    return page.get_by_test_id("export-text").input_value()


def run_command(command: str, cwd: Path) -> Path:
    """Run the exported command as it is in ``cwd``; its one run folder (under ``runs/``)."""
    words = shlex.split(command)
    assert words[:2] == ["backprop-lab", "train"], command
    script = shutil.which("backprop-lab", path=str(Path(sys.executable).parent))
    program = [script] if script else [sys.executable, "-m", "backprop_lab"]
    done = subprocess.run(
        [*program, *words[1:]], cwd=cwd, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    (folder,) = (cwd / "runs").iterdir()
    return folder


def train_loss_of(folder: Path) -> float:
    """The training-split loss of the run folder's model, on the data its config regenerates."""
    from backprop_lab.runs.folders import read_run
    from backprop_lab.runs.modelio import load_model
    from backprop_lab.runs.runner import load_data
    from backprop_lab.runs.settings import Settings

    _, config = read_run(folder)
    fields = Settings.__dataclass_fields__
    settings = Settings(**{k: v for k, v in config["settings"].items() if k in fields}).validate()
    data = load_data(settings)
    result = load_model(folder).evaluate(data.X_train, data.y_train, verbose=0)
    return float(result[0] if isinstance(result, list | tuple) else result)


def run_weights(folder: Path) -> np.ndarray:
    """The run folder's parameters, flat, in the frames' order (kernel, bias per layer)."""
    from backprop_lab.runs.modelio import load_model

    return np.concatenate([w.ravel() for w in load_model(folder).get_weights()])


def shown(page, testid: str) -> str:
    return page.get_by_test_id(testid).text_content()


# ----------------------------------------------------------------------------- the test


def test_the_exported_command_reproduces_the_pages_final_losses(
    chromium, request, playground_url, tmp_path
):
    page = open_page(chromium, request)
    frames = record_frames(page)
    page.goto(playground_url)
    wait_for_current_frame(page)

    for label, _, value in CONTROLS:
        set_control(page, label, value)
    page.get_by_label("Optimizer", exact=True).select_option(OPTIMIZER)
    for _, key, value in [*CONTROLS, ("Optimizer", "optimizer", OPTIMIZER)]:
        wait_for_setting(page, key, value)
    wait_for_current_frame(page)
    assert epoch(page) == 0

    # Play for a few epochs, pause (most likely inside an epoch), Step to finish that epoch.
    page.get_by_role("button", name="Play", exact=True).click()
    wait_for_epoch(page, 3)
    page.get_by_role("button", name="Pause", exact=True).click()
    page.wait_for_function(
        "() => document.querySelector('#play').dataset.playing === '0'", timeout=10_000
    )
    paused_in = epoch(page)  # finished epochs, as far as the page has heard
    page.get_by_role("button", name="Step", exact=True).click()
    paused_at_an_epoch_end(page, paused_in + 1)

    command = exported_command(page)  # the server answers it after the Step's epoch
    words = dict(zip(shlex.split(command)[2::2], shlex.split(command)[3::2]))
    epochs = int(words["--epochs"])
    assert epochs >= 3 and words["--seed"] == "11", command
    assert words["--samples"] == "400" and words["--batch-size"] == "16", command
    assert words["--optimizer"] == OPTIMIZER and words["--lr"] == "0.03", command
    paused_at_an_epoch_end(page, epochs)
    assert epoch(page) == epochs

    # The frame the page shows: the last one received, of this epoch's end.
    meta, weights = frames[-1]
    assert meta["epoch"] == epochs and meta["batch"] == 0 and not meta["playing"]
    train_shown, test_shown = shown(page, "train-loss"), shown(page, "test-loss")
    assert train_shown == f"{meta['train_loss']:.4f}" and test_shown == f"{meta['test_loss']:.4f}"

    folder = run_command(command, tmp_path)
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["epochs_completed"] == epochs
    assert f"{metrics['test_loss']:.4f}" == test_shown, (metrics["test_loss"], test_shown)
    assert metrics["test_loss"] == pytest.approx(meta["test_loss"], rel=1e-5)
    train = train_loss_of(folder)
    assert f"{train:.4f}" == train_shown, (train, train_shown)
    assert train == pytest.approx(meta["train_loss"], rel=1e-5)
    run = run_weights(folder)
    np.testing.assert_allclose(run, weights[: len(run)], rtol=1e-5, atol=1e-6)
