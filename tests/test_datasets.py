import math

import numpy as np
import pytest

from backprop_lab.data.datasets import (
    CLASSIFICATION,
    DATASETS,
    MAX_CLASSES,
    REGRESSION,
    TRUE_LABELS,
    circle_true_label,
    make_blobs,
    make_circle,
    make_gaussians,
    make_moons,
    make_rings,
    make_spiral,
    make_xor,
    rings_true_label,
    train_test_split,
    true_labels,
    xor_true_label,
)

ALL = sorted(CLASSIFICATION)  # the regression surfaces are tested at the end
BALANCED = ["gaussians", "moons", "spiral", "xor"]


# --------------------------------------------------------------------------- every dataset


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("n", [1, 2, 7, 1000])
def test_shapes_dtypes_and_binary_labels(name, n):
    X, y = DATASETS[name](n, random_state=0)
    assert X.shape == (n, 2) and X.dtype == np.float64
    assert y.shape == (n,) and y.dtype == np.int64
    assert set(np.unique(y)) <= {0, 1}
    assert np.isfinite(X).all()


@pytest.mark.parametrize("name", ALL)
def test_same_seed_same_data_different_seed_different_data(name):
    make = DATASETS[name]
    X1, y1 = make(500, noise=0.1, label_noise=0.1, random_state=5)
    X2, y2 = make(500, noise=0.1, label_noise=0.1, random_state=5)
    X3, y3 = make(500, noise=0.1, label_noise=0.1, random_state=6)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)
    assert not np.array_equal(y1, y3)


@pytest.mark.parametrize("name", ALL)
def test_a_shared_generator_gives_fresh_data_on_each_call(name):
    rng = np.random.default_rng(0)
    X1, _ = DATASETS[name](100, random_state=rng)
    X2, _ = DATASETS[name](100, random_state=rng)
    assert not np.array_equal(X1, X2)


@pytest.mark.parametrize("name", ALL)
def test_noise_is_gaussian_jitter_with_the_requested_std_and_leaves_labels_alone(name):
    n, std = 100_000, 0.1
    X_clean, y_clean = DATASETS[name](n, random_state=1)
    X_noisy, y_noisy = DATASETS[name](n, noise=std, random_state=1)
    np.testing.assert_array_equal(y_noisy, y_clean)
    jitter = (X_noisy - X_clean).ravel()
    # Standard errors: mean std/sqrt(2n) ~ 2e-4, std std/sqrt(4n) ~ 1.6e-4.
    assert abs(jitter.mean()) < 1e-3
    assert jitter.std() == pytest.approx(std, rel=0.01)


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("rate", [0.05, 0.3])
def test_label_noise_flips_exactly_that_fraction_spread_over_both_classes(name, rate):
    n = 100_000
    X_clean, y_clean = DATASETS[name](n, random_state=2)
    X_flip, y_flip = DATASETS[name](n, label_noise=rate, random_state=2)
    np.testing.assert_array_equal(X_flip, X_clean)
    flipped = y_flip != y_clean
    assert flipped.sum() == round(rate * n)
    for label in (0, 1):
        assert flipped[y_clean == label].mean() == pytest.approx(rate, abs=0.02)
    for half in (flipped[: n // 2], flipped[n // 2 :]):
        assert half.mean() == pytest.approx(rate, abs=0.02)


@pytest.mark.parametrize("name", ALL)
def test_labels_do_not_depend_on_noise_even_with_label_noise(name):
    _, y_a = DATASETS[name](2000, label_noise=0.2, random_state=4)
    _, y_b = DATASETS[name](2000, noise=0.3, label_noise=0.2, random_state=4)
    np.testing.assert_array_equal(y_a, y_b)


@pytest.mark.parametrize("name", BALANCED)
@pytest.mark.parametrize("n", [1, 2, 999, 1000])
def test_balanced_datasets_have_exactly_half_ones(name, n):
    _, y = DATASETS[name](n, random_state=0)
    assert y.sum() == n // 2


@pytest.mark.parametrize("name", BALANCED)
def test_balanced_datasets_shuffle_the_classes(name):
    _, y = DATASETS[name](1000, random_state=0)
    assert 0 < y[:500].sum() < 500


# --------------------------------------------------------------------------- circle


@pytest.mark.parametrize("radius", [0.3, 0.5, 0.9])
def test_circle_labels_follow_the_circle_equation(radius):
    X, y = make_circle(200_000, radius=radius, random_state=0)
    assert X.min() >= -1 and X.max() < 1
    np.testing.assert_array_equal(y, X[:, 0] ** 2 + X[:, 1] ** 2 <= radius**2)
    p = math.pi * radius**2 / 4
    standard_error = math.sqrt(p * (1 - p) / len(y))
    assert abs(y.mean() - p) < 5 * standard_error


def test_points_exactly_on_the_circle_are_inside():
    # 3-4-5 triangles scaled by 1/8 are exact in binary floating point.
    on = np.array([[0.375, 0.5], [-0.5, 0.375], [0.625, 0.0], [0.0, -0.625], [-0.375, -0.5]])
    assert np.all(on[:, 0] ** 2 + on[:, 1] ** 2 == 0.625**2)
    np.testing.assert_array_equal(circle_true_label(on, radius=0.625), np.ones(5))
    just_out = np.array([[np.nextafter(0.625, 1.0), 0.0], [0.0, np.nextafter(-0.625, -1.0)]])
    np.testing.assert_array_equal(circle_true_label(just_out, radius=0.625), [0, 0])
    axis = np.array([[0.5, 0.0], [0.0, 0.5], [-0.5, 0.0], [np.nextafter(0.5, 1.0), 0.0]])
    np.testing.assert_array_equal(circle_true_label(axis), [1, 1, 1, 0])


def test_circle_jitter_can_push_points_across_the_boundary_without_relabelling():
    X, y = make_circle(20_000, noise=0.1, random_state=0)
    assert np.any(circle_true_label(X) != y)


# --------------------------------------------------------------------------- xor


def test_xor_labels_are_one_exactly_in_the_mixed_sign_quadrants():
    X, y = make_xor(40_000, random_state=0)
    assert np.all(X != 0) and np.abs(X).max() <= 1
    np.testing.assert_array_equal(y, X[:, 0] * X[:, 1] < 0)
    np.testing.assert_array_equal(y, xor_true_label(X))
    quadrant_counts = np.unique(np.sign(X), axis=0, return_counts=True)[1]
    assert len(quadrant_counts) == 4
    np.testing.assert_allclose(quadrant_counts / len(X), 0.25, atol=0.01)


def test_xor_points_on_an_axis_are_class_zero():
    X = np.array([[0.0, 0.5], [0.5, 0.0], [0.0, -0.5], [-0.0, 0.0], [-1e-300, 1e-300]])
    np.testing.assert_array_equal(xor_true_label(X), [0, 0, 0, 0, 1])


# --------------------------------------------------------------------------- rings


def test_ring_labels_are_the_parity_of_the_circles_a_point_is_outside_of():
    rng = np.random.default_rng(0)
    boundary = np.array([[0.25, 0.0], [0.0, -0.5], [-0.75, 0.0], [1.0, 0.0], [0.6, 0.8]])
    X = np.vstack([rng.uniform(-1.5, 1.5, (5000, 2)), boundary])
    # Circles up to radius 11/4, beyond the farthest point (1.5 * sqrt(2)).
    outside = sum(1 - circle_true_label(X, radius=j / 4) for j in range(1, 12))
    np.testing.assert_array_equal(rings_true_label(X, n_rings=4), outside % 2)


def test_ring_boundaries_belong_to_the_inner_ring():
    X = np.array([[0, 0], [0.25, 0], [0.3, 0], [0, 0.5], [0.75, 0], [1, 0], [1, 1.0]])
    # rings:       0       0          1         1         2         3       5
    np.testing.assert_array_equal(rings_true_label(X, n_rings=4), [0, 0, 1, 1, 0, 1, 1])


@pytest.mark.parametrize("n_rings", [1, 3, 4])
def test_rings_cover_the_square_in_shares_of_their_area(n_rings):
    X, y = make_rings(200_000, n_rings=n_rings, random_state=0)
    np.testing.assert_array_equal(y, rings_true_label(X, n_rings=n_rings))
    ring = np.ceil(np.hypot(X[:, 0], X[:, 1]) * n_rings) - 1
    for k in range(n_rings):  # rings inside the unit disc lie wholly in the square
        share = math.pi * (2 * k + 1) / n_rings**2 / 4
        assert (ring == k).mean() == pytest.approx(share, abs=0.005)
        assert np.all(y[ring == k] == k % 2)


# --------------------------------------------------------------------------- other geometry


def test_moons_lie_on_two_half_circles_inside_the_square():
    X, y = make_moons(10_000, random_state=0)
    upper, lower = X[y == 0], X[y == 1]
    center0, center1 = np.array([-1 / 3, -1 / 6]), np.array([1 / 3, 1 / 6])
    np.testing.assert_allclose(np.linalg.norm(upper - center0, axis=1), 2 / 3)
    np.testing.assert_allclose(np.linalg.norm(lower - center1, axis=1), 2 / 3)
    assert np.all(upper[:, 1] >= center0[1] - 1e-12)
    assert np.all(lower[:, 1] <= center1[1] + 1e-12)
    assert X[:, 0].min() >= -1 - 1e-12 and X[:, 0].max() <= 1 + 1e-12
    assert np.abs(X[:, 1]).max() <= 0.5 + 1e-12


def test_spiral_points_sit_on_their_arm():
    turns = 2.0
    X, y = make_spiral(5000, turns=turns, random_state=0)
    r = np.hypot(X[:, 0], X[:, 1])
    assert r.max() < 1
    t = 2 * np.pi * turns * r
    sign = np.where(y == 1, -1.0, 1.0)[:, None]
    np.testing.assert_allclose(X, sign * r[:, None] * np.column_stack([np.cos(t), np.sin(t)]))


def test_gaussians_have_the_requested_centres_and_spread():
    X, y = make_gaussians(100_000, center_distance=2.0, std=0.3, random_state=0)
    mean0, mean1 = X[y == 0].mean(axis=0), X[y == 1].mean(axis=0)
    c = 1 / math.sqrt(2)
    np.testing.assert_allclose(mean0, [-c, -c], atol=0.01)
    np.testing.assert_allclose(mean1, [c, c], atol=0.01)
    np.testing.assert_allclose(X[y == 1].std(axis=0), 0.3, rtol=0.02)


# --------------------------------------------------------------------------- true labels


@pytest.mark.parametrize(
    ("name", "params"), [("circle", {"radius": 0.7}), ("rings", {"n_rings": 3}), ("xor", {})]
)
def test_true_labels_reproduce_clean_labels_from_the_makers_own_params(name, params):
    X, y = DATASETS[name](3000, random_state=0, **params)
    all_params = {"n_samples": 3000, "noise": 0.2, "label_noise": 0.1, "random_state": 0, **params}
    np.testing.assert_array_equal(true_labels(name, X, **all_params), y)
    np.testing.assert_array_equal(true_labels(name.upper(), X, **params), y)
    np.testing.assert_array_equal(TRUE_LABELS[name](X, **params), y)


def test_true_labels_are_defined_only_for_known_datasets():
    assert set(TRUE_LABELS) == {"circle", "rings", "xor", *REGRESSION}
    assert set(TRUE_LABELS) <= set(DATASETS)


@pytest.mark.parametrize("name", ["moons", "spiral", "gaussians"])
def test_true_labels_refuse_datasets_without_an_exact_boundary(name):
    with pytest.raises(ValueError, match=f"dataset '{name}' has no exact noise-free labels; only"):
        true_labels(name, np.zeros((3, 2)))


def test_true_labels_reject_unknown_names_and_bad_points():
    with pytest.raises(
        ValueError, match="unknown dataset 'square'; valid names: blobs, bump, circle, "
    ):
        true_labels("square", np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"X must have shape \(n_samples, 2\), got \(3,\)"):
        true_labels("circle", np.zeros(3))
    with pytest.raises(ValueError, match=r"X must have shape \(n_samples, 2\), got \(2, 3\)"):
        xor_true_label(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="X must contain only finite values"):
        rings_true_label([[0.0, np.nan]])
    with pytest.raises(TypeError, match="unexpected keyword argument 'turns'"):
        true_labels("circle", np.zeros((3, 2)), turns=2)


# --------------------------------------------------------------------------- validation


def _maker_calls():
    for name in ALL:
        yield name, {"n_samples": 0}, ValueError, "n_samples must be a positive integer", "0"
        yield name, {"n_samples": -5}, ValueError, "n_samples must be a positive integer", "-5"
        yield name, {"n_samples": 2.5}, TypeError, "n_samples must be a positive integer", "2.5"
        yield name, {"n_samples": True}, TypeError, "n_samples must be a positive integer", "True"
        yield name, {"noise": -0.1}, ValueError, "noise must be a non-negative finite", "-0.1"
        yield name, {"noise": math.inf}, ValueError, "noise must be a non-negative finite", "inf"
        yield name, {"noise": "0.1"}, TypeError, "noise must be a non-negative finite", "'0.1'"
        yield name, {"label_noise": 1.0}, ValueError, "label_noise must be in [0.0, 1.0)", "1.0"
        yield name, {"label_noise": -0.2}, ValueError, "label_noise must be in [0.0, 1.0)", "-0.2"
        yield name, {"random_state": "x"}, TypeError, "random_state must be None, a non-neg", "'x'"
    yield "circle", {"radius": 0}, ValueError, "radius must be a positive finite number", "0"
    yield "circle", {"radius": math.nan}, ValueError, "radius must be a positive finite", "nan"
    yield "rings", {"n_rings": 0}, ValueError, "n_rings must be a positive integer", "0"
    yield "rings", {"n_rings": 2.0}, TypeError, "n_rings must be a positive integer", "2.0"
    yield "spiral", {"turns": -1}, ValueError, "turns must be a positive finite number", "-1"
    yield "gaussians", {"std": -1}, ValueError, "std must be a non-negative finite", "-1"
    yield "gaussians", {"center_distance": math.nan}, ValueError, "center_distance must", "nan"


@pytest.mark.parametrize(("name", "kwargs", "error", "message", "got"), list(_maker_calls()))
def test_makers_reject_bad_arguments_with_a_one_line_message(name, kwargs, error, message, got):
    with pytest.raises(error) as info:
        DATASETS[name](**kwargs)
    text = str(info.value)
    assert message in text and f"got {got}" in text
    assert "\n" not in text


def test_makers_take_options_by_keyword_only():
    with pytest.raises(TypeError):
        make_circle(10, 0.5)


# --------------------------------------------------------------------------- splitting


@pytest.mark.parametrize(
    ("n", "test_size", "n_test"), [(10, 0.2, 2), (10, 0.25, 3), (5, 0.01, 1), (2, 0.5, 1)]
)
def test_split_sizes_follow_ceil_of_test_size(n, test_size, n_test):
    X, y = np.zeros((n, 2)), np.zeros(n)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=test_size, random_state=0)
    assert len(X_test) == len(y_test) == n_test
    assert len(X_train) == len(y_train) == n - n_test


def test_split_is_a_partition_that_keeps_rows_paired():
    ids = np.arange(1000)
    X = np.column_stack([ids, -ids]).astype(float)
    X_train, X_test, y_train, y_test = train_test_split(X, ids, random_state=0)
    np.testing.assert_array_equal(X_train[:, 0], y_train)
    np.testing.assert_array_equal(X_test[:, 0], y_test)
    assert np.intersect1d(y_train, y_test).size == 0
    np.testing.assert_array_equal(np.sort(np.concatenate([y_train, y_test])), ids)
    assert not np.array_equal(y_test, ids[800:])  # shuffled


def test_split_is_deterministic_per_seed():
    X, y = make_circle(200, random_state=0)
    a = train_test_split(X, y, random_state=1)
    b = train_test_split(X, y, random_state=1)
    c = train_test_split(X, y, random_state=2)
    for left, right in zip(a, b, strict=True):
        np.testing.assert_array_equal(left, right)
    assert not np.array_equal(a[1], c[1])


def test_split_without_shuffle_puts_the_last_samples_in_the_test_part():
    X, y = np.arange(20).reshape(10, 2), np.arange(10)[:, None]
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, shuffle=False)
    np.testing.assert_array_equal(y_train[:, 0], np.arange(7))
    np.testing.assert_array_equal(y_test[:, 0], [7, 8, 9])
    np.testing.assert_array_equal(X_test, X[7:])


@pytest.mark.parametrize("test_size", [0, 1, 1.5, -0.1, math.nan])
def test_split_rejects_test_size_outside_the_open_unit_interval(test_size):
    with pytest.raises(ValueError, match=r"test_size must be in \(0.0, 1.0\), got") as info:
        train_test_split(np.zeros((10, 2)), np.zeros(10), test_size=test_size)
    assert repr(test_size) in str(info.value)


def test_split_rejects_test_size_of_the_wrong_type():
    with pytest.raises(TypeError, match="test_size must be a number, got '0.2'"):
        train_test_split(np.zeros((10, 2)), np.zeros(10), test_size="0.2")


@pytest.mark.parametrize(("n", "test_size"), [(1, 0.5), (10, 0.95)])
def test_split_needs_a_sample_on_each_side(n, test_size):
    with pytest.raises(ValueError, match=f"test_size={test_size} with {n} samples gives 0 train"):
        train_test_split(np.zeros((n, 2)), np.zeros(n), test_size=test_size)


def test_split_rejects_mismatched_lengths():
    with pytest.raises(
        ValueError, match="X and y must have the same number of samples, got 5 and 4"
    ):
        train_test_split(np.zeros((5, 2)), np.zeros(4))


# --------------------------------------------------------------------------- k classes


@pytest.mark.parametrize("name", ["spiral", "gaussians", "blobs"])
@pytest.mark.parametrize("k", [2, 3, 6, MAX_CLASSES])
def test_multiclass_makers_draw_k_balanced_classes(name, k):
    X, y = DATASETS[name](1001, n_classes=k, random_state=0)
    assert X.shape == (1001, 2) and y.dtype == np.int64
    counts = np.bincount(y, minlength=k)
    assert len(counts) == k and counts.max() - counts.min() <= 1


@pytest.mark.parametrize("name", ["spiral", "gaussians", "blobs"])
@pytest.mark.parametrize("k", [1, MAX_CLASSES + 1])
def test_multiclass_makers_refuse_too_few_or_too_many_classes(name, k):
    with pytest.raises(ValueError, match=f"n_classes must be an integer from 2 to {MAX_CLASSES}"):
        DATASETS[name](10, n_classes=k)


def test_spiral_arms_of_k_classes_are_turned_by_a_kth_of_a_revolution():
    X, y = make_spiral(3000, n_classes=3, turns=1.0, random_state=0)
    r = np.hypot(X[:, 0], X[:, 1])
    t = 2 * np.pi * (r + y / 3)
    np.testing.assert_allclose(X, r[:, None] * np.column_stack([np.cos(t), np.sin(t)]), atol=1e-12)


def test_k_class_label_noise_moves_labels_to_other_classes():
    _, clean = make_blobs(1000, n_classes=4, random_state=1)
    _, noisy = make_blobs(1000, n_classes=4, label_noise=0.1, random_state=1)
    assert np.count_nonzero(clean != noisy) == 100 and noisy.max() <= 3


def test_gaussians_of_k_classes_sit_on_a_circle():
    X, y = make_gaussians(60_000, n_classes=4, center_distance=2.0, std=0.1, random_state=0)
    means = np.array([X[y == c].mean(axis=0) for c in range(4)])
    np.testing.assert_allclose(np.hypot(means[:, 0], means[:, 1]), 1.0, atol=0.01)


# --------------------------------------------------------------------------- regression


@pytest.mark.parametrize("name", sorted(REGRESSION))
def test_surfaces_give_float_targets_equal_to_their_exact_function(name):
    X, y = DATASETS[name](500, random_state=0)
    assert X.shape == (500, 2) and y.shape == (500,) and y.dtype == np.float64
    assert np.all(np.abs(X) <= 1)
    np.testing.assert_array_equal(true_labels(name, X), y)
    X2, y2 = DATASETS[name](500, noise=0.1, random_state=0)
    np.testing.assert_array_equal(X2, X)
    assert 0.08 < np.std(y2 - y) < 0.12


def test_surfaces_are_the_documented_functions():
    X = np.array([[0.0, 0.0], [1.0, 0.0], [0.25, 0.0]])
    np.testing.assert_allclose(TRUE_LABELS["plane"](X), [0.0, 0.6, 0.15])
    np.testing.assert_allclose(TRUE_LABELS["bump"](X)[0], 1.0)
    np.testing.assert_allclose(TRUE_LABELS["ripple"](X), [0.0, 0.0, 1.0], atol=1e-12)


@pytest.mark.parametrize("name", sorted(REGRESSION))
def test_surfaces_refuse_bad_arguments(name):
    with pytest.raises(ValueError, match="noise must be a non-negative finite number, got -1"):
        DATASETS[name](10, noise=-1)
    with pytest.raises(ValueError, match="n_samples must be a positive integer"):
        DATASETS[name](0)
