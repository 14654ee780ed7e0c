"""What the command line says about a finished run: the result against the
baseline, the run folder, and (for ``demo``) what the run shows.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np


def class_name(dataset: str, label: int) -> str:
    if dataset == "circle":
        return "inside" if label else "outside"
    return f"class {label}"


def report_run(result, folder: Path, files: list[str], out=None) -> None:
    out = out or sys.stdout  # looked up now: a default would freeze the stream at import
    m, s = result.metrics, result.settings
    majority = int(np.bincount(result.data.y_test).argmax())
    print(
        f"\nTest accuracy {m['test_accuracy']:.1%} — always answering "
        f"'{class_name(s.dataset, majority)}' would score {m['baseline_accuracy']:.1%}.",
        file=out,
    )
    if "disagreement_area" in m:
        print(
            f"The learned region differs from the true one on {m['disagreement_fraction']:.1%} "
            f"of the square (area {m['disagreement_area']:.3f}); IoU {m['iou']:.2f}.",
            file=out,
        )
    print(f"Run folder: {folder}", file=out)
    print("  " + "  ".join(files), file=out)


def explain_demo(result, out=None) -> None:
    out = out or sys.stdout
    m, s = result.metrics, result.settings
    margin = m["test_accuracy"] - m["baseline_accuracy"]
    steps = s.epochs * -(-m["n_train"] // s.batch_size)
    lr = s.make_optimizer().learning_rate
    shape = "the circle" if s.dataset == "circle" else f"the {s.dataset} pattern"
    if margin < 0.05:
        verdict = "no better than" if margin <= 0 else "barely better than"
        text = (
            f"That is {verdict} the baseline: {steps:,} {s.optimizer} steps at a learning "
            f"rate of {lr:g} did not carve out {shape}. On the article's circle, a larger "
            "step (--lr 0.1), more data (--samples 50000, which at a fixed number of epochs "
            "also means more steps) or another optimizer (--optimizer adam) does learn it."
        )
    else:
        text = (
            f"The network beats the baseline by {margin * 100:.1f} percentage points: "
            f"backpropagation and gradient descent found {shape} from labelled points alone."
        )
    print("\n" + text, file=out)
