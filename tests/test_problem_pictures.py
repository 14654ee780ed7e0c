"""Pictures of k classes and of a regression (issue 11): regions in k colours with the
winning probability as lightness, regression surfaces in a diverging map with contour
lines of prediction and truth, and every run picture drawn for all three kinds."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from backprop_lab import plot
from backprop_lab.engine.layers import Dense
from backprop_lab.engine.metrics import class_scores, confusion_matrix, regression_scores
from backprop_lab.engine.model import Sequential
from backprop_lab.pictures import animation, compare, learning, network, surface
from backprop_lab.pictures.plotting import plot_boundary, plot_curves
from backprop_lab.pictures.report import build_report
from backprop_lab.pictures.style import OKABE_ITO, lighten
from backprop_lab.runs.folders import write_run
from backprop_lab.runs.recording import make_recorders
from backprop_lab.runs.runner import Data, RunResult
from backprop_lab.runs.settings import Settings

_HAS_TASK = "task" in Data.__dataclass_fields__
CENTRES = np.array([[-0.5, -0.4], [0.5, -0.4], [0.0, 0.5]])


def bump(P):
    return np.exp(-(np.asarray(P) ** 2).sum(axis=1) / 0.5)


def nearest_centre(P):
    return ((np.asarray(P)[:, None, :] - CENTRES[None]) ** 2).sum(axis=2).argmin(axis=1)


def regression_data(n=300, seed=0):
    X = np.random.default_rng(seed).uniform(-1, 1, (n, 2))
    return X, bump(X)


def blob_data(n=300, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    return CENTRES[y] + rng.normal(0, 0.25, (n, 2)), y


def trained(kind, epochs=15, record=False):
    """A model, its data and (with ``record``) the recording of its training."""
    if kind == "regression":
        X, y = regression_data()
        model = Sequential([Dense(8, "tanh", input_shape=(2,)), Dense(1)], seed=0)
        model.compile("adam", "mse")
    else:
        X, y = blob_data()
        model = Sequential([Dense(8, "tanh", input_shape=(2,)), Dense(3, "softmax")], seed=0)
        model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    Xtr, Xte, ytr, yte = X[:240], X[240:], y[:240], y[240:]
    callbacks, recording = make_recorders(
        Xtr, ytr, frames=record, trajectory=record, max_frames=6, resolution=16
    )
    history = model.fit(
        Xtr, ytr, epochs=epochs, verbose=0, validation_data=(Xte, yte), callbacks=callbacks
    ).history
    truth = bump if kind == "regression" else nearest_centre
    # Data names its task once the datasets know regression (issue 11's other half).
    task = {"task": "regression"} if kind == "regression" and _HAS_TASK else {}
    return model, Data(Xtr, ytr, Xte, yte, truth, **task), history, recording


def run_result(kind):
    model, data, history, recording = trained(kind, record=True)
    P = model.predict(data.X_test, verbose=0)
    if kind == "regression":  # what runner.evaluate_run writes
        scores = regression_scores(data.y_test, P[:, 0])
        metrics = {"test_loss": scores["mse"], **scores}
    else:
        pred = P.argmax(axis=1)
        C = confusion_matrix(data.y_test, pred, 3)
        metrics = {
            "test_loss": 0.5,
            "test_accuracy": float(np.mean(pred == data.y_test)),
            "baseline_accuracy": 0.4,
            "confusion_matrix": C.tolist(),
            **class_scores(C),
        }
    settings = Settings(dataset=kind, epochs=15, name=kind, seed=1)
    return RunResult(
        settings, model, data, history, [0.01] * 15, 0.15, metrics=metrics, recording=recording
    )


@pytest.fixture(scope="module")
def regression():
    return trained("regression")


@pytest.fixture(scope="module")
def classes3():
    return trained("classes")


def legend_labels(fig):
    return [t.get_text() for legend in fig.legends for t in legend.get_texts()]


# --------------------------------------------------------------------------- kinds


def test_the_kind_of_problem_is_read_from_the_last_layer(regression, classes3):
    binary = Sequential([Dense(4, "relu", input_shape=(2,)), Dense(1, "sigmoid")])
    assert surface.problem_kind(binary) == "binary"
    assert surface.problem_kind(classes3[0]) == "classes"
    assert surface.problem_kind(regression[0]) == "regression"


def test_the_pictures_and_the_command_line_share_one_rule_for_the_kind():
    from backprop_lab.engine.model import problem_kind

    two_values = Sequential([Dense(4, "relu", input_shape=(2,)), Dense(2)])
    for rule in (surface.problem_kind, problem_kind):
        with pytest.raises(ValueError, match="2 linear outputs are neither class probabilities"):
            rule(two_values)


# --------------------------------------------------------------------------- k classes


def test_three_classes_draw_three_colours_paler_where_unsure_and_the_true_regions(classes3):
    model, data, _, _ = classes3
    fig = plot_boundary(
        lambda G: model.predict(G, verbose=0),
        data.X_train,
        data.y_train,
        true_labels=nearest_centre,
        resolution=60,
    )
    ax = fig.axes[0]
    regions, veil = ax.images[:2]
    assert set(np.unique(regions.get_array())) == {0, 1, 2}
    colors = [tuple(c) for c in regions.cmap.colors]
    assert colors == [lighten(c, 0.45) for c in OKABE_ITO[:3]]
    # Lightness is the winning probability: the veil is clearer where the model is surer.
    P = model.predict(
        np.column_stack(
            [
                g.ravel()
                for g in np.meshgrid(
                    *(np.linspace(*regions.get_extent()[i : i + 2], 60) for i in (0, 2))
                )
            ]
        ),
        verbose=0,
    )
    alpha = veil.get_array()[..., 3].ravel()
    sure, unsure = P.max(axis=1).argmax(), P.max(axis=1).argmin()
    assert alpha[sure] < alpha[unsure] and alpha.max() <= 0.8
    assert "true boundary" in legend_labels(fig)
    dashed = [
        c
        for c in ax.collections
        if "dashed" in str(c.get_linestyle()) or any(ls[1] is not None for ls in c.get_linestyle())
    ]
    assert len(dashed) == 3  # one edge contour per true class


# --------------------------------------------------------------------------- regression


def test_a_regression_surface_is_diverging_with_contours_of_prediction_and_truth(regression):
    model, data, _, _ = regression
    fig = surface.plot_surface(
        lambda G: model.predict(G, verbose=0),
        data.X_train,
        data.y_train,
        data.X_test,
        data.y_test,
        true_values=bump,
        r2=0.91,
        mse=0.0042,
        baseline_mse=0.05,
        title="bump",
        resolution=60,
    )
    ax, cbar_ax = fig.axes
    image = ax.images[0]
    assert image.cmap.name.startswith("PuOr")
    centre = data.y_train.mean()
    assert image.norm.vmin + image.norm.vmax == pytest.approx(2 * centre)
    assert "targets' mean" in cbar_ax.get_ylabel()
    contours = [c for c in ax.collections if hasattr(c, "levels")]
    solid = [c for c in contours if all(ls[1] is None for ls in c.get_linestyle())]
    dashed = [c for c in contours if any(ls[1] is not None for ls in c.get_linestyle())]
    assert len(solid) == 1 and len(dashed) == 1
    assert set(solid[0].levels) <= set(dashed[0].levels)  # the same scale of levels
    assert "R² 0.910" in ax.get_title() and "MSE 0.0042" in ax.get_title()
    assert legend_labels(fig) == ["prediction", "true surface", "train", "test"]


def test_draw_regression_draws_plot_surfaces_picture_into_any_axes(regression):
    model, data, _, _ = regression
    ax = Figure().add_subplot()
    handles = surface.draw_regression(
        ax, lambda G: model.predict(G, verbose=0), data.X_train, data.y_train, resolution=30
    )
    assert [h.get_label() for h in handles] == ["prediction", "train"]
    assert ax.get_legend() is not None


def test_a_flat_prediction_says_it_has_no_contour_line(regression):
    _, data, _, _ = regression
    ax = Figure().add_subplot()
    handles = surface.draw_regression(
        ax, lambda G: np.full(len(G), 0.3), data.X_train, data.y_train, resolution=20
    )
    assert handles[0].get_label() == "prediction (no contour line in view)"


def test_regression_pictures_refuse_bad_input(regression):
    model, data, _, _ = regression
    with pytest.raises(ValueError, match="shape"):
        surface.plot_surface(lambda G: np.zeros(3), data.X_train, data.y_train, resolution=10)
    with pytest.raises(ValueError, match="finite"):
        surface.plot_surface(model.predict, data.X_train, data.y_train * np.nan, resolution=10)


def test_regression_curves_have_no_accuracy_panel():
    fig = plot_curves({"loss": [1.0, 0.5], "mae": [0.8, 0.4]}, regression=True)
    assert [ax.get_title() for ax in fig.axes] == ["loss", "mae"]
    fig = plot_curves({"loss": [1.0, 0.5], "val_loss": [1.1, 0.6]}, regression=True)
    assert [ax.get_title() for ax in fig.axes] == ["loss"]
    fig = plot.curves({"loss": [1.0, 0.5]}, regression=True)
    assert [ax.get_title() for ax in fig.axes] == ["loss"]


def test_plot_surface_and_boundary_of_a_regression(regression):
    model, data, _, _ = regression
    fig = plot.surface(
        model,
        data.X_train,
        data.y_train,
        X_test=data.X_test,
        y_test=data.y_test,
        true_values=bump,
        resolution=30,
    )
    assert "test R²" in fig.axes[0].get_title()
    ax = Figure().add_subplot()
    assert plot.surface(model, data.X_train, data.y_train, ax=ax, resolution=20) is ax.figure
    with pytest.raises(ValueError, match="plot.surface"):
        plot.boundary(model, data.X_train, np.zeros(len(data.X_train), int))


# --------------------------------------------------------------------------- run pictures


@pytest.mark.parametrize("kind", ["regression", "classes"])
def test_every_run_picture_and_the_report_are_drawn(tmp_path, kind):
    result = run_result(kind)
    write_run(tmp_path, result)
    names = learning.draw_run(tmp_path, result)
    for name in (
        "boundary.png",
        "curves.png",
        "network.png",
        "gradients.png",
        "learning.gif",
        "landscape.png",
        "report.html",
    ):
        assert name in names and (tmp_path / name).stat().st_size > 0
    page = build_report(tmp_path)
    if kind == "regression":
        assert "Test R² <b>" in page and "test MAE" in page and "predicting the mean" in page
        assert "test accuracy" not in page
    else:
        assert "predicted 2" in page and "Per class (test)" in page and "precision" in page


def test_the_network_of_a_regression_ends_in_one_linear_value_map(regression):
    fig = network.plot_network(regression[0], resolution=12)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "output\n1 linear" in texts
    assert "output = 0.5" not in legend_labels(fig)  # no probability boundary


def test_regression_frames_are_coloured_like_the_surface(regression, tmp_path):
    model, data, _, _ = regression
    _, _, _, recording = trained("regression", epochs=3, record=True)
    drawer = animation.FrameDrawer(
        recording, data.X_train, data.y_train, true_labels=bump, regression=True, epochs=3
    )
    assert drawer.image.cmap.name.startswith("PuOr")
    frame = drawer.draw(len(drawer) - 1)
    assert frame.shape[2] == 3
    assert "accuracy" not in drawer.status.get_text()
    assert animation.write_animation(
        tmp_path, recording, data.X_train, data.y_train, regression=True, mp4=False
    ) == ["learning.gif"]


def test_compare_draws_a_regression_and_a_three_class_run(tmp_path):
    summaries = []
    for kind in ("regression", "classes"):
        result = run_result(kind)
        folder = tmp_path / kind
        folder.mkdir()
        write_run(folder, result)
        s = compare.read_summary(folder)
        s.data = result.data
        summaries.append(s)
    fig = compare.plot_compare(summaries)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert any("test R²" in t for t in titles) and any("test accuracy" in t for t in titles)
    rows = [compare._row(i, s) for i, s in enumerate(summaries)]
    table = compare.format_table(rows)
    assert "R²" in table.splitlines()[0] and "MSE" in table.splitlines()[0]
    assert rows[0]["r2"] != "" and rows[1]["r2"] == ""


def test_compare_centres_a_regression_on_its_training_targets_mean(tmp_path):
    result = run_result("regression")
    write_run(tmp_path, result)
    s = compare.read_summary(tmp_path)
    s.data = result.data
    fig = compare.plot_compare([s, s])
    train_mean = f"{result.data.y_train.mean():.3g}"
    assert train_mean != f"{result.data.y_test.mean():.3g}"
    labels = [ax.get_ylabel() for ax in fig.axes if "targets' mean" in ax.get_ylabel()]
    assert len(labels) == 2 and all(label.endswith(f"{train_mean})") for label in labels)


def test_three_class_frames_veil_the_regions_where_the_model_is_unsure():
    from backprop_lab.runs.recording import Recording

    rec = Recording(steps_per_epoch=1)
    sure = np.zeros((8, 8, 3), np.float32)
    sure[..., 0] = 1.0
    for step, frame in enumerate([np.full((8, 8, 3), 1 / 3, np.float32), sure]):
        rec.frames.append(frame)
        rec.frame_steps.append(step)
        rec.frame_loss.append(1.0)
        rec.frame_accuracy.append(0.5)
    X, y = blob_data(30)
    drawer = animation.FrameDrawer(rec, X, y)
    drawer.draw(0)
    assert drawer.veil.get_array()[..., 3].min() == pytest.approx(0.8)  # chance: pale
    drawer.draw(1)
    assert drawer.veil.get_array()[..., 3].max() == pytest.approx(0.0)  # certain: full colour


def test_the_report_shows_per_class_scores_given_as_lists(tmp_path):
    result = run_result("classes")
    result.metrics.update(precision=[0.9, 0.8, 0.7], recall=[0.6, 0.5, 0.4], macro_f1=0.66)
    write_run(tmp_path, result)
    page = build_report(tmp_path)
    assert "Per class (test)" in page and "<th>class 2</th>" in page and "0.4" in page
    assert "macro-F1" in page and "0.660" in page
