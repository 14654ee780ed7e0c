"""The ``backprop-lab`` command: a thin layer over the Python API.

Every refused input prints one line on stderr and exits with code 2, before
anything is written.
"""

from __future__ import annotations

import os
import sys

from ..runs.modelio import ModelFileError
from .commands import cmd_compare, cmd_evaluate, cmd_gradcheck, cmd_predict, cmd_report, cmd_train
from .common import EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_INTERRUPTED, UsageError
from .experiment_commands import cmd_scale, cmd_sweep
from .parser import build_parser

COMMANDS = {
    "report": cmd_report,
    "compare": cmd_compare,
    "demo": lambda a: cmd_train(a, demo=True),
    "train": cmd_train,
    "evaluate": cmd_evaluate,
    "predict": cmd_predict,
    "gradcheck": cmd_gradcheck,
    "scale": cmd_scale,
    "sweep": cmd_sweep,
}


def main(argv=None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        return COMMANDS[args.command](args)
    except (UsageError, ValueError, TypeError, ModelFileError, NotImplementedError) as e:
        print(f"backprop-lab: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as e:  # an unreadable or unwritable path
        where = f"{e.filename}: " if e.filename else ""
        print(f"backprop-lab: error: {where}{e.strerror or e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:  # outside training, which handles Ctrl-C itself
        print("backprop-lab: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as e:  # a bug or a failing library: one line, unless asked for more
        if os.environ.get("BACKPROP_LAB_DEBUG"):
            raise
        print(
            f"backprop-lab: internal error: {type(e).__name__}: {e} "
            "(set BACKPROP_LAB_DEBUG=1 to see the traceback)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
