"""What the recorders store while a network trains: when they take snapshots,
that the snapshots are the real model at that moment, that the gradient norms
are the gradients of the full-batch loss, and that recording changes nothing."""

from __future__ import annotations

import numpy as np
import pytest

from backprop_lab import SGD, Dense, Sequential
from backprop_lab.engine.callbacks import Callback, CallbackList
from backprop_lab.engine.metrics import grid_points
from backprop_lab.engine.regularizers import L2
from backprop_lab.runs.recording import (
    LOSS_SAMPLES,
    MAX_SAMPLES,
    StepRecorder,
    describe_points,
    frame_steps,
    layer_gradient_norms,
    make_recorders,
    sample_rows,
)


def circle(n, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (n, 2))
    return X, (np.hypot(X[:, 0], X[:, 1]) < 0.5).astype(int)


def model(seed=0, engine="numpy", l2=None, dtype=None):
    reg = L2(l2) if l2 else None
    m = Sequential(
        [
            Dense(5, "tanh", input_shape=(2,), kernel_regularizer=reg),
            Dense(1, "sigmoid", kernel_regularizer=reg),
        ],
        seed=seed,
        dtype=dtype,
    )
    m.compile(SGD(0.3), "binary_crossentropy", ["accuracy"], engine=engine)
    return m


# --------------------------------------------------------------------------- when


@pytest.mark.parametrize("total", [1, 5, 118, 119, 120, 121, 6250, 10**6 + 7])
@pytest.mark.parametrize("max_frames", [2, 3, 4, 120])
def test_frame_steps_keep_at_most_max_frames_from_start_to_end(total, max_frames):
    steps = frame_steps(total, max_frames)
    assert len(steps) <= max_frames
    assert steps[0] == 0 and steps[-1] == total
    assert np.all(np.diff(steps) > 0)
    if total < max_frames:
        assert steps == list(range(total + 1))  # fewer steps than frames: every step


def test_frame_steps_are_dense_at_the_start_and_even_after():
    steps = np.array(frame_steps(625_000))  # 400,000 points in batches of 32, 50 epochs
    gaps = np.diff(steps)
    assert steps[1] == 1  # the first step is seen
    assert np.sum(steps < 12_500) >= 30  # a quarter of the frames within the first epoch
    assert np.all(np.diff(gaps[:30]) >= 0)  # gaps grow at first...
    assert gaps[-10:-1].max() - gaps[-10:-1].min() <= 1  # ...then stay even
    assert len(steps) >= 100  # few frames lost to rounding


def test_frame_steps_refuse_a_single_frame():
    with pytest.raises(ValueError, match="at least 2"):
        frame_steps(10, 1)


def test_frames_are_taken_within_the_first_epoch_of_a_long_run():
    """A long run on many points learns much within its first epoch: frames see it."""
    X, y = circle(400)  # 100 steps per epoch, 40 epochs
    callbacks, rec = make_recorders(X, y, frames=True, resolution=8)
    model().fit(X, y, epochs=40, batch_size=4, verbose=0, callbacks=callbacks)
    assert rec.frame_steps == frame_steps(4000)
    assert sum(0 < s < 100 for s in rec.frame_steps) >= 15
    assert len(rec.frames) <= 120


def test_few_steps_are_all_recorded_with_the_real_model_output_at_each():
    X, y = circle(90)  # 3 batches of 32 per epoch
    callbacks, rec = make_recorders(X, y, frames=True, trajectory=True, resolution=12)
    m = model()
    seen = []

    class Spy(StepRecorder):  # the model's own output right after each step
        def _snapshot(self):
            seen.append(self.model.predict(grid, verbose=0)[:, 0].reshape(12, 12))
            super()._snapshot()

    (step_recorder,) = [c for c in callbacks if isinstance(c, StepRecorder)]
    spy = Spy(rec, X, y, frames=True, trajectory=True, resolution=12)
    callbacks[callbacks.index(step_recorder)] = spy
    grid = grid_points(rec.extent, 12)
    m.fit(X, y, epochs=2, batch_size=32, verbose=0, shuffle=False, callbacks=callbacks)

    assert rec.frame_steps == list(range(7))  # 6 steps: the start and every step
    assert rec.trajectory_steps == list(range(7))
    assert rec.n_frames == 7 and rec.frames[0].shape == (12, 12)
    assert rec.frames[0].dtype == np.float32
    for frame, expected in zip(rec.frames, seen):
        np.testing.assert_allclose(frame, expected, rtol=1e-6)
    np.testing.assert_array_equal(rec.trajectory[-1], np.concatenate(m.params, axis=None))
    np.testing.assert_allclose(rec.frame_epochs(), np.arange(7) / 3)
    # The loss at the start is the untrained model's, the last the trained one's.
    assert rec.frame_loss[-1] == pytest.approx(m.evaluate(X, y, verbose=0)[0], rel=1e-5)
    assert rec.frame_accuracy[-1] == pytest.approx(m.evaluate(X, y, verbose=0)[1])


def test_only_frames_and_trajectory_need_batch_hooks():
    X, y = circle(64)
    callbacks, _ = make_recorders(X, y)  # gradients: what every run records
    assert not CallbackList(callbacks, None, {}).wants_batches  # a compiled engine runs freely
    callbacks, _ = make_recorders(X, y, trajectory=True)
    assert CallbackList(callbacks, None, {}).wants_batches


def test_memory_is_bounded_by_max_frames_however_long_the_run():
    X, y = circle(64)
    callbacks, rec = make_recorders(X, y, frames=True, trajectory=True, max_frames=10)
    model().fit(X, y, epochs=30, batch_size=4, verbose=0, callbacks=callbacks)  # 480 steps
    assert rec.n_frames <= 10 and len(rec.trajectory) <= 10
    assert rec.frame_steps == rec.trajectory_steps == frame_steps(480, 10)


def test_a_run_stopped_early_ends_on_its_last_step_within_max_frames():
    X, y = circle(64)

    class StopAt(Callback):
        def on_train_batch_end(self, batch, logs=None):
            if self.model.optimizer.iterations >= 37:
                self.model.stop_training = True

    callbacks, rec = make_recorders(X, y, frames=True, max_frames=10, resolution=8)
    model().fit(X, y, epochs=30, batch_size=4, verbose=0, callbacks=[StopAt(), *callbacks])
    assert rec.frame_steps[-1] == 37 and rec.n_frames <= 10
    assert rec.frame_steps[:-1] == [s for s in frame_steps(480, 10) if s < 37]


def test_the_frames_loss_is_measured_on_the_points_the_recording_names():
    X, y = circle(LOSS_SAMPLES + 500)
    callbacks, rec = make_recorders(X, y, frames=True, resolution=8)
    m = model()
    m.fit(X, y, epochs=1, batch_size=512, verbose=0, callbacks=callbacks)
    assert (rec.n_train, rec.loss_points, rec.gradient_points) == (len(X), 4096, MAX_SAMPLES)
    Xs, ys = sample_rows(X, y, LOSS_SAMPLES)  # a fixed subset: the landscape's too
    assert rec.frame_loss[-1] == pytest.approx(m.evaluate(Xs, ys, verbose=0)[0], rel=1e-5)
    assert describe_points(rec.loss_points, rec.n_train) == "4,096 of the 4,596 training points"
    assert describe_points(400, 400) == "all 400 training points"
    assert describe_points(0, 0) == "the training points"


@pytest.mark.parametrize("engine", ["numpy", "compiled"])
def test_recording_does_not_change_training(engine):
    if engine == "compiled":
        pytest.importorskip("numba")
    X, y = circle(200)
    plain = model(engine=engine)
    plain.fit(X, y, epochs=3, batch_size=16, verbose=0)
    watched = model(engine=engine)
    callbacks, rec = make_recorders(X, y, frames=True, trajectory=True)
    watched.fit(X, y, epochs=3, batch_size=16, verbose=0, callbacks=callbacks)
    assert rec.n_frames > 10
    for a, b in zip(plain.get_weights(), watched.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_frames_need_two_input_features():
    X = np.zeros((10, 3))
    with pytest.raises(ValueError, match="needs 2 input features.*has 3"):
        make_recorders(X, np.zeros(10), frames=True)


# --------------------------------------------------------------------------- gradients


def test_gradient_norms_are_those_of_the_full_batch_loss_with_penalty():
    """Central finite differences in float64 of L(W) = mean loss + L2 penalty."""
    X, y = circle(40)
    m = model(l2=0.01, dtype="float64")
    m.build(2)
    Y = y.reshape(-1, 1).astype(np.float64)
    norms = layer_gradient_norms(m, X, Y)

    def loss():
        return m.loss(Y, m.forward(X)) + m.penalty()

    h = 1e-6
    for layer, norm in zip(m.layers, norms):
        grad = np.zeros_like(layer.W)
        for idx in np.ndindex(layer.W.shape):
            old = layer.W[idx]
            layer.W[idx] = old + h
            up = loss()
            layer.W[idx] = old - h
            down = loss()
            layer.W[idx] = old
            grad[idx] = (up - down) / (2 * h)
        assert norm == pytest.approx(np.linalg.norm(grad), rel=1e-6)


def test_gradient_norms_leave_the_models_gradients_alone():
    X, y = circle(40)
    m = model()
    m.fit(X, y, epochs=1, batch_size=8, verbose=0)
    before = [g.copy() for g in m.grads]
    layer_gradient_norms(m, X, y.reshape(-1, 1).astype(np.float32))
    for a, b in zip(before, m.grads):
        np.testing.assert_array_equal(a, b)


def test_gradient_recorder_measures_before_training_and_after_each_epoch():
    X, y = circle(100)
    callbacks, rec = make_recorders(X, y)
    m = model()
    m.fit(X, y, epochs=4, batch_size=25, verbose=0, callbacks=callbacks)
    assert rec.gradient_epochs == [0, 1, 2, 3, 4]
    table = rec.gradient_table()
    assert table.shape == (5, 2) and np.all(table > 0)
    Y = y.reshape(-1, 1).astype(np.float32)
    np.testing.assert_allclose(table[-1], layer_gradient_norms(m, X, Y), rtol=1e-6)


def test_sample_rows_is_a_fixed_subset_in_order():
    X = np.arange(20.0).reshape(10, 2)
    y = np.arange(10)
    assert sample_rows(X, y, 10)[0] is X
    Xs, ys = sample_rows(X, y, 4)
    assert len(Xs) == 4 and np.all(np.diff(ys) > 0)
    np.testing.assert_array_equal(Xs[:, 0], 2 * ys)
    np.testing.assert_array_equal(sample_rows(X, y, 4)[1], ys)  # the same every time
