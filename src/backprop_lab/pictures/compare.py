"""``backprop-lab compare``: several runs side by side.

``compare.png`` shows each run's decision boundary (its saved model on its own
test split, regenerated from ``config.json``) in a row, and all their loss
curves on one axis below; ``compare.csv`` and the printed table hold their
metrics.  Everything comes from the run folders alone.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from ..engine.model import architecture
from ..runs.fileio import read_json_object, write_atomic
from ..runs.folders import HISTORY_COLUMNS, read_run
from ..runs.modelio import load_model
from . import plotting
from .style import OKABE_ITO, new_figure, save_figure

__all__ = ["COLUMNS", "RunSummary", "compare_runs", "format_table", "plot_compare", "read_history"]

MAX_RUNS = 8
COLUMNS = (
    "run",
    "folder",
    "dataset",
    "architecture",
    "optimizer",
    "lr",
    "batch_size",
    "epochs_completed",
    "test_accuracy",
    "baseline_accuracy",
    "test_loss",
    "iou",
    "disagreement_area",
    "train_seconds",
    "diverged_epoch",
)
_RUN_COLORS = OKABE_ITO


@dataclass
class RunSummary:
    """What compare needs of one run folder."""

    folder: Path
    config: dict
    metrics: dict
    history: dict
    model: object
    data: object = None  # the regenerated train/test split, for 2-D runs

    @property
    def architecture(self) -> str:
        return architecture(self.model.get_config())


def read_history(folder: Path) -> dict:
    """``history.csv`` of a run folder as ``{"loss": [...], "val_loss": [...], ...}``."""
    path = folder / "history.csv"
    try:
        rows = list(csv.DictReader(path.read_text().splitlines()))
    except FileNotFoundError:
        raise ValueError(
            f"{folder} has no history.csv, which compare needs for the loss curves"
        ) from None
    if not rows or "loss" not in rows[0]:
        raise ValueError(f"{path} has no epochs with a 'loss' column")
    history = {}
    for key in HISTORY_COLUMNS[1:5]:
        if key in rows[0]:
            history[key] = [float(r[key]) if r[key] not in ("", None) else math.nan for r in rows]
    return history


def read_summary(folder) -> RunSummary:
    """Read everything compare needs from ``folder``; one clear line if something is missing."""
    folder, config = read_run(folder)
    metrics = read_json_object(folder / "metrics.json", "compare")
    return RunSummary(folder, config, metrics, read_history(folder), load_model(folder))


def _data(summary: RunSummary):
    from ..runs.runner import load_data
    from ..runs.settings import Settings

    fields = Settings.__dataclass_fields__
    values = {k: v for k, v in summary.config["settings"].items() if k in fields}
    try:
        return load_data(Settings(**values).validate())
    except ValueError as e:
        raise ValueError(f"{summary.folder}: cannot regenerate its data ({e})") from None


def _boundary_panel(fig: Figure, ax, s: RunSummary, index: int) -> None:
    m = s.metrics
    title = f"{index}. {s.folder.name}\n{s.architecture}"
    if "test_accuracy" in m and "baseline_accuracy" in m:
        title += (
            f"\ntest accuracy {100 * m['test_accuracy']:.1f}% "
            f"(baseline {100 * m['baseline_accuracy']:.1f}%)"
        )
    ax.set_title(title, fontsize="small")
    if s.model.n_features != 2:
        ax.set_axis_off()
        ax.text(0.5, 0.5, f"no boundary to draw:\n{s.model.n_features} input features", ha="center")
        return
    data = s.data if s.data is not None else _data(s)
    X, y = data.X_test, data.y_test
    gx, gy, box = plotting.plane_grid(X, (-1, 1, -1, 1), 150)
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    P = plotting.evaluate_proba(lambda G: s.model.predict(G, verbose=0), grid)
    binary = P.shape[1] == 1
    field, colors = plotting.draw_regions(fig, ax, P, gx.shape, box)
    plotting.draw_boundary(ax, gx, gy, field, binary)
    if data.true_labels is not None:
        truth = np.asarray(data.true_labels(grid), dtype=np.float64).reshape(gx.shape)
        plotting.draw_true_boundary(ax, gx, gy, truth, binary)
    if y.max() < len(colors):
        plotting.draw_test(ax, X, y, colors)
    ax.set_xlim(box[0], box[1])
    ax.set_ylim(box[2], box[3])
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")


def plot_compare(summaries: list[RunSummary]) -> Figure:
    """Boundaries in a row, loss curves of all runs below."""
    n = len(summaries)
    fig = new_figure((max(8.0, 4.3 * n), 9.0))
    grid = fig.add_gridspec(2, n, height_ratios=[1.25, 1])
    for i, s in enumerate(summaries):
        _boundary_panel(fig, fig.add_subplot(grid[0, i]), s, i + 1)
    ax = fig.add_subplot(grid[1, :])
    handles = []
    for i, s in enumerate(summaries):
        color = _RUN_COLORS[i % len(_RUN_COLORS)]
        for key, dash in (("loss", "-"), ("val_loss", "--")):
            values = np.asarray(s.history.get(key, []), dtype=np.float64)
            values[~np.isfinite(values)] = np.nan
            ax.plot(np.arange(1, len(values) + 1), values, color=color, linestyle=dash, lw=1.6)
        handles.append(Line2D([], [], color=color, lw=2, label=f"{i + 1}. {s.folder.name}"))
    handles += [
        Line2D([], [], color="0.3", lw=1.6, label="training loss"),
        Line2D([], [], color="0.3", lw=1.6, linestyle="--", label="test loss"),
    ]
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title("Loss per epoch")
    ax.grid(True, alpha=0.3)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    # Below the axes, so no curve is ever hidden behind it.
    fig.legend(handles=handles, fontsize="small", loc="outside lower center", ncols=min(n + 2, 4))
    fig.suptitle(
        "Runs compared: decision boundaries (top) and loss curves (bottom)\n"
        "solid line: learned boundary (P = 0.5) · dashed: true boundary · triangles: test points",
        fontsize="medium",
    )
    return fig


def _row(i: int, s: RunSummary) -> dict:
    settings, m = s.config.get("settings", {}), s.metrics
    row = {
        "run": i + 1,
        "folder": str(s.folder),
        "dataset": settings.get("dataset", ""),
        "architecture": s.architecture,
        "optimizer": settings.get("optimizer", ""),
        "lr": s.config.get("optimizer", {}).get("learning_rate", settings.get("lr")),
        "batch_size": settings.get("batch_size", ""),
    }
    for key in COLUMNS[7:]:
        row[key] = m.get(key, "")
    return {k: ("" if v is None else v) for k, v in row.items()}


def format_table(rows: list[dict]) -> str:
    """A plain-text table of the main columns, one line per run."""
    cols = [
        ("run", "run", "{}"),
        ("folder", "folder", "{}"),
        ("architecture", "network", "{}"),
        ("optimizer", "opt", "{}"),
        ("lr", "lr", "{:g}"),
        ("test_accuracy", "test acc", "{:.1%}"),
        ("baseline_accuracy", "baseline", "{:.1%}"),
        ("test_loss", "test loss", "{:.4f}"),
        ("iou", "IoU", "{:.3f}"),
    ]
    cells = [[label for _, label, _ in cols]]
    for row in rows:
        line = []
        for key, _, fmt in cols:
            v = row.get(key, "")
            line.append(fmt.format(v) if isinstance(v, int | float) and v != "" else str(v))
        cells.append([Path(c).name if i == 1 else c for i, c in enumerate(line)])
    widths = [max(len(r[j]) for r in cells) for j in range(len(cols))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells)


def compare_runs(run_dirs, out) -> tuple[Path, list[dict]]:
    """Write ``compare.png`` and ``compare.csv`` into a new folder under ``out``.

    Returns the folder and the table's rows.  Every run folder is read (and
    refused with one clear line) before anything is written.
    """
    from ..runs.folders import new_run_dir

    run_dirs = list(run_dirs)
    if len(run_dirs) < 2:
        raise ValueError(f"compare needs at least 2 run folders, got {len(run_dirs)}")
    if len(run_dirs) > MAX_RUNS:
        raise ValueError(f"compare draws at most {MAX_RUNS} runs side by side, got {len(run_dirs)}")
    summaries = [read_summary(d) for d in run_dirs]
    for s in summaries:
        if s.model.n_features == 2:
            s.data = _data(s)  # a run whose data cannot be regenerated is refused now
    fig = plot_compare(summaries)
    rows = [_row(i, s) for i, s in enumerate(summaries)]
    if Path(out).exists() and not Path(out).is_dir():
        raise ValueError(f"--out {out} is a file, not a folder")
    folder = new_run_dir(out, "compare")
    save_figure(fig, folder / "compare.png")
    buf = io.StringIO()
    writer = csv.DictWriter(buf, COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_atomic(folder / "compare.csv", buf.getvalue().encode())
    return folder, rows
