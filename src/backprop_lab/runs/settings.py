"""The settings of one training run, shared by the command line, config files
and experiments.  Defaults are the article's experiment.

Every setting is checked here, before anything is computed or written, so a
refused command leaves nothing behind.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
import typing
from dataclasses import dataclass
from numbers import Integral, Real
from pathlib import Path
from typing import Any

from ..data.datasets import DATASETS, MAX_CLASSES, MULTICLASS, REGRESSION
from ..engine import activations, losses, optimizers
from ..engine._checks import check_float_in, check_positive_float, check_positive_int, lookup
from ..engine.engines import ENGINES

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

# Losses a run can use, and the output layer each implies (see ``output_for``);
# "auto" follows the problem.
RUN_LOSSES = ("auto", "binary_crossentropy", "mse", "sparse_categorical_crossentropy")
# "auto": generated datasets know their task, a CSV file's labels tell it.
TASKS = ("auto", "classification", "regression")


def output_for(task: str, n_classes: int, loss: str = "auto") -> tuple[str, int, str]:
    """The loss and the output layer a problem takes.

    Parameters
    ----------
    task : {"classification", "regression"}
    n_classes : int
        Number of classes (ignored for regression).
    loss : str, default="auto"
        One of `RUN_LOSSES`; "auto" follows the problem.

    Returns
    -------
    loss : str
        Binary cross-entropy for 2 classes, sparse categorical cross-entropy
        for more, mean squared error for regression, unless given.
    units : int
        1 (a sigmoid unit, or a linear one for regression), or ``n_classes``
        softmax units.
    activation : str
        "sigmoid", "softmax" or "linear".

    Raises
    ------
    ValueError
        If ``loss`` does not fit the problem (a cross-entropy for regression,
        one sigmoid unit for more than 2 classes, mse for more than 2 classes).
    """
    if task == "regression":
        if loss not in ("auto", "mse"):
            raise ValueError(
                f"loss {loss} needs class labels, but the targets are real values "
                "(regression); use mse, or loss auto"
            )
        return "mse", 1, "linear"
    if n_classes > 2 and loss not in ("auto", "sparse_categorical_crossentropy"):
        raise ValueError(
            f"loss {loss} takes one sigmoid output, which fits 2 classes, but the data has "
            f"{n_classes}; use sparse_categorical_crossentropy (softmax), or loss auto"
        )
    if n_classes > 2 or loss == "sparse_categorical_crossentropy":
        return "sparse_categorical_crossentropy", max(n_classes, 2), "softmax"
    return ("binary_crossentropy" if loss == "auto" else loss), 1, "sigmoid"


def _layer_text(layer) -> str:
    """``"8"`` or ``"8:tanh"`` for one layer given as text, a width or ``(width, activation)``."""
    if isinstance(layer, tuple | list) and len(layer) == 2:
        width, act = layer
        return f"{width}:{act}" if act else str(width)
    return str(layer)


def parse_hidden(text: str | int | list | tuple) -> tuple[tuple[int, str | None], ...]:
    """Parse ``"8,8"`` or ``"8:tanh,8:relu"`` (or a TOML list or integer) into
    ``((8, "tanh"), ...)``.

    A list or tuple holds one layer per item: a width, text such as
    ``"8:tanh"`` or a ``(width, activation)`` pair, so parsed layers parse
    again.  An empty string means no hidden layer (logistic regression).
    """
    if isinstance(text, bool) or not isinstance(text, str | int | list | tuple):
        raise TypeError(f"hidden must be widths like 8,8 or 8:tanh,8:relu, got {text!r}")
    if isinstance(text, list | tuple):
        items = [_layer_text(v) for v in text]
    else:
        items = str(text).split(",")
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


@dataclass
class Settings:
    """Every option of ``backprop-lab train``; the defaults reproduce the article."""

    dataset: str = "circle"
    task: str = "auto"
    classes: int = 2
    samples: int = 5000
    noise: float = 0.0
    test_size: float = 0.2
    hidden: tuple = ((8, None),)
    activation: str = "relu"
    loss: str = "auto"
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
        for name in ("dataset", "task", "activation", "loss", "optimizer", "engine", "name"):
            if not isinstance(getattr(self, name), str):
                raise TypeError(f"{name} must be text, got {getattr(self, name)!r}")
        if not isinstance(self.out, str | os.PathLike):
            raise TypeError(f"out must be a folder path, got {self.out!r}")
        self.out = os.fspath(self.out)  # config.json stores it as text
        # Names are matched without regard to case and stored in canonical form.
        for name in ("task", "activation", "loss", "optimizer", "engine"):
            setattr(self, name, getattr(self, name).lower())
        if not self.dataset[:4].lower() == "csv:":
            self.dataset = self.dataset.lower()
            lookup("dataset", self.dataset, {**DATASETS, "csv:PATH": None})
        elif not self.dataset[4:]:
            raise ValueError("dataset csv: needs a path, as in csv:data.csv")
        else:
            self.dataset = "csv:" + self.dataset[4:]  # CSV:x.csv is csv:x.csv
        lookup("task", self.task, {t: t for t in TASKS})
        self._check_problem()
        check_positive_int("samples", self.samples)
        check_float_in("noise", self.noise, 0.0, math.inf)
        check_float_in("test_size", self.test_size, 0.0, 1.0, closed_low=False)
        # Parsed widths are checked again too: Settings(hidden=((0, "foo"),)) is refused.
        self.hidden = parse_hidden(self.hidden)
        lookup("activation", self.activation, activations.ACTIVATIONS)
        if self.loss not in RUN_LOSSES:
            lookup("loss", self.loss, {k: k for k in RUN_LOSSES})
        if self.loss != "auto":
            lookup("loss", self.loss, losses.LOSSES)
        if self.generated_task():
            output_for(self.generated_task(), self.classes, self.loss)
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

    def generated_task(self) -> str | None:
        """The task of a generated dataset, or None for a csv:PATH file (its labels tell)."""
        if self.dataset.startswith("csv:"):
            return None
        return "regression" if self.dataset in REGRESSION else "classification"

    def _check_problem(self) -> None:
        if isinstance(self.classes, bool) or not isinstance(self.classes, int):
            raise TypeError(
                f"classes must be an integer from 2 to {MAX_CLASSES}, got {self.classes!r}"
            )
        if not 2 <= self.classes <= MAX_CLASSES:
            raise ValueError(
                f"classes must be an integer from 2 to {MAX_CLASSES}, got {self.classes}"
            )
        task = self.generated_task()
        if task and self.task not in ("auto", task):
            raise ValueError(f"task {self.task} does not fit dataset {self.dataset}, a {task} set")
        if self.classes == 2:
            return
        if task == "regression":
            raise ValueError(
                f"classes applies to classification; dataset {self.dataset} has real targets"
            )
        if self.dataset not in MULTICLASS:
            where = "a CSV file's labels give its classes" if not task else "it has 2"
            raise ValueError(
                f"classes applies to {', '.join(MULTICLASS)}, not {self.dataset} ({where})"
            )

    def make_optimizer(self) -> optimizers.Optimizer:
        kwargs = {} if self.lr is None else {"learning_rate": self.lr}
        if self.momentum:
            kwargs["momentum"] = self.momentum
        return optimizers.OPTIMIZERS[self.optimizer](**kwargs)

    def hidden_text(self) -> str:
        return ",".join(map(_layer_text, self.hidden))

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["hidden"] = self.hidden_text()
        return d

    def replace(self, **changes) -> Settings:
        return dataclasses.replace(self, **changes).validate()


FIELD_NAMES = tuple(f.name for f in dataclasses.fields(Settings))  # in the order of --help
FIELDS = set(FIELD_NAMES)
# Settings that only generated datasets use: a csv:PATH file's points are taken as they are.
GENERATED_ONLY = ("samples", "noise")


def did_you_mean(name: str, names) -> str:
    """``"; did you mean 'epochs'?"`` for the closest of ``names``, or ``""``."""
    close = difflib.get_close_matches(str(name), list(names), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def unused_by_dataset(dataset: str, given) -> list[str]:
    """The settings in ``given`` that ``dataset`` would ignore: samples and noise with csv:PATH.

    Only the caller knows which settings were given rather than left at their
    defaults (the command line, a config file), so it asks here and refuses them.
    """
    if str(dataset).lower().startswith("csv:"):
        return [name for name in GENERATED_ONLY if name in given]
    return []


def _field_types() -> dict[str, tuple[type, bool]]:
    """Each setting's type and whether it may be None, from the dataclass's real types."""
    types = {}
    for name, hint in typing.get_type_hints(Settings).items():
        args = typing.get_args(hint) or (hint,)
        kinds = [a for a in args if a is not type(None)]
        types[name] = (kinds[0], len(kinds) < len(args))
    return types


_TYPES = _field_types()
_ACCEPTED = {int: Integral, float: Real, str: str}  # values taken as they are
_ALLOWED = {int: "an integer", float: "a number", str: "text"}


def coerce(name: str, value: Any) -> Any:
    """One setting's value in the form ``Settings.to_dict`` holds it.

    The command line's ``--vary``, config files and the Python API all read
    settings through this one function.

    Parameters
    ----------
    name : str
        A field of `Settings`.
    value : object
        A Python or TOML value, or its text as typed on the command line.
        Integer settings take integers, number settings take integers and
        floats, text settings take text; all take the numbers' text too.
        ``hidden`` takes a list or tuple of layers (widths, ``"8:tanh"`` or
        ``(8, "tanh")``), a width, or text such as ``"8,8"`` or
        ``"8:tanh,4:relu"``.  Settings that may be None (``lr``, ``seed``)
        take None or empty text for it.

    Returns
    -------
    int, float, str or None
        ``hidden`` as canonical text such as ``"8:tanh,4"``.  Ranges and
        names are checked later, by `Settings.validate`.

    Raises
    ------
    ValueError
        One line naming the setting, what it got and what it allows.
    """
    if name not in _TYPES:
        raise ValueError(
            f"unknown setting {name!r}; valid names: {', '.join(sorted(_TYPES))}"
            + did_you_mean(name, _TYPES)
        )
    kind, optional = _TYPES[name]
    if optional and (value is None or (isinstance(value, str) and not value.strip())):
        return None
    if kind is tuple:
        try:
            return ",".join(map(_layer_text, parse_hidden(value)))
        except TypeError as e:
            raise ValueError(str(e)) from None
    if isinstance(value, _ACCEPTED[kind]) and not isinstance(value, bool):
        return kind(value)
    if isinstance(value, str):
        try:
            return kind(value.strip())
        except ValueError:
            pass
    raise ValueError(f"{name} must be {_ALLOWED[kind]}, got {value!r}")


def load_toml(path: str | Path) -> dict[str, Any]:
    """Read a TOML file of settings, typed by `coerce`.

    Its keys are the names of `FIELD_NAMES`, as the long options write them
    (``batch-size``) or with ``_``; the command line lists the keys each
    command takes in its ``--config`` help.
    """
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
                f"config file {path}: unknown key {key!r}; valid keys: {', '.join(FIELD_NAMES)}"
                + did_you_mean(norm, FIELDS)
            )
        try:
            values[norm] = coerce(norm, value)
        except ValueError as e:
            raise ValueError(f"config file {path}: {e}") from None
    return values
