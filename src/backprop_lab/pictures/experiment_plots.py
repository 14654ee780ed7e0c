"""Pictures of experiments: accuracy against data size, boundaries by size,
and sweeps over one or two settings.

Each says what it shows: ``scaling.png`` and ``sweep.png`` how many seeds
each mean is over, how many diverged trainings are left out, and the
majority baseline (a dashed line; on a heatmap, marked on the colour bar and
hatched in every cell that does not beat it); ``boundaries.png``
(``plot_scale_boundaries``) which training of each size it shows.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import PercentFormatter

from ..engine.metrics import cell_centres
from .style import OKABE_ITO, PROBA_CMAP, new_figure

PROTOCOL_LABELS = {
    "fixed-epochs": "fixed epochs (more data, more steps)",
    "fixed-steps": "fixed gradient steps (only the data grows)",
}


__all__ = ["plot_boundaries", "plot_scale_boundaries", "plot_scaling", "plot_sweep"]


def _seeds_note(summary: list[dict]) -> str:
    """``"mean of 5 seeds per point; 2 diverged trainings left out"`` from summary rows."""
    runs = sorted({int(r["runs"]) for r in summary if "runs" in r})
    if not runs:
        return ""
    count = f"{runs[0]}" if len(runs) == 1 else f"{runs[0]}–{runs[-1]}"
    note = f"mean of {count} seed{'s' if runs[-1] > 1 else ''} per point"
    diverged = sum(int(r.get("diverged", 0)) for r in summary)
    if diverged:
        note += f"; {diverged} diverged training{'s' if diverged > 1 else ''} left out"
    return note


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
    note = _seeds_note(summary)
    ax.set_title((title or "How accuracy grows with data") + (f"\n{note}" if note else ""))
    return fig


def plot_boundaries(
    grids: list[tuple[str, np.ndarray]], *, radius: float | None = 0.5, caption: str | None = None
) -> Figure:
    """Small multiples of learned probability maps over [-1, 1]², the true circle dashed.

    Parameters
    ----------
    grids : list of (label, ndarray of shape (r, r))
        Probability of class 1 on a grid over the square, one per panel.
    radius : float, optional
        Radius of the true circle, drawn dashed; None draws no true boundary.
    caption : str, optional
        Which trainings the panels show, under the title.
    """
    n = len(grids)
    cols = min(n, 4)
    rows = math.ceil(n / cols)
    fig = new_figure((3.2 * cols, 3.2 * rows + (0.8 if caption else 0.4)))
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax in axes.ravel()[n:]:
        ax.set_axis_off()
    image = None
    for ax, (label, grid) in zip(axes.ravel(), grids):
        image = ax.imshow(
            grid, origin="lower", extent=(-1, 1, -1, 1), cmap=PROBA_CMAP, vmin=0, vmax=1
        )
        xs = cell_centres(-1, 1, grid.shape[1])  # the maps hold grid_points values
        if grid.min() < 0.5 < grid.max():
            ax.contour(xs, xs, grid, levels=[0.5], colors="black", linewidths=1.5)
        else:
            label += "\nno learned boundary in view"
        if radius is not None:
            t = np.linspace(0, 2 * np.pi, 200)
            ax.plot(radius * np.cos(t), radius * np.sin(t), "k--", lw=1)
        ax.set_title(label, fontsize=10)
        ax.set_xticks([-1, 0, 1])
        ax.set_yticks([-1, 0, 1])
        ax.set_aspect("equal")
    if image is not None:
        fig.colorbar(image, ax=axes, shrink=0.8, label="P(class 1)")
    title = "Learned boundary (solid)"
    if radius is not None:
        title += " against the true circle (dashed)"
    fig.suptitle(title + (f"\n{caption}" if caption else ""))
    return fig


def plot_scale_boundaries(
    rows: list[dict],
    grids_folder: str | Path,
    *,
    seeds: int | None = None,
    test_samples: int | None = None,
    radius: float | None = 0.5,
) -> Figure | None:
    """``boundaries.png`` of a scaling experiment: the trainings whose maps were kept.

    ``experiments`` keeps the probability map of one training per pictured
    size, the first seed of the first protocol; the caption says so, with the
    protocol read from those rows.

    Parameters
    ----------
    rows : list of dict
        The experiment's table (``results.csv`` rows with ``index``,
        ``protocol``, ``size`` and ``test_accuracy``).
    grids_folder : path
        The experiment's ``grids`` folder, holding ``<index>.npy`` maps.
    seeds : int, optional
        Trainings per size, for "the first of 5 seeds".
    test_samples : int, optional
        Size of the shared test set the accuracies are measured on.
    radius : float, optional
        See ``plot_boundaries``.

    Returns
    -------
    Figure, or None when no map was kept.
    """
    grids_folder = Path(grids_folder)
    grids, protocols = [], []
    for row in rows:
        path = grids_folder / f"{row['index']}.npy"
        if not path.exists():
            continue
        label = f"{int(row['size']):,} points"
        if row.get("test_accuracy") not in (None, ""):
            label += f"\ntest accuracy {float(row['test_accuracy']):.1%}"
        grids.append((label, np.load(path)))
        protocols.append(row.get("protocol"))
    if not grids:
        return None
    which = "the first seed" if seeds is None else f"the first of {seeds} seeds"
    named = sorted({PROTOCOL_LABELS.get(p, str(p)) for p in protocols if p})
    protocol = f", {' and '.join(named)}" if named else ""
    caption = f"one training per size: {which}{protocol}"
    if test_samples:
        caption += f"; accuracy on the shared test set of {int(test_samples):,} points"
    return plot_boundaries(grids, radius=radius, caption=caption)


def plot_sweep(summary: list[dict], names: list[str], *, baseline: float | None = None) -> Figure:
    """A line plot of mean accuracy over one setting, or a heatmap over two.

    The majority ``baseline`` is a dashed line on the line plot; on the
    heatmap it is a line on the colour bar (whose scale reaches down to it)
    and every cell whose mean does not beat it is hatched.
    """
    note = _seeds_note(summary)
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
        ax.set_title(f"Test accuracy against {name}" + (f"\n{note}" if note else ""))
        return fig
    a, b = names
    rows_a = list(dict.fromkeys(r[a] for r in summary))
    cols_b = list(dict.fromkeys(r[b] for r in summary))
    table = np.full((len(rows_a), len(cols_b)), np.nan)
    for r in summary:
        table[rows_a.index(r[a]), cols_b.index(r[b])] = r["mean"]
    fig = new_figure((1.2 * len(cols_b) + 3.5, 0.8 * len(rows_a) + 2.4))
    ax = fig.add_subplot()
    finite = table[np.isfinite(table)]
    low = float(finite.min()) if finite.size else 0.0
    if baseline is not None:
        low = min(low, baseline)  # the baseline is on the colour scale
    low = min(low, 1 - 1e-3)
    image = ax.imshow(table, cmap="viridis", vmin=low, vmax=1, aspect="auto")
    for i in range(len(rows_a)):
        for j in range(len(cols_b)):
            value = table[i, j]
            dark = value < (low + 1) / 2
            if baseline is not None and not value > baseline:  # NaN too: nothing beat it
                ax.add_patch(
                    Rectangle(
                        (j - 0.5, i - 0.5),
                        1,
                        1,
                        fill=False,
                        hatch="//",
                        edgecolor="white" if dark else "black",
                        linewidth=0,
                        alpha=0.6,
                    )
                )
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
    cbar = fig.colorbar(image, ax=ax, label="mean test accuracy")
    cbar.ax.yaxis.set_major_formatter(PercentFormatter(xmax=1))
    title = f"Mean test accuracy over {a} × {b}" + (f"\n{note}" if note else "")
    if baseline is not None:
        cbar.ax.axhline(baseline, color="white", linewidth=2.5)
        cbar.ax.axhline(baseline, color="black", linewidth=1.2, linestyle="--")
        hatched = Patch(facecolor="white", edgecolor="black", hatch="//")
        fig.legend(
            handles=[hatched],
            labels=[f"not above the majority baseline ({baseline:.1%}, dashed on the colour bar)"],
            loc="outside lower center",
            fontsize=8,
            frameon=False,
        )
    ax.set_title(title)
    return fig
