"""``report.html``: one self-contained page per run.

The page shows the configuration, the metrics next to the majority baseline
and every picture in the run folder, embedded as ``data:`` URIs so it opens
anywhere, offline, as a single file.  ``backprop-lab report RUN_DIR`` (or
:func:`write_report`) rebuilds it from the folder alone.
"""

from __future__ import annotations

import base64
import html
import os
from pathlib import Path

from ..engine.metrics import is_regression
from ..engine.model import architecture
from ..runs.fileio import read_json_object, write_atomic
from ..runs.folders import read_run

__all__ = ["PICTURES", "build_report", "write_report"]

# Known pictures, in reading order, with what to look for in each.
PICTURES = {
    "boundary.png": "What the network learned over the plane: a classifier's probability "
    "and boundary (solid) against the true one (dashed); a regression's predicted value "
    "with its contour lines (solid) against the true surface's (dashed).",
    "curves.png": "Loss and accuracy (for a regression: MAE, if recorded) per epoch on the "
    "training and the test data.",
    "learning.gif": "The boundary taking shape during training, with the loss so far.",
    "network.png": "Every neuron as a map of its activation over the plane; lines are the "
    "weights (thickness ∝ |w|, blue positive, orange negative).",
    "gradients.png": "The size of each layer's gradient per epoch (log scale): vanishing "
    "gradients fall away, exploding ones shoot up.",
    "landscape.png": "The loss around the trained weights on two planes through them, "
    "with the path gradient descent took: walking down the hill.",
}
_MIME = {".png": "image/png", ".gif": "image/gif", ".jpg": "image/jpeg", ".svg": "image/svg+xml"}

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; background: #fff;
       color: #1a1a1a; max-width: 1100px; margin: 2em auto; padding: 0 1em; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.25em; margin-top: 1.8em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.5em 0; }
th, td { text-align: left; padding: 0.25em 0.9em 0.25em 0; border-bottom: 1px solid #eee; }
th { font-weight: 600; color: #444; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1.2em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #444; font-size: 0.95em; }
.verdict { font-size: 1.1em; }
.muted { color: #666; }
.grid { display: flex; flex-wrap: wrap; gap: 2.5em; }
"""


def _read_json(path: Path, what: str) -> dict:
    return read_json_object(path, f"the report ({what})")


def _table(rows: list[tuple[str, object]]) -> str:
    cells = []
    for key, value in rows:
        num = isinstance(value, int | float) and not isinstance(value, bool)
        cls = ' class="num"' if num else ""
        cells.append(f"<tr><th>{html.escape(key)}</th><td{cls}>{html.escape(str(value))}</td></tr>")
    return "<table>" + "".join(cells) + "</table>"


def _pct(v) -> str:
    return f"{100 * v:.1f}%" if isinstance(v, int | float) else "—"


def _num(v, fmt: str) -> str:
    return format(v, fmt) if isinstance(v, int | float) and not isinstance(v, bool) else "—"


def _data(m: dict) -> str:
    """Which data the metrics were measured on: "test", or "training" for a script's
    run folder (``backprop-lab run --record``), whose test data is the script's own."""
    return str(m.get("evaluated_on", "test"))


def _regression_rows(m: dict) -> tuple[str, list[tuple[str, object]]]:
    """The verdict and the rows of a regression's metrics (``r2``, ``mse``, ``mae``)."""
    r2, mse, base = m.get("r2"), m.get("mse"), m.get("baseline_mse")
    on = _data(m)
    verdict = ""
    if isinstance(r2, int | float):
        verdict = (
            f'<p class="verdict">{on.capitalize()} R² <b>{r2:.3f}</b>: the network explains '
            f"{100 * r2:.1f}% of the {on} targets' variance (0 is predicting their mean, "
            "1 is exact).</p>"
        )
    rows = [(f"{on} R²", _num(r2, ".3f")), (f"{on} MSE", _num(mse, ".4g"))]
    if "mae" in m:
        rows.append((f"{on} MAE", _num(m["mae"], ".4g")))
    if base is not None:
        rows.append(("MSE of predicting the mean", _num(base, ".4g")))
    return verdict, rows


def _per_class(m: dict) -> str:
    """A table of each class's test precision and recall, from ``metrics.json``'s
    ``precision`` and ``recall`` lists (one float per class), if it holds them."""
    p, r = m.get("precision"), m.get("recall")
    if not (isinstance(p, list) and isinstance(r, list) and p and len(p) == len(r)):
        return ""
    body = "".join(
        f"<tr><th>class {i}</th>"
        f'<td class="num">{html.escape(_num(pi, ".3g"))}</td>'
        f'<td class="num">{html.escape(_num(ri, ".3g"))}</td></tr>'
        for i, (pi, ri) in enumerate(zip(p, r, strict=True))
    )
    return (
        f"<h3>Per class ({_data(m)})</h3><table><tr><th></th><th>precision</th><th>recall</th></tr>"
        f"{body}</table>"
    )


def _metrics_section(m: dict) -> str:
    if is_regression(m):
        verdict, rows = _regression_rows(m)
        rows.append((f"{_data(m)} loss", _num(m.get("test_loss"), ".4f")))
        return verdict + _table(rows + _run_rows(m))
    acc, base, on = m.get("test_accuracy"), m.get("baseline_accuracy"), _data(m)
    verdict = ""
    if isinstance(acc, int | float) and isinstance(base, int | float):
        margin = acc - base
        word = "above" if margin > 0 else "below" if margin < 0 else "equal to"
        verdict = (
            f'<p class="verdict">{on.capitalize()} accuracy <b>{_pct(acc)}</b>, '
            f"{abs(100 * margin):.1f} points {word} the majority baseline of {_pct(base)} "
            "(always answering the most common class).</p>"
        )
    rows = [
        (f"{on} accuracy", _pct(acc)),
        ("majority baseline", _pct(base)),
        (f"{on} loss", _num(m.get("test_loss"), ".4f")),
    ]
    if "iou" in m:
        rows.append(("IoU of learned and true region", f"{m['iou']:.3f}"))
        rows.append(("area where they disagree", f"{m['disagreement_area']:.3f}"))
    if "macro_f1" in m:
        rows.append(("macro-F1 (mean over the classes)", _num(m["macro_f1"], ".3f")))
    out = verdict + _table(rows + _run_rows(m)) + _per_class(m)
    cm = m.get("confusion_matrix")
    if isinstance(cm, list) and cm and all(isinstance(r, list) for r in cm):
        head = "".join(f"<th>predicted {j}</th>" for j in range(len(cm[0])))
        body = "".join(
            f"<tr><th>true {i}</th>" + "".join(f'<td class="num">{v}</td>' for v in row) + "</tr>"
            for i, row in enumerate(cm)
        )
        out += f"<h3>Confusion matrix ({on})</h3><table><tr><th></th>{head}</tr>{body}</table>"
    return out


def _run_rows(m: dict) -> list[tuple[str, object]]:
    """How the run went: its points, epochs, time, divergence, interruption."""
    rows: list[tuple[str, object]] = []
    for key, label in (
        ("n_train", "training points"),
        ("n_test", "test points"),
        ("epochs_completed", "epochs completed"),
    ):
        if key in m:
            rows.append((label, m[key]))
    if isinstance(m.get("train_seconds"), int | float):
        rows.append(("training time", f"{m['train_seconds']:.2f} s"))
    if m.get("diverged_epoch"):
        rows.append(("diverged in epoch", m["diverged_epoch"]))
    if m.get("interrupted"):
        rows.append(("interrupted", "yes (Ctrl-C)"))
    return rows


_VERDICTS = {
    "learned": "Learned the pattern",
    "partly": "Learned part of the pattern",
    "baseline": "No better than the baseline",
    "diverged": "Diverged",
}


def _diagnosis_section(m: dict) -> str:
    """The verdict and the findings of ``runs.diagnosis``; "" for runs recorded without one."""
    d = m.get("diagnosis")
    if not isinstance(d, dict):
        return ""
    verdict = str(d.get("verdict", ""))
    head = html.escape(_VERDICTS.get(verdict, verdict))
    summary = html.escape(str(d.get("summary", "")))
    out = f'<p class="verdict"><b>{head}</b>' + (f" — {summary}" if summary else "") + "</p>"
    findings = [f for f in d.get("findings") or [] if isinstance(f, dict) and f.get("message")]
    if findings:
        items = "".join(f"<li>{html.escape(str(f['message']))}</li>" for f in findings)
        out += f'<ul class="findings">{items}</ul>'
    else:
        out += (
            '<p class="muted">None of the failures it looks for (dead units, a saturated '
            "output, zero or vanishing gradients, a stalled, rising or still falling loss) "
            "was found.</p>"
        )
    return "<h2>Diagnosis</h2>" + out


def _pictures(folder: Path) -> list[Path]:
    known = [folder / name for name in PICTURES if (folder / name).is_file()]
    others = sorted(
        p
        for p in folder.iterdir()
        if p.suffix.lower() in _MIME and p.name not in PICTURES and not p.name.startswith(".")
    )
    return known + others


def _figure(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    caption = PICTURES.get(path.name, "")
    name = html.escape(path.name)
    text = f"<b>{name}</b>" + (f" — {html.escape(caption)}" if caption else "")
    return (
        f'<figure><img alt="{name}" src="data:{_MIME[path.suffix.lower()]};base64,{data}">'
        f"<figcaption>{text}</figcaption></figure>"
    )


def _listed(p: Path) -> bool:
    return p.is_file() and not p.name.startswith(".") and p.name != "report.html"


def build_report(folder: str | os.PathLike) -> str:
    """The HTML of the report of the run in ``folder``.

    Raises
    ------
    ValueError
        If the folder is not a run folder or lacks ``metrics.json``.
    """
    folder, config = read_run(folder)
    metrics = _read_json(folder / "metrics.json", "the metrics")
    settings = config.get("settings", {})
    name = html.escape(folder.name)
    arch = architecture(config.get("model") or {})
    config_rows = [
        ("architecture", arch),
        ("engine used", config.get("engine_used", "—")),
        *((k, "—" if v is None else v) for k, v in settings.items()),
    ]
    default_lr = (config.get("optimizer") or {}).get("learning_rate")
    if settings.get("lr") is None and default_lr is not None:
        config_rows = [
            (k, f"{default_lr:g} (the optimizer's default)" if k == "lr" else v)
            for k, v in config_rows
        ]
    versions = config.get("versions") or {}
    pictures = _pictures(folder)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>backprop-lab run {name}</title><style>{_CSS}</style></head><body>",
        f"<h1>Run {name}</h1>",
        f'<p class="muted">{html.escape(str(settings.get("dataset", "")))} · '
        f"{html.escape(arch)}"
        + ("" if config.get("seed") is None else f" · seed {html.escape(str(config['seed']))}")
        + "</p>",
        "<h2>Metrics</h2>",
        _metrics_section(metrics),
        _diagnosis_section(metrics),
        "<h2>Pictures</h2>",
        "".join(_figure(p) for p in pictures) or '<p class="muted">No pictures in this folder.</p>',
    ]
    if (folder / "learning.mp4").is_file():
        parts.append(
            '<p>The animation is also in the folder as a video: <a href="learning.mp4">'
            "learning.mp4</a>.</p>"
        )
    parts += [
        "<h2>Configuration</h2>",
        _table(config_rows),
        '<p class="muted">'
        + html.escape(" · ".join(f"{k} {v}" for k, v in versions.items()))
        + "</p>",
        "<h2>Files</h2><p>",
        html.escape("  ".join(sorted(p.name for p in folder.iterdir() if _listed(p)))),
        "</p></body></html>",
    ]
    return "\n".join(parts)


def write_report(folder: str | os.PathLike) -> Path:
    """Write (or rebuild) ``report.html`` in the run folder ``folder``; returns its path."""
    text = build_report(folder)
    path = Path(folder) / "report.html"
    write_atomic(path, text.encode("utf-8"))
    return path
