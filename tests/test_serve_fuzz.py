"""Fuzzing the playground's WebSocket: thousands of random and malformed messages.

One tab (the fuzzer) sends them in chunks while a second tab trains. After
every chunk a barrier (a settings message with a seed no fuzz message uses)
collects the replies of that chunk: each is a JSON object of a known type or a
frame, none shows a traceback or a server path, and the number of ``error``
replies lies between the number of messages that are invalid by construction
and that number plus the messages whose validity the protocol leaves open.
Afterwards ``/healthz`` answers 200, the trainer's epochs have kept rising and
the fuzzer's session still obeys a valid message. The random numbers are
seeded, so a failure repeats.
"""

from __future__ import annotations

import json
import random

from test_serve_protocol import DEFAULTS, Closed, Frame, Session, TestClient

from backprop_lab.serve.app import create_app
from backprop_lab.serve.config import ServeConfig

INVALID, VALID, UNCLEAR = "invalid", "valid", "unclear"
SETTING_KEYS = list(DEFAULTS)
# The fuzzer's own settings never use these seeds; the barrier after each chunk does.
BARRIER_SEED = 3_000_000_000
# Garbage never holds "/" or ".", so an echoed value cannot look like a server path.
ALPHABET = "abcdefghijklmnopqrstuvwxyzABCXYZ0123456789 _-:;,!?#@$%^&*()[]{}<>=+~'\"\\\t"


def garbage(rng: random.Random, n: int | None = None) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(n or rng.randint(1, 60)))


BAD_VALUES = {
    "dataset": ["../etc/passwd", "csv:x", "", "CIRCLES", 3, None, ["circle"]],
    "classes": [1, 7, 2.5, "3", True, -2, 10**12],
    "points": [9, 20001, 10**9, -5, 1.5, "5000", True, None],
    "noise": [-0.1, 1.01, "0", [], {}, 1e308 * 10],
    "test_ratio": [0.0, 0.04, 0.96, 1, "0.2", None],
    "features": [[], ["x1", "x1"], ["x3"], "x1,x2", [1, 2], None, ["x1", None]],
    "layers": [
        [{"units": 17, "activation": "relu"}],
        [{"units": 0, "activation": "relu"}],
        [{"units": 4, "activation": "swish"}],
        [{"units": 4}],
        [{"units": "4", "activation": "relu"}],
        [{"units": 4.5, "activation": "relu"}],
        [{"units": 2, "activation": "relu"}] * 7,
        "8:relu",
        [8],
        {"units": 8},
        None,
    ],
    "regularization": ["l3", "", None, 2, "L2 "],
    "reg_rate": [-1, 10.5, "0.1", None, [0.1]],
    "optimizer": ["nadam", "", "adam ", 0, None],
    "lr": [0, -1, 1e-6, 10.5, 1e300, "0.1", None, [], True],
    "batch_size": [0, -1, 20001, 1.5, "32", None, False],
    "loss": ["hinge", "mse ", 0, None, "categorical_crossentropy"],
    "speed": [0, 0.09, 5001, -1, "20", None],
    "seed": [-1, 2**32, 1.5, "0", None, [0], True],
    "weights": [-1, 2**32, 2.5, "1", None, [1], False],
}


def valid_message(rng: random.Random) -> dict:
    """A message the protocol accepts, cheap enough to send hundreds of times."""
    kind = rng.choice(["play", "pause", "step", "reset", "focus", "settings", "settings"])
    if kind == "step":
        return {"type": "step", "unit": rng.choice(["batch", "epoch"])}
    if kind == "focus":
        return {"type": "focus", "neuron": rng.choice([None, [0, rng.randrange(8)]])}
    if kind != "settings":
        return {"type": kind}
    choices = {
        "lr": lambda: 10 ** rng.uniform(-5, 1),
        "speed": lambda: rng.choice([0.1, 1, 20, 100, 200]),
        "batch_size": lambda: rng.choice([8, 32, 100, 512]),
        "noise": lambda: round(rng.uniform(0, 1), 3),
        "optimizer": lambda: rng.choice(["sgd", "momentum", "adam", "rmsprop", "adagrad"]),
        "seed": lambda: rng.randrange(100),
        "test_ratio": lambda: round(rng.uniform(0.05, 0.95), 3),
        "features": lambda: rng.sample(["x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1"], 2),
        "regularization": lambda: rng.choice(["none", "l1", "l2"]),
        "reg_rate": lambda: rng.choice([0, 0.001, 0.1]),
    }
    keys = rng.sample(list(choices), rng.randint(1, 3))
    return {"type": "settings", "settings": {k: choices[k]() for k in keys}}


def deep(depth: int) -> str:
    return "[" * depth + "]" * depth


def fuzz_message(rng: random.Random):
    """(how, payload, label): how is "text" or "bytes"."""
    r = rng.random()
    if r < 0.25:
        return "text", json.dumps(valid_message(rng)), VALID
    if r < 0.35:  # not JSON at all
        return "text", "x" + garbage(rng), INVALID
    if r < 0.42:  # a valid message cut short (never a whole object)
        text = json.dumps(valid_message(rng))
        return "text", text[: rng.randrange(1, len(text))], INVALID
    if r < 0.47:  # JSON, but not an object
        values = ["42", "[]", '"play"', "null", "true", "NaN", "-Infinity", "1e400", "[{}]"]
        return "text", rng.choice(values), INVALID
    if r < 0.55:  # unknown or missing type
        message = rng.choice(
            [
                {"type": garbage(rng)},
                {"type": rng.choice([3, None, ["play"], {"t": 1}, True])},
                {"settings": {"lr": 0.1}},
                {},
                {"type": "\ud800"},
            ]
        )
        return "text", json.dumps(message), INVALID
    if r < 0.75:  # a bad value of one setting, maybe next to good ones
        key = rng.choice(SETTING_KEYS)
        settings = valid_message(rng).get("settings", {}) if rng.random() < 0.3 else {}
        settings[key] = rng.choice(BAD_VALUES[key])
        return "text", json.dumps({"type": "settings", "settings": settings}), INVALID
    if r < 0.80:  # NaN, Infinity and huge numbers written into the JSON text
        key = rng.choice(["lr", "noise", "points", "seed", "speed", "reg_rate", "batch_size"])
        literal = rng.choice(["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "9" * 5000])
        return "text", '{"type":"settings","settings":{"' + key + '":' + literal + "}}", INVALID
    if r < 0.84:  # wrong fields of the other messages
        message = rng.choice(
            [
                {"type": "step", "unit": rng.choice(["year", "", None, 1, ["batch"]])},
                {"type": "step"},
                {"type": "focus"},
                {"type": "focus", "neuron": rng.choice([[0, 8], [1, 0], [-1, 0], "0", [0.5, 0]])},
                {"type": "ack", "seq": rng.choice(["x", None, [], {}, 1.5])},
                {"type": "ack"},
                {"type": "settings", "settings": rng.choice([None, [], "lr=0.1", 3])},
                {"type": "settings", "settings": {garbage(rng, 8): 1}},
                {"type": "settings", "settings": {"\udfff": 1}},
                {"type": "seek", "index": rng.choice(["0", None, -1, 1.5, [0]])},
                {"type": "seek"},
                {"type": "rewind", "lr": 0.1},
                {"type": "inspect", "scope": rng.choice(["points", 3, None, "all"]), "index": 0},
                {"type": "points", "action": rng.choice(["fly", None, 1]), "part": "train"},
                {
                    "type": "points",
                    "action": "add",
                    "part": rng.choice(["train", "validation"]),
                    "x": [rng.choice(["a", 1e9, None]), 0],
                    "t": 0,
                },
                {"type": "upload", "csv": rng.choice([None, 3, ["x1,x2,label"]])},
                {"type": "export", "what": rng.choice(["pdf", None, 1, "../x"])},
            ]
        )
        return "text", json.dumps(message), INVALID
    if r < 0.87:  # deep nesting, under and over the size limit
        depth = rng.choice([1_000, 20_000, 40_000])
        inner = deep(depth)
        text = rng.choice(
            [inner, '{"type":"settings","settings":{"layers":' + inner + "}}", "[" * depth]
        )
        return "text", text, INVALID
    if r < 0.93:  # binary: garbage, a truncated frame, nothing
        blob = rng.choice(
            [
                bytes(rng.randrange(256) for _ in range(rng.randint(1, 200))),
                b"BPLF" + bytes(rng.randrange(256) for _ in range(rng.randint(0, 40))),
                b"",
                json.dumps({"type": "play"}).encode(),
            ]
        )
        return "bytes", blob, INVALID
    if r < 0.95:  # over the size limit
        return "text", json.dumps({"type": "pause", "pad": "p" * 70_000}), INVALID
    # The protocol does not say: an extra field, an ack of a frame never sent.
    message = rng.choice(
        [
            {"type": "pause", "extra": 1},
            {"type": "ack", "seq": rng.choice([-1, 0, 10**6, 2**70])},
            {"type": "settings", "settings": {}, "id": garbage(rng, 5)},
        ]
    )
    return "text", json.dumps(message), UNCLEAR


def send(ws, how: str, payload) -> None:
    if how == "text":
        ws.send_text(payload)
    else:
        ws.send_bytes(payload)


def test_fuzzing_one_session_leaves_the_server_and_the_other_session_well():
    rng = random.Random(0)
    chunks, per_chunk = 50, 100
    labels_seen = {INVALID: 0, VALID: 0, UNCLEAR: 0}
    with TestClient(create_app(ServeConfig())) as client:
        with client.websocket_connect("/ws") as wt, client.websocket_connect("/ws") as wf:
            trainer, fuzzer = Session(wt), Session(wf)
            trainer.start({"speed": 200})
            trainer.send({"type": "play"})
            assert trainer.text("state")["playing"] is True
            fuzzer.start()
            epochs = [trainer.frame().meta["epoch"]]
            for chunk in range(chunks):
                plan = [fuzz_message(rng) for _ in range(per_chunk)]
                if chunk == 0:
                    plan.append(
                        ("text", '{"type":"pause","pad":"' + "z" * 10_000_000 + '"}', INVALID)
                    )
                    plan.append(("bytes", bytes(10_000_000), INVALID))
                counts = {INVALID: 0, VALID: 0, UNCLEAR: 0}
                for how, payload, label in plan:
                    send(fuzzer.ws, how, payload)
                    counts[label] += 1
                seed = BARRIER_SEED + chunk
                fuzzer.send({"type": "settings", "settings": {"seed": seed}})
                _, replies = fuzzer.until(
                    lambda m, s=seed: (
                        isinstance(m, dict) and m["type"] == "state" and m["settings"]["seed"] == s
                    )
                )
                assert not any(isinstance(m, Closed) for m in replies)
                kinds = [m["type"] for m in replies if isinstance(m, dict)]
                assert set(kinds) <= {"error", "state", "data", "status"}, set(kinds)
                n_errors = kinds.count("error")
                low, high = counts[INVALID], counts[INVALID] + counts[UNCLEAR]
                assert low <= n_errors <= high, (
                    f"chunk {chunk}: {n_errors} errors for {counts[INVALID]} invalid and "
                    f"{counts[UNCLEAR]} unclear messages"
                )
                for label in counts:
                    labels_seen[label] += counts[label]
                # The trainer gets its next frame and trains on.
                epochs.append(trainer.frame().meta["epoch"])
                health = client.get("/healthz")
                assert health.status_code == 200 and health.json()["sessions"] == 2

            # The fuzzer's session still obeys a valid message.
            fuzzer.send({"type": "settings", "settings": {"lr": 0.5, "seed": 1}})
            state = fuzzer.text("state")
            assert state["settings"]["lr"] == 0.5 and state["settings"]["seed"] == 1
            fuzzer.send({"type": "step", "unit": "epoch"})
            stepped = fuzzer.frame(lambda meta: meta["batch"] == 0 and meta["epoch"] >= 1)
            assert isinstance(stepped, Frame)
            # The trainer never saw anything but its own frames.
            assert not [m for m in trainer.texts if m["type"] in ("error", "busy")]
    assert all(b >= a for a, b in zip(epochs, epochs[1:])), epochs
    assert epochs[-1] > epochs[0], epochs
    assert labels_seen[INVALID] >= 3000 and labels_seen[VALID] >= 1000, labels_seen
    # Every text reply was checked as it came (check_text): known type, no path, no traceback.
    assert len(fuzzer.texts) >= labels_seen[INVALID]
