"""Ctrl-C at any moment of a command: what it stops, what it keeps, and what it says.

``main`` installs ``Interrupts`` as the SIGINT handler for the length of a
command.  A Ctrl-C raises ``KeyboardInterrupt`` where the command is, except
inside ``deferred()`` blocks (writing a run's data files), where it waits for
the block to end, so a run folder is never left half-written.  In a
``stop_then_save()`` block (training, then saving what it kept) only the first
Ctrl-C is raised: it stops the training, and the next ones wait until the
result is saved.  A Ctrl-C that
some library swallowed (Python prints "Exception ignored" for one raised in
a finaliser) is not lost: the handler counts every signal, and ``main`` ends
with exit code 130 if any arrived.

``stage`` names what the command is doing, for the one line printed when it
stops; ``enter`` is also the hook the tests use to interrupt each stage.
"""

from __future__ import annotations

import contextlib
import signal
import sys


class Interrupts:
    """The SIGINT handler of one command (see the module docstring)."""

    def __init__(self):
        self.received = 0  # every SIGINT, raised or not
        self.stage = "starting"
        self._defer = 0  # depth of the blocks that hold Ctrl-C back
        self._pending = False  # a Ctrl-C held back, to raise when they end
        self._stop_once = False  # raise the next Ctrl-C, then hold the others
        self._holding = False
        self._previous = None
        self._previous_hook = None

    # ------------------------------------------------------------ installing
    def install(self, *, ignore_after: bool = False) -> None:
        """Handle SIGINT from now on; ``uninstall`` puts back the previous handler,
        or, with ``ignore_after``, ignores SIGINT (for a process about to exit)."""
        self._ignore_after = ignore_after
        self._previous = signal.signal(signal.SIGINT, self._handle)
        self._previous_hook = sys.unraisablehook
        sys.unraisablehook = self._unraisable

    def uninstall(self) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, signal.SIG_IGN if self._ignore_after else self._previous)
            sys.unraisablehook = self._previous_hook
            self._previous = None

    def _handle(self, signum, frame) -> None:
        self.received += 1
        if self._defer:
            self._pending = True
            return
        if self._stop_once:
            self._hold()
        raise KeyboardInterrupt

    def _hold(self) -> None:
        self._stop_once = False
        if not self._holding:
            self._holding = True
            self._defer += 1

    def _raise_pending(self) -> None:
        if not self._defer and self._pending:
            self._pending = False
            raise KeyboardInterrupt

    def _unraisable(self, unraisable) -> None:
        """A Ctrl-C raised inside a finaliser is already counted: print nothing for it."""
        if not isinstance(unraisable.exc_value, KeyboardInterrupt):
            self._previous_hook(unraisable)

    # ------------------------------------------------------------ using
    def enter(self, stage: str) -> None:
        """Say that the command now does ``stage`` (e.g. "drawing the pictures")."""
        self.stage = stage

    def quiet(self) -> None:
        """From now on, count Ctrl-C but raise nothing (the command is reporting its end)."""
        self._defer += 1

    @contextlib.contextmanager
    def deferred(self):
        """A block that Ctrl-C does not cut: a Ctrl-C during it is raised when it ends."""
        self._defer += 1
        try:
            yield
        finally:
            self._defer -= 1
        self._raise_pending()

    @contextlib.contextmanager
    def stop_then_save(self):
        """Training, then saving its result: yields ``saving``, to call when saving starts.

        The first Ctrl-C stops the training (which keeps its finished epochs);
        every later one, and every one after ``saving()``, waits for the end of
        the block, where it is raised.
        """
        self._stop_once = True
        try:
            yield self._hold
        finally:
            self._stop_once = False
            if self._holding:
                self._holding = False
                self._defer -= 1
        self._raise_pending()


# The handler of the running command; commands call ``enter`` and ``deferred`` on it.
current = Interrupts()
