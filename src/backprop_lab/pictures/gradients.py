"""``gradients.png``: how large each layer's gradient is, epoch by epoch.

The values are those ``recording.GradientRecorder`` measures: the norm of the
gradient of the training loss (over the whole training set, or a fixed subset
of 1,024 of its points when it is larger) with respect to each layer's kernel,
before training (epoch 0) and at the end of every epoch; the run folder keeps
them in ``gradients.csv`` (``runs.folders.write_gradients``).  On a log axis a
vanishing gradient is a line falling away from the others, an exploding one a
line shooting up.  Zeros (a layer that no longer learns at all) and NaN or
infinity cannot sit on a log axis, so they are marked in strips of their own
below and above it.  :func:`draw_gradients` draws the log axis alone into any
Axes; ``plot_gradients`` adds the strips.
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import Formatter, LogLocator, MaxNLocator, NullFormatter, NullLocator

from ..runs.folders import check_gradient_table
from .style import new_figure

__all__ = ["draw_gradients", "layer_names", "plot_gradients"]

TITLE = "Gradient norm per layer (training loss on up to 1,024 fixed points, end of each epoch)"

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


class _DistinctFormatter(Formatter):
    """Plain numbers with as few significant digits as keep the visible ticks apart.

    A fixed ``.2g`` labels ticks at 0.145 and 0.15 both "0.15"; here the
    digits grow until every tick in view has its own label.
    """

    digits = 2

    def set_locs(self, locs):
        super().set_locs(locs)
        lo, hi = sorted(self.axis.get_view_interval()) if self.axis else (-np.inf, np.inf)
        shown = [v for v in locs if lo <= v <= hi]
        for digits in range(1, 8):
            labels = [f"{v:.{digits}g}" for v in shown]
            if len(set(labels)) == len(labels):
                break
        self.digits = digits

    def __call__(self, x, pos=None):
        return f"{x:.{self.digits}g}"


def _band(fig, spec, ax, epochs, mask, label: str, name: str) -> None:
    """A strip beside the log axis marking the epochs where a layer's norm is ``mask``-ed."""
    band = fig.add_subplot(spec, sharex=ax)
    band.set_label(name)
    n_layers = mask.shape[1]
    offsets = np.linspace(-0.25, 0.25, n_layers) if n_layers > 1 else np.zeros(1)
    for i in range(n_layers):
        color, marker, _ = _STYLES[i % len(_STYLES)]
        band.plot(
            epochs[mask[:, i]],
            np.full(int(mask[:, i].sum()), offsets[i]),
            color=color,
            marker=marker,
            markersize=4,
            linestyle="none",
        )
    band.set_ylim(-0.5, 0.5)
    band.set_yticks([0.0], [label])
    band.yaxis.set_minor_locator(NullLocator())
    band.grid(True, axis="x", alpha=0.3)


def layer_names(model) -> list[str]:
    """``["hidden 1 (8 relu)", ..., "output (1 sigmoid)"]``: the legend's name of each layer."""
    last = len(model.layers) - 1
    return [
        f"{'output' if i == last else f'hidden {i + 1}'} ({layer.units} {layer.activation.name})"
        for i, layer in enumerate(model.layers)
    ]


def plot_gradients(epochs, norms, *, layer_names=None, title: str | None = None) -> Figure:
    """Draw each layer's kernel gradient norm per epoch on a log axis.

    A log axis has no place for 0 or for NaN and infinity, so those values are
    marked in strips of their own: "exactly 0" below the axis (a layer whose
    gradient is exactly zero no longer learns), "NaN or ∞" above it.  The
    tick labels carry as many digits as keep them apart.

    Parameters
    ----------
    epochs : array-like of shape (n_points,)
        0 for the initial weights, then the epoch each row was measured after.
    norms : array-like of shape (n_points, n_layers)
        ``||dL/dW_l||`` of each layer.
    layer_names : list of str, optional
        Legend entries, e.g. ``["layer 1 (8 relu)", ...]``.

    Returns
    -------
    Figure
        Its axes are labelled ``"norms"`` (the log axis) and, when needed,
        ``"zero"`` and ``"not finite"`` (the strips).
    """
    epochs, norms = check_gradient_table(epochs, norms)
    zero = norms == 0
    not_finite = ~np.isfinite(norms)
    fig = new_figure((7.5, 4.5))
    rows = [("not finite", not_finite.any()), ("norms", True), ("zero", zero.any())]
    rows = [name for name, shown in rows if shown]
    spec = fig.add_gridspec(
        len(rows), 1, height_ratios=[8 if r == "norms" else 1 for r in rows], hspace=0.05
    )
    ax = fig.add_subplot(spec[rows.index("norms")])
    ax.set_label("norms")
    draw_gradients(ax, epochs, norms, layer_names=layer_names, title=title)
    if "not finite" in rows:
        _band(fig, spec[0], ax, epochs, not_finite, "NaN or ∞", "not finite")
    if "zero" in rows:
        _band(fig, spec[-1], ax, epochs, zero, "exactly 0", "zero")
    by_name = {a.get_label(): a for a in fig.axes}
    for name in rows[:-1]:
        by_name[name].tick_params(axis="x", labelbottom=False)
    # The epochs go under the lowest strip, the title over the highest.
    top, bottom = by_name[rows[0]], by_name[rows[-1]]
    if bottom is not ax:
        bottom.set_xlabel(ax.get_xlabel())
        ax.set_xlabel("")
    if top is not ax:
        top.set_title(ax.get_title(), fontsize="medium")
        ax.set_title("")
    return fig


def draw_gradients(ax: Axes, epochs, norms, *, layer_names=None, title: str | None = None) -> None:
    """Draw :func:`plot_gradients`' log axis into ``ax``: one line per layer, labelled.

    The parameters are ``plot_gradients``'.  Zeros and NaN or infinity are
    gaps in the lines; ``plot_gradients`` marks them in strips of their own.
    """
    epochs, norms = check_gradient_table(epochs, norms)
    n_layers = norms.shape[1]
    names = list(layer_names or [f"layer {i + 1}" for i in range(n_layers)])
    values = norms.copy()
    values[(norms == 0) | ~np.isfinite(norms)] = np.nan  # no place on a log axis
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
        span = np.log10(hi / lo)
        if span < 2.5:  # a narrow range reads better as 0.02, 0.05, 0.1 than as powers of 10
            if span < 0.3:  # a log axis this short is nearly linear: evenly spaced ticks
                locator = MaxNLocator(nbins=5)
            elif span < 1:
                locator = LogLocator(subs=(1.0, 1.5, 2.0, 3.0, 5.0, 7.0))
            else:
                locator = LogLocator(subs=(1.0, 2.0, 5.0))
            ax.yaxis.set_major_locator(locator)
            ax.yaxis.set_major_formatter(_DistinctFormatter())
            ax.yaxis.set_minor_formatter(NullFormatter())
    else:
        ax.text(0.5, 0.5, "no finite, non-zero gradient", ha="center", transform=ax.transAxes)
    ax.set_ylabel("gradient norm ‖∂L/∂W‖ (log scale)")
    ax.set_xlim(epochs[0] - 0.5, max(epochs[-1], 1) + 0.5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
    ax.grid(True, which="major", alpha=0.3)
    ax.grid(True, which="minor", alpha=0.1)
    ax.legend(fontsize="small", loc="best")
    ax.set_xlabel("epoch (0 = before training)")
    ax.set_title(title or TITLE, fontsize="medium")
