"""``backprop-lab compare``: one picture and one table of several runs, from
their folders alone, and one clear line when a folder lacks what it needs."""

from __future__ import annotations

import csv
import json
import shutil

import matplotlib.image as mpimg
import pytest
from cli_helpers import run_main

BASE = ["--samples", "200", "--epochs", "2", "--engine", "numpy", "--quiet"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("compare") / "runs"
    for name, extra in (("sgd", []), ("adam", ["--optimizer", "adam", "--dataset", "xor"])):
        argv = ["train", *BASE, "--seed", "1", "--name", name, "--out", out, *extra]
        code, _, err = run_main(argv)
        assert code == 0, err
    return sorted(out.iterdir(), key=lambda p: p.name.endswith("adam"))


def test_compare_writes_picture_and_table_in_a_new_folder(runs, tmp_path):
    code, out, err = run_main(["compare", *runs, "--out", tmp_path])
    assert code == 0, err
    (folder,) = tmp_path.iterdir()
    assert folder.name.endswith("-compare")
    assert sorted(p.name for p in folder.iterdir()) == ["compare.csv", "compare.png"]
    with open(folder / "compare.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["folder"] for r in rows] == [str(r) for r in runs]
    assert [r["optimizer"] for r in rows] == ["sgd", "adam"]
    for row, run in zip(rows, runs):
        metrics = json.loads((run / "metrics.json").read_text())
        assert float(row["test_accuracy"]) == metrics["test_accuracy"]
        assert float(row["baseline_accuracy"]) == metrics["baseline_accuracy"]
        assert f"{metrics['test_accuracy']:.1%}" in out  # the printed table
    assert runs[0].name in out and runs[1].name in out
    image = mpimg.imread(folder / "compare.png")
    assert image.shape[:2] == (1080, 1032)  # 9 in high, 4.3 in per run, at 120 dpi
    assert image[..., :3].var() > 0.005


def test_compare_needs_two_runs(runs, tmp_path):
    code, _, err = run_main(["compare", runs[0], "--out", tmp_path])
    assert code == 2 and "at least 2 run folders" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("history.csv", "has no history.csv, which compare needs for the loss curves"),
        ("metrics.json", "has no metrics.json, which compare needs"),
        ("model.safetensors", "model.safetensors is missing"),
        ("config.json", "config.json is missing"),
    ],
)
def test_a_folder_lacking_a_file_is_one_clear_line_and_nothing_written(
    runs, tmp_path, missing, message
):
    broken = tmp_path / "broken"
    shutil.copytree(runs[0], broken)
    (broken / missing).unlink()
    out = tmp_path / "out"
    code, _, err = run_main(["compare", broken, runs[1], "--out", out])
    assert code == 2
    assert err.count("\n") == 1 and message in err
    assert not out.exists()


def test_each_panel_says_what_its_run_is_not_when_it_ran(runs):
    from backprop_lab.pictures.compare import plot_compare, read_summary

    summaries = [read_summary(r) for r in runs]
    fig = plot_compare(summaries)
    first, second = (ax.get_title() for ax in fig.axes[:3] if ax.get_title())
    assert first.startswith("1. sgd · circle\n2 → 8 relu → 1 sigmoid\nsgd lr 0.01 · batch 32")
    assert second.startswith("2. adam · xor\n2 → 8 relu → 1 sigmoid\nadam lr 0.001 · batch 32")
    assert "2 epochs · seed 1" in first
    for run in runs:  # the timestamped folder names are in the table only
        assert run.name not in first + second
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend[:2] == ["1. sgd · circle · sgd lr 0.01", "2. adam · xor · adam lr 0.001"]
    assert "training loss (mean over the epoch's batches)" in legend


def test_settings_the_runs_differ_in_are_named_in_every_panel(runs, tmp_path):
    from backprop_lab.pictures.compare import plot_compare, read_summary

    code, _, err = run_main(
        ["train", *BASE, "--seed", "1", "--name", "sgd", "--noise", "0.1", "--out", tmp_path]
    )
    assert code == 0, err
    summaries = [read_summary(runs[0]), read_summary(next(tmp_path.iterdir()))]
    titles = [ax.get_title() for ax in plot_compare(summaries).axes if ax.get_title()]
    assert "noise 0.0" in titles[0] and "noise 0.1" in titles[1]
    assert "samples" not in titles[0]  # the same in both: not repeated


def test_the_printed_table_has_a_dataset_column(runs, tmp_path):
    code, out, err = run_main(["compare", *runs, "--out", tmp_path])
    assert code == 0, err
    header, first, second = out.splitlines()[:3]
    assert header.split()[:4] == ["run", "folder", "dataset", "network"]
    assert first.split()[2] == "circle" and second.split()[2] == "xor"
