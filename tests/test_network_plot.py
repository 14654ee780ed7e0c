"""network.png: one heatmap per neuron, weights as lines, and the choice of
neurons when a layer is too wide to draw whole."""

from __future__ import annotations

import matplotlib.image as mpimg
import numpy as np
import pytest
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from backprop_lab import Dense, Sequential
from backprop_lab.engine.metrics import grid_points
from backprop_lab.pictures.network import (
    draw_network,
    layer_activations,
    plot_network,
    shown_neurons,
)
from backprop_lab.pictures.style import save_figure


def built(widths, activation="relu", n_features=2, output=1):
    layers = [Dense(w, activation) for w in widths]
    layers.append(Dense(output, "sigmoid" if output == 1 else "softmax"))
    m = Sequential(layers, seed=0)
    m.build(n_features)
    return m


def texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def test_activations_are_each_layers_output_and_the_last_is_the_prediction():
    m = built([4, 3])
    G = grid_points(resolution=5)
    acts = layer_activations(m, G)
    assert [a.shape for a in acts] == [(25, 2), (25, 4), (25, 3), (25, 1)]
    np.testing.assert_allclose(acts[-1], m.predict(G, verbose=0), rtol=1e-6)
    assert np.all(acts[1] >= 0)  # relu


def test_shown_neurons_are_the_most_important_in_their_order():
    rng = np.random.default_rng(0)
    acts = rng.standard_normal((100, 6)) * np.array([1, 5, 1, 1, 3, 1])  # large std: 1 and 4
    W_next = np.ones((6, 2))
    W_next[3] = 100.0  # small std but a huge outgoing weight
    assert shown_neurons(acts, W_next, 3).tolist() == [1, 3, 4]
    assert shown_neurons(acts, None, 2).tolist() == [1, 4]
    assert shown_neurons(acts, W_next, 6).tolist() == list(range(6))


def test_one_heatmap_per_neuron_and_one_line_per_weight(tmp_path):
    m = built([8])
    fig = plot_network(m, resolution=10)
    (ax, *_) = fig.axes
    assert len(ax.images) == 2 + 8 + 1
    (lines,) = [c for c in ax.collections if isinstance(c, LineCollection) and c.get_zorder() == 1]
    assert len(lines.get_segments()) == 2 * 8 + 8 * 1
    # Thickness proportional to |w|: the largest weight gets the widest line.
    widths = np.sort(lines.get_linewidths())
    weights = np.sort(np.abs(np.concatenate([m.layers[0].W.ravel(), m.layers[1].W.ravel()])))
    np.testing.assert_allclose(widths / widths[-1], weights / weights[-1], rtol=1e-6)
    path = save_figure(fig, tmp_path / "network.png")
    image = mpimg.imread(path)
    assert image[..., :3].var() > 0.005
    assert np.all(image[0, 0, :3] == 1.0)  # white background


def test_deep_and_wide_networks_show_sixteen_neurons_and_say_so(tmp_path):
    m = built([40, 16, 8, 6, 4, 3], activation="tanh")
    fig = plot_network(m, resolution=8)
    assert "hidden 1\n16 of 40 tanh shown" in texts(fig)
    assert "hidden 2\n16 tanh" in texts(fig)
    assert len(fig.axes[0].images) == 2 + 16 + 16 + 8 + 6 + 4 + 3 + 1
    save_figure(fig, tmp_path / "network.png")


def test_draw_network_pastes_the_whole_diagram_as_an_image():
    m = built([3])
    picture = plot_network(m, resolution=8)
    ax = Figure().add_subplot()
    draw_network(ax, m, resolution=8, dpi=50)
    (image,) = ax.images
    width, height = picture.get_size_inches() * 50
    assert image.get_array().shape == (int(height), int(width), 4)
    assert not ax.axison


def test_three_classes_draw_three_output_maps():
    fig = plot_network(built([5], output=3), resolution=8)
    assert len(fig.axes[0].images) == 2 + 5 + 3
    assert "output\n3 softmax" in texts(fig)


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (built([4], n_features=3), "needs 2 input features.*takes 3"),
        (built([2] * 7), "up to 6 hidden layers.*has 7"),
        (Sequential([Dense(2)]), "not built"),
    ],
)
def test_what_cannot_be_drawn_is_one_clear_error(model, message):
    with pytest.raises(ValueError, match=message):
        plot_network(model)


def test_a_run_on_three_features_says_why_boundary_and_network_are_absent(tmp_path):
    """A CSV of 3 feature columns trains; the pictures it cannot have are named with a reason."""
    from backprop_lab.data.csvio import save_csv
    from backprop_lab.pictures.learning import absent_pictures, draw_run
    from backprop_lab.runs.folders import write_run
    from backprop_lab.runs.runner import train_run
    from backprop_lab.runs.settings import Settings

    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (120, 3))
    save_csv(tmp_path / "three.csv", X, (X.sum(axis=1) > 0).astype(int))
    settings = Settings(dataset=f"csv:{tmp_path / 'three.csv'}", epochs=2, seed=0, engine="numpy")
    result = train_run(settings.validate())
    folder = tmp_path / "run"
    folder.mkdir()
    write_run(folder, result)
    names = draw_run(folder, result)
    absent = absent_pictures(result)
    assert [line.split(" not drawn: ")[0] for line in absent] == ["boundary.png", "network.png"]
    assert all("3 input features" in line and "\n" not in line for line in absent)
    assert not {"boundary.png", "network.png"} & set(names)
    assert {"curves.png", "gradients.png"} <= set(names)


@pytest.mark.parametrize(("hidden", "expected"), [("4", []), ("2,2,2,2,2,2,2", ["network.png"])])
def test_absent_pictures_list_exactly_what_draw_run_leaves_out(tmp_path, hidden, expected):
    from backprop_lab.pictures.learning import absent_pictures, draw_run
    from backprop_lab.runs.folders import write_run
    from backprop_lab.runs.runner import train_run
    from backprop_lab.runs.settings import Settings

    settings = Settings(samples=100, epochs=1, seed=0, engine="numpy", hidden=hidden)
    result = train_run(settings.validate())
    write_run(tmp_path, result)
    names = draw_run(tmp_path, result)
    absent = absent_pictures(result)
    assert [line.split(" not drawn: ")[0] for line in absent] == expected
    assert not set(expected) & set(names)
    if expected:
        assert "7 hidden layers" in absent[0] and "up to 6" in absent[0]
