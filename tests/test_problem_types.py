"""More than two classes, and regression: from the data to the metrics and the CLI (issue 11)."""

import json
from pathlib import Path

import numpy as np
import pytest

from backprop_lab.cli import main
from backprop_lab.data.csvio import save_csv
from backprop_lab.data.datasets import TRUE_LABELS
from backprop_lab.runs.runner import Data, load_data, train_run
from backprop_lab.runs.settings import Settings

SPIRAL_3 = {
    "dataset": "spiral",
    "classes": 3,
    "samples": 3000,
    "hidden": "32:tanh,32:tanh",
    "optimizer": "adam",
    "lr": 0.01,
    "epochs": 60,
    "seed": 0,
}
BUMP = {
    "dataset": "bump",
    "samples": 2000,
    "hidden": "16:tanh,16:tanh",
    "optimizer": "adam",
    "lr": 0.01,
    "epochs": 30,
    "seed": 0,
}


def _argv(settings: dict) -> list[str]:
    return [w for k, v in settings.items() for w in (f"--{k.replace('_', '-')}", str(v))]


def run_main(argv, capsys):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


# --------------------------------------------------------------------------- learning


def test_a_three_class_spiral_is_learnt_to_95_percent():
    result = train_run(Settings(**SPIRAL_3).validate())
    m, model = result.metrics, result.model
    assert repr(model.layers[-1]) == "Dense(3, activation='softmax')"
    assert result.settings.loss == "sparse_categorical_crossentropy"  # what "auto" became
    assert m["test_accuracy"] >= 0.95
    assert m["baseline_accuracy"] < 0.4  # three balanced classes
    C = np.array(m["confusion_matrix"])
    assert C.shape == (3, 3) and C.sum() == m["n_test"]
    assert np.trace(C) / C.sum() == pytest.approx(m["test_accuracy"])
    assert np.allclose(m["recall"], np.diag(C) / C.sum(axis=1))
    assert np.allclose(m["precision"], np.diag(C) / C.sum(axis=0))
    assert m["macro_f1"] >= 0.95
    assert m["diagnosis"]["verdict"] == "learned"


def test_a_regression_surface_reaches_r2_095_in_a_short_training():
    result = train_run(Settings(**BUMP).validate())
    m, data = result.metrics, result.data
    assert repr(result.model.layers[-1]) == "Dense(1, activation='linear')"
    assert result.model.loss.name == "mean_squared_error" and result.settings.loss == "mse"
    assert m["r2"] >= 0.95
    P = result.model.predict(data.X_test, verbose=0)[:, 0]
    assert m["mse"] == pytest.approx(np.mean((P - data.y_test) ** 2), rel=1e-6)
    assert m["mae"] == pytest.approx(np.mean(np.abs(P - data.y_test)), rel=1e-6)
    assert m["baseline_mse"] == pytest.approx(np.var(data.y_test))
    assert m["r2"] == pytest.approx(1 - m["mse"] / m["baseline_mse"])
    assert "test_accuracy" not in m and "confusion_matrix" not in m
    assert m["diagnosis"]["verdict"] == "learned"
    # true_labels is the exact target function
    np.testing.assert_array_equal(data.true_labels(data.X_test), TRUE_LABELS["bump"](data.X_test))


def test_an_untrained_regression_is_judged_no_better_than_the_mean():
    result = train_run(Settings(**{**BUMP, "epochs": 1, "lr": 1e-6, "optimizer": "sgd"}).validate())
    assert result.metrics["r2"] < 0.05
    assert result.metrics["diagnosis"]["verdict"] == "baseline"
    assert "no better than always predicting the mean" in result.metrics["diagnosis"]["summary"]


# --------------------------------------------------------------------------- data from Python


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"X_train": np.array([[np.nan, 0.0], [1.0, 1.0]])}, "X_train holds NaN or infinity"),
        ({"y_test": np.array([np.inf, 1.0])}, "y_test holds NaN or infinity"),
        ({"y_train": np.array(["a", "b"])}, "y_train must hold numbers"),
        ({"y_train": np.array([0.5, 1.0])}, "y_train must hold class ids 0..k-1"),
        ({"task": "clustering"}, "task must be classification or regression"),
    ],
)
def test_data_refuses_bad_values_with_a_value_error(changes, message):
    good = {
        "X_train": np.zeros((2, 2)),
        "y_train": np.array([0, 1]),
        "X_test": np.zeros((2, 2)),
        "y_test": np.array([1, 0]),
    }
    with pytest.raises(ValueError, match=message):
        Data(**{**good, **changes})


@pytest.mark.parametrize(
    ("y", "message"),
    [
        (np.ones(8), "every label is class 1; classification needs at least 2"),
        (np.arange(8) * 2, "labels up to 14 make 15 classes; at most 8 are allowed"),
        (np.array([0, 2] * 4), "class 1 has no points; class labels must be 0..k-1 with every"),
    ],
)
def test_train_run_refuses_one_class_or_too_many(y, message):
    data = Data(np.zeros((6, 2)), y[:6], np.zeros((2, 2)), y[6:])
    with pytest.raises(ValueError, match=message):
        train_run(Settings(epochs=1, seed=0).validate(), data=data)


def test_a_csv_of_real_targets_is_a_regression_and_can_be_forced_either_way(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (50, 2))
    save_csv(tmp_path / "r.csv", X, X[:, 0] * 0.3)
    save_csv(tmp_path / "k.csv", X, (X[:, 0] > 0).astype(int) + (X[:, 1] > 0))
    data = load_data(Settings(dataset=f"csv:{tmp_path / 'r.csv'}", seed=0).validate())
    assert data.task == "regression" and data.y_train.dtype == np.float64
    data = load_data(Settings(dataset=f"csv:{tmp_path / 'k.csv'}", seed=0).validate())
    assert data.task == "classification" and data.n_classes == 3
    forced = Settings(dataset=f"csv:{tmp_path / 'k.csv'}", task="regression", seed=0)
    assert load_data(forced.validate()).task == "regression"
    with pytest.raises(ValueError, match="is not a class id"):
        load_data(Settings(dataset=f"csv:{tmp_path / 'r.csv'}", task="classification", seed=0))
    with pytest.raises(ValueError, match="r.csv: loss sparse_categorical_crossentropy needs"):
        bad = Settings(dataset=f"csv:{tmp_path / 'r.csv'}", loss="sparse_categorical_crossentropy")
        load_data(bad.validate())


# --------------------------------------------------------------------------- the command line


def test_a_csv_with_a_class_missing_below_the_largest_is_refused_in_one_line(
    tmp_path, monkeypatch, capsys
):
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (40, 2))
    save_csv(tmp_path / "k.csv", X, 1 + (X[:, 0] > 0).astype(int))  # labels {1, 2}
    with pytest.raises(ValueError, match="k.csv: class 0 has no points; class labels must be"):
        load_data(Settings(dataset=f"csv:{tmp_path / 'k.csv'}", seed=0).validate())
    monkeypatch.chdir(tmp_path)
    code, out, err = run_main(["train", "--dataset", "csv:k.csv", "--epochs", "1"], capsys)
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "class 0 has no points; class labels must be 0..k-1 with every class present" in err
    assert not Path("runs").exists() or not any(Path("runs").iterdir())


def test_the_cli_trains_predicts_and_evaluates_three_classes(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_main(["train", *_argv(SPIRAL_3), "--quiet"], capsys)
    assert code == 0, err
    assert "Macro-F1" in out and "would score" in out
    folder = next(Path("runs").iterdir())
    config = json.loads((folder / "config.json").read_text())["settings"]
    assert (config["loss"], config["task"], config["classes"]) == (
        "sparse_categorical_crossentropy",
        "classification",
        3,
    )
    metrics = json.loads((folder / "metrics.json").read_text())
    assert len(metrics["confusion_matrix"]) == 3 and len(metrics["precision"]) == 3
    code, out, err = run_main(["predict", folder, "0.1", "0.2"], capsys)
    assert code == 0, err
    header, row = out.splitlines()
    assert header == "x1,x2,p0,p1,p2,label"
    probs = [float(v) for v in row.split(",")[2:5]]
    assert sum(probs) == pytest.approx(1, abs=1e-5)
    assert int(row.split(",")[-1]) == int(np.argmax(probs))
    code, out, err = run_main(["evaluate", folder], capsys)
    assert code == 0, err
    assert f"macro-F1 {metrics['macro_f1']:.3f}" in out and "class 2: precision" in out
    code, out, err = run_main(["evaluate", folder, "--dataset", "bump"], capsys)
    assert code == 2 and "the model is a classifier, but bump is a regression dataset" in err


def test_the_cli_trains_predicts_and_evaluates_a_regression(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_main(["train", *_argv(BUMP), "--quiet"], capsys)
    assert code == 0, err
    assert "Test R²" in out and "always predicting the mean" in out
    folder = next(Path("runs").iterdir())
    config = json.loads((folder / "config.json").read_text())["settings"]
    assert (config["loss"], config["task"]) == ("mse", "regression")
    metrics = json.loads((folder / "metrics.json").read_text())
    assert {"mse", "mae", "r2", "test_loss", "diagnosis"} <= set(metrics)
    code, out, err = run_main(["predict", folder, "0", "0"], capsys)
    assert code == 0, err
    header, row = out.splitlines()
    assert header == "x1,x2,value" and abs(float(row.split(",")[2]) - 1.0) < 0.1
    code, out, err = run_main(["evaluate", folder], capsys)
    assert code == 0, err
    assert f"Test R² {metrics['r2']:.3f}" in out
    code, out, err = run_main(["evaluate", folder, "--dataset", "plane", "--seed", "1"], capsys)
    assert code == 0, err
    assert "on new data (plane, seed 1)" in out and "Test R²" in out
    code, out, err = run_main(["evaluate", folder, "--dataset", "circle"], capsys)
    assert code == 2 and "the model predicts values (regression), but circle" in err


def test_an_old_run_folder_with_an_explicit_loss_still_evaluates(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    argv = ["train", "--samples", "200", "--epochs", "2", "--seed", "1", "--quiet"]
    assert run_main(argv, capsys)[0] == 0
    folder = next(Path("runs").iterdir())
    path = folder / "config.json"
    config = json.loads(path.read_text())
    del config["settings"]["task"], config["settings"]["classes"]  # written before issue 11
    config["settings"]["loss"] = "binary_crossentropy"
    path.write_text(json.dumps(config))
    code, out, err = run_main(["evaluate", folder], capsys)
    assert code == 0, err
    assert "Test accuracy" in out
    code, out, err = run_main(["report", folder], capsys)
    assert code == 0, err
