"""Initializers: Keras's formulas, checked on large samples, and their edge cases."""

import numpy as np
import pytest

from backprop_lab.engine import initializers
from backprop_lab.engine.layers import Dense

FAN_IN, FAN_OUT = 300, 500
SHAPE = (FAN_IN, FAN_OUT)  # 150,000 draws: sample std within about 0.5% of the truth


def draw(name, dtype="float32", seed=0):
    return initializers.get(name)(SHAPE, np.random.default_rng(seed), dtype)


@pytest.mark.parametrize(
    ("name", "limit"),
    [
        ("glorot_uniform", np.sqrt(6 / (FAN_IN + FAN_OUT))),
        ("he_uniform", np.sqrt(6 / FAN_IN)),
        ("random_uniform", 0.05),
    ],
)
def test_uniform_initializers_fill_their_interval(name, limit):
    W = draw(name)
    assert W.shape == SHAPE and W.dtype == np.float32
    assert np.all(np.abs(W) <= limit)
    assert np.abs(W).max() > 0.99 * limit  # the whole interval is used
    # A uniform on [-a, a] has standard deviation a / sqrt(3).
    assert W.std() == pytest.approx(limit / np.sqrt(3), rel=0.01)
    assert abs(W.mean()) < 0.01 * limit


@pytest.mark.parametrize(
    ("name", "std"),
    [
        ("glorot_normal", np.sqrt(2 / (FAN_IN + FAN_OUT))),
        ("he_normal", np.sqrt(2 / FAN_IN)),
    ],
)
def test_normal_initializers_are_truncated_at_two_scales_with_the_asked_variance(name, std):
    W = draw(name, dtype="float64")
    scale = std / 0.87962566103423978  # Keras widens the normal before truncating it
    assert np.all(np.abs(W) <= 2 * scale + 1e-12)
    assert np.abs(W).max() > 1.95 * scale
    # After the truncation the variance is the one asked for.
    assert W.std() == pytest.approx(std, rel=0.01)


@pytest.mark.parametrize(("name", "value"), [("zeros", 0.0), ("ones", 1.0)])
def test_constant_initializers(name, value):
    W = draw(name, dtype="float64")
    assert W.dtype == np.float64 and np.all(W == value)


def test_same_generator_state_gives_the_same_weights():
    np.testing.assert_array_equal(draw("glorot_uniform", seed=3), draw("glorot_uniform", seed=3))
    assert not np.array_equal(draw("glorot_uniform", seed=3), draw("glorot_uniform", seed=4))


def test_dense_uses_its_initializers():
    layer = Dense(5, kernel_initializer="ones", bias_initializer="zeros")
    layer.build(3, np.random.default_rng(0), np.float32)
    assert np.all(layer.W == 1) and np.all(layer.b == 0)


def test_a_callable_initializer_is_used_as_given():
    def halves(shape, rng, dtype):
        return np.full(shape, 0.5, dtype)

    assert initializers.get(halves) is halves


def test_unknown_initializer_lists_the_valid_names():
    with pytest.raises(
        ValueError, match="Could not interpret initializer identifier: 'xavier'; valid names: "
    ):
        initializers.get("xavier")
