"""What the command line says about a finished run: the result against the
baseline, what the diagnosis found, how to repeat the run, the run folder,
and (for ``demo``) what the run shows and what would help from where it is.

Every sentence comes from the run itself: its metrics and the
``runs.diagnosis`` of it (``result.metrics["diagnosis"]``).
"""

from __future__ import annotations

import math
import shlex
import sys
from pathlib import Path

import numpy as np

from ..engine.metrics import is_regression
from ..engine.optimizers import OPTIMIZERS
from ..runs.diagnosis import IOU_LEARNED, diagnose
from ..runs.settings import Settings, output_for

# Findings the caller has already reported (cmd_train prints divergence on stderr).
_REPORTED_ELSEWHERE = {"diverged"}


def class_name(dataset: str, label: int) -> str:
    if dataset == "circle":
        return "inside" if label else "outside"
    return f"class {label}"


def _number(v: float) -> str:
    text = f"{v:g}"
    return text if float(text) == v else repr(float(v))


def repeat_command(settings: Settings, **changes) -> str:
    """The command line that runs ``settings`` (with ``changes``) again.

    ``demo`` for runs named ``demo``, ``train`` otherwise; every setting that
    differs from that command's default is given, the seed first.  A change
    to ``None`` drops the option (``lr=None``: the optimizer's default).
    """
    demo = settings.name == "demo"
    values = {**settings.to_dict(), **changes}
    if "hidden" in changes:
        values["hidden"] = Settings(hidden=changes["hidden"]).validate().hidden_text()
    defaults = Settings(name="demo" if demo else "run").to_dict()
    # The task and the loss the problem picks by itself (what "auto" became) go unsaid.
    task = settings.generated_task() or settings.task
    implied = {"task": settings.generated_task()}
    if task in ("classification", "regression"):
        implied["loss"] = output_for(task, settings.classes, "auto")[0]
    words = ["backprop-lab", "demo" if demo else "train"]
    names = ["seed", *(k for k in defaults if k != "seed")]
    for name in names:
        value = values.get(name)
        if value is None or value == defaults[name] or value == implied.get(name):
            continue
        if name in ("samples", "noise") and str(values["dataset"]).startswith("csv:"):
            continue  # a CSV file's points are taken as they are
        text = _number(value) if isinstance(value, float) else str(value)
        words += ["--" + name.replace("_", "-"), shlex.quote(text)]
    return " ".join(words)


def _diagnosis(result) -> dict:
    d = result.metrics.get("diagnosis")
    return d if isinstance(d, dict) else diagnose(result)


def baseline_sentence(m: dict, y_test, dataset: str) -> str:
    """The test score against the baseline of knowing nothing, for any problem.

    Classification: the accuracy against always answering the majority class
    (and the macro-F1 for more than two classes); regression: R², MSE and MAE
    against always predicting the mean of the test targets.
    """
    if is_regression(m):
        return (
            f"Test R² {m['r2']:.3f} (MSE {m['mse']:.4g}, MAE {m['mae']:.4g}) — always "
            f"predicting the mean, {float(np.mean(y_test)):.4g}, would score R² 0 "
            f"(MSE {m['baseline_mse']:.4g})."
        )
    majority = int(np.bincount(np.asarray(y_test, dtype=np.int64)).argmax())
    text = (
        f"Test accuracy {m['test_accuracy']:.1%} — always answering "
        f"'{class_name(dataset, majority)}' would score {m['baseline_accuracy']:.1%}."
    )
    if len(m.get("confusion_matrix", [])) > 2:
        C = np.asarray(m["confusion_matrix"])
        present = int(np.count_nonzero((C.sum(axis=0) > 0) | (C.sum(axis=1) > 0)))
        text += f" Macro-F1 {m['macro_f1']:.3f} over {present} classes."
    return text


def report_run(result, folder: Path, files: list[str], out=None) -> None:
    out = out or sys.stdout  # looked up now: a default would freeze the stream at import
    m, s = result.metrics, result.settings
    print("\n" + baseline_sentence(m, result.data.y_test, s.dataset), file=out)
    if "disagreement_area" in m:
        print(
            f"The learned region differs from the true one on {m['disagreement_fraction']:.1%} "
            f"of the square (area {m['disagreement_area']:.3f}); IoU {m['iou']:.2f}.",
            file=out,
        )
    for finding in _diagnosis(result)["findings"]:
        if finding["kind"] not in _REPORTED_ELSEWHERE:
            print(finding["message"], file=out)
    print(f"Seed {s.seed}: `{repeat_command(s)}` repeats this run.", file=out)
    print(f"Run folder: {folder}", file=out)
    print("  " + "  ".join(files), file=out)


# --------------------------------------------------------------------------- demo


def _shape(dataset: str) -> str:
    if dataset == "circle":
        return "the circle"
    if dataset.startswith("csv:"):
        return f"the pattern in {dataset[4:]}"
    return f"the {dataset} pattern"


def _regression_verdict_text(result, d: dict) -> str:
    m, shape = result.metrics, _shape(result.settings.dataset)
    if d["verdict"] == "diverged":
        return f"Training diverged in epoch {result.diverged_epoch}; nothing was learned."
    said = {
        "learned": f"backpropagation and gradient descent found {shape} from sampled values alone",
        "partly": f"the network found part of {shape}, not all of it",
        "baseline": f"the network did no better than the mean and did not find {shape}",
    }[d["verdict"]]
    return f"R² {m['r2']:.3f} against 0 for predicting the mean: {said}."


def _verdict_text(result, d: dict) -> str:
    m, s = result.metrics, result.settings
    if is_regression(m):
        return _regression_verdict_text(result, d)
    margin = m["test_accuracy"] - m["baseline_accuracy"]
    pts = f"{abs(margin) * 100:.1f} percentage points"
    shape = _shape(s.dataset)
    measures = d.get("measures", {})
    removed = measures.get("errors_removed") or 0.0
    verdict = d["verdict"]
    if verdict == "learned":
        match = (
            f"its region matches the true one (IoU {m['iou']:.2f})"
            if "iou" in m
            else f"it removes {removed:.0%} of the baseline's errors"
        )
        return (
            f"The network beats the baseline by {pts} and {match}: backpropagation and "
            f"gradient descent found {shape} from labelled points alone."
        )
    if verdict == "partly":
        how = (
            f"its region overlaps the true one only in part (IoU {m['iou']:.2f}; "
            f"{IOU_LEARNED:g} or more would count as learned)"
            if "iou" in m
            else f"it removes only {removed:.0%} of the baseline's errors"
        )
        return f"That beats the baseline by {pts}, but the network did not learn {shape}: {how}."
    if verdict == "diverged":
        return f"Training diverged in epoch {result.diverged_epoch}; nothing was learned."
    needed = measures.get("meaningful_margin") or 0.0
    word = "worse than" if margin < -needed else "no better than"
    steps = len(result.history.get("loss", [])) * -(-m["n_train"] // s.batch_size)
    lr = s.make_optimizer().learning_rate
    return (
        f"That is {word} the baseline: {steps:,} {s.optimizer} steps at a learning rate of "
        f"{lr:g} did not carve out {shape}."
    )


def _larger_step_is_safe(result, kinds: dict) -> bool:
    """The loss fell smoothly: no epoch of the last ten raised it, nothing died or saturated."""
    losses = [v for v in result.history.get("loss", []) if math.isfinite(v)][-10:]
    smooth = all(b <= a for a, b in zip(losses, losses[1:]))
    return smooth and not ({"dead_units", "saturated_output", "zero_gradients"} & set(kinds))


def _count(n: int, thing: str) -> str:
    """``"one line"``, ``"3 lines"``, ``"no line"``."""
    if n == 0:
        return f"no {thing}"
    return f"one {thing}" if n == 1 else f"{n} {thing}s"


def _bigger_network(s: Settings) -> tuple[str, str, dict]:
    """Two hidden layers four times as wide as the widest, and Adam for an SGD run.

    Returns the option as printed, the words about Adam (empty if the run did
    not use SGD) and the option changes.
    """
    width = 4 * max([w for w, _ in s.hidden] or [2])
    changes: dict = {"hidden": f"{width},{width}"}
    adam = ""
    if s.optimizer == "sgd":
        adam = " trained with Adam (--optimizer adam), which adapts its step to each weight,"
        changes.update(optimizer="adam", lr=None, momentum=None)
    return f"--hidden {width},{width}", adam, changes


# Activations whose slope is below 1 away from 0 (sigmoid's is at most 1/4):
# every layer of them the gradient passes back through makes it smaller.
_SHRINKING = ("sigmoid", "tanh")


def _relu_advice(result, vanishing: dict) -> tuple[list[str], dict] | None:
    """ReLU units instead of the sigmoid or tanh units the gradient vanished through.

    None when a vanishing layer is of another activation (ReLU units would
    change nothing there), or none is a hidden layer.
    """
    s, layers = result.settings, result.model.layers
    hidden = [j for j in vanishing["layers"] if j < len(layers)]
    names = sorted({layers[j - 1].activation.name for j in hidden})
    if not names or not set(names) <= set(_SHRINKING):
        return None
    changes: dict = {"activation": "relu"}
    option = "--activation relu"
    if any(act for _, act in s.hidden):  # per-layer activations override --activation
        changes["hidden"] = [(w, None) for w, _ in s.hidden]
        option += " --hidden " + ",".join(str(w) for w, _ in s.hidden)
    return [
        f"The gradient vanished on its way back to layer {', '.join(map(str, hidden))}: "
        f"every {' and '.join(names)} unit shrinks it. "
        f"ReLU units ({option}) pass it back undiminished where they are active."
    ], changes


def _units_alive(findings: list[dict]) -> str:
    """``"every unit alive"``, or how many hidden units the diagnosis found never active."""
    idle = sum(f["count"] for f in findings if f["kind"] == "dead_units")
    if not idle:
        return "every unit alive"
    return f"{_count(idle, 'hidden unit')} never active"


def _gradient_state(vanishing: dict | None) -> str:
    if not vanishing:
        return "no gradient vanished"
    return f"the gradient of layer {', '.join(map(str, vanishing['layers']))} vanished"


def _advice(result, d: dict) -> tuple[list[str], dict]:
    """Sentences about what would help from where this run is, and the option changes."""
    s = result.settings
    findings = d.get("findings", [])
    kinds = {}
    for f in findings:
        kinds.setdefault(f["kind"], f)
    lr = s.make_optimizer().learning_rate
    default_lr = OPTIMIZERS[s.optimizer]().learning_rate
    n = len(result.history.get("loss", []))
    shape = _shape(s.dataset)
    zero, sat = kinds.get("zero_gradients"), kinds.get("saturated_output")
    early = max(1, n // 10)
    # A step ten times larger, and at least ten times the optimizer's default:
    # a run far below the default needs more than one factor of ten.
    larger = max(10 * lr, 10 * default_lr)
    sudden = (
        "diverged" in kinds
        or "loss_rising" in kinds
        or (zero is not None and zero["all_layers"] and zero["from_epoch"] <= early)
    )
    if sudden:
        smaller = lr / 100 if lr >= 10 * default_lr else lr / 10
        if "diverged" in kinds:
            what = f"the loss or the weights overflowed in epoch {kinds['diverged']['epoch']}"
        elif "loss_rising" in kinds:
            what = "the loss went up instead of down"
        else:
            what = f"by the end of epoch {zero['from_epoch']} " + (
                f"the output was pinned at 0 or 1 on {sat['count']:,} training points it gets "
                "wrong and "
                if sat
                else ""
            )
            what += "every kernel gradient was exactly 0, so more epochs cannot change anything"
        text = (
            f"The step was too large for this network: {what}. A smaller learning rate "
            f"(--lr {_number(smaller)}) keeps the first steps from overshooting."
        )
        return [text], {"lr": smaller}
    # Dead units explain a failure when they leave fewer than half of their layer alive.
    dead = [
        f
        for f in findings
        if f["kind"] == "dead_units" and f["activation"] == "relu" and 2 * f["live"] < f["of"]
    ]
    falling = kinds.get("still_falling")
    if dead:
        f = dead[0]
        widths = [w for w, _ in s.hidden]
        wider = Settings(
            hidden=[(w * (2 if i == f["layer"] - 1 else 1), a) for i, (w, a) in enumerate(s.hidden)]
        ).hidden_text()
        live = f["live"]
        text = (
            f"Only {live} of the {f['of']} units of layer {f['layer']} "
            f"{'is' if live == 1 else 'are'} active on more than 1% of the training points"
        )
        if len(widths) == 1:
            text += f", so the output can bend only along {_count(live, 'line')}"
            if s.dataset == "circle" and live < 3:
                text += " and cannot enclose the circle (that takes at least three)"
        text += f". More units (--hidden {wider}) leave more of them alive"
        changes: dict = {"hidden": wider}
        if falling:
            text += (
                f"; since the loss was still falling, a larger step (--lr {_number(larger)}) "
                f"lets them learn within {n} epochs"
            )
            changes["lr"] = larger
        text += "."
        if d["verdict"] == "baseline":
            # tanh units cannot die, but they learn the circle only with a step this large.
            step = max(lr, 10 * default_lr)
            text += (
                f" Units that cannot die (--activation tanh --lr {_number(step)}) are another way."
            )
        return [text], changes
    if falling:
        texts = [
            f"The loss was still falling when the {n} epochs ended, so the run was stopped, "
            f"not finished: more epochs (--epochs {4 * n})"
        ]
        changes = {"epochs": 4 * n}
        if _larger_step_is_safe(result, kinds):
            texts[0] += f" or a larger step (--lr {_number(larger)}) let it get further."
            changes = {"lr": larger}
        else:
            texts[0] += " let it get further."
        return texts, changes
    line = kinds.get("linear_boundary")
    if line:
        option, adam, changes = _bigger_network(s)
        text = (
            f"A single straight line does as well ({line['line_accuracy']:.1%} of the training "
            f"points against the network's {line['train_accuracy']:.1%}): the network never "
            f"bent its boundary around {shape}. A bigger, deeper network ({option}){adam}"
        )
        return [text + " has the room to bend it."], changes
    vanishing = kinds.get("vanishing_gradients")
    advice = _relu_advice(result, vanishing) if vanishing else None
    if advice:
        return advice
    if "stalled" in kinds:
        option, adam, changes = _bigger_network(s)
        text = (
            f"The loss stopped falling far above 0 with {_units_alive(findings)} and "
            f"{_gradient_state(vanishing)}: training is stuck on a plateau. "
            f"A bigger network ({option}){adam}"
        )
        return [text + " may get off it."], changes
    return [], {}


def explain_demo(result, out=None) -> None:
    out = out or sys.stdout
    d = _diagnosis(result)
    print("\n" + _verdict_text(result, d), file=out)
    if d["verdict"] == "learned":
        if "still_falling" in {f["kind"] for f in d.get("findings", [])}:
            n = len(result.history.get("loss", []))
            print(
                f"The loss was still falling when training stopped: more epochs "
                f"(--epochs {4 * n}) would sharpen the boundary further.",
                file=out,
            )
        return
    texts, changes = _advice(result, d)
    for text in texts:
        print(text, file=out)
    if changes:
        print(f"Try: {repeat_command(result.settings, **changes)}", file=out)
