"""Getting the compiled engine ready before the first tab needs it.

The server trains two tiny networks once in a background thread when it
starts: one of the article's family, so its C kernels are built or loaded
(``engine.compiled.native``), and one with two hidden layers, so numba loads
(or, on a machine that never ran it, compiles) its kernels, while nobody
waits.  A tab that arrives earlier is told what is happening.
"""

from __future__ import annotations

import threading

from ..engine.compiled.trainer import forward_rows, train_steps

_ready = threading.Event()
_started = threading.Lock()
_thread: threading.Thread | None = None


def _warm() -> None:
    from .session import Session

    try:
        session = Session()
        one, two = [{"units": 2, "activation": "relu"}], [{"units": 2, "activation": "relu"}] * 2
        for layers in (one, two):  # the C kernels' family, then numba's
            session.update({"points": 40, "layers": layers})
            session.step("epoch")
            session.frame()
    finally:
        _ready.set()


def start() -> None:
    """Warm the kernels in a background thread (once per process)."""
    global _thread
    with _started:
        if _thread is None:
            _thread = threading.Thread(target=_warm, name="playground-warmup", daemon=True)
            _thread.start()


def ready() -> bool:
    """Whether the kernels are loaded in this process."""
    return _ready.is_set()


def compiled_before() -> bool:
    """Whether numba's cache already holds the kernels (a load, not a compile, is due)."""
    return all(kernel.cache_files() for kernel in (train_steps, forward_rows))
