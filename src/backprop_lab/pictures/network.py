"""``network.png``: the network as a diagram, every neuron a map of what it computes.

In the spirit of TensorFlow Playground: each input, hidden and output neuron
is drawn as a small heatmap of its activation over the input plane, and the
connections between neurons as lines whose thickness is proportional to
``|weight|`` and whose colour gives the sign.  Blue means positive and orange
negative, for the weights and the activations alike (a colour-blind-safe pair).

Layers wider than ``max_neurons`` show their most important neurons: those
with the largest ``std(activation over the plane) * ||outgoing weights||``,
that is, the neurons whose output moves the next layer the most.  The column
header says how many are shown.  ``draw_network`` pastes the finished diagram
into another figure's Axes as an image.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib import colors as mcolors
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from ..engine.layers import Dense
from ..engine.metrics import cell_centres, grid_points
from .style import VALUE_CMAP, new_figure
from .surface import problem_kind, value_contours, value_norm

__all__ = ["draw_network", "layer_activations", "plot_network", "shown_neurons"]

POSITIVE, NEGATIVE = "#0072B2", "#D55E00"  # Okabe-Ito blue and vermillion
SIGN_CMAP = mcolors.LinearSegmentedColormap.from_list(
    "orange_white_blue", [NEGATIVE, "#f5c9a8", "white", "#a9cce3", POSITIVE]
)
MAX_NEURONS = 16
MAX_HIDDEN_LAYERS = 6
_X_STEP = 2.6  # data units between two columns; neurons are 1 unit apart
_SIZE = 0.8  # side of a neuron's heatmap
_MAX_WIDTH = 4.0  # line width in points of the largest |weight|
_BOUNDED = ("sigmoid", "tanh", "softmax")  # activations within [-1, 1]


def not_dense(model) -> str | None:
    """Why the picture cannot draw ``model`` (a layer other than Dense), or None.

    The picture draws each Dense neuron and the kernels between them; Dropout,
    Activation and BatchNormalization layers (a Keras script's model) have no
    place in it.
    """
    for i, layer in enumerate(model.layers):
        if not isinstance(layer, Dense):
            return f"the picture draws Dense layers only, and layer {i} is {type(layer).__name__}"
    return None


def layer_activations(model, X: np.ndarray) -> list[np.ndarray]:
    """``[X, A_1, ..., A_L]``: the inputs and every layer's activation, each ``(n, units)``.

    Computed without touching the layers' caches or gradients.
    """
    return model.layer_outputs(np.asarray(X, dtype=model.dtype))


def shown_neurons(acts: np.ndarray, W_next: np.ndarray | None, limit: int) -> np.ndarray:
    """Indices (ascending) of at most ``limit`` neurons of one layer to draw.

    Parameters
    ----------
    acts : ndarray of shape (n_points, units)
        The layer's activation over the plane.
    W_next : ndarray of shape (units, next_units) or None
        The next layer's kernel (None for the output layer).
    limit : int
    """
    units = acts.shape[1]
    if units <= limit:
        return np.arange(units)
    importance = np.nan_to_num(acts.std(axis=0))
    if W_next is not None:
        importance = importance * np.linalg.norm(W_next, axis=1)
    # A stable sort keeps the lower index first among equals.
    return np.sort(np.argsort(-importance, kind="stable")[:limit])


def plot_network(
    model,
    *,
    extent: Sequence[float] = (-1.0, 1.0, -1.0, 1.0),
    resolution: int = 40,
    max_neurons: int = MAX_NEURONS,
    title: str | None = None,
) -> Figure:
    """Draw ``model`` (2 inputs, up to 6 hidden layers) as neurons and weighted connections.

    Parameters
    ----------
    model : Sequential
        A built model with 2 input features.
    extent : (x_min, x_max, y_min, y_max)
        The part of the input plane each heatmap covers.
    resolution : int
        Grid points per side of each heatmap.
    max_neurons : int
        Widest column drawn; wider layers show their most important neurons.
    title : str, optional

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    if not model.built:
        raise ValueError("the model is not built yet; train it or call build(2) first")
    if not_dense(model):
        raise ValueError(not_dense(model))
    if model.n_features != 2:
        raise ValueError(
            f"the network picture needs 2 input features to draw each neuron over the plane, "
            f"the model takes {model.n_features}"
        )
    hidden = len(model.layers) - 1
    if hidden > MAX_HIDDEN_LAYERS:
        raise ValueError(
            f"the network picture draws up to {MAX_HIDDEN_LAYERS} hidden layers, "
            f"the model has {hidden}"
        )
    G = grid_points(extent, resolution)
    acts = layer_activations(model, G)
    kernels = [layer.W for layer in model.layers]
    shown = [
        shown_neurons(a, kernels[i] if i < len(kernels) else None, max_neurons)
        for i, a in enumerate(acts)
    ]
    tallest = max(len(s) for s in shown)
    n_cols = len(acts)

    width = max(7.5, 0.62 * (_X_STEP * (n_cols - 1) + 2.5))
    height = 0.62 * (tallest + 1.8) + 1.9
    fig = new_figure((width, height))
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.set_aspect("equal")

    def y_of(n: int) -> np.ndarray:
        return (n - 1) / 2.0 - np.arange(n, dtype=float)

    wmax = max((float(np.abs(W).max()) for W in kernels), default=0.0) or 1.0
    segments, widths, colors = [], [], []
    for i, W in enumerate(kernels):
        src, dst = shown[i], shown[i + 1]
        ys, yd = y_of(len(src)), y_of(len(dst))
        x0, x1 = i * _X_STEP + _SIZE / 2, (i + 1) * _X_STEP - _SIZE / 2
        for a, j in enumerate(src):
            for b, k in enumerate(dst):
                w = float(W[j, k])
                if not np.isfinite(w):
                    continue
                segments.append([(x0, ys[a]), (x1, yd[b])])
                widths.append(_MAX_WIDTH * abs(w) / wmax)
                colors.append(mcolors.to_rgba(POSITIVE if w >= 0 else NEGATIVE, 0.8))
    # Thick lines last, so a strong connection is never hidden by weak ones.
    order = np.argsort(widths, kind="stable")
    ax.add_collection(
        LineCollection(
            [segments[o] for o in order],
            linewidths=[widths[o] for o in order],
            colors=[colors[o] for o in order],
            capstyle="round",
            zorder=1,
        )
    )

    output_act = model.layers[-1].activation.name
    regression = problem_kind(model) == "regression"
    for i, (a, idx) in enumerate(zip(acts, shown)):
        x = i * _X_STEP
        bounded = i > 0 and model.layers[i - 1].activation.name in _BOUNDED
        for y, j in zip(y_of(len(idx)), idx):
            field = a[:, j].reshape(resolution, resolution).astype(np.float64)
            field[~np.isfinite(field)] = 0.0
            # Bounded activations keep their own scale, so 0.35 never looks like 1.
            m = 1.0 if bounded else float(np.abs(field).max()) or 1.0
            box = (x - _SIZE / 2, x + _SIZE / 2, y - _SIZE / 2, y + _SIZE / 2)
            # A regression's output: its value in the surface's map, white at its mean.
            value = regression and i == len(acts) - 1
            norm = value_norm(float(field.mean()), field) if value else None
            ax.imshow(
                field,
                cmap=VALUE_CMAP if value else SIGN_CMAP,
                norm=norm or mcolors.Normalize(-m, m),
                origin="lower",
                extent=box,
                interpolation="bilinear",
                zorder=2,
            )
            if i == len(acts) - 1 and output_act in ("sigmoid", "softmax"):
                if field.min() < 0.5 < field.max():
                    gx = cell_centres(box[0], box[1], resolution)
                    gy = cell_centres(box[2], box[3], resolution)
                    ax.contour(gx, gy, field, levels=[0.5], colors="black", linewidths=1.0)
            if value:
                gx = cell_centres(box[0], box[1], resolution)
                gy = cell_centres(box[2], box[3], resolution)
                for cs in value_contours(ax, gx, gy, field, norm):
                    cs.set_linewidth(0.6)
            ax.add_patch(
                Rectangle(
                    (box[0], box[2]), _SIZE, _SIZE, fill=False, edgecolor="0.3", lw=0.6, zorder=3
                )
            )
        ax.text(
            x,
            (tallest - 1) / 2.0 + _SIZE / 2 + 0.25,
            _header(i, len(acts), a.shape[1], len(idx), model),
            ha="center",
            va="bottom",
            fontsize="small",
        )
    top = (tallest - 1) / 2.0 + _SIZE / 2
    ax.set_xlim(-_SIZE / 2 - 0.4, (n_cols - 1) * _X_STEP + _SIZE / 2 + 0.4)
    ax.set_ylim(-top - 0.2, top + 1.3)

    trimmed = any(len(s) < a.shape[1] for s, a in zip(shown, acts))
    _legend(fig, ax, wmax, output_act, max_neurons if trimmed else None, regression)
    fig.suptitle(title or "What each neuron computes over the input plane")
    return fig


def draw_network(
    ax: Axes,
    model,
    *,
    extent: Sequence[float] = (-1.0, 1.0, -1.0, 1.0),
    resolution: int = 40,
    max_neurons: int = MAX_NEURONS,
    title: str | None = None,
    dpi: float = 150,
) -> None:
    """Paste :func:`plot_network`'s picture into ``ax`` as an image of ``dpi`` dots per inch.

    The diagram sizes its figure to the network and lays out its legend and
    colour bar around it, so it enters another figure's Axes whole, as an
    image (the Axes' frame is hidden).  The other parameters are ``plot_network``'s.
    """
    picture = plot_network(
        model, extent=extent, resolution=resolution, max_neurons=max_neurons, title=title
    )
    picture.set_dpi(dpi)
    picture.canvas.draw()
    ax.imshow(np.asarray(picture.canvas.buffer_rgba()), interpolation="antialiased")
    ax.set_axis_off()


def _header(i: int, n_cols: int, units: int, n_shown: int, model) -> str:
    if i == 0:
        return "input\nx1, x2"
    layer = model.layers[i - 1]
    name = "output" if i == n_cols - 1 else f"hidden {i}"
    act = layer.activation.name
    return f"{name}\n" + (
        f"{units} {act}" if n_shown == units else f"{n_shown} of {units} {act} shown"
    )


def _legend(
    fig: Figure, ax, wmax: float, output_act: str, trimmed: int | None, regression: bool
) -> None:
    handles = [
        Line2D([], [], color=POSITIVE, lw=_MAX_WIDTH, label=f"weight +{wmax:.2g} (largest |w|)"),
        Line2D([], [], color=POSITIVE, lw=_MAX_WIDTH / 2, label=f"weight +{wmax / 2:.2g}"),
        Line2D([], [], color=NEGATIVE, lw=_MAX_WIDTH, label=f"weight −{wmax:.2g}"),
        Line2D([], [], color=NEGATIVE, lw=_MAX_WIDTH / 2, label=f"weight −{wmax / 2:.2g}"),
    ]
    if output_act in ("sigmoid", "softmax"):
        handles.append(Line2D([], [], color="black", lw=1.0, label="output = 0.5"))
    fig.legend(
        handles=handles,
        loc="outside lower center",
        ncols=3,
        fontsize="small",
        frameon=False,
        title="line thickness ∝ |weight| · biases not drawn",
        title_fontsize="small",
    )
    sm = ScalarMappable(cmap=SIGN_CMAP, norm=mcolors.Normalize(-1, 1))
    cbar = fig.colorbar(
        sm, ax=ax, orientation="horizontal", location="bottom", shrink=0.45, aspect=30, pad=0.02
    )
    cbar.set_ticks([-1, 0, 1], labels=["−1 or −max |a|", "0", "+1 or +max |a|"])
    cbar.ax.tick_params(labelsize="small")
    label = "activation: sigmoid, tanh, softmax on a ±1 scale, others up to their largest |a|"
    if regression:
        label += (
            "\nregression output: its value in orange (high) and purple (low), "
            "white at its mean over the plane, with contour lines"
        )
    if trimmed:
        label += f"\nwider layers: the {trimmed} neurons with the largest std × outgoing |w|"
    cbar.set_label(label, fontsize="small")
