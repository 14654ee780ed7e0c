"""The backprop inspector (issue 14): every number is the engine's.

The inspection of a session is compared with ``model.forward`` /
``model.backward`` of a fresh model holding the same weights, for a point and
for a batch, and its step with one ``optimizer.step`` on copies (SGD,
momentum, Adam); then through the real app.
"""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
from test_serve_protocol import Frame

from backprop_lab.runs.runner import build_model
from backprop_lab.serve import inspection as inspector
from backprop_lab.serve.run_settings import run_settings
from backprop_lab.serve.session import Session as ServerSession


def trained_session(optimizer: str, **settings) -> ServerSession:
    session = ServerSession()
    layers = [{"units": 5, "activation": "tanh"}, {"units": 3, "activation": "relu"}]
    session.start(
        {"points": 300, "batch_size": 16, "optimizer": optimizer, "lr": 0.05, "layers": layers}
        | settings
    )
    session.step("epoch")
    session.step("batch")
    return session


def same_model(session):
    """A fresh engine model with the session's weights (nothing shared)."""
    s, d = session.settings, session.data
    classes = d.n_classes if session.task == "classification" else 0
    model = build_model(
        run_settings(s), session.inputs["train"].shape[1], classes, task=session.task
    )
    model.set_weights(session.model.get_weights())
    return model


def state_of(session):
    model = session.model
    opt = model.optimizer
    return (
        [p.copy() for p in model.params + model.grads],
        {k: [a.copy() for a in v] for k, v in opt.slots.items()},
        opt.iterations,
        copy.deepcopy(model.rng.bit_generator.state),
        session.position,
    )


def assert_same_state(a, b):
    for x, y in zip(a[0], b[0]):
        np.testing.assert_array_equal(x, y)
    assert a[1].keys() == b[1].keys()
    for k in a[1]:
        for x, y in zip(a[1][k], b[1][k]):
            np.testing.assert_array_equal(x, y)
    assert a[2:] == b[2:]


def check_against_engine(session, message, rows):
    """Compare an inspection with forward/backward of a fresh model on ``rows``."""
    X, y = session.inputs["train"][rows], session.data.y_train[rows]
    model = same_model(session)
    Y = model.loss.prepare_targets(y, model.layers[-1].units, model.dtype)
    P = model.forward(X)
    model.backward(Y, P)
    assert message["loss"] == pytest.approx(model.loss.value(Y, P), rel=1e-6)
    assert message["rows"] == list(rows)
    np.testing.assert_allclose(message["x"], X.mean(axis=0), rtol=1e-6)
    reduce = (lambda M: M[0]) if len(rows) == 1 else (lambda M: M.mean(axis=0))
    a_prev = X
    for i, (layer, shown) in enumerate(zip(model.layers, message["layers"])):
        np.testing.assert_array_equal(shown["W"], layer.W)
        np.testing.assert_array_equal(shown["b"], layer.b)
        np.testing.assert_array_equal(shown["z"], reduce(layer.Z))
        np.testing.assert_array_equal(shown["a"], reduce(layer.A))
        np.testing.assert_array_equal(shown["dW"], layer.grads[0])
        np.testing.assert_array_equal(shown["db"], layer.grads[1])
        # The chain rule holds between the numbers shown: db = mean delta, and for
        # one point dW = a_prev^T delta.
        np.testing.assert_allclose(shown["delta"], layer.grads[1], rtol=1e-5, atol=1e-7)
        if len(rows) == 1:
            want = np.outer(a_prev[0], shown["delta"])
            np.testing.assert_allclose(shown["dW"], want, rtol=1e-5, atol=1e-7)
        a_prev = layer.A
        assert shown["name"] == ("output layer" if i == 2 else f"hidden layer {i + 1}")
    return model


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_a_points_numbers_and_step_are_the_engines(optimizer):
    session = trained_session(optimizer)
    before = state_of(session)
    message = inspector.inspection(session, "point", 7)
    assert_same_state(before, state_of(session))  # training state untouched
    assert message["target"] == int(session.data.y_train[7])
    model = check_against_engine(session, message, [7])
    # The step: one optimizer step on copies of the weights and the optimizer.
    opt = copy.deepcopy(session.model.optimizer)
    params = [p.copy() for p in session.model.params]
    old = [p.copy() for p in params]
    state = {k: [a.tolist() for a in v] for k, v in opt.slots.items()}
    opt.step(params, model.grads)
    for j, shown in enumerate(message["layers"]):
        np.testing.assert_array_equal(shown["step_W"], params[2 * j] - old[2 * j])
        np.testing.assert_array_equal(shown["step_b"], params[2 * j + 1] - old[2 * j + 1])
    if optimizer == "sgd":
        assert message["optimizer"]["state"] == {}
        # -lr * g, up to the float32 rounding of w - lr * g (weights are about 1).
        want = -0.05 * np.asarray(message["layers"][0]["dW"])
        np.testing.assert_allclose(message["layers"][0]["step_W"], want, rtol=1e-4, atol=1e-7)
    else:
        names = {"momentum": ["v"], "adam": ["m", "v"]}[optimizer]
        assert sorted(message["optimizer"]["state"]) == sorted(names)
        for name in names:
            for j, layer in enumerate(message["optimizer"]["state"][name]):
                assert layer["W"] == state[name][2 * j] and layer["b"] == state[name][2 * j + 1]
    assert message["optimizer"]["name"] == optimizer
    assert message["optimizer"]["lr"] == pytest.approx(0.05)
    assert set(message["formulas"]) >= {"z", "a", "delta_hidden", "dW", "step"}


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_the_batch_is_the_next_one_training_takes(optimizer):
    session = trained_session(optimizer)
    message = inspector.inspection(session, "batch", None)
    rows = inspector.session_rows(session)
    assert len(rows) == 16 and message["target"] is None
    check_against_engine(session, message, rows)
    old = [p.copy() for p in session.model.params]
    session.train_batches(1)  # the engine's own step on that batch
    for j, shown in enumerate(message["layers"]):
        np.testing.assert_allclose(shown["dW"], session.model.grads[2 * j], rtol=1e-5, atol=1e-7)
        moved = session.model.params[2 * j] - old[2 * j]
        np.testing.assert_allclose(shown["step_W"], moved, rtol=1e-4, atol=1e-8)


def test_the_batch_at_an_epochs_start_is_drawn_as_training_draws_it():
    session = trained_session("sgd")
    session.step("epoch")
    assert session.position == 0
    rows = inspector.session_rows(session)
    state = copy.deepcopy(session.model.rng.bit_generator.state)
    session.train_batches(1)
    assert session.model.rng.bit_generator.state != state
    np.testing.assert_array_equal(rows, session.order[:16])


def test_a_regression_point_has_its_value_as_target():
    session = trained_session("sgd", dataset="plane")
    message = inspector.inspection(session, "point", 3)
    assert message["target"] == pytest.approx(float(session.data.y_train[3]))
    check_against_engine(session, message, [3])


# --------------------------------------------------------------------------- the protocol


def test_inspect_replies_now_and_before_every_frame_whose_weights_changed(tab):
    tab.start({"seed": 2})
    tab.send({"type": "inspect", "scope": "point", "index": 11})
    first = tab.text("inspection")
    assert (first["scope"], first["index"], first["rows"]) == ("point", 11, [11])
    tab.send({"type": "step", "unit": "batch"})
    message, seen = tab.until(lambda m: isinstance(m, Frame) and m.meta["iterations"] == 1)
    inspections = [m for m in seen if isinstance(m, dict) and m["type"] == "inspection"]
    assert len(inspections) == 1, "one inspection before the frame of new weights"
    w0 = np.asarray(inspections[0]["layers"][0]["W"], dtype=np.float32).ravel()
    np.testing.assert_array_equal(w0, message.weights[:16])
    tab.send({"type": "focus", "neuron": [0, 0]})
    _, seen = tab.until(lambda m: isinstance(m, Frame) and m.meta["focus"] == [0, 0])
    assert not any(isinstance(m, dict) and m["type"] == "inspection" for m in seen)
    tab.send({"type": "inspect", "scope": "batch"})
    batch = tab.text("inspection")
    assert batch["scope"] == "batch" and len(batch["rows"]) == 32 and batch["index"] is None
    tab.send({"type": "inspect", "scope": None})
    tab.send({"type": "step", "unit": "batch"})
    _, seen = tab.until(lambda m: isinstance(m, Frame) and m.meta["iterations"] == 2)
    assert not any(isinstance(m, dict) and m["type"] == "inspection" for m in seen)


@pytest.mark.parametrize(
    "message, words",
    [
        ({"type": "inspect", "scope": "point", "index": 4000}, "from 0 to 3999, got 4000"),
        ({"type": "inspect", "scope": "point", "index": -1}, "index must be an integer"),
        ({"type": "inspect", "scope": "point", "index": True}, "index must be an integer"),
        ({"type": "inspect", "scope": "point"}, "carries index, scope"),
        ({"type": "inspect", "scope": "batch", "index": 1}, "carries scope"),
        ({"type": "inspect", "scope": "layer"}, 'scope must be "point", "batch" or null'),
        ({"type": "inspect", "scope": ["point"]}, 'scope must be "point", "batch" or null'),
        ({"type": "inspect"}, "inspect message carries scope"),
    ],
)
def test_bad_inspects_are_refused_in_one_line(tab, message, words):
    tab.start()
    tab.send(message)
    assert words in tab.text("error")["message"]
    _, seen = tab.barrier()
    assert not any(isinstance(m, dict) and m["type"] == "inspection" for m in seen)


def test_numbers_that_are_not_finite_travel_as_null():
    session = trained_session("adam")
    session.model.layers[0].W[0, 0] = np.nan
    message = inspector.inspection(session, "point", 0)
    text = json.dumps(message, allow_nan=False)  # JSON.parse would refuse NaN
    assert message["layers"][0]["W"][0][0] is None and "null" in text
    assert message["layers"][0]["W"][1][0] is not None


def points(action: str, **fields) -> dict:
    """A ``points`` message on the training part (see test_serve_userdata.py)."""
    return {"type": "points", "action": action, "part": "train", **fields}


def is_kind(*kinds):
    return lambda m: isinstance(m, dict) and m["type"] in kinds


def test_moving_the_inspected_point_sends_its_new_numbers(tab):
    tab.start({"points": 200, "seed": 3, "features": ["x1", "x2"]})
    tab.send({"type": "inspect", "scope": "point", "index": 5})
    first = tab.text("inspection")
    tab.send(points("move", index=5, x=[1.5, -1.5]))
    moved, _ = tab.until(is_kind("inspection", "status"))
    assert moved["type"] == "inspection" and moved["index"] == 5
    assert moved["x"] == [1.5, -1.5] != first["x"]
    assert moved["layers"][0]["W"] == first["layers"][0]["W"]  # the same weights
    tab.send(points("move", index=0, x=[0.5, 0.5]) | {"part": "test"})  # another point
    again, _ = tab.until(is_kind("inspection", "status"))
    assert again["type"] == "inspection" and again["x"] == [1.5, -1.5]


def test_deleting_the_inspected_point_or_an_earlier_one_turns_the_inspector_off(tab):
    tab.start({"points": 200, "seed": 3})
    for stepped, deleted in enumerate((5, 2), 1):  # it; an earlier one (5 names another)
        tab.send({"type": "inspect", "scope": "point", "index": 5})
        tab.text("inspection")
        tab.send(points("delete", index=deleted))
        off, _ = tab.until(is_kind("inspection"))
        assert off["scope"] is None and "inspector is off" in off["message"]
        assert "\n" not in off["message"]
        tab.send({"type": "step", "unit": "batch"})
        _, seen = tab.until(lambda m, n=stepped: isinstance(m, Frame) and m.meta["iterations"] == n)
        assert not any(is_kind("inspection")(m) for m in seen)


def test_a_batch_inspection_follows_a_points_edit(tab):
    tab.start({"points": 200, "seed": 3})
    tab.send({"type": "inspect", "scope": "batch"})
    before = tab.text("inspection")
    tab.send(points("add", x=[0.25, 0.25], t=1))
    after, _ = tab.until(is_kind("inspection", "status"))
    assert after["type"] == "inspection" and after["scope"] == "batch"
    assert len(after["rows"]) == len(before["rows"]) and after["rows"] != before["rows"]
