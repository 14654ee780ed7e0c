import math

import numpy as np
import pytest

from backprop_lab import Callback
from backprop_lab.data.csvio import save_csv
from backprop_lab.runs.runner import build_model, evaluate_run, load_data, train_run
from backprop_lab.runs.settings import Settings


def settings(**changes):
    base = {"samples": 300, "epochs": 3, "seed": 0, "out": "unused"}
    return Settings(**{**base, **changes}).validate()


class Snapshots(Callback):
    """Keeps the weights before training and at the end of every epoch."""

    def on_train_begin(self, logs=None):
        self.initial = self.model.get_weights()
        self.epochs = []

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append(self.model.get_weights())


class InterruptAt(Snapshots):
    """Raises KeyboardInterrupt (as Ctrl-C would) in ``batch`` of ``epoch`` (0-based)."""

    def __init__(self, epoch, batch):
        super().__init__()
        self.at = (epoch, batch)

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            raise KeyboardInterrupt


def assert_weights_equal(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


# --------------------------------------------------------------------------- stopping


def test_ctrl_c_keeps_the_finished_epochs_and_their_weights():
    cb = InterruptAt(epoch=3, batch=2)
    result = train_run(settings(epochs=10), callbacks=[cb])
    assert result.interrupted and result.diverged_epoch is None
    assert len(result.history["loss"]) == len(result.history["val_loss"]) == 3
    assert len(result.epoch_seconds) == 3
    # Two batches of epoch 4 had already moved the weights; they are rolled back.
    assert_weights_equal(result.model.get_weights(), cb.epochs[2])
    assert not np.array_equal(cb.epochs[2][0], cb.epochs[1][0])
    assert result.metrics["test_loss"] == pytest.approx(result.history["val_loss"][-1])


def test_ctrl_c_in_the_first_epoch_keeps_nothing():
    # No finished epoch, nothing to measure or save: the interrupt goes on up.
    with pytest.raises(KeyboardInterrupt):
        train_run(settings(), callbacks=[InterruptAt(epoch=0, batch=0)])


def test_nan_loss_stops_the_run_and_keeps_the_last_finite_weights():
    cb = Snapshots()
    # A linear network with MSE and an absurd step overflows in the first epoch.
    result = train_run(settings(loss="mse", activation="linear", lr=1e30, epochs=5), callbacks=[cb])
    assert result.diverged_epoch == 1
    assert len(result.history["loss"]) == 1 and math.isnan(result.history["loss"][0])
    assert_weights_equal(result.model.get_weights(), cb.initial)
    assert math.isfinite(result.metrics["test_loss"])


def test_overflowing_weights_count_as_divergence_even_with_a_finite_loss():
    # Adam moves every weight by about lr per step, so lr = 3e37 overflows
    # float32 within a few steps; the clipped cross-entropy stays finite.
    # (The weights used to be kept as "finite", and restoring them failed.)
    cb = Snapshots()
    result = train_run(settings(optimizer="adam", lr=3e37, samples=200, epochs=8), callbacks=[cb])
    n = result.diverged_epoch
    assert n is not None and n >= 2
    assert len(result.history["loss"]) == n
    assert all(math.isfinite(v) for v in result.history["loss"])
    assert not all(np.isfinite(w).all() for w in cb.epochs[-1])
    assert_weights_equal(result.model.get_weights(), cb.epochs[n - 2])


def test_the_same_seed_gives_the_same_run():
    a, b, c = (train_run(settings(seed=s)) for s in (4, 4, 5))
    assert a.history == b.history
    assert_weights_equal(a.model.get_weights(), b.model.get_weights())
    assert a.history["loss"] != c.history["loss"]


# --------------------------------------------------------------------------- data and model


def test_load_data_splits_and_knows_the_true_rule():
    data = load_data(settings(samples=1000, test_size=0.25))
    assert (len(data.X_train), len(data.X_test)) == (750, 250)
    G = np.array([[0.0, 0.0], [0.9, 0.9]])
    np.testing.assert_array_equal(data.true_labels(G), [1, 0])


def test_load_data_reads_a_csv_without_a_true_rule(tmp_path):
    path = tmp_path / "pts.csv"
    X = np.random.default_rng(0).uniform(-1, 1, (40, 2))
    save_csv(path, X, (X[:, 0] > 0).astype(int))
    data = load_data(settings(dataset=f"csv:{path}"))
    assert len(data.X_train) + len(data.X_test) == 40
    assert data.true_labels is None


def test_load_data_refuses_labels_above_one_for_a_binary_loss(tmp_path):
    path = tmp_path / "three.csv"
    save_csv(path, [[0, 0], [1, 1], [2, 2]], [0, 1, 2])
    with pytest.raises(ValueError, match="takes one sigmoid output, which fits 2 classes, but the"):
        load_data(settings(dataset=f"csv:{path}", loss="binary_crossentropy"))
    data = load_data(settings(dataset=f"csv:{path}", loss="sparse_categorical_crossentropy"))
    assert data.n_classes == 3
    assert load_data(settings(dataset=f"csv:{path}")).n_classes == 3  # auto follows the data


@pytest.mark.parametrize(
    ("loss", "k", "task", "name", "last"),
    [
        ("binary_crossentropy", 2, "classification", "binary_crossentropy", "Dense(1, acti"),
        ("auto", 2, "classification", "binary_crossentropy", "Dense(1, activation='sigmoid')"),
        ("mse", 2, "classification", "mean_squared_error", "Dense(1, activation='sigmoid')"),
        ("sparse_categorical_crossentropy", 4, "classification", None, "Dense(4, activation="),
        ("auto", 4, "classification", "sparse_categorical_crossentropy", "Dense(4, activation="),
        ("auto", 0, "regression", "mean_squared_error", "Dense(1, activation='linear')"),
    ],
)
def test_build_model_puts_the_output_the_problem_needs(loss, k, task, name, last):
    s = settings(hidden="5:tanh,3", activation="relu", loss=loss)
    model = build_model(s, 2, k, task=task)
    name = name or loss
    assert repr(model).startswith(
        f"Sequential([Dense(5, activation='tanh'), Dense(3, activation='relu'), {last}"
    )
    assert model.loss.name == name


def test_evaluate_run_metrics_agree_with_each_other():
    result = train_run(settings(samples=600))
    m = result.metrics
    C = np.array(m["confusion_matrix"])
    assert C.sum() == m["n_test"] == len(result.data.X_test)
    assert np.trace(C) / C.sum() == pytest.approx(m["test_accuracy"])
    assert m["baseline_accuracy"] == pytest.approx(C.sum(axis=1).max() / C.sum())
    assert 0 <= m["disagreement_area"] <= 4 and 0 <= m["iou"] <= 1
    again = evaluate_run(result.model, result.data)
    assert again == {k: v for k, v in m.items() if k != "diagnosis"}


def test_softmax_runs_have_no_region_metrics():
    result = train_run(settings(dataset="spiral", loss="sparse_categorical_crossentropy"))
    assert "iou" not in result.metrics
    assert np.array(result.metrics["confusion_matrix"]).shape == (2, 2)
