"""A run with --animate and --landscape writes every picture and a self-contained
report.html, which ``backprop-lab report`` rebuilds and a real browser renders."""

from __future__ import annotations

import base64
import html
import json
import re
import shutil
import subprocess
import types

import numpy as np
import pytest
from cli_helpers import run_main
from PIL import Image

from backprop_lab.pictures.animation import DPI, FIGSIZE
from backprop_lab.pictures.report import build_report

WINDOW = (1200, 2000)
# 160 training points in batches of 32: 5 steps per epoch, 15 in all, fewer than 120 frames.
TRAIN = ["train", "--samples", "200", "--epochs", "3", "--seed", "1", "--engine", "numpy"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "runs"
    code, stdout, stderr = run_main([*TRAIN, "--animate", "--landscape", "--quiet", "--out", out])
    (folder,) = out.iterdir()
    return types.SimpleNamespace(code=code, stdout=stdout, stderr=stderr, folder=folder)


def test_animate_and_landscape_add_their_pictures(run):
    assert run.code == 0, run.stderr
    names = {p.name for p in run.folder.iterdir()}
    expected = {"network.png", "gradients.png", "gradients.csv", "report.html", "learning.gif"}
    assert expected | {"landscape.png", "boundary.png", "curves.png"} <= names
    assert not any(name.startswith(".") for name in names)  # no temporary files left


def test_animate_on_a_run_with_fewer_steps_than_frames_uses_every_step(run):
    with Image.open(run.folder / "learning.gif") as gif:
        assert gif.n_frames == 1 + 15  # the start, then every one of the 15 steps
        assert gif.size == (int(FIGSIZE[0] * DPI), int(FIGSIZE[1] * DPI))
        gif.seek(gif.n_frames - 1)
        assert np.asarray(gif.convert("RGB")).var() > 100  # not blank (0-255 scale)


def test_gradients_csv_has_one_row_per_epoch_and_one_column_per_layer(run):
    rows = (run.folder / "gradients.csv").read_text().splitlines()
    assert rows[0] == "epoch,layer_1,layer_2"
    assert [r.split(",")[0] for r in rows[1:]] == ["0", "1", "2", "3"]


def test_report_is_self_contained_with_every_picture_and_the_baseline(run):
    text = (run.folder / "report.html").read_text()
    pictures = sorted(p.name for p in run.folder.iterdir() if p.suffix in (".png", ".gif"))
    embedded = re.findall(r'<img alt="([^"]+)" src="data:image/(png|gif);base64,([^"]+)"', text)
    assert sorted(name for name, _, _ in embedded) == pictures
    for name, _, data in embedded:
        assert base64.b64decode(data) == (run.folder / name).read_bytes()
    assert not re.search(r'(src|href)="(https?:)?//', text)  # nothing to fetch
    assert "majority baseline" in text and "test accuracy" in text
    assert "binary_crossentropy" in text and "2 → 8 relu → 1 sigmoid" in text


def test_report_has_the_diagnosis_of_metrics_json(run):
    diagnosis = json.loads((run.folder / "metrics.json").read_text())["diagnosis"]
    text = (run.folder / "report.html").read_text()
    assert "<h2>Diagnosis</h2>" in text
    assert html.escape(diagnosis["summary"]) in text
    for finding in diagnosis["findings"]:
        assert f"<li>{html.escape(finding['message'])}</li>" in text
    if not diagnosis["findings"]:
        assert "None of the failures it looks for" in text


def test_report_lists_every_finding_escaped(run, tmp_path):
    folder = tmp_path / "run"
    shutil.copytree(run.folder, folder)
    metrics = json.loads((folder / "metrics.json").read_text())
    messages = ["Dead units: 6 of the 8 relu units <b>", "Zero gradients & more"]
    metrics["diagnosis"] = {
        "verdict": "baseline",
        "summary": "No better than the baseline.",
        "findings": [{"kind": "x", "message": m} for m in messages],
    }
    (folder / "metrics.json").write_text(json.dumps(metrics))
    text = build_report(folder)
    section = text[text.index("<h2>Diagnosis</h2>") : text.index("<h2>Pictures</h2>")]
    assert "No better than the baseline" in section
    assert [f"<li>{html.escape(m)}</li>" in section for m in messages] == [True, True]


def test_report_of_a_run_recorded_before_diagnoses_has_no_such_section(run, tmp_path):
    old = tmp_path / "old-run"
    shutil.copytree(run.folder, old)
    metrics = json.loads((old / "metrics.json").read_text())
    del metrics["diagnosis"]
    (old / "metrics.json").write_text(json.dumps(metrics))
    text = build_report(old)
    assert "Diagnosis" not in text and "majority baseline" in text


def test_report_command_rebuilds_the_same_page(run):
    before = (run.folder / "report.html").read_text()
    (run.folder / "report.html").unlink()
    code, out, err = run_main(["report", run.folder])
    assert code == 0, err
    assert (run.folder / "report.html").read_text() == before
    assert str(run.folder / "report.html") in out


def test_report_of_a_folder_without_metrics_says_what_is_missing(tmp_path, run):
    shutil.copy(run.folder / "config.json", tmp_path / "config.json")
    code, out, err = run_main(["report", tmp_path])
    assert code == 2
    assert err.count("\n") == 1 and "has no metrics.json" in err
    assert not (tmp_path / "report.html").exists()


def test_report_of_a_folder_that_is_no_run_is_refused(tmp_path):
    code, _, err = run_main(["report", tmp_path])
    assert code == 2 and "config.json is missing" in err
    with pytest.raises(ValueError, match="does not exist"):
        build_report(tmp_path / "nowhere")


def test_animate_needs_two_input_features_and_writes_nothing(tmp_path):
    rng = np.random.default_rng(0)
    rows = ["x1,x2,x3,label"] + [
        f"{a:.3f},{b:.3f},{c:.3f},{int(a > 0)}" for a, b, c in rng.uniform(-1, 1, (50, 3))
    ]
    (tmp_path / "d.csv").write_text("\n".join(rows) + "\n")
    out = tmp_path / "runs"
    code, _, err = run_main(
        ["train", "--dataset", f"csv:{tmp_path / 'd.csv'}", "--animate", "--out", out]
    )
    assert code == 2 and "--animate needs 2 input features, the data has 3" in err
    assert not out.exists()


def screenshot(page, tmp_path):
    """Render ``page`` in headless Chromium; the screenshot as RGB floats 0-255."""
    shot = tmp_path / f"{page.stem}.png"
    proc = subprocess.run(
        [
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--screenshot={shot}",
            f"--window-size={WINDOW[0]},{WINDOW[1]}",
            page.as_uri(),
        ],
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-2000:]
    with Image.open(shot) as image:
        assert image.size == WINDOW
        return np.asarray(image.convert("RGB"), dtype=np.float64)


def coloured_fraction(pixels):
    """Share of clearly coloured pixels: the page's own text and rules are grey."""
    return ((pixels.max(axis=2) - pixels.min(axis=2)) > 20).mean()


@pytest.mark.browser
@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed")
def test_report_renders_in_headless_chromium(run, tmp_path):
    pixels = screenshot(run.folder / "report.html", tmp_path)
    assert pixels.var() > 100  # text and pictures, not a blank page
    assert (pixels[5, 5] == 255).all()  # the page's white background
    # The same page with its images emptied: what is coloured comes from the pictures.
    text = (run.folder / "report.html").read_text()
    bare = tmp_path / "bare.html"
    bare.write_text(re.sub(r'src="data:[^"]+"', 'src=""', text))
    without = coloured_fraction(screenshot(bare, tmp_path))
    assert coloured_fraction(pixels) > max(0.005, 10 * without)


# --------------------------------------------------------- report of a run whose data moved


def csv_run(tmp_path, monkeypatch, name, columns=2, extra=()):
    """A run on ``csv:pts.csv`` (a path relative to where it trained); returns its folder.

    The command is then run from another directory, where ``pts.csv`` does not exist.
    """
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (120, columns))
    home = tmp_path / name
    home.mkdir()
    header = ",".join(f"x{i + 1}" for i in range(columns)) + ",label"
    rows = [header] + [",".join(f"{v:.3f}" for v in x) + f",{int(x.sum() > 0)}" for x in X]
    (home / "pts.csv").write_text("\n".join(rows) + "\n")
    monkeypatch.chdir(home)
    argv = ["train", "--dataset", "csv:pts.csv", "--epochs", "2", "--seed", "0"]
    code, _, err = run_main([*argv, "--engine", "numpy", "--quiet", "--out", "runs", *extra])
    assert code == 0, err
    (folder,) = (home / "runs").iterdir()
    elsewhere = tmp_path / f"{name}-elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    return folder


def test_report_of_a_complete_csv_run_whose_csv_moved_only_rebuilds_the_page(tmp_path, monkeypatch):
    folder = csv_run(tmp_path, monkeypatch, "complete")
    pictures = {p.name: p.stat().st_mtime_ns for p in folder.glob("*.png")}
    assert set(pictures) == {"boundary.png", "curves.png", "network.png", "gradients.png"}
    (folder / "report.html").unlink()
    code, out, err = run_main(["report", folder])
    assert (code, err) == (0, "")
    assert out == f"Wrote {folder / 'report.html'}\n"
    assert "<h2>Pictures</h2>" in (folder / "report.html").read_text()
    assert {p.name: p.stat().st_mtime_ns for p in folder.glob("*.png")} == pictures


def test_report_of_a_three_feature_csv_run_expects_no_plane_pictures(tmp_path, monkeypatch):
    """Which pictures a run has comes from config.json, not from its data."""
    folder = csv_run(tmp_path, monkeypatch, "three", columns=3)
    assert not (folder / "boundary.png").exists() and not (folder / "network.png").exists()
    code, out, err = run_main(["report", folder])
    assert (code, err) == (0, "")
    assert "cannot be drawn" not in out and "Drew" not in out


def test_report_draws_what_it_can_and_names_what_needs_the_moved_csv(tmp_path, monkeypatch):
    folder = csv_run(tmp_path, monkeypatch, "moved")
    for name in ("boundary.png", "curves.png", "report.html"):
        (folder / name).unlink()
    code, out, err = run_main(["report", folder])
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "Drew the missing curves.png"
    (lost,) = [line for line in lines if "cannot be drawn" in line]
    assert lost.startswith("boundary.png cannot be drawn again: it needs the training data")
    assert lost.endswith("CSV file pts.csv does not exist")
    assert (folder / "curves.png").exists() and (folder / "report.html").exists()
    assert not (folder / "boundary.png").exists()


def test_report_draws_the_plane_pictures_again_when_the_csv_is_back(tmp_path, monkeypatch):
    folder = csv_run(tmp_path, monkeypatch, "back")
    (folder / "boundary.png").unlink()
    monkeypatch.chdir(tmp_path / "back")
    code, out, err = run_main(["report", folder])
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == "Drew the missing boundary.png"
    assert (folder / "boundary.png").exists()


def test_report_shows_per_class_precision_and_recall_as_metrics_json_holds_them():
    from backprop_lab.pictures.report import _metrics_section

    m = {
        "test_accuracy": 0.8,
        "baseline_accuracy": 0.4,
        "precision": [0.9, 0.5, 0.0],
        "recall": [0.75, 1.0, 0.0],
        "macro_f1": 0.5,
        "confusion_matrix": [[3, 1, 0], [0, 2, 0], [0, 1, 0]],
    }
    page = _metrics_section(m)
    table = page[page.index("Per class (test)") : page.index("Confusion matrix")]
    assert "<th>precision</th><th>recall</th></tr>" in table
    assert table.count("<tr><th>class ") == 3 and "0.75" in table and "f1" not in table
    assert "macro-F1" in page
    # Layouts no run writes are not read: no table without the two lists.
    m = {"test_accuracy": 0.8, "baseline_accuracy": 0.4, "per_class": [{"f1": 0.5}] * 2}
    assert "Per class" not in _metrics_section(m)
    # A regression's metrics, with or without R², are a regression's.
    assert "test R²" in _metrics_section({"mse": 0.1, "mae": 0.2})
