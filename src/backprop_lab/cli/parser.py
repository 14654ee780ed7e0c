"""The command line's parser: every command, its options and examples.

``build_parser`` is all of ``backprop-lab --help``; the commands themselves
are in ``commands`` and ``experiment_commands``.
"""

from __future__ import annotations

import argparse

from .._version import __version__
from ..experiments.jobs import VARY_NAMES
from .common import Parser, add_network_options, add_train_options
from .experiment_commands import add_experiment_options

EXAMPLES = {
    "report": "examples:\n  backprop-lab report runs/20261128T120000Z-demo",
    "compare": (
        "examples:\n  backprop-lab compare runs/20261128T120000Z-demo runs/20261128T121500Z-run\n"
        "  backprop-lab compare runs/*-sgd runs/*-adam --out comparisons"
    ),
    "demo": "examples:\n  backprop-lab demo\n  backprop-lab demo --seed 1 --lr 0.1",
    "train": (
        "examples:\n  backprop-lab train --dataset xor --hidden 8,8 --optimizer adam\n"
        "  backprop-lab train --dataset spiral --classes 3 --hidden 32:tanh,32:tanh "
        "--optimizer adam --lr 0.01\n"
        "  backprop-lab train --dataset bump --hidden 16:tanh,16:tanh --optimizer adam --lr 0.01\n"
        "  backprop-lab train --dataset csv:points.csv --epochs 100 --out results\n"
        "  backprop-lab train --config run.toml --seed 3"
    ),
    "evaluate": (
        "examples:\n  backprop-lab evaluate runs/20261128T120000Z-demo\n"
        "  backprop-lab evaluate runs/20261128T120000Z-demo --samples 100000 --seed 9"
    ),
    "predict": (
        "examples:\n  backprop-lab predict runs/20261128T120000Z-demo 0.1 0.2\n"
        "  backprop-lab predict runs/20261128T120000Z-demo --csv points.csv --output p.csv"
    ),
    "scale": (
        "examples:\n  backprop-lab scale\n"
        "  backprop-lab scale --sizes 50,500,5000 --seeds 3 --lr 0.1\n"
        "  backprop-lab scale --dask-workers 2\n"
        "  backprop-lab scale --scheduler tcp://scheduler.example.org:8786\n"
        "  backprop-lab scale --resume runs/20261128T120000Z-scale"
    ),
    "sweep": (
        "examples:\n  backprop-lab sweep --vary lr=0.001,0.01,0.1,1\n"
        "  backprop-lab sweep --vary lr=0.01,0.1 --vary hidden=2,4,8,16 --seeds 3"
    ),
    "run": (
        "examples:\n  backprop-lab run my_keras_script.py\n"
        "  backprop-lab run train.py --epochs 20\n"
        "  backprop-lab run --record runs/script train.py"
    ),
    "serve": (
        "examples:\n  backprop-lab serve --open\n"
        "  backprop-lab serve --port 0\n"
        "  backprop-lab serve --host 0.0.0.0 --port 8080 --max-sessions 20"
    ),
    "gradcheck": (
        "examples:\n  backprop-lab gradcheck\n"
        "  backprop-lab gradcheck --hidden 8:tanh,4:relu --loss mse"
    ),
}


def build_parser() -> argparse.ArgumentParser:
    fmt = argparse.RawDescriptionHelpFormatter
    parser = Parser(
        prog="backprop-lab",
        description="Train, measure and look at small neural networks learning 2-D patterns.",
        epilog="Run 'backprop-lab COMMAND --help' for a command's options and examples.",
        formatter_class=fmt,
    )
    parser.add_argument("--version", action="version", version=f"backprop-lab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True

    def add(name, help_text):
        return sub.add_parser(
            name, help=help_text, description=help_text, epilog=EXAMPLES[name], formatter_class=fmt
        )

    for name, text in (
        (
            "demo",
            "The article's experiment (a circle, Dense(8)→Dense(1), SGD) with its explanation.",
        ),
        ("train", "Train a network on a dataset and write a run folder."),
    ):
        p = add(name, text)
        add_train_options(p)
        g = p.add_argument_group("pictures (cost extra time)")
        g.add_argument("--animate", action="store_true", help="learning.gif (and .mp4)")
        g.add_argument("--landscape", action="store_true", help="landscape.png: the loss surface")
    p = add("report", "Rebuild a run folder's report.html from its files.")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p = add("compare", "Draw runs side by side and tabulate their metrics.")
    p.add_argument("run_dirs", nargs="+", metavar="RUN_DIR")
    p.add_argument("--out", default="runs", help="parent of the new folder (default runs)")
    p = add("evaluate", "Evaluate a saved run on its test split or on new data.")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("--dataset", help="another dataset (name or csv:PATH)")
    p.add_argument("--samples", type=int, help="points to generate")
    p.add_argument("--noise", type=float, help="point jitter")
    p.add_argument("--seed", type=int, help="seed for the generated data")
    p = add(
        "predict",
        "Print the class and the class probabilities a saved run gives, or its predicted value.",
    )
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("point", nargs="*", type=float, metavar="X", help="one point's coordinates")
    p.add_argument("--csv", help="CSV of points (x1,x2 columns)")
    p.add_argument("--output", help="write the predictions here as CSV")
    p = add("scale", "Accuracy against training-set size, fixed epochs vs fixed steps.")
    add_train_options(p, experiment="scale")
    add_experiment_options(p, "scale")
    p.add_argument("--sizes", help="comma-separated training-set sizes (default: 50 … 500000)")
    p.add_argument(
        "--protocol",
        choices=("fixed-epochs", "fixed-steps", "both"),
        help="fixed epochs (more data, more steps), fixed steps (only the data grows), "
        "or both (default)",
    )
    p.add_argument(
        "--steps",
        type=int,
        help="gradient steps per training under fixed-steps (default 6250)",
    )
    p = add("sweep", "Accuracy over one or two settings (--vary NAME=V1,V2,...).")
    add_train_options(p, experiment="sweep")
    add_experiment_options(p, "sweep")
    p.add_argument(
        "--vary",
        action="append",
        metavar="NAME=V1,V2",
        help=f"a setting and its values; give once or twice. NAME: {', '.join(VARY_NAMES)} "
        "(several hidden values are separated by ';', quoted for the shell: 'hidden=8;8,8')",
    )
    p = add("run", "Run an unmodified Keras script: its keras/tensorflow imports use backprop-lab.")
    p.add_argument("--record", metavar="RUN_DIR", help="write a run folder of the model it trains")
    p.add_argument("script", metavar="SCRIPT", help="a Python file (.py)")
    rest = p.add_argument(
        "args", nargs=argparse.REMAINDER, metavar="ARG", help="the script's arguments"
    )
    rest.required = False  # argparse marks REMAINDER required, and would name ARG as missing
    p = add("serve", "Start the live playground in the browser, trained by the real engine.")
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this machine only)",
    )
    p.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    p.add_argument("--open", action="store_true", help="open the page in the web browser")
    p.add_argument(
        "--max-sessions",
        type=int,
        default=50,
        help="browser tabs served at once; the next is told the server is busy (default 50)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        help="threads that train all sessions (default 1: more wait for Python's GIL)",
    )
    p.add_argument(
        "--out",
        default="runs",
        help="folder under which the page's 'save as run folder' writes (default runs)",
    )
    p = add("gradcheck", "Compare backprop gradients with finite differences, per layer.")
    add_network_options(p)
    p.add_argument("--points", type=int, default=16, help="random points (default 16)")
    return parser
