import random as stdlib_random

import numpy as np
import pytest

import backprop_lab.engine.random as bl_random
from backprop_lab.data.datasets import make_circle
from backprop_lab.engine.random import check_random_state, set_random_seed


@pytest.fixture(autouse=True)
def _restore_global_generators():
    """set_random_seed changes process-wide state; put it back for other tests."""
    package_rng = bl_random._global_rng
    numpy_state = np.random.get_state()  # noqa: NPY002
    python_state = stdlib_random.getstate()
    yield
    bl_random._global_rng = package_rng
    np.random.set_state(numpy_state)  # noqa: NPY002
    stdlib_random.setstate(python_state)


def test_none_draws_from_the_generator_seeded_by_set_random_seed():
    set_random_seed(123)
    expected = np.random.default_rng(123).random(5)
    np.testing.assert_array_equal(check_random_state(None).random(5), expected)


def test_none_continues_one_stream_rather_than_restarting():
    set_random_seed(7)
    first = check_random_state(None).random(3)
    second = check_random_state(None).random(3)
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(
        np.concatenate([first, second]), np.random.default_rng(7).random(6)
    )


def test_set_random_seed_makes_default_random_state_reproducible():
    set_random_seed(3)
    X1, y1 = make_circle(50)
    X1_next, _ = make_circle(50)
    set_random_seed(3)
    X2, y2 = make_circle(50)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X1_next)


def test_set_random_seed_also_seeds_numpy_legacy_and_stdlib_random():
    set_random_seed(11)
    numpy_first = np.random.rand(4)  # noqa: NPY002
    python_first = [stdlib_random.random() for _ in range(4)]
    set_random_seed(11)
    np.testing.assert_array_equal(np.random.rand(4), numpy_first)  # noqa: NPY002
    assert [stdlib_random.random() for _ in range(4)] == python_first
    set_random_seed(12)
    assert not np.array_equal(np.random.rand(4), numpy_first)  # noqa: NPY002


@pytest.mark.parametrize("seed", [0, 42, np.int64(42), 2**40])
def test_int_seed_gives_a_fresh_generator_with_the_same_numbers(seed):
    a, b = check_random_state(seed), check_random_state(seed)
    assert isinstance(a, np.random.Generator)
    assert a is not b
    np.testing.assert_array_equal(a.random(5), b.random(5))
    np.testing.assert_array_equal(
        check_random_state(seed).random(5), np.random.default_rng(int(seed)).random(5)
    )


def test_generator_is_passed_through_so_its_stream_advances():
    rng = np.random.default_rng(0)
    assert check_random_state(rng) is rng
    first = check_random_state(rng).random(2)
    assert not np.array_equal(check_random_state(rng).random(2), first)


@pytest.mark.parametrize(
    ("seed", "error"),
    [
        (-1, ValueError),
        (1.5, TypeError),
        ("0", TypeError),
        (True, TypeError),
        (np.random.RandomState(0), TypeError),
    ],
)
def test_check_random_state_rejects(seed, error):
    with pytest.raises(error, match="random_state must be None, a non-negative integer") as info:
        check_random_state(seed)
    assert f"got {seed!r}" in str(info.value)


@pytest.mark.parametrize(
    ("seed", "error"),
    [(-1, ValueError), (2**32, ValueError), (1.0, TypeError), (None, TypeError), (True, TypeError)],
)
def test_set_random_seed_rejects(seed, error):
    with pytest.raises(error, match=r"seed must be an integer in \[0, 4294967295\]") as info:
        set_random_seed(seed)
    assert f"got {seed!r}" in str(info.value)


def test_set_random_seed_accepts_the_largest_legacy_seed():
    set_random_seed(2**32 - 1)
    np.testing.assert_array_equal(
        check_random_state(None).random(2), np.random.default_rng(2**32 - 1).random(2)
    )
