"""The C kernels (``engine/compiled/whole_fit.c`` through ``native``) against numba's: bit for bit.

``native`` builds ``whole_fit.c`` with the system C compiler and loads it with
ctypes, so a process training the article's network needs neither numba's
import nor its compiled kernels.  It must be exactly the numba kernels for that
family (``whole_fit.fit_epochs``; ``kernels.train_steps`` and
``kernels.forward_rows`` restricted to it), and its cache must survive what
caches meet: a second process, a damaged file, no compiler, no writable folder.
Every test skips, saying why, where ``native.load`` gives None (no C compiler).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from backprop_lab.engine.compiled import codes, native

numba_kernels = pytest.importorskip("backprop_lab.engine.compiled.trainer")

ACTIVATIONS = {
    "linear": codes.LINEAR,
    "relu": codes.RELU,
    "leaky": codes.LEAKY_RELU,
    "tanh": codes.TANH,
    "sigmoid": codes.SIGMOID,
}
DTYPES = ["float32", "float64"]
SLOPE = 0.2


@pytest.fixture(scope="module")
def kernels(tmp_path_factory):
    """``{dtype: Native}`` built once for the module, in a temporary cache folder."""
    with pytest.MonkeyPatch.context() as m:
        m.setenv("BACKPROP_LAB_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        m.delenv("BACKPROP_LAB_NATIVE", raising=False)
        native._forget()
        built = {dtype: native.load(dtype) for dtype in DTYPES}
        reasons = {dtype: native.reason(dtype) for dtype in DTYPES}
        yield built, reasons
    native._forget()


def kernel_for(kernels, dtype):
    built, reasons = kernels
    if built[dtype] is None:
        pytest.skip(f"no C kernels: {reasons[dtype]}")
    return built[dtype]


@pytest.fixture
def fresh(monkeypatch, tmp_path):
    """An empty cache folder of the test's own, and nothing loaded in this process."""
    monkeypatch.setenv("BACKPROP_LAB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("BACKPROP_LAB_NATIVE", raising=False)
    native._forget()
    yield tmp_path / "cache" / "native"
    native._forget()


# ------------------------------------------------------------------ the family's arrays
def work_buffers(n_features, hidden, batch_size, dtype):
    """The kernels' work buffers ``A, Z, G, T, S`` for the family (``trainer.work_buffers``)."""
    rows = n_features + hidden + 1
    shapes = [(rows, batch_size)] * 3 + [(1, batch_size), (2, batch_size)]
    return tuple(np.empty(shape, dtype) for shape in shapes)


def problem(dtype, n_samples=203, n_features=3, hidden=8, seed=0):
    """Data with 0/1 and soft (0.3) labels, and weights large enough to saturate sometimes."""
    rng = np.random.default_rng(seed)
    X = (rng.standard_normal((n_samples, n_features)) * 2).astype(dtype)
    X[::17] = 0  # hidden units at their bias alone
    Y = (rng.random((n_samples, 1)) < 0.5).astype(dtype)
    Y[::7] = 0.3
    n_params = n_features * hidden + 2 * hidden + 1
    theta = (rng.standard_normal(n_params) * 1.5).astype(dtype)
    theta[n_features * hidden] = 1e-4  # a bias in tanh's series branch for the zero rows
    return X, Y, theta


def layout(n_features, hidden, act):
    """``trainer.layout`` of ``Dense(hidden, act) -> Dense(1, "sigmoid")``."""
    b1 = n_features * hidden
    spec = np.array(
        [
            [n_features, hidden, 0, b1, 0, n_features, act],
            [hidden, 1, b1 + hidden, b1 + 2 * hidden, n_features, n_features + hidden, 0],
        ],
        np.int64,
    )
    spec[1, codes.ACT] = codes.SIGMOID
    lconst = np.zeros((2, 3))
    lconst[0, codes.SLOPE] = SLOPE
    return spec, lconst


def numba_train_steps(
    X, Y, order, batch_size, first, stop, act, slope, theta, grad, lr, loss_sum, correct, work
):
    """``kernels.train_steps`` for the family, with ``native.Native.train_range``'s arguments."""
    spec, lconst = layout(X.shape[1], work[0].shape[0] - X.shape[1] - 1, act)
    lconst[0, codes.SLOPE] = slope
    hp = np.zeros(7)
    hp[codes.LR] = lr
    slots = np.zeros_like(theta), np.zeros_like(theta)
    return numba_kernels.train_steps(
        X, Y, order, batch_size, first, stop, spec, lconst, theta, grad, *slots,
        codes.BCE, 1, codes.SGD, hp, 0, loss_sum, correct, work,
    )  # fmt: skip


def test_the_c_epsilon_is_the_losses():
    from backprop_lab.engine.losses import EPSILON

    (value,) = re.findall(r"^#define EPSILON (\S+)$", native.SOURCE.read_text(), re.M)
    assert float(value) == EPSILON


# ------------------------------------------------------------------ bit for bit
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("act", list(ACTIVATIONS))
@pytest.mark.parametrize("batch_size", [1, 5, 13, 32, 100])
def test_fit_epochs_is_numbas_bit_for_bit(kernels, dtype, act, batch_size):
    c = kernel_for(kernels, dtype)
    X, Y, theta0 = problem(dtype)
    n, code = len(X), ACTIVATIONS[act]
    lr = np.dtype(dtype).type(0.3)
    rng = np.random.default_rng(1)
    for rows in (1, 3):
        orders = np.stack([rng.permutation(n) for _ in range(rows)])
        results = []
        for fit_epochs in (numba_kernels.fit_epochs, c.fit_epochs):
            theta, grad = theta0.copy(), np.zeros_like(theta0)
            loss, correct = np.full(5, np.nan), np.full(5, -1, np.int64)
            work = work_buffers(X.shape[1], 8, min(batch_size, n), dtype)
            for first, stop in ((0, 2), (2, 5)):  # epochs 3 and 4 take rows 0 and 1 again
                fit_epochs(
                    X, Y, orders, first, stop, batch_size, code, SLOPE, theta, grad, lr, loss,
                    correct, work,
                )  # fmt: skip
            results.append((theta, grad, loss, correct))
        for ours, theirs in zip(results[1], results[0], strict=True):
            assert np.array_equal(ours, theirs), (rows, ours, theirs)
        assert np.isfinite(results[1][2]).all() and (results[1][3] > 0).all()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize(
    "n_samples, n_features, batch_size",
    [(203, 3, 13), (203, 3, 32), (150_000, 2, 32), (60_000, 5, 13)],
    ids=["cached", "cached-step8", "records", "records-wide"],
)
def test_fit_shuffled_is_permutations_then_fit_epochs(
    kernels, dtype, threads, n_samples, n_features, batch_size
):
    """Drawing the orders on a second thread while training, and beyond the caches
    training from records copied in each epoch's order, change nothing: the same orders,
    generator state, weights and logs as the two calls one after the other."""
    from backprop_lab.engine.compiled.orders import pack

    c = kernel_for(kernels, dtype)
    X, Y, theta0 = problem(dtype, n_samples=n_samples, n_features=n_features)
    n, lr = len(X), np.dtype(dtype).type(0.05)
    results = []
    for fused in (False, True):
        state = pack(np.random.default_rng(5).bit_generator)
        theta, grad = theta0.copy(), np.zeros_like(theta0)
        loss, correct = np.full(9, np.nan), np.full(9, -1, np.int64)
        orders = np.tile(np.arange(n), (4, 1))  # fit_epochs checks every row
        work = work_buffers(n_features, 8, batch_size, dtype)
        for first, stop in ((0, 1), (1, 5), (5, 9)):  # one epoch, then blocks of four
            args = (X, Y, orders, first, stop, batch_size, codes.TANH, SLOPE, theta, grad)
            args += (lr, loss, correct, work)
            if fused:
                c.fit_shuffled(state, *args, threads=threads)
            else:
                c.permutations(state, n, first, stop, orders)
                c.fit_epochs(*args)
        results.append((state, orders, theta, grad, loss, correct))
    for ours, theirs in zip(results[1], results[0], strict=True):
        assert np.array_equal(ours, theirs), (ours, theirs)
    assert (np.sort(results[1][1], axis=1) == np.arange(n)).all()
    assert np.isfinite(results[1][4]).all()
    with pytest.raises(ValueError, match="rows of orders"):
        c.fit_shuffled(state, X, Y, orders, 0, 5, *args[5:], threads=threads)


@pytest.mark.parametrize("case", ["saturated", "nan"])
@pytest.mark.parametrize("batch_size", [8, 32, 40])
def test_losses_computed_after_their_steps_are_numbas(kernels, case, batch_size):
    """With 0/1 labels the C kernels compute batches' losses after their steps, several side
    by side; products below 1e-200 (confidently wrong predictions) and NaN take the
    sequential chain again.  The losses must stay numba's, bit for bit."""
    c = kernel_for(kernels, "float32")
    X, Y, theta0 = problem("float32", n_samples=411, n_features=2)
    theta0 = theta0 * 40  # saturated sigmoids, each labelled wrong: S = 1e-7, products
    p = c.forward(X, theta0, 8, codes.RELU, SLOPE)  # below 1e-200 in 13 samples
    Y = (p <= 0.5).astype("float32")
    if case == "nan":
        X[300] = np.nan  # a NaN prediction part-way through the first epoch
    orders = np.stack([np.random.default_rng(k).permutation(len(X)) for k in range(2)])
    results = []
    for fit_epochs in (numba_kernels.fit_epochs, c.fit_epochs):
        theta, grad = theta0.copy(), np.zeros_like(theta0)
        loss, correct = np.full(2, np.nan), np.full(2, -1, np.int64)
        work = work_buffers(2, 8, batch_size, "float32")
        fit_epochs(
            X, Y, orders, 0, 2, batch_size, codes.RELU, SLOPE, theta, grad,
            np.float32(1e-3), loss, correct, work,
        )  # fmt: skip
        results.append((theta, loss, correct))
    for ours, theirs in zip(results[1], results[0], strict=True):
        np.testing.assert_array_equal(ours, theirs)
    assert np.isfinite(results[1][1]).all() == (case == "saturated")


def test_data_beyond_the_caches_trains_the_same(kernels):
    """Over 1 MB of X, the C loops prefetch the rows of the batches ahead: hints only."""
    c = kernel_for(kernels, "float32")
    X, Y, theta0 = problem("float32", n_samples=140_000, n_features=2)
    orders = np.random.default_rng(2).permutation(len(X))[None, :]
    results = []
    for fit_epochs in (numba_kernels.fit_epochs, c.fit_epochs):
        theta, grad = theta0.copy(), np.zeros_like(theta0)
        loss, correct = np.zeros(1), np.zeros(1, np.int64)
        work = work_buffers(2, 8, 32, "float32")
        fit_epochs(X, Y, orders, 0, 1, 32, codes.RELU, 0.0, theta, grad, np.float32(0.01), loss,
                   correct, work)  # fmt: skip
        results.append((theta, grad, loss, correct))
    for ours, theirs in zip(results[1], results[0], strict=True):
        assert np.array_equal(ours, theirs)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("act", list(ACTIVATIONS))
@pytest.mark.parametrize("batch_size", [1, 13, 32])
def test_train_range_is_train_steps_bit_for_bit(kernels, dtype, act, batch_size):
    c = kernel_for(kernels, dtype)
    X, Y, theta0 = problem(dtype, seed=2)
    n, code = len(X), ACTIVATIONS[act]
    lr = np.dtype(dtype).type(0.2)
    steps = -(-n // batch_size)
    order = np.random.default_rng(3).permutation(n)
    results = []
    for train in (numba_train_steps, c.train_range):
        theta, grad = theta0.copy(), np.zeros_like(theta0)
        work = work_buffers(X.shape[1], 8, min(batch_size, n), dtype)
        totals, trail = (0.0, 0), []
        for first, stop in ((0, steps // 3), (steps // 3, steps - 1), (steps - 1, steps)):
            totals = train(
                X, Y, order, batch_size, first, stop, code, SLOPE, theta, grad, lr, *totals, work
            )
            trail.append(totals)
        results.append((theta, grad, trail))
    (theta, grad, trail), (theta_n, grad_n, trail_n) = results[1], results[0]
    assert np.array_equal(theta, theta_n) and np.array_equal(grad, grad_n)
    assert [(float(a), int(b)) for a, b in trail] == [(float(a), int(b)) for a, b in trail_n]
    assert all(type(a) is float and type(b) is int for a, b in trail)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("act", list(ACTIVATIONS))
def test_forward_is_forward_rows_bit_for_bit(kernels, dtype, act):
    c = kernel_for(kernels, dtype)
    X, _, theta = problem(dtype, n_samples=600, seed=4)  # blocks of 256, 256 and 88
    spec, lconst = layout(X.shape[1], 8, ACTIVATIONS[act])
    expected = numba_kernels.forward_rows(X, spec, lconst, theta)
    got = c.forward(X, theta, 8, ACTIVATIONS[act], SLOPE)
    assert got.shape == (600, 1) and got.dtype == np.dtype(dtype)
    assert np.array_equal(got, expected)
    # Any layout of X, as forward_rows takes it.
    assert np.array_equal(c.forward(np.asfortranarray(X), theta, 8, ACTIVATIONS[act], SLOPE), got)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("act", list(ACTIVATIONS))
def test_activations_agree_on_every_kind_of_input(kernels, dtype, act):
    # One input, one hidden unit of weight 1 and bias 0, output weight 1: P = sigmoid(act(x)).
    c = kernel_for(kernels, dtype)
    f = np.dtype(dtype).type
    special = [0.0, -0.0, 1e-30, -1e-30, 3e-4, -3e-4, 4e-4, 1e-3, 20.0, -20.0, 50.0, -50.0,
               100.0, 1e30, -1e30, np.inf, -np.inf, np.nan]  # fmt: skip
    x = np.concatenate(
        [special, np.random.default_rng(5).standard_normal(4000) * 6, np.geomspace(1e-8, 40, 500)]
    )
    X = np.concatenate([x, -x]).astype(dtype)[:, None]
    theta = np.array([1, 0, 1, 0], dtype)
    spec, lconst = layout(1, 1, ACTIVATIONS[act])
    expected = numba_kernels.forward_rows(X, spec, lconst, theta)
    got = c.forward(X, theta, 1, ACTIVATIONS[act], SLOPE)
    assert np.array_equal(got, expected, equal_nan=True)
    assert f(0) <= np.nanmin(got)


def test_wrong_arguments_raise_instead_of_reaching_c(kernels):
    c = kernel_for(kernels, "float32")
    X, Y, theta = problem("float32", n_samples=20)
    work = work_buffers(3, 8, 5, "float32")
    grad, loss, correct = np.zeros_like(theta), np.zeros(2), np.zeros(2, np.int64)
    orders = np.arange(20)[None, :]
    args = [X, Y, orders, 0, 2, 5, codes.RELU, SLOPE, theta, grad, 0.1, loss, correct, work]
    c.fit_epochs(*args)
    with pytest.raises(TypeError, match="dtype"):
        c.fit_epochs(*[X.astype("float64"), *args[1:]])
    with pytest.raises(ValueError, match="work buffers"):
        c.fit_epochs(*args[:5], 6, *args[6:])  # batches larger than the buffers
    with pytest.raises(ValueError, match="C-contiguous"):
        c.fit_epochs(np.asfortranarray(X), *args[1:])
    with pytest.raises(ValueError, match="no C kernel"):
        c.fit_epochs(*args[:6], codes.SOFTMAX, *args[7:])
    bad = orders.copy()
    bad[0, 3] = 20
    with pytest.raises(IndexError):
        c.fit_epochs(X, Y, bad, *args[3:])


# ------------------------------------------------------------------ loading and the cache
def test_native_off_gives_none_and_says_why(monkeypatch):
    monkeypatch.setenv("BACKPROP_LAB_NATIVE", "0")
    assert native.load("float32") is None
    assert native.reason("float32") == "disabled by BACKPROP_LAB_NATIVE=0"


def test_a_missing_compiler_gives_none_and_a_one_line_reason(fresh, monkeypatch):
    monkeypatch.setenv("CC", "/nonexistent/bin/cc-backprop-lab")
    assert native.load("float32") is None
    why = native.reason("float32")
    assert "/nonexistent/bin/cc-backprop-lab" in why and "\n" not in why


def test_a_failing_build_gives_none_and_a_one_line_reason(fresh, monkeypatch, tmp_path):
    cc = tmp_path / "broken-cc"
    cc.write_text(
        '#!/bin/sh\n[ "$1" = --version ] && { echo "broken-cc 1.0"; exit 0; }\n'
        'echo "in file included" >&2; echo "broken-cc: error: no luck" >&2; exit 1\n'
    )
    cc.chmod(0o755)
    monkeypatch.setenv("CC", str(cc))
    assert native.load("float64") is None
    why = native.reason("float64")
    assert why.endswith("failed: broken-cc: error: no luck") and "\n" not in why
    assert not list(fresh.glob("*.so"))  # no half-written library left


def test_other_dtypes_have_none(fresh):
    assert native.load("float16") is None
    assert "float16" in native.reason("float16")


def test_an_unwritable_cache_folder_builds_for_this_process(fresh, monkeypatch, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("BACKPROP_LAB_CACHE_DIR", str(blocker / "cache"))
    c = native.load("float64")
    if c is None:
        pytest.skip(f"no C kernels: {native.reason('float64')}")
    assert c.build_seconds is not None
    X, _, theta = problem("float64", n_samples=10)
    assert c.forward(X, theta, 8, codes.TANH).shape == (10, 1)


def run_python(code: str, cache) -> dict:
    """``code`` in a fresh interpreter with the cache folder ``cache``; its last line, eval'd."""
    env = {**os.environ, "BACKPROP_LAB_CACHE_DIR": str(cache)}
    env.pop("BACKPROP_LAB_NATIVE", None)
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=True,
    )
    return eval(done.stdout.strip().splitlines()[-1])


LOAD_AND_PREDICT = """
    import sys
    import numpy as np
    from backprop_lab.engine.compiled import native
    c = native.load("float32")
    if c is None:
        print(repr({"reason": native.reason("float32")}))
        raise SystemExit
    X = np.linspace(-3, 3, 12, dtype=np.float32).reshape(6, 2)
    theta = np.linspace(-1, 1, 2 * 3 + 2 * 3 + 1, dtype=np.float32)
    P = c.forward(X, theta, 3, 1)
    print(repr({"path": str(c.path), "built": c.build_seconds is not None,
                "P": P.ravel().tolist(), "numba": "numba" in sys.modules}))
"""


@pytest.mark.subprocess
def test_a_second_process_loads_the_cached_library_and_a_damaged_one_is_rebuilt(tmp_path):
    first = run_python(LOAD_AND_PREDICT, tmp_path)
    if "reason" in first:
        pytest.skip(f"no C kernels: {first['reason']}")
    assert first["built"] and not first["numba"]
    library = first["path"]
    assert os.path.dirname(library) == str(tmp_path / "native")
    stamp = os.stat(library).st_mtime_ns

    second = run_python(LOAD_AND_PREDICT, tmp_path)
    assert not second["built"]  # loaded, not compiled
    assert second["path"] == library and os.stat(library).st_mtime_ns == stamp
    assert second["P"] == first["P"]

    with open(library, "wb") as damaged:
        damaged.write(b"\x7fELF but not really" * 50)
    third = run_python(LOAD_AND_PREDICT, tmp_path)
    assert third["built"] and third["path"] == library and third["P"] == first["P"]
    assert os.listdir(tmp_path / "native") == [os.path.basename(library)]  # no temporaries


@pytest.mark.subprocess
def test_importing_native_does_not_import_numba(tmp_path):
    out = run_python(
        """
        import sys
        from backprop_lab.engine.compiled import native
        print(repr({"numba": "numba" in sys.modules}))
        """,
        tmp_path,
    )
    assert out == {"numba": False}


@pytest.mark.subprocess
def test_processes_building_at_once_each_get_a_whole_library(tmp_path):
    env = {**os.environ, "BACKPROP_LAB_CACHE_DIR": str(tmp_path)}
    env.pop("BACKPROP_LAB_NATIVE", None)
    code = textwrap.dedent(LOAD_AND_PREDICT)
    running = [
        subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env)
        for _ in range(2)
    ]
    outs = [eval(p.communicate(timeout=300)[0].strip().splitlines()[-1]) for p in running]
    assert all(p.returncode == 0 for p in running)
    if "reason" in outs[0]:
        pytest.skip(f"no C kernels: {outs[0]['reason']}")
    assert outs[0]["P"] == outs[1]["P"] and outs[0]["path"] == outs[1]["path"]
    assert os.listdir(tmp_path / "native") == [os.path.basename(outs[0]["path"])]


# ---------------------------------------- whole fits (permutations: test_compiled_fit.py)
def article_fit(monkeypatch, c, dtype, **fit):
    """The article's model fitted through the C kernels ``c`` (None: numba's)."""
    from backprop_lab import SGD, Dense, Sequential
    from backprop_lab.data.datasets import make_circle

    monkeypatch.setattr(numba_kernels, "native_kernels", lambda model, training=True: c)
    X, y = make_circle(600, random_state=0)
    X = X.astype(dtype)
    layers = [Dense(8, "relu", input_shape=(2,)), Dense(1, "sigmoid")]
    model = Sequential(layers, seed=0, dtype=dtype)
    model.compile(SGD(0.05), "binary_crossentropy", metrics=["accuracy"], engine="compiled")
    model.fit(X[:500], y[:500], batch_size=32, verbose=0, **fit)
    return model, model.predict(X[500:], verbose=0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "fit", [{"epochs": 5}, {"epochs": 1}, {"epochs": 3, "validation_split": 0.2}]
)
def test_a_model_fitted_through_c_is_the_one_numba_fits(kernels, monkeypatch, dtype, fit):
    c = kernel_for(kernels, dtype)
    ours, p_ours = article_fit(monkeypatch, c, dtype, **fit)
    theirs, p_theirs = article_fit(monkeypatch, None, dtype, **fit)
    for a, b in zip(ours.get_weights() + ours.grads, theirs.get_weights() + theirs.grads):
        np.testing.assert_array_equal(a, b)
    assert ours.history.history == theirs.history.history
    assert ours.rng.bit_generator.state == theirs.rng.bit_generator.state
    assert ours.optimizer.iterations == theirs.optimizer.iterations
    np.testing.assert_array_equal(p_ours, p_theirs)


@pytest.mark.subprocess
def test_the_articles_fit_and_predict_need_no_numba(tmp_path):
    code = """
        import sys
        import numpy as np
        from backprop_lab import SGD, Dense, Sequential
        from backprop_lab.engine.compiled import native
        if native.load("float32") is None:
            print(repr({"reason": native.reason("float32")}))
            raise SystemExit
        X = np.random.default_rng(0).uniform(-1, 1, (400, 2)).astype("float32")
        y = (np.hypot(X[:, 0], X[:, 1]) < 0.5).astype("float32")
        model = Sequential([Dense(8, "relu", input_shape=(2,)), Dense(1, "sigmoid")], seed=0)
        model.compile(SGD(0.01), "binary_crossentropy", metrics=["accuracy"], engine="compiled")
        model.fit(X, y, epochs=3, batch_size=32, verbose=0)
        model.fit(X, y, epochs=1, batch_size=32, verbose=0, validation_data=(X, y))
        loss, accuracy = model.evaluate(X, y, verbose=0)
        print(repr({"engine": model.engine_used, "numba": "numba" in sys.modules}))
    """
    out = run_python(code, tmp_path)
    if "reason" in out:
        pytest.skip(f"no C kernels: {out['reason']}")
    assert out == {"engine": "compiled", "numba": False}
