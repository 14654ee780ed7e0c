"""Pictures from Python: the run's pictures for any model, in a notebook or a script.

``from backprop_lab import plot``, then:

* :func:`boundary` -- a classifier's predicted probability over the plane,
  its 0.5 boundary, the true boundary and the data;
* :func:`surface` -- a regression's predicted value over the plane, its
  contour lines, the true surface's and the data;
* :func:`curves` -- loss and accuracy (or MAE) per epoch, training vs validation;
* :func:`network` -- every neuron as a map of its activation over the plane;
* :func:`landscape` -- the loss surface around the trained weights, with the
  path the weights took when it was recorded;
* :func:`gradients` -- each layer's gradient norm per epoch;
* :func:`recorder` -- the callbacks that record that path and those norms
  during ``fit``.

Each returns a :class:`matplotlib.figure.Figure`.  Without ``ax`` it is a new
figure, the same picture the command line saves in a run folder; with ``ax``
(an Axes of any figure, pyplot's included) the picture is drawn into that
Axes and its figure is returned, so pictures can sit side by side.

The figures are drawn without pyplot, so no window opens and no global list
of figures grows.  A new figure still shows in Jupyter when it is the last
expression of a cell: it carries a ``_repr_png_``, which IPython displays
whatever the backend (``display(fig)`` works too).  A figure of pyplot's is
shown by the notebook itself at the end of the cell; end the cell's last call
with ``;`` so it is not shown twice.

This module checks the input and hands it to ``pictures``, which draws every
picture once for both uses: a ``plot_*`` function builds the run folder's
figure, a ``draw_*`` function draws the same picture into an Axes
(``plotting.draw_classifier``, ``surface.draw_regression``, ``plotting.draw_curve``,
``landscape.draw_surface``, ``gradients.draw_gradients``,
``network.draw_network``).  Nothing is drawn here.

May import: ``engine``, ``data``, ``runs`` and ``pictures``.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .data import datasets
from .engine.metrics import baseline_accuracy, predicted_labels, regression_scores
from .pictures import gradients as gradient_pictures
from .pictures import landscape as landscape_pictures
from .pictures import network as network_pictures
from .pictures import plotting
from .pictures import surface as surface_pictures
from .runs.recording import (
    LOSS_SAMPLES,
    Recording,
    describe_points,
    make_recorders,
    sample_rows,
)

__all__ = ["boundary", "curves", "gradients", "landscape", "network", "recorder", "surface"]

_CLASSIFIER_OUTPUTS = ("sigmoid", "softmax")


# --------------------------------------------------------------------------- checks


def _check_model(model: Any, picture: str) -> None:
    if not (hasattr(model, "layers") and hasattr(model, "built") and hasattr(model, "params")):
        raise ValueError(
            f"{picture} draws a backprop_lab Sequential model, got {type(model).__name__}"
        )
    if not model.built:
        raise ValueError(
            f"{picture} needs a built model: give its first layer an input_shape, "
            "call model.build(n_features) or train it first"
        )


def _check_ax(ax: Any) -> Axes | None:
    if ax is not None and not isinstance(ax, Axes):
        raise ValueError(f"ax must be a matplotlib Axes (or None), got {type(ax).__name__}")
    return ax


def _points(name: str, X: Any, n_features: int, why: str) -> np.ndarray:
    try:
        X = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an array of numbers, got {type(X).__name__}") from None
    if X.ndim != 2 or X.shape[1] != n_features:
        raise ValueError(f"{name} must have shape (n_samples, {n_features}) {why}, got {X.shape}")
    if len(X) == 0 or not np.isfinite(X).all():
        raise ValueError(f"{name} must hold at least one point, all finite")
    return X


def _labels(name: str, y: Any, n: int, n_classes: int) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:  # one-hot rows
        y = y.argmax(axis=1)
    elif y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), one label per point, got {y.shape}")
    if not (np.issubdtype(y.dtype, np.number) or y.dtype == bool):
        raise ValueError(f"{name} must hold integer class labels, got dtype {y.dtype}")
    values = y.astype(np.float64)
    if not np.all(np.isfinite(values)) or not np.all(values == np.round(values)):
        raise ValueError(f"{name} must hold integer class labels")
    if values.min() < 0 or values.max() >= n_classes:
        raise ValueError(f"{name} must hold labels in 0..{n_classes - 1} for this model")
    return y.astype(np.int64)


def _figure_of(ax: Axes) -> Figure:
    # ``ax.figure`` may be a SubFigure; the ``figure`` of any (sub)figure is its root Figure.
    return ax.figure.figure


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", facecolor="white")
    return buffer.getvalue()


def _shown(fig: Figure) -> Figure:
    """``fig``, displayable in Jupyter whatever the backend: it gets a ``_repr_png_``.

    IPython shows a plain :class:`Figure` as an image only once matplotlib's
    inline backend has registered a formatter for it, which happens when
    pyplot makes its first figure; these figures never meet pyplot.
    """
    fig._repr_png_ = functools.partial(_png, fig)
    return fig


# --------------------------------------------------------------------------- boundary


def boundary(
    model,
    X,
    y,
    *,
    X_test=None,
    y_test=None,
    ax: Axes | None = None,
    true_labels: str | Callable[[np.ndarray], Any] | None = None,
    show_accuracy: bool = True,
    title: str | None = None,
    resolution: int = 300,
    extent: Sequence[float] = (-1.0, 1.0, -1.0, 1.0),
) -> Figure:
    """Draw a classifier's predicted probability over the plane, with its data.

    Binary models (one sigmoid output, or two softmax outputs) get a heatmap
    of ``P(class 1)`` and the learned ``P = 0.5`` line; models with ``k > 2``
    outputs get their arg-max regions.

    Parameters
    ----------
    model : Sequential
        A built classifier with 2 input features and a sigmoid or softmax output.
    X : array-like of shape (n_samples, 2)
        Training points (at most 1,500 are drawn, a fixed random subset).
    y : array-like of shape (n_samples,) or (n_samples, k)
        Their integer labels, or one-hot rows.
    X_test, y_test : array-like of shape (n_test, 2) and (n_test,), optional
        Test points, drawn as triangles.  Give both or neither.
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes (a colour bar is added next to it) instead of a
        new figure.
    true_labels : str or callable, optional
        The true boundary, drawn dashed: a dataset with exact labels
        (``"circle"``, ``"xor"``, ``"rings"``, with their default geometry), or
        a function mapping points of shape (m, 2) to labels of shape (m,).
    show_accuracy : bool, default=True
        Put the model's accuracy on the drawn points (the test points when
        given) and the majority-class baseline in the title.
    title : str, optional
        First line of the title.
    resolution : int, default=300
        Grid points per axis.
    extent : (xmin, xmax, ymin, ymax), default=(-1, 1, -1, 1)
        Region drawn, widened to hold every point and padded by 5%.

    Returns
    -------
    fig : matplotlib.figure.Figure
        A new 7 x 6 inch figure, or the figure of ``ax``.

    Raises
    ------
    ValueError
        If the model is not a built classifier of 2 inputs (a regression's one
        output is refused with a pointer to :func:`surface`), or the points or
        labels are not shaped as above.

    Examples
    --------
    >>> from backprop_lab import plot
    >>> fig = plot.boundary(model, X_train, y_train, X_test=X_test, y_test=y_test,
    ...                     true_labels="circle")
    >>> fig.savefig("boundary.png")
    """
    _check_model(model, "boundary")
    ax = _check_ax(ax)
    if model.n_features != 2:
        raise ValueError(
            "boundary draws models of 2 input features (a plane), "
            f"this model takes {model.n_features}"
        )
    output = model.layers[-1].activation.name
    if output not in _CLASSIFIER_OUTPUTS and model.layers[-1].units == 1:
        raise ValueError(
            f"boundary draws classifiers (a sigmoid or softmax output); this model's one "
            f"{output} output is a regression: draw its surface with plot.surface(model, X, y)"
        )
    if output not in _CLASSIFIER_OUTPUTS:
        raise ValueError(
            "boundary draws classifiers: the last layer's activation must be sigmoid or "
            f"softmax, got {output}"
        )
    n_classes = max(2, model.layers[-1].units)
    X = _points("X", X, 2, "(boundary draws the plane of 2 inputs)")
    y = _labels("y", y, len(X), n_classes)
    if (X_test is None) != (y_test is None):
        raise ValueError("give X_test and y_test together, or neither")
    if X_test is not None:
        X_test = _points("X_test", X_test, 2, "(boundary draws the plane of 2 inputs)")
        y_test = _labels("y_test", y_test, len(X_test), n_classes)
    if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 2:
        raise ValueError(f"resolution must be an integer >= 2, got {resolution!r}")
    truth = _true_labels(true_labels)
    scores = {}
    if show_accuracy:
        Xs, ys = (X, y) if X_test is None else (X_test, y_test)
        predicted = predicted_labels(model.predict(Xs, verbose=0))
        scores = {"accuracy": float(np.mean(predicted == ys)), "baseline": baseline_accuracy(ys)}

    def proba(G):
        return model.predict(G, verbose=0)

    kw = dict(true_labels=truth, title=title, resolution=resolution, extent=extent, **scores)
    if ax is None:
        return _shown(plotting.plot_boundary(proba, X, y, X_test, y_test, **kw))
    plotting.draw_classifier(ax, proba, X, y, X_test, y_test, **kw)
    return _figure_of(ax)


def _true_labels(true_labels) -> Callable | None:
    if true_labels is None or callable(true_labels):
        return true_labels
    if isinstance(true_labels, str):
        if true_labels.lower() not in datasets.TRUE_LABELS:
            valid = ", ".join(sorted(datasets.TRUE_LABELS))
            raise ValueError(
                f"true_labels={true_labels!r}: only {valid} have exact labels; "
                "or pass a function of the points"
            )
        return functools.partial(datasets.true_labels, true_labels)
    raise ValueError(
        f"true_labels must be a dataset name or a function of the points, got {true_labels!r}"
    )


# --------------------------------------------------------------------------- surface


def _targets(name: str, y: Any, n: int) -> np.ndarray:
    try:
        y = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must hold numbers (target values)") from None
    y = y[:, 0] if y.ndim == 2 and y.shape[1] == 1 else y
    if y.shape != (n,) or not np.isfinite(y).all():
        raise ValueError(
            f"{name} must hold one finite target per point, shape ({n},), got {y.shape}"
        )
    return y


def surface(
    model,
    X,
    y,
    *,
    X_test=None,
    y_test=None,
    ax: Axes | None = None,
    true_values: Callable[[np.ndarray], Any] | None = None,
    show_scores: bool = True,
    title: str | None = None,
    resolution: int = 300,
    extent: Sequence[float] = (-1.0, 1.0, -1.0, 1.0),
) -> Figure:
    """Draw a regression's predicted value over the plane, with its data.

    The colour map is diverging, white at the mean of ``y``; solid contour
    lines follow the prediction, dashed ones the true surface.

    Parameters
    ----------
    model : Sequential
        A built model with 2 input features and one output (a regression).
    X : array-like of shape (n_samples, 2)
        Training points, coloured by target (at most 1,500 are drawn).
    y : array-like of shape (n_samples,)
        Their target values.
    X_test, y_test : array-like of shape (n_test, 2) and (n_test,), optional
        Test points, drawn as triangles.  Give both or neither.
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes (a colour bar is added next to it) instead of a
        new figure.
    true_values : callable, optional
        Maps points of shape (m, 2) to the exact targets of shape (m,).
    show_scores : bool, default=True
        Put R² and MSE on the drawn points (the test points when given) and
        the MSE of predicting those points' mean in the title: the scores a
        run's ``metrics.json`` holds (``engine.metrics.regression_scores``).
    title : str, optional
        First line of the title.
    resolution : int, default=300
        Grid points per axis.
    extent : (xmin, xmax, ymin, ymax), default=(-1, 1, -1, 1)
        Region drawn, widened to hold every point and padded by 5%.

    Returns
    -------
    fig : matplotlib.figure.Figure
        A new 7 x 6 inch figure, or the figure of ``ax``.

    Raises
    ------
    ValueError
        If the model is not a built model of 2 inputs and one output, or the
        points or targets are not shaped as above.

    Examples
    --------
    >>> fig = plot.surface(model, X_train, y_train, X_test=X_test, y_test=y_test)
    """
    _check_model(model, "surface")
    ax = _check_ax(ax)
    if model.n_features != 2 or model.layers[-1].units != 1:
        raise ValueError(
            "surface draws models of 2 input features and one output value, "
            f"this model takes {model.n_features} and gives {model.layers[-1].units}"
        )
    X = _points("X", X, 2, "(surface draws the plane of 2 inputs)")
    y = _targets("y", y, len(X))
    if (X_test is None) != (y_test is None):
        raise ValueError("give X_test and y_test together, or neither")
    if X_test is not None:
        X_test = _points("X_test", X_test, 2, "(surface draws the plane of 2 inputs)")
        y_test = _targets("y_test", y_test, len(X_test))
    scores = {}
    if show_scores:
        Xs, ys = (X, y) if X_test is None else (X_test, y_test)
        # The scores metrics.json holds for a run: R² against the scored points' own mean.
        s = regression_scores(ys, model.predict(Xs, verbose=0)[:, 0])
        scores = {"r2": s["r2"], "mse": s["mse"], "baseline_mse": s["baseline_mse"]}

    def predict(G):
        return model.predict(G, verbose=0)

    kw = dict(true_values=true_values, title=title, resolution=resolution, extent=extent, **scores)
    if ax is None:
        return _shown(surface_pictures.plot_surface(predict, X, y, X_test, y_test, **kw))
    surface_pictures.draw_regression(ax, predict, X, y, X_test, y_test, **kw)
    return _figure_of(ax)


# --------------------------------------------------------------------------- curves


def _history(history: Any) -> Mapping[str, Sequence[float]]:
    values = getattr(history, "history", history)
    if not isinstance(values, Mapping):
        raise ValueError(
            "history must be what fit returned (a History) or its .history dict, "
            f"got {type(history).__name__}"
        )
    if not len(values.get("loss", ())):
        raise ValueError(f"history must hold at least one epoch of 'loss', got keys {list(values)}")
    return values


def curves(
    history,
    *,
    ax: Axes | None = None,
    metric: str = "loss",
    baseline: float | None = None,
    title: str | None = None,
    regression: bool = False,
) -> Figure:
    """Draw loss and accuracy per epoch, training vs validation.

    Parameters
    ----------
    history : History or dict of str to list of float
        What ``model.fit`` returned, or its ``.history``: ``"loss"`` (one
        value per epoch) is required; ``"accuracy"`` and the ``"val_"``
        series are drawn when present.
    ax : matplotlib.axes.Axes, optional
        Draw one panel, ``metric``, into this Axes instead of both panels in a
        new figure.
    metric : {"loss", "accuracy", "mae"}, default="loss"
        The panel drawn into ``ax``.  A new figure has loss and accuracy, or
        loss and ``"mae"`` for a history with MAE and no accuracy.
    baseline : float, optional
        An accuracy in [0, 1] drawn as a dashed line on the accuracy panel,
        e.g. the share of the most frequent class.
    title : str, optional
    regression : bool, default=False
        The history of a regression: a new figure has no accuracy panel, only
        the loss (and ``"mae"`` when the history holds it).

    Returns
    -------
    fig : matplotlib.figure.Figure
        A new 10 x 4 inch figure with two Axes (loss, accuracy), 5.5 x 4 with
        the loss alone, or the figure of ``ax``.

    Raises
    ------
    ValueError
        If ``history`` holds no loss, or ``metric`` was not recorded.

    Examples
    --------
    >>> history = model.fit(X, y, epochs=50, validation_data=(X_test, y_test), verbose=0)
    >>> fig = plot.curves(history, baseline=0.8)
    """
    values = _history(history)
    ax = _check_ax(ax)
    if ax is None:
        return _shown(
            plotting.plot_curves(values, baseline=baseline, title=title, regression=regression)
        )
    if metric not in ("loss", "accuracy", "mae"):
        raise ValueError(f"metric must be 'loss' or 'accuracy' (or 'mae'), got {metric!r}")
    if metric == "accuracy" and plotting.accuracy_key(values) is None:
        raise ValueError("history holds no accuracy: compile with metrics=['accuracy']")
    if metric == "mae" and "mae" not in values:
        raise ValueError("history holds no 'mae'")
    plotting.draw_curve(ax, values, metric, baseline=baseline, title=title)
    return _figure_of(ax)


# --------------------------------------------------------------------------- network


def network(
    model,
    *,
    ax: Axes | None = None,
    extent: Sequence[float] = (-1.0, 1.0, -1.0, 1.0),
    resolution: int = 40,
    max_neurons: int = network_pictures.MAX_NEURONS,
    title: str | None = None,
    dpi: float = 150,
) -> Figure:
    """Draw the network: every neuron as a map of its activation over the plane.

    Connections are lines as thick as ``|weight|``, blue for positive and
    orange for negative weights (the heatmaps use the same colours).

    Parameters
    ----------
    model : Sequential
        A built model with 2 input features and at most 6 hidden layers.
    ax : matplotlib.axes.Axes, optional
        Paste the picture, as an image of ``dpi`` dots per inch, into this
        Axes (its frame is hidden) instead of returning a new figure.  The
        diagram sizes its own figure to the network and lays out its legend
        and colour bar around it, so it is drawn whole and enters ``ax`` as
        an image: it does not rescale with ``ax`` as the other pictures do.
    extent : (x_min, x_max, y_min, y_max), default=(-1, 1, -1, 1)
        The part of the plane each neuron's map covers.
    resolution : int, default=40
        Grid points per side of each map.
    max_neurons : int, default=16
        Widest column drawn; wider layers show their most important neurons.
    title : str, optional
    dpi : float, default=150
        Resolution of the image pasted into ``ax``.

    Returns
    -------
    fig : matplotlib.figure.Figure
        A new figure sized to the network, or the figure of ``ax``.

    Raises
    ------
    ValueError
        If the model is not built, does not take 2 inputs, or has more than
        6 hidden layers.

    Examples
    --------
    >>> fig = plot.network(model, title="after 50 epochs")
    """
    _check_model(model, "network")
    ax = _check_ax(ax)
    kw = dict(extent=extent, resolution=resolution, max_neurons=max_neurons, title=title)
    if ax is None:
        return _shown(network_pictures.plot_network(model, **kw))
    network_pictures.draw_network(ax, model, **kw, dpi=dpi)
    return _figure_of(ax)


# --------------------------------------------------------------------------- landscape


def _trajectory(trajectory: Any, model) -> np.ndarray:
    """The recorded weights, ending at the model's own (``θ*``); shape ``(n, n_params)``."""
    final = np.concatenate(model.params, axis=None).astype(np.float64)
    if isinstance(trajectory, Recording):
        if not trajectory.n_trajectory:
            raise ValueError("the recording holds no weights: use recorder(..., trajectory=True)")
        trajectory = trajectory.trajectory[: trajectory.n_trajectory]
    path = np.asarray(trajectory, dtype=np.float64)
    if path.ndim != 2 or path.shape[1] != final.size or len(path) == 0:
        raise ValueError(
            f"trajectory must be a Recording or an array of shape (n_points, {final.size}) "
            f"(the model's flattened weights), got shape {path.shape}"
        )
    return path if np.array_equal(path[-1], final) else np.vstack([path, final])


def landscape(
    model,
    X,
    y,
    *,
    trajectory=None,
    ax: Axes | None = None,
    plane: str = "random",
    seed: int = 0,
    resolution: int = landscape_pictures.RESOLUTION,
    title: str | None = None,
) -> Figure:
    """Draw the training loss on a plane through the trained weights (Li et al. 2018).

    The surface is ``L(θ* + α d1 + β d2)`` around the model's weights ``θ*``,
    with ``d1``, ``d2`` random filter-normalised directions, or the first two
    principal components of the recorded path.  With a trajectory the path is
    drawn on it and a new figure shows both planes; without one a new figure
    shows the random plane around the trained weights.

    Parameters
    ----------
    model : Sequential
        A built, compiled model (its loss is the one drawn); any number of inputs.
    X : array-like of shape (n_samples, n_features)
        Training inputs; at most 4,096 (a fixed subset, as in a run's
        ``landscape.png``) are used, and the picture says which.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Their labels or targets, as given to ``fit``.
    trajectory : Recording or array-like of shape (n_points, n_params), optional
        The weights during training, first to last: what :func:`recorder`
        recorded, or rows of ``np.concatenate(model.params, axis=None)``.
    ax : matplotlib.axes.Axes, optional
        Draw one plane, ``plane``, into this Axes (a colour bar is added next to it).
    plane : {"random", "pca"}, default="random"
        The plane drawn into ``ax`` (``"pca"`` needs a trajectory); a new
        figure shows both planes with a trajectory, the random one without.
    seed : int, default=0
        Seeds the random directions.
    resolution : int, default=31
        Odd number of grid points per side; the loss is computed at each.
    title : str, optional

    Returns
    -------
    fig : matplotlib.figure.Figure
        A new figure (one Axes per plane, and a colour bar), or the figure of ``ax``.

    Raises
    ------
    ValueError
        If the model is not built and compiled, or the data or trajectory do
        not match it.

    Examples
    --------
    >>> callbacks, recording = plot.recorder(X, y)
    >>> history = model.fit(X, y, epochs=50, callbacks=callbacks, verbose=0)
    >>> fig = plot.landscape(model, X, y, trajectory=recording)
    >>> fig = plot.landscape(model, X, y)  # the surface around the trained weights only
    """
    _check_model(model, "landscape")
    ax = _check_ax(ax)
    if not getattr(model, "compiled", False):
        raise ValueError("landscape draws the model's loss: compile() the model first")
    if plane not in ("random", "pca"):
        raise ValueError(f"plane must be 'random' or 'pca', got {plane!r}")
    if plane == "pca" and trajectory is None:
        raise ValueError("plane='pca' needs the trajectory the weights took (see recorder)")
    n = model.n_features
    X = _points("X", X, n, f"to match the model's {n} inputs")
    y = np.asarray(y)
    if len(y) != len(X):
        raise ValueError(f"y must have one label per row of X ({len(X)}), got shape {y.shape}")
    Xs, ys = sample_rows(X, y, LOSS_SAMPLES)
    points = describe_points(len(Xs), len(X))
    Xs = np.ascontiguousarray(Xs, dtype=model.dtype)
    Y = model.loss.prepare_targets(ys, model.layers[-1].units, model.dtype)
    has_path = trajectory is not None
    path = _trajectory(trajectory, model) if has_path else np.concatenate(model.params, axis=None)
    surfs = landscape_pictures.surfaces(
        model, Xs, Y, np.atleast_2d(path), seed=seed, resolution=resolution
    )
    if ax is None and has_path:
        return _shown(landscape_pictures.plot_landscape(surfs, title=title, points=points))
    kw = dict(path=has_path, title=title, points=points)
    if ax is None:
        return _shown(landscape_pictures.plot_plane(surfs[0], **kw))
    landscape_pictures.draw_surface(ax, surfs[0 if plane == "random" else 1], **kw)
    return _figure_of(ax)


# --------------------------------------------------------------------------- gradients


def gradients(recording, *, model=None, ax: Axes | None = None, title: str | None = None) -> Figure:
    """Draw each layer's kernel gradient norm per epoch on a log axis.

    Parameters
    ----------
    recording : Recording or (epochs, norms)
        What :func:`recorder` recorded, or ``epochs`` of shape (n_points,)
        (0 = before training) with ``norms`` of shape (n_points, n_layers).
    model : Sequential, optional
        Names the layers in the legend ("hidden 1 (8 relu)").
    ax : matplotlib.axes.Axes, optional
        Draw the norms into this Axes; zeros and NaN or infinity are gaps
        there, where a new figure marks them in strips above and below.
    title : str, optional

    Returns
    -------
    fig : matplotlib.figure.Figure
        A new 7.5 x 4.5 inch figure, or the figure of ``ax``.

    Raises
    ------
    ValueError
        If nothing was recorded, or the norms do not have one row per epoch.

    Examples
    --------
    >>> callbacks, recording = plot.recorder(X, y)
    >>> history = model.fit(X, y, epochs=50, callbacks=callbacks, verbose=0)
    >>> fig = plot.gradients(recording, model=model)
    """
    ax = _check_ax(ax)
    if isinstance(recording, Recording):
        epochs, norms = recording.gradient_epochs, recording.gradient_table()
    elif isinstance(recording, tuple) and len(recording) == 2:
        epochs, norms = recording
    else:
        raise ValueError(
            "gradients draws a Recording or a tuple (epochs, norms), "
            f"got {type(recording).__name__}"
        )
    epochs = np.asarray(epochs, dtype=np.float64).reshape(-1)
    norms = np.asarray(norms, dtype=np.float64)
    if len(epochs) == 0 or norms.ndim != 2 or len(norms) != len(epochs):
        raise ValueError(
            f"gradients needs one row of layer norms per epoch, got {len(epochs)} epochs and "
            f"norms of shape {norms.shape} (was the recorder passed to fit?)"
        )
    names = None
    if model is not None:
        _check_model(model, "gradients")
        names = (
            gradient_pictures.layer_names(model) if len(model.layers) == norms.shape[1] else None
        )
    if ax is None:
        return _shown(
            gradient_pictures.plot_gradients(epochs, norms, layer_names=names, title=title)
        )
    gradient_pictures.draw_gradients(ax, epochs, norms, layer_names=names, title=title)
    return _figure_of(ax)


def recorder(X, y, *, trajectory=True):
    """Callbacks for ``fit`` that record what :func:`landscape` and :func:`gradients` draw.

    They only observe: the model trains to the same weights with or without them.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
        The training data given to ``fit``.
    trajectory : bool, default=True
        Record the weights (at most 120 snapshots, spaced by gradient steps and
        denser at the start) as well as the gradient norms.

    Returns
    -------
    callbacks : list of Callback
        Pass them to ``fit(..., callbacks=callbacks)``.
    recording : Recording
        Filled during ``fit``; pass it to :func:`landscape` and :func:`gradients`.

    Examples
    --------
    >>> callbacks, recording = plot.recorder(X, y)
    >>> history = model.fit(X, y, epochs=50, batch_size=32, callbacks=callbacks, verbose=0)
    >>> len(recording.gradient_epochs)
    51
    """
    return make_recorders(np.asarray(X), np.asarray(y), gradients=True, trajectory=trajectory)
