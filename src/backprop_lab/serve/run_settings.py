"""A playground's settings as ``backprop-lab train`` settings.

One translation for the session (which trains with the CLI's own
``load_data`` and ``build_model``) and for the export (which writes the
command and config that repeat the run).
"""

from __future__ import annotations

from ..runs.settings import Settings
from .userdata import CUSTOM


def run_settings(s: dict, **overrides) -> Settings:
    """The checked ``Settings`` of the playground settings ``s``.

    ``momentum`` is SGD with momentum 0.9; a tab's own points (dataset
    "custom") stand as a CSV file, whose labels tell the classes.  L1 has no
    ``train`` option: the session passes its regularizer to ``build_model``.
    ``overrides`` set other fields (epochs, name, out, another CSV name).
    """
    optimizer, momentum = s["optimizer"], 0.0
    if optimizer == "momentum":
        optimizer, momentum = "sgd", 0.9
    custom = s["dataset"] == CUSTOM
    fields = {
        "dataset": "csv:custom" if custom else s["dataset"],
        "classes": 2 if custom else s["classes"],
        "samples": s["points"],
        "noise": s["noise"],
        "test_size": s["test_ratio"],
        "hidden": tuple((layer["units"], layer["activation"]) for layer in s["layers"]),
        "loss": s["loss"],
        "optimizer": optimizer,
        "lr": s["lr"],
        "momentum": momentum,
        "batch_size": s["batch_size"],
        "l2": s["reg_rate"] if s["regularization"] == "l2" else 0.0,
        "seed": s["seed"],
    }
    return Settings(**{**fields, **overrides}).validate()
