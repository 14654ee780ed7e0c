"""gradients.png and gradients.csv: one line per layer on a log axis, a table
that reads back as written, and clear errors."""

from __future__ import annotations

import matplotlib.image as mpimg
import numpy as np
import pytest

from backprop_lab.pictures.gradients import plot_gradients, read_gradients, write_gradients
from backprop_lab.pictures.style import save_figure


def test_one_line_per_layer_on_a_log_axis(tmp_path):
    epochs = np.arange(6)
    norms = np.column_stack([np.geomspace(1, 1e-4, 6), np.full(6, 0.5), [1, 2, 0, np.inf, 3, 4]])
    fig = plot_gradients(epochs, norms, layer_names=["a", "b", "c"])
    (ax,) = fig.axes
    assert ax.get_yscale() == "log"
    assert [line.get_label() for line in ax.lines] == ["a", "b", "c"]
    # Zero and infinity cannot sit on a log axis: they are gaps, not errors.
    assert np.isnan(ax.lines[2].get_ydata()[[2, 3]]).all()
    image = mpimg.imread(save_figure(fig, tmp_path / "gradients.png"))
    assert image.shape[:2] == (540, 900)
    assert image[..., :3].var() > 0.005


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
