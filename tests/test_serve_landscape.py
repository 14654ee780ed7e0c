"""The live loss landscape (issue 14, item 7): the ``landscape`` message, through the real app.

Driven as in test_serve_protocol.py.  The planes are checked against the
engine (the centre is the loss ``evaluate`` gives for those weights and
points), and "training goes on meanwhile" is shown without a clock: the
computation is held at a gate until a frame of a later moment has arrived.
"""

from __future__ import annotations

import os
import threading
import time

import numpy as np
import pytest
from test_serve_protocol import HANG_SECONDS, Session, TestClient

from backprop_lab.pictures.loss_surface import RESOLUTION, loss_at
from backprop_lab.serve import landscape
from backprop_lab.serve.app import create_app
from backprop_lab.serve.config import ServeConfig

SMALL = {"points": 600, "speed": 50}  # 480 training points: all of them are used


@pytest.fixture
def app():
    return create_app(ServeConfig())  # one per test: leaving its TestClient stops its workers


@pytest.fixture
def tab(app):
    with TestClient(app) as client, client.websocket_connect("/ws") as ws:
        yield Session(ws)


def kind(name):
    return lambda m: isinstance(m, dict) and m["type"] == name


def when(meta: dict) -> float:
    return meta["epoch"] + meta["batch"] / meta["steps_per_epoch"]


def server_session(app):
    (connection,) = app.state.hub.connections
    return connection.session


def test_a_landscape_is_refused_in_one_line_before_anything_is_trained(tab):
    tab.start(SMALL)
    tab.send({"type": "landscape"})
    assert tab.text("error")["message"] == landscape.NOTHING_TRAINED


def test_a_landscape_message_carries_nothing_else(tab):
    tab.start(SMALL)
    tab.send({"type": "step", "unit": "batch"})
    tab.send({"type": "landscape", "points": 10})
    error = tab.text("error")["message"]
    assert error == "a landscape message carries nothing else, got points, type"


def test_a_diverged_session_has_no_landscape(tab):
    deep_linear = [{"units": 16, "activation": "linear"}] * 3
    tab.start({"dataset": "plane", "lr": 10, "speed": 5000, "layers": deep_linear})
    tab.send({"type": "play"})
    tab.until(kind("diverged"))
    tab.send({"type": "landscape"})
    assert tab.text("error")["message"] == landscape.DIVERGED


def test_the_planes_are_centred_on_the_engines_loss_and_the_path_ends_there(app, tab):
    started = tab.start()  # the article's run: 4,000 training points, 2,000 of them used
    first = started["frame"]
    tab.send({"type": "step", "unit": "epoch"})
    tab.send({"type": "step", "unit": "batch"})
    now = tab.frame(lambda meta: meta["iterations"] == 126)  # 125 batches an epoch, then one
    tab.send({"type": "landscape"})
    reply, _ = tab.until(kind("landscape"))

    assert reply["run"] == now.meta["run"] and reply["epoch"] == round(when(now.meta), 4)
    assert (reply["points"], reply["of"]) == (2000, 4000) and reply["seconds"] > 0
    assert reply["resolution"] == RESOLUTION
    for plane in reply["planes"]:
        assert len(plane["alphas"]) == len(plane["betas"]) == RESOLUTION
        assert np.shape(plane["loss"]) == (RESOLUTION, RESOLUTION)
        mid = RESOLUTION // 2
        assert plane["alphas"][mid] == plane["betas"][mid] == 0.0
        assert plane["centre"] == plane["loss"][mid][mid]
        # The path: epoch 0, epoch 1 (snapshots), then now, which is the centre exactly.
        assert len(plane["path"]) == 3 and plane["path"][-1] == [0.0, 0.0]
        assert all(isinstance(plane[k], str) and plane[k] for k in ("title", "xlabel", "ylabel"))
    titles = [p["title"] for p in reply["planes"]]
    assert titles == ["random directions (filter-normalised)", "principal components of the path"]
    # The PCA plane keeps distances along the path: its start is as far from the
    # centre as the initial weights (epoch 0's frame) are from the current ones.
    start = np.hypot(*reply["planes"][1]["path"][0])
    far = np.linalg.norm(first.weights.astype(np.float64) - now.weights.astype(np.float64))
    assert start == pytest.approx(far, rel=1e-9)

    # The centre is the engine's loss for these weights on these points.
    session = server_session(app)
    with session.lock:  # paused: the weights are those of the landscape
        model = session.model
        rows = landscape.points_of(4000)
        X, y = session.inputs["train"][rows], session.data.y_train[rows]
        engine = model.evaluate(X, y, verbose=0)[0]
        Xf = X.astype(model.dtype)
        Y = model.loss.prepare_targets(y, model.layers[-1].units, model.dtype)
        theta = np.concatenate(model.params, axis=None)
        direct = loss_at(model, Xf, Y, theta)
    for plane in reply["planes"]:
        assert plane["centre"] == direct  # the same NumPy forward pass, bit for bit
        # evaluate() runs the selected engine (here the compiled kernels), whose float32
        # sums round in another order than NumPy's matmul: a few float32 ulps per
        # output (eps 1.2e-7), averaged over 2,000 points. 1e-6 is 8 ulps of the loss.
        assert plane["centre"] == pytest.approx(engine, rel=1e-6)


def gate(monkeypatch, hold=None):
    """Hold ``landscape.planes`` until the returned event is set; ``hold(request)`` runs first."""
    entered, release, requests = threading.Event(), threading.Event(), []
    real = landscape.planes

    def held(request):
        requests.append(request)
        entered.set()
        if hold is not None:
            hold(request)
        assert release.wait(HANG_SECONDS), "the test never released the landscape"
        return real(request)

    monkeypatch.setattr(landscape, "planes", held)
    return entered, release, requests


def test_training_goes_on_while_a_landscape_is_computed_one_at_a_time(monkeypatch, tab):
    entered, release, requests = gate(monkeypatch)
    tab.start(SMALL)
    tab.send({"type": "play"})
    tab.frame(lambda meta: meta["iterations"] > 0)
    try:
        tab.send({"type": "landscape"})
        assert entered.wait(HANG_SECONDS)
        moment = requests[0].epoch
        # While the landscape is held, frames of later moments keep coming...
        later = tab.frame(lambda meta: when(meta) > moment + 1)
        assert later.meta["playing"]
        # ...and a second request is refused while the first is on its way.
        tab.send({"type": "landscape"})
        assert tab.text("error")["message"] == landscape.ALREADY
    finally:
        release.set()
    reply, seen = tab.until(kind("landscape"))
    assert reply["epoch"] == moment < when(later.meta)
    assert len(reply["planes"][0]["path"]) >= 2
    assert all(m["type"] != "error" for m in seen if isinstance(m, dict))
    tab.send({"type": "pause"})
    # Once it is done, the next one is accepted.
    tab.send({"type": "landscape"})
    assert tab.text("landscape")["epoch"] > moment


def test_the_landscapes_cpu_time_counts_toward_the_session(monkeypatch, app, tab):
    def spin(request):  # CPU time the computing thread spends, 50 ms of it
        began = time.thread_time()
        while time.thread_time() - began < 0.05:
            pass

    entered, release, _ = gate(monkeypatch, spin)
    release.set()
    tab.start(SMALL)
    tab.send({"type": "step", "unit": "batch"})
    tab.barrier()
    session = server_session(app)
    with session.lock:
        before = session.cpu_seconds
    tab.send({"type": "landscape"})
    tab.text("landscape")
    with session.lock:
        assert session.cpu_seconds >= before + 0.05


def test_non_finite_losses_become_nulls(monkeypatch, tab):
    real = landscape.surfaces

    def overflowing(model, X, Y, trajectory, **kw):
        found = real(model, X, Y, trajectory, **kw)
        found[0].loss[0, :3] = [np.nan, np.inf, -np.inf]
        return found

    monkeypatch.setattr(landscape, "surfaces", overflowing)
    tab.start(SMALL)
    tab.send({"type": "step", "unit": "batch"})
    tab.send({"type": "landscape"})
    reply = tab.text("landscape")  # strict JSON: a NaN would fail here already
    assert reply["planes"][0]["loss"][0][:3] == [None, None, None]
    assert all(v is not None for v in reply["planes"][1]["loss"][0])
    assert (reply["points"], reply["of"]) == (480, 480)  # fewer than 2,000: all of them


@pytest.mark.skipif(not hasattr(os, "setpriority"), reason="thread priorities are Linux's")
def test_the_background_thread_yields_the_cpu_to_training():
    seen = {}

    def body():
        me = threading.get_native_id()
        seen["before"] = os.getpriority(os.PRIO_PROCESS, me)
        landscape.lower_priority()
        seen["after"] = os.getpriority(os.PRIO_PROCESS, me)

    thread = threading.Thread(target=body)
    thread.start()
    thread.join()
    expected = min(seen["before"] + landscape.BACKGROUND_NICENESS, 19)  # 19 is the lowest
    assert seen["after"] == expected
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == seen["before"]
