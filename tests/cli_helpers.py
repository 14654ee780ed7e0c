"""Shared by the command-line tests: run ``main`` in-process and capture its output."""

import contextlib
import io

from backprop_lab.cli import main


def run_main(argv):
    """``main(argv)`` with its output captured: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()
