"""Pictures of experiments say what they show: which trainings ``boundaries.png``
holds, where the majority baseline lies on ``sweep.png``, and how many seeds
each mean is over."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.patches import Rectangle

from backprop_lab.engine.metrics import grid_points
from backprop_lab.pictures import experiment_plots as xp


def disc_map(radius, resolution=20):
    G = grid_points((-1, 1, -1, 1), resolution)
    inside = np.hypot(G[:, 0], G[:, 1]) < radius
    return np.where(inside, 0.9, 0.1).reshape(resolution, resolution)


@pytest.fixture
def scale_folder(tmp_path):
    """Rows of a scaling experiment and the maps it kept: the first seed, fixed epochs."""
    rows, grids = [], tmp_path / "grids"
    grids.mkdir()
    for i, size in enumerate([50, 500]):
        for seed in range(2):
            for protocol in ("fixed-epochs", "fixed-steps"):
                index = len(rows)
                rows.append(
                    dict(
                        index=index,
                        protocol=protocol,
                        size=size,
                        seed=seed,
                        status="ok",
                        test_accuracy=0.8 + 0.1 * i,
                    )
                )
                if seed == 0 and protocol == "fixed-epochs":
                    np.save(grids / f"{index}.npy", disc_map(0.3 + 0.2 * i))
    return rows, grids


def test_scale_boundaries_say_which_training_of_each_size_they_show(scale_folder):
    rows, grids = scale_folder
    fig = xp.plot_scale_boundaries(rows, grids, seeds=2, test_samples=100_000)
    caption = fig.get_suptitle()
    assert "the first of 2 seeds" in caption
    assert xp.PROTOCOL_LABELS["fixed-epochs"] in caption
    assert xp.PROTOCOL_LABELS["fixed-steps"] not in caption
    assert "shared test set of 100,000 points" in caption
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == ["50 points\ntest accuracy 80.0%", "500 points\ntest accuracy 90.0%"]


def test_scale_boundaries_are_none_without_maps(scale_folder, tmp_path):
    rows, _ = scale_folder
    assert xp.plot_scale_boundaries(rows, tmp_path / "nothing") is None


def test_boundaries_name_no_circle_they_do_not_draw_and_no_boundary_that_is_not_there():
    fig = xp.plot_boundaries([("a", disc_map(0.5)), ("b", np.full((20, 20), 0.2))], radius=None)
    assert "circle" not in fig.get_suptitle()
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == ["a", "b\nno learned boundary in view"]
    fig = xp.plot_boundaries([("a", disc_map(0.5))])
    assert "against the true circle (dashed)" in fig.get_suptitle()


def sweep_summary():
    rows = []
    for lr, base in ((0.01, 0.78), (0.1, 0.95)):
        for hidden in ("2", "8"):
            rows.append(
                dict(
                    lr=lr,
                    hidden=hidden,
                    runs=3,
                    diverged=int(lr == 0.1 and hidden == "2"),
                    mean=base + (0.01 if hidden == "8" else 0.0),
                    std=0.01,
                )
            )
    return rows


def test_a_two_setting_sweep_marks_the_baseline_and_hatches_what_does_not_beat_it():
    fig = xp.plot_sweep(sweep_summary(), ["lr", "hidden"], baseline=0.785)
    ax, cbar = fig.axes
    hatched = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_hatch()]
    assert [p.get_xy() for p in hatched] == [(-0.5, -0.5)]  # only lr 0.01, hidden 2: 78.0%
    assert cbar.get_ylim()[0] <= 0.785  # the baseline is on the colour scale
    assert any(list(line.get_ydata()) == [0.785, 0.785] for line in cbar.get_lines())
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == ["not above the majority baseline (78.5%, dashed on the colour bar)"]
    assert "mean of 3 seeds per point; 1 diverged training left out" in ax.get_title()


def test_a_one_setting_sweep_and_the_scaling_say_how_many_seeds():
    one = [r for r in sweep_summary() if r["hidden"] == "8"]
    fig = xp.plot_sweep(one, ["lr"], baseline=0.785)
    assert fig.axes[0].get_title().endswith("\nmean of 3 seeds per point")
    assert "majority (78.5%)" in [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    summary = [
        dict(protocol="fixed-epochs", size=s, runs=5, diverged=0, mean=0.9, std=0.01)
        for s in (50, 500)
    ]
    assert xp.plot_scaling(summary).axes[0].get_title().endswith("\nmean of 5 seeds per point")


def test_boundaries_of_k_classes_show_regions_and_of_a_surface_its_values():
    k = 3
    P = np.random.default_rng(0).dirichlet(np.ones(k), size=(20, 20))
    fig = xp.plot_boundaries([("a", P), ("b", P)], radius=None)
    assert fig.get_suptitle().startswith("Learned regions")
    assert any(ax.get_ylabel() == "predicted class" for ax in fig.axes)
    fig = xp.plot_boundaries([("a", disc_map(0.5) - 3)], radius=None, task="regression")
    assert fig.get_suptitle() == "Learned surface"
    assert any(ax.get_ylabel() == "predicted value" for ax in fig.axes)


def test_scale_pictures_of_a_regression_say_r2(scale_folder):
    rows, grids = scale_folder
    for row in rows:
        row["r2"] = row.pop("test_accuracy") - 0.5
    fig = xp.plot_scale_boundaries(rows, grids, test_samples=1000, task="regression")
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == ["50 points\ntest R² 0.300", "500 points\ntest R² 0.400"]
    summary = [dict(protocol="fixed-epochs", size=50, mean=0.3, std=0.1, runs=1)]
    fig = xp.plot_scaling(summary, baseline=0.0, best=0.98, task="regression")
    assert fig.axes[0].get_ylabel().startswith("test R²")
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "predicting the mean (0.000)" in legend and "best possible (0.980)" in legend
    fig = xp.plot_sweep(sweep_summary(), ["lr", "hidden"], baseline=0.0, task="regression")
    assert fig.axes[0].get_title().startswith("Mean test R² over lr × hidden")
    with pytest.raises(ValueError, match="task must be classification or regression"):
        xp.plot_scaling(summary, task="ranking")
