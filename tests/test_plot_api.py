"""backprop_lab.plot: each picture as a new figure or into a given Axes, clear refusals of
bad input, figures that show themselves in Jupyter, and the example notebook, executed."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import time
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from matplotlib.collections import LineCollection
from matplotlib.contour import ContourSet
from matplotlib.figure import Figure

from backprop_lab import SGD, Dense, Sequential, plot
from backprop_lab.datasets import make_circle, train_test_split

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "notebook.ipynb"
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def run():
    """A small circle, the article's network trained briefly, with a recording."""
    X, y = make_circle(400, random_state=0)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    model = Sequential([Dense(6, "relu", input_shape=(2,)), Dense(1, "sigmoid")], seed=1)
    model.compile(
        SGD(learning_rate=1.0), "binary_crossentropy", metrics=["accuracy"], engine="numpy"
    )
    callbacks, recording = plot.recorder(X_train, y_train)
    history = model.fit(
        X_train,
        y_train,
        epochs=20,
        batch_size=16,
        validation_data=(X_test, y_test),
        callbacks=callbacks,
        verbose=0,
    )
    return model, history, recording, X_train, y_train, X_test, y_test


def contours(ax):
    return [c for c in ax.collections if isinstance(c, ContourSet)]


def panel(fig=None):
    fig = fig or Figure(figsize=(10, 4))
    return fig, fig.subplots(1, 2)


# --------------------------------------------------------------------------- boundary


def test_boundary_draws_a_new_figure_with_the_scores_in_its_title(run):
    model, _, _, X, y, X_test, y_test = run
    fig = plot.boundary(
        model,
        X,
        y,
        X_test=X_test,
        y_test=y_test,
        true_labels="circle",
        title="small",
        resolution=40,
    )
    assert isinstance(fig, Figure)
    main, colorbar = fig.axes
    assert len(main.images) == 1 and len(contours(main)) == 2  # learned and true boundary
    title = main.get_title()
    assert title.startswith("small\ntest accuracy ") and "majority baseline" in title
    accuracy = np.mean((model.predict(X_test, verbose=0)[:, 0] > 0.5) == y_test)
    assert f"{100 * accuracy:.1f}%" in title
    assert fig._repr_png_().startswith(PNG)


def test_boundary_draws_into_the_given_axes_and_returns_its_figure(run):
    model, _, _, X, y, _, _ = run
    fig, (left, right) = panel()
    out = plot.boundary(
        model, X, y, ax=right, true_labels=lambda G: (G**2).sum(1) < 0.25, resolution=30
    )
    assert out is fig
    assert not left.images and len(right.images) == 1 and len(contours(right)) == 2
    assert len(fig.axes) == 3  # the colour bar sits next to the given Axes
    assert right.get_legend() is not None and right.get_title().startswith("accuracy ")


def test_boundary_draws_into_an_axes_of_a_subfigure(run):
    model, _, _, X, y, _, _ = run
    root = Figure()
    ax = root.subfigures(1, 2)[1].add_subplot()
    assert plot.boundary(model, X, y, ax=ax, resolution=20, show_accuracy=False) is root
    assert ax.get_title() == ""


def test_surface_scores_the_test_points_as_metrics_json_does():
    from backprop_lab.engine.metrics import regression_scores

    rng = np.random.default_rng(0)
    X, X_test = rng.uniform(-1, 1, (60, 2)), rng.uniform(-1, 1, (20, 2))
    y, y_test = X[:, 0] + 5.0, X_test[:, 0]  # the training mean is far from the test mean
    model = built(output="linear")
    fig = plot.surface(model, X, y, X_test=X_test, y_test=y_test, resolution=10)
    s = regression_scores(y_test, model.predict(X_test, verbose=0)[:, 0])
    title = fig.axes[0].get_title()
    assert f"test R² {s['r2']:.3f}" in title
    assert f"predicting the mean: MSE {s['baseline_mse']:.4g}" in title
    # Constant test targets: scikit-learn's R² (0 unless exact), never nan or -inf.
    fig = plot.surface(model, X, y, X_test=X_test, y_test=np.full(20, 2.0), resolution=10)
    assert "test R² 0.000" in fig.axes[0].get_title()


def unbuilt():
    return Sequential([Dense(4, "relu"), Dense(1, "sigmoid")])


def built(n_inputs=2, output="sigmoid"):
    model = Sequential([Dense(3, "relu"), Dense(1, output)], seed=0)
    model.build(n_inputs)
    return model


@pytest.mark.parametrize(
    "model, X, y, kwargs, message",
    [
        (unbuilt(), np.zeros((4, 2)), [0, 1, 0, 1], {}, "needs a built model"),
        ("model", np.zeros((4, 2)), [0, 1, 0, 1], {}, "draws a backprop_lab Sequential"),
        (built(3), np.zeros((4, 3)), [0, 1, 0, 1], {}, "models of 2 input features"),
        (built(), np.zeros((4, 3)), [0, 1, 0, 1], {}, r"X must have shape \(n_samples, 2\)"),
        (built(), np.zeros(4), [0, 1, 0, 1], {}, r"X must have shape \(n_samples, 2\)"),
        (built(), np.zeros((4, 2)), [0, 1, 0], {}, r"y must have shape \(4,\)"),
        (built(), np.zeros((4, 2)), [0, 1, 2, 1], {}, r"labels in 0\.\.1"),
        (built(output="linear"), np.zeros((4, 2)), [0, 1, 0, 1], {}, "sigmoid or softmax"),
        (built(), np.zeros((4, 2)), [0, 1, 0, 1], {"ax": "left"}, "ax must be a matplotlib Axes"),
        (built(), np.zeros((4, 2)), [0, 1, 0, 1], {"true_labels": "moons"}, "exact labels"),
        (built(), np.zeros((4, 2)), [0, 1, 0, 1], {"X_test": np.zeros((2, 2))}, "together"),
    ],
)
def test_boundary_refuses_bad_input_saying_what_is_allowed(model, X, y, kwargs, message):
    with pytest.raises(ValueError, match=message):
        plot.boundary(model, X, y, resolution=10, **kwargs)


# --------------------------------------------------------------------------- curves


def test_curves_takes_the_history_or_its_dict(run):
    history = run[1]
    for given in (history, history.history):
        fig = plot.curves(given, baseline=0.8)
        loss, accuracy = fig.axes
        assert (loss.get_title(), accuracy.get_title()) == ("loss", "accuracy")
        assert len(loss.lines) == 2 and len(accuracy.lines) == 3  # training, validation, baseline
        assert fig._repr_png_().startswith(PNG)


def test_curves_draws_one_metric_into_the_given_axes(run):
    fig, (left, right) = panel()
    assert plot.curves(run[1], ax=left) is fig
    assert plot.curves(run[1], ax=right, metric="accuracy", baseline=0.8, title="acc") is fig
    assert left.get_title() == "loss" and len(left.lines) == 2
    assert right.get_title() == "acc" and len(right.lines) == 3
    np.testing.assert_allclose(right.lines[0].get_ydata(), run[1].history["accuracy"])


@pytest.mark.parametrize(
    "history, kwargs, message",
    [
        ([0.5, 0.4], {}, "what fit returned"),
        ({"accuracy": [0.5]}, {}, "at least one epoch of 'loss'"),
        ({"loss": [0.5]}, {"metric": "accuracy", "ax": "axes"}, "no accuracy"),
        ({"loss": [0.5]}, {"metric": "auc", "ax": "axes"}, "'loss' or 'accuracy'"),
    ],
)
def test_curves_refuses_bad_input(history, kwargs, message):
    if kwargs.get("ax") == "axes":
        kwargs["ax"] = Figure().add_subplot()
    with pytest.raises(ValueError, match=message):
        plot.curves(history, **kwargs)


# --------------------------------------------------------------------------- network


def test_network_draws_every_neuron_as_a_new_figure_or_into_an_axes(run):
    model = run[0]
    fig = plot.network(model, resolution=8, title="net")
    (diagram, *_) = fig.axes
    assert len(diagram.images) == 2 + 6 + 1
    assert any(isinstance(c, LineCollection) for c in diagram.collections)
    assert fig._suptitle.get_text() == "net" and fig._repr_png_().startswith(PNG)

    target, (left, right) = panel()
    assert plot.network(model, ax=left, resolution=8, dpi=40) is target
    (image,) = left.images
    assert image.get_array().shape[2] == 4 and not left.axison and not right.images


def test_network_refuses_a_model_that_is_not_built():
    with pytest.raises(ValueError, match="needs a built model"):
        plot.network(unbuilt())


# --------------------------------------------------------------------------- landscape


def test_landscape_without_a_path_draws_the_plane_around_the_trained_weights(run):
    model, _, _, X, y, _, _ = run
    fig = plot.landscape(model, X, y, resolution=5, title="no path")
    plane, colorbar = fig.axes
    assert len(contours(plane)) == 2  # filled levels and their lines
    assert plane.get_title().startswith("no path\nrandom directions")
    assert [line.get_label() for line in plane.lines] == ["trained weights"]
    loss = model.evaluate(X, y, verbose=0)[0]
    assert f"{loss:.4g}" in plane.get_title()
    assert fig._repr_png_().startswith(PNG)


def test_landscape_with_a_recording_draws_both_planes_and_the_path(run):
    model, _, recording, X, y, _, _ = run
    fig = plot.landscape(model, X, y, trajectory=recording, resolution=5)
    random_plane, pca_plane, _colorbar = fig.axes
    assert "random" in random_plane.get_title() and "principal" in pca_plane.get_title()
    assert all(len(contours(ax)) == 2 for ax in (random_plane, pca_plane))

    target, (left, right) = panel()
    path = np.array(recording.trajectory)
    assert (
        plot.landscape(model, X, y, trajectory=path, ax=right, plane="pca", resolution=5) is target
    )
    labels = [line.get_label() for line in right.lines]
    assert labels == ["path of the weights", "start", "end"] and not left.collections
    drawn = right.lines[0].get_xydata()
    assert len(drawn) == len(path) and np.allclose(drawn[-1], 0.0, atol=1e-6)  # ends at θ*


def test_landscape_says_which_training_points_it_measures_the_loss_on(run):
    model, _, recording, X, y, _, _ = run
    points = f"all {len(X)} training points"
    fig = plot.landscape(model, X, y, trajectory=recording, resolution=3)
    assert f"loss on {points}, after the last step" in fig.get_suptitle()  # as landscape.png
    ax = Figure().add_subplot()
    plot.landscape(model, X, y, ax=ax, resolution=3)
    assert f"loss on {points} at the trained weights" in ax.get_title()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"plane": "pca"}, "needs the trajectory"),
        ({"plane": "flat"}, "'random' or 'pca'"),
        ({"trajectory": np.zeros((3, 5))}, r"trajectory must be .* shape \(n_points, 25\)"),
        ({"X": np.zeros((5, 3))}, r"X must have shape \(n_samples, 2\) to match"),
        ({"y": [0, 1]}, "one label per row of X"),
    ],
)
def test_landscape_refuses_bad_input(run, kwargs, message):
    model, _, _, X, y, _, _ = run
    kwargs = {"X": X, "y": y, **kwargs}
    with pytest.raises(ValueError, match=message):
        plot.landscape(model, resolution=3, **kwargs)


def test_landscape_needs_a_compiled_model():
    with pytest.raises(ValueError, match="compile"):
        plot.landscape(built(), np.zeros((4, 2)), [0, 1, 0, 1])


# --------------------------------------------------------------------------- gradients


def test_gradients_draws_the_recorded_norms(run):
    model, _, recording, *_ = run
    assert recording.gradient_epochs == list(range(21))  # before training, then each epoch
    fig = plot.gradients(recording, model=model)
    (ax,) = fig.axes
    assert [line.get_label() for line in ax.lines] == ["hidden 1 (6 relu)", "output (1 sigmoid)"]
    assert ax.get_yscale() == "log" and fig._repr_png_().startswith(PNG)

    target, (left, _) = panel()
    epochs, norms = recording.gradient_epochs, recording.gradient_table()
    assert plot.gradients((epochs, norms), ax=left, title="g") is target
    assert left.get_title() == "g" and len(left.lines) == 2
    np.testing.assert_allclose(left.lines[1].get_ydata(), norms[:, 1])


@pytest.mark.parametrize(
    "given, message",
    [
        ([1, 2], "a Recording or a tuple"),
        (([0, 1, 2], np.ones((2, 2))), "one row of layer norms per epoch"),
    ],
)
def test_gradients_refuses_bad_input(given, message):
    with pytest.raises(ValueError, match=message):
        plot.gradients(given)


def test_a_picture_drawn_into_an_axes_looks_like_the_new_figures_panel(run):
    history, recording = run[1], run[2]
    (_, expected) = plot.curves(history, baseline=0.8).axes
    ax = Figure().add_subplot()
    plot.curves(history, ax=ax, metric="accuracy", baseline=0.8)
    assert [line.get_label() for line in ax.lines] == [line.get_label() for line in expected.lines]
    assert [line.get_color() for line in ax.lines] == [line.get_color() for line in expected.lines]

    (expected,) = plot.gradients(recording).axes
    ax = Figure().add_subplot()
    plot.gradients(recording, ax=ax)
    styles = [(line.get_color(), line.get_marker(), line.get_linestyle()) for line in ax.lines]
    assert styles == [
        (line.get_color(), line.get_marker(), line.get_linestyle()) for line in expected.lines
    ]
    assert ax.get_title() == expected.get_title()


def test_plot_checks_and_delegates_and_draws_nothing_itself():
    """Every drawing lives in backprop_lab.pictures, once; plot only calls it."""
    source = Path(plot.__file__).read_text()
    drawing = {"plot", "imshow", "contour", "contourf", "scatter", "legend", "colorbar"}
    drawing |= {"axhline", "text", "set_title", "set_xlabel", "set_ylabel", "set_yscale"}
    calls = {
        node.func.attr
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    }
    assert calls & drawing == set()
    imported = {
        node.module
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("matplotlib")
    }
    assert imported <= {"matplotlib.axes", "matplotlib.figure"}  # for type checks only


# --------------------------------------------------------------------------- display


@pytest.mark.subprocess
def test_plot_draws_and_shows_figures_without_pyplot():
    code = (
        "import sys; import numpy as np; from backprop_lab import plot\n"
        "fig = plot.curves({'loss': [0.6, 0.5]})\n"
        "assert fig._repr_png_().startswith(b'\\x89PNG')\n"
        "assert 'matplotlib.pyplot' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --------------------------------------------------------------------------- the notebook


def run_notebook(path: Path) -> tuple[dict, list]:
    """Execute the code cells in order in one namespace, as a Jupyter kernel would.

    As IPython does, the value of a cell's last bare expression is what the cell
    shows, unless the cell ends with ``;``.  Returns the namespace and the
    ``(cell index, value)`` pairs shown.
    """
    import matplotlib.pyplot as plt

    notebook = json.loads(path.read_text())
    namespace: dict = {"__name__": "__main__"}
    shown = []
    for index, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        tree = ast.parse(source, f"<cell {index}>")
        last = tree.body[-1] if tree.body else None
        shows = isinstance(last, ast.Expr) and not source.rstrip().endswith(";")
        body = tree.body[:-1] if shows else tree.body
        exec(compile(ast.Module(body, type_ignores=[]), f"<cell {index}>", "exec"), namespace)
        if shows:
            value = eval(compile(ast.Expression(last.value), f"<cell {index}>", "eval"), namespace)
            if value is not None:
                shown.append((index, value))
        # pyplot's figures: the notebook renders and shows them at the end of the cell.
        for number in plt.get_fignums():
            figure = plt.figure(number)
            figure.canvas.draw()
            shown.append((index, figure))
        plt.close("all")
    return namespace, shown


def test_the_notebook_is_valid_nbformat_4_and_committed_without_outputs():
    notebook = json.loads(NOTEBOOK.read_text())
    assert notebook["nbformat"] == 4 and notebook["metadata"]["kernelspec"]["language"] == "python"
    code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    assert code and all(c["outputs"] == [] and c["execution_count"] is None for c in code)
    assert len({c["id"] for c in notebook["cells"]}) == len(notebook["cells"])


def test_the_notebook_runs_and_every_picture_it_shows_is_a_figure(capsys):
    matplotlib.use("Agg")
    start = time.perf_counter()
    namespace, shown = run_notebook(NOTEBOOK)
    seconds = time.perf_counter() - start
    assert seconds < 30, f"the notebook took {seconds:.1f} s"
    figures = [value for _, value in shown]
    assert figures and all(isinstance(f, Figure) for f in figures), figures
    own = [f for f in figures if hasattr(f, "_repr_png_")]
    assert len(own) == 6  # curves, two networks, two landscapes, gradients
    assert all(f._repr_png_().startswith(PNG) for f in own)
    assert len(figures) - len(own) == 2  # the boundaries and the losses, drawn into pyplot Axes

    # What the text says of the numbers is what the code prints.
    printed = capsys.readouterr().out
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    text = " ".join(" ".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    text = " ".join(text.split())  # one space between words, whatever the line breaks
    X_test, y_test = namespace["X_test"], namespace["y_test"]
    article = namespace["article"].evaluate(X_test, y_test, verbose=0)[1]
    better = namespace["better"].evaluate(X_test, y_test, verbose=0)[1]
    baseline = namespace["baseline"]
    assert f"({article:.1%} against {baseline:.1%} on this split)" in text
    assert f"test accuracy {article:.1%}" in printed and f"baseline {baseline:.1%}" in printed
    assert baseline < article < baseline + 0.05 and better > 0.97
    assert "gets about 98%" in text and round(100 * better) == 98
