"""The server's limits, one place for the command line, the app and the tests."""

from __future__ import annotations

from dataclasses import dataclass

from .protocol import LIMITS


@dataclass(frozen=True)
class ServeConfig:
    """How much the playground server lets its sessions do.

    Parameters
    ----------
    max_sessions : int
        Open tabs served at once; the next one is told the server is busy.
    idle_timeout : float
        Seconds without any message from a tab (acknowledgements count)
        before its session is closed.
    cpu_limit : float
        CPU seconds one session may use for training and frames; past it,
        its training stops and the tab is told why.
    max_message_bytes : int
        The largest message a tab may send, but for ``upload``.
    max_upload_bytes : int
        The largest ``upload`` message (a CSV file's text, at most 512 KiB of it).
    frame_interval : float
        The shortest time between two frames of a session, in seconds.
    workers : int
        Threads that train and draw frames for all sessions.  One by default:
        the kernels release the GIL, but a small network's step is mostly
        Python around them (``fit``, ``evaluate``, the frame), and threads
        that wait for the GIL slow the event loop and each other: with 20 tabs
        playing the article's network on 2 cores, 25 frames/s per tab with 1
        worker, 15 with 2, 11 with 4 (``bench/bench_serve.py``).
    allowed_hosts : tuple of str, optional
        Host names a WebSocket's ``Host`` header may name; None allows any.
        A server on loopback allows only loopback names, so a page whose own
        name resolves to 127.0.0.1 (DNS rebinding) cannot pass as this origin.
    out : str
        The folder under which ``export`` ``run`` writes run folders (``--out``).
    """

    max_sessions: int = 50
    idle_timeout: float = 900.0
    cpu_limit: float = 1800.0
    max_message_bytes: int = LIMITS["max_message_bytes"]
    max_upload_bytes: int = LIMITS["max_upload_message_bytes"]
    frame_interval: float = 1 / 60
    workers: int = 1
    allowed_hosts: tuple[str, ...] | None = None
    out: str = "runs"
