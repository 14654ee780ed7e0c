import os
import subprocess
import sys

import matplotlib.image as mpimg
import numpy as np
import pytest
from matplotlib.contour import ContourSet
from matplotlib.figure import Figure

from backprop_lab.pictures.plotting import (
    draw_classifier,
    draw_curve,
    plot_boundary,
    plot_curves,
)
from backprop_lab.pictures.style import save_figure

# A blank picture has zero pixel variance; every drawn figure is far above this.
MIN_PIXEL_VARIANCE = 0.005


def disc_proba(X, radius=0.5):
    """P(class 1) for a disc with a smooth sigmoid edge, shape (n,)."""
    return 1.0 / (1.0 + np.exp((np.hypot(X[:, 0], X[:, 1]) - radius) * 20.0))


def disc_labels(X, radius=0.45):
    return (np.hypot(X[:, 0], X[:, 1]) <= radius).astype(np.int64)


def three_class_softmax(X):
    centres = np.array([[0.5, 0.5], [-0.5, 0.3], [0.0, -0.5]])
    z = -8.0 * ((X[:, None, :] - centres) ** 2).sum(axis=-1)
    z = np.exp(z - z.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X, Xt = rng.uniform(-1, 1, (800, 2)), rng.uniform(-1, 1, (200, 2))
    return X, disc_labels(X, 0.5), Xt, disc_labels(Xt, 0.5)


def legend_labels(fig):
    (legend,) = fig.legends
    return [t.get_text() for t in legend.get_texts() if t.get_text().strip()]


def contour_sets(ax):
    return [c for c in ax.collections if isinstance(c, ContourSet)]


def pixel_at(fig, ax, image, x, y):
    """RGB of the saved picture at data point (x, y)."""
    px, py = ax.transData.transform((x, y))
    return image[int(round(image.shape[0] - py)), int(round(px)), :3]


# --------------------------------------------------------------------------- boundary


def test_boundary_png_has_figure_size_and_is_not_blank(data, tmp_path):
    X, y, Xt, yt = data
    fig = plot_boundary(disc_proba, X, y, Xt, yt, true_labels=disc_labels, accuracy=0.9)
    path = save_figure(fig, tmp_path / "boundary.png", dpi=100)

    image = mpimg.imread(path)
    assert image.shape[:2] == (600, 700)  # 7 x 6 inches at 100 dpi
    assert image[..., :3].var() > MIN_PIXEL_VARIANCE

    blank = save_figure(Figure(figsize=(7, 6)), tmp_path / "blank.png", dpi=100)
    assert mpimg.imread(blank)[..., :3].var() < MIN_PIXEL_VARIANCE


def test_heatmap_is_not_flipped_or_transposed(tmp_path):
    # Class 1 only in the lower-right quadrant: a flip or a transpose would move it.
    def quadrant(X):
        return 1.0 / (1.0 + np.exp(-20.0 * np.minimum(X[:, 0], -X[:, 1])))

    fig = plot_boundary(quadrant, np.empty((0, 2)), np.empty(0))
    image = mpimg.imread(save_figure(fig, tmp_path / "q.png"))
    ax = fig.axes[0]
    for x, y in [(0.7, 0.7), (-0.7, 0.7), (0.7, -0.7), (-0.7, -0.7)]:
        r, _, b = pixel_at(fig, ax, image, x, y)
        if (x, y) == (0.7, -0.7):
            assert r > b + 0.2, (x, y)  # red: class 1
        else:
            assert b > r + 0.2, (x, y)  # blue: class 0


def test_boundary_has_probability_colour_bar_and_legend(data):
    X, y, Xt, yt = data
    fig = plot_boundary(disc_proba, X, y, Xt, yt, true_labels=disc_labels)
    ax, cbar_ax = fig.axes
    assert cbar_ax.get_ylabel() == "P(class 1)"
    assert ax.get_xlabel() == "x1" and ax.get_ylabel() == "x2"
    assert ax.get_aspect() == 1.0
    assert legend_labels(fig) == [
        "learned boundary (P = 0.5)",
        "true boundary",
        "class 0",
        "class 1",
        "train",
        "test",
    ]


def test_learned_and_true_boundaries_are_the_right_circles(data):
    X, y, Xt, yt = data
    fig = plot_boundary(disc_proba, X, y, Xt, yt, true_labels=disc_labels)
    learned, true = contour_sets(fig.axes[0])
    for contour, radius in [(learned, 0.5), (true, 0.45)]:
        vertices = np.concatenate([p.vertices for p in contour.get_paths()])
        np.testing.assert_allclose(np.hypot(*vertices.T), radius, atol=0.01)
    assert true.get_linestyles()[0][1] is not None  # dashed
    # Boundaries are drawn above every point, so no marker hides them.
    points = [c for c in fig.axes[0].collections if not isinstance(c, ContourSet)]
    assert min(learned.get_zorder(), true.get_zorder()) > max(p.get_zorder() for p in points)


def test_no_true_boundary_entry_without_true_labels(data):
    X, y, _, _ = data
    labels = legend_labels(plot_boundary(disc_proba, X, y))
    assert "true boundary" not in labels and "test" not in labels


def test_title_shows_accuracy_and_baseline(data):
    X, y, Xt, yt = data
    fig = plot_boundary(
        disc_proba, X, y, Xt, yt, accuracy=0.8414, baseline=("always 'outside'", 0.804)
    )
    assert fig.axes[0].get_title() == "test accuracy 84.1% · always 'outside': 80.4%"

    fig = plot_boundary(disc_proba, X, y, accuracy=0.5, baseline=0.75, title="circle")
    assert fig.axes[0].get_title() == "circle\naccuracy 50.0% · majority baseline: 75.0%"


def test_many_training_points_are_subsampled_and_the_legend_says_so():
    rng = np.random.default_rng(1)
    X = rng.uniform(-1, 1, (5000, 2))
    fig = plot_boundary(disc_proba, X, disc_labels(X))
    (points,) = [c for c in fig.axes[0].collections if not isinstance(c, ContourSet)]
    assert len(points.get_offsets()) == 1500
    assert "train (1,500 of 5,000 shown)" in legend_labels(fig)


def test_grid_grows_to_hold_points_beyond_the_extent():
    X = np.array([[-3.0, 0.0], [0.5, 2.0]])
    ax = plot_boundary(disc_proba, X, [0, 0]).axes[0]
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    assert x0 < -3.0 and x1 > 1.0 and y0 < -1.0 and y1 > 2.0


@pytest.mark.parametrize(
    "wrap",
    [lambda p: p, lambda p: p[:, None], lambda p: np.column_stack([1 - p, p])],
    ids=["(n,)", "(n,1)", "softmax (n,2)"],
)
def test_binary_output_shapes_give_the_same_heatmap(data, wrap):
    X, y, _, _ = data
    expected = plot_boundary(disc_proba, X, y, resolution=50).axes[0].images[0].get_array()
    image = plot_boundary(lambda G: wrap(disc_proba(G)), X, y, resolution=50).axes[0].images[0]
    np.testing.assert_allclose(image.get_array(), expected)
    assert image.get_array().shape == (50, 50)


def test_predictor_that_never_crosses_one_half_draws_no_boundary(data):
    X, y, _, _ = data
    fig = plot_boundary(lambda G: np.full(len(G), 0.2), X, y)
    assert contour_sets(fig.axes[0]) == []
    assert "learned boundary (P = 0.5) (none in view)" in legend_labels(fig)


def test_multiclass_draws_argmax_regions(tmp_path):
    rng = np.random.default_rng(2)
    X, Xt = rng.uniform(-1, 1, (600, 2)), rng.uniform(-1, 1, (100, 2))
    y, yt = three_class_softmax(X).argmax(axis=1), np.eye(3)[three_class_softmax(Xt).argmax(1)]
    fig = plot_boundary(
        three_class_softmax,
        X,
        y,
        Xt,
        yt,
        true_labels=lambda G: three_class_softmax(G).argmax(axis=1),
        accuracy=1.0,
        resolution=40,
    )
    ax, cbar_ax = fig.axes
    assert cbar_ax.get_ylabel() == "predicted class"
    assert [t.get_text() for t in cbar_ax.get_yticklabels()] == ["0", "1", "2"]
    assert legend_labels(fig) == [
        "learned boundary",
        "true boundary",
        "class 0",
        "class 1",
        "class 2",
        "train",
        "test",
    ]

    x0, x1, y0, y1 = ax.images[0].get_extent()
    gx, gy = np.meshgrid(np.linspace(x0, x1, 40), np.linspace(y0, y1, 40))
    expected = three_class_softmax(np.column_stack([gx.ravel(), gy.ravel()])).argmax(axis=1)
    np.testing.assert_array_equal(ax.images[0].get_array(), expected.reshape(40, 40))
    # One edge contour per class, for the learned and for the true regions.
    assert len(contour_sets(ax)) == 6

    image = mpimg.imread(save_figure(fig, tmp_path / "multi.png"))
    assert image[..., :3].var() > MIN_PIXEL_VARIANCE


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(predict_proba=lambda G: np.full(len(G), np.nan)), "NaN"),
        (dict(predict_proba=lambda G: np.ones(3)), "must return shape"),
        (dict(predict_proba=lambda G: 2 * disc_proba(G)), r"in \[0, 1\]"),
        (dict(y_train=np.full(800, 2)), "labels must be in 0..1"),
        (dict(X_test=np.zeros((5, 2))), "together"),
        (dict(X_train=np.zeros((800, 3))), r"shape \(n_samples, 2\)"),
        (dict(accuracy=84.1), r"fraction in \[0, 1\]"),
        (dict(resolution=1), "resolution"),
        (dict(extent=(1, -1, -1, 1)), "extent"),
        (dict(true_labels=lambda G: np.zeros(3)), "true_labels must return"),
    ],
)
def test_boundary_rejects_bad_input(data, kwargs, message):
    X, y, _, _ = data
    args = dict(predict_proba=disc_proba, X_train=X, y_train=y) | kwargs
    with pytest.raises(ValueError, match=message):
        plot_boundary(**args)


def test_draw_classifier_draws_plot_boundarys_picture_into_any_axes(data):
    X, y, Xt, yt = data
    kw = dict(true_labels=disc_labels, accuracy=0.9, baseline=0.8, title="t", resolution=60)
    whole = plot_boundary(disc_proba, X, y, Xt, yt, **kw)
    fig = Figure(figsize=(12, 5))
    left, right = fig.subplots(1, 2)
    groups = draw_classifier(right, disc_proba, X, y, Xt, yt, **kw)
    (expected, _colorbar), panel = whole.axes, right
    assert not left.images and len(fig.axes) == 3  # the colour bar sits next to ``right``
    np.testing.assert_array_equal(panel.images[0].get_array(), expected.images[0].get_array())
    assert len(contour_sets(panel)) == len(contour_sets(expected)) == 2
    assert (
        panel.get_title()
        == expected.get_title()
        == "t\ntest accuracy 90.0% · majority baseline: 80.0%"
    )
    assert (panel.get_xlim(), panel.get_ylim()) == (expected.get_xlim(), expected.get_ylim())
    # Its own legend below the Axes, not the figure's: boundaries and points.
    assert not fig.legends and [len(g) for g in groups] == [2, 2, 2]
    labels = [t.get_text() for t in panel.get_legend().get_texts()]
    assert labels == ["learned boundary (P = 0.5)", "true boundary", "train", "test"]


# --------------------------------------------------------------------------- curves


HISTORY = {
    "loss": [0.7, 0.5, 0.4, 0.35],
    "accuracy": [0.6, 0.75, 0.82, 0.85],
    "val_loss": [0.72, 0.55, 0.47, 0.45],
    "val_accuracy": [0.58, 0.7, 0.78, 0.8],
}


def test_curves_with_validation(tmp_path):
    fig = plot_curves(HISTORY, baseline=("always 'outside'", 0.804), title="circle")
    ax_loss, ax_acc = fig.axes
    for ax, key in [(ax_loss, "loss"), (ax_acc, "accuracy")]:
        train, val = ax.get_lines()[:2]
        np.testing.assert_array_equal(train.get_xdata(), [1, 2, 3, 4])  # epochs from 1
        np.testing.assert_array_equal(train.get_ydata(), HISTORY[key])
        np.testing.assert_array_equal(val.get_ydata(), HISTORY[f"val_{key}"])
        assert ax.get_xlabel() == "epoch"
        assert ax.get_xlim()[0] > 0
    # What each line is: fit's running mean over the batches, or a value after the epoch.
    train_label, val_label = (
        "training (mean over the epoch's batches)",
        "validation (after the epoch)",
    )
    assert [t.get_text() for t in ax_loss.get_legend().get_texts()] == [train_label, val_label]
    assert [t.get_text() for t in ax_acc.get_legend().get_texts()] == [
        train_label,
        val_label,
        "always 'outside' (80.4%)",
    ]
    baseline = ax_acc.get_lines()[2]
    assert baseline.get_linestyle() == "--"
    np.testing.assert_array_equal(baseline.get_ydata(), [0.804, 0.804])
    assert fig.get_suptitle() == "circle"

    image = mpimg.imread(save_figure(fig, tmp_path / "curves.png", dpi=100))
    assert image.shape[:2] == (400, 1000)  # 10 x 4 inches at 100 dpi
    assert image[..., :3].var() > MIN_PIXEL_VARIANCE


def test_curves_without_validation_or_accuracy():
    fig = plot_curves({"loss": [1.0, 0.5], "acc": [0.5, 0.9]})
    ax_loss, ax_acc = fig.axes
    assert len(ax_loss.get_lines()) == 1 and len(ax_acc.get_lines()) == 1
    assert [t.get_text() for t in ax_acc.get_legend().get_texts()] == [
        "training (mean over the epoch's batches)"
    ]

    fig = plot_curves({"loss": [1.0]}, baseline=0.5)
    assert "no accuracy recorded" in [t.get_text() for t in fig.axes[1].texts]
    assert "majority baseline (50.0%)" in [t.get_text() for t in fig.axes[1].get_legend().texts]


def test_curves_name_what_the_validation_data_is():
    fig = plot_curves(HISTORY, validation="test set")
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels[1] == "test set (after the epoch)"


def test_curves_leave_gaps_for_diverged_epochs():
    fig = plot_curves({"loss": [1.0, float("inf"), 0.5]})
    ydata = fig.axes[0].get_lines()[0].get_ydata()
    assert np.isnan(ydata[1]) and np.isfinite(fig.axes[0].get_ylim()).all()


def test_each_panel_of_the_curves_is_draw_curve():
    whole = plot_curves(HISTORY, baseline=0.8)
    fig = Figure()
    for expected, metric in zip(whole.axes, ("loss", "accuracy")):
        ax = fig.add_subplot()
        draw_curve(ax, HISTORY, metric, baseline=0.8)
        assert ax.get_title() == expected.get_title() == metric
        assert ax.get_xlim() == expected.get_xlim()
        for line, other in zip(ax.get_lines(), expected.get_lines(), strict=True):
            assert (line.get_label(), line.get_color()) == (other.get_label(), other.get_color())
            np.testing.assert_array_equal(line.get_ydata(), other.get_ydata())


def test_draw_curve_takes_a_title_and_refuses_an_unknown_metric():
    ax = Figure().add_subplot()
    draw_curve(ax, HISTORY, "accuracy", title="acc")
    assert ax.get_title() == "acc" and ax.get_ylabel() == "accuracy"
    with pytest.raises(ValueError, match="'loss' or 'accuracy'"):
        draw_curve(ax, HISTORY, "auc")


def test_curves_need_loss():
    with pytest.raises(ValueError, match="'loss'"):
        plot_curves({"accuracy": [0.5]})


# --------------------------------------------------------------------------- saving


def test_save_figure_replaces_file_and_leaves_no_temp_file(tmp_path):
    target = tmp_path / "out.png"
    target.write_bytes(b"old")
    assert save_figure(plot_curves(HISTORY), target) == target
    assert os.listdir(tmp_path) == ["out.png"]
    assert target.read_bytes().startswith(b"\x89PNG")

    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask


def test_save_figure_failure_keeps_old_file_and_cleans_up(tmp_path, monkeypatch):
    target = tmp_path / "out.png"
    target.write_bytes(b"old")
    fig = plot_curves(HISTORY)

    def half_written(f, **kwargs):
        f.write(b"\x89PNG half")
        raise RuntimeError("disk full")

    monkeypatch.setattr(fig, "savefig", half_written)
    with pytest.raises(RuntimeError, match="disk full"):
        save_figure(fig, target)
    assert os.listdir(tmp_path) == ["out.png"]
    assert target.read_bytes() == b"old"


def test_save_figure_missing_folder_fails_cleanly(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        save_figure(plot_curves(HISTORY), tmp_path / "missing" / "out.png")
    assert os.listdir(tmp_path) == []


def test_save_figure_rejects_bad_dpi(tmp_path):
    with pytest.raises(ValueError, match="dpi"):
        save_figure(plot_curves(HISTORY), tmp_path / "out.png", dpi=0)


@pytest.mark.subprocess
def test_pictures_never_import_pyplot():
    code = (
        "import sys, backprop_lab.pictures.learning, backprop_lab.pictures.compare, "
        "backprop_lab.pictures.experiment_plots; assert 'matplotlib.pyplot' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_save_figure_is_still_importable_from_plotting():
    from backprop_lab.pictures import plotting, style

    assert plotting.save_figure is style.save_figure
