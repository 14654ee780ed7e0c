import math

import numpy as np
import pytest

from backprop_lab.data.datasets import true_labels
from backprop_lab.engine.metrics import (
    accuracy,
    baseline_accuracy,
    class_scores,
    confusion_matrix,
    count_correct,
    grid_points,
    is_regression,
    r2_score,
    region_agreement,
    regression_scores,
)


def circle_rule(G):
    """The labelling rule of the circle dataset: inside the disc of radius 0.5."""
    return true_labels("circle", G)


def disc(radius, centre=(0.0, 0.0)):
    def predict(G):
        return ((G - np.asarray(centre)) ** 2).sum(axis=1) <= radius**2

    return predict


# The midpoint grid misclassifies only cells that straddle a boundary; a strip
# one cell wide (0.002) along both circles (perimeter about 6.9) bounds the error
# by about 0.014, and in practice the errors cancel to about 1e-4.
AREA_TOL = 2e-3


# --------------------------------------------------------------------------- region_agreement


def test_disc_of_radius_06_against_the_true_circle():
    m = region_agreement(disc(0.6), circle_rule)
    # The true disc (r = 0.5) lies inside the learned one (r = 0.6): they differ
    # on the ring between them, pi * (0.6**2 - 0.5**2), and IoU = 0.25 / 0.36.
    assert m["disagreement_area"] == pytest.approx(math.pi * (0.36 - 0.25), abs=AREA_TOL)
    assert m["disagreement_fraction"] == pytest.approx(m["disagreement_area"] / 4)
    assert m["iou"] == pytest.approx(0.25 / 0.36, abs=AREA_TOL)


def test_shifted_disc_matches_the_lens_formula():
    r, d = 0.5, 0.3
    # Two discs of radius r whose centres are d apart overlap on a lens of area
    # 2 r^2 acos(d / 2r) - (d / 2) sqrt(4 r^2 - d^2).
    lens = 2 * r * r * math.acos(d / (2 * r)) - d / 2 * math.sqrt(4 * r * r - d * d)
    m = region_agreement(disc(r, centre=(d, 0.0)), circle_rule)
    assert m["disagreement_area"] == pytest.approx(2 * (math.pi * r * r - lens), abs=AREA_TOL)
    assert m["iou"] == pytest.approx(lens / (2 * math.pi * r * r - lens), abs=AREA_TOL)


def test_identical_regions_agree_everywhere():
    m = region_agreement(circle_rule, circle_rule, resolution=200)
    assert m == {"disagreement_area": 0.0, "disagreement_fraction": 0.0, "iou": 1.0}


def test_two_empty_regions_have_iou_one():
    def nothing(G):
        return np.zeros(len(G), dtype=bool)

    assert region_agreement(nothing, nothing, resolution=10)["iou"] == 1.0


def test_quadrant_halves_are_exact_on_an_even_grid():
    # Grid centres never fall on the axes, so x > 0 versus y > 0 is exact:
    # they differ on two of four quadrants; intersection 1 quadrant, union 3.
    m = region_agreement(lambda G: G[:, 0] > 0, lambda G: G[:, 1] > 0, resolution=100)
    assert m["disagreement_area"] == pytest.approx(2.0, rel=1e-12)
    assert m["disagreement_fraction"] == pytest.approx(0.5, rel=1e-12)
    assert m["iou"] == pytest.approx(1 / 3, rel=1e-12)


def test_area_is_in_the_units_of_a_non_square_extent():
    # On [0, 4] x [0, 2] (area 8) the strip x < 1 has area 2.
    m = region_agreement(
        lambda G: G[:, 0] < 1, lambda G: np.zeros(len(G)), extent=(0, 4, 0, 2), resolution=40
    )
    assert m["disagreement_area"] == pytest.approx(2.0, rel=1e-12)
    assert m["disagreement_fraction"] == pytest.approx(0.25, rel=1e-12)
    assert m["iou"] == 0.0


def test_grid_points_are_cell_centres():
    np.testing.assert_array_equal(
        grid_points((-1, 1, -1, 1), 2), [[-0.5, -0.5], [0.5, -0.5], [-0.5, 0.5], [0.5, 0.5]]
    )
    G = grid_points((0, 4, 0, 2), 2)
    np.testing.assert_array_equal(np.unique(G[:, 0]), [1.0, 3.0])
    np.testing.assert_array_equal(np.unique(G[:, 1]), [0.5, 1.5])


# --------------------------------------------------------------------------- counts


def test_confusion_matrix_by_hand():
    y_true = [0, 0, 1, 1, 1, 2]
    y_pred = [0, 1, 1, 1, 0, 2]
    # rows: true class, columns: predicted class
    expected = [
        [1, 1, 0],
        [1, 2, 0],
        [0, 0, 1],
    ]
    np.testing.assert_array_equal(confusion_matrix(y_true, y_pred, 3), expected)
    np.testing.assert_array_equal(confusion_matrix([1, 1, 0], [1, 0, 0]), [[1, 0], [1, 1]])


def test_baseline_accuracy_by_hand():
    assert baseline_accuracy([0, 1, 1, 1]) == 0.75
    assert baseline_accuracy(np.array([[2], [2], [0]])) == pytest.approx(2 / 3)
    assert baseline_accuracy([1, 1]) == 1.0


def test_accuracy_and_count_correct_by_hand():
    assert accuracy([0, 1, 1, 0], [0, 1, 0, 0]) == 0.75
    # One output: P > 0.5 is class 1, so exactly 0.5 counts as class 0.
    Y = np.array([[1.0], [0.0], [1.0]])
    P = np.array([[0.9], [0.6], [0.5]])
    assert count_correct(Y, P) == 1
    # Several outputs: the arg-max class.
    Y = np.eye(3)[[0, 2, 1]]
    P = np.array([[0.5, 0.3, 0.2], [0.1, 0.2, 0.7], [0.6, 0.3, 0.1]])
    assert count_correct(Y, P) == 2


# --------------------------------------------------------------------------- k classes, regression


def test_class_scores_of_a_three_class_confusion_matrix():
    C = np.array([[5, 0, 0], [1, 3, 0], [0, 4, 0]])  # class 2 is never predicted
    s = class_scores(C)
    assert s["precision"] == pytest.approx([5 / 6, 3 / 7, 0.0])
    assert s["recall"] == pytest.approx([1.0, 0.75, 0.0])
    f1 = [2 * p * r / (p + r) if p + r else 0.0 for p, r in zip(s["precision"], s["recall"])]
    assert s["macro_f1"] == pytest.approx(np.mean(f1))


def test_regression_scores_against_predicting_the_mean():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    s = regression_scores(y, y + [0.5, -0.5, 0.5, -0.5])
    assert (s["mse"], s["mae"], s["baseline_mse"]) == pytest.approx((0.25, 0.5, 1.25))
    assert s["r2"] == pytest.approx(0.8)
    assert regression_scores(y, np.full(4, y.mean()))["r2"] == pytest.approx(0.0)
    # Constant targets: scikit-learn's rule, 1 if exact, else 0; never -inf or NaN.
    assert regression_scores([2.0, 2.0], [2.0, 2.0])["r2"] == 1.0
    assert regression_scores([2.0, 2.0], [1.0, 2.0])["r2"] == 0.0
    assert regression_scores([2.0], [5.0])["r2"] == 0.0


def test_r2_score_agrees_with_scikit_learn():
    sk = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    y, p = rng.normal(size=(20, 3)), rng.normal(size=(20, 3))
    y[:, 1] = 4.0  # one constant target column
    for yt, yp in ((y[:, 0], p[:, 0]), (y, p), (y[:, 1], p[:, 1]), (y[:, 1], y[:, 1])):
        assert r2_score(yt, yp) == pytest.approx(sk.r2_score(yt, yp))
    assert r2_score([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]) == 1.0


def test_macro_f1_leaves_out_a_class_with_no_points_and_no_predictions():
    # Labels {1, 2} in three columns: class 0 is neither true nor predicted.
    C = np.array([[0, 0, 0], [0, 3, 1], [0, 1, 3]])
    s = class_scores(C)
    assert s["macro_f1"] == pytest.approx(0.75)
    sk = pytest.importorskip("sklearn.metrics")
    y_true, y_pred = [1, 1, 1, 1, 2, 2, 2, 2], [1, 1, 1, 2, 1, 2, 2, 2]
    assert s["macro_f1"] == pytest.approx(sk.f1_score(y_true, y_pred, average="macro"))
    # A class predicted but never true still counts (its F1 is 0), as in scikit-learn.
    C = np.array([[2, 1, 0], [0, 2, 0], [0, 0, 0]])
    y_true, y_pred = [0, 0, 0, 1, 1], [0, 0, 1, 1, 1]
    assert class_scores(C)["macro_f1"] == pytest.approx(
        sk.f1_score(y_true, y_pred, average="macro")
    )
    assert class_scores(np.zeros((2, 2)))["macro_f1"] == 0.0


def test_is_regression_reads_the_kind_of_metrics():
    assert is_regression({"r2": 0.5, "mse": 0.1})
    assert is_regression({"mse": 0.1})
    assert not is_regression({"test_accuracy": 0.9, "macro_f1": 0.8})
    assert not is_regression({})
