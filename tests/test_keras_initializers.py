"""Keras 3's initializer names, classes, arguments and seeds.

The draws themselves cannot equal Keras's (Keras uses its backend's random
generator), so the checks are the formulas on large samples, the properties
Keras's own tests assert (``random_initializers_test.py``: a fixed seed gives the
same values on every call, Orthogonal's columns are orthonormal), and, against
real Keras, that every name gives the class Keras gives and the same config.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from backprop_lab.engine import initializers
from backprop_lab.engine.initializers import (
    Constant,
    GlorotUniform,
    HeNormal,
    Identity,
    LecunNormal,
    LecunUniform,
    Orthogonal,
    RandomNormal,
    RandomUniform,
    TruncatedNormal,
    VarianceScaling,
)

SHAPE = (300, 500)  # 150,000 draws: a sample std within about 0.5% of the truth


def draw(init, shape=SHAPE, seed=0, dtype="float64"):
    return init(shape, np.random.default_rng(seed), dtype)


@pytest.mark.parametrize(
    ("name", "cls", "config"),
    [
        ("uniform", RandomUniform, {"minval": -0.05, "maxval": 0.05}),
        ("random_uniform", RandomUniform, {"minval": -0.05, "maxval": 0.05}),
        ("normal", RandomNormal, {"mean": 0.0, "stddev": 0.05}),
        ("RandomNormal", RandomNormal, {"mean": 0.0, "stddev": 0.05}),
        ("truncated_normal", TruncatedNormal, {"mean": 0.0, "stddev": 0.05}),
        ("lecun_normal", LecunNormal, {}),
        ("lecun_uniform", LecunUniform, {}),
        ("orthogonal", Orthogonal, {"gain": 1.0}),
        ("identity", Identity, {"gain": 1.0}),
        ("constant", Constant, {"value": 0.0}),
        ("GlorotUniform", GlorotUniform, {}),
        ("variance_scaling", VarianceScaling, {"scale": 1.0, "mode": "fan_in"}),
    ],
)
def test_kerass_names_give_kerass_classes_and_defaults(name, cls, config):
    init = initializers.get(name)
    assert type(init) is cls
    assert init.get_config().items() >= config.items()


def test_default_initializers_draw_the_same_numbers_as_before():
    # glorot_uniform from the model's generator: rng.uniform(-limit, limit), bit for bit.
    limit = np.sqrt(6.0 / (300 + 500))
    expected = np.random.default_rng(5).uniform(-limit, limit, size=SHAPE).astype(np.float32)
    got = initializers.get("glorot_uniform")(SHAPE, np.random.default_rng(5), "float32")
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize(
    ("init", "std"),
    [
        (RandomNormal(mean=0.0, stddev=0.3), 0.3),
        (VarianceScaling(scale=2.0, mode="fan_in"), np.sqrt(2.0 / 300)),
        (VarianceScaling(scale=2.0, mode="fan_out"), np.sqrt(2.0 / 500)),
        (VarianceScaling(distribution="untruncated_normal", mode="fan_avg"), np.sqrt(1 / 400)),
        (VarianceScaling(distribution="uniform", mode="fan_avg"), np.sqrt(1 / 400)),
        (LecunNormal(), np.sqrt(1 / 300)),
        (LecunUniform(), np.sqrt(1 / 300)),
        (HeNormal(), np.sqrt(2 / 300)),
    ],
)
def test_draws_have_the_variance_keras_asks_for(init, std):
    W = draw(init)
    assert W.std() == pytest.approx(std, rel=0.01)
    assert abs(W.mean()) < 0.01 * std


def test_truncated_normal_stays_within_two_standard_deviations():
    W = draw(TruncatedNormal(mean=1.0, stddev=0.2))
    assert np.all(np.abs(W - 1.0) <= 0.4) and np.abs(W - 1.0).max() > 0.39
    assert W.mean() == pytest.approx(1.0, abs=1e-3)


def test_random_uniform_uses_its_interval():
    W = draw(RandomUniform(minval=2.0, maxval=3.0))
    assert W.min() >= 2.0 and W.max() < 3.0 and W.mean() == pytest.approx(2.5, abs=0.01)


def test_a_seed_gives_the_same_values_on_every_call_whatever_the_generator():
    init = RandomNormal(mean=1.0, stddev=2.0, seed=1337)
    np.testing.assert_array_equal(draw(init, seed=0), draw(init, seed=1))
    assert not np.array_equal(draw(init), draw(RandomNormal(mean=1.0, stddev=2.0, seed=1338)))
    # Unseeded, the model's generator decides.
    unseeded = RandomNormal()
    np.testing.assert_array_equal(draw(unseeded, seed=3), draw(unseeded, seed=3))
    assert not np.array_equal(draw(unseeded, seed=3), draw(unseeded, seed=4))
    # Called as Keras calls it, without a generator.
    assert GlorotUniform(seed=1)((4, 5)).shape == (4, 5)


@pytest.mark.parametrize("shape", [(5, 5), (8, 3), (3, 8)])
def test_orthogonal_columns_or_rows_are_orthonormal(shape):
    W = draw(Orthogonal(gain=2.0, seed=1234), shape=shape)
    small = W.T @ W if shape[0] >= shape[1] else W @ W.T
    np.testing.assert_allclose(small, 4.0 * np.eye(min(shape)), atol=1e-12)


def test_identity_and_constant():
    np.testing.assert_array_equal(draw(Identity(gain=3.0), shape=(2, 3)), 3 * np.eye(2, 3))
    np.testing.assert_array_equal(draw(Constant(value=0.7), shape=(2,)), [0.7, 0.7])
    with pytest.raises(ValueError, match="only be used for 2D matrices"):
        draw(Identity(), shape=(3,))


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: initializers.get("stft"), NotImplementedError, "'stft' is not supported"),
        (lambda: initializers.get("xavier"), ValueError, "Could not interpret initializer"),
        (lambda: VarianceScaling(mode="fan"), ValueError, "Invalid `mode` argument"),
        (lambda: VarianceScaling(scale=0), ValueError, "`scale` must be positive"),
        (lambda: VarianceScaling(distribution="cauchy"), ValueError, "`distribution`"),
        (lambda: RandomNormal(seed=1.5), ValueError, "`seed` argument should be an integer"),
        (lambda: GlorotUniform(input_axes=[0]), NotImplementedError, "input_axes"),
        (lambda: draw(Orthogonal(), shape=(4,)), ValueError, "at least two-dimensional"),
    ],
)
def test_bad_arguments_are_refused(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_initializers_keep_the_function_interface():
    init = initializers.get("he_uniform")
    assert init.__name__ == "he_uniform"  # what code written for the functions reads
    assert type(initializers.get(HeNormal)) is HeNormal


# ---------------------------------------------------------------------- real Keras
@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("KERAS_BACKEND", "jax")
    return pytest.importorskip("keras")


@pytest.mark.keras
@pytest.mark.parametrize("name", sorted(initializers.INITIALIZERS))
def test_every_name_gives_the_class_and_config_keras_gives(keras, name):
    ours = initializers.get(name)
    # keras.initializers.get("constant") fails in Keras 3.15 (KeyError 'value').
    theirs = keras.initializers.Constant() if name == "constant" else keras.initializers.get(name)
    assert type(ours).__name__ == type(theirs).__name__
    expected = theirs.get_config()
    if name == "identity":  # Keras 3.15 forgets the gain in Identity's config
        expected["gain"] = 1.0
    assert ours.get_config() == expected


@pytest.mark.keras
def test_configs_with_arguments_match_kerass(keras):
    pairs = [
        (RandomUniform(-1.0, 2.0, seed=3), keras.initializers.RandomUniform(-1.0, 2.0, seed=3)),
        (
            VarianceScaling(2.0, "fan_out", "uniform", seed=4),
            keras.initializers.VarianceScaling(2.0, "fan_out", "uniform", seed=4),
        ),
        (Orthogonal(gain=0.5, seed=1), keras.initializers.Orthogonal(gain=0.5, seed=1)),
        (HeNormal(seed=7), keras.initializers.HeNormal(seed=7)),
    ]
    for ours, theirs in pairs:
        assert ours.get_config() == theirs.get_config()
