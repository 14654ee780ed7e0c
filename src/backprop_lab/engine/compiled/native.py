"""The article's kernels in C (``whole_fit.c``), built by the system C compiler, loaded by ctypes.

A fresh process that trains the article's network through numba spends about
0.4 s importing numba and 0.5 s loading its cached kernels (a first run, 6-14 s
compiling them).  ``whole_fit.c`` is a translation of the kernels for that one
family, ``Dense(H, act) -> Dense(1, "sigmoid")`` with the fused binary
cross-entropy and plain SGD, equal to them bit for bit
(``tests/test_native.py``): ``whole_fit.fit_epochs``, ``kernels.train_steps``
and ``kernels.forward_rows`` restricted to it.  The system compiler builds it in
about a second, once per dtype and machine, into a cache folder; later processes
load the built library in milliseconds.

``load(dtype)`` gives a ``Native`` (its methods take the numba kernels' arguments)
or None, and ``reason(dtype)`` then says why in one line: no C compiler, a failed
build, or ``BACKPROP_LAB_NATIVE=0``.  numba stays the fallback, and the engine of
every other model.

Build and cache
---------------
The compiler is ``$CC`` if set, else the first of ``cc``, ``gcc``, ``clang`` on
PATH; the flags are ``FLAGS`` (``-march=native``: the library suits this CPU
only; ``-ffp-contract=off``: no fused multiply-add, which numba does not use).
The cache folder is ``$BACKPROP_LAB_CACHE_DIR``, else ``$XDG_CACHE_HOME/backprop-lab``
or ``~/.cache/backprop-lab``, subfolder ``native``.  A library's name holds a
sha256 of what its code depends on: the C source, the flags, the dtype, the
machine and the CPU's model and flags (``/proc/cpuinfo``), so a change of any
rebuilds it; a cached library is loaded without looking for a compiler (any C
compiler gives the same results: IEEE arithmetic, no contraction).  A build writes a temporary
file in that folder and renames it into place, so processes building at once
each find a whole library.  A cached library that fails to load is rebuilt once;
an unwritable folder gets a build in a temporary folder for this process only.

May import: the standard library and NumPy only (never numba: not importing it
is the point; ``tests/test_native.py`` checks).
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import threading
import time
from pathlib import Path

import numpy as np

SOURCE = Path(__file__).with_name("whole_fit.c")
# -fno-trapping-math changes no result (it lets gcc compute both sides of a branch
# and keep one, as LLVM does for numba): without it no activation loop vectorises.
FLAGS = ("-O3", "-march=native", "-ffp-contract=off", "-fno-trapping-math", "-fPIC", "-shared",
         "-pthread")  # fmt: skip
DEFINES = {
    np.dtype(np.float32): ("-DREAL=float", "-DSINGLE=1"),
    np.dtype(np.float64): ("-DREAL=double", "-DSINGLE=0"),
}
# codes.LINEAR .. codes.SIGMOID: the hidden activations the C kernels have (not softmax).
ACTIVATIONS = range(5)
BUILD_TIMEOUT = 120  # seconds

_lock = threading.Lock()
_loaded: dict = {}  # dtype -> Native or the reason (str) there is none


class _Unavailable(Exception):
    """Why no library: a one-line message for ``reason``."""


def load(dtype) -> Native | None:
    """The C kernels for ``dtype`` (float32 or float64), or None (``reason`` says why).

    Built or loaded once per process and dtype (thread-safe); None without a
    working C compiler or with the environment variable ``BACKPROP_LAB_NATIVE=0``.
    """
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        return None
    if _disabled():
        return None
    found = _loaded.get(dtype)
    if found is None:
        with _lock:
            found = _loaded.get(dtype)
            if found is None:
                try:
                    found = _load(dtype)
                except _Unavailable as exc:
                    found = str(exc)
                _loaded[dtype] = found
    return found if isinstance(found, Native) else None


def reason(dtype) -> str | None:
    """Why ``load(dtype)`` gives None, in one line; None if it gives the kernels."""
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        return f"{dtype!r} is not a dtype"
    if _disabled():
        return "disabled by BACKPROP_LAB_NATIVE=0"
    if dtype not in DEFINES:
        return f"dtype {dtype} (only float32 and float64 are built)"
    found = _loaded.get(dtype)
    if found is None:
        load(dtype)
        found = _loaded.get(dtype)
    return None if isinstance(found, Native) else found


def _disabled() -> bool:
    return os.environ.get("BACKPROP_LAB_NATIVE", "").strip() == "0"


def _forget() -> None:
    """Forget the libraries found so far (for tests)."""
    with _lock:
        _loaded.clear()


# ------------------------------------------------------------------ build and cache
def compiler() -> list[str]:
    """The C compiler's command: ``$CC`` (split as a shell would) or the first of cc, gcc,
    clang on PATH.  Raises ``_Unavailable`` if there is none."""
    import shlex
    import shutil

    cc = os.environ.get("CC", "").strip()
    if cc:
        command = shlex.split(cc)
        if shutil.which(command[0]) is None:
            raise _Unavailable(f"the C compiler {command[0]!r} ($CC) was not found")
        return command
    for name in ("cc", "gcc", "clang"):
        path = shutil.which(name)
        if path is not None:
            return [path]
    raise _Unavailable("no C compiler (cc, gcc or clang) on PATH and $CC is not set")


def _cpu_identity() -> str:
    """The CPU's "model name" and "flags" lines of /proc/cpuinfo (first CPU), if readable."""
    found = {}
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as info:
            for line in info:
                key = line.split(":", 1)[0].strip()
                if key in ("model name", "flags") and key not in found:
                    found[key] = line.strip()
                if len(found) == 2 or not line.strip():  # the first CPU's block ends
                    break
    except OSError:
        pass
    return "\n".join(found.values())


def cache_folder() -> Path:
    """Where the built libraries are kept (see the module docstring)."""
    base = os.environ.get("BACKPROP_LAB_CACHE_DIR")
    if not base:
        xdg = os.environ.get("XDG_CACHE_HOME")
        base = os.path.join(xdg, "backprop-lab") if xdg else "~/.cache/backprop-lab"
    return Path(base).expanduser() / "native"


def library_name(dtype) -> str:
    """The file name of the library for ``dtype`` on this machine."""
    digest = hashlib.sha256()
    for part in (
        SOURCE.read_bytes(),
        " ".join(FLAGS + DEFINES[dtype]).encode(),
        dtype.name.encode(),
        os.uname().machine.encode(),
        _cpu_identity().encode(),
    ):
        digest.update(len(part).to_bytes(8, "little"))
        digest.update(part)
    return f"whole_fit-{dtype.name}-{digest.hexdigest()[:32]}.so"


def _build(command: list[str], dtype, target: Path) -> float:
    """Compile the library for ``dtype`` to ``target`` (through a temporary file in its
    folder, renamed into place); returns the compiler's wall time in seconds."""
    import subprocess
    import tempfile

    fd, temporary = tempfile.mkstemp(prefix=".build-", suffix=".so", dir=target.parent)
    os.close(fd)
    try:
        began = time.perf_counter()
        try:
            done = subprocess.run(
                [*command, *FLAGS, *DEFINES[dtype], "-o", temporary, str(SOURCE), "-lm"],
                capture_output=True,
                text=True,
                timeout=BUILD_TIMEOUT,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise _Unavailable(f"the C compiler {command[0]!r} does not run ({exc})") from None
        seconds = time.perf_counter() - began
        if done.returncode != 0:
            lines = (done.stderr or done.stdout).strip().splitlines()
            last = lines[-1] if lines else f"exit status {done.returncode}"
            raise _Unavailable(f"the C build with {command[0]!r} failed: {last}")
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return seconds


def _open(path: Path, dtype) -> ctypes.CDLL:
    """The library at ``path``, checked to be a build of ``whole_fit.c`` for ``dtype``;
    raises OSError if it is not (a damaged file)."""
    try:
        lib = ctypes.CDLL(str(path))
        real_size = lib.real_size
    except AttributeError as exc:
        raise OSError(f"{path.name} is not a build of whole_fit.c") from exc
    real_size.restype = ctypes.c_int64
    real_size.argtypes = []
    if real_size() != dtype.itemsize:
        raise OSError(f"{path.name} is built for another dtype")
    return lib


def _load(dtype) -> Native:
    """The cached library if there is a good one (no compiler needed), else a new build."""
    if dtype not in DEFINES:
        raise _Unavailable(f"dtype {dtype} (only float32 and float64 are built)")
    name = library_name(dtype)
    folder = cache_folder()
    path = folder / name
    if path.exists():
        try:
            return Native(dtype, _open(path, dtype), path, None)
        except OSError:
            pass  # damaged: rebuilt once, below
    command = compiler()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        writable = os.access(folder, os.W_OK | os.X_OK)
    except OSError:
        writable = False
    if not writable:  # build for this process only
        import tempfile

        with tempfile.TemporaryDirectory(prefix="backprop-lab-native-") as temporary:
            path = Path(temporary) / name
            seconds = _build(command, dtype, path)
            try:
                return Native(dtype, _open(path, dtype), path, seconds)  # stays mapped
            except OSError as exc:
                raise _Unavailable(f"the built library does not load: {exc}") from None
    seconds = _build(command, dtype, path)
    try:
        return Native(dtype, _open(path, dtype), path, seconds)
    except OSError as exc:
        raise _Unavailable(f"the built library does not load: {exc}") from None


# ------------------------------------------------------------------ the kernels
_P = ctypes.c_void_p
_I = ctypes.c_int64
_D = ctypes.c_double


def _pointer(array, dtype, name: str, shape: tuple | None = None) -> int:
    """The address of ``array``'s data, after checking its type, dtype, layout and shape."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"{name} must be a NumPy array, not {type(array).__name__}")
    if array.dtype != dtype:
        raise TypeError(f"{name} has dtype {array.dtype}, expected {dtype}")
    if not array.flags.c_contiguous:
        raise ValueError(f"{name} must be C-contiguous")
    if shape is not None and array.shape != shape:
        raise ValueError(f"{name} has shape {array.shape}, expected {shape}")
    return array.ctypes.data


def _writable(array, name: str) -> None:
    if not array.flags.writeable:
        raise ValueError(f"{name} is read-only")


class Native:
    """The C kernels for one dtype; each method checks its arrays, then calls C.

    The calls release the GIL (ctypes.CDLL).  ``build_seconds`` is the compiler's
    wall time if this process built the library, else None (loaded from the cache).
    """

    def __init__(self, dtype, lib: ctypes.CDLL, path: Path, build_seconds: float | None):
        self.dtype = np.dtype(dtype)
        self.path = path
        self.build_seconds = build_seconds
        self._lib = lib
        real = ctypes.c_float if self.dtype == np.float32 else ctypes.c_double
        self._real = real
        arrays = [_P, _P, _I, _I]  # X, Y, n_samples, n_features
        work = [_P, _P, _P, _P, _P, _I, _I]  # A, Z, G, T, S, H, ld
        lib.fit_epochs.restype = _I
        lib.fit_epochs.argtypes = arrays + [_P, _I, _I, _I, _I, _I, _D, _P, _P, real, _P, _P] + work
        lib.train_range.restype = _I
        lib.train_range.argtypes = arrays + [_P, _I, _I, _I, _I, _D, _P, _P, real, _P, _P] + work
        lib.forward.restype = None
        lib.forward.argtypes = [_P, _I, _I, _P, _I, _I, _D, _P, _P, _P, _I]
        lib.permutations.restype = None
        lib.permutations.argtypes = [_P, _I, _I, _I, _P, _I]
        lib.fit_shuffled.restype = _I
        lib.fit_shuffled.argtypes = (
            arrays + [_P, _P, _I, _I, _I, _I, _I, _D, _P, _P, real, _P, _P] + work + [_I]
        )

    def __repr__(self) -> str:
        return f"<Native {self.dtype} kernels from {self.path.name}>"

    def _model(self, X, Y, act, theta, grad, work, rows_needed):
        """Checks shared by the training kernels; returns their common arguments."""
        f = self.dtype
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D, not of shape {X.shape}")
        n_samples, n_features = X.shape
        x = _pointer(X, f, "X")
        y = _pointer(Y, f, "Y", (n_samples, 1))
        if act not in ACTIVATIONS:
            raise ValueError(f"activation code {act} has no C kernel")
        A, Z, G, T, S = work
        if A.ndim != 2:
            raise ValueError("A must be 2-D")
        rows, ld = A.shape
        n_hidden = rows - n_features - 1
        if n_hidden < 1 or ld < rows_needed:
            raise ValueError(
                f"work buffers of shape {A.shape} do not fit {n_features} features "
                f"and batches of {rows_needed}"
            )
        buffers = [
            _pointer(a, f, name, shape)
            for a, name, shape in zip(
                work, "AZGTS", [(rows, ld), (rows, ld), (rows, ld), (1, ld), (2, ld)]
            )
        ]
        for a, name in zip(work, "AZGTS"):
            _writable(a, name)
        n_params = n_features * n_hidden + 2 * n_hidden + 1
        t = _pointer(theta, f, "theta", (n_params,))
        g = _pointer(grad, f, "grad", (n_params,))
        _writable(theta, "theta")
        _writable(grad, "grad")
        return n_samples, n_features, x, y, t, g, buffers, n_hidden, ld

    def _epochs(self, X, Y, orders, first, stop, batch_size, act, theta, grad, loss, correct,
                work):  # fmt: skip
        """Checks shared by ``fit_epochs`` and ``fit_shuffled``; their common arguments."""
        batch_size = int(batch_size)
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, not {batch_size}")
        first, stop = int(first), int(stop)
        n_samples = X.shape[0] if X.ndim == 2 else 0
        model = self._model(X, Y, act, theta, grad, work, min(batch_size, n_samples))
        n = model[0]
        if orders.ndim != 2 or orders.shape[0] < 1 or orders.shape[1] != n:
            raise ValueError(f"orders must have shape (rows, {n}), not {orders.shape}")
        o = _pointer(orders, np.dtype(np.int64), "orders")
        lo = _pointer(loss, np.dtype(np.float64), "loss")
        co = _pointer(correct, np.dtype(np.int64), "correct")
        epochs = max(stop, 0)
        if first < 0 or loss.shape != (loss.size,) or loss.size < epochs or correct.size < epochs:
            raise ValueError(f"loss and correct must hold epochs {first}..{stop}")
        for array, name in ((orders, "orders"), (loss, "loss"), (correct, "correct")):
            _writable(array, name)
        return first, stop, batch_size, o, lo, co, model

    def fit_epochs(
        self, X, Y, orders, first, stop, batch_size, act, slope, theta, grad, lr, loss, correct,
        work,
    ):  # fmt: skip
        """``whole_fit.fit_epochs``, with the same arguments (see there)."""
        first, stop, batch_size, o, lo, co, model = self._epochs(
            X, Y, orders, first, stop, batch_size, act, theta, grad, loss, correct, work
        )
        n, nf, x, y, t, g, buffers, n_hidden, ld = model
        status = self._lib.fit_epochs(
            x, y, n, nf, o, orders.shape[0], first, stop, batch_size, int(act), float(slope),
            t, g, float(lr), lo, co, *buffers, n_hidden, ld,
        )  # fmt: skip
        if status != 0:
            raise IndexError(f"orders holds a sample index outside 0..{n - 1}")

    def fit_shuffled(
        self, st, X, Y, orders, first, stop, batch_size, act, slope, theta, grad, lr, loss,
        correct, work, threads=2,
    ):  # fmt: skip
        """``permutations(st, n_samples, first, stop, orders)`` then ``fit_epochs`` on
        those orders, in one call, the results those of the two calls, bit for bit.
        ``orders`` needs a row per epoch of the call.  With ``threads >= 2`` a second
        thread draws the orders while the caller trains, and for data beyond the
        caches copies each epoch's samples in its order, so that the batches read
        consecutive memory (``whole_fit.c``, "drawing while training")."""
        first, stop, batch_size, o, lo, co, model = self._epochs(
            X, Y, orders, first, stop, batch_size, act, theta, grad, loss, correct, work
        )
        n, nf, x, y, t, g, buffers, n_hidden, ld = model
        if n >= 2**32:
            raise ValueError(f"{n} samples: permutations draws orders of fewer than 2**32")
        if not first <= stop or stop - first > len(orders):
            raise ValueError(f"epochs {first}..{stop} need {stop - first} rows of orders")
        state = _pointer(st, np.dtype(np.uint64), "st", (6,))
        _writable(st, "st")
        self._lib.fit_shuffled(
            x, y, n, nf, state, o, len(orders), first, stop, batch_size, int(act), float(slope),
            t, g, float(lr), lo, co, *buffers, n_hidden, ld, int(threads),
        )  # fmt: skip

    def train_range(
        self, X, Y, order, batch_size, first, stop, act, slope, theta, grad, lr, loss_sum,
        correct, work,
    ):  # fmt: skip
        """Batches ``first..stop`` of one epoch in sample order ``order``, as
        ``kernels.train_steps`` trains this family; returns ``(loss_sum, correct)``
        updated from the running totals passed in, as ``train_steps`` does."""
        batch_size, first, stop = int(batch_size), int(first), int(stop)
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, not {batch_size}")
        n_samples = X.shape[0] if X.ndim == 2 else 0
        n, nf, x, y, t, g, buffers, n_hidden, ld = self._model(
            X, Y, act, theta, grad, work, min(batch_size, n_samples)
        )
        if isinstance(order, np.ndarray) and order.dtype.kind in "iu":
            order = np.ascontiguousarray(order, dtype=np.int64)  # no copy if it is already
        o = _pointer(order, np.dtype(np.int64), "order", (n,))
        if not 0 <= first <= max(stop, first) <= -(-n // batch_size):
            raise ValueError(f"batches {first}..{stop} of {-(-n // batch_size)}")
        total, right = _D(float(loss_sum)), _I(int(correct))
        status = self._lib.train_range(
            x, y, n, nf, o, batch_size, first, stop, int(act), float(slope), t, g, float(lr),
            ctypes.byref(total), ctypes.byref(right), *buffers, n_hidden, ld,
        )  # fmt: skip
        if status != 0:
            raise IndexError(f"order holds a sample index outside 0..{n - 1}")
        return total.value, right.value

    def permutations(self, st, n, first, stop, out) -> None:
        """``pcg64.permutations``, with the same arguments (see there)."""
        n, first, stop = int(n), int(first), int(stop)
        if not 0 <= n < 2**32 or out.ndim != 2 or out.shape[1] != n or len(out) < 1:
            raise ValueError(f"out must have shape (rows, n) with 0 <= n < 2**32, not {out.shape}")
        state = _pointer(st, np.dtype(np.uint64), "st", (6,))
        orders = _pointer(out, np.dtype(np.int64), "out")
        _writable(st, "st")
        _writable(out, "out")
        self._lib.permutations(state, n, first, stop, orders, len(out))

    def forward(self, X, theta, n_hidden, act, slope=0.0) -> np.ndarray:
        """``kernels.forward_rows`` for this family: the predictions, shape ``(n, 1)``.

        ``X`` (in the kernels' dtype) may have any layout, as ``forward_rows`` takes it."""
        f = self.dtype
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D, not of shape {X.shape}")
        n, nf = X.shape
        n_hidden = int(n_hidden)
        if n_hidden < 1:
            raise ValueError(f"n_hidden must be positive, not {n_hidden}")
        if act not in ACTIVATIONS:
            raise ValueError(f"activation code {act} has no C kernel")
        if isinstance(X, np.ndarray):
            X = np.ascontiguousarray(X)  # forward_rows takes any layout; no copy if C-ordered
        x = _pointer(X, f, "X")
        t = _pointer(theta, f, "theta", (nf * n_hidden + 2 * n_hidden + 1,))
        P = np.empty((n, 1), f)
        if n == 0:
            return P
        block = min(256, n)  # forward_rows's
        rows = nf + n_hidden + 1
        A, Z = np.empty((rows, block), f), np.empty((rows, block), f)
        self._lib.forward(
            x, n, nf, t, n_hidden, int(act), float(slope), P.ctypes.data, A.ctypes.data,
            Z.ctypes.data, block,
        )  # fmt: skip
        return P
