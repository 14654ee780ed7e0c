"""Divergence that explains itself: pause, say what happened and why, offer a rewind.

Training pauses by itself when a loss or a weight is not finite, or when the
training loss explodes: above ``EXPLODE_FACTOR`` times the smallest training
loss seen in the run and above ``EXPLODE_FLOOR``.  The ``diverged`` message
then names the learning rate, the last finite loss and the layer whose
updates were largest relative to its weights at the last good snapshot
(``||lr * dL/dW|| / ||W||`` per Dense layer, on the batch that followed that
snapshot), and suggests a learning rate ten times smaller.  ``rewind``
restores that snapshot with the suggested rate.
"""

from __future__ import annotations

import math

import numpy as np

from . import inspection
from .protocol import RANGES, ProtocolError

EXPLODE_FACTOR = 100.0
EXPLODE_FLOOR = 10.0


class Watch:
    """One run's record: the smallest and the last finite training loss, and the verdict."""

    def __init__(self, run: int):
        self.run = run
        self.smallest = math.inf
        self.last_finite: float | None = None
        self.loss: float | None = None  # the loss that diverged (None: not finite)
        self.epoch: float | None = None
        self.report: dict | None = None
        self.report_at: int | None = None  # the session's iterations when it was made


def watch(session) -> Watch:
    """The session's watch of its current run (a new run starts a new one)."""
    w = session.divergence
    if w is None or w.run != session.run:
        w = session.divergence = Watch(session.run)
    return w


def params_finite(params) -> bool:
    """Whether every number of ``params`` (a list of arrays) is finite."""
    return all(np.isfinite(p).all() for p in params)


def what_happened(session) -> str:
    """How the loss diverged, in the words of the ``diverged`` message."""
    loss = watch(session).loss
    return "became NaN or infinite" if loss is None else f"exploded to {loss:.3g}"


def status_text(session) -> str:
    """The one-line ``status`` sent when training diverges."""
    w = watch(session)
    epoch = w.epoch if w.epoch is not None else session.epoch
    return (
        f"Training diverged in epoch {math.floor(epoch) + 1}: the loss {what_happened(session)} "
        f"with learning rate {session.settings['lr']:g}; press Rewind to go back to the last "
        "good state with a smaller learning rate (or Reset)"
    )


REFUSAL = (
    "training diverged; press Rewind (the last good state, with a smaller learning rate) "
    "or Reset first: changing the learning rate alone does not undo it"
)


def check(session, loss: float) -> bool:
    """After a chunk of training whose mean loss was ``loss``: has the run diverged?

    If so, the session is marked diverged and paused.
    """
    w = watch(session)
    loss = float(loss)
    finite = math.isfinite(loss) and params_finite(session.model.params)
    exploded = finite and loss > EXPLODE_FACTOR * w.smallest and loss > EXPLODE_FLOOR
    if finite and not exploded:
        w.last_finite, w.smallest = loss, min(w.smallest, loss)
        return False
    w.loss = loss if math.isfinite(loss) else None
    w.report = None  # a new divergence: a new report
    w.epoch = session.epoch + session.batch / session.steps_per_epoch
    session.diverged, session.playing = True, False
    return True


def ratios(session, index: int) -> list[float | None]:
    """``||lr * dL/dW|| / ||W||`` per Dense layer at snapshot ``index``, on its next batch."""
    snap = session.timeline.snapshots[index]
    n, size = len(session.data.y_train), session.settings["batch_size"]
    order = snap.order if snap.order is not None and len(snap.order) == n else None
    rows = inspection.next_rows(
        n, size, snap.position if order is not None else 0, order, snap.rng_state
    )
    X, y = session.inputs["train"], session.data.y_train
    result = inspection.backprop(session.model, snap.params, X[rows], y[rows])
    lr, out = session.settings["lr"], []
    for W, dW in zip(snap.params[0::2], result["grads"][0::2]):
        size_w = float(np.linalg.norm(W))
        value = lr * float(np.linalg.norm(dW)) / size_w if size_w > 0 else math.inf
        out.append(round(value, 6) if math.isfinite(value) else None)
    return out


def report(session) -> dict:
    """The ``diverged`` message of the session's divergence (made once, then kept)."""
    w = watch(session)
    if w.report is not None and w.report_at == session.iterations:
        return w.report
    k = len(session.timeline) - 1  # snapshots are only taken of good states
    lr = session.settings["lr"]
    suggested = max(lr / 10, RANGES["lr"][1])
    r = ratios(session, k)
    names = inspection.layer_names(session.model)
    worst = max(range(len(r)), key=lambda i: math.inf if r[i] is None else r[i])
    last = w.last_finite
    if last is None:  # diverged in the first chunk: the loss at the snapshot
        snap = session.timeline.snapshots[k]
        with np.errstate(all="ignore"):
            P = session.model.apply(session.inputs["train"], snap.params)
            Y = session.model.loss.prepare_targets(
                session.data.y_train, session.model.layers[-1].units, session.model.dtype
            )
            last = float(session.model.loss.value(Y, P))
    epoch = w.epoch if w.epoch is not None else session.epoch
    what = what_happened(session)
    shown = "a huge" if r[worst] is None else f"{r[worst]:.2g} of its size per"
    message = (
        f"Training diverged in epoch {math.floor(epoch) + 1}: the loss {what} after its last "
        f"finite value {last:.3g}, because learning rate {lr:g} is too large for this loss. "
        f"The {names[worst]} had the largest updates relative to its weights ({shown} step); "
        f"rewind to the last good state (epoch {session.timeline.snapshots[k].when:g}) with "
        f"learning rate {suggested:g}."
    )
    w.report_at = session.iterations
    w.report = {
        "type": "diverged",
        "epoch": round(epoch, 4),
        "last_finite_loss": last if math.isfinite(last) else None,
        "lr": lr,
        "suggested_lr": suggested,
        "snapshot": k,
        "layer": names[worst],
        "ratios": r,
        "message": message,
    }
    return w.report


def rewind(session) -> None:
    """The ``rewind`` message: back to the last good snapshot, with the suggested rate, paused."""
    if not session.diverged:
        raise ProtocolError("rewind goes back after a divergence; training has not diverged")
    verdict = report(session)
    session.timeline.restore(session, verdict["snapshot"])
    lr = verdict["suggested_lr"]
    session.settings["lr"] = lr
    session.model.optimizer.learning_rate = lr
    w = watch(session)
    w.report = w.loss = w.epoch = None
