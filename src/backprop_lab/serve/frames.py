"""Binary frames: what the page draws, as few bytes as the picture needs.

A frame is ``b"BPLF"``, the length of a JSON header, the header, the
network's parameters, their gradient on the last trained batch and their
change since the previous frame (three float32 arrays of one length), the big
grid as uint8 and the neurons' thumbnails as uint8 (layout in
docs/playground-protocol.md).  The page colours the bytes itself, so the
article's network costs about 14 KB a frame.
"""

from __future__ import annotations

import json
import struct

import numpy as np

MAGIC = b"BPLF"


def to_bytes(values: np.ndarray, lo: float = 0.0, hi: float = 1.0) -> np.ndarray:
    """``values`` mapped linearly from ``[lo, hi]`` onto 0..255 (clipped; NaN as 0)."""
    scaled = (np.asarray(values, np.float64) - lo) * (255.0 / (hi - lo))
    return np.nan_to_num(np.clip(np.rint(scaled), 0, 255)).astype(np.uint8)


def activation_bytes(A: np.ndarray) -> np.ndarray:
    """A neuron's activations as bytes: -1 is 0, 0 is 128, +1 and above 255."""
    return to_bytes(A, -1.0, 1.0)


def output_bytes(P: np.ndarray, task: str, value_range) -> tuple[np.ndarray, str]:
    """The model's outputs on the grid as bytes, and the encoding's name.

    Parameters
    ----------
    P : ndarray of shape (n_cells, n_outputs)
    task : {"classification", "regression"}
    value_range : (float, float) or None
        The colour scale of a regression.
    """
    if task == "regression":
        return to_bytes(P[:, 0], *value_range), "value"
    if P.shape[1] == 1:
        return to_bytes(P[:, 0]), "p1"
    winner = np.argmax(P, axis=1)
    confidence = np.rint(31 * np.clip(np.nan_to_num(np.max(P, axis=1)), 0, 1))
    return (32 * winner + confidence).astype(np.uint8), "class"


def hidden_maps(model, points: np.ndarray) -> list[np.ndarray]:
    """Each hidden layer's activations on ``points``: arrays of shape (n_points, units)."""
    maps, A = [], points
    for layer in model.layers[:-1]:
        A = layer.apply(A)
        maps.append(A)
    return maps


SATURATED_SLOPE = 0.01  # f'(z) below this is flat...
SATURATED_SHARE = 0.9  # ...on at least this share of the points: saturated
FLAG_POINTS = 2000  # the neuron flags look at the first 2,000 training points


def neuron_flags(model, X: np.ndarray) -> list[list[str]]:
    """Per hidden layer, per neuron: ``""``, ``"dead"`` or ``"saturated"``.

    Dead: a ReLU-family unit whose output is 0 on every point of ``X``.
    Saturated: a sigmoid or tanh unit whose slope ``f'(z)`` is below 0.01 on at
    least 90% of the points.  ``X`` is the first ``FLAG_POINTS`` training inputs.
    """
    out = []
    for layer, A in zip(model.layers[:-1], hidden_maps(model, X[:FLAG_POINTS])):
        name = layer.activation.name
        flags = np.full(A.shape[1], "", dtype=object)
        if name in ("relu", "leaky_relu"):
            flags[np.all(A == 0, axis=0)] = "dead"
        elif name in ("sigmoid", "tanh"):
            slope = A * (1 - A) if name == "sigmoid" else 1 - A * A
            flat = np.mean(slope < SATURATED_SLOPE, axis=0) >= SATURATED_SHARE
            flags[flat] = "saturated"
        out.append(flags.tolist())
    return out


def parameter_arrays(session, params: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The gradient of the last trained batch and the change since the previous frame.

    Both float32 and as long as ``params``; the change is zero in a run's first
    frame.  Remembers ``params`` on the session for the next frame.
    """
    grads = np.concatenate([g.ravel() for g in session.model.grads]).astype("<f4")
    previous = session.frame_params
    if previous is not None and previous[0] == session.run and previous[1].shape == params.shape:
        change = params - previous[1]
    else:
        change = np.zeros_like(params)
    session.frame_params = (session.run, params)
    return grads, change


def timeline_meta(session) -> dict:
    """The frame's ``snapshots``, ``snapshot`` and ``snapshot_epochs``."""
    timeline = getattr(session, "timeline", None)
    if timeline is None:
        return {"snapshots": 0, "snapshot": None, "snapshot_epochs": []}
    return timeline.meta()


def encode(session, scores: dict) -> bytes:
    """The frame of ``session`` now: header, parameters, big grid, thumbnails.

    Parameters
    ----------
    session : Session
    scores : dict
        ``train_loss``, ``test_loss``, ``train_accuracy``, ``test_accuracy``
        and ``r2`` of the current weights (None where they do not apply).
    """
    model = session.model
    if session.focus is None:
        P = model.predict(session.inputs["grid"], verbose=0)
        grid, encoding = output_bytes(P, session.task, session.value_range)
    else:
        layer, index = session.focus
        grid = activation_bytes(hidden_maps(model, session.inputs["grid"])[layer][:, index])
        encoding = "activation"
    thumbs = [activation_bytes(A.T) for A in hidden_maps(model, session.inputs["thumb"])]
    params = np.concatenate([p.ravel() for p in model.params]).astype("<f4")
    grads, change = parameter_arrays(session, params)
    meta = {
        "seq": session.seq,
        "run": session.run,
        "epoch": session.epoch,
        "batch": session.batch,
        "steps_per_epoch": session.steps_per_epoch,
        "iterations": session.iterations,
        **scores,
        "baseline": session.baseline,
        "playing": session.playing,
        "grid": session.grid,
        "thumb": session.thumb,
        "extent": list(session.extent),
        "weights": int(params.size),
        "encoding": encoding,
        "focus": session.focus,
        "value_range": list(session.value_range) if session.value_range else None,
        "diverged": session.diverged,
        "neurons": neuron_flags(model, session.inputs["train"]),
        **timeline_meta(session),
    }
    header = json.dumps(meta, separators=(",", ":")).encode()
    header += b" " * (-len(header) % 4)
    parts = [MAGIC, struct.pack("<I", len(header)), header, params.tobytes()]
    parts += [grads.tobytes(), change.tobytes(), grid.tobytes()]
    parts += [t.tobytes() for t in thumbs]
    return b"".join(parts)
