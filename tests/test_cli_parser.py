"""The parser of ``backprop-lab``, its help, and the README's account of both.

Mistyped names get the nearest valid one, a bare ``backprop-lab`` lists the
commands, the help lists what ``--config`` and ``--vary`` take (generated
from the settings schema), and options a command would ignore are refused.
"""

import ast
import re
import sys
from argparse import Namespace
from pathlib import Path

import pytest
from cli_helpers import run_main

from backprop_lab.cli import main
from backprop_lab.cli.common import UsageError, settings_from_args
from backprop_lab.cli.parser import build_parser
from backprop_lab.experiments.jobs import VARY_NAMES
from backprop_lab.runs.settings import FIELD_NAMES, Settings

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
COMMANDS = ["demo", "train", "report", "compare", "evaluate", "predict", "scale", "sweep"]


def refused(argv):
    """The one error line of a refused command line (exit code 2, nothing on stdout)."""
    code, out, err = run_main(argv)
    assert (code, out) == (2, ""), err
    assert err.startswith("backprop-lab: error: ") and err.count("\n") == 1, err
    return err


def help_of(*argv, capsys):
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args([*argv, "--help"])
    assert info.value.code == 0
    return " ".join(capsys.readouterr().out.split())  # help text, unwrapped


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["trian"], "invalid choice: 'trian'; did you mean 'train'? (choose from demo, train,"),
        (["evalute", "run"], "did you mean 'evaluate'?"),
        (["fly"], "invalid choice: 'fly' (choose from demo, train, report,"),
        (["train", "--engine", "numba"], "did you mean 'numpy'? (choose from auto, numpy,"),
        (["scale", "--protocol", "fixed-step"], "did you mean 'fixed-steps'?"),
        (["train", "--hiden", "8"], "unrecognized arguments: --hiden 8; did you mean --hidden?"),
        (["train", "--batchsize=3"], "did you mean --batch-size?"),
        (["train", "--zzz"], "unrecognized arguments: --zzz\n"),
    ],
)
def test_a_mistyped_name_gets_the_nearest_valid_one(tmp_path, monkeypatch, argv, expected):
    monkeypatch.chdir(tmp_path)
    assert expected in refused(argv)
    assert list(tmp_path.iterdir()) == []


def test_bare_command_prints_the_commands_like_help(capsys):
    # As pip, docker or cargo do: a bare command asks what the tool does.
    with pytest.raises(SystemExit) as info:
        main([])
    assert info.value.code == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert out.startswith("usage: backprop-lab")
    for command in [*COMMANDS, "gradcheck"]:
        assert re.search(rf"^\s+{command}\b", out, re.M), command
    assert out == build_parser().format_help()


@pytest.mark.subprocess
def test_bare_command_in_a_real_process():
    import subprocess

    proc = subprocess.run(
        [sys.executable, "-m", "backprop_lab"], capture_output=True, text=True, timeout=120
    )
    assert (proc.returncode, proc.stderr) == (0, "")
    assert "gradcheck" in proc.stdout and "sweep" in proc.stdout


# --------------------------------------------------------------------------- help


def test_vary_help_lists_the_names_sweep_accepts(capsys):
    text = help_of("sweep", capsys=capsys)
    assert f"NAME: {', '.join(VARY_NAMES)} (" in text
    assert "lr" in VARY_NAMES and "seed" not in VARY_NAMES


@pytest.mark.parametrize(
    ("command", "absent"),
    [
        ("train", []),
        ("demo", []),
        ("sweep", ["task", "test_size"]),
        ("scale", ["task", "samples", "test_size"]),
        (
            "gradcheck",
            [n for n in FIELD_NAMES if n not in ("hidden", "activation", "loss", "l2", "seed")],
        ),
    ],
)
def test_config_help_lists_the_keys_of_the_commands_options(capsys, command, absent):
    text = help_of(command, capsys=capsys)
    keys = ", ".join(n for n in FIELD_NAMES if n not in absent)
    assert f"TOML file of settings, keys as the options ('-' or '_'): {keys}; options" in text


# --------------------------------------------------------------------------- ignored options


@pytest.fixture
def points(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rows = "".join(f"{x / 10},{x / 20},{x % 2}\n" for x in range(-8, 9))
    Path("points.csv").write_text("x1,x2,label\n" + rows)
    Path("gen.toml").write_text("samples = 300\n")
    Path("csv.toml").write_text('dataset = "csv:points.csv"\nnoise = 0.1\n')
    Path("plain.toml").write_text('dataset = "csv:points.csv"\nepochs = 2\n')
    return tmp_path


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--samples", "100"], "--samples does not apply to --dataset csv:points.csv"),
        (["--samples", "5000"], "--samples does not apply"),  # even the default value
        (["--noise", "0.1"], "--noise does not apply"),
        (["--config", "gen.toml"], "samples (config file gen.toml) does not apply"),
    ],
)
def test_csv_data_refuses_samples_and_noise(points, argv, expected):
    err = refused(["train", "--dataset", "csv:points.csv", *argv, "--quiet"])
    assert expected in err and "a CSV file's points are used as they are" in err
    assert sorted(p.name for p in points.iterdir()) == [
        "csv.toml",
        "gen.toml",
        "plain.toml",
        "points.csv",
    ]


def test_csv_data_from_a_config_file_refuses_them_too(points):
    err = refused(["train", "--config", "csv.toml"])
    assert "noise (config file csv.toml) does not apply" in err
    err = refused(["train", "--config", "plain.toml", "--samples", "10"])
    assert "--samples does not apply to --dataset csv:points.csv" in err


def _args(command, **given):
    parser = build_parser()
    args = parser.parse_args([command])
    for key, value in given.items():
        setattr(args, key, value)
    return args


def test_csv_settings_without_samples_or_noise_pass(points):
    settings = settings_from_args(_args("train", dataset="csv:points.csv"), Settings())
    assert settings.dataset == "csv:points.csv"
    settings = settings_from_args(_args("train", config="plain.toml"), Settings())
    assert (settings.dataset, settings.epochs) == ("csv:points.csv", 2)
    # A generated dataset takes them, from either place.
    assert settings_from_args(_args("train", config="gen.toml"), Settings()).samples == 300
    assert settings_from_args(_args("train", noise=0.2), Settings()).noise == 0.2


def test_a_config_key_the_command_has_no_option_for_is_refused(points):
    # scale sets samples from --sizes; the file's value would be silently ignored.
    err = refused(["scale", "--config", "gen.toml", "--out", "out"])
    assert (
        "gen.toml: samples is not an option of scale; its keys: dataset, classes, noise, hidden"
        in err
    )
    Path("t.toml").write_text("test-size = 0.3\n")
    err = refused(["sweep", "--config", "t.toml", "--vary", "lr=1"])
    assert "test_size is not an option of sweep" in err
    Path("e.toml").write_text("epochs = 3\n")
    assert "epochs is not an option of gradcheck" in refused(["gradcheck", "--config", "e.toml"])
    with pytest.raises(UsageError, match="samples is not an option of this command"):
        settings_from_args(Namespace(config="gen.toml", dataset=None), Settings())


# --------------------------------------------------------------------------- README


def _section(title):
    start = README.index(f"\n## {title}")
    end = README.find("\n## ", start + 1)
    return README[start : end if end > 0 else None]


def test_readme_keras_snippet_runs_pasted_on_its_own(capsys):
    section = _section("Keras scripts on backprop-lab")
    snippet = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    namespace = {}
    exec(compile(snippet, "README snippet", "exec"), namespace)
    assert 0 <= namespace["accuracy"] <= 1
    assert capsys.readouterr().out.count("Epoch ") == 50


def test_readme_command_table_lists_every_option_of_evaluate(capsys):
    row = next(line for line in README.splitlines() if line.startswith("| `backprop-lab evaluate"))
    text = help_of("evaluate", "run", capsys=capsys)
    options = set(re.findall(r"(--[a-z-]+)", text)) - {"--help"}
    assert options == {"--dataset", "--samples", "--noise", "--seed"}
    assert all(f"`{o}`" in row for o in options)


def test_readme_table_has_a_row_per_command():
    for command in COMMANDS + ["gradcheck"]:
        assert re.search(rf"^\| `backprop-lab {command}\b", README, re.M), command


def test_readme_lists_every_config_key_and_the_vary_names():
    rows = dict(re.findall(r"^\| `(\w+)` \|.*\|\s*(yes)?\s*\|$", README, re.M))
    assert list(rows) == list(FIELD_NAMES)  # the schema's keys, in its order
    assert [n for n, vary in rows.items() if vary] == list(VARY_NAMES)


def test_readme_install_lines_work_from_a_clone():
    assert "pip install 'backprop-lab[" not in README
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    for extra in re.findall(r"pip install -e '\.\[(\w+)\]'", README):
        assert extra in extras
    assert "pip install -e '.[dask]'" in README and "pip install -e '.[examples]'" in README


def test_readme_says_which_time_is_which():
    section = _section("Two engines")
    assert re.search(r"\| the article's `fit` [^|]*, warm \| [\d.–]+ ms \|", section)
    assert "second `fit` in one Python process" in section and "`train_seconds`" in section


# --------------------------------------------------------------------------- examples

# Import names whose distribution is named otherwise.
DISTRIBUTIONS = {"sklearn": "scikit-learn"}


def _requirement_names(requirements):
    return {re.split(r"[\s<>=!;\[]", r, maxsplit=1)[0].lower() for r in requirements}


@pytest.mark.parametrize("script", sorted(p.name for p in (ROOT / "examples").glob("*.py")))
def test_examples_need_only_the_dependencies_and_the_examples_extra(script):
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    available = _requirement_names(
        project["dependencies"] + project["optional-dependencies"]["examples"]
    )
    tree = ast.parse((ROOT / "examples" / script).read_text())
    modules = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    modules |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level == 0}
    for module in {m.split(".")[0] for m in modules}:
        if module in sys.stdlib_module_names or module == "backprop_lab":
            continue
        assert DISTRIBUTIONS.get(module, module) in available, module


def test_run_without_a_script_names_only_the_script_as_missing():
    with pytest.raises(UsageError, match=r"required: SCRIPT$"):
        build_parser().parse_args(["run"])
    args = build_parser().parse_args(["run", "train.py", "--epochs", "3"])
    assert (args.script, args.args) == ("train.py", ["--epochs", "3"])
