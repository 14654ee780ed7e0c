"""``gradients.png`` and ``gradients.csv``: how large each layer's gradient is, epoch by epoch.

The values are those ``recording.GradientRecorder`` measures: the norm of the
gradient of the training loss (over the whole training set, or a fixed subset
of 1,024 of its points when it is larger) with respect to each layer's kernel,
before training (epoch 0) and at the end of every epoch.  On a log axis a
vanishing gradient is a line falling away from the others, an exploding one a
line shooting up.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

from ..runs.fileio import write_atomic
from .style import new_figure

__all__ = ["plot_gradients", "read_gradients", "write_gradients"]

# Okabe-Ito colours with distinct markers and dashes, so layers stay apart in
# grey scale and for colour-blind readers.
_STYLES = [
    ("#0072B2", "o", "-"),
    ("#D55E00", "s", "--"),
    ("#009E73", "^", "-."),
    ("#CC79A7", "D", ":"),
    ("#E69F00", "v", "-"),
    ("#56B4E9", "P", "--"),
    ("#000000", "X", "-."),
]


def _check(epochs, norms) -> tuple[np.ndarray, np.ndarray]:
    epochs = np.asarray(epochs, dtype=np.int64).reshape(-1)
    norms = np.asarray(norms, dtype=np.float64)
    if norms.ndim != 2 or len(norms) != len(epochs) or len(epochs) == 0:
        raise ValueError(
            f"need one row of layer norms per epoch, got {len(epochs)} epochs and "
            f"norms of shape {norms.shape}"
        )
    return epochs, norms


def plot_gradients(epochs, norms, *, layer_names=None, title: str | None = None) -> Figure:
    """Draw each layer's kernel gradient norm per epoch on a log axis.

    Parameters
    ----------
    epochs : array-like of shape (n_points,)
        0 for the initial weights, then the epoch each row was measured after.
    norms : array-like of shape (n_points, n_layers)
        ``||dL/dW_l||`` of each layer.
    layer_names : list of str, optional
        Legend entries, e.g. ``["layer 1 (8 relu)", ...]``.
    """
    epochs, norms = _check(epochs, norms)
    n_layers = norms.shape[1]
    names = list(layer_names or [f"layer {i + 1}" for i in range(n_layers)])
    fig = new_figure((7.5, 4.5))
    ax = fig.add_subplot()
    values = norms.copy()
    values[~(np.isfinite(values) & (values > 0))] = np.nan  # a log axis has no 0 or inf
    marker_every = max(1, len(epochs) // 25)
    for i in range(n_layers):
        color, marker, dash = _STYLES[i % len(_STYLES)]
        ax.plot(
            epochs,
            values[:, i],
            color=color,
            marker=marker,
            markevery=marker_every,
            markersize=4,
            linestyle=dash,
            linewidth=1.6,
            label=names[i],
        )
    if np.isfinite(values).any():
        ax.set_yscale("log")
        lo, hi = np.nanmin(values), np.nanmax(values)
        if np.log10(hi / lo) < 2.5:  # a narrow range reads better as 0.02, 0.05, 0.1
            ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.2g}"))
            ax.yaxis.set_minor_formatter(NullFormatter())
    else:
        ax.text(0.5, 0.5, "no finite, non-zero gradient", ha="center", transform=ax.transAxes)
    ax.set_xlabel("epoch (0 = before training)")
    ax.set_ylabel("‖∂L/∂W‖ of the layer's kernel")
    ax.set_xlim(epochs[0] - 0.5, max(epochs[-1], 1) + 0.5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
    ax.grid(True, which="major", alpha=0.3)
    ax.grid(True, which="minor", alpha=0.1)
    ax.legend(fontsize="small", loc="best")
    ax.set_title(
        title
        or "Gradient norm per layer (training loss on up to 1,024 fixed points, end of each epoch)",
        fontsize="medium",
    )
    return fig


def write_gradients(path: str | os.PathLike, epochs, norms) -> Path:
    """Write ``epoch,layer_1,...`` rows as CSV, atomically."""
    epochs, norms = _check(epochs, norms)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["epoch", *(f"layer_{i + 1}" for i in range(norms.shape[1]))])
    for e, row in zip(epochs, norms):
        writer.writerow([int(e), *(repr(float(v)) for v in row)])
    path = Path(path)
    write_atomic(path, buf.getvalue().encode())
    return path


def read_gradients(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Read what ``write_gradients`` wrote: ``(epochs, norms)``."""
    path = Path(path)
    try:
        rows = list(csv.reader(path.read_text().splitlines()))
    except FileNotFoundError:
        raise ValueError(f"{path.parent} has no {path.name} (gradient norms per epoch)") from None
    if len(rows) < 2 or rows[0][:1] != ["epoch"]:
        raise ValueError(f"{path} is not a gradient table (epoch,layer_1,...)")
    try:
        data = np.array([[float(v) for v in row] for row in rows[1:]])
    except ValueError:
        raise ValueError(f"{path} holds a value that is not a number") from None
    return _check(data[:, 0], data[:, 1:])
