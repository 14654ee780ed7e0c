"""Divergence that explains itself (issue 14): pause, the ``diverged`` message, ``rewind``.

Driven through the real app as in test_serve_protocol.py, and on a session
directly where a number is checked against the engine's own training step.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from backprop_lab.serve import divergence
from backprop_lab.serve.session import Session as ServerSession

DEEP_LINEAR = [{"units": 16, "activation": "linear"}] * 3


def is_kind(kind):
    return lambda m: isinstance(m, dict) and m["type"] == kind


def test_a_diverging_run_pauses_explains_and_rewinds(tab):
    tab.start({"dataset": "plane", "lr": 10, "speed": 5000, "layers": DEEP_LINEAR})
    tab.send({"type": "play"})
    report, seen = tab.until(is_kind("diverged"))
    status = [m["message"] for m in seen if is_kind("status")(m) and m["message"]][-1]
    assert status.startswith("Training diverged") and "press Rewind" in status
    assert report["lr"] == 10 and report["suggested_lr"] == 1
    assert report["layer"] in ("hidden layer 1", "hidden layer 2", "hidden layer 3", "output layer")
    assert len(report["ratios"]) == 4
    names = ["hidden layer 1", "hidden layer 2", "hidden layer 3", "output layer"]
    largest = [math.inf if r is None else r for r in report["ratios"]]  # null: not finite
    assert report["layer"] == names[int(np.argmax(largest))]
    assert math.isfinite(report["last_finite_loss"])
    text = report["message"]
    assert "\n" not in text and "learning rate 10" in text and report["layer"] in text
    assert f"{report['last_finite_loss']:.3g}" in text and "rewind" in text
    frame = tab.frame(lambda meta: meta["diverged"])
    assert frame.meta["playing"] is False
    assert 0 <= report["snapshot"] < frame.meta["snapshots"]
    # It diverged after its last good snapshot.
    assert report["epoch"] > frame.meta["snapshot_epochs"][report["snapshot"]]
    tab.send({"type": "play"})
    assert tab.text("error")["message"] == divergence.REFUSAL
    tab.send({"type": "rewind"})
    state = tab.text("state")
    assert state["settings"]["lr"] == 1 and state["playing"] is False
    back = tab.frame(lambda meta: meta["snapshot"] == report["snapshot"])
    assert back.meta["diverged"] is False and np.isfinite(back.weights).all()
    assert back.meta["snapshot_epochs"][report["snapshot"]] == round(
        back.meta["epoch"] + back.meta["batch"] / back.meta["steps_per_epoch"], 4
    )
    tab.send({"type": "step", "unit": "batch"})  # training may go on
    stepped = tab.frame(lambda meta: meta["iterations"] == back.meta["iterations"] + 1)
    assert stepped.meta["snapshot"] is None


def small_session(**settings) -> ServerSession:
    session = ServerSession()
    session.start({"points": 200, "batch_size": 20, **settings})
    return session


def test_a_loss_explodes_above_100_times_its_smallest_and_10():
    session = small_session()
    assert not divergence.check(session, 0.5)
    assert not divergence.check(session, 20.0)  # 40 times the smallest: not yet
    assert not session.diverged
    assert divergence.check(session, 60.0)
    assert session.diverged and not session.playing
    quiet = small_session()
    assert not divergence.check(quiet, 0.01)
    assert not divergence.check(quiet, 5.0), "500 times, but below 10"
    assert divergence.check(quiet, float("nan"))
    report = divergence.report(quiet)
    assert report["last_finite_loss"] == 5.0
    assert "became NaN or infinite" in report["message"]


def test_the_ratios_are_lr_times_the_next_batchs_gradient_over_the_weights():
    session = small_session(lr=0.5, layers=[{"units": 4, "activation": "tanh"}] * 2)
    session.step("epoch")
    session.step("batch")  # snapshots: epoch 0, epoch 1, one batch later
    assert len(session.timeline) == 3
    divergence.check(session, float("inf"))
    report = divergence.report(session)
    assert report["snapshot"] == 2 and report["epoch"] == pytest.approx(1 + 1 / 8)
    snap = session.timeline.snapshots[2]
    # What training from the snapshot computes on its next batch, through the engine.
    session.timeline.restore(session, 2)
    session.train_batches(1)
    want = [
        0.5 * np.linalg.norm(dW) / np.linalg.norm(W)
        for W, dW in zip(snap.params[0::2], session.model.grads[0::2])
    ]
    np.testing.assert_allclose(report["ratios"], want, rtol=1e-4)
    names = ["hidden layer 1", "hidden layer 2", "output layer"]
    assert report["layer"] == names[int(np.argmax(want))]


def test_the_layer_named_is_the_one_whose_weights_are_smallest_for_its_gradient():
    """Hidden layer 2's weights shrunk 1000 times at the snapshot: its gradient hardly
    changes (tanh is linear near 0), so its update is far the largest relative to them."""
    session = small_session(layers=[{"units": 4, "activation": "tanh"}] * 2)
    snap = session.timeline.snapshots[-1]
    snap.params[2] *= 1e-3  # W of hidden layer 2 (params: W1, b1, W2, b2, W3, b3)
    divergence.check(session, float("nan"))
    report = divergence.report(session)
    assert report["layer"] == "hidden layer 2" and "hidden layer 2 had" in report["message"]
    ratios = report["ratios"]
    assert ratios[1] > 100 * max(ratios[0], ratios[2]), ratios


def test_the_status_line_and_the_refusal_name_rewind_and_what_happened():
    session = small_session()
    divergence.check(session, 0.5)
    divergence.check(session, 900.0)
    assert "exploded to 900" in divergence.report(session)["message"]
    text = divergence.status_text(session)
    assert "exploded to 900" in text and "Rewind" in text and "\n" not in text
    assert "NaN" not in text
    nan = small_session()
    divergence.check(nan, float("nan"))
    assert "became NaN or infinite" in divergence.status_text(nan)
    assert "Rewind" in divergence.REFUSAL and "learning rate alone" in divergence.REFUSAL


def test_rewind_restores_the_snapshot_with_the_suggested_rate():
    session = small_session(lr=0.5)
    session.step("epoch")
    weights = [p.copy() for p in session.model.params]
    session.train_batches(3)
    divergence.check(session, float("nan"))
    divergence.rewind(session)
    assert not session.diverged and session.settings["lr"] == 0.05
    assert session.model.optimizer.learning_rate == 0.05
    assert (session.epoch, session.position) == (1, 0)
    for p, w in zip(session.model.params, weights):
        np.testing.assert_array_equal(p, w)


def test_a_second_divergence_after_a_seek_gets_its_own_report():
    session = small_session(lr=0.5)
    session.step("epoch")
    session.step("epoch")
    divergence.check(session, float("nan"))
    first = divergence.report(session)
    assert first["snapshot"] == 2
    session.timeline.restore(session, 1)  # a seek, not a rewind
    assert not session.diverged
    session.train_batches(3)
    assert len(session.timeline) == 2, "the snapshot after 1 was dropped"
    divergence.check(session, 1e9)
    second = divergence.report(session)
    assert second["snapshot"] == 1 and second["epoch"] == pytest.approx(1 + 3 / 8)
    assert "exploded to 1e+09" in second["message"]
