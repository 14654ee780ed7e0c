"""Pictures of a regression over the plane, and what kind of problem a model solves.

* :func:`problem_kind` -- ``"binary"``, ``"classes"`` or ``"regression"``,
  read from the model's last layer (the pictures choose their drawing by it).
* :func:`plot_surface` -- the predicted value over the plane in a diverging
  colour map centred on the mean of the training targets, contour lines of
  the prediction (solid) and of the true surface (dashed, where known), and
  the points coloured by their targets; it is :func:`draw_regression` (the
  same picture in any Axes) with a legend below the figure.  Its parts
  (``value_norm``, ``draw_values``, ``value_contours``, ``draw_targets``)
  also serve the animation and the comparison.

The colour map is centred on the training targets' mean, so colour says
"above or below the average target" and a model that predicts the mean
everywhere is white; the contour levels are the colour bar's ticks, and the
colour bar shows them as lines.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from matplotlib import colors as mcolors
from matplotlib import patheffects
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from ..engine.model import problem_kind as _model_problem_kind
from .plotting import _check_points, _points_label, _subsample, plane_grid
from .style import VALUE_CMAP, new_figure

__all__ = [
    "draw_regression",
    "draw_targets",
    "draw_values",
    "plot_surface",
    "problem_kind",
    "score_line",
    "value_contours",
    "value_norm",
]

_MAX_TRAIN_POINTS = 1500
_MAX_TEST_POINTS = 400
_HALO = [patheffects.withStroke(linewidth=3.5, foreground="white")]


def problem_kind(model) -> str:
    """``"binary"``, ``"classes"`` or ``"regression"``: ``engine.model.problem_kind``,
    the one rule the pictures and the command line share.

    Raises
    ------
    ValueError
        For several outputs that are not softmax probabilities.
    """
    return _model_problem_kind(model)


def _check_targets(name: str, y: Any, n: int) -> np.ndarray:
    y = np.asarray(y, dtype=np.float64)
    y = y.reshape(-1) if y.ndim == 2 and y.shape[1] == 1 else y
    if y.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},) to match the points, got {y.shape}")
    if not np.isfinite(y).all():
        raise ValueError(f"{name} must hold finite target values")
    return y


def _values(predict: Callable, grid: np.ndarray, what: str = "predict") -> np.ndarray:
    v = np.asarray(predict(grid), dtype=np.float64)
    v = v.reshape(-1) if v.ndim == 2 and v.shape[1] == 1 else v
    if v.shape != (len(grid),):
        raise ValueError(
            f"{what} must return shape ({len(grid)},) or ({len(grid)}, 1), got {v.shape}"
        )
    return v


def value_norm(centre: float, *values: np.ndarray) -> mcolors.Normalize:
    """A colour scale symmetric about ``centre`` wide enough for the finite ``values``."""
    spread = max((float(np.nanmax(np.abs(v - centre), initial=0.0)) for v in values), default=0.0)
    spread = spread if np.isfinite(spread) and spread > 0 else 1.0
    return mcolors.Normalize(centre - spread, centre + spread)


def _levels(norm: mcolors.Normalize) -> np.ndarray:
    ticks = MaxNLocator(8).tick_values(norm.vmin, norm.vmax)
    return ticks[(ticks > norm.vmin) & (ticks < norm.vmax)]


def draw_values(fig: Figure, ax: Any, field: np.ndarray, box, norm, *, label: str):
    """The value ``field`` as an image in ``VALUE_CMAP`` with its colour bar; returns both."""
    image = ax.imshow(
        field,
        cmap=VALUE_CMAP,
        norm=norm,
        origin="lower",
        extent=box,
        aspect="equal",
        interpolation="bilinear",
        zorder=0,
    )
    cbar = fig.colorbar(image, ax=ax, shrink=0.8)
    cbar.set_label(label)
    return image, cbar


def value_contours(ax, gx, gy, field, norm, *, truth: bool = False, cbar=None) -> list[Any]:
    """Contour lines of ``field`` at the colour bar's ticks: solid, or dashed with a halo (truth).

    Returns the contour sets (empty when no tick lies within the field's
    range, e.g. a flat prediction); with ``cbar`` the
    prediction's lines are marked on the colour bar too.
    """
    finite = field[np.isfinite(field)]
    if not len(finite):
        return []
    levels = _levels(norm)
    levels = levels[(levels > finite.min()) & (levels < finite.max())]  # the lines in view
    if not len(levels):
        return []
    style = dict(colors="black", levels=levels, zorder=5 if truth else 4)
    if truth:
        cs = ax.contour(gx, gy, field, linewidths=1.3, linestyles="dashed", **style)
        cs.set_path_effects(_HALO)
    else:
        cs = ax.contour(gx, gy, field, linewidths=1.1, linestyles="solid", **style)
        if cbar is not None:
            cbar.add_lines(cs)
    return [cs]


def draw_targets(ax, X, y, norm, *, test: bool = False) -> Line2D:
    """The points coloured by their targets (train dots, test triangles); returns a handle."""
    shown = _subsample(len(X), _MAX_TEST_POINTS if test else _MAX_TRAIN_POINTS)
    style = dict(marker="^", s=18, linewidths=0.6) if test else dict(s=9, linewidths=0.3)
    ax.scatter(
        X[shown, 0],
        X[shown, 1],
        c=y[shown],
        cmap=VALUE_CMAP,
        norm=norm,
        edgecolors="black",
        zorder=3,
        **style,
    )
    label = _points_label("test" if test else "train", len(shown), len(X))
    marker = "^" if test else "o"
    return Line2D(
        [], [], linestyle="none", marker=marker, color="0.7", markeredgecolor="black", label=label
    )


def score_line(r2, mse, baseline_mse, *, test: bool) -> str:
    """``"test R² 0.930 · test MSE 0.004 · predicting the mean: MSE 0.05"`` (given parts only)."""
    where = "test " if test else ""
    scores = []
    if r2 is not None:
        scores.append(f"{where}R² {float(r2):.3f}")
    if mse is not None:
        scores.append(f"{where}MSE {float(mse):.4g}")
    if baseline_mse is not None:
        scores.append(f"predicting the mean: MSE {float(baseline_mse):.4g}")
    return " · ".join(scores)


def draw_regression(
    ax: Any,
    predict: Callable[[np.ndarray], Any],
    X_train: Any,
    y_train: Any,
    X_test: Any = None,
    y_test: Any = None,
    *,
    true_values: Callable[[np.ndarray], Any] | None = None,
    r2: float | None = None,
    mse: float | None = None,
    baseline_mse: float | None = None,
    title: str | None = None,
    resolution: int = 300,
    extent: Sequence[float] = (-1, 1, -1, 1),
    legend: bool = True,
) -> list[Any]:
    """Draw :func:`plot_surface`'s picture into ``ax``, its colour bar next to it.

    The parameters are :func:`plot_surface`'s.  With ``legend`` the contour
    lines and the points get a legend below ``ax``; without, the caller lays
    out its own from the handles returned.
    """
    X_train = _check_points("X_train", X_train)
    y_train = _check_targets("y_train", y_train, len(X_train))
    if (X_test is None) != (y_test is None):
        raise ValueError("give X_test and y_test together, or neither")
    if X_test is not None:
        X_test = _check_points("X_test", X_test)
        y_test = _check_targets("y_test", y_test, len(X_test))
    if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 2:
        raise ValueError(f"resolution must be an integer >= 2, got {resolution!r}")
    X_all = X_train if X_test is None else np.vstack([X_train, X_test])
    y_all = y_train if y_test is None else np.concatenate([y_train, y_test])
    gx, gy, box = plane_grid(X_all, extent, resolution)
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    field = _values(predict, grid).reshape(gx.shape)
    truth = None
    if true_values is not None:
        truth = _values(true_values, grid, "true_values").reshape(gx.shape)
    centre = float(y_train.mean())
    norm = value_norm(centre, y_all, field, *([] if truth is None else [truth]))
    ax.set_facecolor("white")
    label = f"predicted value (white: the training targets' mean, {centre:.3g})"
    _, cbar = draw_values(ax.figure, ax, np.ma.masked_invalid(field), box, norm, label=label)
    lines = value_contours(ax, gx, gy, field, norm, cbar=cbar)
    handles = [
        Line2D(
            [],
            [],
            color="black",
            lw=1.1,
            label="prediction" + ("" if lines else " (no contour line in view)"),
        )
    ]
    if truth is not None:
        value_contours(ax, gx, gy, truth, norm, truth=True)
        handles.append(
            Line2D([], [], color="black", lw=1.3, ls="--", path_effects=_HALO, label="true surface")
        )
    handles.append(draw_targets(ax, X_train, y_train, norm))
    if X_test is not None:
        handles.append(draw_targets(ax, X_test, y_test, norm, test=True))
    ax.set_xlim(box[0], box[1])
    ax.set_ylim(box[2], box[3])
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    title_lines = [title] if title else []
    scores = score_line(r2, mse, baseline_mse, test=X_test is not None)
    if scores:
        title_lines.append(scores)
    if title_lines:
        ax.set_title("\n".join(title_lines))
    if legend:
        below = dict(loc="upper center", bbox_to_anchor=(0.5, -0.12), frameon=False)
        ax.legend(handles=handles, ncols=2, fontsize="small", **below)
    return handles


def plot_surface(
    predict: Callable[[np.ndarray], Any],
    X_train: Any,
    y_train: Any,
    X_test: Any = None,
    y_test: Any = None,
    *,
    true_values: Callable[[np.ndarray], Any] | None = None,
    r2: float | None = None,
    mse: float | None = None,
    baseline_mse: float | None = None,
    title: str | None = None,
    resolution: int = 300,
    extent: Sequence[float] = (-1, 1, -1, 1),
) -> Figure:
    """Draw a regression's predicted value over the plane, with its data.

    Parameters
    ----------
    predict : callable
        Maps an ndarray of shape (m, 2) to values of shape (m,) or (m, 1).
    X_train : array-like of shape (n_train, 2)
        Training points, coloured by target (at most 1,500 are drawn).
    y_train : array-like of shape (n_train,)
        Their targets; their mean is the white centre of the colour map.
    X_test, y_test : array-like of shape (n_test, 2) and (n_test,), optional
        Test points, drawn as triangles (at most 400).  Give both or neither.
    true_values : callable, optional
        Maps points of shape (m, 2) to the exact target values of shape (m,);
        its contour lines are drawn dashed, at the prediction's levels.
    r2, mse, baseline_mse : float, optional
        Scores for the title ("test R²" when test points are given);
        ``baseline_mse`` is the MSE of predicting the mean.
    title : str, optional
        First title line; the scores go on the line below.
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
        On badly shaped or non-finite points or targets.
    """
    fig = new_figure((7.0, 6.0))
    handles = draw_regression(
        fig.add_subplot(),
        predict,
        X_train,
        y_train,
        X_test,
        y_test,
        true_values=true_values,
        r2=r2,
        mse=mse,
        baseline_mse=baseline_mse,
        title=title,
        resolution=resolution,
        extent=extent,
        legend=False,
    )
    fig.legend(
        handles=handles,
        loc="outside lower center",
        ncols=len(handles),
        fontsize="small",
        frameon=False,
    )
    return fig
