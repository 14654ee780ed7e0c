"""Atomic file writes: a reader sees the old file or the complete new one, never half."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def temporary_sibling(path: Path, suffix: str = ".tmp") -> Path:
    """A fresh hidden name next to ``path``; its folder must exist."""
    if not path.parent.is_dir():
        raise FileNotFoundError(f"cannot write {path}: folder {path.parent} does not exist")
    return path.parent / f".{path.name}.{secrets.token_hex(6)}{suffix}"


@contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temporary path to write; it replaces ``path`` when the block succeeds.

    On any failure the temporary file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    tmp = temporary_sibling(path, suffix)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def read_json_object(path: Path, needed_for: str | None = None, error=ValueError) -> dict:
    """The JSON object in ``path``, or ``error`` with one line saying what is wrong.

    Parameters
    ----------
    path : Path
    needed_for : str, optional
        What needs the file, named when it is missing ("compare", "a run folder").
    error : type of Exception
        Raised for a missing file, invalid JSON or JSON that is not an object.
    """
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        why = f", which {needed_for} needs" if needed_for else ""
        raise error(f"{path.parent} has no {path.name}{why}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise error(f"{path} is not valid JSON ({e})") from None
    if not isinstance(data, dict):
        raise error(f"{path} must hold a JSON object")
    return data


def write_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
