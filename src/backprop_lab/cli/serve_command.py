"""``backprop-lab serve``: the live playground (see ``backprop_lab.serve``)."""

from __future__ import annotations

import errno
from pathlib import Path

from .errors import EXIT_INTERRUPTED, UsageError


def cmd_serve(args) -> int:
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be from 0 to 65535 (0: a free port), got {args.port}")
    if args.max_sessions < 1:
        raise UsageError(f"--max-sessions must be at least 1, got {args.max_sessions}")
    if not 1 <= args.workers <= 64:
        raise UsageError(f"--workers must be from 1 to 64, got {args.workers}")
    if Path(args.out).exists() and not Path(args.out).is_dir():
        raise UsageError(f"--out {args.out} is a file, not a folder")
    # Imported here: the web server's packages load only for this command.
    from ..serve.config import ServeConfig
    from ..serve.server import run
    from . import interrupts

    config = ServeConfig(max_sessions=args.max_sessions, workers=args.workers, out=args.out)
    interrupts.current.enter("serving the playground")
    try:
        run(args.host, args.port, args.open, config)
    except OSError as e:  # the port is taken, or the address is not this machine's
        if e.errno == errno.EADDRINUSE:
            hint = "choose another with --port, or --port 0 for a free one"
        else:
            hint = "--host takes an address of this machine, such as 127.0.0.1 or 0.0.0.0"
        raise UsageError(f"{e.strerror}; {hint}") from None
    print("backprop-lab: the playground stopped")
    return EXIT_INTERRUPTED if interrupts.current.received else 0
