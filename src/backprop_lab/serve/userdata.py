"""A tab's own data: points added, moved and deleted on the plot, and CSV text uploaded.

Either makes the session's dataset ``"custom"``.  Editing points keeps the
network and its weights (the epoch in progress starts again, on the new
points); an upload is new data, so a new network.  An uploaded CSV is parsed
in memory (``data.csvio.parse_csv``) and never written anywhere.

``protocol.parse_message`` has checked each message's fields on their own
(coordinates in range, a known part, a finite target); what depends on the
session (an index that exists, a class of the current problem, the total
number of points) is checked here, before anything changes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..data import datasets
from ..data.csvio import parse_csv
from ..runs.runner import Data, check_problem, seeds
from .protocol import LIMITS, MAX_CLASSES, ProtocolError

CUSTOM = "custom"


@dataclass
class CustomData(Data):
    """Points of a tab's own: ``classes`` stays the problem's number of classes even
    when no point of some class is left (the network keeps its outputs)."""

    classes: int = 2

    @property
    def n_classes(self) -> int:
        return 0 if self.task == "regression" else self.classes


def keys_for(dataset: str, data_keys: tuple, network_keys: tuple) -> tuple[tuple, tuple]:
    """The settings whose change makes new data, and a new network, for ``dataset``.

    Custom points are never made again: of the data settings only ``seed``
    counts, and it only draws new initial weights.
    """
    if dataset != CUSTOM:
        return data_keys, network_keys
    return (), (*network_keys, "seed")


def _custom(session) -> CustomData:
    """The session's data as custom data (a copy: a refused edit leaves the session as it was)."""
    d = session.data
    classes = d.n_classes if d.task == "classification" else 2
    return CustomData(
        d.X_train.copy(), d.y_train.copy(), d.X_test.copy(), d.y_test.copy(), None, d.task, classes
    )


def _target(data: CustomData, t) -> float | int:
    if data.task == "regression":
        return float(t)
    k = data.n_classes
    if float(t) != int(t) or not 0 <= int(t) < k:
        raise ProtocolError(f"t must be a class from 0 to {k - 1} for this problem, got {t!r}")
    return int(t)


def edit_points(session, message: dict) -> list[dict]:
    """Apply a checked ``points`` message; returns the replies (data, and state if the
    dataset just became custom).

    Raises
    ------
    ProtocolError
        For an index that is not a point of its part, a class the problem does
        not have, more points than allowed, or a part left empty.
    """
    data, action, part = _custom(session), message["action"], message["part"]
    X, y = getattr(data, f"X_{part}"), getattr(data, f"y_{part}")
    if action == "add":
        total = len(data.y_train) + len(data.y_test)
        if total >= LIMITS["max_points"]:
            raise ProtocolError(f"at most {LIMITS['max_points']} points in all; delete some first")
        X = np.vstack([X, np.asarray([message["x"]], dtype=X.dtype)])
        y = np.append(y, np.asarray(_target(data, message["t"]), dtype=y.dtype))
    else:
        index = message["index"]
        if index >= len(y):
            raise ProtocolError(
                f"index must be a point of the {part} part (0 to {len(y) - 1}), got {index}"
            )
        if action == "move":
            X[index] = message["x"]
        elif len(y) == 1:
            raise ProtocolError(f"the {part} part must keep at least 1 point")
        else:
            X, y = np.delete(X, index, axis=0), np.delete(y, index)
    setattr(data, f"X_{part}", X)
    setattr(data, f"y_{part}", y)
    became_custom = session.settings["dataset"] != CUSTOM
    session.settings["dataset"] = CUSTOM
    keep_training_state(session, data)
    replies = [session.data_message()]
    if became_custom:
        replies.append(session.state_message())
    return replies


def keep_training_state(session, data: CustomData) -> None:
    """Train the same network on ``data`` from here on: the epoch in progress restarts."""
    session.use_data(data)
    session.make_inputs()
    session.position, session.order = 0, None
    session.changed = True


def read_upload(text: str, test_ratio: float, seed: int) -> CustomData:
    """The points of uploaded CSV text (``x1,x2,label``), split as the settings say.

    Raises
    ------
    ProtocolError
        One line naming the line of the text at fault, or the limit.
    """
    most = LIMITS["max_points"]
    try:
        X, y, lines = parse_csv(text, "CSV", max_rows=most, with_lines=True)
        if X.shape[1] != 2:
            raise ValueError(f"CSV: expected 3 columns (x1,x2,label), got {X.shape[1] + 1}")
        task = "regression" if y.dtype.kind == "f" else "classification"
        check_problem(task, y, "CSV")
    except ValueError as e:
        raise ProtocolError(str(e)) from None
    bound = LIMITS["max_coordinate"]
    outside = np.flatnonzero(np.abs(X).max(axis=1) > bound)
    if len(outside):
        raise ProtocolError(
            f"CSV line {lines[outside[0]]}: coordinates must be within [-{bound:g}, {bound:g}], "
            f"got {X[outside[0]].tolist()}"
        )
    top = LIMITS["max_target"]
    if task == "regression" and np.abs(y).max() > top:
        row = int(np.flatnonzero(np.abs(y) > top)[0])
        raise ProtocolError(
            f"CSV line {lines[row]}: targets must be within ±{top:g}, got {y[row]:g}"
        )
    classes = int(y.max()) + 1 if task == "classification" else 2
    if classes > MAX_CLASSES:
        raise ProtocolError(
            f"CSV: labels up to {classes - 1} make {classes} classes; at most {MAX_CLASSES}"
        )
    if len(y) < 2:
        raise ProtocolError("CSV: need at least 2 rows, one to train on and one to test")
    if math.ceil(test_ratio * len(y)) >= len(y):  # as train_test_split counts the test part
        raise ProtocolError(
            f"CSV: {len(y)} rows with test_ratio {test_ratio:g} leave no training point"
        )
    _, split_seed, _ = seeds(seed)
    X_tr, X_te, y_tr, y_te = datasets.train_test_split(
        X, y, test_size=test_ratio, random_state=split_seed
    )
    return CustomData(X_tr, y_tr, X_te, y_te, None, task, classes)


def upload(session, text: str) -> list[dict]:
    """Take uploaded CSV text as the session's data, with a new network; returns data + state."""
    s = session.settings
    data = read_upload(text, s["test_ratio"], s["seed"])
    s.update(dataset=CUSTOM, classes=max(data.classes, 2), loss="auto")
    session.playing = False
    session.use_data(data)
    session._make_model()
    return [session.data_message(), session.state_message()]
