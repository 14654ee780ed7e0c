"""The playground beyond TF Playground (issue 14): initial weights, frame additions, timeline.

Driven through the real app as in test_serve_protocol.py (whose client-side
helpers are reused); no assertion depends on the machine's speed.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_serve_protocol import Session, api_run

from backprop_lab import Dense, Sequential
from backprop_lab.serve import frames
from backprop_lab.serve.protocol import LIMITS
from backprop_lab.serve.session import Session as ServerSession
from backprop_lab.serve.session import weights_seed
from backprop_lab.serve.timeline import Snapshot, Timeline


def article_model(seed: int) -> Sequential:
    """The article's network drawn from model seed ``seed``."""
    return Sequential([Dense(8, "relu", input_shape=(2,)), Dense(1, "sigmoid")], seed=seed)


def flat(arrays) -> np.ndarray:
    return np.concatenate([a.ravel() for a in arrays])


# --------------------------------------------------------------------------- weights


def test_weights_zero_are_the_cli_initial_weights(tab):
    frame = tab.start({"seed": 3, "weights": 0})["frame"]
    _, model = api_run(3, 0.01, 0)
    np.testing.assert_array_equal(frame.weights, flat(model.get_weights()).astype(np.float32))


def test_other_weights_come_from_the_seed_sequence_and_keep_the_data(tab):
    got = tab.start({"seed": 3})
    first = got["frame"]
    want_seed = int(np.random.SeedSequence([3, 5]).generate_state(1)[0])
    assert weights_seed(3, 5) == want_seed
    tab.send({"type": "settings", "settings": {"weights": 5}})
    state, seen = tab.until(lambda m: isinstance(m, dict) and m["type"] == "state")
    assert not any(isinstance(m, dict) and m["type"] == "data" for m in seen), "data was remade"
    assert state["settings"]["weights"] == 5 and state["run"] > got["state"]["run"]
    frame = tab.frame(lambda meta: meta["run"] == state["run"])
    want = flat(article_model(want_seed).get_weights()).astype(np.float32)
    np.testing.assert_array_equal(frame.weights, want)
    assert not np.array_equal(frame.weights, first.weights)
    tab.send({"type": "settings", "settings": {"weights": 0}})
    back = tab.frame(lambda meta: meta["run"] > state["run"])
    np.testing.assert_array_equal(back.weights, first.weights)


def test_reset_keeps_the_chosen_weights(tab):
    first = tab.start({"seed": 2, "weights": 77, "lr": 0.3})["frame"]
    tab.send({"type": "step", "unit": "epoch"})
    tab.frame(lambda meta: meta["epoch"] == 1)
    tab.send({"type": "reset"})
    assert tab.text("state")["settings"]["weights"] == 77
    again = tab.frame(lambda meta: meta["iterations"] == 0)
    np.testing.assert_array_equal(again.weights, first.weights)


@pytest.mark.parametrize("bad", [-1, 2**32, 1.5, "1", None, True])
def test_a_bad_weights_value_is_refused(tab, bad):
    tab.start()
    tab.send({"type": "settings", "settings": {"weights": bad}})
    error = tab.text("error")
    assert error["field"] == "weights" and "from 0 to" in error["message"]


# --------------------------------------------------------------------------- frame additions


def test_the_first_frame_has_zero_gradients_and_changes(tab):
    frame = tab.start()["frame"]
    assert frame.grads.shape == frame.change.shape == frame.weights.shape == (33,)
    assert not frame.grads.any() and not frame.change.any()
    assert [len(layer) for layer in frame.meta["neurons"]] == [8]


def test_gradients_are_the_last_batchs_and_changes_are_frame_differences(tab):
    first = tab.start({"seed": 3, "lr": 0.1})["frame"]
    tab.send({"type": "step", "unit": "epoch"})
    one = tab.frame(lambda meta: meta["epoch"] == 1)
    _, model = api_run(3, 0.1, 1)
    np.testing.assert_allclose(one.grads, flat(model.grads), rtol=1e-5, atol=1e-7)
    assert one.grads.any()
    np.testing.assert_array_equal(one.change, one.weights - first.weights)
    tab.send({"type": "step", "unit": "batch"})
    two = tab.frame(lambda meta: meta["iterations"] == 126)
    np.testing.assert_array_equal(two.change, two.weights - one.weights)
    tab.send({"type": "focus", "neuron": [0, 1]})
    focused = tab.frame(lambda meta: meta["focus"] == [0, 1])
    assert not focused.change.any(), "nothing trained between the two frames"
    np.testing.assert_array_equal(focused.grads, two.grads)


def test_neuron_flags_find_dead_and_saturated_units():
    model = Sequential(
        [Dense(3, "relu", input_shape=(2,)), Dense(2, "sigmoid"), Dense(2, "tanh"), Dense(1)],
        seed=0,
    )
    X = np.random.default_rng(1).uniform(-1, 1, (3000, 2)).astype(np.float32)
    relu, sig, tanh, _ = model.layers
    relu.W[:, 0], relu.b[0] = 0.0, -1.0  # never above 0: dead
    relu.W[:, 1], relu.b[1] = 1.0, 0.0  # positive on half the plane
    sig.W[:, 0], sig.b[0] = 0.0, 20.0  # sigmoid(20): slope 2e-9 everywhere
    sig.W[:, 1], sig.b[1] = 0.0, 0.0
    tanh.W[:, 0], tanh.b[0] = 0.0, 0.0
    tanh.W[:, 1], tanh.b[1] = 0.0, -5.0  # tanh(-5): slope 1.8e-4
    flags = frames.neuron_flags(model, X)
    assert flags[0][:2] == ["dead", ""]
    assert flags[1] == ["saturated", ""]
    assert flags[2] == ["", "saturated"]
    # Only the first 2,000 points count: a unit alive only beyond them is dead.
    relu.W[:, 2], relu.b[2] = [10.0, 0.0], -9.5  # alive where x1 > 0.95
    X[:2000, 0] = np.minimum(X[:2000, 0], 0.5)
    X[2500] = [1.0, 0.0]
    assert frames.neuron_flags(model, X)[0][2] == "dead"
    assert frames.neuron_flags(model, X[2400:])[0][2] == ""


# --------------------------------------------------------------------------- timeline


def seek(tab, index: int):
    """Seek, and return the state and the frame that shows the snapshot."""
    tab.send({"type": "seek", "index": index})
    state = tab.text("state")
    assert state["playing"] is False
    return state, tab.frame(lambda meta: meta["snapshot"] == index)


def step_epochs(tab, count: int) -> list:
    out = []
    for _ in range(count):
        before = tab.frames[-1].meta["iterations"]
        tab.send({"type": "step", "unit": "epoch"})
        out.append(tab.frame(lambda meta, b=before: meta["iterations"] > b))
    return out


def test_snapshots_at_epoch_0_and_every_epoch_and_seek_restores_them_exactly(tab):
    first = tab.start({"seed": 4, "optimizer": "adam", "lr": 0.01})["frame"]
    assert (first.meta["snapshots"], first.meta["snapshot"]) == (1, None)
    assert first.meta["snapshot_epochs"] == [0]
    shown = [first, *step_epochs(tab, 3)]
    assert shown[-1].meta["snapshot_epochs"] == [0, 1, 2, 3]
    for k in (1, 0, 3, 2):
        _, frame = seek(tab, k)
        assert frame.meta["epoch"] == k and frame.meta["iterations"] == 125 * k
        np.testing.assert_array_equal(frame.weights, shown[k].weights)
        np.testing.assert_array_equal(frame.grads, shown[k].grads)
        assert frame.meta["train_loss"] == shown[k].meta["train_loss"]
        assert frame.meta["snapshots"] == 4, "seeking drops nothing"


def test_continuing_from_a_snapshot_trains_what_followed_bit_for_bit(tab):
    tab.start({"seed": 4, "optimizer": "adam", "lr": 0.01})
    straight = step_epochs(tab, 3)
    seek(tab, 1)
    again = step_epochs(tab, 2)
    assert again[-1].meta["snapshot"] is None
    assert again[-1].meta["snapshot_epochs"] == [0, 1, 2, 3]
    for a, b in zip(again, straight[1:]):
        np.testing.assert_array_equal(a.weights, b.weights)
        np.testing.assert_array_equal(a.grads, b.grads)
        assert a.meta["train_loss"] == b.meta["train_loss"]


def test_a_pause_snapshot_mid_epoch_continues_exactly(client):
    settings = {"seed": 6, "optimizer": "momentum", "lr": 0.05}
    with client.websocket_connect("/ws") as wa, client.websocket_connect("/ws") as wb:
        a, b = Session(wa), Session(wb)
        a.start(settings)
        b.start(settings)
        for i in range(1, 4):
            a.send({"type": "step", "unit": "batch"})
            frame = a.frame(lambda meta, i=i: meta["iterations"] == i)
        assert frame.meta["snapshots"] == 4  # epoch 0, then each step's pause
        assert frame.meta["snapshot_epochs"] == [0, 1 / 125, 2 / 125, round(3 / 125, 4)]
        a.send({"type": "step", "unit": "epoch"})
        a.frame(lambda meta: meta["epoch"] == 1)
        _, at = seek(a, 2)
        assert (at.meta["epoch"], at.meta["batch"], at.meta["iterations"]) == (0, 2, 2)
        a.send({"type": "step", "unit": "epoch"})
        resumed = a.frame(lambda meta: meta["epoch"] == 1)
        for i in (1, 2):
            b.send({"type": "step", "unit": "batch"})
            b.frame(lambda meta, i=i: meta["iterations"] == i)
        b.send({"type": "step", "unit": "epoch"})
        straight = b.frame(lambda meta: meta["epoch"] == 1)
    np.testing.assert_array_equal(resumed.weights, straight.weights)
    assert resumed.meta["iterations"] == straight.meta["iterations"] == 125
    assert resumed.meta["snapshots"] == 4, "the later snapshots were dropped"


def test_play_pause_takes_a_snapshot_and_reset_keeps_only_snapshot_0(tab):
    first = tab.start({"speed": 5000})["frame"]
    tab.send({"type": "play"})
    tab.frame(lambda meta: meta["epoch"] >= 2)
    tab.send({"type": "pause"})
    tab.text("state")
    tab.send({"type": "step", "unit": "batch"})  # a barrier with a frame after the pause
    frame = tab.frame(lambda meta: not meta["playing"])
    epochs = frame.meta["snapshot_epochs"]
    assert epochs[0] == 0 and epochs == sorted(epochs) and len(epochs) >= 3
    assert frame.meta["snapshot_epochs"][-1] == round(
        frame.meta["epoch"] + frame.meta["batch"] / 125, 4
    )
    tab.send({"type": "reset"})
    tab.text("state")
    again = tab.frame(lambda meta: meta["iterations"] == 0)
    assert again.meta["snapshots"] == 1 and again.meta["snapshot_epochs"] == [0]
    np.testing.assert_array_equal(again.weights, first.weights)


@pytest.mark.parametrize(
    "message, words",
    [
        ({"type": "seek", "index": 5}, "index must be a snapshot from 0 to 1"),
        ({"type": "seek", "index": -1}, "index must be an integer from 0"),
        ({"type": "seek", "index": 1.5}, "index must be an integer from 0"),
        ({"type": "seek", "index": "1"}, "index must be an integer from 0"),
        ({"type": "seek"}, "a seek message carries index"),
        ({"type": "seek", "index": 0, "x": 1}, "a seek message carries index"),
        ({"type": "rewind"}, "training has not diverged"),
        ({"type": "rewind", "index": 0}, "a rewind message carries nothing else"),
    ],
)
def test_bad_seeks_and_rewinds_are_refused_in_one_line(tab, message, words):
    tab.start()
    tab.send({"type": "step", "unit": "epoch"})
    tab.frame(lambda meta: meta["epoch"] == 1)
    tab.send(message)
    assert words in tab.text("error")["message"]
    state, seen = tab.barrier()
    assert state["playing"] is False
    assert all(f.meta["snapshot"] is None for f in seen if hasattr(f, "meta"))


def test_hello_states_the_timeline_limits(tab):
    tab.start()
    assert tab.hello["limits"]["max_snapshots"] == 200
    assert tab.hello["limits"]["max_snapshot_bytes"] == 16 * 2**20


def small_session(**settings) -> ServerSession:
    session = ServerSession()
    session.start({"points": 100, "batch_size": 100, "test_ratio": 0.2, **settings})
    return session


def test_a_full_timeline_drops_every_second_snapshot_and_stays_even():
    session = small_session()
    session.train_batches(450)  # as playing trains: one batch an epoch here
    timeline = session.timeline
    epochs = [s.epoch for s in timeline.snapshots]
    assert len(epochs) <= LIMITS["max_snapshots"] and epochs[0] == 0
    assert timeline.stride == 4
    assert np.all(np.diff(epochs) == timeline.stride), epochs[:5]
    assert epochs[-1] == 448
    # Each epoch snapshot holds float32 copies of the parameters, their gradients and each
    # optimizer slot (SGD: its velocity, once built), and no sample order at an epoch's end.
    n_params = sum(p.size for p in session.model.params)
    arrays = sum(2 + len(s.slots) for s in timeline.snapshots)
    assert set(session.model.optimizer.slots) == {"v"}
    assert timeline.nbytes == 4 * n_params * arrays <= timeline.max_bytes
    assert arrays >= 3 * len(epochs) - 1  # all but epoch 0 hold the velocity


def test_the_timeline_stays_within_its_bytes():
    session = small_session(optimizer="adam", layers=[{"units": 16, "activation": "tanh"}] * 6)
    session.train_batches(1)
    one = Snapshot.of(session).nbytes  # with Adam's two slots
    assert one == 4 * 4 * (3 * 16 + 5 * (16 * 16 + 16) + 17)
    session.timeline = Timeline(max_bytes=10 * one + one // 2)
    session.reset()  # a new run on this timeline
    session.train_batches(40)
    timeline = session.timeline
    assert timeline.nbytes <= 10 * one + one // 2 and len(timeline) >= 5
    epochs = [s.epoch for s in timeline.snapshots]
    assert np.all(np.diff(epochs) == timeline.stride) and epochs[0] == 0
