"""The compiled engine's whole-``fit`` path against its epoch-by-epoch path: bit for bit.

When no callback but ``History`` listens and nothing is validated,
``fit_loop`` lets the compiled trainer run every epoch at once
(``CompiledTrainer.train_epochs``): the permutations drawn beforehand by a
compiled copy of NumPy's PCG64 (``pcg64``), and, for the article's family of
models, one ``whole_fit.fit_epochs`` call.  That is only an optimisation: the
weights, gradients, optimizer state, history and generator must end exactly
as the epoch-by-epoch path leaves them.  Timings are in ``bench/``, not here.
"""

from __future__ import annotations

import numpy as np
import pytest

from backprop_lab import SGD, Adam, Callback, Dense, Sequential
from backprop_lab.data.datasets import make_circle
from backprop_lab.engine import training
from backprop_lab.engine.regularizers import L2

pytest.importorskip("numba")

from backprop_lab.engine.compiled import native, orders  # noqa: E402
from backprop_lab.engine.compiled import trainer as compiled  # noqa: E402


@pytest.fixture(autouse=True)
def numba_kernels_only(monkeypatch):
    """These tests are about the numba kernels: the C ones (``test_native.py``) stay out."""
    monkeypatch.setattr(compiled, "native_kernels", lambda model, training=True: None)


# ------------------------------------------------------------------ permutations
def drawn_apart(seed, warm_up):
    """Two generators in the same state; ``warm_up`` 32-bit draws leave one buffered if odd."""
    a, b = np.random.default_rng(seed), np.random.default_rng(seed)
    for rng in (a, b):
        rng.random()
        rng.integers(0, 10, size=warm_up, dtype=np.uint32)
    return a, b


@pytest.mark.parametrize("seed", [0, 1, 123, 2**32 - 1])
@pytest.mark.parametrize("n", [1, 2, 37, 4000, 4097, 4145, 8193, 65537])  # C: blocks of 4096
@pytest.mark.parametrize("warm_up", [0, 1])
@pytest.mark.parametrize("kernel", ["numba", "C"])
def test_compiled_permutations_are_numpys_and_leave_the_same_state(seed, n, warm_up, kernel):
    permutations = compiled.permutations
    if kernel == "C":  # whole_fit.c's copy (tests/test_native.py has the rest of the C kernels)
        c = native.load("float32")
        if c is None:
            pytest.skip(f"no C kernels: {native.reason('float32')}")
        permutations = c.permutations
    numpy_rng, ours = drawn_apart(seed, warm_up)
    expected = np.stack([numpy_rng.permutation(n) for _ in range(5)])
    out = np.empty((2, n), np.int64)  # a ring of two rows: epoch e in row e % 2
    state = orders.pack(ours.bit_generator)
    permutations(state, n, 0, 2, out)
    np.testing.assert_array_equal(out, expected[:2])
    permutations(state, n, 2, 5, out)  # epoch 4 overwrites epoch 2
    np.testing.assert_array_equal(out, expected[[4, 3]])
    orders.unpack(ours.bit_generator, state)
    assert ours.bit_generator.state == numpy_rng.bit_generator.state
    assert ours.random() == numpy_rng.random()


@pytest.mark.parametrize("bit_generator", [np.random.PCG64, np.random.MT19937])
def test_order_blocks_draw_each_epochs_permutation_in_sequence(monkeypatch, bit_generator):
    monkeypatch.setattr(orders, "ROWS_CAP", 3 * 50)  # blocks of three epochs
    numpy_rng = np.random.Generator(bit_generator(5))
    ours = np.random.Generator(bit_generator(5))
    expected = [numpy_rng.permutation(50) for _ in range(7)]
    got = {}
    for first, stop, block in orders.order_blocks(ours, 50, 7, compiled.permutations):
        assert block.shape == (3, 50)
        got.update({e: block[e % 3].copy() for e in range(first, stop)})
    assert sorted(got) == list(range(7))
    for e in range(7):
        np.testing.assert_array_equal(got[e], expected[e])
    assert ours.random(3).tolist() == numpy_rng.random(3).tolist()  # the same state after


def test_order_blocks_without_a_generator_keep_the_stored_order():
    ((first, stop, block),) = orders.order_blocks(None, 4, 3, compiled.permutations)
    assert (first, stop) == (0, 3)
    np.testing.assert_array_equal(block, [[0, 1, 2, 3]])


# ------------------------------------------------------------------ whole fit
def circle(n=300, n_features=2, dtype="float32"):
    X, y = make_circle(n, random_state=1)
    if n_features > 2:
        X = np.hstack([X] + [X[:, :1] * X[:, 1:] ** (k + 1) for k in range(n_features - 2)])
    return X.astype(dtype), y


def build(hidden="relu", units=8, n_features=2, output=("sigmoid", 1), loss="binary_crossentropy",
          optimizer=None, dtype="float32", depth=1, regularizer=None, seed=0):  # fmt: skip
    layers = [Dense(units, hidden, input_shape=(n_features,), kernel_regularizer=regularizer)]
    layers += [Dense(units, hidden) for _ in range(depth - 1)]
    layers.append(Dense(output[1], output[0]))
    model = Sequential(layers, seed=seed, dtype=dtype)
    model.compile(optimizer or SGD(0.01), loss, metrics=["accuracy"], engine="compiled")
    return model


class Spy:
    """Counts the calls of the whole-fit trainer and kernel."""

    def __init__(self, monkeypatch):
        self.epochs_calls = self.kernel_calls = 0
        train_epochs, kernel = compiled.CompiledTrainer.train_epochs, compiled.fit_epochs

        def spied_epochs(trainer, *args):
            self.epochs_calls += 1
            return train_epochs(trainer, *args)

        def spied_kernel(*args):
            self.kernel_calls += 1
            return kernel(*args)

        monkeypatch.setattr(compiled.CompiledTrainer, "train_epochs", spied_epochs)
        monkeypatch.setattr(compiled, "fit_epochs", spied_kernel)


def fit_both_ways(monkeypatch, make, X, y, **fit):
    """The same model fitted by the whole-fit path and by the epoch-by-epoch path."""
    spy = Spy(monkeypatch)
    whole = make()
    whole.fit(X, y, verbose=0, **fit)
    with monkeypatch.context() as m:
        m.setattr(training, "passive", lambda callbacks: False)
        by_epoch = make()
        by_epoch.fit(X, y, verbose=0, **fit)
    return whole, by_epoch, spy


def assert_identical(a, b):
    for x, y in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(x, y)
    for x, y in zip(a.grads, b.grads, strict=True):
        np.testing.assert_array_equal(x, y)
    for name in a.optimizer.slot_names:
        for x, y in zip(a.optimizer.slots[name], b.optimizer.slots[name], strict=True):
            np.testing.assert_array_equal(x, y)
    assert a.optimizer.iterations == b.optimizer.iterations
    assert a.history.history == b.history.history
    assert a.history.epoch == b.history.epoch
    assert all(type(v) is float for values in a.history.history.values() for v in values)
    assert a.rng.bit_generator.state == b.rng.bit_generator.state
    assert a.compile_metrics.result() == b.compile_metrics.result()


def test_the_articles_fit_is_one_kernel_call_and_identical(monkeypatch):
    X, y = make_circle(5000, random_state=0)
    X = X[:4000].astype("float32")
    whole, by_epoch, spy = fit_both_ways(monkeypatch, build, X, y[:4000], epochs=50, batch_size=32)
    assert (spy.epochs_calls, spy.kernel_calls) == (1, 1)
    assert_identical(whole, by_epoch)
    assert len(whole.history.history["loss"]) == 50
    assert whole.optimizer.iterations == 50 * 125


WHOLE_KERNEL = {
    "tanh": dict(hidden="tanh"),
    "sigmoid": dict(hidden="sigmoid", units=3),
    "leaky": dict(hidden="leaky_relu"),
    "linear": dict(hidden="linear", units=1),
    "float64": dict(dtype="float64"),
    "5 features": dict(n_features=5, units=6),
}


@pytest.mark.parametrize("options", WHOLE_KERNEL.values(), ids=list(WHOLE_KERNEL))
def test_the_whole_fit_kernel_matches_the_epoch_by_epoch_path(monkeypatch, options):
    X, y = circle(n_features=options.get("n_features", 2), dtype=options.get("dtype", "float32"))
    whole, by_epoch, spy = fit_both_ways(
        monkeypatch, lambda: build(**options), X, y, epochs=4, batch_size=32
    )  # 300 samples: the last batch of each epoch has 12
    assert spy.kernel_calls == 1
    assert_identical(whole, by_epoch)


def test_many_epochs_of_many_samples_train_a_block_of_epochs_per_call(monkeypatch):
    monkeypatch.setattr(orders, "ROWS_CAP", 2 * 300)  # 5 epochs: blocks of 2, 2 and 1
    X, y = circle()
    whole, by_epoch, spy = fit_both_ways(monkeypatch, build, X, y, epochs=5, batch_size=32)
    assert spy.kernel_calls == 3
    assert_identical(whole, by_epoch)


def test_an_interrupted_fit_keeps_the_blocks_trained_before_in_history(monkeypatch):
    # Ctrl-C reaches Python when a kernel call returns: here, the second block's.
    monkeypatch.setattr(orders, "ROWS_CAP", 3 * 300)  # 9 epochs: blocks of three
    kernel, calls = compiled.fit_epochs, []

    def interrupted_on_the_second_call(*args):
        kernel(*args)
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(compiled, "fit_epochs", interrupted_on_the_second_call)
    X, y = circle()
    model = build()
    with pytest.raises(KeyboardInterrupt):
        model.fit(X, y, epochs=9, batch_size=32, verbose=0)
    monkeypatch.setattr(compiled, "fit_epochs", kernel)
    after_three, after_six = build(), build()
    after_three.fit(X, y, epochs=3, batch_size=32, verbose=0)
    after_six.fit(X, y, epochs=6, batch_size=32, verbose=0)
    assert model.history.history == after_three.history.history  # the first block's epochs
    for x, y_ in zip(model.get_weights(), after_six.get_weights(), strict=True):
        np.testing.assert_array_equal(x, y_)  # both blocks trained
    assert model.rng.bit_generator.state == after_six.rng.bit_generator.state  # none ahead


def test_without_shuffling_every_epoch_takes_the_stored_order(monkeypatch):
    X, y = circle()
    whole, by_epoch, spy = fit_both_ways(monkeypatch, build, X, y, epochs=3, shuffle=False)
    assert spy.kernel_calls == 1
    assert_identical(whole, by_epoch)
    assert whole.rng.bit_generator.state == build().rng.bit_generator.state  # nothing drawn


OTHER_MODELS = {
    "momentum": dict(optimizer=lambda: SGD(0.05, momentum=0.9, nesterov=True)),
    "adam": dict(optimizer=lambda: Adam(0.01)),
    "mse": dict(loss="mse", output=("linear", 1)),
    "softmax": dict(output=("softmax", 3), loss="sparse_categorical_crossentropy"),
    "two hidden layers": dict(depth=2, hidden="tanh"),
    "l2": dict(regularizer=L2(0.01)),
}


@pytest.mark.parametrize("name", list(OTHER_MODELS))
def test_other_models_run_all_epochs_at_once_through_the_generic_kernel(monkeypatch, name):
    X, y = circle()
    if name == "softmax":
        y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)

    def make():
        options = dict(OTHER_MODELS[name])
        optimizer = options.pop("optimizer", lambda: None)
        return build(optimizer=optimizer(), **options)

    whole, by_epoch, spy = fit_both_ways(monkeypatch, make, X, y, epochs=3, batch_size=16)
    assert (spy.epochs_calls, spy.kernel_calls) == (1, 0)
    assert_identical(whole, by_epoch)


class Listener(Callback):
    def on_epoch_end(self, epoch, logs=None):
        pass


def test_one_epoch_stays_with_the_generic_kernel(monkeypatch):
    X, y = circle()
    whole, by_epoch, spy = fit_both_ways(monkeypatch, build, X, y, epochs=1)
    assert (spy.epochs_calls, spy.kernel_calls) == (1, 0)
    assert_identical(whole, by_epoch)


@pytest.mark.parametrize("fit", [{"validation_split": 0.2}, {"callbacks": [Listener()]}, {}])
def test_validation_or_a_listening_callback_keeps_the_epoch_by_epoch_path(monkeypatch, fit):
    X, y = circle()
    spy = Spy(monkeypatch)
    build().fit(X, y, epochs=2, verbose=0 if fit else 2, **fit)
    assert spy.epochs_calls == 0
