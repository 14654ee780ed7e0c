"""``backprop-lab compare``: several runs side by side.

``compare.png`` shows each run's decision boundary (its saved model on its own
test split, regenerated from ``config.json``) in a row, and all their loss
curves on one axis below; ``compare.csv`` and the printed table hold their
metrics.  Everything comes from the run folders alone.

Each panel says what its run is, from its ``config.json``: its name and
dataset, its network, its optimizer, learning rate, batch size, epochs and
seed, and any other setting in which the compared runs differ (the folder's
timestamp is only in the table).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from ..engine.metrics import is_regression
from ..engine.model import architecture
from ..runs.fileio import read_json_object, write_atomic
from ..runs.folders import read_history, read_run
from ..runs.modelio import load_model
from . import plotting, surface
from .style import OKABE_ITO, new_figure, save_figure

__all__ = ["COLUMNS", "RunSummary", "compare_runs", "format_table", "plot_compare"]

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
    "r2",
    "mse",
    "iou",
    "disagreement_area",
    "train_seconds",
    "diverged_epoch",
)
_RUN_COLORS = OKABE_ITO
# Settings a panel names only when the compared runs differ in them.
_DIFFERING = ("samples", "noise", "test_size", "activation", "loss", "momentum", "l2", "engine")


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

    @property
    def settings(self) -> dict:
        return self.config.get("settings") or {}

    @property
    def name(self) -> str:
        """The run's ``--name``, else its folder's name."""
        return str(self.settings.get("name") or self.folder.name)

    @property
    def dataset(self) -> str:
        """The dataset, a CSV by its file name alone."""
        dataset = str(self.settings.get("dataset", "?"))
        if dataset.startswith("csv:"):
            return "csv:" + Path(dataset[4:]).name
        return dataset

    @property
    def learning_rate(self):
        """The learning rate the optimizer used (``--lr`` may be unset: its default)."""
        lr = (self.config.get("optimizer") or {}).get("learning_rate")
        return self.settings.get("lr") if lr is None else lr

    def label(self, index: int) -> str:
        """``"1. demo · circle · sgd lr 0.01"``: the run in a legend."""
        return f"{index}. {self.name} · {self.dataset} · {self._optimizer()}"

    def _optimizer(self) -> str:
        lr = self.learning_rate
        return f"{self.settings.get('optimizer', '?')}" + ("" if lr is None else f" lr {lr:g}")

    def describe(self, index: int, differing: tuple[str, ...] = ()) -> list[str]:
        """The lines that say what the run is, for its panel's title."""
        st = self.settings
        training = [self._optimizer()]
        for key, unit in (("batch_size", "batch {}"), ("epochs", "{} epochs"), ("seed", "seed {}")):
            if st.get(key) is not None:
                training.append(unit.format(st[key]))
        lines = [f"{index}. {self.name} · {self.dataset}", self.architecture, " · ".join(training)]
        others = [f"{key} {st.get(key)}" for key in differing if key in st]
        if others:
            lines.append(" · ".join(others))
        return lines


def differing_settings(summaries: list[RunSummary]) -> tuple[str, ...]:
    """The settings of ``_DIFFERING`` in which the runs are not all the same."""
    return tuple(
        key for key in _DIFFERING if len({repr(s.settings.get(key)) for s in summaries}) > 1
    )


def read_summary(folder) -> RunSummary:
    """Read everything compare needs from ``folder``; one clear line if something is missing."""
    folder, config = read_run(folder)
    metrics = read_json_object(folder / "metrics.json", "compare")
    return RunSummary(
        folder,
        config,
        metrics,
        read_history(folder, "compare needs for the loss curves"),
        load_model(folder),
    )


def _data(summary: RunSummary):
    from ..runs.runner import load_data
    from ..runs.settings import Settings

    fields = Settings.__dataclass_fields__
    values = {k: v for k, v in summary.config["settings"].items() if k in fields}
    try:
        return load_data(Settings(**values).validate())
    except ValueError as e:
        raise ValueError(f"{summary.folder}: cannot regenerate its data ({e})") from None


def _boundary_panel(fig: Figure, ax, s: RunSummary, index: int, differing=()) -> None:
    m = s.metrics
    title = "\n".join(s.describe(index, differing))
    regression = surface.problem_kind(s.model) == "regression"
    if regression and is_regression(m):
        title += "\n" + surface.score_line(m.get("r2"), m.get("mse"), None, test=True)
    elif "test_accuracy" in m and "baseline_accuracy" in m:
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
    if regression:  # as boundary.png draws it: white is the training targets' mean
        surface.draw_regression(
            ax,
            lambda G: s.model.predict(G, verbose=0),
            data.X_train,
            data.y_train,
            X,
            y,
            true_values=data.true_labels,
            title=title,
            resolution=150,
            legend=False,
        )
        ax.title.set_fontsize("small")
        return
    gx, gy, box = plotting.plane_grid(X, (-1, 1, -1, 1), 150)
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    P = plotting.evaluate_proba(lambda G: s.model.predict(G, verbose=0), grid)
    binary = P.shape[1] == 1
    field, colors = plotting.draw_regions(fig, ax, P, gx.shape, box)
    learned = plotting.draw_boundary(ax, gx, gy, field, binary)
    if learned.get_label().endswith("(none in view)"):  # the figure's key names a solid line
        ax.set_title(f"{title}\nno learned boundary in view: one class", fontsize="small")
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
    differing = differing_settings(summaries)
    for i, s in enumerate(summaries):
        _boundary_panel(fig, fig.add_subplot(grid[0, i]), s, i + 1, differing)
    ax = fig.add_subplot(grid[1, :])
    handles = []
    for i, s in enumerate(summaries):
        color = _RUN_COLORS[i % len(_RUN_COLORS)]
        for key, dash in (("loss", "-"), ("val_loss", "--")):
            values = np.asarray(s.history.get(key, []), dtype=np.float64)
            values[~np.isfinite(values)] = np.nan
            ax.plot(np.arange(1, len(values) + 1), values, color=color, linestyle=dash, lw=1.6)
        handles.append(Line2D([], [], color=color, lw=2, label=s.label(i + 1)))
    handles += [
        Line2D([], [], color="0.3", lw=1.6, label="training loss (mean over the epoch's batches)"),
        Line2D([], [], color="0.3", lw=1.6, linestyle="--", label="test loss (after the epoch)"),
    ]
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title("Loss per epoch")
    ax.grid(True, alpha=0.3)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    # Below the axes, so no curve is ever hidden behind it.
    fig.legend(handles=handles, fontsize="small", loc="outside lower center", ncols=min(n + 2, 3))
    fig.suptitle(
        "Runs compared: what each learned (top) and loss curves (bottom)" + _keys(summaries),
        fontsize="medium",
    )
    return fig


# What the top panels show, for each kind of problem among the runs.
_KEYS = {
    "binary": "two classes: solid line: learned boundary (P = 0.5) · "
    "dashed: true boundary, where known",
    "classes": "k classes: colour = predicted class, paler where less sure · "
    "solid: learned borders · dashed: true borders, where known",
    "regression": "regression: colour = predicted value · solid: its contour lines · "
    "dashed: the true surface's",
}


def _keys(summaries: list[RunSummary]) -> str:
    """One line per kind of problem shown, then the points' key."""
    kinds = {surface.problem_kind(s.model) for s in summaries}
    lines = [_KEYS[kind] for kind in _KEYS if kind in kinds]
    return "".join(f"\n{line}" for line in lines) + "\ntriangles: test points"


def _row(i: int, s: RunSummary) -> dict:
    settings, m = s.settings, s.metrics
    row = {
        "run": i + 1,
        "folder": str(s.folder),
        "dataset": settings.get("dataset", ""),
        "architecture": s.architecture,
        "optimizer": settings.get("optimizer", ""),
        "lr": s.learning_rate,
        "batch_size": settings.get("batch_size", ""),
    }
    for key in COLUMNS[COLUMNS.index("epochs_completed") :]:
        row[key] = m.get(key, "")
    return {k: ("" if v is None else v) for k, v in row.items()}


def format_table(rows: list[dict]) -> str:
    """A plain-text table of the main columns, one line per run."""
    cols = [
        ("run", "run", "{}"),
        ("folder", "folder", "{}"),
        ("dataset", "dataset", "{}"),
        ("architecture", "network", "{}"),
        ("optimizer", "opt", "{}"),
        ("lr", "lr", "{:g}"),
        ("test_accuracy", "test acc", "{:.1%}"),
        ("baseline_accuracy", "baseline", "{:.1%}"),
        ("test_loss", "test loss", "{:.4f}"),
        ("iou", "IoU", "{:.3f}"),
    ]
    if any(row.get("r2", "") != "" for row in rows):  # a regression among the runs
        cols[6:9] = [("r2", "R²", "{:.3f}"), ("mse", "MSE", "{:.4g}")] + cols[6:9]
    cells = [[label for _, label, _ in cols]]
    for row in rows:
        line = []
        for key, _, fmt in cols:
            v = row.get(key, "")
            line.append(fmt.format(v) if isinstance(v, int | float) and v != "" else str(v))
        line[1] = Path(line[1]).name  # the folder, without its parents
        if line[2].startswith("csv:"):  # a CSV by its file name
            line[2] = "csv:" + Path(line[2][4:]).name
        cells.append(line)
    widths = [max(len(r[j]) for r in cells) for j in range(len(cols))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells)


def compare_runs(run_dirs, out) -> tuple[Path, list[dict]]:
    """Write ``compare.png`` and ``compare.csv`` into a new folder under ``out``.

    Returns the folder and the table's rows.  Every run folder is read (and
    refused with one clear line) before anything is written.
    """
    from ..runs.folders import new_run_dir, remove_quietly

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
    buf = io.StringIO()
    writer = csv.DictWriter(buf, COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    folder = new_run_dir(out, "compare")
    try:
        save_figure(fig, folder / "compare.png")
        write_atomic(folder / "compare.csv", buf.getvalue().encode())
    except BaseException:  # Ctrl-C or a full disk: no half comparison is left behind
        remove_quietly(folder)
        raise
    return folder, rows
