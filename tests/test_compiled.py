"""The compiled engine against the NumPy engine: same batches, same math.

Both engines draw the same permutations from the model's generator, so after
the same epochs they differ only by float rounding (the order of additions
inside matrix products).  Timings are in ``bench/bench_train.py``, not here.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from backprop_lab import SGD, Adagrad, Adam, Callback, Dense, EarlyStopping, RMSprop, Sequential
from backprop_lab.data.datasets import make_circle, train_test_split
from backprop_lab.engine.activations import ReLU
from backprop_lab.engine.layers import Layer
from backprop_lab.engine.progress import Progbar
from backprop_lab.engine.regularizers import L1, L1L2, L2

pytest.importorskip("numba")

WEIGHT_RTOL = 1e-5


def article_data():
    X, y = make_circle(5000, random_state=0)
    return train_test_split(X, y, test_size=0.2, random_state=0)  # 4,000 to train


def article_model(engine, seed=0):
    model = Sequential([Dense(8, "relu", input_shape=(2,)), Dense(1, "sigmoid")], seed=seed)
    model.compile(SGD(0.01), "binary_crossentropy", metrics=["accuracy"], engine=engine)
    return model


def assert_weights_close(a, b, err_msg=""):
    """Each weight within WEIGHT_RTOL of the NumPy engine's, relative to the model's scale.

    The scale is the largest weight: a float32 sum that nearly cancels (a bias
    between classes, a gradient near zero under Adam) has rounding errors of the
    size of its terms, not of its result.
    """
    assert len(a) == len(b)
    scale = max(np.abs(y).max() for y in b)
    for i, (x, y) in enumerate(zip(a, b)):
        np.testing.assert_allclose(
            x, y, rtol=WEIGHT_RTOL, atol=WEIGHT_RTOL * scale, err_msg=f"{err_msg} weight {i}"
        )


def labels(P):
    return (P[:, 0] > 0.5).astype(int) if P.shape[1] == 1 else P.argmax(axis=1)


def clear_labels(P, margin=1e-4):
    """Samples whose label no float rounding can flip (away from the 0.5 or arg-max tie)."""
    if P.shape[1] == 1:
        return np.abs(P[:, 0] - 0.5) > margin
    top2 = np.sort(P, axis=1)[:, -2:]
    return top2[:, 1] - top2[:, 0] > margin


# ---------------------------------------------------------------------- the article
def test_article_configuration_matches_numpy():
    """50 epochs of the article's run, shuffled: 6,250 identical steps on both engines."""
    X_train, X_test, y_train, y_test = article_data()
    runs = {}
    for engine in ("numpy", "compiled"):
        model = article_model(engine)
        history = model.fit(X_train, y_train, epochs=50, batch_size=32, verbose=0)
        assert model.engine_used == engine
        runs[engine] = (model, history.history)
    (numpy_model, numpy_history), (compiled_model, compiled_history) = runs.values()
    assert_weights_close(compiled_model.get_weights(), numpy_model.get_weights())
    P_numpy = numpy_model.predict(X_test, verbose=0)
    P_compiled = compiled_model.predict(X_test, verbose=0)
    np.testing.assert_array_equal(labels(P_compiled), labels(P_numpy))
    assert (labels(P_numpy) == y_test).mean() > 0.85  # above the 80% majority baseline
    np.testing.assert_allclose(compiled_history["loss"], numpy_history["loss"], rtol=1e-5)
    np.testing.assert_allclose(
        compiled_history["accuracy"], numpy_history["accuracy"], atol=1.5 / len(X_train)
    )
    assert numpy_model.optimizer.iterations == compiled_model.optimizer.iterations == 6250


# ---------------------------------------------------------------------- every combination
# (output activation, loss, n_outputs): fused pairs and every non-fused path.
OUTPUTS = [
    ("sigmoid", "binary_crossentropy", 1),
    ("softmax", "binary_crossentropy", 2),
    ("softmax", "categorical_crossentropy", 3),
    ("softmax", "sparse_categorical_crossentropy", 3),
    ("sigmoid", "categorical_crossentropy", 3),
    ("linear", "mse", 2),
    ("tanh", "mean_squared_error", 1),
    ("relu", "mse", 1),
    ("leaky_relu", "mse", 1),
]
OPTIMIZERS = {
    "sgd": lambda: SGD(0.05),
    "momentum": lambda: SGD(0.05, momentum=0.9),
    "nesterov": lambda: SGD(0.05, momentum=0.9, nesterov=True),
    "adam": lambda: Adam(0.01),
    "rmsprop": lambda: RMSprop(0.01),
    "rmsprop-momentum": lambda: RMSprop(0.01, momentum=0.5),
    "adagrad": lambda: Adagrad(0.05),
}
HIDDEN = ["linear", "relu", "leaky_relu", "tanh", "sigmoid", "softmax"]
REGULARIZERS = [None, L1(0.01), L2(0.01), L1L2(0.005, 0.01)]


def targets(loss, n_outputs, X):
    """Targets for ``loss``, a function of ``X`` so that there is something to learn."""
    score = X[:, 0] * X[:, 1] + 0.5 * X[:, 2]
    classes = np.digitize(score, np.quantile(score, np.linspace(0, 1, n_outputs + 1)[1:-1]))
    if loss == "sparse_categorical_crossentropy":
        return classes
    if loss in ("binary_crossentropy", "categorical_crossentropy"):
        return np.eye(n_outputs)[classes] if n_outputs > 1 else (score > 0).astype(float)
    return np.stack([np.sin(score + i) for i in range(n_outputs)], axis=1)


def grid_model(engine, dtype, hidden, depth, regularizer, output, optimizer):
    activation, loss, n_outputs = output
    layers = [
        Dense(
            5 - i,
            hidden,
            input_shape=(3,) if i == 0 else None,
            kernel_regularizer=regularizer,
            **({"kernel_initializer": "he_uniform"} if i == 1 else {}),
        )
        for i in range(depth)
    ]
    layers.append(Dense(n_outputs, activation, kernel_regularizer=regularizer))
    model = Sequential(layers, seed=depth, dtype=dtype)
    # Keras's accuracy of one output is y == (p > 0.5): the kernel's count only for
    # 0/1 targets, so one-output regressions are compiled without it (see below).
    metrics = [] if n_outputs == 1 and loss != "binary_crossentropy" else ["accuracy"]
    model.compile(OPTIMIZERS[optimizer](), loss, metrics=metrics, engine=engine)
    return model


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
@pytest.mark.parametrize("output", OUTPUTS, ids=lambda o: f"{o[0]}-{o[1]}")
def test_every_supported_combination_matches_numpy(output, optimizer, dtype):
    """Each hidden activation with each regularizer, 1-3 hidden layers, 3 shuffled epochs."""
    rng = np.random.default_rng(1)
    X = rng.uniform(-1.0, 1.0, size=(48, 3))
    y = targets(output[1], output[2], X)
    for i, hidden in enumerate(HIDDEN):
        for j, regularizer in enumerate(REGULARIZERS):
            depth = 1 + (i + j) % 3
            case = f"hidden={hidden} reg={regularizer} depth={depth}"
            runs = []
            for engine in ("numpy", "compiled"):
                model = grid_model(engine, dtype, hidden, depth, regularizer, output, optimizer)
                history = model.fit(X, y, epochs=3, batch_size=10, verbose=0)
                runs.append((model, history.history))
            (numpy_model, numpy_history), (compiled_model, compiled_history) = runs
            assert compiled_model.engine_used == "compiled"
            assert_weights_close(compiled_model.get_weights(), numpy_model.get_weights(), case)
            np.testing.assert_allclose(
                compiled_history["loss"], numpy_history["loss"], rtol=1e-5, err_msg=case
            )
            assert set(compiled_history) == set(numpy_history)
            if "accuracy" in numpy_history:
                np.testing.assert_allclose(
                    compiled_history["accuracy"], numpy_history["accuracy"], atol=1.5 / len(X)
                )
            P_numpy = numpy_model.predict(X, verbose=0)
            P_compiled = compiled_model.predict(X, verbose=0)
            assert P_compiled.dtype == np.dtype(dtype)
            clear = clear_labels(P_numpy)
            np.testing.assert_array_equal(
                labels(P_compiled)[clear], labels(P_numpy)[clear], err_msg=case
            )


# ---------------------------------------------------------------------- shared state
@pytest.mark.parametrize(
    "optimizer", [lambda: SGD(0.1, momentum=0.9, nesterov=True), lambda: Adam(0.01)]
)
def test_engines_take_turns_on_one_optimizer_state(optimizer):
    """One epoch compiled then one NumPy equals two NumPy: slots and iterations carry over."""
    X, y = make_circle(300, random_state=2)

    def model():
        m = Sequential([Dense(6, "tanh", input_shape=(2,)), Dense(1, "sigmoid")], seed=3)
        m.compile(optimizer(), "binary_crossentropy", engine="numpy")
        return m

    reference = model()
    reference.fit(X, y, epochs=2, batch_size=16, verbose=0)
    mixed = model()
    for engine in ("compiled", "numpy"):
        mixed.compile(mixed.optimizer, mixed.loss, engine=engine)
        mixed.fit(X, y, epochs=1, batch_size=16, verbose=0)
        assert mixed.engine_used == engine
    assert_weights_close(mixed.get_weights(), reference.get_weights())
    assert mixed.optimizer.iterations == reference.optimizer.iterations == 2 * 19
    assert mixed.optimizer.slots.keys() == reference.optimizer.slots.keys()
    for name in reference.optimizer.slot_names:
        for a, b in zip(mixed.optimizer.slots[name], reference.optimizer.slots[name]):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-7)
    # The layers' gradients are those of the last step, as the NumPy engine leaves them.
    only_compiled = model()
    only_compiled.compile(only_compiled.optimizer, only_compiled.loss, engine="compiled")
    only_compiled.fit(X, y, epochs=2, batch_size=16, verbose=0)
    assert_weights_close(only_compiled.grads, reference.grads)


def test_predict_and_evaluate_use_the_compiled_forward():
    X, y = make_circle(1000, random_state=4)
    numpy_model, compiled_model = article_model("numpy"), article_model("compiled")
    for model in (numpy_model, compiled_model):
        model.fit(X, y, epochs=2, verbose=0)
    assert_weights_close(compiled_model.get_weights(), numpy_model.get_weights())
    compiled_model.set_weights(numpy_model.get_weights())
    P = compiled_model.predict(X, verbose=0)
    assert P.shape == (1000, 1) and P.dtype == np.float32
    np.testing.assert_allclose(P, numpy_model.predict(X, verbose=0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        compiled_model.evaluate(X, y, verbose=0), numpy_model.evaluate(X, y, verbose=0), rtol=1e-5
    )


# ---------------------------------------------------------------------- callbacks
class BatchRecorder(Callback):
    """Wants every batch: its logs and the weights right after it."""

    def __init__(self):
        super().__init__()
        self.batches, self.logs, self.weights = [], [], []

    def on_train_batch_begin(self, batch, logs=None):
        self.batches.append(batch)

    def on_train_batch_end(self, batch, logs=None):
        self.logs.append(dict(logs))
        self.weights.append(self.model.get_weights())


def test_batch_hooks_see_every_batch_with_its_logs_and_weights():
    X, y = make_circle(200, random_state=5)
    recorders = {}
    for engine in ("numpy", "compiled"):
        recorders[engine] = BatchRecorder()
        article_model(engine).fit(
            X, y, epochs=2, batch_size=32, verbose=0, callbacks=[recorders[engine]]
        )
    numpy_rec, compiled_rec = recorders.values()
    assert compiled_rec.batches == numpy_rec.batches == [*range(7), *range(7)]
    for a, b in zip(compiled_rec.logs, numpy_rec.logs):
        assert a.keys() == b.keys()
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-5)
    for a, b in zip(compiled_rec.weights, numpy_rec.weights):
        assert_weights_close(a, b)


def test_progress_bar_keeps_the_compiled_engine_and_final_logs(capsys):
    """verbose=1 draws from chunks of batches; the epoch lines match the NumPy engine's."""
    X, y = make_circle(500, random_state=6)
    lines = {}
    for engine in ("numpy", "compiled"):
        model = article_model(engine)
        history = model.fit(X, y, epochs=3, batch_size=16, verbose=1)
        assert model.engine_used == engine
        lines[engine] = capsys.readouterr().out.splitlines()
        assert len(lines[engine]) == 3
        logs = lines[engine][-1].split(" - ", 2)[-1]
        assert f"loss: {history.history['loss'][-1]:.4f}" in logs
    for compiled_line, numpy_line in zip(lines["compiled"], lines["numpy"]):
        assert logged_values(compiled_line) == pytest.approx(logged_values(numpy_line), abs=2e-4)


def logged_values(line):
    return [float(item.split(": ")[1]) for item in line.split(" - ", 2)[-1].split(" - ")]


def test_progress_bar_is_driven_in_chunks_with_running_logs(monkeypatch):
    """ProgbarLogger only draws, so it gets one batch end per chunk of kernel steps."""
    updates = []
    real_update = Progbar.update

    def update(self, current, logs=None, *, finalize=False):
        updates.append((current, dict(logs or {}), finalize))
        real_update(self, current, logs, finalize=finalize)

    monkeypatch.setattr(Progbar, "update", update)
    X, y = make_circle(3000, random_state=7)
    model = article_model("compiled")
    history = model.fit(X, y, epochs=1, batch_size=10, verbose=1)  # 300 steps
    assert model.engine_used == "compiled"
    *batch_ends, final = updates
    assert final == (
        300,
        {
            "loss": history.history["loss"][0],
            "accuracy": pytest.approx(history.history["accuracy"][0]),
        },
        True,
    )
    currents = [current for current, _, _ in batch_ends]
    assert currents == sorted(set(currents)) and currents[-1] == 300
    assert len(currents) < 300  # chunks, not one call per batch
    assert batch_ends[-1][1]["loss"] == pytest.approx(history.history["loss"][0], rel=1e-12)


def test_early_stopping_stops_at_the_same_epoch():
    X_train, X_test, y_train, y_test = article_data()
    stopped = {}
    for engine in ("numpy", "compiled"):
        model = article_model(engine)
        model.compile(SGD(0.5), "binary_crossentropy", metrics=["accuracy"], engine=engine)
        stop = EarlyStopping("val_loss", patience=2, restore_best_weights=True)
        history = model.fit(
            X_train[:800], y_train[:800], epochs=40, validation_data=(X_test, y_test),
            verbose=0, callbacks=[stop],
        )  # fmt: skip
        stopped[engine] = (stop.stopped_epoch, len(history.epoch), model.get_weights())
    assert stopped["compiled"][:2] == stopped["numpy"][:2]
    assert 0 < stopped["numpy"][0] < 39
    assert_weights_close(stopped["compiled"][2], stopped["numpy"][2])


# ---------------------------------------------------------------------- engine choice
class Doubling(Layer):
    """A custom layer: the compiled engine cannot know its math."""

    def build(self, fan_in, rng, dtype):
        self.units, self.dtype, self.built = fan_in, np.dtype(dtype), True

    def forward(self, X):
        return 2 * X

    def backward(self, dA):
        return 2 * dA

    def count_params(self):
        return 0


class MyReLU(ReLU):
    name = "my_relu"


def custom_models():
    yield "layer 1 (Doubling)", [Dense(4, "relu", input_shape=(2,)), Doubling(), Dense(1)]
    yield "MyReLU", [Dense(4, MyReLU(), input_shape=(2,)), Dense(1)]
    yield "mixed precision", [Dense(4, input_shape=(2,)), Dense(1, dtype="float64")]


@pytest.mark.parametrize("what, layers", list(custom_models()), ids=lambda v: str(v)[:20])
def test_auto_falls_back_to_numpy_and_compiled_refuses(what, layers):
    X = np.random.default_rng(0).uniform(-1, 1, size=(40, 2))
    y = X[:, 0] - X[:, 1]
    model = Sequential(layers, seed=0)
    model.compile("sgd", "mse")
    model.fit(X, y, epochs=1, verbose=0, validation_data=(X, y))
    assert model.engine_used == "numpy"
    # Inference runs the same forward pass as training, in one piece or in blocks.
    P = model.forward(X.astype(np.float32))
    np.testing.assert_allclose(model.predict(X, verbose=0), P, rtol=1e-6)
    np.testing.assert_allclose(model.predict(X, batch_size=7, verbose=0), P, rtol=1e-6)
    with pytest.raises(
        ValueError, match="engine='compiled' cannot run this model: .*" + re.escape(what)
    ):
        model.compile("sgd", "mse", engine="compiled")


def test_summary_shows_the_engine_auto_resolves_to():
    supported = article_model("auto")
    unsupported = Sequential([Dense(4, MyReLU(), input_shape=(2,)), Dense(1)], seed=0)
    unsupported.compile("sgd", "mse")
    for model, used in ((supported, "compiled"), (unsupported, "numpy")):
        lines = []
        model.summary(print_fn=lines.append)
        assert f"Engine: auto ({used})" in lines
        model.fit(*make_circle(100, random_state=0), epochs=1, verbose=0)
        assert model.engine_used == used


def test_without_numba_auto_uses_numpy(monkeypatch):
    from backprop_lab.engine import engines

    monkeypatch.setattr(engines, "_numba_installed", lambda: False)
    X, y = make_circle(100, random_state=0)
    model = article_model("auto")
    model.fit(X, y, epochs=1, verbose=0)
    assert model.engine_used == "numpy"
    with pytest.raises(ValueError, match="numba is not installed"):
        article_model("compiled")


# ---------------------------------------------------------------------- on-disk cache
CACHE_SCRIPT = textwrap.dedent(
    """
    import json, warnings
    import numpy as np
    from backprop_lab import Dense, Sequential
    warnings.simplefilter("always")
    model = Sequential([Dense(3, "tanh", input_shape=(2,)), Dense(1, "sigmoid")], seed=0)
    model.compile("sgd", "binary_crossentropy", engine="compiled")
    with warnings.catch_warnings(record=True) as caught:
        P = model.predict(np.linspace(-1, 1, 8).reshape(4, 2), verbose=0)
    print(json.dumps({"P": P.ravel().tolist(), "warnings": [str(w.message) for w in caught]}))
    """
)


def run_in_fresh_process(cache_dir):
    # numba's cache: the C kernels (which would take the article's model) are off
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache_dir), "BACKPROP_LAB_NATIVE": "0"}
    done = subprocess.run(
        [sys.executable, "-c", CACHE_SCRIPT], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.subprocess
def test_a_corrupted_numba_cache_is_recompiled_not_fatal(tmp_path):
    first = run_in_fresh_process(tmp_path)
    assert first["warnings"] == []
    cache_files = [p for p in tmp_path.rglob("*") if p.suffix in (".nbi", ".nbc")]
    assert any(p.suffix == ".nbi" for p in cache_files)
    for path in cache_files:
        path.write_bytes(b"not a pickle" + path.read_bytes()[:20])
    second = run_in_fresh_process(tmp_path)
    assert second["P"] == first["P"]
    assert len(second["warnings"]) == 1
    assert "numba cache for forward_rows is unusable" in second["warnings"][0]
    healed = run_in_fresh_process(tmp_path)  # the emptied index was rewritten
    assert healed == first


def test_an_error_that_is_not_the_cache_is_raised_not_recompiled(recwarn):
    from numba.core.errors import TypingError

    from backprop_lab.engine.compiled.trainer import forward_rows

    before = forward_rows.dispatcher
    with pytest.raises(TypingError):
        forward_rows("not an array", None, None, None)
    assert forward_rows.dispatcher is before
    assert not [w for w in recwarn if "numba cache" in str(w.message)]


def test_a_callback_that_reads_only_the_logs_stops_training_on_unshared_buffers(monkeypatch):
    """Such a callback may stop the fit (the weights are copied back once, at the end)
    and the model ends as after a fit of exactly those epochs."""
    from backprop_lab.engine.callbacks import looks_at_model
    from backprop_lab.engine.compiled.trainer import CompiledTrainer

    class StopAfter(Callback):
        reads_only_logs = True

        def on_epoch_end(self, epoch, logs=None):
            self.model.stop_training = epoch == 3 and logs["loss"] > 0

    class Watch(Callback):  # says nothing: it may look at the model
        pass

    assert not looks_at_model(StopAfter()) and looks_at_model(Watch())
    X, y = make_circle(600, random_state=1)
    shared = []
    original = CompiledTrainer.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        shared.append(self.shared)

    monkeypatch.setattr(CompiledTrainer, "__init__", init)
    models = []
    for callbacks, epochs in (([StopAfter()], 50), ([], 4), ([Watch(), StopAfter()], 50)):
        model = Sequential([Dense(6, "tanh", input_shape=(2,)), Dense(1, "sigmoid")], seed=2)
        model.compile(Adam(0.01), "binary_crossentropy", engine="compiled")
        history = model.fit(X, y, epochs=epochs, batch_size=16, verbose=0, callbacks=callbacks)
        assert len(history.history["loss"]) == 4
        models.append(model)
    assert shared == [False, False, True]
    for model in models[1:]:
        for a, b in zip(models[0].get_weights(), model.get_weights(), strict=True):
            assert np.array_equal(a, b)
        assert models[0].optimizer.iterations == model.optimizer.iterations


def test_read_only_data_trains_without_compiling_the_kernels_again():
    """numba types a read-only array apart (a new compilation of every kernel, 10 s or
    more, as scikit-learn's read-only memmap check once took); the engine copies it."""
    from backprop_lab.engine.compiled.trainer import forward_rows, train_steps

    X, y = make_circle(64, random_state=0)
    X, y = X.astype(np.float64), y.astype(np.float64)
    X.flags.writeable = y.flags.writeable = False
    model = Sequential([Dense(3, "tanh", input_shape=(2,)), Dense(2, "softmax")], dtype="float64")
    model.compile(Adam(0.01), "sparse_categorical_crossentropy", engine="compiled")
    model.fit(X, y, epochs=2, verbose=0)
    P = model.predict(X, verbose=0)
    assert np.isfinite(P).all() and not X.flags.writeable  # the caller's array as it was
    for kernel in (train_steps, forward_rows):
        types = [str(t) for sig in kernel.dispatcher.signatures for t in sig]
        assert types and not [t for t in types if "readonly" in t], kernel


def test_the_kernels_compile_with_slp_and_leave_numbas_setting_as_it_was():
    """SLP is on while a kernel compiles (under numba's compiler lock), off again after,
    even when the compilation fails; other numba code keeps numba's default."""
    from numba.core import config
    from numba.core.compiler_lock import global_compiler_lock

    from backprop_lab.engine.compiled.trainer import _with_slp, fit_epochs, train_steps

    seen = []

    def compile_signature(sig):
        seen.append((sig, config.SLP_VECTORIZE, global_compiler_lock.is_locked()))
        if sig == "bad":
            raise RuntimeError("no")
        return "compiled"

    before = config.SLP_VECTORIZE
    assert _with_slp(compile_signature)("sig") == "compiled"
    with pytest.raises(RuntimeError):
        _with_slp(compile_signature)("bad")
    assert seen == [("sig", 1, True), ("bad", 1, True)]
    assert config.SLP_VECTORIZE == before
    dispatcher = train_steps.dispatcher  # train_steps compiles through the wrapper
    assert dispatcher.compile.__wrapped__.__self__ is dispatcher
    assert not hasattr(fit_epochs.dispatcher.compile, "__wrapped__")  # 37 s with SLP


def test_hyperparameters_reach_the_kernel_by_name_and_unknown_ones_are_refused():
    from backprop_lab.engine.compiled import codes
    from backprop_lab.engine.compiled.trainer import hyperparameter_vector

    hp = hyperparameter_vector(RMSprop(0.5, rho=0.8, momentum=0.3, epsilon=1e-6))
    assert (hp[codes.LR], hp[codes.RHO], hp[codes.MOMENTUM], hp[codes.EPS]) == (
        0.5,
        0.8,
        0.3,
        1e-6,
    )

    class Renamed(SGD):
        hyperparameter_names = ("learning_rate", "mu")
        mu = 0.9

    with pytest.raises(ValueError, match="does not know Renamed's hyper-parameter 'mu'"):
        hyperparameter_vector(Renamed(0.1))


class SeesSomeBatches(Callback):
    """Wants batches 3 and 7 of each epoch; records what it saw there."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def batches_wanted(self, steps):
        return [3, 7]

    def on_train_batch_end(self, batch, logs=None):
        self.seen.append((self.epoch, batch, logs["loss"], self.model.get_weights()[0].copy()))


def test_a_callback_that_wants_some_batches_sees_them_exactly_and_nothing_is_lost():
    X, y = make_circle(320, random_state=0)  # 10 batches of 32 per epoch
    watchers = {}
    for engine in ("numpy", "compiled"):
        model = article_model(engine)
        watchers[engine] = SeesSomeBatches()
        model.fit(X, y, epochs=2, verbose=0, callbacks=[watchers[engine]])
    numpy_seen = {(e, b): (loss, w) for e, b, loss, w in watchers["numpy"].seen}
    compiled = watchers["compiled"].seen
    # The compiled engine stops after batches 3 and 7 and at the end of each epoch.
    assert [(e, b) for e, b, *_ in compiled] == [(e, b) for e in (0, 1) for b in (3, 7, 9)]
    for e, b, loss, w in compiled:
        np.testing.assert_allclose(loss, numpy_seen[(e, b)][0], rtol=1e-5)
        assert_weights_close([w], [numpy_seen[(e, b)][1]])
