"""The playground's WebSocket protocol (docs/playground-protocol.md), held to the letter.

Every test drives the real app (``create_app``) through Starlette's test client:
JSON text messages in, JSON text messages and binary frames out. Frames are
parsed byte for byte as the protocol describes them, and their grids are
checked against a forward pass computed here from the frame's own weights, so
the orientation, the extent and each encoding are tested, not just the sizes.
No assertion here depends on how fast the machine is: "nothing arrived" is
always checked with a barrier (a message the server must answer, whose answer
comes after anything sent before it), never with a timeout. A generous
timeout only turns a hang into a failure with a message.
"""

from __future__ import annotations

import json
import math
import re
import struct
import time
from dataclasses import dataclass
from pathlib import Path

import anyio
import numpy as np
import pytest
from starlette.testclient import TestClient, WebSocketDenialResponse
from starlette.websockets import WebSocketDisconnect

import backprop_lab
from backprop_lab.data import datasets
from backprop_lab.runs.runner import build_model, load_data
from backprop_lab.runs.settings import Settings
from backprop_lab.serve.app import create_app
from backprop_lab.serve.config import ServeConfig

# Only turns a hang into a failure: no test is meant to come near it.
HANG_SECONDS = 20.0

DEFAULTS = {
    "dataset": "circle",
    "classes": 2,
    "points": 5000,
    "noise": 0,
    "test_ratio": 0.2,
    "features": ["x1", "x2"],
    "layers": [{"units": 8, "activation": "relu"}],
    "regularization": "none",
    "reg_rate": 0,
    "optimizer": "sgd",
    "lr": 0.01,
    "batch_size": 32,
    "loss": "auto",
    "speed": 20,
    "seed": 0,
    "weights": 0,
}
DATASETS = ["circle", "xor", "gaussians", "spiral", "moons", "rings", "blobs", "plane", "bump"]
DATASETS.append("ripple")
FEATURES = ["x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1", "sinx2"]
ACTIVATIONS = ["relu", "tanh", "sigmoid", "linear", "leaky_relu"]
OPTIMIZERS = ["sgd", "momentum", "adam", "rmsprop", "adagrad"]
LOSSES = ["auto", "binary_crossentropy", "sparse_categorical_crossentropy", "mse"]
META_KEYS = {
    "seq",
    "run",
    "epoch",
    "batch",
    "steps_per_epoch",
    "iterations",
    "train_loss",
    "test_loss",
    "test_accuracy",
    "train_accuracy",
    "r2",
    "baseline",
    "playing",
    "grid",
    "thumb",
    "extent",
    "weights",
    "encoding",
    "focus",
    "value_range",
    "diverged",
    "neurons",
    "snapshots",
    "snapshot",
    "snapshot_epochs",
}
TEXT_TYPES = {
    "hello",
    "state",
    "data",
    "error",
    "status",
    "busy",
    "diverged",
    "inspection",
    "landscape",
    "export",
}
# What a server file path or a Python traceback would show in a message.
PACKAGE_DIR = str(Path(backprop_lab.__file__).resolve().parent)
LEAKS = re.compile(
    r"Traceback|File \"|site-packages|dist-packages|/work\b|/usr/|/home/|/root/|/tmp/"
    r"|\.py\b|" + re.escape(PACKAGE_DIR)
)


# --------------------------------------------------------------------------- frames


def strict_json(text: str):
    """JSON as a browser's JSON.parse reads it: NaN and Infinity are not JSON."""

    def refuse(name):
        raise AssertionError(f"the server sent {name}, which JSON.parse refuses: {text[:200]}")

    return json.loads(text, parse_constant=refuse)


@dataclass
class Frame:
    """One binary frame, parsed as the protocol's table says."""

    raw: bytes
    meta: dict
    weights: np.ndarray  # float32
    grads: np.ndarray  # float32, as long as weights: the last trained batch's gradient
    change: np.ndarray  # float32, as long as weights: the change since the previous frame
    grid: np.ndarray  # (R, R) uint8
    thumbs: np.ndarray  # (n, r, r) uint8

    @property
    def seq(self) -> int:
        return self.meta["seq"]

    @property
    def body(self) -> bytes:
        """Everything after the meta JSON: weights, gradients, changes, grid and thumbnails."""
        return self.raw[8 + struct.unpack_from("<I", self.raw, 4)[0] :]


def parse_frame(raw: bytes, hidden_units: int | None = None) -> Frame:
    """Parse a frame; assert every size and padding rule of the protocol.

    ``hidden_units`` (the sum of the hidden layers' units) is checked against
    the number of thumbnails when given.
    """
    assert raw[:4] == b"BPLF", f"frame magic {raw[:4]!r}"
    (m,) = struct.unpack_from("<I", raw, 4)
    assert m % 4 == 0, f"meta length {m} is not a multiple of 4"
    text = raw[8 : 8 + m].decode("utf-8")
    assert text == text.rstrip(" ") + " " * (len(text) - len(text.rstrip(" ")))
    meta = strict_json(text)
    assert isinstance(meta, dict)
    assert META_KEYS <= set(meta), f"meta lacks {sorted(META_KEYS - set(meta))}"
    at = 8 + m
    w = meta["weights"]
    weights, grads, change = (
        np.frombuffer(raw, dtype="<f4", count=w, offset=at + 4 * w * k) for k in range(3)
    )
    at += 3 * 4 * w
    R, r = meta["grid"], meta["thumb"]
    grid = np.frombuffer(raw, dtype=np.uint8, count=R * R, offset=at).reshape(R, R)
    at += R * R
    rest = len(raw) - at
    assert r > 0 and rest % (r * r) == 0, f"{rest} bytes of thumbnails for {r}x{r} thumbnails"
    n = rest // (r * r)
    if hidden_units is not None:
        assert n == hidden_units, f"{n} thumbnails for {hidden_units} hidden neurons"
    thumbs = np.frombuffer(raw, dtype=np.uint8, offset=at).reshape(n, r, r)
    neurons = meta["neurons"]
    assert all(isinstance(layer, list) for layer in neurons), f"neurons {neurons}"
    assert all(f in ("", "dead", "saturated") for layer in neurons for f in layer), neurons
    if hidden_units is not None:
        assert sum(len(layer) for layer in neurons) == hidden_units, f"neurons {neurons}"
    assert len(meta["snapshot_epochs"]) == meta["snapshots"]
    assert meta["snapshot"] is None or 0 <= meta["snapshot"] < meta["snapshots"]
    return Frame(raw, meta, weights, grads, change, grid, thumbs)


def layer_weights(frame: Frame, sizes: list[int]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Split the frame's float32 parameters into (W, b) per Dense layer."""
    out, at = [], 0
    for fan_in, units in zip(sizes[:-1], sizes[1:]):
        W = frame.weights[at : at + fan_in * units].reshape(fan_in, units)
        at += fan_in * units
        out.append((W.astype(np.float64), frame.weights[at : at + units].astype(np.float64)))
        at += units
    assert at == len(frame.weights), f"{len(frame.weights)} parameters for layers {sizes}"
    return out


def cell_centres(extent, R: int) -> np.ndarray:
    """The (R*R, 2) cell centres of a grid in frame order: row 0 at the top
    (largest x2), column 0 at the left (smallest x1)."""
    x0, x1, y0, y1 = extent
    xs = x0 + (np.arange(R) + 0.5) * (x1 - x0) / R
    ys = y1 - (np.arange(R) + 0.5) * (y1 - y0) / R
    gx, gy = np.meshgrid(xs, ys)
    return np.column_stack([gx.ravel(), gy.ravel()])


ACT = {
    "relu": lambda z: np.maximum(z, 0.0),
    "tanh": np.tanh,
    "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
    "linear": lambda z: z,
}


def forward(frame: Frame, X: np.ndarray, hidden: list[tuple[int, str]], out: tuple[int, str]):
    """Hidden activations (a list) and the output of the frame's network on ``X``."""
    sizes = [X.shape[1], *(u for u, _ in hidden), out[0]]
    layers = layer_weights(frame, sizes)
    acts, a = [], X
    for (W, b), (_, name) in zip(layers[:-1], hidden):
        a = ACT[name](a @ W + b)
        acts.append(a)
    W, b = layers[-1]
    z = a @ W + b
    if out[1] == "softmax":
        e = np.exp(z - z.max(axis=1, keepdims=True))
        z = e / e.sum(axis=1, keepdims=True)
    elif out[1] == "sigmoid":
        z = 1 / (1 + np.exp(-z))
    return acts, z


def activation_bytes(a: np.ndarray) -> np.ndarray:
    return np.round(255 * (np.clip(a, -1, 1) + 1) / 2)


def assert_bytes_close(got: np.ndarray, want: np.ndarray, what: str) -> None:
    """Bytes equal to one unit (float32 against float64 rounding at .5)."""
    diff = np.abs(got.astype(np.int64).ravel() - np.asarray(want, dtype=np.int64).ravel())
    assert diff.max() <= 1, (
        f"{what}: {np.count_nonzero(diff > 1)} cells differ by up to {diff.max()}"
    )


# --------------------------------------------------------------------------- the client side


def receive(ws, timeout: float = HANG_SECONDS) -> dict:
    """The next ASGI message the server sent, failing (not hanging) after ``timeout`` s."""

    async def get():
        with anyio.fail_after(timeout):
            return await ws._send_rx.receive()

    try:
        return ws.portal.call(get)
    except TimeoutError:
        raise AssertionError(f"the server sent nothing within {timeout} s") from None


@dataclass
class Closed:
    code: int | None
    reason: str | None


def check_text(text: str) -> dict:
    """A text reply is a JSON object of a known type and shows no path or traceback."""
    leak = LEAKS.search(text)
    assert leak is None, f"reply shows {leak.group(0)!r}: {text[:300]}"
    message = strict_json(text)
    assert isinstance(message, dict), text[:200]
    assert message.get("type") in TEXT_TYPES, text[:200]
    if message["type"] in ("error", "status", "busy"):
        assert isinstance(message.get("message"), str), text[:200]
        # The server clears the page's status line with an empty status (after the
        # first settings); the protocol does not say so yet (reported).
        assert message["message"] or message["type"] == "status", text[:200]
        assert "\n" not in message["message"], f"message is not one line: {text[:300]}"
    return message


class Session:
    """One tab: sends messages, parses and checks every reply, acknowledges frames."""

    def __init__(self, ws):
        self.ws = ws
        self.texts: list[dict] = []
        self.frames: list[Frame] = []
        self.hidden_units: int | None = 8
        self.hello: dict | None = None

    def send(self, message: dict) -> None:
        self.ws.send_json(message)

    def next(self, timeout: float = HANG_SECONDS):
        m = receive(self.ws, timeout)
        if m["type"] == "websocket.close":
            return Closed(m.get("code"), m.get("reason"))
        assert m["type"] == "websocket.send", m
        if m.get("bytes") is not None:
            frame = parse_frame(m["bytes"], self.hidden_units)
            self.frames.append(frame)
            return frame
        message = check_text(m["text"])
        self.texts.append(message)
        if message["type"] == "state":
            self.hidden_units = sum(layer["units"] for layer in message["network"]["layers"])
        return message

    def ack(self, frame: Frame) -> None:
        self.send({"type": "ack", "seq": frame.seq})

    def until(self, wanted, ack: bool = True):
        """Receive until ``wanted(message)``; return it and what came before.

        Frames are acknowledged as soon as they are parsed (as the page does
        after drawing), unless ``ack`` is false.
        """
        seen = []
        while True:
            message = self.next()
            if isinstance(message, Closed):
                raise AssertionError(f"socket closed ({message}) after {describe(seen)}")
            if ack and isinstance(message, Frame):
                self.ack(message)
            if wanted(message):
                return message, seen
            seen.append(message)

    def frame(self, wanted=lambda meta: True, ack: bool = True) -> Frame:
        """The next frame whose meta satisfies ``wanted``."""
        frame, _ = self.until(lambda m: isinstance(m, Frame) and wanted(m.meta), ack)
        return frame

    def text(self, kind: str, ack: bool = True) -> dict:
        message, _ = self.until(lambda m: isinstance(m, dict) and m["type"] == kind, ack)
        return message

    def barrier(self, settings: dict | None = None, ack: bool = True):
        """Send a message the server must answer with ``state``; return that state
        and everything that arrived before it.

        Without ``settings`` the message is ``pause`` (which, when paused, changes
        nothing); with them, a ``settings`` message (the server sends a new frame
        after every accepted settings message, changed or not: see
        ``test_settings_that_change_nothing_send_no_frame``).
        """
        if settings is None:
            self.send({"type": "pause"})
        else:
            self.send({"type": "settings", "settings": settings})
        return self.until(lambda m: isinstance(m, dict) and m["type"] == "state", ack)

    def start(self, settings: dict | None = None) -> dict:
        """hello, then the tab's first settings: wait for data, state and a frame."""
        hello = self.next()
        assert isinstance(hello, dict) and hello["type"] == "hello", hello
        self.hello = hello
        self.send({"type": "settings", "settings": settings or {}})
        got = {}
        while not {"data", "state", "frame"} <= set(got):
            message = self.next()
            assert not isinstance(message, Closed), message
            if isinstance(message, Frame):
                assert "state" in got, "a frame came before the state of the first settings"
                got.setdefault("frame", message)
                self.ack(message)
            else:
                assert message["type"] not in ("error", "busy"), message
                got[message["type"]] = message
        return got


def describe(messages) -> str:
    return ", ".join(
        f"frame {m.seq}" if isinstance(m, Frame) else m.get("type", "?")
        for m in messages[-10:]
        if not isinstance(m, Closed)
    )


def no_frames(messages) -> bool:
    return not any(isinstance(m, Frame) for m in messages)


def errors(messages) -> list[dict]:
    return [m for m in messages if isinstance(m, dict) and m["type"] == "error"]


def api_run(seed: int, lr: float, epochs: int, **changes):
    """The Python API's run for the same settings: (data, trained model)."""
    settings = Settings(seed=seed, lr=lr, **changes).validate()
    data = load_data(settings)
    model = build_model(settings, 2, 2)
    if epochs:
        model.fit(data.X_train, data.y_train, epochs=epochs, batch_size=32, verbose=0)
    return data, model


# --------------------------------------------------------------------------- HTTP


def test_healthz_answers_200_with_the_session_count(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"
    assert wait_for_sessions(client, 0) == 0
    with client.websocket_connect("/ws") as ws:
        Session(ws).start()
        assert client.get("/healthz").json()["sessions"] == 1


def test_the_page_and_its_static_files_are_served(client):
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "<html" in page.text.lower()
    index = client.get("/static/index.html")
    assert index.status_code == 200
    assert index.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize(
    "path",
    [
        "/static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/pyproject.toml",
        "/static/..%2f..%2f..%2f..%2fpyproject.toml",
        "/static/%2e%2e/app.py",
        "/static/%2e%2e/config.py",
        "/static/%2e%2e%2fapp.py",
        "/static//etc/passwd",
    ],
)
def test_static_files_never_leave_the_static_folder(client, path):
    r = client.get(path)
    assert r.status_code in (400, 403, 404), (r.status_code, r.text[:200])
    assert "[project]" not in r.text and "import " not in r.text and "root:" not in r.text


# --------------------------------------------------------------------------- hello, data, state


def test_hello_gives_version_defaults_limits_and_choices(tab):
    hello = tab.next()
    assert hello["type"] == "hello"
    assert hello["version"] == 1
    assert hello["defaults"] == DEFAULTS
    limits = hello["limits"]
    assert limits["max_layers"] == 6
    assert limits["max_units"] == 16
    assert limits["max_points"] == 20000
    assert limits["min_points"] == 10
    assert limits["max_message_bytes"] == 65536
    choices = {k: sorted(v) for k, v in hello["choices"].items()}
    assert choices["dataset"] == sorted(DATASETS)
    assert choices["optimizer"] == sorted(OPTIMIZERS)
    assert choices["regularization"] == sorted(["none", "l1", "l2"])
    assert choices["loss"] == sorted(LOSSES)
    # Names of the lists-of-text settings are not fixed by the protocol; their values are.
    assert sorted(FEATURES) in choices.values()
    assert sorted(ACTIVATIONS) in choices.values()


def test_first_settings_give_the_articles_data_state_and_frame(tab):
    got = tab.start(dict(DEFAULTS))
    data, state, frame = got["data"], got["state"], got["frame"]

    assert data["task"] == "classification"
    assert data["classes"] == 2
    assert data["value_range"] is None
    train, test = np.array(data["train"], float), np.array(data["test"], float)
    assert train.shape == (4000, 3) and test.shape == (1000, 3)
    # The same points, split and labels as `backprop-lab train --seed 0`.
    d = load_data(Settings(seed=0).validate())
    np.testing.assert_allclose(train[:, :2], d.X_train, atol=5e-4)
    np.testing.assert_allclose(test[:, :2], d.X_test, atol=5e-4)
    np.testing.assert_array_equal(train[:, 2], d.y_train)
    np.testing.assert_array_equal(test[:, 2], d.y_test)
    x0, x1, y0, y1 = data["extent"]
    assert x0 < x1 and y0 < y1
    points = np.vstack([train, test])
    assert (points[:, 0] >= x0).all() and (points[:, 0] <= x1).all()
    assert (points[:, 1] >= y0).all() and (points[:, 1] <= y1).all()

    assert state["settings"] == DEFAULTS
    assert state["playing"] is False
    assert isinstance(state["run"], int)
    assert state["engine"] == "compiled"
    assert state["network"] == {
        "inputs": ["x1", "x2"],
        "layers": [{"units": 8, "activation": "relu"}],
        "output": {"units": 1, "activation": "sigmoid"},
    }
    assert state["loss"] == "binary_crossentropy"
    majority = np.bincount(d.y_test).max() / len(d.y_test)
    assert state["baseline"] == pytest.approx(majority, abs=1e-12)

    meta = frame.meta
    assert meta["weights"] == 33 and len(frame.weights) == 33
    assert meta["encoding"] == "p1" and meta["focus"] is None and meta["value_range"] is None
    assert meta["epoch"] == 0 and meta["batch"] == 0 and meta["iterations"] == 0
    assert meta["steps_per_epoch"] == 125
    assert meta["run"] == state["run"]
    assert meta["playing"] is False and meta["diverged"] is False
    assert meta["extent"] == data["extent"]
    assert meta["baseline"] == pytest.approx(majority, abs=1e-12)
    assert frame.thumbs.shape[0] == 8
    assert len(frame.raw) <= 20_000, f"the article's frame is {len(frame.raw)} bytes"


def test_truth_is_the_circle_rule_on_the_frame_grid(tab):
    got = tab.start()
    truth, meta = got["data"]["truth"], got["frame"].meta
    R = meta["grid"]
    assert isinstance(truth, str) and len(truth) == R * R and set(truth) <= {"0", "1"}
    want = datasets.true_labels("circle", cell_centres(meta["extent"], R))
    got_truth = np.frombuffer(truth.encode(), np.uint8) - ord("0")
    mismatch = np.count_nonzero(got_truth != want)
    assert mismatch <= R // 10, f"{mismatch} of {R * R} truth cells differ from the circle rule"


def test_the_untrained_frame_is_the_networks_output_on_the_grid(tab):
    frame = tab.start()["frame"]
    meta = frame.meta
    X = cell_centres(meta["extent"], meta["grid"])
    acts, p = forward(frame, X, [(8, "relu")], (1, "sigmoid"))
    assert_bytes_close(frame.grid, np.round(255 * p[:, 0]), "p1 grid")
    Xt = cell_centres(meta["extent"], meta["thumb"])
    acts, _ = forward(frame, Xt, [(8, "relu")], (1, "sigmoid"))
    for j in range(8):
        assert_bytes_close(frame.thumbs[j], activation_bytes(acts[0][:, j]), f"thumbnail {j}")
    # The weights are the Python API's initial weights for the same seed.
    _, model = api_run(0, 0.01, 0)
    want = np.concatenate([w.ravel() for w in model.get_weights()])
    np.testing.assert_allclose(frame.weights, want, rtol=1e-6, atol=1e-7)


def test_data_follows_points_ratio_and_noise(tab):
    tab.start()
    tab.send({"type": "settings", "settings": {"points": 100, "test_ratio": 0.25, "noise": 0.1}})
    data = tab.text("data")
    d = load_data(Settings(seed=0, samples=100, test_size=0.25, noise=0.1).validate())
    assert len(data["train"]) == len(d.X_train) and len(data["test"]) == len(d.X_test)
    np.testing.assert_allclose(np.array(data["train"])[:, :2], d.X_train, atol=5e-4)
    state = tab.text("state")
    assert state["settings"] == {**DEFAULTS, "points": 100, "test_ratio": 0.25, "noise": 0.1}


# --------------------------------------------------------------------------- frames in flight


def test_one_frame_in_flight_and_seq_rises_by_one_per_ack(tab):
    tab.start({"speed": 5000})
    tab.send({"type": "play"})
    state = tab.text("state")
    assert state["playing"] is True
    held = tab.frame(lambda meta: meta["playing"], ack=False)
    # Training goes on; without an ack no frame may come. Each barrier's state
    # comes after anything the server sent before it.
    for _ in range(3):
        time.sleep(0.1)
        _, before = tab.barrier({"speed": 5000}, ack=False)
        assert no_frames(before), f"a frame came before ack {held.seq}: {describe(before)}"
    tab.ack(held)
    after = tab.frame(ack=False)
    assert after.seq == held.seq + 1
    assert after.meta["iterations"] > held.meta["iterations"]
    previous = after
    for _ in range(10):
        tab.ack(previous)
        frame = tab.frame(ack=False)
        assert frame.seq == previous.seq + 1
        assert frame.meta["iterations"] >= previous.meta["iterations"]
        previous = frame
    assert previous.meta["epoch"] > held.meta["epoch"]


def settle(tab: Session, quiet: float = 0.25) -> Frame:
    """After a pause: let the frames that show its last steps arrive (frames are
    made on the server's own clock, after the pause's state), then check that no
    further frame comes; return the last frame.

    "Arrived" means a barrier round ``quiet`` s long brought no frame; the check
    is then three more such rounds with no frame, all acknowledged.
    """
    for _ in range(40):
        time.sleep(quiet)
        _, before = tab.barrier()
        if no_frames(before):
            break
    last = tab.frames[-1]
    for _ in range(3):
        time.sleep(quiet)
        _, before = tab.barrier()
        assert no_frames(before), f"frames after {last.seq} while paused: {describe(before)}"
    return last


def test_no_frame_when_nothing_changed(tab):
    tab.start({"speed": 5000})
    tab.send({"type": "play"})
    tab.frame(lambda meta: meta["epoch"] >= 1)
    tab.send({"type": "pause"})
    assert tab.text("state")["playing"] is False
    settle(tab)


def test_settings_that_change_nothing_send_no_frame(tab):
    tab.start()
    first = settle(tab)
    tab.send({"type": "settings", "settings": {"lr": DEFAULTS["lr"]}})
    state = tab.text("state")
    assert state["settings"] == DEFAULTS
    last = settle(tab)
    assert last is first, f"frame {last.seq} came though nothing changed"
    assert last.body == first.body


def test_the_frame_after_a_pause_says_paused(tab):
    """meta.playing is part of the frame, so pausing changes it: the page must
    not keep showing a frame that says training runs."""
    tab.start({"speed": 5000})
    tab.send({"type": "play"})
    tab.frame(lambda meta: meta["epoch"] >= 1)
    tab.send({"type": "pause"})
    assert tab.text("state")["playing"] is False
    settle(tab)
    assert tab.frames[-1].meta["playing"] is False, "the newest frame still says playing"


def test_play_trains_and_pause_stops(tab):
    tab.start({"speed": 5000})
    tab.send({"type": "play"})
    assert tab.text("state")["playing"] is True
    frame = tab.frame(lambda meta: meta["epoch"] >= 3)
    assert frame.meta["playing"] is True
    assert frame.meta["iterations"] == 125 * frame.meta["epoch"] + frame.meta["batch"]
    tab.send({"type": "pause"})
    assert tab.text("state")["playing"] is False
    stopped = settle(tab)
    tab.send({"type": "step", "unit": "batch"})
    stepped = tab.frame()
    assert stepped.meta["iterations"] == stopped.meta["iterations"] + 1


# --------------------------------------------------------------------------- the engine's numbers


def test_three_epochs_equal_the_python_api(tab):
    tab.start({"seed": 3, "lr": 0.1})
    for k in (1, 2, 3):
        tab.send({"type": "step", "unit": "epoch"})
        state = tab.text("state")
        assert state["playing"] is False
        frame = tab.frame(lambda meta, k=k: meta["epoch"] == k)
    meta = frame.meta
    assert (meta["batch"], meta["iterations"]) == (0, 375)
    data, model = api_run(3, 0.1, 3)
    test_loss, test_acc = model.evaluate(data.X_test, data.y_test, verbose=0)
    train_loss, train_acc = model.evaluate(data.X_train, data.y_train, verbose=0)
    assert meta["test_loss"] == pytest.approx(test_loss, abs=1e-9)
    assert meta["test_accuracy"] == pytest.approx(test_acc, abs=1e-9)
    assert meta["train_loss"] == pytest.approx(train_loss, abs=1e-9)
    assert meta["train_accuracy"] == pytest.approx(train_acc, abs=1e-9)
    want = np.concatenate([w.ravel() for w in model.get_weights()])
    np.testing.assert_allclose(frame.weights, want, rtol=1e-6, atol=1e-7)
    X = cell_centres(meta["extent"], meta["grid"])
    assert_bytes_close(frame.grid, np.round(255 * model.predict(X, verbose=0)[:, 0]), "grid")


def test_125_batches_equal_one_epoch(client):
    with client.websocket_connect("/ws") as wa, client.websocket_connect("/ws") as wb:
        a, b = Session(wa), Session(wb)
        a.start({"seed": 3, "lr": 0.1})
        b.start({"seed": 3, "lr": 0.1})
        a.send({"type": "step", "unit": "batch"})
        one = a.frame(lambda meta: meta["iterations"] == 1)
        assert (one.meta["epoch"], one.meta["batch"]) == (0, 1)
        for _ in range(124):
            a.send({"type": "step", "unit": "batch"})
        by_batch = a.frame(lambda meta: meta["iterations"] == 125)
        b.send({"type": "step", "unit": "epoch"})
        by_epoch = b.frame(lambda meta: meta["iterations"] == 125)
    for frame in (by_batch, by_epoch):
        assert (frame.meta["epoch"], frame.meta["batch"]) == (1, 0)
    for key in ("train_loss", "test_loss", "test_accuracy", "train_accuracy"):
        assert by_batch.meta[key] == pytest.approx(by_epoch.meta[key], abs=1e-9), key
    np.testing.assert_allclose(by_batch.weights, by_epoch.weights, rtol=1e-6, atol=1e-7)


def test_step_epoch_finishes_the_current_epoch(tab):
    tab.start({"seed": 3, "lr": 0.1})
    tab.send({"type": "step", "unit": "batch"})
    tab.frame(lambda meta: meta["iterations"] == 1)
    tab.send({"type": "step", "unit": "epoch"})
    frame = tab.frame(lambda meta: meta["iterations"] > 1)
    assert (frame.meta["epoch"], frame.meta["batch"], frame.meta["iterations"]) == (1, 0, 125)


def test_reset_returns_to_the_initial_weights(tab):
    got = tab.start({"seed": 7, "lr": 0.5})
    first = got["frame"]
    tab.send({"type": "step", "unit": "epoch"})
    trained = tab.frame(lambda meta: meta["epoch"] == 1)
    assert not np.array_equal(trained.weights, first.weights)
    tab.send({"type": "reset"})
    state = tab.text("state")
    assert state["playing"] is False and state["run"] > got["state"]["run"]
    again = tab.frame(lambda meta: meta["iterations"] == 0)
    assert again.meta["run"] == state["run"]
    assert again.body == first.body
    for key in ("train_loss", "test_loss", "test_accuracy"):
        assert again.meta[key] == first.meta[key]


def test_a_rebuilt_network_starts_from_the_same_weights(tab):
    got = tab.start({"seed": 5})
    first = got["frame"]
    tab.send({"type": "step", "unit": "epoch"})
    tab.frame(lambda meta: meta["epoch"] == 1)
    tab.send({"type": "settings", "settings": {"layers": [{"units": 4, "activation": "tanh"}]}})
    assert tab.text("state")["run"] > got["state"]["run"]
    tab.frame(lambda meta: meta["weights"] == 2 * 4 + 4 + 4 + 1)
    tab.send({"type": "settings", "settings": {"layers": DEFAULTS["layers"]}})
    back = tab.frame(lambda meta: meta["weights"] == 33)
    assert back.meta["iterations"] == 0
    assert back.body == first.body


def test_a_new_optimizer_keeps_the_weights(tab):
    got = tab.start({"seed": 5, "lr": 0.1})
    tab.send({"type": "step", "unit": "epoch"})
    trained = tab.frame(lambda meta: meta["epoch"] == 1)
    tab.send({"type": "settings", "settings": {"optimizer": "adam", "lr": 0.001}})
    state = tab.text("state")
    assert state["settings"]["optimizer"] == "adam" and state["settings"]["lr"] == 0.001
    assert state["run"] == got["state"]["run"]
    tab.send({"type": "step", "unit": "batch"})
    stepped = tab.frame(lambda meta: meta["iterations"] > trained.meta["iterations"])
    assert stepped.meta["run"] == trained.meta["run"]
    # One Adam step from the trained weights moves each weight by about lr at most.
    assert np.abs(stepped.weights - trained.weights).max() <= 0.0011


def test_two_sessions_with_the_same_settings_send_the_same_frames(client):
    actions = [
        {"type": "step", "unit": "epoch"},
        {"type": "step", "unit": "batch"},
        {"type": "step", "unit": "batch"},
        {"type": "focus", "neuron": [0, 2]},
        {"type": "step", "unit": "epoch"},
    ]
    frames = []
    for _ in range(2):
        with client.websocket_connect("/ws") as ws:
            tab = Session(ws)
            seen = [tab.start({"seed": 11, "lr": 0.3, "optimizer": "adam"})["frame"]]
            for action in actions:
                before = (seen[-1].meta["iterations"], seen[-1].meta["focus"])
                tab.send(action)
                seen.append(tab.frame(lambda m, b=before: (m["iterations"], m["focus"]) != b))
            frames.append(seen)
    for a, b in zip(*frames):
        assert a.body == b.body
        assert {**a.meta, "seq": 0} == {**b.meta, "seq": 0}
        assert a.raw == b.raw, "same actions, same meta but different seq numbering"


def test_step_while_playing_pauses(tab):
    tab.start({"speed": 5000})
    tab.send({"type": "play"})
    assert tab.text("state")["playing"] is True
    tab.frame(lambda meta: meta["iterations"] > 0)
    tab.send({"type": "step", "unit": "batch"})
    assert tab.text("state")["playing"] is False
    settle(tab)


def test_features_are_the_networks_inputs(tab):
    got = tab.start({"features": ["x1", "x2", "x1x2", "sinx1"]})
    network = got["state"]["network"]
    assert network["inputs"] == ["x1", "x2", "x1x2", "sinx1"]
    assert got["frame"].meta["weights"] == 4 * 8 + 8 + 8 + 1
    tab.send({"type": "settings", "settings": {"features": ["x1x2"], "layers": []}})
    state = tab.text("state")
    assert state["network"]["inputs"] == ["x1x2"] and state["network"]["layers"] == []
    frame = tab.frame(lambda meta: meta["weights"] == 2)
    assert frame.thumbs.shape[0] == 0
    # No hidden layer: p = sigmoid(w * x1 * x2 + b) on the grid.
    w, b = frame.weights.astype(np.float64)
    X = cell_centres(frame.meta["extent"], frame.meta["grid"])
    p = 1 / (1 + np.exp(-(w * X[:, 0] * X[:, 1] + b)))
    assert_bytes_close(frame.grid, np.round(255 * p), "grid of x1*x2")


def test_a_diverging_run_pauses_and_says_so(tab):
    deep_linear = [{"units": 16, "activation": "linear"}] * 3
    tab.start({"dataset": "plane", "lr": 10, "speed": 5000, "layers": deep_linear})
    tab.send({"type": "play"})
    status, _ = tab.until(lambda m: isinstance(m, dict) and m["type"] == "status" and m["message"])
    assert "diverged" in status["message"].lower()
    frame = tab.frame(lambda meta: meta["diverged"])
    assert frame.meta["playing"] is False
    for key in ("train_loss", "test_loss", "r2"):
        assert frame.meta[key] is None or math.isfinite(frame.meta[key])
    state, _ = tab.barrier()
    assert state["playing"] is False


# --------------------------------------------------------------------------- problems and focus


def test_multiclass_frames_use_the_class_encoding(tab):
    got = tab.start({"dataset": "spiral", "classes": 3})
    data, state, frame = got["data"], got["state"], got["frame"]
    assert data["task"] == "classification" and data["classes"] == 3
    assert data["truth"] is None and data["value_range"] is None
    assert {int(p[2]) for p in data["train"]} == {0, 1, 2}
    assert state["network"]["output"] == {"units": 3, "activation": "softmax"}
    assert state["loss"] == "sparse_categorical_crossentropy"
    meta = frame.meta
    assert meta["encoding"] == "class" and meta["weights"] == 2 * 8 + 8 + 8 * 3 + 3
    X = cell_centres(meta["extent"], meta["grid"])
    _, p = forward(frame, X, [(8, "relu")], (3, "softmax"))
    cls = frame.grid.ravel() // 32
    assert set(np.unique(cls)) <= {0, 1, 2}
    agree = cls == p.argmax(axis=1)
    assert np.count_nonzero(~agree) <= X.shape[0] // 200, "winning classes differ"
    want = 32 * p.argmax(axis=1) + np.round(31 * p.max(axis=1))
    assert_bytes_close(frame.grid.ravel()[agree], want[agree], "class grid")


def test_regression_frames_use_the_value_encoding(tab):
    got = tab.start({"dataset": "plane"})
    data, state, frame = got["data"], got["state"], got["frame"]
    assert data["task"] == "regression"
    assert data["truth"] is None
    lo, hi = data["value_range"]
    targets = np.array([p[2] for p in data["train"] + data["test"]])
    # The points travel rounded (see the data test's tolerance).
    assert lo < hi and targets.min() >= lo - 5e-4 and targets.max() <= hi + 5e-4
    # The setting's name is "mse"; the state says "mean_squared_error" (reported).
    assert state["loss"] in ("mse", "mean_squared_error") and state["baseline"] == 0
    assert state["network"]["output"] == {"units": 1, "activation": "linear"}
    meta = frame.meta
    assert meta["encoding"] == "value" and meta["value_range"] == [lo, hi]
    assert isinstance(meta["r2"], float) and math.isfinite(meta["r2"])
    X = cell_centres(meta["extent"], meta["grid"])
    _, v = forward(frame, X, [(8, "relu")], (1, "linear"))
    want = np.round(255 * (np.clip(v[:, 0], lo, hi) - lo) / (hi - lo))
    assert_bytes_close(frame.grid, want, "value grid")


def test_a_loss_that_does_not_fit_the_problem_is_refused(tab):
    tab.start({"dataset": "plane"})
    tab.send({"type": "settings", "settings": {"loss": "binary_crossentropy"}})
    error = tab.text("error")
    assert error.get("field") == "loss"
    state, before = tab.barrier()
    assert state["settings"]["loss"] == "auto" and not errors(before)


def test_focus_shows_a_hidden_neuron_and_null_goes_back(tab):
    tab.start({"seed": 2})
    tab.send({"type": "focus", "neuron": [0, 3]})
    frame = tab.frame(lambda meta: meta["focus"] is not None)
    meta = frame.meta
    assert meta["focus"] == [0, 3] and meta["encoding"] == "activation"
    X = cell_centres(meta["extent"], meta["grid"])
    acts, _ = forward(frame, X, [(8, "relu")], (1, "sigmoid"))
    assert_bytes_close(frame.grid, activation_bytes(acts[0][:, 3]), "focused grid")
    tab.send({"type": "focus", "neuron": None})
    back = tab.frame(lambda meta: meta["focus"] is None)
    assert back.meta["encoding"] == "p1"


@pytest.mark.parametrize("neuron", [[0, 8], [1, 0], [-1, 0], [0], [0, 1, 2], "0,1", [0.5, 1]])
def test_focus_on_a_neuron_that_does_not_exist_is_an_error(tab, neuron):
    tab.start()
    tab.send({"type": "focus", "neuron": neuron})
    error = tab.text("error")
    assert error["message"]
    state, before = tab.barrier()
    assert not errors(before) and no_frames(before)


# --------------------------------------------------------------------------- invalid messages

LONG = '{"type": "settings", "settings": {"lr": 0.5}, "pad": "' + "x" * 100_000 + '"}'
BAD = [
    # (id, how to send, payload, field, a word the message must hold)
    ("not-json", "text", "this is not json", None, None),
    ("truncated-json", "text", '{"type": "settings", "settings": {"lr": 0.', None, None),
    ("json-array", "text", '["settings", {"lr": 0.5}]', None, None),
    ("json-number", "text", "42", None, None),
    ("json-null", "text", "null", None, None),
    ("no-type", "json", {"settings": {"lr": 0.5}}, None, "type"),
    ("unknown-type", "json", {"type": "launch"}, None, "launch"),
    ("type-not-text", "json", {"type": 3}, None, "type"),
    ("settings-not-object", "json", {"type": "settings", "settings": [1, 2]}, None, None),
    ("settings-missing", "json", {"type": "settings"}, None, "settings"),
    ("lr-negative", "json", {"type": "settings", "settings": {"lr": -1}}, "lr", "lr"),
    ("lr-text", "json", {"type": "settings", "settings": {"lr": "x"}}, "lr", "lr"),
    ("lr-too-big", "json", {"type": "settings", "settings": {"lr": 1e300}}, "lr", "lr"),
    ("lr-too-small", "json", {"type": "settings", "settings": {"lr": 1e-9}}, "lr", "lr"),
    ("lr-nan", "text", '{"type":"settings","settings":{"lr":NaN}}', None, None),
    ("lr-infinity", "text", '{"type":"settings","settings":{"lr":Infinity}}', None, None),
    ("lr-bool", "json", {"type": "settings", "settings": {"lr": True}}, "lr", "lr"),
    (
        "seven-layers",
        "json",
        {"type": "settings", "settings": {"layers": [{"units": 2, "activation": "relu"}] * 7}},
        "layers",
        "6",
    ),
    (
        "units-17",
        "json",
        {"type": "settings", "settings": {"layers": [{"units": 17, "activation": "relu"}]}},
        "layers",
        "16",
    ),
    (
        "units-0",
        "json",
        {"type": "settings", "settings": {"layers": [{"units": 0, "activation": "relu"}]}},
        "layers",
        None,
    ),
    (
        "activation-unknown",
        "json",
        {"type": "settings", "settings": {"layers": [{"units": 4, "activation": "swish"}]}},
        "layers",
        "swish",
    ),
    (
        "layer-missing-activation",
        "json",
        {"type": "settings", "settings": {"layers": [{"units": 4}]}},
        "layers",
        None,
    ),
    ("layers-not-list", "json", {"type": "settings", "settings": {"layers": 3}}, "layers", None),
    ("points-huge", "json", {"type": "settings", "settings": {"points": 10**9}}, "points", "20000"),
    ("points-few", "json", {"type": "settings", "settings": {"points": 9}}, "points", "10"),
    ("points-float", "json", {"type": "settings", "settings": {"points": 100.5}}, "points", None),
    ("points-bool", "json", {"type": "settings", "settings": {"points": True}}, "points", None),
    (
        "points-4301-digits",
        "text",
        '{"type":"settings","settings":{"points":' + "9" * 4301 + "}}",
        None,
        None,
    ),
    (
        "dataset-path",
        "json",
        {"type": "settings", "settings": {"dataset": "../etc/passwd"}},
        "dataset",
        "dataset",
    ),
    (
        "dataset-csv",
        "json",
        {"type": "settings", "settings": {"dataset": "csv:pyproject.toml"}},
        "dataset",
        "dataset",
    ),
    ("classes-circle", "json", {"type": "settings", "settings": {"classes": 3}}, "classes", None),
    ("noise-big", "json", {"type": "settings", "settings": {"noise": 1.5}}, "noise", "noise"),
    (
        "ratio-small",
        "json",
        {"type": "settings", "settings": {"test_ratio": 0.01}},
        "test_ratio",
        None,
    ),
    (
        "features-empty",
        "json",
        {"type": "settings", "settings": {"features": []}},
        "features",
        None,
    ),
    (
        "features-repeat",
        "json",
        {"type": "settings", "settings": {"features": ["x1", "x1"]}},
        "features",
        None,
    ),
    (
        "features-unknown",
        "json",
        {"type": "settings", "settings": {"features": ["x3"]}},
        "features",
        None,
    ),
    (
        "reg-unknown",
        "json",
        {"type": "settings", "settings": {"regularization": "l3"}},
        "regularization",
        None,
    ),
    ("reg-rate-big", "json", {"type": "settings", "settings": {"reg_rate": 11}}, "reg_rate", None),
    (
        "optimizer-unknown",
        "json",
        {"type": "settings", "settings": {"optimizer": "nadam"}},
        "optimizer",
        "nadam",
    ),
    ("batch-zero", "json", {"type": "settings", "settings": {"batch_size": 0}}, "batch_size", None),
    (
        "batch-huge",
        "json",
        {"type": "settings", "settings": {"batch_size": 20001}},
        "batch_size",
        None,
    ),
    ("loss-unknown", "json", {"type": "settings", "settings": {"loss": "hinge"}}, "loss", None),
    ("speed-zero", "json", {"type": "settings", "settings": {"speed": 0}}, "speed", None),
    ("seed-negative", "json", {"type": "settings", "settings": {"seed": -1}}, "seed", None),
    ("seed-2**32", "json", {"type": "settings", "settings": {"seed": 2**32}}, "seed", None),
    ("seed-float", "json", {"type": "settings", "settings": {"seed": 1.5}}, "seed", None),
    (
        "unknown-setting",
        "json",
        {"type": "settings", "settings": {"momentum": 0.9}},
        None,
        "momentum",
    ),
    (
        "one-bad-of-two",
        "json",
        {"type": "settings", "settings": {"lr": 0.5, "points": 10**9}},
        "points",
        "points",
    ),
    ("step-unit", "json", {"type": "step", "unit": "year"}, None, None),
    ("step-no-unit", "json", {"type": "step"}, None, None),
    ("ack-text", "json", {"type": "ack", "seq": "x"}, None, None),
    ("focus-missing", "json", {"type": "focus"}, None, None),
    ("binary", "bytes", b"\x00\x01BPLF\xff", None, None),
    ("empty-binary", "bytes", b"", None, None),
    ("text-100KB", "text", LONG, None, None),
]


@pytest.mark.parametrize(
    "how, payload, field, word", [case[1:] for case in BAD], ids=[case[0] for case in BAD]
)
def test_an_invalid_message_gets_one_error_and_changes_nothing(tab, how, payload, field, word):
    got = tab.start()
    before = got["state"]
    if how == "json":
        tab.send(payload)
    elif how == "text":
        tab.ws.send_text(payload)
    else:
        tab.ws.send_bytes(payload)
    reply = tab.next()
    assert isinstance(reply, dict) and reply["type"] == "error", reply
    if field is not None:
        assert reply.get("field") == field, reply
        # "layer 1 must have 1 to 16 units" names the layers setting well enough.
        name = field.replace("_", " ").rstrip("s")
        assert field in reply["message"] or name in reply["message"], reply
    if word is not None:
        assert word in reply["message"], reply
    if payload == LONG:
        assert "65536" in reply["message"] or "64" in reply["message"], reply
    if "NaN" in str(payload) or "Infinity" in str(payload):
        words = ("lr", "nan", "infinity", "finite", "number")
        assert any(w in reply["message"].lower() for w in words), reply
    state, between = tab.barrier()
    assert between == [], f"after the error: {describe(between)}"
    assert state["settings"] == before["settings"]
    assert state["run"] == before["run"]
    assert state["playing"] is False


# --------------------------------------------------------------------------- origin, busy, limits


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "http://evil.example"},
        {"origin": "null"},
        {"origin": "http://testserver.evil.example"},
        {"origin": "https://testserver:8443"},
        {"host": "localhost:8000", "origin": "http://localhost:8001"},
    ],
)
def test_a_websocket_from_another_origin_is_refused(client, headers):
    with pytest.raises(WebSocketDisconnect) as refused:
        with client.websocket_connect("/ws", headers=headers) as ws:
            receive(ws)
    if isinstance(refused.value, WebSocketDenialResponse):
        assert refused.value.status_code == 403
    else:
        assert refused.value.code == 1008
    assert wait_for_sessions(client, 0) == 0


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"origin": "http://testserver"},
        {"host": "localhost:8000", "origin": "http://localhost:8000"},
        {"host": "localhost:8000", "origin": "http://127.0.0.1:8000"},
        {"host": "127.0.0.1:8000", "origin": "http://localhost:8000"},
    ],
)
def test_a_websocket_from_the_same_origin_or_none_is_accepted(client, headers):
    with client.websocket_connect("/ws", headers=headers) as ws:
        assert Session(ws).start()["state"]["settings"] == DEFAULTS


def test_beyond_max_sessions_a_tab_is_told_busy_and_the_others_go_on():
    with TestClient(create_app(ServeConfig(max_sessions=2))) as client:
        with client.websocket_connect("/ws") as w1, client.websocket_connect("/ws") as w2:
            tabs = [Session(w1), Session(w2)]
            for tab in tabs:
                tab.start()
            assert client.get("/healthz").json()["sessions"] == 2
            with client.websocket_connect("/ws") as w3:
                third = Session(w3)
                seen = []
                while not isinstance(message := third.next(), Closed):
                    seen.append(message)
                assert [m["type"] for m in seen if m["type"] != "hello"] == ["busy"], seen
                assert "busy" in seen[-1]["message"].lower()
                assert message.code == 1013
            for tab in tabs:
                tab.send({"type": "step", "unit": "epoch"})
                assert tab.frame(lambda meta: meta["epoch"] == 1).meta["iterations"] == 125
            assert client.get("/healthz").json()["sessions"] == 2
        # The slots are free again.
        with client.websocket_connect("/ws") as w4:
            assert Session(w4).start()["state"]["settings"] == DEFAULTS


def wait_for_sessions(client, n: int) -> int:
    """The session count once it is ``n`` (or whatever it is after the hang guard)."""
    deadline = time.monotonic() + HANG_SECONDS
    while (count := client.get("/healthz").json()["sessions"]) != n:
        if time.monotonic() > deadline:
            break
        time.sleep(0.02)
    return count


def test_an_idle_session_is_reaped():
    with TestClient(create_app(ServeConfig(idle_timeout=0.5))) as client:
        with client.websocket_connect("/ws") as ws:
            tab = Session(ws)
            tab.start()
            assert client.get("/healthz").json()["sessions"] == 1
            seen = []
            while not isinstance(message := tab.next(), Closed):
                seen.append(message)
            assert no_frames(seen) and not errors(seen), describe(seen)
        assert wait_for_sessions(client, 0) == 0
        assert client.get("/healthz").status_code == 200


def test_a_session_past_its_cpu_limit_is_refused_everything_but_acks():
    app = create_app(ServeConfig(cpu_limit=0.05))
    with TestClient(app) as client, client.websocket_connect("/ws") as ws:
        tab = Session(ws)
        assert tab.next()["type"] == "hello"
        # Making 20,000 points may use up the limit already: then no frame comes,
        # and play is refused; else play trains until the pump stops it.
        tab.send({"type": "settings", "settings": {"speed": 5000, "points": 20000}})
        tab.send({"type": "play"})
        notice, _ = tab.until(lambda m: isinstance(m, dict) and m["type"] == "error")
        assert "cpu" in notice["message"].lower(), notice
        (connection,) = app.state.hub.connections
        used = connection.session.cpu_seconds
        for message in (
            {"type": "settings", "settings": {"seed": 7}},
            {"type": "play"},
            {"type": "step", "unit": "epoch"},
            {"type": "reset"},
            {"type": "focus", "neuron": [0, 0]},
        ):
            tab.send(message)
            reply, between = tab.until(lambda m: isinstance(m, dict) and m["type"] == "error")
            assert "cpu" in reply["message"].lower(), reply
            # At most the state of the stop itself came first: nothing applied.
            for m in between:
                assert isinstance(m, Frame) or m["type"] == "state", m
                assert isinstance(m, Frame) or not m["playing"] and m["settings"]["seed"] == 0
        assert connection.session.cpu_seconds == used  # none of them ran
        assert not connection.session.playing
        assert client.get("/healthz").status_code == 200


def test_no_reply_names_a_server_path(tab):
    """Every text reply is already checked by ``check_text``; this test makes sure
    the checks ran on a variety of replies, errors included."""
    tab.start()
    for bad in ('{"type":"settings","settings":{"dataset":"csv:/etc/passwd"}}', "{", "[]"):
        tab.ws.send_text(bad)
        tab.text("error")
    tab.send({"type": "step", "unit": "epoch"})
    tab.frame(lambda meta: meta["epoch"] == 1)
    kinds = {m["type"] for m in tab.texts}
    assert {"hello", "data", "state", "error"} <= kinds
    for message in tab.texts:
        assert LEAKS.search(json.dumps(message)) is None


# --------------------------------------------------------------------------- a real server


def test_a_real_server_refuses_other_origins_and_survives_a_huge_message():
    """Over uvicorn (not the test client): the handshake of another origin gets
    HTTP 403; a 10 MB message gets an error or closes only its own socket."""
    import urllib.request

    from websockets.exceptions import ConnectionClosed, InvalidStatus
    from websockets.sync.client import connect

    from backprop_lab.serve.server import serve_in_background

    def recv_json(ws):
        while isinstance(data := ws.recv(timeout=HANG_SECONDS), bytes):
            ws.send(json.dumps({"type": "ack", "seq": parse_frame(data).seq}))
        return check_text(data)

    with serve_in_background() as url:
        ws_url = url.replace("http", "ws", 1) + "/ws"
        with pytest.raises(InvalidStatus) as refused:
            connect(ws_url, origin="http://evil.example", proxy=None)
        assert refused.value.response.status_code == 403
        with connect(ws_url, origin=url, proxy=None) as other:
            assert recv_json(other)["type"] == "hello"
            with connect(ws_url, origin=url.replace("127.0.0.1", "localhost"), proxy=None) as ws:
                assert recv_json(ws)["type"] == "hello"
                ws.send('{"type": "pause", "pad": "' + "p" * 100_000 + '"}')
                assert recv_json(ws)["type"] == "error"
                try:
                    ws.send(bytes(10_000_000))
                    reply = recv_json(ws)
                except (ConnectionClosed, ConnectionResetError) as closed:
                    # The server closes with 1009 as soon as the frame's header says
                    # 10 MB; the client, still sending, may see only the reset.
                    rcvd = getattr(closed, "rcvd", None)
                    assert rcvd is None or rcvd.code == 1009, closed
                else:
                    assert reply["type"] == "error", reply
            other.send(json.dumps({"type": "settings", "settings": {}}))
            assert recv_json(other)["type"] in ("status", "data", "state")
            with urllib.request.urlopen(url + "/healthz", timeout=HANG_SECONDS) as health:
                assert health.status == 200 and json.load(health)["sessions"] == 1


def test_a_loopback_server_refuses_a_foreign_host_name_dns_rebinding():
    """A page at evil.example whose name resolves to 127.0.0.1 sends a matching
    Origin and Host; a server on loopback refuses names that are not loopback's."""
    app = create_app(ServeConfig(allowed_hosts=("localhost", "127.0.0.1", "::1")))
    with TestClient(app) as client:
        rebinding = {"host": "evil.example:8000", "origin": "http://evil.example:8000"}
        with pytest.raises(WebSocketDisconnect):
            with client.websocket_connect("/ws", headers=rebinding) as ws:
                receive(ws)
        own = {"host": "localhost:8000", "origin": "http://localhost:8000"}
        with client.websocket_connect("/ws", headers=own) as ws:
            assert json.loads(receive(ws)["text"])["type"] == "hello"


def test_serve_in_background_on_loopback_checks_the_host_name():
    import socket

    from backprop_lab.serve.server import serve_in_background

    def handshake(port: int, host: str) -> bytes:
        request = (
            f"GET /ws HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            f"Sec-WebSocket-Version: 13\r\nOrigin: http://{host}:{port}\r\n\r\n"
        )
        with socket.create_connection(("127.0.0.1", port), timeout=HANG_SECONDS) as sock:
            sock.sendall(request.encode())
            return sock.recv(64).split(b"\r\n")[0]

    with serve_in_background() as url:
        port = int(url.rsplit(":", 1)[1])
        assert b" 403 " in handshake(port, "evil.example")
        assert b" 101 " in handshake(port, "localhost")


def test_a_bad_value_in_the_first_settings_is_left_out_not_fatal(tab):
    """A shared link with one bad value still opens: the error, then the rest applied."""
    hello = tab.next()
    assert hello["type"] == "hello"
    tab.send({"type": "settings", "settings": {"lr": 100, "seed": 5, "points": 900}})
    error, _ = tab.until(lambda m: isinstance(m, dict) and m["type"] == "error")
    assert error["field"] == "lr"
    state, _ = tab.until(lambda m: isinstance(m, dict) and m["type"] == "state")
    assert state["settings"]["lr"] == 0.01
    assert state["settings"]["seed"] == 5 and state["settings"]["points"] == 900
    assert tab.frame().meta["run"] == state["run"]


def test_a_test_ratio_that_leaves_no_training_point_is_refused(tab):
    tab.start({"points": 10, "test_ratio": 0.5})
    tab.send({"type": "settings", "settings": {"test_ratio": 0.95}})
    error, _ = tab.until(lambda m: isinstance(m, dict) and m["type"] == "error")
    assert error["field"] == "test_ratio" and "training" in error["message"]
    state, _ = tab.barrier()
    assert state["settings"]["test_ratio"] == 0.5
