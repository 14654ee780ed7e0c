"""What every command shares: errors, option groups and settings."""

from __future__ import annotations

import argparse

from ..data.datasets import DATASETS
from ..engine import activations, optimizers
from ..engine.model import ENGINES
from ..runs.settings import RUN_LOSSES, Settings, load_toml

EXIT_BAD_INPUT = 2
EXIT_DIVERGED = 1
EXIT_INTERRUPTED = 130
EXIT_INTERNAL = 70  # EX_SOFTWARE


class UsageError(Exception):
    """Bad input from the command line, a config file or a run folder."""


class Parser(argparse.ArgumentParser):
    """argparse, but errors are one line (no usage block) and exit code 2."""

    def error(self, message):
        raise UsageError(message)


def add_network_options(p: argparse.ArgumentParser) -> None:
    """The options that define the network; None means "not given"."""
    g = p.add_argument_group("network")
    g.add_argument("--hidden", help="hidden widths, e.g. 8,8 or 8:tanh,8:relu (default 8)")
    g.add_argument(
        "--activation",
        help=f"hidden activation: {', '.join(activations.ACTIVATIONS)} (default relu)",
    )
    g.add_argument("--loss", help=f"{', '.join(RUN_LOSSES)} (default binary_crossentropy)")
    g.add_argument("--l2", type=float, help="L2 penalty on every kernel (default 0)")
    g.add_argument("--seed", type=int, help="makes the run reproducible (default: random)")
    g.add_argument("--config", help="TOML file with the same keys; options given here win")


def add_train_options(p: argparse.ArgumentParser, *, experiment: str | None = None) -> None:
    """Options shared by demo, train, scale and sweep.

    Experiments generate their data and test on one shared set: they get no
    ``csv:`` datasets and no ``--test-size``, and ``scale`` no ``--samples``.
    """
    g = p.add_argument_group("data")
    sources = "|".join(DATASETS) + ("" if experiment else "|csv:PATH")
    g.add_argument("--dataset", help=f"{sources} (default circle)")
    if experiment != "scale":
        g.add_argument("--samples", type=int, help="points to generate (default 5000)")
    g.add_argument("--noise", type=float, help="std of Gaussian jitter of the points (default 0)")
    if not experiment:
        g.add_argument("--test-size", type=float, help="fraction held out for tests (default 0.2)")
    add_network_options(p)
    g = p.add_argument_group("training")
    g.add_argument("--optimizer", help=f"{', '.join(optimizers.OPTIMIZERS)} (default sgd)")
    g.add_argument("--lr", type=float, help="learning rate (default: the optimizer's, sgd 0.01)")
    g.add_argument("--momentum", type=float, help="momentum for sgd or rmsprop (default 0)")
    g.add_argument("--epochs", type=int, help="passes over the training data (default 50)")
    g.add_argument("--batch-size", type=int, help="samples per gradient step (default 32)")
    g.add_argument("--engine", choices=ENGINES, help="training engine (default auto)")
    g = p.add_argument_group("output")
    g.add_argument("--out", help="parent folder of the run folder (default runs)")
    g.add_argument("--name", help="suffix of the run folder's name (default: the command)")
    g.add_argument("--quiet", action="store_true", help="no progress output")


def settings_from_args(args, defaults: Settings) -> Settings:
    values = load_toml(args.config) if args.config else {}
    given = {k: v for k, v in vars(args).items() if k in Settings.__dataclass_fields__}
    values.update({k: v for k, v in given.items() if v is not None})
    try:
        return Settings(**{**defaults.to_dict(), **values}).validate()
    except TypeError as e:
        raise UsageError(str(e)) from None
