"""The package's rooms import one way only, and the checker that says so can fail."""

import shutil
from pathlib import Path

import pytest
from layering import MAX_CODE_LINES, code_lines, violations

import backprop_lab

PACKAGE = Path(backprop_lab.__file__).parent


def test_the_package_keeps_its_import_rules():
    assert violations(PACKAGE) == []


@pytest.fixture
def copy(tmp_path):
    root = tmp_path / "backprop_lab"
    shutil.copytree(PACKAGE, root, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def add_function_import(path: Path, statement: str) -> None:
    with path.open("a") as f:
        f.write(f"\n\ndef _added():\n    {statement}\n")


@pytest.mark.parametrize(
    "module, statement, expected",
    [
        (
            "engine/layers/dense.py",
            "from ...pictures import plotting",
            "engine may not import pictures",
        ),
        ("data/csvio.py", "from ..runs.settings import Settings", "data may not import runs"),
        ("pictures/report.py", "from ..cli import main", "pictures may not import cli"),
        ("runs/runner.py", "from ..experiments import scale", "runs may not import experiments"),
        ("engine/model.py", "import matplotlib.pyplot", "which engine must not load"),
    ],
)
def test_a_forbidden_import_is_reported_even_inside_a_function(copy, module, statement, expected):
    add_function_import(copy / module, statement)
    found = violations(copy)  # an upward import may close a cycle too: reported as well
    assert found and any(expected in line for line in found), found


def test_a_cycle_hidden_in_a_function_is_reported(copy):
    # callbacks imports progress at the top; progress importing callbacks closes a loop.
    add_function_import(copy / "engine/progress.py", "from . import callbacks")
    found = violations(copy)
    assert found == ["import cycle: engine.callbacks -> engine.progress -> engine.callbacks"]


def test_no_module_is_too_long_to_read():
    sizes = {p.relative_to(PACKAGE): code_lines(p.read_text()) for p in PACKAGE.rglob("*.py")}
    assert {p: n for p, n in sizes.items() if n > MAX_CODE_LINES} == {}


def test_code_lines_leave_out_docstrings_comments_and_blank_lines():
    source = '''"""Module docstring
over two lines."""

# a comment
def f(x):
    """Docstring."""
    y = (x +
         1)  # trailing comment
    return "not a docstring"
'''
    assert code_lines(source) == 4  # def, the two lines of y, return
