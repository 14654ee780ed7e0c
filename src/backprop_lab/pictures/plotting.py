"""Pictures of a trained classifier: decision regions and learning curves.

* :func:`plot_boundary` -- predicted probability over the plane, the learned
  0.5 boundary, optionally the true boundary, training and test points; it
  is :func:`draw_classifier` (the same picture in any Axes) with a legend
  below the figure.  Its parts (``draw_regions``, ``contour_edges``,
  ``draw_boundary``, ``draw_true_boundary``, ``draw_train``, ``draw_test``)
  also serve the animation and the comparison.
* :func:`plot_curves` -- loss and accuracy per epoch, training vs validation,
  each panel a :func:`draw_curve`; the legend says that the training values
  are each epoch's running mean over its batches (as ``fit`` logs them) and
  the validation ones are taken after the epoch.

Colours, ``new_figure`` and ``save_figure`` live in :mod:`.style`;
``save_figure`` is importable from here too.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from numbers import Real
from typing import Any

import numpy as np
from matplotlib import colors as mcolors
from matplotlib import patheffects
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator, PercentFormatter

from ..engine.metrics import padded_extent
from .style import (
    BINARY_CLASS_COLORS,
    PROBA_CMAP,
    class_palette,
    lighten,
    new_figure,
    save_figure,
)

__all__ = [
    "accuracy_key",
    "draw_classifier",
    "draw_curve",
    "plot_boundary",
    "plot_curves",
    "save_figure",
]

# What fit logs as the training loss and accuracy of an epoch (Keras semantics).
TRAINING_LABEL = "training (mean over the epoch's batches)"
_MAX_TRAIN_POINTS = 1500
_MAX_TEST_POINTS = 400


# --------------------------------------------------------------------------- checks


def _check_points(name: str, X: Any) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"{name} must have shape (n_samples, 2), got {X.shape}")
    if not np.isfinite(X).all():
        raise ValueError(f"{name} must contain only finite values, got NaN or infinity")
    return X


def _check_labels(name: str, y: Any, n: int) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:  # one-hot
        y = y.argmax(axis=1)
    y = y.reshape(-1) if y.ndim == 2 and y.shape[1] == 1 else y
    if y.ndim != 1 or len(y) != n:
        raise ValueError(f"{name} must have shape ({n},) to match the points, got {y.shape}")
    if not np.all(np.isfinite(y.astype(np.float64))) or not np.all(y == np.round(y)):
        raise ValueError(f"{name} must hold integer class labels")
    return y.astype(np.int64)


def _check_fraction(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a number in [0, 1], got {value!r}")
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise ValueError(f"{name} must be a fraction in [0, 1], got {value!r}")
    return float(value)


def _baseline_text(baseline: Any) -> tuple[str, float]:
    """``0.804 -> ("majority baseline", 0.804)``; ``(label, 0.804)`` keeps the label."""
    if isinstance(baseline, tuple) and len(baseline) == 2 and isinstance(baseline[0], str):
        return baseline[0], _check_fraction("baseline", baseline[1])
    return "majority baseline", _check_fraction("baseline", baseline)


# --------------------------------------------------------------------------- boundary


def plane_grid(X_all: np.ndarray, extent: Sequence[float], resolution: int):
    """Grid covering ``extent`` and every point, padded by 5% of its span (``padded_extent``)."""
    box = padded_extent(X_all, extent)
    xs = np.linspace(box[0], box[1], resolution)
    ys = np.linspace(box[2], box[3], resolution)
    gx, gy = np.meshgrid(xs, ys)
    return gx, gy, box


def evaluate_proba(predict_proba: Callable, grid: np.ndarray) -> np.ndarray:
    """``(n, k)`` probabilities of the grid points, checked; k = 1 means binary."""
    P = np.asarray(predict_proba(grid), dtype=np.float64)
    if P.ndim == 1:
        P = P[:, None]
    if P.ndim != 2 or P.shape[0] != len(grid) or P.shape[1] < 1:
        raise ValueError(
            f"predict_proba must return shape ({len(grid)},), ({len(grid)}, 1) or "
            f"({len(grid)}, k), got {P.shape}"
        )
    if not np.isfinite(P).all():
        raise ValueError("predict_proba returned NaN or infinity")
    if P.min() < -1e-6 or P.max() > 1 + 1e-6:
        raise ValueError(
            f"predict_proba must return probabilities in [0, 1], got {P.min():.3g}..{P.max():.3g}"
        )
    # Two softmax columns carry the same picture as P(class 1) alone.
    return P[:, 1:] if P.shape[1] == 2 else P


def _subsample(n: int, cap: int) -> np.ndarray:
    if n <= cap:
        return np.arange(n)
    # A fixed seed: the same data give the same picture, and no global RNG is touched.
    return np.sort(np.random.default_rng(0).choice(n, size=cap, replace=False))


def _points_label(kind: str, shown: int, total: int) -> str:
    return kind if shown == total else f"{kind} ({shown:,} of {total:,} shown)"


def plot_boundary(
    predict_proba: Callable[[np.ndarray], Any],
    X_train: Any,
    y_train: Any,
    X_test: Any = None,
    y_test: Any = None,
    *,
    true_labels: Callable[[np.ndarray], Any] | None = None,
    accuracy: float | None = None,
    baseline: float | tuple[str, float] | None = None,
    title: str | None = None,
    resolution: int = 300,
    extent: Sequence[float] = (-1, 1, -1, 1),
) -> Figure:
    """Draw a classifier's predicted probability over the plane, with its data.

    Binary models get a heatmap of ``P(class 1)`` with the learned ``P = 0.5``
    boundary as a solid line; models with ``k > 2`` outputs get their arg-max
    regions in a colour-blind-safe qualitative palette.  Boundaries are drawn
    above the points so the data never hide them.

    Parameters
    ----------
    predict_proba : callable
        Maps an ndarray of shape (m, 2) to probabilities of shape (m,) or
        (m, 1) (class 1, binary), (m, 2) (softmax, column 1 is used) or (m, k).
    X_train : array-like of shape (n_train, 2)
        Training points, drawn as small semi-transparent dots; at most 1,500
        (a fixed random subset) are drawn, and the legend says so.
    y_train : array-like of shape (n_train,) or (n_train, k)
        Integer labels, or one-hot rows.
    X_test, y_test : array-like of shape (n_test, 2) and (n_test,), optional
        Test points, drawn as black-edged triangles (at most 400).  Give both or neither.
    true_labels : callable, optional
        Maps an ndarray of shape (m, 2) to the true labels of shape (m,); its
        boundary is drawn dashed.
    accuracy : float, optional
        Accuracy in [0, 1] to show in the title ("test accuracy" if test
        points are given).
    baseline : float or (str, float), optional
        Baseline accuracy in [0, 1] for the title, optionally with its name,
        e.g. ``("always 'outside'", 0.804)``.
    title : str, optional
        First title line; the accuracies go on the line below.
    resolution : int, default=300
        Grid points per axis.
    extent : (xmin, xmax, ymin, ymax), default=(-1, 1, -1, 1)
        Region to draw, widened to hold every point and padded by 5%.

    Returns
    -------
    fig : matplotlib.figure.Figure
        A 7 x 6 inch figure with the Agg canvas attached.

    Raises
    ------
    ValueError
        On badly shaped or non-finite points, labels outside the model's
        classes, or probabilities that are not finite numbers in [0, 1].
    """
    fig = new_figure((7.0, 6.0))
    groups = draw_classifier(
        fig.add_subplot(),
        predict_proba,
        X_train,
        y_train,
        X_test,
        y_test,
        true_labels=true_labels,
        accuracy=accuracy,
        baseline=baseline,
        title=title,
        resolution=resolution,
        extent=extent,
        legend=False,
    )
    _grouped_legend(fig, groups)
    return fig


def draw_classifier(
    ax: Any,
    predict_proba: Callable[[np.ndarray], Any],
    X_train: Any,
    y_train: Any,
    X_test: Any = None,
    y_test: Any = None,
    *,
    true_labels: Callable[[np.ndarray], Any] | None = None,
    accuracy: float | None = None,
    baseline: float | tuple[str, float] | None = None,
    title: str | None = None,
    resolution: int = 300,
    extent: Sequence[float] = (-1, 1, -1, 1),
    legend: bool = True,
) -> list[list[Any]]:
    """Draw :func:`plot_boundary`'s picture into ``ax``, its colour bar next to it.

    The parameters are :func:`plot_boundary`'s.  With ``legend`` the
    boundaries and the points get a legend below ``ax``; without, the caller
    lays out its own from the handles returned, grouped as ``[boundaries,
    classes, points]`` (``plot_boundary`` puts all three below the figure).
    """
    X_train = _check_points("X_train", X_train)
    y_train = _check_labels("y_train", y_train, len(X_train))
    if (X_test is None) != (y_test is None):
        raise ValueError("give X_test and y_test together, or neither")
    if X_test is not None:
        X_test = _check_points("X_test", X_test)
        y_test = _check_labels("y_test", y_test, len(X_test))
    if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 2:
        raise ValueError(f"resolution must be an integer >= 2, got {resolution!r}")
    X_all = X_train if X_test is None else np.vstack([X_train, X_test])
    gx, gy, box = plane_grid(X_all, extent, resolution)
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    P = evaluate_proba(predict_proba, grid)
    binary = P.shape[1] == 1

    n_classes = 2 if binary else P.shape[1]
    y_all = y_train if y_test is None else np.concatenate([y_train, y_test])
    if len(y_all) and (y_all.min() < 0 or y_all.max() >= n_classes):
        raise ValueError(f"labels must be in 0..{n_classes - 1} for this model")

    ax.set_facecolor("white")
    field, class_colors = draw_regions(ax.figure, ax, P, gx.shape, box)
    # Binary: the P = 0.5 line; k classes: the edges of the arg-max label field.
    boundary_handles = [draw_boundary(ax, gx, gy, field, binary)]
    if true_labels is not None:
        truth = np.asarray(true_labels(grid), dtype=np.float64).reshape(-1)
        if truth.shape != (len(grid),):
            raise ValueError(f"true_labels must return shape ({len(grid)},), got {truth.shape}")
        boundary_handles.append(draw_true_boundary(ax, gx, gy, truth.reshape(gx.shape), binary))
    class_handles = [
        Patch(facecolor=color, edgecolor="none", label=f"class {k}")
        for k, color in enumerate(class_colors)
    ]
    point_handles = [draw_train(ax, X_train, y_train, class_colors)]
    if X_test is not None:
        point_handles.append(draw_test(ax, X_test, y_test, class_colors))

    ax.set_xlim(box[0], box[1])
    ax.set_ylim(box[2], box[3])
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    title_lines = [title] if title else []
    scores = []
    if accuracy is not None:
        name = "test accuracy" if X_test is not None else "accuracy"
        scores.append(f"{name} {100 * _check_fraction('accuracy', accuracy):.1f}%")
    if baseline is not None:
        name, value = _baseline_text(baseline)
        scores.append(f"{name}: {100 * value:.1f}%")
    if scores:
        title_lines.append(" · ".join(scores))
    if title_lines:
        ax.set_title("\n".join(title_lines))
    if legend:
        below = dict(loc="upper center", bbox_to_anchor=(0.5, -0.12), frameon=False)
        ax.legend(handles=boundary_handles + point_handles, ncols=2, fontsize="small", **below)
    return [boundary_handles, class_handles, point_handles]


def draw_regions(fig: Figure, ax: Any, P: np.ndarray, shape: tuple[int, int], box: tuple):
    """Heatmap (binary) or arg-max regions plus colour bar; returns the field and class colours."""
    image_kw = dict(origin="lower", extent=box, aspect="equal", zorder=0)
    if P.shape[1] == 1:
        field = P[:, 0].reshape(shape)
        image = ax.imshow(
            field, cmap=PROBA_CMAP, vmin=0.0, vmax=1.0, interpolation="bilinear", **image_kw
        )
        cbar = fig.colorbar(image, ax=ax, shrink=0.8, ticks=[0, 0.25, 0.5, 0.75, 1])
        cbar.set_label("P(class 1)")
        cbar.ax.axhline(0.5, color="black", linewidth=2.0)
        return field, list(BINARY_CLASS_COLORS)

    k = P.shape[1]
    class_colors = class_palette(k)
    # Lightened region colours, so points in the full colours remain visible.
    cmap = mcolors.ListedColormap([lighten(c, 0.45) for c in class_colors])
    norm = mcolors.BoundaryNorm(np.arange(k + 1) - 0.5, k)
    field = P.argmax(axis=1).reshape(shape).astype(np.float64)
    image = ax.imshow(field, cmap=cmap, norm=norm, interpolation="nearest", **image_kw)
    # A white veil over the regions: the less sure the winning class, the paler.
    ax.imshow(uncertainty_veil(P, shape), interpolation="bilinear", **image_kw)
    cbar = fig.colorbar(image, ax=ax, shrink=0.8, ticks=np.arange(k))
    cbar.set_label("predicted class")
    return field, class_colors


def uncertainty_veil(P: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """White RGBA of ``shape``: opaque where the winning class of ``P`` (n, k) is a guess.

    The winning probability runs from ``1/k`` (chance: alpha 0.8, the region
    almost white) to 1 (certain: alpha 0, the region in its class colour), so
    the lightness of a region is the probability of its class.  Rows with NaN
    get alpha 0 (the region image shows them).
    """
    k = P.shape[1]
    sure = (np.nan_to_num(P, nan=1.0).max(axis=1) - 1.0 / k) / (1.0 - 1.0 / k)
    veil = np.ones((*shape, 4))
    veil[..., 3] = (0.8 * (1.0 - np.clip(sure, 0.0, 1.0))).reshape(shape)
    return veil


def contour_edges(ax, gx, gy, field, binary: bool, **style) -> list[Any]:
    """Contour the class edges of ``field``; an empty list if there are none in view.

    Binary: the 0.5 level of the probability (or 0/1 label) field.  Several
    classes: the 0.5 level of each class's indicator, so the edge between any
    two classes is one line (contouring the label values themselves would stack
    one line per label in between where, say, classes 0 and 7 meet).
    """
    if binary:
        fields = [field] if field.min() < 0.5 < field.max() else []
    else:
        labels = np.unique(field)
        fields = [(field == c).astype(np.float64) for c in labels] if len(labels) > 1 else []
    return [ax.contour(gx, gy, f, levels=[0.5], colors="black", **style) for f in fields]


def draw_boundary(ax, gx, gy, field, binary: bool) -> Line2D:
    label = "learned boundary (P = 0.5)" if binary else "learned boundary"
    # Above the points (zorder), so no marker can hide it.
    if not contour_edges(ax, gx, gy, field, binary, linewidths=2.0, zorder=4):
        label += " (none in view)"
    return Line2D([], [], color="black", linewidth=2.0, label=label)


def draw_true_boundary(ax, gx, gy, truth, binary: bool) -> Line2D:
    # A white halo keeps the dashes visible where they lie on the learned line.
    halo = [patheffects.withStroke(linewidth=4.0, foreground="white")]
    style = dict(linewidths=1.8, linestyles="dashed", zorder=5)
    contours = contour_edges(ax, gx, gy, truth, binary, **style)
    for cs in contours:
        cs.set_path_effects(halo)
    label = "true boundary" if contours else "true boundary (none in view)"
    return Line2D(
        [], [], color="black", linewidth=1.8, linestyle="--", path_effects=halo, label=label
    )


def draw_train(ax, X, y, class_colors) -> Line2D:
    shown = _subsample(len(X), _MAX_TRAIN_POINTS)
    ax.scatter(
        X[shown, 0],
        X[shown, 1],
        s=6,
        c=[class_colors[k] for k in y[shown]],
        alpha=0.7,
        linewidths=0,
        zorder=2,
    )
    label = _points_label("train", len(shown), len(X))
    return Line2D([], [], linestyle="none", marker="o", markersize=4, color="0.35", label=label)


def draw_test(ax, X, y, class_colors) -> Line2D:
    shown = _subsample(len(X), _MAX_TEST_POINTS)
    ax.scatter(
        X[shown, 0],
        X[shown, 1],
        s=16,
        marker="^",
        c=[class_colors[k] for k in y[shown]],
        edgecolors="black",
        linewidths=0.5,
        alpha=0.9,
        zorder=3,
    )
    label = _points_label("test", len(shown), len(X))
    return Line2D(
        [],
        [],
        linestyle="none",
        marker="^",
        markersize=5,
        color="0.6",
        markeredgecolor="black",
        markeredgewidth=0.5,
        label=label,
    )


def _grouped_legend(fig: Figure, groups: list[list[Any]]) -> None:
    """One legend below the axes, each column holding one kind of entry.

    Matplotlib fills legend columns top to bottom, so every group is cut into
    columns of ``rows`` entries and padded with blank entries.  Two rows hold
    the boundaries, train/test and up to eight classes in four columns.
    """
    rows = max(2, *(-(-len(group) // 4) for group in groups))
    entries: list[Any] = []
    for group in groups:
        for i in range(0, len(group), rows):
            column = group[i : i + rows]
            entries += column + [Line2D([], [], linestyle="none", label=" ")] * (rows - len(column))
    fig.legend(
        handles=entries,
        loc="outside lower center",
        ncols=len(entries) // rows,
        fontsize="small",
        frameon=False,
    )


# --------------------------------------------------------------------------- curves


def plot_curves(
    history: Mapping[str, Sequence[float]],
    *,
    baseline: float | tuple[str, float] | None = None,
    title: str | None = None,
    validation: str = "validation",
    regression: bool = False,
) -> Figure:
    """Draw loss and accuracy (or MAE) per epoch, training vs validation.

    The training line is the value ``fit`` logs: the mean over the epoch's
    batches, each taken before its update; the validation line is measured
    after the epoch.  The legend says so.

    Parameters
    ----------
    history : mapping of str to sequence of float
        ``History.history``: ``"loss"`` is required; ``"accuracy"`` (or
        ``"acc"``) and the ``"val_"`` versions are drawn when present.
        Accuracies are fractions in [0, 1].  Epochs are numbered from 1.
    baseline : float or (str, float), optional
        Baseline accuracy in [0, 1], drawn as a dashed horizontal line on the
        accuracy panel, optionally with its name.
    title : str, optional
        Title over both panels.
    validation : str
        What the ``"val_"`` values were measured on, e.g. ``"test set"``.
    regression : bool, default=False
        The history of a regression: no accuracy panel is promised; the
        second panel is ``"mae"`` when the history holds it, else the loss
        panel is alone.  (A history with ``"mae"`` and no accuracy gets the
        MAE panel in any case.)

    Returns
    -------
    fig : matplotlib.figure.Figure
        A 10 x 4 inch figure (5.5 x 4 with the loss alone) with the Agg canvas attached.
    """
    second = "accuracy"
    if accuracy_key(history) is None and ("mae" in history or regression):
        second = "mae" if "mae" in history else None
    panels = ("loss", second) if second else ("loss",)
    fig = new_figure((10.0 if second else 5.5, 4.0))
    for ax, metric in zip(np.atleast_1d(fig.subplots(1, len(panels))), panels):
        draw_curve(ax, history, metric, baseline=baseline, validation=validation)
    if title:
        fig.suptitle(title)
    return fig


def accuracy_key(history: Mapping[str, Sequence[float]]) -> str | None:
    """The key of the training accuracy in ``history`` (``"accuracy"`` or ``"acc"``), or None."""
    return next((k for k in ("accuracy", "acc") if k in history), None)


def draw_curve(
    ax: Any,
    history: Mapping[str, Sequence[float]],
    metric: str,
    *,
    baseline: float | tuple[str, float] | None = None,
    title: str | None = None,
    validation: str = "validation",
) -> None:
    """Draw one panel of :func:`plot_curves` into ``ax``: ``metric`` per epoch.

    ``metric`` is ``"loss"``, ``"accuracy"`` or ``"mae"`` (a regression's mean
    absolute error, drawn as it is in the history); an accuracy panel of a history
    without accuracy says so, and holds the dashed ``baseline`` when given.
    ``title`` defaults to ``metric``; the other parameters are ``plot_curves``'.
    """
    if "loss" not in history:
        raise ValueError(f"history must contain 'loss', got keys {sorted(history)}")
    if metric not in ("loss", "accuracy", "mae"):
        raise ValueError(f"metric must be 'loss' or 'accuracy' (or 'mae'), got {metric!r}")
    key = accuracy_key(history) if metric == "accuracy" else metric if metric in history else None
    if key is not None:
        _draw_series(ax, history, key, validation)
    else:
        ax.text(
            0.5,
            0.5,
            f"no {metric} recorded",
            ha="center",
            va="center",
            transform=ax.transAxes,
            color="0.4",
        )
    if metric == "accuracy":
        if baseline is not None:
            name, value = _baseline_text(baseline)
            label = f"{name} ({100 * value:.1f}%)"
            ax.axhline(value, color="0.3", linestyle="--", linewidth=1.2, label=label)
        ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0))
    ax.set_title(title or metric)
    ax.set_ylabel(metric)
    ax.set_facecolor("white")
    ax.set_xlabel("epoch")
    # Epochs count from 1: no tick at a meaningless epoch 0.  Both panels span every epoch.
    drawn = [k for k in ("loss", accuracy_key(history), "mae") if k is not None and k in history]
    n_epochs = max(len(history[k]) for k in drawn + [f"val_{k}" for k in drawn] if k in history)
    ax.set_xlim(0.5, max(n_epochs, 1) + 0.5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10], min_n_ticks=1))
    ax.grid(True, alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize="small")


def _draw_series(
    ax: Any, history: Mapping[str, Sequence[float]], key: str, validation: str
) -> None:
    for name, label, color in (
        (key, TRAINING_LABEL, "#0072B2"),
        (f"val_{key}", f"{validation} (after the epoch)", "#D55E00"),
    ):
        if name not in history:
            continue
        values = np.asarray(history[name], dtype=np.float64).reshape(-1)
        # A diverged run logs inf; leave a gap there rather than squash the axis.
        values[~np.isfinite(values)] = np.nan
        epochs = np.arange(1, len(values) + 1)
        marker = "o" if len(values) <= 30 else None
        ax.plot(
            epochs, values, color=color, marker=marker, markersize=3, linewidth=1.6, label=label
        )
