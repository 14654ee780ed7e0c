"""The live loss landscape: ``landscape.png``'s two planes around a session's current weights.

A ``landscape`` message asks for it (docs/playground-protocol.md, "Loss
landscape").  The work is split so that it never stalls training:

* :func:`prepare` runs under the session's lock, in the shared worker thread,
  and only copies: the model (a deep copy of a playground model takes well
  under a millisecond: its arrays are a few hundred floats and one batch's
  caches), at most ``MAX_POINTS`` training points, and the path: the
  timeline's snapshots up to now, then the current weights.
* :func:`compute` runs outside the lock, on the server's background thread
  (not the shared workers; at a lower CPU priority, :func:`lower_priority`),
  on those copies: ``pictures.loss_surface.surfaces``, the method of
  ``landscape.png``.  The session trains on meanwhile, so the reply's
  ``epoch`` says which moment it shows.  Its CPU time counts toward the
  session's ``cpu_seconds`` like all other work of the session.

The points are a fixed subset, the first ``MAX_POINTS`` of a permutation drawn
from a generator seeded 0 (all points when there are fewer), so two requests
measure the loss on the same points.
"""

from __future__ import annotations

import contextlib
import copy
import math
import os
import threading
import time
from dataclasses import dataclass

import numpy as np

from ..pictures.loss_surface import RESOLUTION, surfaces
from .protocol import ProtocolError

MAX_POINTS = 2000
ALREADY = "a landscape is already being computed for this tab; wait for it"
NO_WEIGHTS = "there are no weights yet to draw a landscape around; send the settings first"
NOTHING_TRAINED = (
    "nothing is trained yet: the landscape shows the path the weights took, so press Play, "
    "Step or One batch first"
)
DIVERGED = (
    "the weights are not finite (training diverged), so there is no landscape around them; "
    "rewind first"
)


@dataclass
class Request:
    """What one landscape needs, copied from the session under its lock.

    Attributes
    ----------
    model : Sequential
        A deep copy of the session's model: the centre ``θ*`` is its weights.
    X : ndarray of shape (n_points, n_inputs)
        The training points' inputs (the chosen features), in the model's dtype.
    Y : ndarray of shape (n_points, n_outputs)
        Their targets, as ``model.loss.prepare_targets`` returns them.
    trajectory : ndarray of shape (n_steps, n_params)
        The flattened weights of the timeline's snapshots up to now, then the
        current weights (the last row), float64.
    run : int
    epoch : float
        Finished epochs plus the share of the current one.
    of : int
        Training points in all.
    """

    model: object
    X: np.ndarray
    Y: np.ndarray
    trajectory: np.ndarray
    run: int
    epoch: float
    of: int


BACKGROUND_NICENESS = 10  # added to the background thread's nice value (Linux: per thread)


def lower_priority() -> None:
    """Make the calling thread yield the CPU to training (where the OS allows it).

    On Linux a thread has a nice value of its own, so this lowers the
    background thread only; elsewhere it does nothing.
    """
    if hasattr(os, "setpriority") and hasattr(threading, "get_native_id"):
        with contextlib.suppress(OSError):
            nice = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice + BACKGROUND_NICENESS)


def points_of(n: int) -> np.ndarray:
    """The indices of the training points a landscape measures: shape ``(min(n, MAX_POINTS),)``."""
    if n <= MAX_POINTS:
        return np.arange(n)
    return np.random.default_rng(0).permutation(n)[:MAX_POINTS]


def _flat(params) -> np.ndarray:
    return np.concatenate([p.ravel() for p in params]).astype(np.float64)


def prepare(session) -> Request:
    """Copy what a landscape of ``session`` now needs (call under the session's lock).

    Raises
    ------
    ProtocolError
        When there is no landscape to draw: no weights, nothing trained yet, or
        weights that are not finite.
    """
    model = session.model
    if model is None:
        raise ProtocolError(NO_WEIGHTS)
    if session.iterations == 0:
        raise ProtocolError(NOTHING_TRAINED)
    current = _flat(model.params)
    if session.diverged or not np.isfinite(current).all():
        raise ProtocolError(DIVERGED)
    timeline = session.timeline
    past = (
        timeline.snapshots if timeline.shown is None else timeline.snapshots[: timeline.shown + 1]
    )
    # Snapshots of earlier moments; one of this very moment is the current weights, added last.
    path = [_flat(s.params) for s in past if s.iterations < session.iterations]
    rows = points_of(len(session.data.y_train))
    X = np.asarray(session.inputs["train"][rows], dtype=model.dtype)
    Y = model.loss.prepare_targets(session.data.y_train[rows], model.layers[-1].units, model.dtype)
    return Request(
        model=copy.deepcopy(model),
        X=X,
        Y=Y,
        trajectory=np.stack([*path, current]),
        run=session.run,
        epoch=round(session.epoch + session.batch / session.steps_per_epoch, 4),
        of=len(session.data.y_train),
    )


def _finite(values: np.ndarray) -> list:
    """A list (of lists) of floats with NaN and infinities as None: JSON carries no NaN."""
    if values.ndim > 1:
        return [_finite(row) for row in values]
    return [v if math.isfinite(v) else None for v in values.tolist()]


def planes(request: Request) -> list[dict]:
    """The random-direction and the PCA plane of ``request``, as the reply carries them."""
    with np.errstate(all="ignore"):  # far from θ* the loss may overflow: gaps on the page
        found = surfaces(request.model, request.X, request.Y, request.trajectory)
    return [
        {
            "title": s.title,
            "xlabel": s.xlabel,
            "ylabel": s.ylabel,
            "alphas": s.alphas.tolist(),
            "betas": s.betas.tolist(),
            "loss": _finite(s.loss),  # rows: betas, columns: alphas
            "path": s.path.tolist(),
            "centre": s.centre if math.isfinite(s.centre) else None,
        }
        for s in found
    ]


def compute(session, request: Request) -> dict:
    """The ``landscape`` reply for ``request`` (outside the session's lock; its CPU time is
    added to ``session.cpu_seconds`` under the lock)."""
    began, cpu = time.perf_counter(), time.thread_time()
    try:
        found = planes(request)
    finally:
        spent = time.thread_time() - cpu
        with session.lock:
            session.cpu_seconds += spent
    return {
        "type": "landscape",
        "run": request.run,
        "epoch": request.epoch,
        "resolution": RESOLUTION,
        "planes": found,
        "points": len(request.X),
        "of": request.of,
        "seconds": round(time.perf_counter() - began, 4),
    }
