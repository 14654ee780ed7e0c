"""fit_many: K models on threads give what K fits one by one give, bit for bit."""

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from backprop_lab.engine.keras_metrics import BinaryAccuracy
from backprop_lab.engine.layers import Dense
from backprop_lab.engine.many import fit_many
from backprop_lab.engine.model import Sequential


def _data(seed, n=300):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    return X, (X[:, 0] * X[:, 1] > 0).astype(int)


def _model(seed, hidden=8, optimizer="adam", engine="compiled"):
    model = Sequential([Dense(hidden, "tanh", input_shape=(2,)), Dense(1, "sigmoid")], seed=seed)
    model.compile(optimizer, "binary_crossentropy", ["accuracy"], engine=engine)
    return model


# Same shape and other seeds, other settings, another width: each its own kernel call.
SETTINGS = [dict(seed=0), dict(seed=1), dict(seed=2, optimizer="sgd"), dict(seed=3, hidden=5)]


def _assert_same(a_models, a_hist, b_models, b_hist):
    for ma, ha, mb, hb in zip(a_models, a_hist, b_models, b_hist, strict=True):
        assert ha.history.keys() == hb.history.keys()
        for key in ha.history:
            assert_array_equal(ha.history[key], hb.history[key])
        for pa, pb in zip(ma.params, mb.params, strict=True):
            assert_array_equal(pa, pb)
        assert ma.rng.bit_generator.state == mb.rng.bit_generator.state


@pytest.mark.parametrize("engine", ["compiled", "numpy"])
def test_threads_give_the_fits_one_by_one_bit_for_bit(engine):
    X, y = _data(0)
    alone = [_model(engine=engine, **s) for s in SETTINGS]
    alone_hist = [m.fit(X, y, epochs=4, batch_size=16, verbose=0) for m in alone]
    for threads in (1, 2, 4):
        models = [_model(engine=engine, **s) for s in SETTINGS]
        hist = fit_many(models, X, y, epochs=4, batch_size=16, threads=threads)
        _assert_same(alone, alone_hist, models, hist)
        assert {m.engine_used for m in models} == {engine}


def test_each_model_may_have_its_own_data():
    data = [_data(seed, n) for seed, n in ((1, 100), (2, 250), (3, 64))]
    alone = [_model(seed) for seed in range(3)]
    alone_hist = [m.fit(X, y, epochs=3, verbose=0) for m, (X, y) in zip(alone, data)]
    models = [_model(seed) for seed in range(3)]
    hist = fit_many(models, [X for X, _ in data], [y for _, y in data], epochs=3, threads=2)
    _assert_same(alone, alone_hist, models, hist)


def test_an_error_in_one_fit_is_raised_after_the_others_end():
    X, y = _data(0)
    models = [_model(0), _model(1)]
    with pytest.raises(ValueError, match="epochs"):
        fit_many(models, X, y, epochs=0, threads=2)
    for threads in (1, 2):  # one thread: in order, and the error still waits for the rest
        first, late = _model(2), _model(3)
        with pytest.raises(ValueError, match="samples"):
            fit_many([first, late], [X, X], [y[:10], y], epochs=2, threads=threads)
        assert len(late.history.history["loss"]) == 2  # fitted all the same


def test_bad_input_is_refused_by_name():
    X, y = _data(0, 50)
    m, other = _model(0), _model(1)
    with pytest.raises(ValueError, match="non-empty list"):
        fit_many([], X, y)
    with pytest.raises(ValueError, match=r"models\[1\] is not a Sequential model: str"):
        fit_many([m, "model"], X, y)
    uncompiled = Sequential([Dense(1, "sigmoid", input_shape=(2,))])
    with pytest.raises(ValueError, match=r"models\[0\] is not compiled"):
        fit_many([uncompiled], X, y)
    with pytest.raises(ValueError, match=r"models\[2\] is the same object as models\[0\]"):
        fit_many([m, other, m], X, y)
    with pytest.raises(ValueError, match="threads must be a positive integer"):
        fit_many([m, other], X, y, threads=0)
    with pytest.raises(ValueError, match="one per model"):
        fit_many([m, other], [X], [y])
    with pytest.raises(ValueError, match="no callbacks"):
        fit_many([m, other], X, y, callbacks=[])


def test_models_sharing_what_a_fit_writes_are_refused():
    X, y = _data(0, 50)
    rng = np.random.default_rng(0)
    a, b = _model(rng), _model(rng)
    with pytest.raises(ValueError, match=r"models\[1\] shares its generator with models\[0\]"):
        fit_many([a, b], X, y)
    layer = Dense(1, "sigmoid", input_shape=(2,))
    c, d = Sequential([layer], seed=0), Sequential([layer], seed=1)
    for model in (c, d):
        model.compile("sgd", "binary_crossentropy")
    with pytest.raises(ValueError, match=r"models\[1\] shares its layer .* with models\[0\]"):
        fit_many([c, d], X, y)

    shared_bits = np.random.PCG64(0)  # two Generators over one bit generator
    e = _model(np.random.Generator(shared_bits))
    f = _model(np.random.Generator(shared_bits))
    with pytest.raises(ValueError, match=r"models\[1\] shares its generator with models\[0\]"):
        fit_many([e, f], X, y)
    g, h = _model(None), _model(None)  # both draw from the package's global generator
    with pytest.raises(ValueError, match="give each model a seed of its own"):
        fit_many([g, h], X, y)
    accuracy = BinaryAccuracy()
    i, j = _model(5), _model(6)
    for model in (i, j):
        model.compile("sgd", "binary_crossentropy", [accuracy])
    with pytest.raises(ValueError, match=r"models\[1\] shares its metric .* with models\[0\]"):
        fit_many([i, j], X, y)
