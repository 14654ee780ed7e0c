"""The loss landscape: its centre is the trained model's loss, its random
directions are filter-normalised, its PCA plane holds the path, and the picture
is drawn."""

from __future__ import annotations

import matplotlib.image as mpimg
import numpy as np
import pytest
from matplotlib.figure import Figure

from backprop_lab.pictures.landscape import (
    Surface,
    draw_surface,
    filter_normalized_direction,
    loss_at,
    loss_surface,
    pca_directions,
    plot_landscape,
    plot_plane,
    project,
    surfaces,
)
from backprop_lab.pictures.style import save_figure
from backprop_lab.runs.runner import train_run
from backprop_lab.runs.settings import Settings


@pytest.fixture(scope="module")
def trained():
    """A short run of the article's network with L2, so the penalty is part of the loss."""
    settings = Settings(
        samples=600, epochs=6, lr=0.2, l2=0.001, seed=4, engine="numpy", hidden="6,4"
    ).validate()
    result = train_run(settings, landscape=True)
    model, data = result.model, result.data
    X = data.X_train.astype(model.dtype)
    Y = model.loss.prepare_targets(data.y_train, 1, model.dtype)
    trajectory = np.array(result.recording.trajectory)
    return model, data, X, Y, trajectory


def test_the_centre_of_both_planes_is_the_trained_models_loss(trained):
    model, data, X, Y, trajectory = trained
    loss, _ = model.evaluate(data.X_train, data.y_train, verbose=0)
    for surface in surfaces(model, X, Y, trajectory, resolution=7):
        assert surface.alphas[3] == 0.0 and surface.betas[3] == 0.0
        assert surface.centre == pytest.approx(loss, rel=1e-6)
        # The path ends where training ended: at the centre.
        np.testing.assert_allclose(surface.path[-1], [0.0, 0.0], atol=1e-6)


def test_loss_at_the_models_own_weights_is_its_loss_and_leaves_it_unchanged(trained):
    model, data, X, Y, _ = trained
    before = model.get_weights()
    theta = np.concatenate(model.params, axis=None)
    assert loss_at(model, X, Y, theta) == pytest.approx(model.evaluate(X, Y, verbose=0)[0])
    assert loss_at(model, X, Y, np.zeros_like(theta)) == pytest.approx(np.log(2), rel=1e-5)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_random_directions_are_normalised_filter_by_filter(trained):
    model = trained[0]
    d = filter_normalized_direction(model, np.random.default_rng(0))
    start = 0
    for layer in model.layers:
        D = d[start : start + layer.W.size].reshape(layer.W.shape)
        np.testing.assert_allclose(
            np.linalg.norm(D, axis=0), np.linalg.norm(layer.W, axis=0), rtol=1e-5
        )
        start += layer.W.size
        assert not d[start : start + layer.b.size].any()  # no bias direction
        start += layer.b.size
    assert start == d.size


def test_pca_plane_holds_a_path_that_lies_in_a_plane():
    rng = np.random.default_rng(1)
    basis, _ = np.linalg.qr(rng.standard_normal((20, 2)))
    coords = np.column_stack([np.linspace(-3, 0, 15), 0.5 * np.sin(np.linspace(0, 3, 15))])
    path = coords @ basis.T
    u1, u2, ratios = pca_directions(path)
    assert u1 @ u1 == pytest.approx(1) and u1 @ u2 == pytest.approx(0, abs=1e-12)
    assert sum(ratios) == pytest.approx(1.0)
    assert ratios[0] > ratios[1] > 0
    back = project(path, u1, u2) @ np.vstack([u1, u2])
    np.testing.assert_allclose(back, path, atol=1e-10)


def test_pca_of_a_single_step_path_still_gives_two_orthonormal_directions():
    path = np.zeros((2, 5))
    path[0, 1] = 1.0
    u1, u2, ratios = pca_directions(path)
    assert abs(u1[1]) == pytest.approx(1.0)
    assert u2 @ u2 == pytest.approx(1.0) and u1 @ u2 == pytest.approx(0.0, abs=1e-12)
    assert ratios == [1.0, 0.0]


def test_even_resolutions_are_refused(trained):
    model, _, X, Y, _ = trained
    d = np.ones(model.count_params())
    with pytest.raises(ValueError, match="odd"):
        loss_surface(model, X, Y, d, d, (1.0, 1.0), resolution=8)


def test_a_trajectory_of_the_wrong_model_is_refused(trained):
    model, _, X, Y, _ = trained
    with pytest.raises(ValueError, match="trajectory must have shape"):
        surfaces(model, X, Y, np.zeros((3, 5)))


def test_the_picture_has_both_planes_and_is_not_blank(trained, tmp_path):
    model, _, X, Y, trajectory = trained
    fig = plot_landscape(surfaces(model, X, Y, trajectory, resolution=9))
    titles = [ax.get_title() for ax in fig.axes]
    assert any(t.startswith("random directions") for t in titles)
    assert any(t.startswith("principal components") for t in titles)
    image = mpimg.imread(save_figure(fig, tmp_path / "landscape.png"))
    assert image.shape[:2] == (672, 1440)
    assert image[..., :3].var() > 0.005


def test_the_picture_says_which_training_points_and_that_the_log_differs(trained):
    model, _, X, Y, trajectory = trained
    surfs = surfaces(model, X, Y, trajectory, resolution=5)
    fig = plot_landscape(surfs, title="t", points="all 480 training points")
    heading = fig.get_suptitle()
    assert heading.startswith("t\n") and "on all 480 training points" in heading
    assert "logged loss is each epoch's mean over its batches" in heading
    assert all("training loss at the trained weights" in ax.get_title() for ax in fig.axes[:2])


def test_one_plane_in_any_axes_has_its_own_colour_bar_legend_and_points(trained):
    model, _, X, Y, trajectory = trained
    surfs = surfaces(model, X, Y, trajectory, resolution=5)
    whole = plot_landscape(surfs)
    fig = Figure()
    left, right = fig.subplots(1, 2)
    draw_surface(right, surfs[1], title="pca", points="all 480 training points")
    assert not left.collections and len(fig.axes) == 3  # the colour bar sits next to ``right``
    assert right.get_title() == (
        f"pca\nprincipal components of the path\n"
        f"loss on all 480 training points at the trained weights: {surfs[1].centre:.4g}"
    )
    expected = whole.axes[1]
    for line, other in zip(right.lines, expected.lines, strict=True):
        np.testing.assert_array_equal(line.get_xydata(), other.get_xydata())
    labels = [t.get_text() for t in right.get_legend().get_texts()]
    assert labels == ["path of the weights", "start", "end"]

    (plane, _colorbar) = plot_plane(surfs[0], path=False).axes
    assert [line.get_label() for line in plane.lines] == ["trained weights"]
    assert plane.get_title().startswith("random directions (filter-normalised)\ntraining loss")


def test_a_plane_where_the_loss_is_nowhere_finite_says_so():
    flat = np.zeros(3)
    surface = Surface(flat, flat, np.full((3, 3), np.nan), np.zeros((1, 2)), "a", "b", "t")
    ax = Figure().add_subplot()
    draw_surface(ax, surface)
    assert [t.get_text() for t in ax.texts] == ["the loss is not finite anywhere on this plane"]
    assert not ax.axison


def test_the_animation_ends_on_the_loss_the_landscape_shows_on_the_same_points():
    """learning.gif and landscape.png measure the loss on the same training points."""
    from backprop_lab.pictures import learning

    # 4,800 training points: more than either picture evaluates.
    settings = Settings(samples=6000, epochs=2, seed=3, engine="numpy").validate()
    result = train_run(settings, animate=True, landscape=True)
    rec, model = result.recording, result.model
    X, Y, points = learning._training_subset(result.data, model)
    assert points == "4,096 of the 4,800 training points"
    assert rec.loss_points == len(X) and rec.n_train == len(result.data.X_train)
    centre = loss_at(model, X, Y, np.concatenate(model.params, axis=None))
    assert rec.frame_loss[-1] == pytest.approx(centre, rel=1e-6)
