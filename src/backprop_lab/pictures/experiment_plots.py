"""Pictures of experiments: accuracy against data size, boundaries by size,
and sweeps over one or two settings."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from ..engine.metrics import cell_centres
from .style import OKABE_ITO, PROBA_CMAP, new_figure

PROTOCOL_LABELS = {
    "fixed-epochs": "fixed epochs (more data, more steps)",
    "fixed-steps": "fixed gradient steps (only the data grows)",
}


def _groups(summary: list[dict], key: str) -> dict:
    out: dict = {}
    for row in summary:
        out.setdefault(row[key], []).append(row)
    return out


def plot_scaling(
    summary: list[dict], *, baseline: float | None = None, best: float | None = None, title=None
) -> Figure:
    """Mean test accuracy against training-set size, a ±1 std band, one line per protocol.

    Parameters
    ----------
    summary : list of dict
        Rows of ``experiments.summarise(rows, ("protocol", "size"))``.
    baseline : float, optional
        Accuracy of always answering the majority class, drawn dashed.
    best : float, optional
        Accuracy of the true labelling rule on the test set, drawn dotted.
    """
    fig = new_figure((8, 5))
    ax = fig.add_subplot()
    for i, (protocol, rows) in enumerate(_groups(summary, "protocol").items()):
        rows = sorted(rows, key=lambda r: r["size"])
        x = np.array([r["size"] for r in rows])
        mean = np.array([r["mean"] for r in rows])
        std = np.array([r["std"] for r in rows])
        color = OKABE_ITO[i % len(OKABE_ITO)]
        ax.plot(x, mean, "o-", color=color, label=PROTOCOL_LABELS.get(protocol, protocol))
        ax.fill_between(x, mean - std, mean + std, color=color, alpha=0.2, linewidth=0)
    if baseline is not None:
        ax.axhline(
            baseline, color="0.3", ls="--", lw=1, label=f"always the majority ({baseline:.1%})"
        )
    if best is not None:
        ax.axhline(best, color="0.3", ls=":", lw=1, label=f"best possible ({best:.1%})")
    ax.set_xscale("log")
    ax.set_xlabel("training-set size (points)")
    ax.set_ylabel("test accuracy (mean ± 1 std over seeds)")
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="lower right", fontsize=9)
    ax.set_title(title or "How accuracy grows with data")
    return fig


def plot_boundaries(grids: list[tuple[str, np.ndarray]], *, radius: float | None = 0.5) -> Figure:
    """Small multiples of learned probability maps over [-1, 1]², the true circle dashed.

    Parameters
    ----------
    grids : list of (label, ndarray of shape (r, r))
        Probability of class 1 on a grid over the square, one per panel.
    """
    n = len(grids)
    cols = min(n, 4)
    rows = math.ceil(n / cols)
    fig = new_figure((3.2 * cols, 3.2 * rows + 0.4))
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax in axes.ravel()[n:]:
        ax.set_axis_off()
    image = None
    for ax, (label, grid) in zip(axes.ravel(), grids):
        image = ax.imshow(
            grid, origin="lower", extent=(-1, 1, -1, 1), cmap=PROBA_CMAP, vmin=0, vmax=1
        )
        xs = cell_centres(-1, 1, grid.shape[1])  # the maps hold grid_points values
        ax.contour(xs, xs, grid, levels=[0.5], colors="black", linewidths=1.5)
        if radius is not None:
            t = np.linspace(0, 2 * np.pi, 200)
            ax.plot(radius * np.cos(t), radius * np.sin(t), "k--", lw=1)
        ax.set_title(label, fontsize=10)
        ax.set_xticks([-1, 0, 1])
        ax.set_yticks([-1, 0, 1])
        ax.set_aspect("equal")
    if image is not None:
        fig.colorbar(image, ax=axes, shrink=0.8, label="P(class 1)")
    fig.suptitle("Learned boundary (solid) against the true circle (dashed)")
    return fig


def plot_sweep(summary: list[dict], names: list[str], *, baseline: float | None = None) -> Figure:
    """A line plot of mean accuracy over one setting, or a heatmap over two."""
    if len(names) == 1:
        fig = new_figure((7, 4.5))
        ax = fig.add_subplot()
        name = names[0]
        labels = [str(r[name]) for r in summary]
        x = np.arange(len(summary))
        mean = np.array([r["mean"] for r in summary])
        ax.errorbar(
            x,
            mean,
            yerr=[r["std"] for r in summary],
            fmt="o-",
            capsize=4,
            color=OKABE_ITO[0],
            label="mean ± 1 std",
        )
        if baseline is not None:
            ax.axhline(baseline, color="0.3", ls="--", lw=1, label=f"majority ({baseline:.1%})")
        ax.set_xticks(x, labels)
        ax.set_xlabel(name)
        ax.set_ylabel("test accuracy")
        ax.yaxis.set_major_formatter(PercentFormatter(xmax=1))
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=9)
        ax.set_title(f"Test accuracy against {name}")
        return fig
    a, b = names
    rows_a = list(dict.fromkeys(r[a] for r in summary))
    cols_b = list(dict.fromkeys(r[b] for r in summary))
    table = np.full((len(rows_a), len(cols_b)), np.nan)
    for r in summary:
        table[rows_a.index(r[a]), cols_b.index(r[b])] = r["mean"]
    fig = new_figure((1.2 * len(cols_b) + 3, 0.8 * len(rows_a) + 2))
    ax = fig.add_subplot()
    image = ax.imshow(table, cmap="viridis", vmin=np.nanmin(table), vmax=1, aspect="auto")
    for i in range(len(rows_a)):
        for j in range(len(cols_b)):
            value = table[i, j]
            dark = value < (np.nanmin(table) + 1) / 2
            ax.text(
                j,
                i,
                "n/a" if np.isnan(value) else f"{value:.1%}",
                ha="center",
                va="center",
                color="white" if dark else "black",
                fontsize=9,
            )
    ax.set_xticks(range(len(cols_b)), [str(v) for v in cols_b])
    ax.set_yticks(range(len(rows_a)), [str(v) for v in rows_a])
    ax.set_xlabel(b)
    ax.set_ylabel(a)
    fig.colorbar(image, ax=ax, label="mean test accuracy")
    ax.set_title(f"Mean test accuracy over {a} × {b}")
    return fig
