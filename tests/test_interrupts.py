"""Ctrl-C at every stage of ``backprop-lab train``: a real SIGINT is sent from a hook
at each stage, in-process, and the command must exit 130 with one line, no
traceback, and a run folder that is absent or consistent."""

import functools
import json
import signal
import sys

import pytest
from cli_helpers import run_main

import backprop_lab.cli as cli
from backprop_lab import Callback
from backprop_lab.cli.interrupts import Interrupts
from backprop_lab.engine import engines
from backprop_lab.runs import folders, runner
from backprop_lab.runs.modelio import load_model

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

TRAIN = ["train", "--epochs", "6", "--samples", "300", "--seed", "0", "--quiet"]
DATA_FILES = {
    "config.json",
    "gradients.csv",
    "history.csv",
    "metrics.json",
    "model.json",
    "model.safetensors",
}


def ctrl_c():
    """What pressing Ctrl-C does: SIGINT to this process, handled at once."""
    signal.raise_signal(signal.SIGINT)


def interrupting(function, after_calls=0):
    """``function`` that presses Ctrl-C when it is called for the ``after_calls + 1``-th time."""
    calls = []

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        calls.append(1)
        if len(calls) == after_calls + 1:
            ctrl_c()
        return function(*args, **kwargs)

    return wrapper


class CtrlCAt(Callback):
    """Presses Ctrl-C at the start of training or after ``epoch`` (1-based) finished."""

    def __init__(self, epoch=0):
        super().__init__()
        self.epoch = epoch

    def on_train_begin(self, logs=None):
        if self.epoch == 0:
            ctrl_c()

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.epoch:
            ctrl_c()


def with_callback(monkeypatch, callback):
    monkeypatch.setattr(
        runner, "train_run", functools.partial(runner.train_run, callbacks=[callback])
    )


def train(tmp_path):
    code, out, err = run_main([*TRAIN, "--out", tmp_path])
    assert "Traceback" not in err and "Exception ignored" not in err
    return code, out, err


def the_folder(tmp_path):
    (folder,) = tmp_path.iterdir()
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".")]  # no temp files
    return folder


def metrics(folder):
    return json.loads((folder / "metrics.json").read_text())


# ------------------------------------------------------------ nothing to keep yet


def test_while_the_commands_load(tmp_path, monkeypatch):
    monkeypatch.setattr(cli, "_commands", interrupting(cli._commands))
    code, out, err = train(tmp_path)
    assert (code, out, err) == (130, "", "backprop-lab: interrupted while loading\n")
    assert list(tmp_path.iterdir()) == []


def test_while_the_data_loads(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "load_data", interrupting(runner.load_data))
    code, _, err = train(tmp_path)
    assert (code, err) == (130, "backprop-lab: interrupted while loading the data\n")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("where", ["train begins", "engine starts"])
def test_before_the_first_epoch_finished_nothing_is_kept(tmp_path, monkeypatch, where):
    if where == "train begins":
        with_callback(monkeypatch, CtrlCAt(epoch=0))
    else:  # where numba is imported and its kernels are compiled or loaded
        monkeypatch.setattr(
            engines.CompiledEngine, "trainer", interrupting(engines.CompiledEngine.trainer)
        )
    code, out, err = train(tmp_path)
    assert code == 130
    assert err.endswith(
        "interrupted while training, before the first epoch finished: nothing was kept\n"
    )
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------ a run to keep


def test_after_some_epochs_the_run_is_kept_and_says_so(tmp_path, monkeypatch):
    with_callback(monkeypatch, CtrlCAt(epoch=2))
    code, _, err = train(tmp_path)
    assert code == 130 and "kept the history and weights of 2 finished epoch(s)" in err
    folder = the_folder(tmp_path)
    m = metrics(folder)
    assert m["interrupted"] is True and m["epochs_completed"] == 2
    assert m["interrupted_during"] == ["training"]
    assert (folder / "report.html").exists()


def test_a_second_ctrl_c_waits_until_the_run_is_saved(tmp_path, monkeypatch):
    with_callback(monkeypatch, CtrlCAt(epoch=2))
    monkeypatch.setattr(runner, "evaluate_run", interrupting(runner.evaluate_run))
    code, _, err = train(tmp_path)
    assert code == 130 and "Interrupted while drawing the pictures" in err
    folder = the_folder(tmp_path)
    assert {p.name for p in folder.iterdir()} == DATA_FILES
    m = metrics(folder)
    assert m["epochs_completed"] == 2 and "test_accuracy" in m
    assert m["interrupted_during"] == ["training", "drawing the pictures"]
    load_model(folder)


def test_while_the_run_is_saved_every_data_file_is_written(tmp_path, monkeypatch):
    monkeypatch.setattr(folders, "write_history", interrupting(folders.write_history))
    code, _, err = train(tmp_path)
    assert code == 130
    assert f"draw the missing ones with: backprop-lab report {tmp_path}" in err
    folder = the_folder(tmp_path)
    assert {p.name for p in folder.iterdir()} == DATA_FILES
    m = metrics(folder)
    assert m["interrupted"] is False and m["interrupted_during"] == ["drawing the pictures"]


def test_while_drawing_the_pictures(tmp_path, monkeypatch):
    from backprop_lab.pictures import learning

    monkeypatch.setattr(learning, "save_figure", interrupting(learning.save_figure, 1))
    code, _, err = train(tmp_path)
    assert code == 130 and "Interrupted while drawing the pictures" in err
    folder = the_folder(tmp_path)
    names = {p.name for p in folder.iterdir()}
    assert DATA_FILES < names and "report.html" not in names
    assert metrics(folder)["interrupted_during"] == ["drawing the pictures"]


def test_report_draws_what_an_interrupted_run_is_missing(tmp_path, monkeypatch):
    from backprop_lab.pictures import learning

    monkeypatch.setattr(learning, "save_figure", interrupting(learning.save_figure, 0))
    code, _, _ = run_main([*TRAIN, "--out", tmp_path, "--animate"])
    assert code == 130
    folder = the_folder(tmp_path)
    assert {p.name for p in folder.iterdir()} == DATA_FILES
    monkeypatch.undo()
    code, out, err = run_main(["report", folder])
    assert (code, err) == (0, "")
    assert "Drew the missing boundary.png, curves.png, network.png, gradients.png" in out
    assert "learning.gif cannot be drawn again: it needs the frames recorded" in out
    names = {p.name for p in folder.iterdir()}
    assert {"boundary.png", "curves.png", "network.png", "gradients.png", "report.html"} < names
    assert "learning.gif" not in names
    # Still missing a picture, so the interruption stays on record.
    assert metrics(folder)["interrupted_during"] == ["drawing the pictures"]


def test_report_of_a_complete_run_draws_nothing_again(tmp_path, monkeypatch):
    from backprop_lab.pictures import learning

    monkeypatch.setattr(learning, "save_figure", interrupting(learning.save_figure, 2))
    assert train(tmp_path)[0] == 130
    folder = the_folder(tmp_path)
    monkeypatch.undo()
    before = {p.name: p.stat().st_mtime_ns for p in folder.glob("*.png")}
    code, out, _ = run_main(["report", folder])
    assert code == 0 and "Drew the missing network.png, gradients.png" in out
    for name, mtime in before.items():  # the pictures it had are not drawn again
        assert (folder / name).stat().st_mtime_ns == mtime
    assert metrics(folder)["interrupted_during"] == []
    code, out, _ = run_main(["report", folder])
    assert code == 0 and "Drew" not in out and "report.html" in out


def test_a_ctrl_c_that_a_finaliser_swallowed_is_not_lost(tmp_path, monkeypatch):
    from backprop_lab.pictures import learning

    class PressesCtrlCWhenCollected:
        def __del__(self):
            ctrl_c()  # raised inside __del__: Python can only print "Exception ignored"

    def draw_run(folder, result):
        PressesCtrlCWhenCollected()
        return draw(folder, result)

    draw = learning.draw_run
    monkeypatch.setattr(learning, "draw_run", draw_run)
    code, out, err = train(tmp_path)
    assert code == 130
    assert err.endswith("backprop-lab: interrupted, after the command had finished\n")
    assert "Run folder:" in out
    assert (the_folder(tmp_path) / "report.html").exists()


# ------------------------------------------------------------ the handler itself


def test_deferred_blocks_hold_ctrl_c_until_they_end():
    handler = Interrupts()
    handler.install()
    try:
        done = []
        with pytest.raises(KeyboardInterrupt):
            with handler.deferred():
                ctrl_c()
                done.append("after the signal")
        assert done == ["after the signal"] and handler.received == 1
        with pytest.raises(KeyboardInterrupt):
            with handler.stop_then_save() as saving:
                with pytest.raises(KeyboardInterrupt):
                    ctrl_c()  # the first one stops the training
                ctrl_c()  # the next one waits
                saving()
                done.append("saved")
        assert done[-1] == "saved" and handler.received == 3
    finally:
        handler.uninstall()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


# ------------------------------------------------------------ experiments


def test_an_interrupted_experiment_keeps_its_rows_and_resumes(tmp_path, monkeypatch):
    from backprop_lab.experiments import api

    scale = ["scale", "--sizes", "40,80", "--seeds", "2", "--epochs", "2", "--jobs", "1"]
    scale += ["--test-samples", "200", "--quiet", "--out", tmp_path]
    monkeypatch.setattr(api, "run_job", interrupting(api.run_job, 3))
    code, out, err = run_main(scale)
    folder = the_folder(tmp_path)
    assert code == 130
    assert err == (
        f"backprop-lab: interrupted while training; the finished trainings are in {folder}: "
        f"finish with backprop-lab scale --resume {folder}\n"
    )
    rows = (folder / "results.csv").read_text().splitlines()
    assert len(rows) == 1 + 3  # the header and the three trainings that finished
    monkeypatch.undo()
    code, out, err = run_main(["scale", "--resume", folder, "--jobs", "1", "--quiet"])
    assert code == 0, err
    assert len((folder / "results.csv").read_text().splitlines()) == 1 + 8
    assert (folder / "scaling.png").exists()


def test_an_interrupted_comparison_leaves_no_folder(tmp_path, monkeypatch):
    from backprop_lab.pictures import compare

    for seed in ("1", "2"):
        code, _, err = run_main(
            [*TRAIN[:-3], "--seed", seed, "--quiet", "--out", tmp_path / "runs"]
        )
        assert code == 0, err
    runs = sorted((tmp_path / "runs").iterdir())
    monkeypatch.setattr(compare, "write_atomic", interrupting(compare.write_atomic))
    code, out, err = run_main(["compare", *runs, "--out", tmp_path / "cmp"])
    assert (code, err) == (130, "backprop-lab: interrupted while comparing: nothing was written\n")
    assert list((tmp_path / "cmp").iterdir()) == []


def test_ctrl_c_after_the_last_epoch_waits_and_the_run_is_kept(tmp_path, monkeypatch):
    # Measuring the run (after training ended by itself) is part of saving it.
    monkeypatch.setattr(runner, "evaluate_run", interrupting(runner.evaluate_run))
    code, _, err = train(tmp_path)
    assert code == 130 and "Interrupted while drawing the pictures" in err
    folder = the_folder(tmp_path)
    m = metrics(folder)
    assert m["epochs_completed"] == 6 and m["interrupted"] is False
    assert m["interrupted_during"] == ["drawing the pictures"]


def test_history_and_weights_agree_when_ctrl_c_lands_between_their_callbacks(monkeypatch):
    keep = runner.RunRecorder.on_epoch_end

    def pressed_at_its_start(self, epoch, logs=None):  # History has seen the epoch already
        if epoch == 2:
            raise KeyboardInterrupt
        keep(self, epoch, logs)

    monkeypatch.setattr(runner.RunRecorder, "on_epoch_end", pressed_at_its_start)
    result = runner.train_run(runner.Settings(samples=300, epochs=6, seed=0))
    assert result.interrupted and len(result.epoch_seconds) == 2
    assert all(len(v) == 2 for v in result.history.values())
