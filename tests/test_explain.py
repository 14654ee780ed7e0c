"""What the console says after a run: the seed and how to repeat the run, one line
per finding, and a demo verdict and advice that fit the run just made.

The runs are the ones of issue 10 (the article's settings with seeds 1 and 2,
``--lr 100``, ``--dataset spiral``), trained in-process; each "Try:" command
the advice prints is run too, and must do better.
"""

from __future__ import annotations

import io
import shlex
from pathlib import Path

import pytest

from backprop_lab.cli.common import settings_from_args
from backprop_lab.cli.explain import explain_demo, repeat_command, report_run
from backprop_lab.cli.parser import build_parser
from backprop_lab.runs.runner import train_run
from backprop_lab.runs.settings import Settings

_RUNS = {}


def demo(**changes):
    """The result of ``backprop-lab demo`` with ``changes``, trained once per module."""
    key = tuple(sorted(changes.items()))
    if key not in _RUNS:
        _RUNS[key] = train_run(Settings(**{"name": "demo", **changes}).validate())
    return _RUNS[key]


def explained(result) -> str:
    out = io.StringIO()
    explain_demo(result, out=out)
    return out.getvalue()


def reported(result) -> str:
    out = io.StringIO()
    report_run(result, Path("runs/x-demo"), ["config.json"], out=out)
    return out.getvalue()


def settings_of(command: str) -> Settings:
    """The settings a printed command line would run with, parsed as the CLI parses it."""
    words = shlex.split(command)
    assert words[:1] == ["backprop-lab"]
    args = build_parser().parse_args(words[1:])
    return settings_from_args(args, Settings(name="demo" if words[1] == "demo" else "run"))


def tried(text: str) -> Settings:
    (line,) = [line for line in text.splitlines() if line.startswith("Try: ")]
    return settings_of(line.removeprefix("Try: "))


# --------------------------------------------------------------------------- the seed


@pytest.mark.parametrize(
    "changes",
    [
        {"seed": 1},
        {"seed": 1234, "lr": 0.1, "hidden": "16,8:tanh", "out": "my runs"},
        {"seed": 7, "name": "run", "dataset": "spiral", "optimizer": "adam", "batch_size": 64},
    ],
)
def test_the_repeat_command_gives_back_the_same_settings(changes):
    settings = Settings(**{"name": "demo", **changes}).validate()
    command = repeat_command(settings)
    assert command.startswith("backprop-lab " + ("demo" if settings.name == "demo" else "train"))
    assert settings_of(command).to_dict() == settings.to_dict()


def test_report_run_prints_the_seed_and_how_to_repeat_the_run():
    result = demo(seed=1)
    text = reported(result)
    assert "Seed 1: `backprop-lab demo --seed 1` repeats this run." in text
    assert "always answering 'outside' would score" in text  # the honest baseline, kept


def test_report_run_prints_one_line_per_finding():
    result = demo(seed=1, lr=100)
    lines = reported(result).splitlines()
    for finding in result.metrics["diagnosis"]["findings"]:
        assert lines.count(finding["message"]) == 1
    assert any(line.startswith("Zero gradients: ") for line in lines)
    assert any(line.startswith("Dead units: ") for line in lines)


# --------------------------------------------------------------------------- the demo's words


def test_a_huge_step_is_never_told_to_take_a_larger_one():
    result = demo(seed=1, lr=100)
    text = explained(result)
    assert "larger step" not in text and "found" not in text
    assert "no better than the baseline" in text
    assert "step was too large" in text and "exactly 0" in text
    assert tried(text).lr < 100


def test_the_advice_after_a_huge_step_learns_the_circle():
    text = explained(demo(seed=1, lr=100))
    again = train_run(tried(text))
    assert again.metrics["diagnosis"]["verdict"] == "learned"


def test_the_spiral_above_the_baseline_is_not_found():
    result = demo(seed=1, dataset="spiral")
    assert result.metrics["test_accuracy"] - result.metrics["baseline_accuracy"] > 0.05
    text = explained(result)
    assert "found" not in text
    assert "did not learn the spiral pattern" in text
    assert "straight line" in text
    advice = tried(text)
    assert advice.hidden_text() == "32,32" and advice.optimizer == "adam"


def test_the_article_settings_are_stopped_not_finished():
    text = explained(demo(seed=1))
    assert "found" not in text and "IoU 0.20" in text
    assert "still falling" in text and "--epochs 200" in text and "--lr 0.1" in text
    assert tried(text).lr == pytest.approx(0.1)


def test_dead_units_get_advice_about_units_and_it_works():
    text = explained(demo(seed=2))
    assert "no better than the baseline" in text
    assert "Only 3 of the 8 units" in text and "--hidden 16" in text
    assert "--activation tanh" in text
    advice = tried(text)
    assert advice.hidden_text() == "16"
    assert train_run(advice).metrics["diagnosis"]["verdict"] == "learned"


@pytest.mark.parametrize("changes", [{"lr": 0.1}, {"samples": 50000}])
def test_a_learned_circle_is_found_and_gets_no_advice(changes):
    text = explained(demo(seed=1, **changes))
    assert "found the circle" in text and "IoU 0.95" in text
    assert "Try:" not in text


def test_a_learned_run_still_falling_says_so_without_a_try():
    text = explained(demo(seed=1, optimizer="adam"))
    assert "found the circle" in text
    assert "still falling" in text and "Try:" not in text


# --------------------------------------------------------------------------- advice from findings


def with_findings(result, *findings, verdict="baseline"):
    """``result`` with a diagnosis of these findings: the advice that follows from them."""
    import dataclasses

    d = {"verdict": verdict, "summary": "", "findings": list(findings), "measures": {}}
    return dataclasses.replace(result, metrics={**result.metrics, "diagnosis": d})


def vanishing(*layers):
    return {"kind": "vanishing_gradients", "layers": list(layers), "message": "Vanishing."}


STALLED = {"kind": "stalled", "epochs": 3, "slope": 0.0, "loss": 0.5, "message": "Stalled."}


def small(**changes):
    return demo(samples=500, epochs=2, seed=1, **changes)


def test_vanishing_gradients_through_relu_units_are_not_told_to_use_relu():
    result = with_findings(small(), vanishing(1))
    text = explained(result)
    assert "--activation relu" not in text and "vanished on its way" not in text
    assert "Try:" not in text  # no other finding: no advice at all


def test_vanishing_gradients_through_relu_units_fall_through_to_the_next_advice():
    result = with_findings(small(), vanishing(1), STALLED)
    text = explained(result)
    assert "--activation relu" not in text
    assert "with every unit alive and the gradient of layer 1 vanished" in text
    assert tried(text).hidden_text() == "32,32"


@pytest.mark.parametrize(
    ("changes", "activation"),
    [({"hidden": "8:tanh"}, "tanh"), ({"activation": "sigmoid"}, "sigmoid")],
)
def test_vanishing_gradients_through_saturating_units_get_relu_units(changes, activation):
    result = small(**changes)
    text = explained(with_findings(result, vanishing(1)))
    assert f"layer 1: every {activation} unit shrinks it" in text
    advice = tried(text)
    assert advice.to_dict() != result.settings.to_dict()
    assert [act or advice.activation for _, act in advice.hidden] == ["relu"]


def test_the_plateau_advice_names_the_dead_units_it_found():
    dead = {
        "kind": "dead_units",
        "layer": 1,
        "count": 2,
        "of": 8,
        "rarely_active": 0,
        "live": 6,
        "activation": "relu",
        "message": "Dead units.",
    }
    text = explained(with_findings(small(), dead, STALLED))
    assert "every unit alive" not in text
    assert "with 2 hidden units never active and no gradient vanished" in text


def test_few_live_units_bend_the_output_along_as_many_lines():
    text = explained(demo(seed=2))
    assert "so the output can bend only along 3 lines." in text
    assert "straight pieces" not in text


@pytest.mark.parametrize(
    "findings",
    [
        [vanishing(1)],
        [vanishing(1), STALLED],
        [STALLED],
        [{"kind": "linear_boundary", "line_accuracy": 0.8, "train_accuracy": 0.8, "message": ""}],
    ],
)
@pytest.mark.parametrize(
    "changes",
    [{}, {"hidden": "8:tanh"}, {"hidden": "32,32", "optimizer": "adam"}, {"activation": "tanh"}],
)
def test_a_try_line_never_repeats_the_run(findings, changes):
    result = small(**changes)
    text = explained(with_findings(result, *findings))
    if "Try:" in text:
        assert tried(text).to_dict() != result.settings.to_dict()


# --------------------------------------------------------------------------- k classes, regression


def test_a_regression_reports_r2_against_predicting_the_mean_and_repeats_without_auto():
    result = demo(dataset="bump", samples=1000, epochs=10, seed=0, optimizer="adam", lr=0.01)
    text = reported(result)
    m = result.metrics
    assert f"Test R² {m['r2']:.3f} (MSE {m['mse']:.4g}, MAE {m['mae']:.4g})" in text
    assert f"always predicting the mean, {result.data.y_test.mean():.4g}, would score R² 0" in text
    assert "--loss" not in text and "--task" not in text  # what auto chose goes unsaid
    assert settings_of(repeat_command(result.settings)).to_dict() == {
        **result.settings.to_dict(),
        "loss": "auto",
        "task": "auto",
    }
    assert explained(result).startswith(f"\nR² {m['r2']:.3f} against 0 for predicting the mean")


def test_three_classes_report_the_macro_f1_beside_the_baseline():
    result = demo(dataset="blobs", classes=3, samples=600, epochs=5, seed=0)
    text = reported(result)
    assert "would score" in text and f"Macro-F1 {result.metrics['macro_f1']:.3f} over 3" in text
    assert "--classes 3" in text and "--loss" not in text


def test_the_macro_f1_sentence_counts_only_the_classes_it_averages_over():
    from backprop_lab.cli.explain import baseline_sentence

    # Class 1 of four has no test points and is never predicted.
    C = [[3, 0, 1, 0], [0, 0, 0, 0], [0, 0, 2, 1], [1, 0, 0, 4]]
    m = {"test_accuracy": 0.75, "baseline_accuracy": 0.42, "macro_f1": 0.7, "confusion_matrix": C}
    text = baseline_sentence(m, [0, 0, 0, 0, 2, 2, 2, 3, 3, 3, 3, 3], "blobs")
    assert "Macro-F1 0.700 over 3 classes." in text
    # Metrics that are a regression's by engine.metrics.is_regression read as one.
    m = {"r2": 0.5, "mse": 0.1, "mae": 0.2, "baseline_mse": 0.2}
    assert baseline_sentence(m, [0.0, 1.0], "bump").startswith("Test R² 0.500")
