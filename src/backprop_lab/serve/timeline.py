"""The timeline: snapshots of a session's whole training state, to scrub and continue from.

A snapshot is taken at epoch 0 of a run, after every finished epoch and at
every pause (and after every step).  Each holds everything the next batches
depend on: the parameters, the last batch's gradients (the frame shows them),
the optimizer's slots and step count, the epoch, the position in it and that
epoch's sample order, the model generator's state and the fraction of a batch
carried over.  So restoring snapshot ``k`` and training on trains exactly
what followed it, bit for bit.

Memory is bounded: at most ``LIMITS["max_snapshots"]`` snapshots and
``LIMITS["max_snapshot_bytes"]`` bytes per session.  When either would be
exceeded, every second snapshot after the first is dropped and from then on
only every second finished epoch is kept (then every fourth, ...), so the
snapshots stay evenly spread over the run.
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass

import numpy as np

from . import export
from .protocol import LIMITS, ProtocolError


@dataclass
class Snapshot:
    """The training state of one moment of a run (arrays are private copies)."""

    epoch: int
    position: int
    iterations: int
    steps_per_epoch: int
    batch: int
    carry: float
    order: np.ndarray | None  # the epoch's sample order (uint16), only mid-epoch
    rng_state: dict
    params: list[np.ndarray]
    grads: list[np.ndarray]
    optimizer: str  # the setting's name ("momentum", "adam", ...)
    slots: dict[str, list[np.ndarray]]
    opt_iterations: int
    opt_built: bool
    export_partial: tuple | None = None  # the export record's epoch in progress

    @classmethod
    def of(cls, session) -> Snapshot:
        model, opt = session.model, session.model.optimizer
        order = None
        if session.position > 0:
            order = session.order.astype(np.uint16 if len(session.order) < 2**16 else np.int32)
        return cls(
            epoch=session.epoch,
            position=session.position,
            iterations=session.iterations,
            steps_per_epoch=session.steps_per_epoch,
            batch=session.batch,
            carry=session._carry,
            order=order,
            rng_state=copy.deepcopy(model.rng.bit_generator.state),
            params=[p.copy() for p in model.params],
            grads=[g.copy() for g in model.grads],
            optimizer=session.settings["optimizer"],
            slots={name: [a.copy() for a in arrays] for name, arrays in opt.slots.items()},
            opt_iterations=opt.iterations,
            opt_built=opt.built,
            export_partial=export.partial_state(session),
        )

    @property
    def when(self) -> float:
        """The epoch as a float: finished epochs plus the share of the current one."""
        return self.epoch + self.batch / self.steps_per_epoch

    @functools.cached_property
    def nbytes(self) -> int:
        """Bytes of the arrays this snapshot holds (they never change: counted once)."""
        arrays = [*self.params, *self.grads, *(a for s in self.slots.values() for a in s)]
        if self.order is not None:
            arrays.append(self.order)
        return sum(a.nbytes for a in arrays)


class Timeline:
    """The snapshots of the session's current run.

    Attributes
    ----------
    snapshots : list of Snapshot
        Oldest first; ``snapshots[0]`` is epoch 0 of the run.
    shown : int or None
        The snapshot the session was last restored to, while nothing has been
        trained since (None: live).
    stride : int
        Finished epochs between two epoch snapshots (doubles at each thinning).
    """

    def __init__(self, max_snapshots: int | None = None, max_bytes: int | None = None):
        self.max_snapshots = max_snapshots or LIMITS["max_snapshots"]
        self.max_bytes = max_bytes or LIMITS["max_snapshot_bytes"]
        self.snapshots: list[Snapshot] = []
        self.shown: int | None = None
        self.stride = 1

    def __len__(self) -> int:
        return len(self.snapshots)

    @property
    def nbytes(self) -> int:
        return sum(s.nbytes for s in self.snapshots)

    def start(self, session) -> None:
        """A new run: forget everything, snapshot its epoch 0."""
        self.snapshots, self.shown, self.stride = [], None, 1
        self.take(session)

    def take(self, session) -> None:
        """Snapshot the session now, thinning the timeline if it is full."""
        self.snapshots.append(Snapshot.of(session))
        self.shown = None
        while len(self.snapshots) > 2 and (
            len(self.snapshots) > self.max_snapshots or self.nbytes > self.max_bytes
        ):
            self.snapshots = self.snapshots[::2]  # the newest goes too if it falls between
            self.stride *= 2

    def mark(self, session) -> None:
        """A pause: snapshot unless this moment is already the newest (or shown) snapshot."""
        if session.diverged or self.shown is not None or session.model is None:
            return
        if not self.snapshots or self.snapshots[-1].iterations != session.iterations:
            self.take(session)

    def epoch_end(self, session) -> None:
        """An epoch finished: snapshot it if it falls on the stride."""
        if not session.diverged and session.epoch % self.stride == 0:
            self.mark(session)

    def before_training(self) -> None:
        """Training goes on from a restored snapshot: the later ones are no longer its future."""
        if self.shown is not None:
            del self.snapshots[self.shown + 1 :]
            self.shown = None

    def check_index(self, index: int) -> None:
        if not 0 <= index < len(self.snapshots):
            raise ProtocolError(
                f"index must be a snapshot from 0 to {len(self.snapshots) - 1}, got {index}"
            )

    def restore(self, session, index: int) -> None:
        """Put snapshot ``index``'s training state into the session, paused."""
        self.check_index(index)
        snap = self.snapshots[index]
        model = session.model
        if snap.optimizer != session.settings["optimizer"]:
            session.settings["optimizer"] = snap.optimizer  # the optimizer the state belongs to
            session.new_optimizer()
        for array, saved in zip(model.params + model.grads, snap.params + snap.grads):
            array[...] = saved
        opt = model.optimizer
        opt.slots = {name: [a.copy() for a in arrays] for name, arrays in snap.slots.items()}
        opt.iterations, opt.built = snap.opt_iterations, snap.opt_built
        export.restore_partial(session, snap.export_partial)
        model.rng.bit_generator.state = copy.deepcopy(snap.rng_state)
        session.epoch, session.position = snap.epoch, snap.position
        session.iterations, session._carry = snap.iterations, snap.carry
        session.order = None if snap.order is None else snap.order.astype(np.intp)
        if snap.order is not None and len(snap.order) != len(session.data.y_train):
            session.position, session.order = 0, None  # the points changed: the epoch restarts
        session.playing = session.diverged = False
        session.changed = True
        self.shown = index

    def meta(self) -> dict:
        """The frame's ``snapshots``, ``snapshot`` and ``snapshot_epochs``."""
        return {
            "snapshots": len(self.snapshots),
            "snapshot": self.shown,
            "snapshot_epochs": [round(s.when, 4) for s in self.snapshots],
        }


def seek(session, index: int) -> None:
    """The ``seek`` message: pause and show snapshot ``index`` (continue from it on play)."""
    session.timeline.restore(session, index)
