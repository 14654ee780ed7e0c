"""``landscape.png``: the loss surface around the trained weights, and the path down to them.

The weights live in a space of thousands of dimensions; a picture can show a
2-D slice of it.  The slice is the plane through the trained weights ``θ*``
spanned by two directions ``d1``, ``d2``, and the surface is
``f(α, β) = L(θ* + α d1 + β d2)``, the training loss, so ``f(0, 0)`` is the
trained model's loss.  Two planes are drawn side by side:

* **random directions, normalised filter-wise** (Li et al., "Visualizing the
  Loss Landscape of Neural Nets", NeurIPS 2018): each direction is Gaussian,
  then every filter (here: the column of a kernel feeding one neuron) is
  rescaled to the norm of the same filter in ``θ*``, so ``α = 1`` moves every
  neuron's weights by their own size and layers of different scales are
  comparable.  Bias directions are zero, as in the paper's code.
* **the first two principal components of the trajectory** ``θ_t - θ*``
  (Li et al., section 7): random directions are nearly orthogonal to the path
  in high dimensions, so the path shows best in this plane.

The trajectory recorded during training (``recording.StepRecorder``) is
projected onto each plane: the start, the path and the end.

The loss is measured on the training points ``pictures.learning`` gives
(all of them, or a fixed subset of 4,096, the same as the animation's), and
the picture says which; at the trained weights it is the loss after the last
step, so it differs from the loss ``fit`` logs for the last epoch (the mean
over its batches, each taken before its update), and the picture says that
too.

``plot_landscape`` draws each plane with :func:`draw_plane` on one colour
scale; :func:`draw_surface` draws one plane into any Axes with a colour bar of
its own (``plot_plane`` puts it in a figure of its own), which is what
``backprop_lab.plot.landscape`` shows.  The numbers (the directions, the
surfaces, the path) come from ``pictures.loss_surface``, which needs only NumPy
(the playground's live landscape uses it too); their names are re-exported here.
"""

from __future__ import annotations

import numpy as np
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.colors import LogNorm
from matplotlib.contour import QuadContourSet
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

from .loss_surface import (  # the numbers; re-exported: landscape's names stay as they were
    RESOLUTION,
    Surface,
    filter_normalized_direction,
    loss_at,
    loss_surface,
    pca_directions,
    project,
    surfaces,
)
from .style import new_figure

__all__ = [
    "RESOLUTION",
    "Surface",
    "draw_plane",
    "draw_surface",
    "filter_normalized_direction",
    "loss_at",
    "loss_range",
    "loss_surface",
    "pca_directions",
    "plot_landscape",
    "plot_plane",
    "project",
    "surfaces",
]

_HALO = [patheffects.withStroke(linewidth=3.5, foreground="black")]
_START = "#E69F00"  # the start of the path, Okabe-Ito orange


def plot_landscape(
    surfs: list[Surface], *, title: str | None = None, points: str | None = None
) -> Figure:
    """Contours of each surface (log colour scale) with the projected path.

    ``points`` names the training points the loss was measured on, e.g.
    ``"all 4,000 training points"`` (``recording.describe_points``); it goes
    under the title with the difference from the logged loss.  Each plane is
    a :func:`draw_plane`, on one colour scale.
    """
    fig = new_figure((6.0 * len(surfs), 5.6))
    axes = fig.subplots(1, len(surfs), squeeze=False)[0]
    span = loss_range(surfs)
    if span is None:  # a diverged run: say so rather than fail after training
        fig.text(0.5, 0.5, "the loss is not finite anywhere on these planes", ha="center")
        for ax in axes:
            ax.set_axis_off()
        return fig
    for ax, s in zip(axes, surfs):
        filled = draw_plane(ax, s, span)
    _colorbar(fig, filled, list(axes), span)
    handles = [
        Line2D([], [], marker="o", ms=9, ls="none", color=_START, mec="black", label="start"),
        Line2D([], [], color="white", lw=1.8, path_effects=_HALO, label="path of the weights"),
        Line2D([], [], marker="*", ms=15, ls="none", color="white", mec="black", label="end"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=3, frameon=False)
    heading = title or "The descent on the loss surface"
    on = f"on {points}" if points else "on the training points"
    fig.suptitle(
        f"{heading}\n"
        f"loss {on}, after the last step (the logged loss is each epoch's "
        "mean over its batches, during the epoch)",
        fontsize="medium",
    )
    return fig


def plot_plane(
    surface: Surface,
    *,
    path: bool = True,
    title: str | None = None,
    points: str | None = None,
) -> Figure:
    """One plane as a figure of its own: :func:`draw_surface` into a new 6.6 x 5.6 inch figure."""
    fig = new_figure((6.6, 5.6))
    draw_surface(fig.add_subplot(), surface, path=path, title=title, points=points)
    return fig


def loss_range(surfs: list[Surface]) -> tuple[float, float] | None:
    """``(lo, hi)`` of the finite losses of ``surfs``, for a log colour scale; None if none."""
    finite = np.concatenate([s.loss[np.isfinite(s.loss)] for s in surfs])
    if finite.size == 0:
        return None
    lo = max(float(finite.min()), 1e-12)
    return lo, max(float(finite.max()), lo * 1.01)


def draw_surface(
    ax: Axes,
    surface: Surface,
    *,
    path: bool = True,
    title: str | None = None,
    points: str | None = None,
) -> None:
    """Draw one plane into ``ax`` on its own colour scale: :func:`draw_plane`, a legend inside
    it and a colour bar next to it; a message instead where the loss is nowhere finite."""
    span = loss_range([surface])
    if span is None:  # a diverged model
        message = "the loss is not finite anywhere on this plane"
        ax.text(0.5, 0.5, message, ha="center", transform=ax.transAxes)
        ax.set_axis_off()
        return
    filled = draw_plane(ax, surface, span, path=path, title=title, points=points)
    ax.legend(fontsize="small", loc="upper right")
    _colorbar(ax.figure, filled, ax, span)


def draw_plane(
    ax: Axes,
    s: Surface,
    span: tuple[float, float],
    *,
    path: bool = True,
    title: str | None = None,
    points: str | None = None,
) -> QuadContourSet:
    """Draw the surface ``s`` into ``ax``: filled contours on a log scale from ``span``
    (:func:`loss_range`), white contour lines, and the path (start, line, end) or, without
    ``path``, the trained weights; its title (under ``title``) gives the loss at the trained
    weights, measured on ``points`` when given.  Returns the filled contours, for a colour bar.
    """
    lo, hi = span
    levels = np.geomspace(lo, hi, 25)
    loss = np.clip(np.nan_to_num(s.loss, nan=hi, posinf=hi), lo, hi)
    norm = LogNorm(lo, hi)
    filled = ax.contourf(s.alphas, s.betas, loss, levels=levels, norm=norm, cmap="viridis")
    ax.contour(
        s.alphas, s.betas, loss, levels=levels[::3], colors="white", linewidths=0.5, alpha=0.6
    )
    star = dict(ms=15, color="white", mec="black", zorder=4)
    if path:
        p = s.path
        line = dict(color="white", lw=1.8, path_effects=_HALO, zorder=3)
        ax.plot(p[:, 0], p[:, 1], **line, label="path of the weights")
        ax.plot(*p[0], "o", ms=9, color=_START, mec="black", zorder=4, label="start")
        ax.plot(*p[-1], "*", **star, label="end")
    else:
        ax.plot(0, 0, "*", **star, label="trained weights")
    ax.set_xlim(s.alphas[0], s.alphas[-1])
    ax.set_ylim(s.betas[0], s.betas[-1])
    ax.xaxis.set_major_locator(MaxNLocator(6))  # long tick labels must not touch
    ax.set_xlabel(s.xlabel)
    ax.set_ylabel(s.ylabel)
    loss_name = f"loss on {points}" if points else "training loss"
    heading = f"{s.title}\n{loss_name} at the trained weights: {s.centre:.4g}"
    ax.set_title(f"{title}\n{heading}" if title else heading, fontsize="medium")
    return filled


def _colorbar(fig, filled, ax, span: tuple[float, float]) -> None:
    """The colour bar of the training loss beside ``ax`` (one Axes or a list of them)."""
    cbar = fig.colorbar(filled, ax=ax, shrink=0.85)
    cbar.set_label("training loss (log scale)")
    lo, hi = span
    if np.log10(hi / lo) < 2.5:  # a narrow range: 1-2-5 ticks in plain numbers
        cbar.locator = LogLocator(subs=(1.0, 2.0, 5.0))
        cbar.formatter = FuncFormatter(lambda v, _: f"{v:.2g}")
        cbar.ax.yaxis.set_minor_formatter(NullFormatter())
        cbar.update_ticks()
