"""``backprop-lab run script.py [args...]``: an unmodified Keras script on backprop-lab.

For the length of the script an import hook (``keras._aliases.AliasFinder``)
answers ``import keras``, ``import tensorflow``, ``from tensorflow.keras...``
and ``from keras... import ...`` with backprop-lab's namespaces.  The script
runs as ``__main__`` (``sys.argv`` is the script and its arguments; its folder
is first on ``sys.path``, as ``python script.py`` does; the working directory
is unchanged).

Exit codes: the script's own (``sys.exit``), 0 when it ends, 2 with one line
``script.py:LINE: message`` when it uses something backprop-lab does not
support (a NotImplementedError anywhere), 1 with Python's traceback for any
other error in the script.
"""

from __future__ import annotations

import runpy
import sys
import traceback
from pathlib import Path

from ..engine.model import Sequential
from ..keras._aliases import AliasFinder
from .errors import EXIT_BAD_INPUT, EXIT_DIVERGED

EXIT_SCRIPT_ERROR = EXIT_DIVERGED  # 1, as Python exits on an uncaught exception

_PRIVATE = "Keras's private modules are not part of its API; import the public names"
# Import names and the backprop-lab module each one becomes (and the name its errors use).
ALIASES = {
    "keras": ("backprop_lab.keras", "keras"),
    "tensorflow": ("backprop_lab.compat.tf", "tf"),
    "tensorflow.keras": ("backprop_lab.keras", "tf.keras"),
}
REFUSED = {
    "tf_keras": "tf_keras is Keras 2; backprop-lab runs Keras 3 scripts (import keras)",
    "keras.src": _PRIVATE,
    "tensorflow.python": "tensorflow.python is TensorFlow's private package",
    "tensorflow.keras.src": _PRIVATE,
}


def _say(text: str) -> None:
    print(f"backprop-lab run: {text}", file=sys.stderr)


class TrainedModels:
    """While installed, notes each ``fit`` of a ``Sequential``: the model last trained
    (and, with ``keep_data``, for ``--record``'s pictures, the data it was fit on).

    ``fit`` is wrapped on the class for the length of the script, so models built
    anywhere (inside functions, by subclasses) are seen; the engine is unchanged.
    """

    def __init__(self, keep_data: bool = False):
        self.keep_data = keep_data
        self.model = None
        self.data = None
        self._saved = None

    def install(self) -> None:
        fit = Sequential.fit
        self._saved = Sequential.__dict__.get("fit")

        def noted_fit(model, x, y=None, *args, **kwargs):
            self.model = model
            if self.keep_data:
                self.data = (x, y)
            return fit(model, x, y, *args, **kwargs)

        noted_fit.__doc__ = fit.__doc__
        Sequential.fit = noted_fit

    def uninstall(self) -> None:
        if self._saved is None:
            del Sequential.fit
        else:
            Sequential.fit = self._saved


def _script_line(exc: BaseException, script: Path) -> int | None:
    """The line of ``script`` the exception passed through last (None if it did not)."""
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if Path(frame.filename) == script:
            line = frame.lineno
    return line


def _print_traceback(exc: BaseException, script: Path) -> None:
    """Python's traceback, from the script's first frame on (as ``python script.py``)."""
    tb = exc.__traceback__
    while tb is not None and Path(tb.tb_frame.f_code.co_filename) != script:
        tb = tb.tb_next
    traceback.print_exception(type(exc), exc, tb or exc.__traceback__)


def _say_engine(trained: TrainedModels) -> None:
    if trained.model is not None:
        _say(f"the last model trained ran on the {trained.model.engine_used} engine")


def run_script(path: str, args: list[str], trained: TrainedModels | None = None) -> int:
    """Run the Keras script ``path`` with ``args`` on backprop-lab; returns the exit code.

    ``SystemExit`` from the script passes through, after the hook is removed.
    """
    script = Path(path)
    if script.suffix != ".py":
        _say(f"error: {path} is not a Python script (.py)")
        return EXIT_BAD_INPUT
    if not script.is_file():
        _say(f"error: {path}: no such file")
        return EXIT_BAD_INPUT
    script = script.resolve()
    trained = trained or TrainedModels()
    finder = AliasFinder(ALIASES, REFUSED)
    saved_argv, saved_path = sys.argv, list(sys.path)
    _say(f"keras and tensorflow imports in {path} run on backprop-lab")
    sys.argv = [path, *args]
    sys.path.insert(0, str(script.parent))
    trained.install()
    finder.install()
    try:
        runpy.run_path(str(script), run_name="__main__")
    except NotImplementedError as exc:
        line = _script_line(exc, script)
        print(f"{path}:{line}: {exc}" if line else f"{path}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except SystemExit:
        _say_engine(trained)
        raise
    except Exception as exc:  # the script's own error, shown as Python shows it
        _print_traceback(exc, script)
        return EXIT_SCRIPT_ERROR
    finally:
        finder.uninstall()
        trained.uninstall()
        sys.argv, sys.path[:] = saved_argv, saved_path
    _say_engine(trained)
    return 0


def cmd_run(args) -> int:
    """The ``run`` command: the script, then (``--record``) a run folder of its last model."""
    trained = TrainedModels(keep_data=bool(args.record))
    code = run_script(args.script, args.args, trained)
    if args.record and code == 0:
        from .record_script import record

        return record(trained, args.record, args.script)
    return code
