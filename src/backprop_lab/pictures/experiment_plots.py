"""Pictures of experiments: the score against data size, maps by size,
and sweeps over one or two settings.

The score is the task's: test accuracy for classification, test R² for
regression (``task``).  Each picture says what it shows: ``scaling.png`` and
``sweep.png`` how many seeds each mean is over, how many diverged trainings
are left out, and the baseline (the majority class, or R² 0 for predicting
the mean: a dashed line; on a heatmap, marked on the colour bar and hatched
in every cell that does not beat it); ``boundaries.png``
(``plot_scale_boundaries``) which training of each size it shows: the
probability of class 1, the regions of k classes, or the predicted surface.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import PercentFormatter

from ..engine.metrics import cell_centres
from .plotting import draw_regions
from .style import OKABE_ITO, PROBA_CMAP, new_figure
from .surface import draw_values, value_norm

PROTOCOL_LABELS = {
    "fixed-epochs": "fixed epochs (more data, more steps)",
    "fixed-steps": "fixed gradient steps (only the data grows)",
}


__all__ = [
    "plot_boundaries",
    "plot_scale_boundaries",
    "plot_scaling",
    "plot_sweep",
    "score_name",
    "score_text",
]

# What each task is scored by, and what its baseline is.
SCORE_NAMES = {"classification": "accuracy", "regression": "R²"}
BASELINE_NAMES = {"classification": "always the majority", "regression": "predicting the mean"}
HEATMAP_BASELINES = {
    "classification": "the majority baseline",
    "regression": "the baseline of predicting the mean",
}


def score_name(task: str) -> str:
    """``"accuracy"`` or ``"R²"``: the score of ``task`` in words."""
    if task not in SCORE_NAMES:
        raise ValueError(f"task must be classification or regression, got {task!r}")
    return SCORE_NAMES[task]


def score_text(task: str, value: float) -> str:
    """``"87.5%"`` (accuracy) or ``"0.931"`` (R²)."""
    return f"{value:.1%}" if score_name(task) == "accuracy" else f"{value:.3f}"


def _score_axis(axis, task: str) -> None:
    """Percent ticks for accuracy; R² keeps plain numbers."""
    if score_name(task) == "accuracy":
        axis.set_major_formatter(PercentFormatter(xmax=1))


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
    summary: list[dict],
    *,
    baseline: float | None = None,
    best: float | None = None,
    title=None,
    task: str = "classification",
) -> Figure:
    """Mean test score against training-set size, a ±1 std band, one line per protocol.

    Parameters
    ----------
    summary : list of dict
        Rows of ``experiments.summarise(rows, ("protocol", "size"), task)``.
    baseline : float, optional
        Score of always answering the majority class (accuracy), or of
        predicting the mean (R² 0), drawn dashed.
    best : float, optional
        Score of the true rule or surface on the test set, drawn dotted.
    title : str, optional
        First title line (default: how the score grows with data).
    task : {"classification", "regression"}
        Whether the score is test accuracy or test R².
    """
    name = score_name(task)
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
        label = f"{BASELINE_NAMES[task]} ({score_text(task, baseline)})"
        ax.axhline(baseline, color="0.3", ls="--", lw=1, label=label)
    if best is not None:
        label = f"best possible ({score_text(task, best)})"
        ax.axhline(best, color="0.3", ls=":", lw=1, label=label)
    ax.set_xscale("log")
    ax.set_xlabel("training-set size (points)")
    ax.set_ylabel(f"test {name} (mean ± 1 std over seeds)")
    _score_axis(ax.yaxis, task)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="lower right", fontsize=9)
    note = _seeds_note(summary)
    ax.set_title((title or f"How {name} grows with data") + (f"\n{note}" if note else ""))
    return fig


def plot_boundaries(
    grids: list[tuple[str, np.ndarray]],
    *,
    radius: float | None = 0.5,
    caption: str | None = None,
    task: str = "classification",
) -> Figure:
    """Small multiples of learned maps over [-1, 1]², the true circle dashed.

    Parameters
    ----------
    grids : list of (label, ndarray of shape (r, r) or (r, r, k))
        One per panel: the probability of class 1 (r, r); the probabilities
        of k classes (r, r, k), drawn as regions (`plotting.draw_regions`);
        or, for ``task="regression"``, the predicted value (r, r), drawn on
        one diverging scale centred on the maps' mean (`surface.draw_values`).
    radius : float, optional
        Radius of the true circle, drawn dashed; None draws no true boundary.
    caption : str, optional
        Which trainings the panels show, under the title.
    task : {"classification", "regression"}
        What the maps hold.
    """
    score_name(task)  # refuses an unknown task
    kind = "regression" if task == "regression" else "binary"
    if kind == "binary" and any(np.ndim(grid) == 3 for _, grid in grids):
        kind = "classes"
    n = len(grids)
    cols = min(n, 4)
    rows = math.ceil(n / cols)
    lines = caption.count("\n") + 1 if caption else 0
    fig = new_figure((3.2 * cols, 3.2 * rows + 0.4 + 0.3 * lines))
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax in axes.ravel()[n:]:
        ax.set_axis_off()
    image = None
    box = (-1.0, 1.0, -1.0, 1.0)
    if kind == "regression":
        centre = float(np.mean([np.nanmean(grid) for _, grid in grids]))
        norm = value_norm(centre, *(grid for _, grid in grids))
    for ax, (label, grid) in zip(axes.ravel(), grids):
        if kind == "regression":
            draw_values(fig, ax, grid, box, norm, label="predicted value")
        elif kind == "classes":
            P = grid.reshape(-1, grid.shape[-1])
            draw_regions(fig, ax, P, grid.shape[:2], box)
        else:
            image = ax.imshow(grid, origin="lower", extent=box, cmap=PROBA_CMAP, vmin=0, vmax=1)
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
    title = {
        "binary": "Learned boundary (solid)",
        "classes": "Learned regions (paler: less sure)",
        "regression": "Learned surface",
    }[kind]
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
    task: str = "classification",
) -> Figure | None:
    """``boundaries.png`` of a scaling experiment: the trainings whose maps were kept.

    ``experiments`` keeps the probability map of one training per pictured
    size, the first seed of the first protocol; the caption says so, with the
    protocol read from those rows.

    Parameters
    ----------
    rows : list of dict
        The experiment's table (``results.csv`` rows with ``index``,
        ``protocol``, ``size`` and ``test_accuracy`` or, for regression, ``r2``).
    grids_folder : path
        The experiment's ``grids`` folder, holding ``<index>.npy`` maps.
    seeds : int, optional
        Trainings per size, for "the first of 5 seeds".
    test_samples : int, optional
        Size of the shared test set the accuracies are measured on.
    radius : float, optional
        See ``plot_boundaries``.
    task : {"classification", "regression"}
        What the maps and the score are (see ``plot_boundaries``).

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
        score = row.get("r2" if task == "regression" else "test_accuracy")
        if score not in (None, ""):
            label += f"\ntest {score_name(task)} {score_text(task, float(score))}"
        grids.append((label, np.load(path)))
        protocols.append(row.get("protocol"))
    if not grids:
        return None
    which = "the first seed" if seeds is None else f"the first of {seeds} seeds"
    named = sorted({PROTOCOL_LABELS.get(p, str(p)) for p in protocols if p})
    protocol = f"\n{' and '.join(named)}" if named else ""
    caption = f"one training per size: {which}{protocol}"
    if test_samples:
        caption += f"\n{score_name(task)} on the shared test set of {int(test_samples):,} points"
    return plot_boundaries(grids, radius=radius, caption=caption, task=task)


def plot_sweep(
    summary: list[dict],
    names: list[str],
    *,
    baseline: float | None = None,
    task: str = "classification",
) -> Figure:
    """A line plot of the mean test score over one setting, or a heatmap over two.

    Parameters
    ----------
    summary : list of dict
        Rows of ``experiments.summarise(rows, names, task)``.
    names : list of str
        The one or two varied settings.
    baseline : float, optional
        The majority's accuracy, or R² 0 for regression: a dashed line on the
        line plot; on the heatmap a line on the colour bar (whose scale
        reaches down to it), and every cell whose mean does not beat it is
        hatched.
    task : {"classification", "regression"}
        Whether the score is test accuracy or test R².
    """
    note = _seeds_note(summary)
    score = score_name(task)
    base_label = None if baseline is None else score_text(task, baseline)
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
            who = "majority" if task == "classification" else BASELINE_NAMES[task]
            label = f"{who} ({base_label})"
            ax.axhline(baseline, color="0.3", ls="--", lw=1, label=label)
        ax.set_xticks(x, labels)
        ax.set_xlabel(name)
        ax.set_ylabel(f"test {score}")
        _score_axis(ax.yaxis, task)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=9)
        ax.set_title(f"Test {score} against {name}" + (f"\n{note}" if note else ""))
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
                "n/a" if np.isnan(value) else score_text(task, value),
                ha="center",
                va="center",
                color="white" if dark else "black",
                fontsize=9,
            )
    ax.set_xticks(range(len(cols_b)), [str(v) for v in cols_b])
    ax.set_yticks(range(len(rows_a)), [str(v) for v in rows_a])
    ax.set_xlabel(b)
    ax.set_ylabel(a)
    cbar = fig.colorbar(image, ax=ax, label=f"mean test {score}")
    _score_axis(cbar.ax.yaxis, task)
    title = f"Mean test {score} over {a} × {b}" + (f"\n{note}" if note else "")
    if baseline is not None:
        cbar.ax.axhline(baseline, color="white", linewidth=2.5)
        cbar.ax.axhline(baseline, color="black", linewidth=1.2, linestyle="--")
        hatched = Patch(facecolor="white", edgecolor="black", hatch="//")
        fig.legend(
            handles=[hatched],
            labels=[
                f"not above {HEATMAP_BASELINES[task]} ({base_label}, dashed on the colour bar)"
            ],
            loc="outside lower center",
            fontsize=8,
            frameon=False,
        )
    ax.set_title(title)
    return fig
