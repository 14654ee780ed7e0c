"""runs.diagnosis: each finding on a real training where it really happens, and a
verdict that follows the true regions, not a margin over the baseline alone."""

from __future__ import annotations

import json

import numpy as np
import pytest

from backprop_lab.runs.diagnosis import diagnose, prior_loss
from backprop_lab.runs.runner import train_run
from backprop_lab.runs.settings import Settings


def run(**changes):
    base = {"samples": 1000, "epochs": 10, "seed": 1, "out": "unused"}
    return train_run(Settings(**{**base, **changes}).validate())


def kinds(diagnosis) -> list[str]:
    return [f["kind"] for f in diagnosis["findings"]]


def finding(diagnosis, kind) -> dict:
    (found,) = [f for f in diagnosis["findings"] if f["kind"] == kind]
    return found


@pytest.fixture(scope="module")
def huge_step():
    """``--lr 100``: the first epoch pins the output at 0 and every gradient at exactly 0."""
    return run(lr=100)


def test_train_run_stores_the_diagnosis_in_json_friendly_metrics(huge_step):
    d = huge_step.metrics["diagnosis"]
    assert d == diagnose(huge_step)  # pure: the same answer twice
    assert json.loads(json.dumps(huge_step.metrics, allow_nan=False)) == huge_step.metrics
    assert d["verdict"] == "baseline"
    assert all(isinstance(f["message"], str) and f["message"] for f in d["findings"])


def test_a_huge_step_freezes_every_kernel_and_is_said_so(huge_step):
    d = huge_step.metrics["diagnosis"]
    assert kinds(d) == ["saturated_output", "zero_gradients", "dead_units", "stalled"]
    zero = finding(d, "zero_gradients")
    assert zero["from_epoch"] == 1 and zero["layers"] == [1, 2] and zero["all_layers"]
    # What the recording says, checked against the recording itself.
    T = huge_step.recording.gradient_table()
    assert (T[1:] == 0).all() and (T[0] > 0).all()
    # The output is pinned at 0: every positive training point is wrong with no gradient.
    sat = finding(d, "saturated_output")
    assert sat["count"] == int(huge_step.data.y_train.sum()) and sat["of"] == 800
    stalled = finding(d, "stalled")
    assert stalled["loss"] == pytest.approx(huge_step.history["loss"][-1])


def test_dead_units_are_counted_per_layer_from_the_training_points(huge_step):
    dead = finding(huge_step.metrics["diagnosis"], "dead_units")
    layer = huge_step.model.layers[0]
    Z = huge_step.data.X_train.astype(layer.W.dtype) @ layer.W + layer.b
    assert dead["layer"] == 1 and dead["of"] == 8 and dead["activation"] == "relu"
    assert dead["count"] == int((Z <= 0).all(axis=0).sum()) >= 1
    assert f"{dead['count']} of the 8 relu units of layer 1" in dead["message"]


def test_the_article_settings_stopped_early_are_still_learning():
    result = run()  # 10 of the article's 50 epochs
    d = result.metrics["diagnosis"]
    assert "still_falling" in kinds(d)
    falling = finding(d, "still_falling")
    losses = result.history["loss"]
    assert falling["slope"] < 0 and losses[-1] < losses[-falling["epochs"]]
    assert d["verdict"] != "learned"


def test_a_linear_model_on_the_spiral_has_not_learned_it():
    result = run(dataset="spiral", hidden="", epochs=20)
    d = result.metrics["diagnosis"]
    assert d["verdict"] in ("baseline", "partly")
    line = finding(d, "linear_boundary")
    assert line["train_accuracy"] <= line["line_accuracy"] + 0.02


def test_the_issue_spiral_beats_the_baseline_but_is_only_partly_learned():
    # `demo --dataset spiral --seed 1`: 62.7% against a 51.7% baseline, two straight lines.
    result = run(dataset="spiral", samples=5000, epochs=50)
    m, d = result.metrics, result.metrics["diagnosis"]
    assert m["test_accuracy"] - m["baseline_accuracy"] > 0.05
    assert d["verdict"] == "partly"
    assert "linear_boundary" in kinds(d)


def test_a_good_run_is_learned_by_the_true_regions():
    d = run(lr=1, epochs=20).metrics["diagnosis"]
    assert d["verdict"] == "learned" and "IoU" in d["summary"]
    assert not {"dead_units", "zero_gradients", "stalled", "saturated_output"} & set(kinds(d))


def test_without_true_regions_the_verdict_uses_the_errors_removed():
    result = run(dataset="gaussians", lr=0.1, epochs=20)
    d = result.metrics["diagnosis"]
    assert "iou" not in result.metrics
    assert d["verdict"] == "learned" and d["measures"]["errors_removed"] >= 0.8


def test_a_deep_sigmoid_stack_has_vanishing_gradients():
    result = run(hidden="8,8,8,8,8,8", activation="sigmoid")
    vanishing = finding(result.metrics["diagnosis"], "vanishing_gradients")
    T = result.recording.gradient_table()
    assert 1 in vanishing["layers"] and T[-1, 0] < 1e-3 * T[-1].max()
    assert len(result.model.layers) not in vanishing["layers"]  # the output's is the largest


def test_a_diverged_run_says_so_and_stays_valid_json():
    result = run(loss="mse", activation="linear", lr=1e30, epochs=5, samples=300, seed=0)
    d = result.metrics["diagnosis"]
    assert result.diverged_epoch == 1
    assert d["verdict"] == "diverged" and finding(d, "diverged")["epoch"] == 1
    json.dumps(d, allow_nan=False)


def test_seed_2_of_the_article_has_few_live_units():
    # The README's seed that stays at the baseline: how many units are left, measured.
    result = train_run(Settings(seed=2, out="unused").validate())
    d = result.metrics["diagnosis"]
    dead = finding(d, "dead_units")
    layer = result.model.layers[0]
    Z = result.data.X_train.astype(layer.W.dtype) @ layer.W + layer.b
    active = (Z > 0).mean(axis=0)
    assert dead["count"] == int((active == 0).sum())
    assert dead["live"] == int((active >= 0.01).sum()) < 8
    assert d["verdict"] == "baseline"


def test_prior_loss_is_the_loss_of_answering_the_class_frequencies():
    y = np.array([0, 0, 0, 1])
    assert prior_loss("binary_crossentropy", y) == pytest.approx(
        -(0.75 * np.log(0.75) + 0.25 * np.log(0.25))
    )
    assert prior_loss("mse", y) == pytest.approx(0.75 * 0.25)
    assert prior_loss("sparse_categorical_crossentropy", np.array([0, 1, 2])) == pytest.approx(
        np.log(3)
    )


def test_zero_gradients_are_confirmed_on_every_training_point(huge_step):
    zero = finding(huge_step.metrics["diagnosis"], "zero_gradients")
    assert "on all 800 training points" in zero["message"]
    assert "no kernels could change any more" in zero["message"]


def test_a_sample_of_zero_gradients_is_not_taken_for_the_whole_training_set():
    """The recorder measures a sample; all zeros there (the loss's clip can do that) while
    the full training set still has a gradient is no frozen network."""
    import dataclasses

    from backprop_lab.runs.recording import Recording, layer_gradient_norms

    result = run(epochs=5)
    model, data = result.model, result.data
    X = data.X_train.astype(model.dtype)
    Y = model.loss.prepare_targets(data.y_train, 1, model.dtype)
    assert (layer_gradient_norms(model, X, Y) > 0).all()
    # What a sample of points all clipped to zero gradient would have recorded.
    sampled = Recording(gradient_epochs=list(range(6)), gradient_points=100, n_train=800)
    sampled.gradient_norms = [np.ones(2)] + [np.zeros(2)] * 5
    d = diagnose(dataclasses.replace(result, recording=sampled))
    assert "zero_gradients" not in kinds(d)
    assert not any("frozen" in f["message"] for f in d["findings"])


# --------------------------------------------------------------------------- k classes, regression


def test_a_regression_is_judged_by_r2_with_the_variance_as_prior_loss():
    result = train_run(
        Settings(
            dataset="plane", samples=500, hidden="", optimizer="adam", lr=0.05, epochs=20, seed=0
        ).validate()
    )
    d = result.metrics["diagnosis"]
    assert result.metrics["r2"] >= 0.9 and d["verdict"] == "learned"
    assert d["measures"]["prior_loss"] == pytest.approx(np.var(result.data.y_train))
    assert d["summary"].startswith(f"R² {result.metrics['r2']:.3f}")
    assert json.loads(json.dumps(d)) == d


def test_a_three_class_run_near_the_baseline_is_said_so():
    result = run(dataset="blobs", classes=3, epochs=1, lr=1e-5, samples=300)
    d = result.metrics["diagnosis"]
    assert d["verdict"] == "baseline"
    assert "linear_boundary" not in kinds(d)  # a straight line is a two-class test
