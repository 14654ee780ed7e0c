"""The settings of one training run, shared by the command line, config files
and experiments.  Defaults are the article's experiment.

Every setting is checked here, before anything is computed or written, so a
refused command leaves nothing behind.
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..engine import activations, losses, optimizers
from ..engine._checks import check_float_in, check_positive_float, check_positive_int, lookup
from ..data.datasets import DATASETS
from ..engine.model import ENGINES

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

# Losses a run can use, and the output layer each implies.
RUN_LOSSES = ("binary_crossentropy", "mse", "sparse_categorical_crossentropy")


def parse_hidden(text: str | int | list) -> tuple[tuple[int, str | None], ...]:
    """Parse ``"8,8"`` or ``"8:tanh,8:relu"`` (or a TOML list or integer) into
    ``((8, "tanh"), ...)``.

    An empty string means no hidden layer (logistic regression).
    """
    if isinstance(text, bool) or not isinstance(text, str | int | list | tuple):
        raise TypeError(f"hidden must be widths like 8,8 or 8:tanh,8:relu, got {text!r}")
    items = [str(v) for v in text] if isinstance(text, list | tuple) else str(text).split(",")
    if items == [""]:
        return ()
    layers = []
    for item in items:
        width, colon, act = item.strip().partition(":")
        if colon and not act.strip():
            raise ValueError(f"hidden layer {item!r} names no activation after ':'")
        if not width.strip().isdigit() or int(width) < 1:
            raise ValueError(
                f"hidden must be comma-separated positive widths like 8,8 or 8:tanh,8:relu, "
                f"got {text!r}"
            )
        if act:
            lookup("activation", act.strip(), activations.ACTIVATIONS)
        layers.append((int(width), act.strip().lower() or None))
    return tuple(layers)


def _is_parsed(hidden) -> bool:
    """Whether ``hidden`` is already ``((width, activation or None), ...)``."""
    return isinstance(hidden, tuple) and all(
        isinstance(h, tuple) and len(h) == 2 and isinstance(h[0], int) for h in hidden
    )


@dataclass
class Settings:
    """Every option of ``backprop-lab train``; the defaults reproduce the article."""

    dataset: str = "circle"
    samples: int = 5000
    noise: float = 0.0
    test_size: float = 0.2
    hidden: tuple = ((8, None),)
    activation: str = "relu"
    loss: str = "binary_crossentropy"
    optimizer: str = "sgd"
    lr: float | None = None  # None: the optimizer's Keras default (SGD: 0.01)
    momentum: float = 0.0
    epochs: int = 50
    batch_size: int = 32
    l2: float = 0.0
    seed: int | None = None
    engine: str = "auto"
    name: str = "run"
    out: str = "runs"

    def validate(self) -> Settings:
        """Check every field; raise ValueError/TypeError with a one-line message."""
        for name in ("dataset", "activation", "loss", "optimizer", "engine", "name"):
            if not isinstance(getattr(self, name), str):
                raise TypeError(f"{name} must be text, got {getattr(self, name)!r}")
        if not isinstance(self.out, str | os.PathLike):
            raise TypeError(f"out must be a folder path, got {self.out!r}")
        self.out = os.fspath(self.out)  # config.json stores it as text
        # Names are matched without regard to case and stored in canonical form.
        for name in ("activation", "loss", "optimizer", "engine"):
            setattr(self, name, getattr(self, name).lower())
        if not self.dataset[:4].lower() == "csv:":
            self.dataset = self.dataset.lower()
            lookup("dataset", self.dataset, {**DATASETS, "csv:PATH": None})
        elif not self.dataset[4:]:
            raise ValueError("dataset csv: needs a path, as in csv:data.csv")
        check_positive_int("samples", self.samples)
        check_float_in("noise", self.noise, 0.0, math.inf)
        check_float_in("test_size", self.test_size, 0.0, 1.0, closed_low=False)
        # Parsed widths are checked again too: Settings(hidden=((0, "foo"),)) is refused.
        self.hidden = parse_hidden(self.hidden_text() if _is_parsed(self.hidden) else self.hidden)
        lookup("activation", self.activation, activations.ACTIVATIONS)
        if self.loss not in RUN_LOSSES:
            lookup("loss", self.loss, {k: k for k in RUN_LOSSES})
        lookup("loss", self.loss, losses.LOSSES)
        lookup("optimizer", self.optimizer, optimizers.OPTIMIZERS)
        if self.lr is not None:
            check_positive_float("lr", self.lr)
        check_float_in("momentum", self.momentum, 0.0, 1.0)
        if self.momentum and self.optimizer not in ("sgd", "rmsprop"):
            raise ValueError(f"momentum applies to sgd and rmsprop, not {self.optimizer}")
        check_positive_int("epochs", self.epochs)
        check_positive_int("batch_size", self.batch_size)
        check_float_in("l2", self.l2, 0.0, math.inf)
        if self.seed is not None and (
            isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0
        ):
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r}")
        lookup("engine", self.engine, {e: e for e in ENGINES})
        if not self.name or any(c in self.name for c in "/\\") or self.name in (".", ".."):
            raise ValueError(f"name must be a plain folder-name part, got {self.name!r}")
        return self

    def make_optimizer(self) -> optimizers.Optimizer:
        kwargs = {} if self.lr is None else {"learning_rate": self.lr}
        if self.momentum:
            kwargs["momentum"] = self.momentum
        return optimizers.OPTIMIZERS[self.optimizer](**kwargs)

    def hidden_text(self) -> str:
        return ",".join(f"{w}:{a}" if a else str(w) for w, a in self.hidden)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["hidden"] = self.hidden_text()
        return d

    def replace(self, **changes) -> Settings:
        return dataclasses.replace(self, **changes).validate()


FIELDS = {f.name for f in dataclasses.fields(Settings)}


def load_toml(path: str | Path) -> dict[str, Any]:
    """Read a TOML file of settings (keys as the long options, ``-`` or ``_``)."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise ValueError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"config file {path} is not valid TOML: {e}") from None
    values = {}
    for key, value in data.items():
        norm = key.replace("-", "_")
        if norm not in FIELDS:
            raise ValueError(
                f"config file {path}: unknown key {key!r}; valid keys: {', '.join(sorted(FIELDS))}"
            )
        values[norm] = value
    return values
