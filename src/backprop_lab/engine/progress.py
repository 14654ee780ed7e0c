"""A Keras-like progress bar: redrawn in place on a terminal, one line otherwise."""

from __future__ import annotations

import sys
import time


def _format_logs(logs: dict) -> str:
    return " - ".join(f"{k}: {v:.4f}" for k, v in sorted(logs.items()))


def _per_unit(seconds: float, unit: str) -> str:
    """Time per unit as Keras writes it: ``2s/step``, ``99ms/step`` or ``3us/step``."""
    if seconds >= 1:
        return f"{seconds:.0f}s/{unit}"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/{unit}"
    return f"{seconds * 1e6:.0f}us/{unit}"


class Progbar:
    """Shows ``current/target`` units with a bar, the time and the latest logs.

    Parameters
    ----------
    target : int
        Number of units in the pass: steps (batches) of an epoch, or the
        trainings of an experiment.
    stream : file, optional
        Where to write; ``sys.stdout`` by default.
    interactive : bool, optional
        Redraw one line with ``\\r`` (a terminal) or print once at the end.
        By default, whether ``stream`` is a terminal.
    prefix : str
        Text written before the bar in non-interactive mode (``"Epoch 3/50"``).
    unit : str
        What is counted, for the time per unit: ``"step"`` (Keras's
        ``99ms/step``) or, for an experiment, ``"training"``.
    """

    width = 20
    min_interval = 0.05  # seconds between redraws, so drawing never slows training

    def __init__(
        self,
        target: int,
        *,
        stream=None,
        interactive=None,
        prefix: str = "",
        unit: str = "step",
    ):
        self.target = max(int(target), 1)
        self.stream = stream if stream is not None else sys.stdout
        if interactive is None:
            interactive = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.interactive = interactive
        self.prefix = prefix
        self.unit = unit
        self.start = time.perf_counter()
        self._last_draw = 0.0

    def _line(self, current: int, logs: dict) -> str:
        elapsed = time.perf_counter() - self.start
        text = f"{current}/{self.target}"
        if self.interactive:
            done = int(self.width * current / self.target)
            text += " " + "━" * done + "─" * (self.width - done)
        text += f" {elapsed:.0f}s {_per_unit(elapsed / max(current, 1), self.unit)}"
        if logs:
            text += " - " + _format_logs(logs)
        return text

    def update(self, current: int, logs: dict | None = None, *, finalize: bool = False) -> None:
        """Record progress; draws at most every ``min_interval`` seconds, and at the end."""
        if not self.interactive and not finalize:
            return
        now = time.perf_counter()
        if not finalize and now - self._last_draw < self.min_interval:
            return
        self._last_draw = now
        line = self._line(current, logs or {})
        if self.interactive:
            self.stream.write("\r" + line + ("\n" if finalize else "\x1b[K"))
        else:
            self.stream.write((self.prefix + " - " if self.prefix else "") + line + "\n")
        self.stream.flush()
