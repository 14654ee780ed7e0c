"""What every command shares: errors, option groups and settings."""

from __future__ import annotations

import argparse
import difflib
import sys

from ..data.datasets import DATASETS, MAX_CLASSES, MULTICLASS
from ..engine import activations, optimizers
from ..engine.engines import ENGINES
from ..runs.settings import (
    FIELD_NAMES,
    FIELDS,
    GENERATED_ONLY,
    RUN_LOSSES,
    TASKS,
    Settings,
    did_you_mean,
    load_toml,
    unused_by_dataset,
)
from .errors import UsageError


class Parser(argparse.ArgumentParser):
    """argparse, but errors are one line (no usage block) and exit code 2.

    A mistyped command, choice or option gets the closest valid one
    (``trian``: did you mean 'train'?).  Run with no arguments at all, a
    parser of commands prints its help, the list of commands, on stdout and
    exits 0, as ``--help`` does (and as pip, docker or cargo do): a bare
    command is how people ask what a tool does, not a mistake to report.
    """

    def error(self, message):
        raise UsageError(message)

    def _commands(self) -> dict | None:
        """The command parsers by name, if this parser has commands."""
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                return action.choices
        return None

    def parse_args(self, args=None, namespace=None):
        argv = sys.argv[1:] if args is None else list(args)
        if not argv and self._commands():
            self.print_help()
            self.exit(0)
        known, extras = self.parse_known_args(argv, namespace)
        if extras:
            hint = self._option_hint(known, extras)
            self.error(f"unrecognized arguments: {' '.join(extras)}{hint}")
        return known

    def _option_hint(self, namespace, extras) -> str:
        """``"; did you mean --hidden?"`` for the first unknown option close to a real one."""
        parser, commands = self, self._commands()
        if commands and getattr(namespace, "command", None) in commands:
            parser = commands[namespace.command]
        options = [o for a in parser._actions for o in a.option_strings if o.startswith("--")]
        for word in extras:
            close = difflib.get_close_matches(word.split("=")[0], options, n=1)
            if word.startswith("--") and close:
                return f"; did you mean {close[0]}?"
        return ""

    def _check_value(self, action, value):
        if action.choices is not None and value not in action.choices:
            names = [str(c) for c in action.choices]
            raise argparse.ArgumentError(
                action,
                f"invalid choice: {value!r}{did_you_mean(value, names)} "
                f"(choose from {', '.join(names)})",
            )


def _describe_config(p: argparse.ArgumentParser) -> None:
    """The --config help from the settings schema: the keys of this command's options."""
    dests = {action.dest for action in p._actions}
    keys = ", ".join(name for name in FIELD_NAMES if name in dests)
    for action in p._actions:
        if action.dest == "config":
            action.help = (
                f"TOML file of settings, keys as the options ('-' or '_'): {keys}; "
                "options given here win"
            )


def add_network_options(p: argparse.ArgumentParser) -> None:
    """The options that define the network; None means "not given"."""
    g = p.add_argument_group("network")
    g.add_argument("--hidden", help="hidden widths, e.g. 8,8 or 8:tanh,8:relu (default 8)")
    g.add_argument(
        "--activation",
        help=f"hidden activation: {', '.join(activations.ACTIVATIONS)} (default relu)",
    )
    g.add_argument(
        "--loss",
        help=f"{', '.join(RUN_LOSSES)} (default auto: binary_crossentropy for 2 classes, "
        "sparse_categorical_crossentropy for more, mse for regression)",
    )
    g.add_argument("--l2", type=float, help="L2 penalty on every kernel (default 0)")
    g.add_argument("--seed", type=int, help="makes the run reproducible (default: random)")
    g.add_argument("--config", metavar="FILE.toml")
    _describe_config(p)


def add_train_options(p: argparse.ArgumentParser, *, experiment: str | None = None) -> None:
    """Options shared by demo, train, scale and sweep.

    Experiments generate their data and test on one shared set: they get no
    ``csv:`` datasets, no ``--task`` and no ``--test-size``, and ``scale`` no
    ``--samples``.
    """
    g = p.add_argument_group("data")
    sources = "|".join(DATASETS) + ("" if experiment else "|csv:PATH")
    g.add_argument("--dataset", help=f"{sources} (default circle)")
    g.add_argument(
        "--classes",
        type=int,
        help=f"classes of {', '.join(MULTICLASS)}, 2 to {MAX_CLASSES} (default 2)",
    )
    if not experiment:  # experiments generate their data: they know its task
        g.add_argument(
            "--task",
            type=str.lower,
            choices=TASKS,
            help="what a CSV file's last column is (default auto: integers 0..k-1 are "
            "classes, other numbers regression targets)",
        )
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
    _describe_config(p)


def settings_from_args(args, defaults: Settings) -> Settings:
    """A command's settings: ``defaults``, then its --config file, then the options given.

    A config file takes the keys of the command's own options, so nothing in
    it is silently ignored; for the same reason, samples and noise, given in
    either place, are refused with a csv:PATH dataset, which uses a file's
    points as they are.
    """
    options = vars(args)
    from_file = load_toml(args.config) if args.config else {}
    for key in from_file:
        if key not in options:
            command = options.get("command") or "this command"
            keys = ", ".join(name for name in FIELD_NAMES if name in options)
            raise UsageError(
                f"config file {args.config}: {key} is not an option of {command}; its keys: {keys}"
            )
    given = {k: v for k, v in options.items() if k in FIELDS and v is not None}
    values = {**from_file, **given}
    try:
        settings = Settings(**{**defaults.to_dict(), **values}).validate()
    except TypeError as e:
        raise UsageError(str(e)) from None
    for name in unused_by_dataset(settings.dataset, values):
        where = f"--{name}" if name in given else f"{name} (config file {args.config})"
        raise UsageError(
            f"{where} does not apply to --dataset {settings.dataset}: a CSV file's points "
            f"are used as they are ({' and '.join(GENERATED_ONLY)} shape generated datasets)"
        )
    return settings
