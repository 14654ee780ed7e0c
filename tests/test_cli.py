"""The ``backprop-lab`` command, mostly in-process through ``cli.main`` and a
few times as a real ``python -m backprop_lab`` process (exit codes, no
traceback, Ctrl-C)."""

import csv
import functools
import hashlib
import json
import math
import shutil
import signal
import subprocess
import sys
import threading
import time
import types
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest
from cli_helpers import run_main

import backprop_lab
from backprop_lab import Callback
from backprop_lab.data.datasets import DATASETS
from backprop_lab.engine.gradcheck import check_gradients
from backprop_lab.engine.layers import Dense
from backprop_lab.runs import runner
from backprop_lab.runs.modelio import load_model
from backprop_lab.runs.settings import FIELDS, Settings

FILES = {
    "boundary.png",
    "config.json",
    "curves.png",
    "gradients.csv",
    "gradients.png",
    "history.csv",
    "metrics.json",
    "model.json",
    "model.safetensors",
    "network.png",
    "report.html",
}
COLUMNS = ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "seconds"]
DEMO = ["demo", "--epochs", "3", "--samples", "400", "--seed", "3"]


def run_process(argv, **kwargs):
    return subprocess.run(
        [sys.executable, "-m", "backprop_lab", *map(str, argv)],
        capture_output=True,
        text=True,
        timeout=120,
        **kwargs,
    )


def only_run_folder(out: Path) -> Path:
    (folder,) = out.iterdir()
    return folder


def read_history(folder):
    with open(folder / "history.csv", newline="") as f:
        reader = csv.DictReader(f)
        return reader.fieldnames, list(reader)


def read_json(path):
    return json.loads(Path(path).read_text())


def tree(root: Path) -> dict:
    """Every path under ``root`` with the SHA-256 of each file's bytes."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else ""
        for p in sorted(root.rglob("*"))
    }


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """One demo run, shared by the tests that only read it."""
    out = tmp_path_factory.mktemp("demo") / "runs"
    code, stdout, stderr = run_main([*DEMO, "--out", out])
    return types.SimpleNamespace(
        code=code, stdout=stdout, stderr=stderr, out=out, folder=only_run_folder(out)
    )


# --------------------------------------------------------------------------- the demo, end to end


def test_demo_writes_every_file_and_reports_baseline_and_folder(demo):
    assert demo.code == 0, demo.stderr
    assert demo.stderr == ""
    assert {p.name for p in demo.folder.iterdir()} == FILES  # no temporary files left
    assert demo.folder.name.endswith("-demo")
    m = read_json(demo.folder / "metrics.json")
    assert f"Test accuracy {m['test_accuracy']:.1%}" in demo.stdout
    assert f"would score {m['baseline_accuracy']:.1%}" in demo.stdout
    assert "baseline" in demo.stdout
    assert f"Run folder: {demo.folder}" in demo.stdout
    assert "Epoch 3/3" in demo.stdout  # the progress lines


def test_config_json_holds_every_setting_the_seed_and_versions(demo):
    config = read_json(demo.folder / "config.json")
    settings = config["settings"]
    assert set(settings) == FIELDS
    assert (
        settings | {"out": None}
        == Settings(
            samples=400,
            epochs=3,
            seed=3,
            name="demo",
            out=None,
            loss="binary_crossentropy",  # what "auto" became: the loss actually used
            task="classification",
        ).to_dict()
    )
    assert settings["out"] == str(demo.out)
    assert config["seed"] == 3
    assert config["versions"]["backprop_lab"] == backprop_lab.__version__
    assert config["versions"]["numpy"] == np.__version__
    assert config["optimizer"]["learning_rate"] == pytest.approx(0.01)  # the SGD default
    assert [layer["units"] for layer in config["model"]["layers"]] == [8, 1]


def test_history_has_one_row_per_epoch(demo):
    columns, rows = read_history(demo.folder)
    assert columns == COLUMNS
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]
    for row in rows:
        assert all(math.isfinite(float(row[c])) for c in COLUMNS)
        assert 0 <= float(row["accuracy"]) <= 1 and float(row["seconds"]) > 0
    # The validation data is the test split and the last epoch's weights are
    # the saved ones, so the last row repeats the test metrics.
    m = read_json(demo.folder / "metrics.json")
    assert float(rows[-1]["val_loss"]) == pytest.approx(m["test_loss"], rel=1e-6)
    assert float(rows[-1]["val_accuracy"]) == pytest.approx(m["test_accuracy"])
    assert m["epochs_completed"] == 3 and m["diverged_epoch"] is None and not m["interrupted"]


def test_metrics_agree_with_the_evaluate_command(demo):
    m = read_json(demo.folder / "metrics.json")
    code, out, err = run_main(["evaluate", demo.folder])
    assert (code, err) == (0, "")
    assert f"on the run's own test split ({m['n_test']} points)" in out
    assert f"loss {m['test_loss']:.4f}" in out
    assert f"Test accuracy {m['test_accuracy']:.1%}" in out
    assert f"would score {m['baseline_accuracy']:.1%}" in out
    assert f"macro-F1 {m['macro_f1']:.3f}" in out
    assert f"IoU {m['iou']:.3f}" in out


def test_metrics_agree_with_the_saved_model_evaluated_in_python(demo):
    m = read_json(demo.folder / "metrics.json")
    config = read_json(demo.folder / "config.json")
    data = runner.load_data(Settings(**config["settings"]).validate())
    model = load_model(demo.folder)
    loss, acc = model.evaluate(data.X_test, data.y_test, verbose=0)
    assert loss == pytest.approx(m["test_loss"], rel=1e-6)
    assert acc == pytest.approx(m["test_accuracy"])
    predicted = model.predict(data.X_test, verbose=0)[:, 0] > 0.5
    assert np.mean(predicted == data.y_test) == pytest.approx(m["test_accuracy"])
    assert m["n_test"] == len(data.y_test) == 80
    assert m["baseline_accuracy"] == pytest.approx(
        max(np.mean(data.y_test), 1 - np.mean(data.y_test))
    )
    C = np.array(m["confusion_matrix"])
    assert np.trace(C) / C.sum() == pytest.approx(m["test_accuracy"])


def test_pictures_are_real_pictures(demo):
    for name, (min_w, min_h) in {"boundary.png": (400, 400), "curves.png": (600, 300)}.items():
        image = matplotlib.image.imread(demo.folder / name)
        h, w = image.shape[:2]
        assert min_w <= w <= 4000 and min_h <= h <= 4000, (name, image.shape)
        rgb = image[..., :3]
        assert rgb.std() > 0.05, name  # not a blank page
        assert len(np.unique(rgb.reshape(-1, 3)[::5], axis=0)) > 100, name
    rgb = matplotlib.image.imread(demo.folder / "boundary.png")[..., :3]
    red, blue = rgb[..., 0] - rgb[..., 2], rgb[..., 2] - rgb[..., 0]
    assert (red > 0.3).sum() > 100 and (blue > 0.3).sum() > 100  # both classes are drawn


@pytest.mark.subprocess
def test_the_same_seed_gives_the_same_bytes_in_a_fresh_process(demo, tmp_path):
    proc = run_process([*DEMO, "--out", tmp_path / "again", "--quiet"])
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    again = only_run_folder(tmp_path / "again")
    for name in ("model.safetensors", "model.json"):
        assert (again / name).read_bytes() == (demo.folder / name).read_bytes(), name
    m1, m2 = read_json(demo.folder / "metrics.json"), read_json(again / "metrics.json")
    m1.pop("train_seconds"), m2.pop("train_seconds")
    assert m1 == m2
    for r1, r2 in zip(read_history(demo.folder)[1], read_history(again)[1], strict=True):
        r1.pop("seconds"), r2.pop("seconds")
        assert r1 == r2
    # ... and another seed gives other weights: the comparison above can fail.
    code, _, _ = run_main([*DEMO, "--seed", "4", "--out", tmp_path / "other", "--quiet"])
    other = only_run_folder(tmp_path / "other")
    assert code == 0
    assert (other / "model.safetensors").read_bytes() != (
        demo.folder / "model.safetensors"
    ).read_bytes()


def test_runs_started_in_the_same_second_get_their_own_folders(tmp_path, monkeypatch):
    frozen = time.gmtime(1_800_000_000)
    monkeypatch.setattr(time, "gmtime", lambda *args: frozen)
    argv = ["train", "--epochs", "1", "--samples", "60", "--name", "same", "--out", tmp_path]
    assert run_main([*argv, "--seed", "1", "--quiet"])[0] == 0
    before = tree(tmp_path)
    assert run_main([*argv, "--seed", "2", "--quiet"])[0] == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["20270115T080000Z-same", "20270115T080000Z-same-2"]
    after = tree(tmp_path)
    first = {k: v for k, v in after.items() if Path(k).parts[0] == names[0]}
    assert first == before  # the first run's files are untouched


# --------------------------------------------------------------------------- refused input


@pytest.fixture
def inputs(tmp_path, monkeypatch, demo):
    """A folder of good and bad input files, as the current directory."""
    monkeypatch.chdir(tmp_path)
    Path("empty.csv").write_text("")
    Path("bad.csv").write_text("x1,x2,label\n0.1,0.2,0\n0.3,0.4\n")
    Path("three.csv").write_text("x1,x2,label\n0.1,0.2,0\n0.3,0.4,2\n0.5,0.6,1\n")
    Path("words.csv").write_text("x1,x2,label\n0.1,0.2,0\n0.3,0.4,cat\n")
    Path("nan.csv").write_text("x1,x2,label\n0.1,0.2,0\n0.3,nan,1\n")
    Path("nantarget.csv").write_text("x1,x2,y\n0.1,0.2,0.5\n0.3,0.1,inf\n")
    Path("one.csv").write_text("x1,x2,label\n0.1,0.2,1\n0.3,0.4,1\n0.5,0.6,1\n")
    Path("many.csv").write_text("x1,x2,label\n0.1,0.2,0\n0.3,0.4,12\n0.5,0.6,1\n")
    Path("real.csv").write_text("x1,x2,y\n0.1,0.2,0.5\n0.3,0.4,1.5\n0.5,0.6,-2\n")
    Path("wide.csv").write_text("x1,x2,x3,label\n0.1,0.2,0.3,0\n0.3,0.4,0.5,1\n0.5,0.6,0.7,1\n")
    Path("unknown.toml").write_text("samples = 100\nepoch = 3\n")
    Path("invalid.toml").write_text("samples = \n")
    Path("number.toml").write_text("dataset = 5\n")
    Path("afile").write_text("not a folder\n")
    shutil.copytree(demo.folder, "run")
    shutil.copytree(demo.folder, "tampered")
    blob = bytearray(Path("tampered/model.safetensors").read_bytes())
    blob[-1] ^= 0x01
    Path("tampered/model.safetensors").write_bytes(bytes(blob))
    Path("noconfig").mkdir()
    Path("badjson").mkdir()
    Path("badjson/config.json").write_text("{")
    Path("nomodel").mkdir()
    shutil.copy(demo.folder / "config.json", "nomodel")
    return tmp_path


TRAIN = ["train", "--out", "out", "--epochs", "1", "--samples", "60", "--quiet"]
CSV_TRAIN = ["train", "--out", "out", "--epochs", "1", "--quiet"]  # CSV data takes no --samples
LOSSES = ("binary_crossentropy", "mse", "sparse_categorical_crossentropy")

BAD = {
    "samples-0": ([*TRAIN, "--samples", "0"], "samples must be a positive integer (>= 1), got 0"),
    "samples-negative": ([*TRAIN, "--samples", "-5"], "samples must be a positive integer"),
    "samples-abc": ([*TRAIN, "--samples", "abc"], "argument --samples: invalid int value: 'abc'"),
    "batch-size-0": ([*TRAIN, "--batch-size", "0"], "batch_size must be a positive integer"),
    "epochs-0": ([*TRAIN, "--epochs", "0"], "epochs must be a positive integer"),
    "lr-0": ([*TRAIN, "--lr", "0"], "lr must be a positive finite number, got 0.0"),
    "lr-negative": ([*TRAIN, "--lr", "-1"], "lr must be a positive finite number, got -1.0"),
    "lr-nan": ([*TRAIN, "--lr", "nan"], "lr must be a positive finite number, got nan"),
    "lr-inf": ([*TRAIN, "--lr", "inf"], "lr must be a positive finite number, got inf"),
    "hidden-empty-width": ([*TRAIN, "--hidden", "8,,8"], "got '8,,8'"),
    "hidden-0": ([*TRAIN, "--hidden", "0"], "hidden must be comma-separated positive widths"),
    "hidden-abc": ([*TRAIN, "--hidden", "abc"], "positive widths like 8,8 or 8:tanh,8:relu"),
    "hidden-activation": ([*TRAIN, "--hidden", "8:swishy"], "unknown activation 'swishy'"),
    "dataset": ([*TRAIN, "--dataset", "nope"], ["unknown dataset 'nope'", *DATASETS]),
    "activation": ([*TRAIN, "--activation", "nope"], ["unknown activation 'nope'", "relu"]),
    "optimizer": ([*TRAIN, "--optimizer", "nope"], ["unknown optimizer 'nope'", "adam", "sgd"]),
    "loss": ([*TRAIN, "--loss", "nope"], ["unknown loss 'nope'; valid names:", *LOSSES]),
    "test-size-0": ([*TRAIN, "--test-size", "0"], "test_size must be in (0.0, 1.0), got 0.0"),
    "test-size-1": ([*TRAIN, "--test-size", "1"], "test_size must be in (0.0, 1.0), got 1.0"),
    "test-size-1.5": ([*TRAIN, "--test-size", "1.5"], "test_size must be in (0.0, 1.0)"),
    "noise-overflow": ([*TRAIN, "--noise", "1e308"], "makes points that are not finite"),
    "momentum-adam": ([*TRAIN, "--optimizer", "adam", "--momentum", "0.5"], "momentum applies"),
    "csv-missing": (
        [*CSV_TRAIN, "--dataset", "csv:missing.csv"],
        "CSV file missing.csv does not exist",
    ),
    "csv-empty": ([*CSV_TRAIN, "--dataset", "csv:empty.csv"], "empty.csv: file is empty"),
    "csv-malformed": (
        [*CSV_TRAIN, "--dataset", "csv:bad.csv"],
        "bad.csv line 3: expected 3 columns",
    ),
    "csv-label-2": (
        [*CSV_TRAIN, "--dataset", "csv:three.csv", "--loss", "binary_crossentropy"],
        "three.csv: loss binary_crossentropy takes one sigmoid output, which fits 2 classes",
    ),
    "csv-label-words": ([*CSV_TRAIN, "--dataset", "csv:words.csv"], "words.csv line 3: could"),
    "csv-nan-feature": ([*CSV_TRAIN, "--dataset", "csv:nan.csv"], "nan.csv line 3: non-finite"),
    "csv-inf-target": ([*CSV_TRAIN, "--dataset", "csv:nantarget.csv"], "line 3: non-finite"),
    "csv-one-class": ([*CSV_TRAIN, "--dataset", "csv:one.csv"], "every label is class 1"),
    "csv-too-many": ([*CSV_TRAIN, "--dataset", "csv:many.csv"], "make 13 classes; at most 8"),
    "csv-real-as-classes": (
        [*CSV_TRAIN, "--dataset", "csv:real.csv", "--task", "classification"],
        "real.csv line 2: label 0.5 is not a class id",
    ),
    "csv-classes": (
        [*CSV_TRAIN, "--dataset", "csv:real.csv", "--classes", "3"],
        "a CSV file's labels give its classes",
    ),
    "classes-9": ([*TRAIN, "--dataset", "spiral", "--classes", "9"], "from 2 to 8, got 9"),
    "classes-circle": ([*TRAIN, "--classes", "3"], "classes applies to spiral, gaussians, blobs"),
    "regression-classes": (
        [*TRAIN, "--dataset", "bump", "--classes", "3"],
        "classes applies to classification; dataset bump has real targets",
    ),
    "regression-bce": ([*TRAIN, "--dataset", "ripple", "--loss", "binary_crossentropy"], "mse"),
    "regression-task": ([*TRAIN, "--dataset", "plane", "--task", "classification"], "plane"),
    "sigmoid-for-3": (
        [*TRAIN, "--dataset", "spiral", "--classes", "3", "--loss", "binary_crossentropy"],
        "fits 2 classes, but the data has 3",
    ),
    "evaluate-regression-data": (
        ["evaluate", "run", "--dataset", "bump"],
        "the model is a classifier, but bump is a regression dataset",
    ),
    "toml-unknown-key": ([*TRAIN, "--config", "unknown.toml"], ["unknown key 'epoch'", "epochs"]),
    "toml-invalid": ([*TRAIN, "--config", "invalid.toml"], "invalid.toml is not valid TOML"),
    "toml-wrong-type": ([*TRAIN, "--config", "number.toml"], "dataset must be text, got 5"),
    "toml-missing": ([*TRAIN, "--config", "none.toml"], "config file none.toml does not exist"),
    "out-is-a-file": (["train", "--out", "afile", "--quiet"], "--out afile is a file"),
    "demo-bad-lr": (["demo", "--out", "out", "--lr", "-1"], "lr must be a positive finite number"),
    "csv-with-samples": (
        [*TRAIN, "--dataset", "csv:bad.csv"],
        "--samples does not apply to --dataset csv:bad.csv",
    ),
    "unknown-command": (["fly"], "invalid choice: 'fly'"),
    "evaluate-missing": (["evaluate", "nothere"], "run folder nothere does not exist"),
    "evaluate-no-config": (["evaluate", "noconfig"], "noconfig is not a run folder"),
    "evaluate-bad-json": (["evaluate", "badjson"], "badjson/config.json is not valid JSON"),
    "evaluate-no-model": (["evaluate", "nomodel"], "nomodel/model.json is missing"),
    "evaluate-tampered": (["evaluate", "tampered"], "tampered/model.safetensors: contents do"),
    "evaluate-samples-0": (["evaluate", "run", "--samples", "0"], "samples must be a positive"),
    "evaluate-wide-csv": (["evaluate", "run", "--dataset", "csv:wide.csv"], "the data has 3"),
    "evaluate-csv-noise": (
        ["evaluate", "run", "--dataset", "csv:wide.csv", "--noise", "0.1"],
        "--noise does not apply to the CSV data csv:wide.csv",
    ),
    "predict-missing": (["predict", "nothere", "0", "0"], "run folder nothere does not exist"),
    "predict-bad-json": (["predict", "badjson", "0", "0"], "badjson/config.json is not valid"),
    "predict-tampered": (["predict", "tampered", "0", "0"], "tampered/model.safetensors"),
    "predict-no-point": (["predict", "run"], "predict needs a point"),
    "predict-3-coords": (["predict", "run", "0", "0", "0"], "the model takes 2 features, got 3"),
    "predict-not-a-number": (["predict", "run", "0", "x"], "invalid float value: 'x'"),
    "predict-csv-missing": (["predict", "run", "--csv", "no.csv"], "CSV file no.csv does not"),
    "predict-csv-malformed": (["predict", "run", "--csv", "bad.csv"], "bad.csv line 3"),
    "predict-output-folder": (
        ["predict", "run", "0", "0", "--output", "nodir/p.csv"],
        "the folder of nodir/p.csv does not exist",
    ),
    "gradcheck-points-0": (["gradcheck", "--points", "0"], "points must be a positive integer"),
    "gradcheck-bad-loss": (["gradcheck", "--loss", "hinge"], "unknown loss 'hinge'"),
}


@pytest.mark.parametrize(("argv", "expected"), BAD.values(), ids=BAD.keys())
def test_bad_input_exits_2_with_one_line_and_writes_nothing(inputs, argv, expected):
    before = tree(inputs)
    code, out, err = run_main(argv)
    assert code == 2
    assert err.startswith("backprop-lab: error: ") and err.count("\n") == 1, err
    for part in [expected] if isinstance(expected, str) else expected:
        assert part in err
    assert "Traceback" not in err
    assert out == ""
    assert tree(inputs) == before  # no run folder, no --out folder, no output file


@pytest.mark.subprocess
@pytest.mark.parametrize(
    "key", ["lr-nan", "samples-abc", "csv-malformed", "evaluate-bad-json", "toml-invalid"]
)
def test_bad_input_in_a_real_process(inputs, key):
    argv, expected = BAD[key]
    before = tree(inputs)
    proc = run_process(argv)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and expected in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert tree(inputs) == before


def test_a_failure_during_training_leaves_no_empty_run_folder(tmp_path, monkeypatch):
    def fail(*args, **kwargs):
        raise ValueError("x contains NaN or infinite values")

    monkeypatch.setattr(runner, "train_run", fail)
    code, out, err = run_main(["train", "--out", tmp_path, "--samples", "60", "--quiet"])
    assert code == 2 and "x contains NaN" in err and out == ""
    assert list(tmp_path.iterdir()) == []


def test_an_unwritable_place_is_one_line_and_exit_2(tmp_path, monkeypatch):
    from backprop_lab.runs import folders

    def refuse(out, name):
        raise PermissionError(13, "Permission denied", str(out))

    monkeypatch.setattr(folders, "new_run_dir", refuse)
    code, _, err = run_main(["train", "--out", tmp_path / "ro", "--samples", "60", "--quiet"])
    assert code == 2
    assert err == f"backprop-lab: error: {tmp_path / 'ro'}: Permission denied\n"


def test_ctrl_c_before_training_exits_130_without_a_traceback(tmp_path, monkeypatch):
    def interrupted(settings):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "load_data", interrupted)
    code, _, err = run_main(["train", "--out", tmp_path / "out", "--quiet"])
    assert (code, err) == (130, "backprop-lab: interrupted while loading the data\n")
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- --config


def test_config_file_with_command_line_overrides(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("run.toml").write_text(
        'samples = 300\nhidden = "4,4:tanh"\nepochs = 5\nseed = 5\nname = "fromfile"\n'
        'batch-size = 16\noptimizer = "adam"\nout = "fromtoml"\n'
    )
    code, _, err = run_main(["train", "--config", "run.toml", "--epochs", "2", "--seed", "7"])
    assert (code, err) == (0, "")
    folder = only_run_folder(Path("fromtoml"))
    assert folder.name.endswith("-fromfile")
    settings = read_json(folder / "config.json")["settings"]
    expected = {"samples": 300, "hidden": "4,4:tanh", "batch_size": 16, "optimizer": "adam"}
    assert {k: settings[k] for k in expected} == expected  # from the file
    assert (settings["epochs"], settings["seed"]) == (2, 7)  # from the command line
    assert len(read_history(folder)[1]) == 2
    assert repr(load_model(folder)) == (
        "Sequential([Dense(4, activation='relu'), Dense(4, activation='tanh'), "
        "Dense(1, activation='sigmoid')])"
    )


# --------------------------------------------------------------------------- predict


def test_predict_one_point_prints_probability_and_label(demo):
    model = load_model(demo.folder)
    for point in ([0.0, 0.0], [-0.5, 0.25]):  # negative numbers are not options
        code, out, err = run_main(["predict", demo.folder, *point])
        assert (code, err) == (0, "")
        p = model.predict(np.array([point]), verbose=0)[0, 0]
        label = int(p > 0.5)
        assert out == f"x1,x2,probability,label\n{point[0]!r},{point[1]!r},{p:.6f},{label}\n"


def test_predict_csv_writes_a_csv_and_never_overwrites(demo, tmp_path):
    points = np.array([[0.0, 0.0], [0.9, 0.9], [-0.3, 0.1], [0.5, -0.6]])
    (tmp_path / "points.csv").write_text(
        "x1,x2\n" + "".join(f"{a},{b}\n" for a, b in points.tolist())
    )
    output = tmp_path / "preds.csv"
    code, out, err = run_main(
        ["predict", demo.folder, "--csv", tmp_path / "points.csv", "--output", output]
    )
    assert (code, err) == (0, "")
    assert out == f"Wrote 4 predictions to {output}\n"
    with open(output, newline="") as f:
        rows = list(csv.DictReader(f))
    P = load_model(demo.folder).predict(points, verbose=0)[:, 0]
    assert [list(r) for r in rows[:1]] == [["x1", "x2", "probability", "label"]]
    for row, x, p in zip(rows, points, P, strict=True):
        assert [float(row["x1"]), float(row["x2"])] == list(x)
        assert float(row["probability"]) == pytest.approx(p, abs=5e-7)
        assert int(row["label"]) == int(p > 0.5)
    saved = output.read_bytes()
    code, out, err = run_main(["predict", demo.folder, "0", "0", "--output", output])
    assert code == 2 and "exists; refusing to overwrite it" in err and out == ""
    assert output.read_bytes() == saved


def test_predict_with_a_softmax_run_prints_every_class(tmp_path):
    argv = ["train", "--dataset", "spiral", "--loss", "sparse_categorical_crossentropy"]
    code, _, _ = run_main([*argv, "--epochs", "1", "--samples", "90", "--out", tmp_path, "--quiet"])
    assert code == 0
    folder = only_run_folder(tmp_path)
    code, out, _ = run_main(["predict", folder, "0.1", "0.2"])
    header, row = out.splitlines()
    assert header == "x1,x2,p0,p1,label"
    p0, p1, label = row.split(",")[2:]
    assert float(p0) + float(p1) == pytest.approx(1, abs=2e-6)
    assert int(label) == int(float(p1) > float(p0))


# --------------------------------------------------------------------------- gradcheck


@pytest.mark.parametrize(
    "options",
    [
        [],
        ["--hidden", "8:tanh,4:relu"],
        ["--loss", "mse"],
        ["--loss", "sparse_categorical_crossentropy"],
        ["--hidden", "6,6", "--activation", "sigmoid", "--l2", "0.01"],
    ],
)
def test_gradcheck_passes(options):
    code, out, err = run_main(["gradcheck", *options])
    assert (code, err) == (0, "")
    layer_lines = [line for line in out.splitlines() if line.startswith("  layer ")]
    n_hidden = 2 if "--hidden" in options else 1
    assert len(layer_lines) == n_hidden + 1
    assert out.splitlines()[-1].startswith("PASS: largest difference")


_BACKWARD_Z = Dense.backward_z


def wrong_backward_z(self, dZ):
    """Dense.backward_z with a 1% error in dW."""
    dX = _BACKWARD_Z(self, dZ)
    self.grads[0] *= 1.01
    return dX


def test_gradient_check_catches_a_wrong_gradient(monkeypatch):
    settings = Settings(hidden="8:tanh,4:relu", seed=0).validate()
    model = runner.build_model(settings, 2, 2, dtype="float64")
    monkeypatch.setattr(
        model.layers[1], "backward_z", types.MethodType(wrong_backward_z, model.layers[1])
    )
    X = np.random.default_rng(0).uniform(-1, 1, (16, 2))
    Y = model.loss.prepare_targets(np.arange(16) % 2, 1, np.float64)
    rows = check_gradients(model, X, Y)
    # |1.01 g - g| / (1.01 |g|): the relative error of the scaled entries.
    assert rows[1]["kernel"] == pytest.approx(0.01 / 1.01, rel=1e-3)
    assert rows[1]["bias"] < 1e-6  # db was left right
    assert rows[0]["max"] < 1e-6 and rows[2]["max"] < 1e-6  # and the other layers too


def test_gradcheck_command_fails_on_a_wrong_gradient(monkeypatch):
    monkeypatch.setattr(Dense, "backward_z", wrong_backward_z)
    code, out, _ = run_main(["gradcheck"])
    assert code == 1
    assert out.splitlines()[-1].startswith("FAIL: largest difference 9.90e-03")


# --------------------------------------------------------------------------- divergence


DIVERGING = {
    # A linear network with MSE and an absurd step: the loss is NaN in epoch 1.
    "nan-loss": ["--loss", "mse", "--activation", "linear", "--lr", "1e30", "--samples", "200"],
    # Adam moves each weight by about lr per step: float32 overflows after a few
    # steps while the clipped cross-entropy stays finite.
    "inf-weights": ["--optimizer", "adam", "--lr", "3e37", "--samples", "200"],
}


@pytest.mark.parametrize("options", DIVERGING.values(), ids=DIVERGING.keys())
def test_divergence_exits_1_and_keeps_the_run(tmp_path, options):
    code, out, err = run_main(
        ["train", *options, "--epochs", "8", "--seed", "0", "--out", tmp_path, "--quiet"]
    )
    assert code == 1
    folder = only_run_folder(tmp_path)
    m = read_json(folder / "metrics.json")
    n = m["diverged_epoch"]
    assert n is not None and n == m["epochs_completed"]
    assert f"Training diverged in epoch {n} " in err
    assert "try a smaller learning rate (--lr)" in err
    assert "Traceback" not in err and "Warning" not in err
    assert f"Run folder: {folder}" in out
    assert {p.name for p in folder.iterdir()} == FILES
    _, rows = read_history(folder)
    assert len(rows) == n  # the history up to the diverged epoch
    model = load_model(folder)  # the last finite weights, which load again
    assert all(np.isfinite(w).all() for w in model.get_weights())
    assert math.isfinite(m["test_loss"])
    assert run_main(["evaluate", folder])[0] == 0


@pytest.mark.subprocess
def test_divergence_in_a_real_process(tmp_path):
    proc = run_process(
        ["train", *DIVERGING["nan-loss"], "--seed", "0", "--out", tmp_path, "--quiet"]
    )
    assert proc.returncode == 1
    assert "Training diverged in epoch 1 " in proc.stderr
    assert "Traceback" not in proc.stderr and "RuntimeWarning" not in proc.stderr
    _, rows = read_history(only_run_folder(tmp_path))
    assert len(rows) == 1 and rows[0]["loss"] == "nan"


# --------------------------------------------------------------------------- Ctrl-C


class InterruptAt(Callback):
    """Raises KeyboardInterrupt, as Ctrl-C does, in ``batch`` of ``epoch`` (0-based),
    and keeps the logs and weights of every finished epoch."""

    def __init__(self, epoch, batch):
        super().__init__()
        self.at = (epoch, batch)
        self.logs, self.weights = [], []

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        self.logs.append(dict(logs))
        self.weights.append(self.model.get_weights())

    def on_train_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            raise KeyboardInterrupt


def test_ctrl_c_keeps_the_finished_epochs_and_exits_130(tmp_path, monkeypatch):
    interrupt = InterruptAt(epoch=3, batch=2)
    monkeypatch.setattr(
        runner, "train_run", functools.partial(runner.train_run, callbacks=[interrupt])
    )
    argv = [
        "train",
        "--epochs",
        "10",
        "--samples",
        "300",
        "--seed",
        "0",
        "--out",
        tmp_path,
        "--quiet",
    ]
    code, out, err = run_main(argv)
    assert code == 130
    assert "Interrupted: kept the history and weights of 3 finished epoch(s)." in err
    folder = only_run_folder(tmp_path)
    assert {p.name for p in folder.iterdir()} == FILES
    m = read_json(folder / "metrics.json")
    assert m["interrupted"] is True and m["epochs_completed"] == 3
    _, rows = read_history(folder)
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]
    for row, logs in zip(rows, interrupt.logs, strict=True):
        assert float(row["loss"]) == logs["loss"] and float(row["val_loss"]) == logs["val_loss"]
    # Epoch 4 had already taken 3 steps; the saved weights are those of epoch 3.
    saved = load_model(folder).get_weights()
    for w_saved, w_epoch3 in zip(saved, interrupt.weights[2], strict=True):
        np.testing.assert_array_equal(w_saved, w_epoch3)
    assert not np.array_equal(interrupt.weights[2][0], interrupt.weights[1][0])


@pytest.mark.subprocess
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_a_real_sigint_during_training(tmp_path):
    argv = ["train", "--epochs", "100000", "--samples", "2000", "--seed", "0", "--out", tmp_path]
    proc = subprocess.Popen(
        [sys.executable, "-m", "backprop_lab", *map(str, argv)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    watchdog = threading.Timer(120, proc.kill)  # never hang the test suite
    watchdog.start()
    try:
        for _ in range(3):  # one progress line per finished epoch
            assert proc.stdout.readline().startswith("Epoch ")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        watchdog.cancel()
        proc.kill()
    assert proc.returncode == 130, err
    assert "Interrupted: kept the history and weights of" in err
    assert "Traceback" not in err
    folder = only_run_folder(tmp_path)
    assert len(read_history(folder)[1]) >= 3
    load_model(folder)


def test_evaluate_on_new_data_scores_every_new_point(demo):
    code, out, err = run_main(["evaluate", demo.folder, "--samples", "3000", "--seed", "5"])
    assert code == 0, err
    assert "new data (circle, seed 5) (3000 points)" in out
    # Without --seed, a fresh seed is drawn (the run's own would redraw its training points).
    code, out, _ = run_main(["evaluate", demo.folder, "--samples", "500"])
    assert code == 0 and "(500 points)" in out and ", seed " in out


def test_names_are_matched_without_regard_to_case(tmp_path):
    argv = ["train", "--optimizer", "SGD", "--dataset", "Circle", "--activation", "ReLU"]
    code, _, err = run_main([*argv, "--epochs", "1", "--samples", "200", "--out", tmp_path])
    assert code == 0, err
    config = read_json(only_run_folder(tmp_path) / "config.json")
    assert config["settings"]["optimizer"] == "sgd" and config["settings"]["dataset"] == "circle"


def test_an_internal_error_is_one_line_with_its_own_exit_code(tmp_path, monkeypatch):
    from backprop_lab.runs import folders

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(folders, "write_run", broken)
    code, _, err = run_main(["train", "--epochs", "1", "--samples", "200", "--out", tmp_path])
    assert code == 70
    assert err.strip() == (
        "backprop-lab: internal error: RuntimeError: disk on fire "
        "(set BACKPROP_LAB_DEBUG=1 to see the traceback)"
    )


def test_predict_refuses_a_point_and_a_csv_together(demo, tmp_path):
    points = tmp_path / "points.csv"
    points.write_text("x1,x2\n0.1,0.2\n")
    code, out, err = run_main(["predict", demo.folder, "0.1", "0.2", "--csv", points])
    assert code == 2 and "not both" in err and out == ""


def test_pictures_a_run_cannot_have_are_named_on_the_console(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (80, 3))
    rows = "".join(f"{a},{b},{c},{int(a * b > 0)}\n" for a, b, c in X)
    (tmp_path / "three.csv").write_text("x1,x2,x3,label\n" + rows)
    argv = ["train", "--dataset", f"csv:{tmp_path / 'three.csv'}", "--epochs", "2"]
    code, out, err = run_main([*argv, "--out", tmp_path / "runs", "--quiet"])
    assert code == 0, err
    assert "boundary.png not drawn: the data has 3 input features" in out
    assert "network.png not drawn" in out
    files = {p.name for p in only_run_folder(tmp_path / "runs").iterdir()}
    assert "boundary.png" not in files and "curves.png" in files


def test_evaluate_reads_new_data_as_the_model_s_kind_of_problem(tmp_path):
    out = tmp_path / "runs"
    argv = ["train", "--dataset", "bump", "--samples", "300", "--epochs", "3", "--seed", "0"]
    assert run_main([*argv, "--quiet", "--out", out])[0] == 0
    regression = only_run_folder(out)
    rows = "".join(f"{x / 10},{x / 20},{x % 3}\n" for x in range(12))  # integer targets
    (tmp_path / "ints.csv").write_text("x1,x2,y\n" + rows)
    code, text, err = run_main(
        ["evaluate", regression, "--dataset", f"csv:{tmp_path / 'ints.csv'}"]
    )
    assert code == 0, err
    assert "Test R²" in text


def test_names_of_datasets_and_tasks_ignore_case(tmp_path):
    rows = "".join(f"{x / 10},{x / 20},{x / 7}\n" for x in range(12))
    (tmp_path / "reg.csv").write_text("x1,x2,y\n" + rows)
    argv = ["train", "--dataset", f"CSV:{tmp_path / 'reg.csv'}", "--task", "Regression"]
    code, out, err = run_main([*argv, "--epochs", "2", "--quiet", "--out", tmp_path / "runs"])
    assert code == 0, err
    config = read_json(only_run_folder(tmp_path / "runs") / "config.json")
    assert config["settings"]["dataset"].startswith("csv:")
    assert config["settings"]["task"] == "regression"


def test_classes_out_of_range_names_the_range(tmp_path):
    code, _, err = run_main(["train", "--dataset", "spiral", "--classes", "0", "--out", tmp_path])
    assert code == 2
    assert err == "backprop-lab: error: classes must be an integer from 2 to 8, got 0\n"
