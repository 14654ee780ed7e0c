"""The playground's messages: the settings schema and the checks of every message.

Everything a tab sends passes through :func:`parse_message` before it touches a
session, so a message is either valid as a whole or refused as a whole with a
:class:`ProtocolError` whose one-line text names the field and what is allowed.
The schema is bounded (at most 6 layers of 16 units, 20,000 points, rates in
range, names from fixed lists) so no message can ask for unbounded work.
docs/playground-protocol.md is the human-readable form of this module.
"""

from __future__ import annotations

import json
import math
from numbers import Integral, Real
from typing import Any

from ..data.datasets import DATASETS, MULTICLASS, REGRESSION
from ..runs.settings import RUN_LOSSES, output_for
from .features import FEATURES

VERSION = 1
MAX_CLASSES = 6

LIMITS = {
    "max_layers": 6,
    "max_units": 16,
    "min_points": 10,
    "max_points": 20000,
    "max_message_bytes": 65536,
    # Own data (serve/userdata.py): points within +-5 on both axes, targets within +-1e6;
    # an upload's CSV text up to 512 KiB in a message of up to 600 KB (that type only).
    "max_coordinate": 5.0,
    "max_target": 1e6,
    "max_upload_bytes": 512 * 1024,
    "max_upload_message_bytes": 600 * 1024,
    # The timeline (serve/timeline.py): snapshots per session and the bytes they may hold.
    "max_snapshots": 200,
    "max_snapshot_bytes": 16 * 2**20,
    # Export (serve/export.py): run folders one session may write under --out.
    "max_run_exports": 20,
}

# The article's run: the circle, 5,000 points, 8 ReLU units, SGD at 0.01, batches of 32.
DEFAULTS: dict[str, Any] = {
    "dataset": "circle",
    "classes": 2,
    "points": 5000,
    "noise": 0.0,
    "test_ratio": 0.2,
    "features": ["x1", "x2"],
    "layers": [{"units": 8, "activation": "relu"}],
    "regularization": "none",
    "reg_rate": 0.0,
    "optimizer": "sgd",
    "lr": 0.01,
    "batch_size": 32,
    "loss": "auto",
    "speed": 20.0,
    "seed": 0,
    "weights": 0,
}

CHOICES: dict[str, list[str]] = {
    "dataset": list(DATASETS),
    "features": list(FEATURES),
    "activation": ["relu", "tanh", "sigmoid", "linear", "leaky_relu"],
    "regularization": ["none", "l1", "l2"],
    "optimizer": ["sgd", "momentum", "adam", "rmsprop", "adagrad"],
    "loss": list(RUN_LOSSES),
}

# What the page is told: the names above, and which datasets take classes or are surfaces.
HELLO_CHOICES = {**CHOICES, "multiclass": list(MULTICLASS), "regression": list(REGRESSION)}

# Numeric settings: (integer?, lowest, highest).
RANGES: dict[str, tuple[bool, float, float]] = {
    "classes": (True, 2, MAX_CLASSES),
    "points": (True, LIMITS["min_points"], LIMITS["max_points"]),
    "noise": (False, 0.0, 1.0),
    "test_ratio": (False, 0.05, 0.95),
    "reg_rate": (False, 0.0, 10.0),
    "lr": (False, 1e-5, 10.0),
    "batch_size": (True, 1, LIMITS["max_points"]),
    "speed": (False, 0.1, 5000.0),
    "seed": (True, 0, 2**32 - 1),
    "weights": (True, 0, 2**32 - 1),
}

# What each message type carries besides "type".
MESSAGE_FIELDS = {
    "settings": {"settings"},
    "play": set(),
    "pause": set(),
    "step": {"unit"},
    "reset": set(),
    "ack": {"seq"},
    "focus": {"neuron"},
    "points": {"action"},  # and the fields of its action: POINTS_FIELDS
    "upload": {"csv"},
    "export": {"what"},
    "seek": {"index"},  # the timeline, the divergence's rewind and the inspector (S1)
    "rewind": set(),
    "inspect": {"scope"},  # and "index" when the scope is "point"
    "landscape": set(),  # the loss landscape around the current weights (landscape.py)
}
INSPECT_SCOPES = ["point", "batch", None]
POINTS_FIELDS = {
    "add": {"part", "x", "t"},
    "move": {"part", "index", "x"},
    "delete": {"part", "index"},
}
EXPORTS = ["command", "toml", "safetensors", "keras", "run"]


class ProtocolError(ValueError):
    """A refused message: ``str(error)`` is the one line sent to the tab.

    Parameters
    ----------
    message : str
    field : str, optional
        The setting at fault, when there is one.
    """

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field

    def to_message(self) -> dict:
        out = {"type": "error", "message": str(self)}
        if self.field:
            out["field"] = self.field
        return out


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _number(name: str, value: Any) -> int | float:
    integer, lo, hi = RANGES[name]
    allowed = f"{name} must be {'an integer' if integer else 'a number'} from {lo:g} to {hi:g}"
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ProtocolError(f"{allowed}, got {_short(value)}", name)
    if not math.isfinite(value) or not lo <= value <= hi:
        raise ProtocolError(f"{allowed}, got {_short(value)}", name)
    if integer:
        if not isinstance(value, Integral) and not float(value).is_integer():
            raise ProtocolError(f"{allowed}, got {value!r}", name)
        return int(value)
    return float(value)


def _choice(name: str, value: Any, choices: list[str] | None = None) -> str:
    choices = choices or CHOICES[name]
    if not isinstance(value, str) or value not in choices:
        allowed = ", ".join(choices)
        raise ProtocolError(f"{name} must be one of {allowed}, got {_short(value)}", name)
    return value


def _features(value: Any) -> list[str]:
    if not isinstance(value, list) or not value or len(value) > len(FEATURES):
        raise ProtocolError(
            f"features must be a list of one or more of {', '.join(FEATURES)}, got {_short(value)}",
            "features",
        )
    names = [_choice("features", v) for v in value]
    if len(set(names)) != len(names):
        raise ProtocolError(f"features lists a feature twice: {_short(value)}", "features")
    return names


def _layers(value: Any) -> list[dict]:
    most, widest = LIMITS["max_layers"], LIMITS["max_units"]
    if not isinstance(value, list) or len(value) > most:
        raise ProtocolError(
            f"layers must be a list of at most {most} hidden layers, got {_short(value)}", "layers"
        )
    layers = []
    for i, layer in enumerate(value, 1):
        if not isinstance(layer, dict) or set(layer) != {"units", "activation"}:
            raise ProtocolError(
                f"layer {i} must be {{units, activation}}, got {_short(layer)}", "layers"
            )
        units = layer["units"]
        if isinstance(units, bool) or not isinstance(units, int) or not 1 <= units <= widest:
            raise ProtocolError(
                f"layer {i} must have 1 to {widest} units (the diagram draws every unit "
                f"as a live map), got {_short(units)}",
                "layers",
            )
        try:
            act = _choice("activation", layer["activation"])
        except ProtocolError as e:
            raise ProtocolError(f"layer {i}: {e}", "layers") from None
        layers.append({"units": units, "activation": act})
    return layers


_CHECKS = {
    "dataset": lambda v: _choice("dataset", v, [*CHOICES["dataset"], "custom"]),
    "features": _features,
    "layers": _layers,
    "regularization": lambda v: _choice("regularization", v),
    "optimizer": lambda v: _choice("optimizer", v),
    "loss": lambda v: _choice("loss", v),
    **{name: (lambda v, name=name: _number(name, v)) for name in RANGES},
}
assert set(_CHECKS) == set(DEFAULTS)


def task_of(dataset: str) -> str:
    return "regression" if dataset in REGRESSION else "classification"


def merge_settings(current: dict, changes: Any, task: str | None = None) -> dict:
    """``current`` updated with ``changes``, each value checked, then the whole.

    Raises
    ------
    ProtocolError
        For an unknown key, a bad value, or a combination that does not fit
        (classes on a two-class dataset, a loss the problem cannot take).

    ``task`` is the problem of the current data when it is ``"custom"``
    (points of the tab's own, which only ``points`` and ``upload`` make).
    """
    if not isinstance(changes, dict):
        raise ProtocolError(f"settings must be an object of settings, got {_short(changes)}")
    merged = dict(current)
    for key, value in changes.items():
        if key not in _CHECKS:
            raise ProtocolError(
                f"unknown setting {_short(key)}; the settings are {', '.join(DEFAULTS)}"
            )
        merged[key] = _CHECKS[key](value)
    if merged["dataset"] == "custom":
        return _merge_custom(current, merged, task)
    if merged["dataset"] != current["dataset"]:
        # A new dataset brings its own problem: unless given, classes and loss follow it.
        if "classes" not in changes and merged["dataset"] not in MULTICLASS:
            merged["classes"] = 2
        if "loss" not in changes:
            merged["loss"] = "auto"
    if merged["classes"] != 2 and merged["dataset"] not in MULTICLASS:
        raise ProtocolError(
            f"classes must be 2 for {merged['dataset']}; only {', '.join(MULTICLASS)} take more",
            "classes",
        )
    points, ratio = merged["points"], merged["test_ratio"]
    held_out = math.ceil(ratio * points)  # as train_test_split counts the test part
    if held_out >= points:
        raise ProtocolError(
            f"test_ratio {ratio:g} of {points} points leaves no training point; "
            f"lower it or add points",
            "test_ratio",
        )
    try:
        output_for(task_of(merged["dataset"]), merged["classes"], merged["loss"])
    except ValueError as e:
        raise ProtocolError(str(e), "loss") from None
    return merged


def _merge_custom(current: dict, merged: dict, task: str | None) -> dict:
    """The settings of custom points: their classes follow the points, not a setting."""
    if current["dataset"] != "custom":
        raise ProtocolError(
            "dataset custom comes from editing points or uploading a CSV; choose a named dataset",
            "dataset",
        )
    if merged["classes"] != current["classes"]:
        raise ProtocolError(
            f"classes follow the custom points ({current['classes']}); choose a named dataset "
            "to change them",
            "classes",
        )
    try:
        output_for(task or "classification", merged["classes"], merged["loss"])
    except ValueError as e:
        raise ProtocolError(str(e), "loss") from None
    return merged


def _coordinates(value: Any) -> list[float]:
    bound = LIMITS["max_coordinate"]
    if not (
        isinstance(value, list)
        and len(value) == 2
        and all(
            isinstance(v, Real)
            and not isinstance(v, bool)
            and math.isfinite(v)
            and -bound <= v <= bound
            for v in value
        )
    ):
        raise ProtocolError(
            f"x must be [x1, x2] with both within [-{bound:g}, {bound:g}], got {_short(value)}"
        )
    return [float(v) for v in value]


def _check_points(message: dict) -> None:
    """The fields of a ``points`` message, each on its own (the session checks the rest)."""
    _choice("part", message["part"], ["train", "test"])
    if "x" in message:
        message["x"] = _coordinates(message["x"])
    if "index" in message:
        index = message["index"]
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < 2**31:
            raise ProtocolError(f"index must be a point's index (0 or more), got {_short(index)}")
    if "t" in message:
        t, top = message["t"], LIMITS["max_target"]
        if isinstance(t, bool) or not isinstance(t, Real) or not math.isfinite(t) or abs(t) > top:
            raise ProtocolError(
                f"t must be a class (0, 1, ...) or a target value within ±{top:g}, got {_short(t)}"
            )


def _check_upload(message: dict) -> None:
    text, most = message["csv"], LIMITS["max_upload_bytes"]
    if not isinstance(text, str):
        raise ProtocolError(f"csv must be the CSV file's text, got {_short(text)}")
    if len(text) > most or len(text.encode("utf-8", "replace")) > most:
        raise ProtocolError(f"csv may hold at most {most} bytes ({most // 1024} KiB)")


def _check_index(name: str, value: Any) -> int:
    """An index into a list the session holds (the session checks its upper end)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**31:
        raise ProtocolError(f"{name} must be an integer from 0, got {_short(value)}")
    return value


def _inspect_fields(message: dict) -> set:
    scope = message.get("scope")
    if not (scope is None or isinstance(scope, str)) or scope not in INSPECT_SCOPES:
        raise ProtocolError(f'scope must be "point", "batch" or null, got {_short(scope)}')
    return {"index"} if scope == "point" else set()


NOT_AN_OBJECT = 'a message must be a JSON object such as {"type": "play"}'


def _reject_constant(name: str):
    raise ProtocolError(f"{name} is not a number JSON allows")


def parse_message(
    text: Any,
    max_bytes: int = LIMITS["max_message_bytes"],
    max_upload_bytes: int = LIMITS["max_upload_message_bytes"],
) -> dict:
    """Check one message from a tab; returns it as a dict with a known ``type``.

    Parameters
    ----------
    text : str
        The text of a WebSocket message (binary messages are refused before this).
    max_bytes : int
        The largest message accepted.
    max_upload_bytes : int
        The largest ``upload`` message accepted (a CSV file's text).

    Raises
    ------
    ProtocolError
        One line naming what is wrong and what is allowed.
    """
    if not isinstance(text, str):
        raise ProtocolError("messages must be JSON text; binary messages are not accepted")
    too_big = ProtocolError(
        f"a message may hold at most {max_bytes} bytes (an upload {max_upload_bytes})"
    )
    cap = max(max_bytes, max_upload_bytes)
    size = len(text) if len(text) > cap else len(text.encode("utf-8", "replace"))
    if size > cap:
        raise too_big
    try:
        message = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as e:
        if isinstance(e, ProtocolError) and size <= max_bytes:
            raise
        raise too_big if size > max_bytes else ProtocolError(NOT_AN_OBJECT) from None
    if size > max_bytes and not (isinstance(message, dict) and message.get("type") == "upload"):
        raise too_big
    if not isinstance(message, dict):
        raise ProtocolError(NOT_AN_OBJECT)
    kind = message.get("type")
    if not isinstance(kind, str) or kind not in MESSAGE_FIELDS:
        raise ProtocolError(f"type must be one of {', '.join(MESSAGE_FIELDS)}, got {_short(kind)}")
    fields = MESSAGE_FIELDS[kind]
    if kind == "points":
        _choice("action", message.get("action"), list(POINTS_FIELDS))
        fields = fields | POINTS_FIELDS[message["action"]]
    elif kind == "inspect":
        fields = fields | _inspect_fields(message)
    if set(message) - {"type"} != fields:
        wanted = ", ".join(sorted(fields)) or "nothing else"
        raise ProtocolError(f"a {kind} message carries {wanted}, got {', '.join(sorted(message))}")
    if kind == "step":
        _choice("unit", message["unit"], ["batch", "epoch"])
    elif kind == "ack":
        seq = message["seq"]
        if isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq < 2**53:
            raise ProtocolError(f"seq must be a frame number, got {_short(seq)}")
    elif kind == "focus":
        neuron = message["neuron"]
        if neuron is not None and not (
            isinstance(neuron, list)
            and len(neuron) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in neuron)
        ):
            raise ProtocolError(f"neuron must be [layer, index] or null, got {_short(neuron)}")
    elif kind == "points":
        _check_points(message)
    elif kind == "upload":
        _check_upload(message)
    elif kind == "export":
        _choice("what", message["what"], EXPORTS)
    elif kind == "seek" or (kind == "inspect" and "index" in message):
        _check_index("index", message["index"])
    return message
