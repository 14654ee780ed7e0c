"""Experiments: determinism across workers and backends, resume, protocols, bad input."""

import csv
import re

import numpy as np
import pytest

from backprop_lab import experiments as ex
from backprop_lab.cli import main
from backprop_lab.experiments import results
from backprop_lab.runs.settings import Settings

SMALL = Settings(epochs=2, seed=0)
TIMING = {"seconds"}  # the only column allowed to differ between runs


def _rows(table):
    """Records without timings; a DataFrame's NaN for a missing cell reads as None again."""
    rows = table.to_dict("records") if hasattr(table, "to_dict") else table
    return [
        {k: None if v is None or v != v else v for k, v in row.items() if k not in TIMING}
        for row in rows
    ]


def _scale(tmp_path, name, **kwargs):
    options = dict(sizes=[64, 128], seeds=2, steps=30, test_samples=2000, seed=7)
    options.update(kwargs)
    return ex.scale(SMALL, folder=tmp_path / name, **options)


def _mkdirs(tmp_path, *names):
    for name in names:
        (tmp_path / name).mkdir()


def test_scale_rows_cover_grid_and_protocols(tmp_path):
    _mkdirs(tmp_path, "a")
    rows = _rows(_scale(tmp_path, "a"))
    assert len(rows) == 2 * 2 * 2  # sizes x seeds x protocols
    assert {r["protocol"] for r in rows} == {"fixed-epochs", "fixed-steps"}
    for r in rows:
        assert r["status"] == "ok"
        assert 0 <= r["test_accuracy"] <= 1
        if r["protocol"] == "fixed-steps":
            assert r["steps"] == 30  # exactly the same number of updates at every size
        else:
            assert r["steps"] == 2 * -(-r["size"] // 32)  # epochs x batches per epoch
    # Both protocols at one grid position share data and initial weights (same seed).
    by_position = {}
    for r in rows:
        by_position.setdefault((r["size"], r["seed"]), set()).add(r["protocol"])
    assert all(len(p) == 2 for p in by_position.values())


@pytest.mark.dask
def test_table_is_identical_for_any_number_of_workers_and_dask(tmp_path):
    _mkdirs(tmp_path, "one", "two", "dask")
    serial = _rows(_scale(tmp_path, "one", n_jobs=1))
    parallel = _rows(_scale(tmp_path, "two", n_jobs=2))
    assert serial == parallel
    # A real local Dask cluster of worker processes gives the same table.
    on_dask = _rows(_scale(tmp_path, "dask", dask_workers=2))
    assert serial == on_dask


def test_resume_skips_finished_trainings_and_gives_the_same_table(tmp_path):
    _mkdirs(tmp_path, "full", "cut")
    full = _rows(_scale(tmp_path, "full"))
    _scale(tmp_path, "cut")
    # Simulate an interruption: the header, three finished rows and one cut short.
    path = tmp_path / "cut" / "results.csv"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:4]) + lines[4][:12])
    calls = []
    resumed = _rows(_scale(tmp_path, "cut", progress=lambda i, n: calls.append(n)))
    assert calls and calls[-1] == len(full) - 3  # only the missing trainings ran
    assert resumed == full


def test_resume_refuses_results_of_another_experiment(tmp_path):
    (tmp_path / "a").mkdir()
    _scale(tmp_path, "a", seed=7)
    with pytest.raises(ValueError, match="different experiment"):
        _scale(tmp_path, "a", seed=8)


def test_seed_derivation_depends_on_position_only():
    a = ex.scale_jobs([50, 500], 3, ex.PROTOCOLS, 100, experiment_seed=1)
    b = ex.scale_jobs([50, 500], 3, ex.PROTOCOLS, 100, experiment_seed=1)
    c = ex.scale_jobs([50, 500], 3, ex.PROTOCOLS, 100, experiment_seed=2)
    assert [j.seed for j in a] == [j.seed for j in b]
    assert [j.seed for j in a] != [j.seed for j in c]
    assert len({j.seed for j in a}) == 6  # one per (size, replicate)


def test_default_grid_is_log_spaced_from_50_to_500000():
    sizes = ex.default_sizes()
    assert sizes[0] == 50 and sizes[-1] == 500_000 and len(sizes) == 10
    ratios = np.diff(np.log(sizes))
    assert np.allclose(ratios, ratios[0], rtol=0.01)


def test_diverged_training_is_recorded_not_dropped(tmp_path):
    (tmp_path / "d").mkdir()
    settings = Settings(epochs=2, seed=0, loss="mse", activation="linear", lr=1e30)
    rows = _rows(
        ex.sweep({"hidden": ["8"]}, settings, seeds=1, test_samples=500, folder=tmp_path / "d")
    )
    assert [r["status"] for r in rows] == ["diverged"]


def test_sweep_over_two_parameters(tmp_path):
    (tmp_path / "s").mkdir()
    rows = _rows(
        ex.sweep(
            ["lr=0.01,0.1", "hidden=2,4"], SMALL, seeds=1, test_samples=500, folder=tmp_path / "s"
        )
    )
    # hidden values are layer lists, kept as their text (not guessed to be numbers)
    expected = [(0.01, "2"), (0.01, "4"), (0.1, "2"), (0.1, "4")]
    assert [(r["lr"], r["hidden"]) for r in rows] == expected


TINY = Settings(samples=200, epochs=1, seed=0)


def test_sweep_keeps_each_hidden_value_whole(tmp_path):
    # Two layer lists, not three widths: "8,8" is one network of two layers.
    rows = _rows(
        ex.sweep({"hidden": ["8,8", "4"]}, TINY, seeds=1, test_samples=200, folder=tmp_path)
    )
    assert [r["hidden"] for r in rows] == ["8,8", "4"]
    # Read back from results.csv (nothing left to run), the table is the same.
    calls = []
    again = ex.sweep(
        {"hidden": ["8,8", "4"]},
        TINY,
        seeds=1,
        test_samples=200,
        folder=tmp_path,
        progress=lambda i, n: calls.append(i),
    )
    assert calls == [] and _rows(again) == rows


def test_resume_refuses_results_of_other_varied_values(tmp_path):
    ex.sweep({"lr": [0.01]}, TINY, seeds=1, test_samples=200, folder=tmp_path)
    # Same experiment seed, so the same training seeds: only the values differ.
    with pytest.raises(ValueError, match="different experiment"):
        ex.sweep({"lr": [0.1]}, TINY, seeds=1, test_samples=200, folder=tmp_path)


def test_vary_is_typed_by_the_settings_schema_in_every_form():
    expected = [("lr", [1.0, 0.1]), ("hidden", ["8,8", "4:tanh"])]
    assert ex.parse_vary({"lr": [1, "0.1"], "hidden": [[8, 8], "4:TANH"]}) == expected
    assert ex.parse_vary([("lr", (1, 0.1)), ("hidden", ["8,8", ((4, "tanh"),)])]) == expected
    assert ex.parse_vary(["lr=1,0.1", "hidden=8,8;4:tanh"]) == expected
    (name, values), *_ = ex.parse_vary(["batch-size=16,32"])
    assert name == "batch_size" and values == [16, 32]
    assert all(type(v) is int for v in values)
    assert ex.parse_vary(["hidden=2,4"]) == [("hidden", ["2", "4"])]  # one layer each
    assert ex.parse_vary(["activation=relu, tanh"]) == [("activation", ["relu", "tanh"])]


def test_results_are_typed_by_their_columns_not_guessed():
    row = {"index": "3", "status": "diverged", "test_loss": "", "seconds": "1e3"}
    row |= {"hidden": "8", "lr": "1e-3", "activation": "1e3", "epochs": "2"}
    typed = results.typed(row)
    assert typed == {
        "index": 3,
        "status": "diverged",
        "test_loss": None,
        "seconds": 1000.0,
        "hidden": "8",
        "lr": 0.001,
        "activation": "1e3",
        "epochs": 2,
    }
    assert type(typed["seconds"]) is float and type(typed["epochs"]) is int


def test_scale_sizes_are_typed_by_the_samples_setting():
    jobs, _ = ex.plan_scale(SMALL, ["64", 128], 1, "fixed-steps", 10, 0)
    assert [dict(j.values)["samples"] for j in jobs] == [64, 128]
    with pytest.raises(ValueError, match="sizes: samples must be an integer, got 64.5"):
        ex.plan_scale(SMALL, [64.5], 1, "fixed-steps", 10, 0)


@pytest.mark.parametrize(
    "vary, message",
    [
        ([], "one or two --vary"),
        (["lr="], "must look like"),
        (["foo=1,2"], "unknown parameter 'foo'"),
        (["lr=abc"], "--vary lr must be a number, got 'abc'"),
        (["lr=0.1,,1"], "empty value"),
        (["hidden=8;"], "empty value"),
        (["hidden=0"], "positive widths"),
        ({"epochs": [2.5]}, "--vary epochs must be an integer, got 2.5"),
        ({"lr": 0.1}, "--vary lr needs a list of values, got 0.1"),
        ({"seed": [1, 2]}, "unknown parameter 'seed'"),
        (["lr=1", "lr=2"], "given twice"),
        (["lr=1", "hidden=2", "epochs=3"], "one or two --vary"),
    ],
)
def test_bad_vary_is_refused(vary, message):
    with pytest.raises(ValueError, match=message):
        ex.parse_vary(vary)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["scale", "--sizes", "10,50"], "smaller than the batch size"),
        (["scale", "--sizes", "a,b"], "comma-separated integers"),
        (["scale", "--jobs", "0"], "--jobs must be at least 1"),
        (["scale", "--seeds", "0"], "seeds must be a positive integer"),
        (["sweep", "--vary", "bogus=1"], "unknown parameter"),
        (["sweep"], "needs --vary"),
        (["scale", "--resume", "no/such/run"], "does not exist"),
        (["scale", "--dataset", "csv:points.csv"], "csv:PATH is not supported"),
        (["sweep", "--dataset", "bump", "--classes", "3", "--vary", "lr=0.1"], "applies to"),
        (["sweep", "--vary", "classes=2,3"], "unknown parameter 'classes'"),
        (["scale", "--classes", "3"], "classes applies to spiral"),
        (
            ["scale", "--dataset", "blobs", "--classes", "4", "--batch-size", "2", "--sizes", "7"],
            "need at least 8 points (2 per class)",
        ),
        (["scale", "--task", "regression"], "unrecognized arguments: --task"),
        (["scale", "--scheduler", "tcp://127.0.0.1:9", "--dask-workers", "2"], "not both"),
        (["scale", "--test-size", "0.3"], "unrecognized arguments: --test-size"),
        (["sweep", "--vary", "test_size=0.1,0.2"], "unknown parameter 'test_size'"),
    ],
)
def test_cli_bad_input_exits_2_and_writes_nothing(tmp_path, capsys, argv, message):
    out = tmp_path / "runs"
    assert main([*argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not out.exists() or not any(out.iterdir())


def test_cli_scale_writes_table_and_pictures(tmp_path, capsys):
    code = main(
        [
            "scale",
            "--sizes",
            "64,128",
            "--seeds",
            "1",
            "--steps",
            "20",
            "--epochs",
            "2",
            "--test-samples",
            "1000",
            "--jobs",
            "1",
            "--seed",
            "3",
            "--quiet",
            "--out",
            str(tmp_path),
        ]
    )
    assert code == 0
    (folder,) = tmp_path.iterdir()
    with (folder / "results.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 4
    assert {
        "size",
        "protocol",
        "seed",
        "steps",
        "test_accuracy",
        "test_loss",
        "disagreement_area",
        "seconds",
    } <= set(rows[0])
    for name in ("scaling.png", "boundaries.png"):
        assert (folder / name).stat().st_size > 10_000
    assert '"kind": "scale"' in (folder / "config.json").read_text()
    assert "always the majority" in capsys.readouterr().out


def test_cli_sweep_resumes_from_its_folder_alone(tmp_path, capsys):
    argv = ["sweep", "--vary", "lr=0.01,0.1", "--vary", "hidden=2;4,4", "--seeds", "1"]
    argv += ["--samples", "200", "--epochs", "1", "--test-samples", "200", "--jobs", "1"]
    assert main([*argv, "--seed", "3", "--quiet", "--out", str(tmp_path)]) == 0
    (folder,) = tmp_path.iterdir()
    path = folder / "results.csv"
    full = _csv_rows(path)
    assert [(r["lr"], r["hidden"]) for r in full] == [
        ("0.01", "2"),
        ("0.01", "4,4"),
        ("0.1", "2"),
        ("0.1", "4,4"),
    ]
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:3]) + lines[3][:10])  # interrupted in the third row
    capsys.readouterr()
    assert main(["sweep", "--resume", str(folder), "--jobs", "1", "--quiet"]) == 0
    assert "sweep: 4 trainings" in capsys.readouterr().out
    assert _csv_rows(path) == full


def _csv_rows(path):
    with path.open(newline="") as f:
        return [{k: v for k, v in r.items() if k not in TIMING} for r in csv.DictReader(f)]


# --------------------------------------------------------------------------- issue 10, section 4


@pytest.fixture
def no_dask(monkeypatch):
    """As if Dask were not installed: importing distributed fails."""
    import sys

    monkeypatch.setitem(sys.modules, "distributed", None)


@pytest.mark.parametrize(
    "options", [["--dask-workers", "2"], ["--scheduler", "tcp://127.0.0.1:9"]], ids=["local", "tcp"]
)
def test_cli_without_dask_refuses_before_creating_anything(tmp_path, capsys, no_dask, options):
    out = tmp_path / "runs"
    argv = ["scale", "--sizes", "64", "--seeds", "1", "--epochs", "1", "--test-samples", "200"]
    assert main([*argv, *options, "--quiet", "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.strip().splitlines()) == 1
    assert "needs dask.distributed, which is not installed" in captured.err
    assert "pip install -e '.[dask]'" in captured.err
    assert not out.exists()  # no run folder, no header-only results.csv


def test_api_without_dask_refuses_before_writing_the_table(tmp_path, no_dask):
    _mkdirs(tmp_path, "a")
    with pytest.raises(ValueError, match="needs dask.distributed"):
        _scale(tmp_path, "a", dask_workers=2)
    assert list((tmp_path / "a").iterdir()) == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (dict(scheduler="tcp://127.0.0.1:9", dask_workers=2), "not both"),
        (dict(dask_workers=0), "dask_workers must be a positive integer"),
    ],
)
def test_api_refuses_backend_options_it_would_ignore(tmp_path, options, message):
    _mkdirs(tmp_path, "a")
    with pytest.raises(ValueError, match=message):
        _scale(tmp_path, "a", **options)
    assert list((tmp_path / "a").iterdir()) == []


def test_vary_suggests_the_nearest_name():
    with pytest.raises(ValueError, match=r"valid names: samples, .*, l2; did you mean 'epochs'\?"):
        ex.parse_vary(["epoch=1,2"])
    assert ex.VARY_NAMES[:3] == ("samples", "noise", "hidden")


SWEEP = ["sweep", "--vary", "lr=0.01,0.1", "--seeds", "1", "--samples", "200", "--epochs", "1"]
SWEEP += ["--test-samples", "200", "--jobs", "1", "--seed", "3"]


def test_cli_progress_counts_trainings_and_resumes_from_what_is_left(tmp_path, capsys):
    assert main([*SWEEP, "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^trainings - 2/2 \d+s \d+(ms|us|s)/training$", out, re.M), out
    assert "/step" not in out
    (folder,) = tmp_path.iterdir()
    path = folder / "results.csv"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:2]))  # the second training is missing
    assert main(["sweep", "--resume", str(folder), "--jobs", "1"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^trainings - 1/1 ", out, re.M), out  # not 1/2: one training ran


@pytest.mark.parametrize(
    "option",
    [
        ["--lr", "0.5"],
        ["--seeds", "2"],
        ["--test-samples", "300"],
        ["--vary", "epochs=1,2"],
        ["--config", "run.toml"],
        ["--out", "elsewhere"],
        ["--seed", "0"],
    ],
)
def test_cli_resume_refuses_options_it_would_ignore(tmp_path, capsys, monkeypatch, option):
    monkeypatch.chdir(tmp_path)
    assert main([*SWEEP, "--quiet", "--out", "runs"]) == 0
    (folder,) = (tmp_path / "runs").iterdir()
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    capsys.readouterr()
    assert main(["sweep", "--resume", str(folder), *option, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"{option[0]} cannot be given with --resume" in err, err
    assert len(err.strip().splitlines()) == 1
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs"]


def test_cli_scale_resume_takes_its_sizes_from_the_folder(tmp_path, capsys):
    argv = ["scale", "--sizes", "64", "--seeds", "1", "--steps", "5", "--epochs", "1"]
    argv += ["--test-samples", "200", "--jobs", "1", "--seed", "3", "--quiet"]
    assert main([*argv, "--out", str(tmp_path)]) == 0
    (folder,) = tmp_path.iterdir()
    assert main(["scale", "--resume", str(folder), "--quiet", "--jobs", "1"]) == 0
    assert "scale: 2 trainings" in capsys.readouterr().out
    assert main(["scale", "--resume", str(folder), "--sizes", "64,128"]) == 2
    assert "--sizes cannot be given with --resume" in capsys.readouterr().err


def test_cli_backend_options_are_checked_where_the_api_checks_them(tmp_path, capsys):
    """One check for the CLI and the API: the same one-line refusal, nothing written."""
    out = tmp_path / "runs"
    assert main(["scale", "--dask-workers", "0", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        "backprop-lab: error: dask_workers must be a positive integer (>= 1), got 0"
    ]
    assert not out.exists()


def test_the_options_that_go_with_resume_are_said_from_one_list(tmp_path, capsys, monkeypatch):
    from backprop_lab.cli import experiment_commands
    from backprop_lab.cli.parser import build_parser

    monkeypatch.chdir(tmp_path)
    assert main([*SWEEP, "--quiet", "--out", "runs"]) == 0
    (folder,) = (tmp_path / "runs").iterdir()
    capsys.readouterr()
    monkeypatch.setattr(experiment_commands, "_RESUME_OPTIONS", ("jobs", "quiet"))
    with pytest.raises(SystemExit):
        build_parser().parse_args(["sweep", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "only --jobs and --quiet go with it" in help_text, help_text
    assert main(["sweep", "--resume", str(folder), "--scheduler", "tcp://127.0.0.1:9"]) == 2
    err = capsys.readouterr().err
    assert "--scheduler cannot be given with --resume" in err
    assert err.rstrip().endswith("(only --jobs and --quiet go with it)")


SMALL_CLI = ["--seeds", "1", "--epochs", "2", "--test-samples", "500", "--jobs", "1", "--quiet"]


@pytest.mark.parametrize(
    "problem, score, empty, shape",
    [
        (["--dataset", "blobs", "--classes", "3"], "accuracy", "r2", (80, 80, 3)),
        (["--dataset", "bump"], "R²", "test_accuracy", (80, 80)),
    ],
)
def test_cli_scale_measures_k_classes_and_regression(
    tmp_path, capsys, problem, score, empty, shape
):
    argv = ["scale", *problem, "--sizes", "40,80", "--steps", "10", *SMALL_CLI, "--seed", "3"]
    assert main([*argv, "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    (folder,) = tmp_path.iterdir()
    path = folder / "results.csv"
    rows = _csv_rows(path)
    header = path.read_text().splitlines()[0].split(",")
    assert len(rows) == 4 and header == results.columns(ex.scale_jobs([40], 1, ["x"], 1, 0))
    filled = {"test_accuracy", "macro_f1"} if score == "accuracy" else {"r2", "mse"}
    assert all(r[k] != "" for r in rows for k in filled) and all(r[empty] == "" for r in rows)
    assert all(r["iou"] == r["disagreement_area"] == "" for r in rows)  # no known regions
    for name in ("scaling.png", "boundaries.png"):
        assert (folder / name).stat().st_size > 10_000
    assert np.load(folder / "grids" / "0.npy").shape == shape
    header = next(line for line in out.splitlines() if line.startswith("protocol"))
    assert f"mean {score}" in header
    baseline = (
        "predicting the mean: R² 0.000" if score == "R²" else "always the majority: accuracy "
    )
    assert baseline in out
    # The classes and the task come back from config.json on resume.
    path.write_text("".join(path.read_text().splitlines(keepends=True)[:3]))
    assert main(["scale", "--resume", str(folder), "--jobs", "1", "--quiet"]) == 0
    assert _csv_rows(path)[:2] == rows[:2] and len(_csv_rows(path)) == 4


def test_cli_sweep_on_a_regression_dataset_scores_r2(tmp_path, capsys):
    argv = ["sweep", "--dataset", "bump", "--vary", "lr=0.01,0.1", "--samples", "100", *SMALL_CLI]
    assert main([*argv, "--seed", "2", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    (folder,) = tmp_path.iterdir()
    rows = _csv_rows(folder / "results.csv")
    assert [r["lr"] for r in rows] == ["0.01", "0.1"] and all(r["r2"] for r in rows)
    assert "mean R²" in next(line for line in out.splitlines() if line.strip().startswith("lr"))
    assert (folder / "sweep.png").stat().st_size > 10_000


def test_a_table_written_before_the_task_scores_still_resumes(tmp_path):
    (tmp_path / "old").mkdir()
    full = _rows(_scale(tmp_path, "old"))
    path = tmp_path / "old" / "results.csv"
    old = [c for c in results.COLUMNS if c not in results.ADDED_COLUMNS] + ["samples"]
    with path.open() as f:
        kept = [{k: row[k] for k in old} for row in csv.DictReader(f)][:3]
    with path.open("w", newline="") as f:  # the old header, three finished rows
        writer = csv.DictWriter(f, old, lineterminator="\n")
        writer.writeheader()
        writer.writerows(kept)
    resumed = _rows(_scale(tmp_path, "old"))
    assert all(r[k] is None for r in resumed[:3] for k in results.ADDED_COLUMNS)
    new = [{k: v for k, v in r.items() if k not in results.ADDED_COLUMNS} for r in full]
    assert [{k: v for k, v in r.items() if k not in results.ADDED_COLUMNS} for r in resumed] == new
    assert resumed[3:] == full[3:]
    assert path.read_text().splitlines()[0].split(",") == results.columns(
        ex.scale_jobs([64], 1, ["x"], 1, 0)
    )


def test_references_and_summary_follow_the_task():
    bump = Settings(dataset="bump", noise=0.1)
    refs = ex.reference_accuracies(bump, 2000, 0)
    assert refs["score"] == "r2" and refs["baseline"] == 0.0 and 0.5 < refs["best"] < 1
    blobs = ex.reference_accuracies(Settings(dataset="blobs", classes=4), 2000, 0)
    assert blobs["score"] == "test_accuracy" and 0.2 < blobs["baseline"] < 0.3
    assert blobs["best"] is None
    rows = [
        {"size": 1, "status": "ok", "test_accuracy": None, "r2": 0.5},
        {"size": 1, "status": "ok", "test_accuracy": None, "r2": 0.7},
        {"size": 1, "status": "diverged", "test_accuracy": None, "r2": None},
    ]
    (summary,) = ex.summarise(rows, ("size",), "regression")
    assert summary["score"] == "r2" and summary["mean"] == pytest.approx(0.6)
    assert summary["diverged"] == 1


# ------------------------------------------------------------ threads


def _table_order_and_rows(table):
    rows = _rows(table)
    assert [r["index"] for r in rows] == list(range(len(rows)))  # grid order, whatever finished
    return rows


def test_threads_give_the_table_of_one_training_after_another(tmp_path):
    # Sizes whose trainings differ in cost, so the threads finish out of grid order;
    # a sweep over the learning rate and the width: several networks at once.
    _mkdirs(tmp_path, "one", "two", "four", "s1", "s2")
    options = dict(sizes=[64, 700, 128, 2000], steps=40)
    serial = _table_order_and_rows(_scale(tmp_path, "one", n_jobs=1, **options))
    assert serial == _table_order_and_rows(_scale(tmp_path, "two", n_jobs=2, **options))
    assert serial == _table_order_and_rows(_scale(tmp_path, "four", n_jobs=-1, **options))
    vary = ["lr=0.01,0.3", "hidden=2;8,4"]
    sweeps = [
        _rows(ex.sweep(vary, SMALL, seeds=2, test_samples=500, n_jobs=n, folder=tmp_path / name))
        for n, name in ((1, "s1"), (2, "s2"))
    ]
    assert sweeps[0] == sweeps[1]


@pytest.mark.subprocess
def test_threads_and_joblib_worker_processes_give_the_same_table(tmp_path, monkeypatch):
    from backprop_lab.experiments import api

    _mkdirs(tmp_path, "threads", "processes")
    on_threads = _table_order_and_rows(_scale(tmp_path, "threads", n_jobs=2))
    monkeypatch.setattr(api, "runs_compiled", lambda todo, base: False)  # today's joblib
    assert on_threads == _table_order_and_rows(_scale(tmp_path, "processes", n_jobs=2))


def test_compiled_jobs_run_on_threads_and_numpy_jobs_on_joblib():
    from backprop_lab.experiments import backends, training

    jobs, base = ex.plan_sweep(SMALL, ["hidden=2;8,8"], 1, 0)
    assert training.runs_compiled(jobs, base)
    jobs, base = ex.plan_sweep(Settings(epochs=2, seed=0, engine="numpy"), ["lr=0.1"], 1, 0)
    assert not training.runs_compiled(jobs, base)
    threads = backends.executor(2, None, None, threads=True)
    assert threads.func is backends._run_threads and threads.keywords == {"workers": 2}
    assert backends.executor(-1, None, None, threads=True).keywords["workers"] >= 1
    assert backends.executor(2, None, None, threads=False).__name__ == "run_joblib"
    with pytest.raises(ValueError, match="got 0"):
        backends.executor(0, None, None, threads=True)


def test_a_failing_training_on_threads_starts_no_other():
    import threading

    from backprop_lab.experiments import backends

    started, release = [], threading.Event()

    def fn(job):
        started.append(job)
        if job == 0:
            raise RuntimeError("training 0 failed")
        release.wait()  # training 1 is running when the error reaches the caller
        return job

    with pytest.raises(RuntimeError, match="training 0 failed"):
        list(backends._run_threads(fn, list(range(50)), workers=1))
    release.set()  # training 1 ends in the background; none is started after it
    for thread in threading.enumerate():
        if thread.name.startswith("experiment-"):
            thread.join(timeout=10)
    assert started[0] == 0 and len(started) <= 2  # at most the one already running


def test_parallel_backends_start_the_costliest_trainings_first():
    from backprop_lab.experiments.jobs import cost

    jobs, base = ex.plan_scale(SMALL, [64, 2000], 1, "both", 30, 0)
    # fixed-epochs trains epochs x size samples, fixed-steps steps x batch
    assert [cost(j, base) for j in jobs] == [
        2 * 64 + 64,
        30 * 32 + 64,
        2 * 2000 + 2000,
        30 * 32 + 2000,
    ]


@pytest.mark.parametrize("n_jobs", [0, 2.5, "2", True])
def test_a_bad_n_jobs_is_refused_before_any_file_is_written(tmp_path, n_jobs):
    with pytest.raises(ValueError, match=r"n_jobs must be a whole number of workers, or -1"):
        _scale(tmp_path, "bad", n_jobs=n_jobs)
    assert not (tmp_path / "bad" / "results.csv").exists()
