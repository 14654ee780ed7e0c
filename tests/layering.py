"""The import rules of backprop_lab's rooms, and a checker for them.

Every ``import`` and ``from ... import`` of every module is read, those inside
functions included, and resolved to the module it names.  Two things fail:

* an import against the direction of the layers (``ALLOWED`` says which rooms
  each room may import; a room may always import itself), or of a third-party
  package a room must not load (``FORBIDDEN_PACKAGES``);
* a cycle between modules (function-level imports count: they only hide one).

``code_lines`` measures a module the way the size rule (at most
``MAX_CODE_LINES``) counts it: lines with code, docstrings and comments aside.
"""

from __future__ import annotations

import ast
import io
import tokenize
from dataclasses import dataclass
from pathlib import Path

# Rooms from the bottom up.  Top-level modules are rooms of their own.
ALLOWED = {
    "engine": set(),
    "data": {"engine"},
    "runs": {"engine", "data"},
    "pictures": {"engine", "data", "runs"},
    "experiments": {"engine", "data", "runs"},
    "keras": {"engine"},  # Keras's namespace packages over the engine
    "compat": {"engine", "keras"},  # tf (tf.keras is keras under another name)
    "datasets": {"data"},  # the public name of data.datasets
    "__init__": {"engine", "compat", "keras"},
    "sklearn": {"engine", "runs"},  # the scikit-learn estimators
    "serve": {"engine", "data", "runs", "pictures"},  # the playground; pictures: export run
    # keras and compat: `backprop-lab run` points a script's Keras imports at them
    "cli": {
        "engine",
        "data",
        "runs",
        "pictures",
        "experiments",
        "__init__",
        "keras",
        "compat",
        "serve",
    },
    "__main__": {"cli"},
    "plot": {"engine", "data", "runs", "pictures"},
    "_version": set(),
}
EVERYONE_MAY_IMPORT = {"_version"}
# Heavy or drawing packages the lower rooms never load.
FORBIDDEN_PACKAGES = {
    "engine": {"matplotlib", "PIL", "imageio_ffmpeg", "safetensors", "joblib", "dask", "pandas"},
    "data": {"matplotlib", "PIL", "imageio_ffmpeg", "numba"},
    "runs": {"matplotlib", "PIL", "imageio_ffmpeg"},
    "experiments": {"matplotlib", "PIL", "imageio_ffmpeg"},
    "keras": {"matplotlib", "PIL", "imageio_ffmpeg"},
    "compat": {"matplotlib", "PIL", "imageio_ffmpeg"},
    "serve": {"matplotlib", "PIL", "imageio_ffmpeg"},
}


MAX_CODE_LINES = 400

_NOT_CODE = {
    tokenize.COMMENT,
    tokenize.NL,
    tokenize.NEWLINE,
    tokenize.INDENT,
    tokenize.DEDENT,
    tokenize.ENDMARKER,
}


def code_lines(source: str) -> int:
    """Lines holding code: not blank, not only a comment, not part of a docstring."""
    docstrings = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                if isinstance(first.value.value, str):
                    docstrings.update(range(first.lineno, first.end_lineno + 1))
    code = set()
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type not in _NOT_CODE:
            code.update(range(tok.start[0], tok.end[0] + 1))
    return len(code - docstrings)


@dataclass(frozen=True)
class Import:
    source: str  # the importing module, dotted, without the package name
    target: str  # the imported module (or package), dotted, without the package name
    line: int


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


def room_of(module: str) -> str:
    return module.split(".")[0]


def read_imports(root: Path, package: str) -> tuple[list[Import], dict[str, list[tuple]]]:
    """Internal imports between modules, and third-party imports by module."""
    modules = {module_name(p, root): p for p in root.rglob("*.py")}
    internal, external = [], {}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        here = name.split(".") if is_package and name != "__init__" else name.split(".")[:-1]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level:
                base = here[: len(here) - (node.level - 1)]
                stem = ".".join(base + ([node.module] if node.module else []))
                # ``from . import x`` names a module when x is one
                targets = [
                    f"{stem}.{a.name}".lstrip(".")
                    if f"{stem}.{a.name}".lstrip(".") in modules
                    else stem or "__init__"
                    for a in node.names
                ]
                targets = [package + "." + t for t in targets]
            elif isinstance(node, ast.ImportFrom):
                targets = [node.module]
            else:
                continue
            for target in targets:
                if target == package or target.startswith(package + "."):
                    inner = target[len(package) + 1 :] or "__init__"
                    internal.append(Import(name, inner, node.lineno))
                else:
                    external.setdefault(name, []).append((target.split(".")[0], node.lineno))
    return internal, external


def find_cycle(imports: list[Import]) -> list[str] | None:
    """A cycle of modules (``[a, b, ..., a]``) if the import graph has one."""
    graph: dict[str, set[str]] = {}
    for imp in imports:
        if imp.target != imp.source:
            graph.setdefault(imp.source, set()).add(imp.target)
    done, path, on_path = set(), [], set()

    def visit(node):
        path.append(node)
        on_path.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt in on_path:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in done:
                found = visit(nxt)
                if found:
                    return found
        on_path.discard(path.pop())
        done.add(node)
        return None

    for start in sorted(graph):
        if start not in done:
            found = visit(start)
            if found:
                return found
    return None


def violations(root: Path, package: str = "backprop_lab") -> list[str]:
    """Every broken rule under ``root`` (the package folder), one line each."""
    imports, external = read_imports(root, package)
    problems = []
    for imp in imports:
        src, dst = room_of(imp.source), room_of(imp.target)
        if src not in ALLOWED:
            problems.append(f"{imp.source} is in no known room; add it to ALLOWED")
        elif dst != src and dst not in ALLOWED[src] | EVERYONE_MAY_IMPORT:
            problems.append(
                f"{imp.source} (line {imp.line}) imports {imp.target}: {src} may not import {dst}"
            )
    for module, names in external.items():
        for name, line in names:
            if name in FORBIDDEN_PACKAGES.get(room_of(module), ()):
                problems.append(
                    f"{module} (line {line}) imports {name}, which {room_of(module)} must not load"
                )
    cycle = find_cycle(imports)
    if cycle:
        problems.append("import cycle: " + " -> ".join(cycle))
    return sorted(set(problems))
