"""A tab's own data over the WebSocket: points added, moved, deleted, and CSV uploads.

Every test drives the real app through Starlette's test client (the helpers of
test_serve_protocol.py), so each message passes the protocol's checks, the
session and the replies the page reads.  Points and targets are compared with
what was sent; training after an edit is compared with the Python API.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_serve_protocol import Session, errors, layer_weights

from backprop_lab.data.csvio import save_csv
from backprop_lab.serve import protocol
from backprop_lab.serve.protocol import ProtocolError, parse_message

SMALL = {"points": 200, "seed": 3}


BARRIER = {"type": "step", "unit": "BARRIER"}  # answered by an error naming BARRIER


def reply_to(tab: Session, message: dict) -> tuple[list[dict], dict]:
    """Send ``message``; the text replies it got, and the session's state after it."""
    tab.send(message)
    tab.send(BARRIER)
    _, seen = tab.until(lambda m: isinstance(m, dict) and "BARRIER" in m.get("message", ""))
    state, _ = tab.barrier()
    return [m for m in seen if isinstance(m, dict)], state


def data_of(replies: list[dict]) -> dict:
    data = [m for m in replies if m["type"] == "data"]
    assert len(data) == 1, [m["type"] for m in replies]
    return data[0]


def points_message(action: str, part: str = "train", **fields) -> dict:
    return {"type": "points", "action": action, "part": part, **fields}


# --------------------------------------------------------------------------- points


def test_adding_a_point_makes_the_data_custom_and_keeps_the_weights(tab):
    got = tab.start(SMALL)
    before = got["frame"]
    train = got["data"]["train"]
    replies, state = reply_to(tab, points_message("add", x=[1.25, -0.5], t=1))
    data = data_of(replies)
    assert data["train"] == train + [[1.25, -0.5, 1]]
    assert data["test"] == got["data"]["test"]
    assert data["classes"] == 2 and data["task"] == "classification"
    assert data["truth"] is None  # the circle's rule no longer says what the points are
    assert state["settings"]["dataset"] == "custom"
    assert state["run"] == got["state"]["run"]  # the same network
    np.testing.assert_array_equal(tab.frames[-1].weights, before.weights)


def test_move_and_delete_change_exactly_the_point_named(tab):
    got = tab.start(SMALL)
    test = got["data"]["test"]
    replies, _ = reply_to(tab, points_message("move", "test", index=2, x=[-4.5, 4.5]))
    moved = data_of(replies)["test"]
    assert moved[2] == [-4.5, 4.5, test[2][2]]
    assert moved[:2] + moved[3:] == test[:2] + test[3:]
    replies, _ = reply_to(tab, points_message("delete", "test", index=0))
    assert data_of(replies)["test"] == moved[1:]


def test_the_extent_grows_to_hold_a_point_far_out(tab):
    got = tab.start(SMALL)
    replies, _ = reply_to(tab, points_message("add", "test", x=[4.0, -3.0], t=0))
    x_min, x_max, y_min, y_max = data_of(replies)["extent"]
    assert x_max > 4.0 and y_min < -3.0
    assert got["data"]["extent"][1] < 4.0


def test_training_after_an_edit_uses_the_edited_points(tab):
    """One epoch on the edited points equals model.fit on them from the same weights."""
    from backprop_lab.runs.runner import build_model
    from backprop_lab.serve.run_settings import run_settings

    got = tab.start({**SMALL, "layers": [{"units": 3, "activation": "tanh"}]})
    tab.hidden_units = 3
    replies, state = reply_to(tab, points_message("delete", index=0))
    train = np.array(data_of(replies)["train"])
    start = got["frame"]  # an edit keeps the weights
    tab.send({"type": "step", "unit": "epoch"})
    after = tab.frame(lambda meta: meta["epoch"] == 1)
    model = build_model(run_settings(state["settings"]), 2, 2)
    weights = [w.astype(np.float32) for pair in layer_weights(start, [2, 3, 1]) for w in pair]
    model.set_weights(weights)
    # The session keeps the unrounded points; the message rounds to 5 decimals.
    model.fit(train[:, :2], train[:, 2].astype(int), 32, epochs=1, verbose=0)
    want = np.concatenate([w.ravel() for w in model.get_weights()])
    np.testing.assert_allclose(after.weights, want, rtol=1e-3, atol=1e-4)
    assert got["state"]["run"] == state["run"]


def test_a_regression_point_takes_a_value_and_widens_the_value_range(tab):
    tab.start({**SMALL, "dataset": "plane"})
    replies, state = reply_to(tab, points_message("add", x=[0.5, 0.5], t=123.5))
    data = data_of(replies)
    assert data["train"][-1] == [0.5, 0.5, 123.5]
    assert data["task"] == "regression" and data["value_range"][1] == 123.5
    assert state["loss"] == "mse"


@pytest.mark.parametrize(
    "message, word",
    [
        (points_message("add", x=[0.0, 0.0], t=2), "t must be a class from 0 to 1"),
        (points_message("add", x=[0.0, 0.0], t=0.5), "t must be a class"),
        (points_message("move", index=5000, x=[0.0, 0.0]), "index must be a point of the train"),
        (points_message("delete", "test", index=40), "index must be a point of the test"),
    ],
)
def test_what_the_session_refuses_changes_nothing(tab, message, word):
    got = tab.start(SMALL)
    replies, state = reply_to(tab, message)
    assert [m["type"] for m in replies] == ["error"], replies
    assert word in replies[0]["message"]
    assert state["settings"]["dataset"] == "circle"
    replies, _ = reply_to(tab, points_message("add", x=[0.0, 0.0], t=0))
    assert len(data_of(replies)["train"]) == len(got["data"]["train"]) + 1


def test_a_part_keeps_at_least_one_point(tab):
    tab.start({"points": 10, "test_ratio": 0.1})
    replies, _ = reply_to(tab, points_message("delete", "test", index=0))
    assert "at least 1 point" in errors(replies)[0]["message"]


def test_at_most_max_points_in_all(tab):
    tab.start({"points": 20000, "layers": []})
    replies, _ = reply_to(tab, points_message("add", x=[0.0, 0.0], t=0))
    assert "at most 20000 points" in errors(replies)[0]["message"]


def test_custom_classes_and_dataset_are_not_settings_a_tab_can_choose(tab):
    tab.start(SMALL)
    replies, _ = reply_to(tab, {"type": "settings", "settings": {"dataset": "custom"}})
    assert errors(replies)[0]["field"] == "dataset"
    reply_to(tab, points_message("add", x=[0.0, 0.0], t=0))
    replies, state = reply_to(tab, {"type": "settings", "settings": {"classes": 3}})
    assert errors(replies)[0]["field"] == "classes"
    # Noise and the number of points do not make custom points again.
    state, seen = tab.barrier({"noise": 0.5, "points": 100, "dataset": "custom"})
    assert not [m for m in seen if isinstance(m, dict) and m["type"] == "data"]
    # Another dataset makes its points again.
    _, seen = tab.barrier({"dataset": "xor"})
    assert [m for m in seen if isinstance(m, dict) and m["type"] == "data"]


def test_a_new_seed_on_custom_points_draws_new_weights_on_the_same_points(tab):
    tab.start(SMALL)
    first = tab.frames[0]
    reply_to(tab, points_message("add", x=[0.0, 0.0], t=0))
    state, seen = tab.barrier({"seed": 4})
    assert not [m for m in seen if isinstance(m, dict) and m["type"] == "data"]
    frame = tab.frame(lambda meta: meta["run"] == state["run"])
    assert not np.array_equal(frame.weights, first.weights)


@pytest.mark.parametrize(
    "message, word",
    [
        ({"type": "points", "action": "paint", "part": "train"}, "action must be one of"),
        ({"type": "points", "action": "add", "part": "train", "x": [0, 0]}, "carries"),
        (points_message("add", "valid", x=[0, 0], t=0), "part must be one of"),
        (points_message("add", x=[0, 5.5], t=0), "x must be [x1, x2]"),
        (points_message("add", x=[0, True], t=0), "x must be [x1, x2]"),
        (points_message("add", x=[0], t=0), "x must be [x1, x2]"),
        (points_message("add", x=[0, 0], t="1"), "t must be a class"),
        (points_message("add", x=[0, 0], t=1e7), "t must be a class"),
        (points_message("add", x=[0, 0], t=True), "t must be a class"),
        (points_message("move", index=-1, x=[0, 0]), "index must be"),
        (points_message("delete", index=1.5), "index must be"),
        ({"type": "upload", "csv": 5}, "csv must be"),
        ({"type": "upload", "csv": "x" * 530_000}, "csv may hold at most 524288 bytes"),
    ],
)
def test_each_field_is_checked_with_one_line_naming_it(message, word):
    with pytest.raises(ProtocolError) as e:
        parse_message(json.dumps(message))
    assert word in str(e.value) and "\n" not in str(e.value)


def test_a_message_over_64_kib_is_refused_but_for_an_upload():
    big = " " * 70_000
    with pytest.raises(ProtocolError, match="at most 65536 bytes"):
        parse_message('{"type": "pause"}' + big)
    with pytest.raises(ProtocolError, match="at most 65536 bytes"):
        parse_message("not json" + big)
    text = "1,2,0\n" * 15_000  # 90,000 bytes of CSV
    assert parse_message(json.dumps({"type": "upload", "csv": text}))["csv"] == text
    with pytest.raises(ProtocolError, match="at most 65536 bytes"):
        parse_message(json.dumps({"type": "upload", "csv": text * 8}))  # over 600 KB
    assert protocol.LIMITS["max_upload_message_bytes"] < 2**20  # uvicorn's WS_MAX_SIZE


# --------------------------------------------------------------------------- upload


def csv_text(X, y) -> str:
    rows = ["x1,x2,label"] + [f"{a!r},{b!r},{t!r}" for (a, b), t in zip(X.tolist(), y.tolist())]
    return "\n".join(rows) + "\n"


def test_an_upload_is_split_as_backprop_lab_train_splits_a_csv_file(tab, tmp_path):
    from backprop_lab.data.datasets import make_gaussians
    from backprop_lab.runs.runner import load_data
    from backprop_lab.runs.settings import Settings

    X, y = make_gaussians(300, n_classes=3, random_state=1)
    got = tab.start({"seed": 7, "test_ratio": 0.25})
    replies, state = reply_to(tab, {"type": "upload", "csv": csv_text(X, y)})
    data = data_of(replies)
    assert state["settings"]["dataset"] == "custom" and state["settings"]["classes"] == 3
    assert state["loss"] == "sparse_categorical_crossentropy"
    assert state["run"] > got["state"]["run"]  # a new network
    assert data["classes"] == 3 and data["task"] == "classification"
    path = tmp_path / "points.csv"
    save_csv(path, X, y)
    want = load_data(Settings(dataset=f"csv:{path}", seed=7, test_size=0.25).validate())
    for part in ("train", "test"):
        got_points = np.array(data[part])
        np.testing.assert_allclose(got_points[:, :2], getattr(want, f"X_{part}"), atol=1e-5)
        np.testing.assert_array_equal(got_points[:, 2], getattr(want, f"y_{part}"))


def test_a_csv_of_real_targets_is_a_regression(tab):
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (50, 2))
    tab.start(SMALL)
    replies, state = reply_to(tab, {"type": "upload", "csv": csv_text(X, X[:, 0] * 2.5)})
    data = data_of(replies)
    assert data["task"] == "regression" and state["loss"] == "mse"
    assert len(data["train"]) + len(data["test"]) == 50


@pytest.mark.parametrize(
    "text, word",
    [
        ("x1,x2,label\n0,0,0\n1,1\n", "CSV line 3: expected 3 columns, got 2"),
        ("0,0,0\n1,1,zero\n", "CSV line 2: could not parse 'zero'"),
        ("0,0,0,1\n1,1,1,0\n", "expected 3 columns (x1,x2,label), got 4"),
        ("0,0,0\n1,1,0\n", "every label is class 0"),
        ("".join(f"0,0,{k}\n" for k in range(8)), "make 8 classes; at most 6"),
        ("0,0,0\n1,1,2\n", "class 1 has no points"),
        # data row 2 is on line 4 (a header, a blank line): errors name the line
        ("x1,x2,label\n0,0,0\n\n9,1,1\n", "CSV line 4: coordinates must be within [-5, 5]"),
        ("x1,x2,t\n0,0,0.5\n\n1,1,2e7\n", "CSV line 4: targets must be within"),
        ("0,0,0.5\n", "need at least 2 rows"),
        ("x1,x2,label\n", "no data rows"),
        ("", "empty"),
        ("0,0,0\n1,1,1\n" * 10_001, "CSV line 20001: more than 20000 data rows"),
    ],
)
def test_a_bad_csv_gets_one_error_naming_the_line_and_changes_nothing(tab, text, word):
    got = tab.start(SMALL)
    replies, state = reply_to(tab, {"type": "upload", "csv": text})
    assert [m["type"] for m in replies] == ["error"], replies
    assert word in replies[0]["message"], replies[0]
    assert state["settings"]["dataset"] == "circle" and state["run"] == got["state"]["run"]


def test_an_upload_over_512_kib_is_refused_and_the_tab_goes_on(tab):
    tab.start(SMALL)
    text = "0.123456789,0.987654321,1\n" * 21_000  # 567,000 bytes
    replies, state = reply_to(tab, {"type": "upload", "csv": text})
    assert "at most 524288 bytes" in errors(replies)[0]["message"]
    replies, _ = reply_to(tab, {"type": "upload", "csv": "0,0,0\n1,1,1\n0,1,0\n1,0,1\n"})
    assert data_of(replies)["classes"] == 2


def test_a_message_between_600_kb_and_1_mib_is_refused_not_closed(tab):
    tab.start(SMALL)
    replies, _ = reply_to(tab, {"type": "upload", "csv": "x" * 700_000})
    assert "an upload 614400" in errors(replies)[0]["message"]
    replies, _ = reply_to(tab, {"type": "settings", "settings": {"lr": 0.5, "pad": "x" * 70_000}})
    assert "at most 65536 bytes" in errors(replies)[0]["message"]


def test_a_link_asking_for_custom_data_opens_on_the_default_dataset(tab):
    tab.next()  # hello
    tab.send({"type": "settings", "settings": {**SMALL, "dataset": "custom"}})
    error = tab.text("error")
    assert error["field"] == "dataset" and "editing points or uploading" in error["message"]
    state = tab.text("state")
    assert state["settings"]["dataset"] == "circle" and state["settings"]["points"] == 200


def test_parse_csv_gives_the_line_of_each_data_row():
    from backprop_lab.data.csvio import parse_csv

    X, y, lines = parse_csv("x1,x2,label\n0,0,0\n\n1,1,1\n2,2,1\n", with_lines=True)
    assert lines.tolist() == [2, 4, 5] and y.tolist() == [0, 1, 1]
    X, y, lines = parse_csv("1,2\n\n3,4\n", labelled=False, with_lines=True)
    assert y is None and lines.tolist() == [1, 3] and X.shape == (2, 2)
    assert len(parse_csv("0,0,0\n1,1,1\n")) == 2  # the lines only when asked for
