"""The ``backprop-lab`` command: a thin layer over the Python API.

Every refused input prints one line on stderr and exits with code 2, before
anything is written.  Ctrl-C at any moment exits with code 130 and one line
saying what was kept (see ``interrupts``).  This module imports nothing heavy
at its top, so a Ctrl-C while NumPy, matplotlib or numba load is handled too.
"""

from __future__ import annotations

# _signal is the C module under ``signal``, loaded with the interpreter;
# ``signal`` itself imports ``enum`` (3 ms), a window in which a Ctrl-C would
# print a traceback.
import _signal
import sys

_early_presses = []  # Ctrl-C pressed before main's handler was in place


def _press_early(signum, frame) -> None:
    _early_presses.append(signum)


def _commands() -> dict:
    from .commands import (
        cmd_compare,
        cmd_evaluate,
        cmd_gradcheck,
        cmd_predict,
        cmd_report,
        cmd_train,
    )
    from .experiment_commands import cmd_scale, cmd_sweep
    from .run_script import cmd_run
    from .serve_command import cmd_serve

    return {
        "report": cmd_report,
        "compare": cmd_compare,
        "demo": lambda a: cmd_train(a, demo=True),
        "train": cmd_train,
        "evaluate": cmd_evaluate,
        "predict": cmd_predict,
        "gradcheck": cmd_gradcheck,
        "scale": cmd_scale,
        "sweep": cmd_sweep,
        "run": cmd_run,
        "serve": cmd_serve,
    }


def _run(argv, handler) -> int:
    from ..runs.modelio import ModelFileError
    from .errors import EXIT_BAD_INPUT, UsageError
    from .parser import build_parser

    args = build_parser().parse_args(argv)
    handler.enter("loading")
    command = _commands()[args.command]
    handler.enter(f"starting {args.command}")
    try:
        return command(args)
    except (UsageError, ValueError, TypeError, ModelFileError, NotImplementedError) as e:
        print(f"backprop-lab: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT


def main(argv=None, *, exiting: bool = False) -> int:
    """Run one command; returns its exit code (0, 1 diverged, 2 bad input, 70, 130).

    With ``exiting`` (the ``backprop-lab`` program, which exits next), a Ctrl-C
    after the command is ignored instead of interrupting Python's shutdown.
    """
    import os

    from . import interrupts
    from .errors import EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_INTERRUPTED, UsageError

    handler = interrupts.current = interrupts.Interrupts()
    handler.install(ignore_after=exiting)
    try:
        if _early_presses:
            handler.received += len(_early_presses)
            raise KeyboardInterrupt
        code = _run(argv, handler)
    except UsageError as e:
        handler.quiet()
        print(f"backprop-lab: error: {e}", file=sys.stderr)
        code = EXIT_BAD_INPUT
    except OSError as e:  # an unreadable or unwritable path
        handler.quiet()
        where = f"{e.filename}: " if e.filename else ""
        print(f"backprop-lab: error: {where}{e.strerror or e}", file=sys.stderr)
        code = EXIT_BAD_INPUT
    except KeyboardInterrupt:  # the commands report what they kept; this is the rest
        handler.quiet()
        print(f"backprop-lab: interrupted while {handler.stage}", file=sys.stderr)
        code = EXIT_INTERRUPTED
    except Exception as e:  # a bug or a failing library: one line, unless asked for more
        handler.quiet()
        if os.environ.get("BACKPROP_LAB_DEBUG"):
            raise
        print(
            f"backprop-lab: internal error: {type(e).__name__}: {e} "
            "(set BACKPROP_LAB_DEBUG=1 to see the traceback)",
            file=sys.stderr,
        )
        code = EXIT_INTERNAL
    finally:
        handler.uninstall()
    if handler.received and code != EXIT_INTERRUPTED:
        # A Ctrl-C that a library swallowed: the command still ran to its end.
        print("backprop-lab: interrupted, after the command had finished", file=sys.stderr)
        code = EXIT_INTERRUPTED
    return code


def run() -> int:
    """The ``backprop-lab`` program.

    Its first act is to catch Ctrl-C, so none pressed while the rest loads is
    lost or printed as a traceback (only Python's own start-up, the first
    milliseconds, comes before).
    """
    _signal.signal(_signal.SIGINT, _press_early)
    return main(exiting=True)
