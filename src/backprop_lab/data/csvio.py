"""Read and write labelled points as CSV: ``x1,x2,label`` with one point a line.

The last column holds class ids (integers ``0..k-1``: classification) or real
targets (regression); :func:`problem_of` tells which.

:func:`save_csv` writes a header and every float with Python's shortest
round-trip ``repr``, so ``load_csv(save_csv(...))`` gives back bit-identical
arrays.  :func:`load_csv` also reads files without a header and with any
number of feature columns (all columns but the last).  A malformed file raises
a :class:`ValueError` naming the file and the line, e.g.
``data.csv line 7: expected 3 columns, got 2``.
"""

from __future__ import annotations

import csv
import io
import math
import os
from typing import Any

import numpy as np

__all__ = ["TASKS", "load_csv", "parse_csv", "problem_of", "save_csv"]

TASKS = ("classification", "regression")

PathLike = str | os.PathLike


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _parse_number(cell: str, where: str) -> float:
    try:
        value = float(cell)
    except ValueError:
        raise ValueError(f"{where}: could not parse {cell!r} as a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{where}: non-finite value {cell!r}; only finite numbers are allowed")
    return value


def problem_of(y: np.ndarray, task: str | None = None, where=None) -> tuple[str, np.ndarray]:
    """The task that targets ``y`` pose, and ``y`` in that task's form.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        Finite numbers.
    task : {"classification", "regression"} or None
        Forces the task; None decides from the values: only non-negative
        integers mean classification, anything else regression.
    where : callable or None
        ``where(i)`` names row ``i`` in an error (e.g. the file and line).

    Returns
    -------
    task : str
    y : ndarray of shape (n_samples,)
        int64 class ids for classification, float64 targets for regression.

    Raises
    ------
    ValueError
        If ``task`` is not one of :data:`TASKS`, or is "classification" and a
        value is not a non-negative integer (the message names the first one).
    """
    y = np.asarray(y, dtype=np.float64)
    if task is not None and task not in TASKS:
        raise ValueError(f"task must be one of {', '.join(TASKS)}, got {task!r}")
    ids = np.isfinite(y) & (y >= 0) & (y == np.floor(y)) & (y < 2**63)
    if task == "regression" or (task is None and not ids.all()):
        return "regression", y
    if not ids.all():
        i = int(np.flatnonzero(~ids)[0])
        name = where(i) if where else f"row {i + 1}"
        raise ValueError(
            f"{name}: label {y[i].item():g} is not a class id (an integer 0..k-1), as "
            "classification needs; use the regression task for real targets"
        )
    return "classification", y.astype(np.int64)


def _check_labels(y: Any, n_samples: int) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.shape != (n_samples,):
        raise ValueError(f"y must have shape ({n_samples},) to match X, got {y.shape}")
    if y.dtype == np.bool_:
        return y.astype(np.int64)
    if not (np.issubdtype(y.dtype, np.integer) or np.issubdtype(y.dtype, np.floating)):
        raise ValueError(f"y must hold class ids or real targets, got dtype {y.dtype}")
    if not np.isfinite(y).all():
        i = int(np.flatnonzero(~np.isfinite(y))[0])
        raise ValueError(f"y must hold finite values, got {y[i].item()!r} at index {i}")
    return problem_of(y)[1]


def load_csv(
    path: PathLike, *, labelled: bool = True, task: str | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Read points and labels (class ids or real targets) from a CSV file.

    The first non-blank line is a header if none of its fields is a number,
    otherwise it is data.  Every data line must have as many fields as the
    first line; all fields but the last are features, the last is the label.
    Blank lines and spaces around fields are ignored.

    Parameters
    ----------
    path : str or os.PathLike
        File to read, UTF-8 (a byte-order mark is allowed).
    labelled : bool
        Whether the last column holds labels.  ``False`` reads every column as
        a feature (points to predict) and returns ``y = None``.
    task : {"classification", "regression"} or None
        What the labels are; None decides from them (see :func:`problem_of`).

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), dtype float64
        Finite features; ``n_features`` is 2 for ``x1,x2,label`` files.
    y : ndarray of shape (n_samples,)
        int64 class ids (classification) or float64 targets (regression).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is empty, has no data rows, has rows of different lengths,
        a field that is not a finite number, or (with ``task="classification"``)
        a label that is not a non-negative integer; the message names the file
        and the line.
    """
    name = os.fspath(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            text = f.read()
    except UnicodeDecodeError as error:
        raise ValueError(f"{name}: not UTF-8 text ({error.reason} at byte {error.start})") from None
    return parse_csv(text, name, labelled=labelled, task=task)


def parse_csv(
    text: str,
    name: str = "CSV",
    *,
    labelled: bool = True,
    task: str | None = None,
    max_rows: int | None = None,
    with_lines: bool = False,
) -> tuple:
    """Read points and labels from CSV text in memory, as :func:`load_csv` reads a file.

    Parameters
    ----------
    text : str
        The CSV text (a leading byte-order mark is ignored).
    name : str
        What errors call the text, e.g. a file name: ``"CSV line 7: ..."``.
    labelled, task
        As for :func:`load_csv`.
    max_rows : int or None
        The most data rows accepted; the line of the first one past it is an error.
    with_lines : bool, default=False
        Also return the line of the text each data row is on, so that checks
        made later name the line as the errors here do.

    Returns
    -------
    X, y
        As :func:`load_csv` returns them.
    lines : ndarray of shape (n_samples,), dtype int64
        Only with ``with_lines``: the 1-based line of each data row.

    Raises
    ------
    ValueError
        As :func:`load_csv`, naming ``name`` and the line; also for more than
        ``max_rows`` data rows.
    """
    features: list[float] = []
    labels: list[float] = []
    lines: list[int] = []
    n_columns = 0
    n_rows = 0
    min_columns = 2 if labelled else 1
    n_features = None
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), strict=True)
    try:
        for row in reader:
            row = [cell.strip() for cell in row]
            if not any(row):
                continue
            where = f"{name} line {reader.line_num}"
            if n_columns == 0:
                n_columns = len(row)
                if n_columns < min_columns:
                    raise ValueError(
                        f"{where}: expected at least 2 columns (features, then the "
                        f"label), got {n_columns}"
                    )
                n_features = n_columns - 1 if labelled else n_columns
                if not any(_is_number(cell) for cell in row):
                    continue  # header
            if len(row) != n_columns:
                raise ValueError(f"{where}: expected {n_columns} columns, got {len(row)}")
            if max_rows is not None and n_rows >= max_rows:
                raise ValueError(f"{where}: more than {max_rows} data rows; at most {max_rows}")
            features.extend(_parse_number(cell, where) for cell in row[:n_features])
            if labelled:
                labels.append(_parse_number(row[-1], where))
            lines.append(reader.line_num)
            n_rows += 1
    except csv.Error as error:
        raise ValueError(f"{name} line {reader.line_num}: {error}") from None
    if n_columns == 0:
        raise ValueError(f"{name}: file is empty")
    if not n_rows:
        raise ValueError(f"{name}: file has no data rows, only a header")
    X = np.array(features, dtype=np.float64).reshape(n_rows, n_features)
    y = None
    if labelled:
        _, y = problem_of(np.array(labels), task, lambda i: f"{name} line {lines[i]}")
    return (X, y, np.array(lines, dtype=np.int64)) if with_lines else (X, y)


def save_csv(path: PathLike, X: Any, y: Any, *, overwrite: bool = False) -> None:
    """Write points and labels to a CSV file with a header ``x1,...,xd,label``.

    Floats are written with the shortest text that reads back to the same
    float64, so :func:`load_csv` restores ``X`` bit for bit.

    Parameters
    ----------
    path : str or os.PathLike
        File to write.
    X : array-like of shape (n_samples, n_features)
        Finite features, at least one sample.
    y : array-like of shape (n_samples,) or (n_samples, 1)
        Finite labels: non-negative integers (integer or integral float
        values) are written as class ids, anything else as real targets.
    overwrite : bool, default=False
        Replace ``path`` if it exists; otherwise an existing file is an error.

    Raises
    ------
    ValueError
        If ``X`` or ``y`` has the wrong shape or values; nothing is written.
    FileExistsError
        If ``path`` exists and ``overwrite`` is False.
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"X must have shape (n_samples, n_features) with both >= 1, got {X.shape}")
    if not np.isfinite(X).all():
        raise ValueError("X must contain only finite values, got NaN or infinity")
    y = _check_labels(y, X.shape[0])

    header = [f"x{j + 1}" for j in range(X.shape[1])] + ["label"]
    try:
        f = open(path, "w" if overwrite else "x", newline="", encoding="utf-8")
    except FileExistsError:
        raise FileExistsError(
            f"{os.fspath(path)} already exists; pass overwrite=True to replace it"
        ) from None
    with f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        # csv formats Python floats with repr, the shortest exact round trip.
        rows = zip(X.tolist(), y.tolist(), strict=True)
        writer.writerows([*features, label] for features, label in rows)
