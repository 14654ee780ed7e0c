"""gradients.png and gradients.csv: one line per layer on a log axis, a table
that reads back as written, and clear errors."""

from __future__ import annotations

import matplotlib.image as mpimg
import numpy as np
import pytest
from matplotlib.figure import Figure

from backprop_lab.pictures.gradients import draw_gradients, plot_gradients
from backprop_lab.pictures.style import save_figure
from backprop_lab.runs.folders import read_gradients, write_gradients


def axes_by_label(fig):
    return {ax.get_label(): ax for ax in fig.axes}


def visible_tick_labels(ax):
    """The y tick labels matplotlib draws inside the axis's view, after a draw."""
    ax.figure.canvas.draw()
    lo, hi = sorted(ax.get_ylim())
    return [t.get_text() for t in ax.get_yticklabels() if lo <= t.get_position()[1] <= hi]


def test_one_line_per_layer_on_a_log_axis(tmp_path):
    epochs = np.arange(6)
    norms = np.column_stack([np.geomspace(1, 1e-4, 6), np.full(6, 0.5), [1, 2, 0, np.inf, 3, 4]])
    fig = plot_gradients(epochs, norms, layer_names=["a", "b", "c"])
    axes = axes_by_label(fig)
    assert set(axes) == {"norms", "zero", "not finite"}
    ax = axes["norms"]
    assert ax.get_yscale() == "log"
    assert [line.get_label() for line in ax.lines] == ["a", "b", "c"]
    # Zero and infinity cannot sit on a log axis: they are gaps there, marked in their strips.
    assert np.isnan(ax.lines[2].get_ydata()[[2, 3]]).all()
    assert [list(line.get_xdata()) for line in axes["zero"].lines] == [[], [], [2]]
    assert [list(line.get_xdata()) for line in axes["not finite"].lines] == [[], [], [3]]
    image = mpimg.imread(save_figure(fig, tmp_path / "gradients.png"))
    assert image.shape[:2] == (540, 900)
    assert image[..., :3].var() > 0.005


def test_zero_gradients_are_shown_and_labelled_not_dropped():
    # What `train --lr 100 --seed 1` records: two norms before training, then exact zeros.
    norms = np.vstack([[0.13317, 0.15464], np.zeros((50, 2))])
    fig = plot_gradients(np.arange(51), norms)
    zero = axes_by_label(fig)["zero"]
    assert [t.get_text() for t in zero.get_yticklabels()] == ["exactly 0"]
    for line in zero.lines:
        np.testing.assert_array_equal(line.get_xdata(), np.arange(1, 51))
    assert zero.get_xlabel() == "epoch (0 = before training)"  # the bottom axis carries it
    assert "log scale" in axes_by_label(fig)["norms"].get_ylabel()


@pytest.mark.parametrize(
    "column",
    [
        [0.13317, 0.15464],  # one epoch's values, a few per cent apart (lr 100)
        np.linspace(0.155, 0.031, 51),  # less than a decade (the article's settings)
        np.geomspace(0.2, 0.006, 51),  # one to two decades (lr 0.1)
        np.geomspace(1, 1e-6, 51),  # many decades
    ],
    ids=["narrow", "within-a-decade", "two-decades", "many-decades"],
)
def test_tick_labels_are_never_repeated(column):
    column = np.asarray(column)
    norms = np.column_stack([column, column * 1.1])
    (ax,) = [
        a for a in plot_gradients(np.arange(len(column)), norms).axes if a.get_yscale() == "log"
    ]
    labels = visible_tick_labels(ax)
    assert len(labels) >= 2 and all(labels), labels
    assert len(set(labels)) == len(labels), labels


def test_a_run_without_zeros_has_no_strips():
    fig = plot_gradients(np.arange(4), np.array([[1.0, 2.0], [0.5, 1.0], [0.2, 0.4], [0.1, 0.3]]))
    assert set(axes_by_label(fig)) == {"norms"}


def test_draw_gradients_draws_the_log_axis_of_the_picture_into_any_axes():
    epochs, norms = (
        np.arange(5),
        np.array([[1.0, 2.0], [0.5, 1.0], [0.2, 0.4], [0.1, 0.3], [0, 0.2]]),
    )
    fig = plot_gradients(epochs, norms, layer_names=["a", "b"], title="g")
    expected = axes_by_label(fig)["norms"]
    ax = Figure().add_subplot()
    draw_gradients(ax, epochs, norms, layer_names=["a", "b"], title="g")
    assert ax.get_yscale() == "log" and ax.get_ylabel() == expected.get_ylabel()
    for line, other in zip(ax.lines, expected.lines, strict=True):
        style = (line.get_label(), line.get_color(), line.get_marker(), line.get_linestyle())
        assert style == (
            other.get_label(),
            other.get_color(),
            other.get_marker(),
            other.get_linestyle(),
        )
        np.testing.assert_array_equal(line.get_ydata(), other.get_ydata())
    assert np.isnan(ax.lines[0].get_ydata()[4])  # a zero is a gap; only the picture has strips
    assert ax.get_title() == "g" and ax.get_xlabel() == "epoch (0 = before training)"
    # In the picture the strip of zeros carries the epochs, the norms axis the title.
    assert expected.get_title() == "g" and expected.get_xlabel() == ""
    assert axes_by_label(fig)["zero"].get_xlabel() == "epoch (0 = before training)"


def test_the_title_goes_over_the_strip_of_infinities():
    fig = plot_gradients(np.arange(3), np.array([[1.0], [np.inf], [0.5]]))
    axes = axes_by_label(fig)
    assert axes["not finite"].get_title().startswith("Gradient norm per layer")
    assert axes["norms"].get_title() == ""


def test_csv_reads_back_exactly(tmp_path):
    epochs = [0, 1, 2]
    norms = np.array([[0.1, 1e-9], [0.2, 1 / 3], [np.nan, 5.0]])
    write_gradients(tmp_path / "gradients.csv", epochs, norms)
    assert (tmp_path / "gradients.csv").read_text().splitlines()[0] == "epoch,layer_1,layer_2"
    e, n = read_gradients(tmp_path / "gradients.csv")
    np.testing.assert_array_equal(e, epochs)
    np.testing.assert_array_equal(n, norms)  # repr keeps every bit, NaN included


def test_missing_or_mismatched_data_is_one_clear_error(tmp_path):
    with pytest.raises(ValueError, match="has no gradients.csv"):
        read_gradients(tmp_path / "gradients.csv")
    with pytest.raises(ValueError, match="one row of layer norms per epoch"):
        plot_gradients([0, 1], np.ones((3, 2)))
