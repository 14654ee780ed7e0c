"""The results table: ``results.csv``, written row by row and read back typed.

Rows are appended as trainings finish, which is what lets an interrupted
experiment resume.  Every cell is read back in its column's known type: the
fixed columns by the table below, varied settings by the settings schema
(`runs.settings.coerce`), so a ``hidden`` of ``"8"`` stays text.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
from pathlib import Path

import numpy as np

from ..runs.settings import coerce
from .jobs import Job

COLUMN_TYPES = {
    "index": int,
    "protocol": str,
    "size": int,
    "seed": int,
    "steps": int,
    "status": str,
    "test_accuracy": float,
    "test_loss": float,
    "macro_f1": float,
    "mse": float,
    "r2": float,
    "disagreement_area": float,
    "iou": float,
    "seconds": float,
}
COLUMNS = tuple(COLUMN_TYPES)
# Columns added since the first tables: a table without them still resumes (None).
ADDED_COLUMNS = frozenset({"macro_f1", "mse", "r2"})
# The column each task is summarised by.
SCORES = {"classification": "test_accuracy", "regression": "r2"}


def score_column(task: str) -> str:
    """The column a task's trainings are compared by: ``test_accuracy`` or ``r2``."""
    if task not in SCORES:
        raise ValueError(f"task must be classification or regression, got {task!r}")
    return SCORES[task]


def columns(jobs: list[Job]) -> list[str]:
    """The table's columns: the fixed ones, then the settings the jobs vary."""
    return list(COLUMNS) + sorted({k for job in jobs for k, _ in job.values} - set(COLUMNS))


def typed(row: dict) -> dict:
    """A row as the table holds it: each cell in its column's type.

    Cells are taken as the CSV file writes them (their text, None as ""), so a
    row just written and the same row read back are equal.  Empty cells of
    the fixed columns (the metrics of a diverged training) are None.
    """
    out = {}
    for name, value in row.items():
        text = "" if value is None else str(value)
        if name in COLUMN_TYPES:
            out[name] = COLUMN_TYPES[name](text) if text else None
        else:
            out[name] = coerce(name, text)
    return out


def read_results(path: Path, names: list[str]) -> list[dict]:
    """The typed rows of ``results.csv`` with columns ``names``; [] if there is none.

    A last line without its newline was cut short by an interruption and is
    left out.  A file with other columns holds another experiment's table,
    except for a table written before the ``ADDED_COLUMNS`` existed: their
    cells read as None.
    """
    if not path.exists():
        return []
    complete = path.read_text().rpartition("\n")[0]
    if not complete:
        return []
    reader = csv.DictReader(io.StringIO(complete))
    found = reader.fieldnames or []
    if found != [n for n in names if n in found] or set(names) - set(found) - ADDED_COLUMNS:
        raise ValueError(f"{path} holds results of a different experiment")
    try:
        return [typed({n: row.get(n) for n in names}) for row in reader]
    except ValueError as e:
        raise ValueError(f"{path} line {reader.line_num}: {e}") from None


def resume(path: Path, jobs: list[Job]) -> dict[int, dict]:
    """Keep the rows of ``path`` that finish ``jobs``; return them by index.

    The kept rows are written again, so a row cut short by an interruption is
    dropped and the next row starts on a line of its own.  Rows of other
    trainings (another seed, protocol or varied value) are refused.
    """
    names = columns(jobs)
    by_index = {job.index: job for job in jobs}
    done = {}
    for row in read_results(path, names):
        job = by_index.get(row["index"])
        if job is None or (row["seed"], row["protocol"], *(row[k] for k, _ in job.values)) != (
            job.seed,
            job.protocol,
            *(v for _, v in job.values),
        ):
            raise ValueError(f"{path} holds results of a different experiment")
        done[job.index] = row
    tmp = path.with_name(".results.csv.tmp")
    with tmp.open("w", newline="") as f:
        writer = _writer(f, names)
        writer.writeheader()
        writer.writerows(done[i] for i in sorted(done))
    os.replace(tmp, path)
    return done


@contextlib.contextmanager
def appending(path: Path, jobs: list[Job]):
    """Yield ``write(row)``: it appends a row to ``path`` and returns it typed."""
    names = columns(jobs)
    with path.open("a", newline="") as f:
        writer = _writer(f, names)

        def write(row: dict) -> dict:
            writer.writerow(row)
            f.flush()
            return typed({k: row.get(k) for k in names})

        yield write


def _writer(f, names: list[str]) -> csv.DictWriter:
    return csv.DictWriter(f, names, extrasaction="ignore", lineterminator="\n")


def to_table(rows: list[dict]):
    """A pandas DataFrame when pandas is installed, else the list of records."""
    try:
        import pandas as pd
    except ImportError:
        return rows
    return pd.DataFrame(rows)


def summarise(rows: list[dict], by: tuple[str, ...], task: str = "classification") -> list[dict]:
    """Mean, standard deviation, min and max of the task's score per group of ``by``.

    Parameters
    ----------
    rows : list of dict
        The experiment's table.
    by : tuple of str
        The columns whose values make a group.
    task : {"classification", "regression"}
        Summarise ``test_accuracy`` or ``r2`` (see `score_column`); each
        summary row names it under ``"score"``.
    """
    score = score_column(task)
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault(tuple(row[k] for k in by), []).append(row)
    out = []
    for key, members in groups.items():
        acc = [r[score] for r in members if r["status"] == "ok" and r.get(score) is not None]
        out.append(
            {
                **dict(zip(by, key)),
                "score": score,
                "runs": len(members),
                "diverged": sum(r["status"] != "ok" for r in members),
                "mean": float(np.mean(acc)) if acc else float("nan"),
                "std": float(np.std(acc)) if acc else float("nan"),
                "min": min(acc, default=float("nan")),
                "max": max(acc, default=float("nan")),
            }
        )
    return out
