"""Optimizers and learning-rate schedules held to Keras 3.

Two kinds of test:

* Keras's own unit tests, ported: the golden values of each optimizer's
  ``test_correctness_with_golden`` (``keras/src/optimizers/*_test.py``), the
  clipping, weight-decay and callable-rate cases of ``optimizer_test.py`` and
  ``sgd_test.py``, and ``schedules/learning_rate_schedule_test.py`` (including
  its fit with a schedule).  These need no Keras to run: the numbers are Keras's.
* Step-by-step parity with the installed Keras (``@pytest.mark.keras``): the same
  weights and the same ten gradients through ours and Keras's optimizer, for
  every optimizer, each common option and each schedule; the learning rate of
  every step too.  Both run in float32 and agree to a few float32 ulps (most
  cases bit for bit).
"""

from __future__ import annotations

import math
import os

import numpy as np
import pytest

from backprop_lab import Dense, Sequential
from backprop_lab.engine import optimizers as opt
from backprop_lab.engine import schedules


# ---------------------------------------------------------------------- Keras's golden values
def keras_golden_run(optimizer, dtype=np.float32):
    """Keras's golden protocol: x = ones(10); one step with g = 0.01, then steps with
    g = arange(0.1, 1.1, 0.1), recording x before each of those five steps."""
    x = np.ones(10, dtype)
    grads = np.linspace(0.1, 1.0, 10).astype(dtype)  # Keras's ops.arange(0.1, 1.1, 0.1)
    optimizer.step([x], [np.full(10, 0.01, dtype)])
    seen = []
    for _ in range(5):
        seen.append(x.copy())
        optimizer.step([x], [grads])
    return np.array(seen)


def tiled(column):
    return np.tile(np.array(column)[:, None], (1, 10))


# fmt: off
GOLDEN = {
    "sgd_nesterov": (lambda: opt.SGD(nesterov=True), np.array(
        [[0.9999] * 10,
         [0.9989, 0.9979, 0.9969, 0.9959, 0.9949, 0.9939, 0.9929, 0.9919, 0.9909, 0.9899],
         [0.9979, 0.9959, 0.9939, 0.9919, 0.9899, 0.9879, 0.9859, 0.9839, 0.9819, 0.9799],
         [0.9969, 0.9939, 0.9909, 0.9879, 0.9849, 0.9819, 0.9789, 0.9759, 0.9729, 0.9699],
         [0.9959, 0.9919, 0.9879, 0.9839, 0.9799, 0.9759, 0.9719, 0.9679, 0.9639, 0.9599]])),
    "adam_amsgrad": (lambda: opt.Adam(amsgrad=True),
                     tiled([0.999, 0.9982, 0.9974, 0.9965, 0.9955])),
    "adamw": (lambda: opt.AdamW(learning_rate=1.0, weight_decay=0.5, epsilon=2), np.array(
        [[0.4998] * 10,
         [0.2486, 0.2475, 0.2463, 0.2451, 0.244, 0.2428, 0.2417, 0.2405, 0.2394, 0.2382],
         [0.1223, 0.1198, 0.1174, 0.1149, 0.1124, 0.11, 0.1075, 0.1051, 0.1027, 0.1003],
         [0.0586, 0.0549, 0.0512, 0.0475, 0.0439, 0.0402, 0.0366, 0.033, 0.0294, 0.0258],
         [0.0263, 0.0215, 0.0167, 0.012, 0.0073, 0.0026, -0.0021, -0.0067, -0.0113, -0.0159]])),
    "adamax": (lambda: opt.Adamax(learning_rate=0.2, beta_1=0.85, beta_2=0.95, epsilon=1e-6),
               np.array(
        [[0.8] * 10,
         [0.6827, 0.6873, 0.6888, 0.6896, 0.6901, 0.6904, 0.6906, 0.6908, 0.6909, 0.691],
         [0.5333, 0.5407, 0.5431, 0.5444, 0.5451, 0.5456, 0.546, 0.5462, 0.5464, 0.5466],
         [0.368, 0.3773, 0.3804, 0.382, 0.3829, 0.3835, 0.384, 0.3843, 0.3846, 0.3848],
         [0.1933, 0.204, 0.2076, 0.2094, 0.2105, 0.2112, 0.2117, 0.2121, 0.2124, 0.2126]])),
    "nadam": (lambda: opt.Nadam(learning_rate=0.5, beta_1=0.5, beta_2=0.67, epsilon=1e-5),
              np.array(
        [[0.4281] * 10,
         [-0.1738, -0.1731, -0.1726, -0.1723, -0.1721, -0.172, -0.1719, -0.1718, -0.1718, -0.1717],
         [-0.7115, -0.7103, -0.7096, -0.7092, -0.709, -0.7088, -0.7086, -0.7085, -0.7085, -0.7084],
         [-1.2335, -1.2322, -1.2313, -1.2309, -1.2306, -1.2304, -1.2302, -1.2301, -1.23, -1.2299],
         [-1.7492, -1.7478, -1.7469, -1.7464, -1.7461, -1.7459, -1.7457, -1.7456, -1.7455,
          -1.7454]])),
    "adadelta": (lambda: opt.Adadelta(learning_rate=1.0, rho=0.8, epsilon=1e-6),
                 tiled([0.9978, 0.9947, 0.9915, 0.9882, 0.9849])),
    "lion": (lambda: opt.Lion(), tiled([0.999, 0.998, 0.997, 0.996, 0.995])),
    "rmsprop_centered": (lambda: opt.RMSprop(centered=True),
                         tiled([0.9967, 0.9933, 0.9908, 0.9885, 0.9864])),
    "adagrad": (lambda: opt.Adagrad(learning_rate=0.2, initial_accumulator_value=0.3,
                                    epsilon=1e-6), np.array(
        [[0.9963] * 10,
         [0.9604, 0.9278, 0.9003, 0.8784, 0.8615, 0.8487, 0.8388, 0.8313, 0.8255, 0.8209],
         [0.9251, 0.8629, 0.8137, 0.7768, 0.7497, 0.7298, 0.7151, 0.704, 0.6956, 0.6891],
         [0.8903, 0.8012, 0.7342, 0.6862, 0.6521, 0.6277, 0.6099, 0.5967, 0.5867, 0.579],
         [0.856, 0.7422, 0.6604, 0.6037, 0.5644, 0.5367, 0.5168, 0.5021, 0.491, 0.4825]])),
}
# fmt: on


@pytest.mark.parametrize("case", list(GOLDEN))
def test_correctness_with_golden(case):
    make, golden = GOLDEN[case]
    # Keras's tolerance: its golden values have four decimals.
    np.testing.assert_allclose(keras_golden_run(make()), golden, rtol=5e-4, atol=5e-4)


# ---------------------------------------------------------------------- optimizer_test.py
@pytest.mark.parametrize("cls", [opt.SGD, opt.Adam])
def test_clip_norm(cls):
    clipped = cls(clipnorm=1).clip_gradients([np.array([100.0, 100.0])])
    np.testing.assert_allclose(clipped[0], [2**0.5 / 2, 2**0.5 / 2])


@pytest.mark.parametrize("cls", [opt.SGD, opt.Adam])
def test_clip_value(cls):
    clipped = cls(clipvalue=1).clip_gradients([np.array([100.0, 100.0])])
    np.testing.assert_allclose(clipped[0], [1.0, 1.0])


def test_global_clip_norm():
    grad = np.array([50.0, 100.0], dtype="float32")
    clipped = opt.SGD(global_clipnorm=1).clip_gradients([grad])
    np.testing.assert_allclose(clipped[0], grad / np.linalg.norm(grad), rtol=1e-6)


def test_clip_args():
    assert opt.SGD(learning_rate=1.0, clipnorm=0.1).clipnorm == 0.1
    assert opt.SGD(learning_rate=1.0, clipvalue=0.1).clipvalue == 0.1
    assert opt.SGD(learning_rate=1.0, global_clipnorm=0.1).global_clipnorm == 0.1
    message = "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can"
    with pytest.raises(ValueError, match=message):
        opt.SGD(learning_rate=1.0, clipnorm=0.1, clipvalue=0.1)
    with pytest.raises(ValueError, match=message):
        opt.SGD(learning_rate=1.0, clipnorm=0.1, global_clipnorm=0.1)


def test_weight_decay():
    """sgd_test.py: three SGD(1.0, weight_decay=0.004) steps with a zero gradient on 2.0
    (Keras's exclusions by name or list are not supported: see test_optimizers)."""
    var = np.array(2.0, dtype=np.float32)
    for _ in range(3):
        opt.SGD(learning_rate=1.0, weight_decay=0.004).step([var], [np.zeros((), np.float32)])
    assert var == pytest.approx(1.9760959, abs=1e-6)


def test_callable_learning_rate():
    v = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
    optimizer = opt.SGD(learning_rate=lambda: 0.1)
    assert optimizer.iterations == 0
    optimizer.step([v], [np.ones((2, 2), np.float32)])
    np.testing.assert_allclose(v, [[0.9, 1.9], [2.9, 3.9]], rtol=1e-6)
    assert optimizer.iterations == 1


def test_iterations_counter():
    v = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
    optimizer = opt.Adam(learning_rate=1.0)
    for expected in (1, 2):
        optimizer.step([v], [np.ones((2, 2), np.float32)])
        assert optimizer.iterations == expected


# ---------------------------------------------------------------------- schedules' tests
def np_cosine_decay(step, decay_steps, alpha=0.0):
    step = min(step, decay_steps)
    decay = 0.5 * (1.0 + math.cos(math.pi * step / decay_steps))
    return (1.0 - alpha) * decay + alpha


def np_cosine_decay_restarts(step, decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0):
    fac = 1.0
    while step >= decay_steps:
        step -= decay_steps
        decay_steps *= t_mul
        fac *= m_mul
    decay = fac * 0.5 * (1.0 + math.cos(math.pi * step / decay_steps))
    return (1.0 - alpha) * decay + alpha


def linear_warmup(step, warmup_steps, initial_lr, target_lr):
    return initial_lr + step / warmup_steps * (target_lr - initial_lr)


S = schedules
SCHEDULE_CASES = [
    # (schedule, step, expected) from Keras's tests
    (S.ExponentialDecay(0.05, 10, 0.96), 5, 0.05 * 0.96 ** (5.0 / 10.0)),
    (S.ExponentialDecay(0.1, 3, 0.96, staircase=True), 1, 0.1),
    (S.ExponentialDecay(0.1, 3, 0.96, staircase=True), 2, 0.1),
    (S.ExponentialDecay(0.1, 3, 0.96, staircase=True), 100, 0.1 * 0.96 ** (100 // 3)),
    *[
        (S.PiecewiseConstantDecay([100, 110, 120], [1.0, 0.1, 0.01, 0.001]), x, lr)
        for x, lr in [(-999, 1.0), (100, 1.0), (105, 0.1), (110, 0.1), (120, 0.01), (999, 0.001)]
    ],
    *[(S.PiecewiseConstantDecay([1, 2, 3], [0.4, 0.5, 0.6, 0.7]), x, 0.4 + 0.1 * max(x - 1, 0))
      for x in range(5)],
    (S.PolynomialDecay(0.05, 10, 0.0), 5, 0.05 * 0.5),
    (S.PolynomialDecay(0.05, 10, 0.001), 10, 0.001),
    (S.PolynomialDecay(0.05, 10, 0.001), 5, (0.05 + 0.001) * 0.5),
    (S.PolynomialDecay(0.05, 10, 0.001), 15, 0.001),
    (S.PolynomialDecay(0.05, 10, 0.001, cycle=True), 15, (0.05 - 0.001) * 0.25 + 0.001),
    (S.PolynomialDecay(0.05, 10, 0.0, power=0.5), 5, 0.05 * 0.5**0.5),
    (S.PolynomialDecay(0.05, 10, 0.001, power=0.5), 10, 0.001),
    (S.PolynomialDecay(0.05, 10, 0.001, power=0.5), 5, (0.05 - 0.001) * 0.5**0.5 + 0.001),
    (S.PolynomialDecay(0.05, 10, 0.001, power=0.5), 15, 0.001),
    (S.PolynomialDecay(0.05, 10, 0.001, power=0.5, cycle=True), 15,
     (0.05 - 0.001) * 0.25**0.5 + 0.001),
    (S.PolynomialDecay(0.001, 10, cycle=True), 0, 0.001),
    *[(S.InverseTimeDecay(0.1, 10, 0.96), i, 0.1 / (1 + i / 10 * 0.96)) for i in range(11)],
    *[(S.InverseTimeDecay(0.1, 10, 0.96, staircase=True), i, 0.1 / (1 + 0.96 * (i // 10)))
      for i in range(11)],
    *[(S.CosineDecay(1.0, 1000), s, np_cosine_decay(s, 1000)) for s in range(0, 1500, 250)],
    *[(S.CosineDecay(1.0, 1000, 0.1), s, np_cosine_decay(s, 1000, 0.1))
      for s in range(0, 1500, 250)],
    *[(S.CosineDecay(0.0, 10, warmup_target=10.0, warmup_steps=1500), s,
       linear_warmup(s, 1500, 0.0, 10.0)) for s in range(0, 1500, 250)],
    *[(S.CosineDecay(0.0, 1000, warmup_target=10.0, warmup_steps=2000), s,
       linear_warmup(s, 2000, 0.0, 10.0) if s <= 2000 else 10.0 * np_cosine_decay(s - 2000, 1000))
      for s in range(0, 3000, 250)],
    *[(S.CosineDecayRestarts(1.0, 1000, **kw), s, np_cosine_decay_restarts(s, 1000, **kw))
      for kw in ({}, {"alpha": 0.1}, {"m_mul": 0.9}, {"t_mul": 1.0})
      for s in range(0, 1500, 250)],
]  # fmt: skip


@pytest.mark.parametrize(("schedule", "step", "expected"), SCHEDULE_CASES)
def test_schedule_values(schedule, step, expected):
    assert isinstance(schedule(step), float)
    # Keras's tolerance (its assertAllClose uses atol=rtol=1e-6).
    assert schedule(step) == pytest.approx(expected, rel=1e-6, abs=1e-6)


@pytest.mark.parametrize(
    "schedule",
    [
        S.ExponentialDecay(0.05, 10, 0.96, staircase=True, name="my_ed"),
        S.PiecewiseConstantDecay(boundaries=[10, 20], values=[1, 2, 3], name="my_pcd"),
        S.PolynomialDecay(0.1, 100, end_learning_rate=0.005, power=1.0, name="my_ld"),
        S.InverseTimeDecay(0.05, 10, 0.96, staircase=True, name="my_itd"),
        S.CosineDecay(0.05, 10, alpha=0.1, warmup_target=0.2, warmup_steps=2, name="my_cd"),
        S.CosineDecayRestarts(0.05, 10, alpha=0.1, t_mul=3.0, m_mul=4.0, name="my_cdr"),
    ],
    ids=lambda s: type(s).__name__,
)
def test_schedule_config_round_trip(schedule):
    """Keras's run_class_serialization_test: config -> object -> the same config and rates."""
    again = type(schedule).from_config(schedule.get_config())
    assert again.get_config() == schedule.get_config()
    assert schedules.deserialize(schedules.serialize(schedule)).get_config() == (
        schedule.get_config()
    )
    assert [again(s) for s in range(30)] == [schedule(s) for s in range(30)]


def test_fit_lr_correctness():
    """Keras's TestFitLRSchedulesFlow: Adam with ExponentialDecay(0.05, 1, 0.9) through fit."""
    model = Sequential([Dense(2, input_shape=(2,))])
    model.set_weights([np.ones((2, 2)), np.ones(2)])
    optimizer = opt.Adam(learning_rate=schedules.ExponentialDecay(0.05, 1, 0.9))
    model.compile(optimizer=optimizer, loss="mse")
    x = np.arange(32).reshape((16, 2))
    history = model.fit(x, x, epochs=3, batch_size=4, shuffle=False, verbose=0)
    assert optimizer.iterations == 4 * 3
    assert model.engine_used == "numpy"  # a schedule changes the rate every step
    np.testing.assert_allclose(
        history.history["loss"],
        [230.79457092285156, 128.30319213867188, 79.33648681640625],
        rtol=5e-5,
    )


# ---------------------------------------------------------------------- parity with Keras
@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("KERAS_BACKEND", "jax")  # before keras's first import
    return pytest.importorskip("keras")


def run_both(keras, ours, theirs, steps=10, scale=1.0):
    """The same ten float32 gradients through both; returns both parameter lists and the
    learning rate each read before every step."""
    rng = np.random.default_rng(3)
    shapes = [(3, 2), (2,)]
    params = [rng.normal(size=s).astype(np.float32) for s in shapes]
    gradients = [
        [(scale * rng.normal(size=s)).astype(np.float32) for s in shapes] for _ in range(steps)
    ]
    variables = [keras.Variable(p) for p in params]
    start = [p.copy() for p in params]
    rates = []
    for grads in gradients:
        rates.append((float(ours.learning_rate), float(np.asarray(theirs.learning_rate))))
        ours.step(params, grads)
        theirs.apply_gradients(zip(grads, variables))
    # Every element moved ten times the tolerances or more: agreement is not standing still.
    assert all(np.abs(p - p0).min() > 1e-5 for p, p0 in zip(params, start))
    return params, [keras.ops.convert_to_numpy(v) for v in variables], rates


PARITY_CASES = [
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9, "weight_decay": 0.05}),
    ("Adam", {"learning_rate": 0.1, "amsgrad": True}),
    ("Adam", {"learning_rate": 0.1, "beta_1": 0.5, "amsgrad": True, "weight_decay": 0.01}),
    ("AdamW", {}),
    ("AdamW", {"learning_rate": 0.05, "weight_decay": 0.1, "beta_2": 0.9, "epsilon": 1e-3}),
    ("AdamW", {"learning_rate": 0.05, "amsgrad": True}),
    ("Adamax", {}),
    ("Adamax", {"learning_rate": 0.1, "beta_1": 0.5, "beta_2": 0.9, "epsilon": 1e-3}),
    ("Nadam", {}),
    ("Nadam", {"learning_rate": 0.1, "beta_1": 0.5, "beta_2": 0.9, "epsilon": 1e-3}),
    ("Adadelta", {"learning_rate": 1.0}),  # at 0.001 it moves only ~1e-7 a step
    ("Adadelta", {"learning_rate": 1.0, "rho": 0.5, "epsilon": 1e-3}),
    ("Lion", {}),
    ("Lion", {"learning_rate": 0.1, "beta_1": 0.5, "beta_2": 0.9}),
    ("RMSprop", {"learning_rate": 0.1, "centered": True}),
    ("RMSprop", {"learning_rate": 0.1, "centered": True, "momentum": 0.5, "rho": 0.8}),
    # The common keywords, on rules of each kind.
    ("SGD", {"learning_rate": 0.1, "clipnorm": 0.5}),
    ("SGD", {"learning_rate": 0.1, "clipvalue": 0.3}),
    ("SGD", {"learning_rate": 0.1, "global_clipnorm": 0.7}),
    ("Adam", {"clipnorm": 0.5, "weight_decay": 0.1}),
    ("Adam", {"clipvalue": 0.3}),
    ("RMSprop", {"global_clipnorm": 0.7, "weight_decay": 0.02}),
    ("Adagrad", {"learning_rate": 0.1, "clipnorm": 0.5, "weight_decay": 0.2}),
    ("Nadam", {"global_clipnorm": 0.7}),
    ("Lion", {"clipvalue": 0.3, "weight_decay": 0.5}),
]


@pytest.mark.keras
@pytest.mark.parametrize(("name", "kwargs"), PARITY_CASES)
def test_steps_match_keras(keras, name, kwargs):
    ours = getattr(opt, name)(**kwargs)
    theirs = getattr(keras.optimizers, name)(**kwargs)
    # Gradients of norm about 2-3 and elements up to 2: every clip option acts.
    params, variables, rates = run_both(keras, ours, theirs)
    for p, v in zip(params, variables):
        np.testing.assert_allclose(p, v, rtol=1e-6, atol=1e-7)
    # Keras keeps a float rate in a float32 variable.
    assert [np.float32(a) for a, _ in rates] == [np.float32(b) for _, b in rates]


@pytest.mark.keras
def test_each_clip_option_changes_the_steps(keras):
    """The gradients of run_both are big enough that each clip option acts (else the
    clipping parity above would pass with clipping ignored)."""
    plain, _, _ = run_both(keras, opt.SGD(0.1), keras.optimizers.SGD(0.1))
    for key, value in [("clipnorm", 0.5), ("clipvalue", 0.3), ("global_clipnorm", 0.7)]:
        clipped, _, _ = run_both(keras, opt.SGD(0.1, **{key: value}), keras.optimizers.SGD(0.1))
        assert all(np.abs(a - b).max() > 1e-2 for a, b in zip(plain, clipped)), key


SCHEDULE_PARITY = [
    ("ExponentialDecay", (0.1, 3, 0.5), {}),
    ("ExponentialDecay", (0.1, 3, 0.5), {"staircase": True}),
    ("PiecewiseConstantDecay", ([2, 5], [0.1, 0.05, 0.01]), {}),
    ("InverseTimeDecay", (0.1, 2, 0.7), {}),
    ("InverseTimeDecay", (0.1, 2, 0.7), {"staircase": True}),
    ("PolynomialDecay", (0.1, 4), {"end_learning_rate": 0.01, "power": 0.5}),
    ("PolynomialDecay", (0.1, 4), {"end_learning_rate": 0.01, "power": 2.0, "cycle": True}),
    ("CosineDecay", (0.1, 6), {"alpha": 0.1}),
    ("CosineDecay", (0.0, 5), {"warmup_target": 0.2, "warmup_steps": 3, "alpha": 0.05}),
    ("CosineDecayRestarts", (0.1, 2), {}),
    ("CosineDecayRestarts", (0.1, 2), {"t_mul": 1.0, "m_mul": 0.5, "alpha": 0.1}),
    ("CosineDecayRestarts", (0.1, 1), {"t_mul": 3.0, "m_mul": 0.8}),
]


@pytest.mark.keras
@pytest.mark.parametrize(("name", "args", "kwargs"), SCHEDULE_PARITY)
def test_schedule_matches_keras(keras, name, args, kwargs):
    ours = getattr(schedules, name)(*args, **kwargs)
    theirs = getattr(keras.optimizers.schedules, name)(*args, **kwargs)
    # The rate at each of 40 steps (restarts and warmup ends included); float32 as
    # Keras, to within a few ulps (numpy's float32 cos, log and power are not XLA's).
    # On JAX, Keras's schedule is traced once (eagerly, CosineDecayRestarts's loop
    # compiles at every call: 6 s for the 40 steps).
    rate = theirs
    if keras.backend.backend() == "jax":
        import jax

        rate = jax.jit(theirs)
    expected = [float(np.asarray(rate(step))) for step in range(40)]
    np.testing.assert_allclose([ours(step) for step in range(40)], expected, rtol=1e-6, atol=0)
    assert ours.get_config() == theirs.get_config()
    # In an optimizer: the rate read before each step, and the weights after ten.
    for optimizer in ("SGD", "Adam"):
        params, variables, rates = run_both(
            keras,
            getattr(opt, optimizer)(learning_rate=ours),
            getattr(keras.optimizers, optimizer)(learning_rate=theirs),
        )
        np.testing.assert_allclose(*zip(*rates), rtol=1e-6)
        assert len(set(b for _, b in rates)) > 1  # the rate did change
        for p, v in zip(params, variables):
            np.testing.assert_allclose(p, v, rtol=1e-6, atol=1e-7)


class HalvingEveryStep(schedules.LearningRateSchedule):
    """A user's schedule, as Keras's docs write one."""

    def __init__(self, initial_learning_rate):
        self.initial_learning_rate = initial_learning_rate

    def __call__(self, step):
        return self.initial_learning_rate / (step + 1)


@pytest.mark.keras
def test_user_schedule_matches_keras(keras):
    class Theirs(keras.optimizers.schedules.LearningRateSchedule):
        def __call__(self, step):
            return 0.1 / (step + 1)

    params, variables, rates = run_both(
        keras, opt.Adam(HalvingEveryStep(0.1)), keras.optimizers.Adam(Theirs())
    )
    np.testing.assert_allclose(*zip(*rates), rtol=1e-7)
    for p, v in zip(params, variables):
        np.testing.assert_allclose(p, v, rtol=1e-6, atol=1e-7)


@pytest.mark.keras
@pytest.mark.parametrize("name", sorted(c.__name__ for c in opt.OPTIMIZERS.values()))
def test_defaults_and_config_match_keras(keras, name):
    """Every optimizer's config (the common keywords and the rule's numbers) is Keras's,
    but for the name (Keras numbers its objects: adam, adam_1, ...)."""
    ours = getattr(opt, name)().get_config()
    theirs = getattr(keras.optimizers, name)().get_config()
    ours.pop("name"), theirs.pop("name")
    assert set(ours) == set(theirs)
    for key, value in theirs.items():
        if isinstance(value, float):
            assert ours[key] == pytest.approx(value, rel=1e-7), key
        else:
            assert ours[key] == value, key


@pytest.mark.keras
def test_fit_with_a_schedule_matches_keras(keras):
    """A small model trained by AdamW with a schedule and clipping ends with Keras's weights
    (the decay uses each step's scheduled rate)."""
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(200, 2)).astype(np.float32)
    y = ((X**2).sum(axis=1) < 0.4).astype(np.float32)
    ours = Sequential([Dense(6, "tanh", input_shape=(2,)), Dense(1, "sigmoid")], seed=1)
    theirs = keras.Sequential(
        [keras.Input((2,)), keras.layers.Dense(6, "tanh"), keras.layers.Dense(1, "sigmoid")]
    )
    theirs.set_weights(ours.get_weights())
    schedule = dict(initial_learning_rate=0.2, decay_steps=5, decay_rate=0.7)
    options = dict(weight_decay=0.1, clipnorm=1.0)
    ours.compile(
        opt.AdamW(schedules.ExponentialDecay(**schedule), **options), "binary_crossentropy"
    )
    keras_schedule = keras.optimizers.schedules.ExponentialDecay(**schedule)
    theirs.compile(keras.optimizers.AdamW(keras_schedule, **options), "binary_crossentropy")
    h1 = ours.fit(X, y, batch_size=32, epochs=4, shuffle=False, verbose=0)
    h2 = theirs.fit(X, y, batch_size=32, epochs=4, shuffle=False, verbose=0)
    np.testing.assert_allclose(h1.history["loss"], h2.history["loss"], rtol=1e-4)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    assert ours.optimizer.iterations == 4 * 7
    assert float(ours.optimizer.learning_rate) == pytest.approx(0.2 * 0.7 ** (28 / 5), rel=1e-6)


@pytest.mark.keras
@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("AdamW", {"learning_rate": 0.01, "amsgrad": True, "clipnorm": 2.0}),
        ("SGD", {"learning_rate": ("ExponentialDecay", (0.1, 3, 0.5)), "momentum": 0.9}),
        ("Nadam", {"learning_rate": ("CosineDecay", (0.1, 10)), "global_clipnorm": 1.0}),
        ("RMSprop", {"centered": True, "weight_decay": 0.01}),
    ],
)
def test_serialized_configs_cross_over_with_keras(keras, name, kwargs):
    """Keras rebuilds our serialized optimizer, and we rebuild Keras's, with equal configs."""

    def build(optimizers, schedule_module):
        args = dict(kwargs)
        if isinstance(args.get("learning_rate"), tuple):
            kind, schedule_args = args["learning_rate"]
            args["learning_rate"] = getattr(schedule_module, kind)(*schedule_args)
        return getattr(optimizers, name)(**args)

    ours = build(opt, schedules)
    theirs = build(keras.optimizers, keras.optimizers.schedules)
    from_ours = keras.optimizers.deserialize(opt.serialize(ours))
    from_theirs = opt.deserialize(keras.optimizers.serialize(theirs))
    assert type(from_ours).__name__ == type(from_theirs).__name__ == name
    mine, keras_config = from_theirs.get_config(), from_ours.get_config()
    mine.pop("name"), keras_config.pop("name")
    rate, keras_rate = mine.pop("learning_rate"), keras_config.pop("learning_rate")
    assert mine == keras_config
    if isinstance(rate, dict):  # a serialized schedule
        assert rate == keras_rate
    else:  # Keras keeps a float rate as float32
        assert rate == pytest.approx(keras_rate, rel=1e-7)
