"""Activations: exact derivatives, Keras's golden values, and parity with real Keras.

Every activation's ``backward`` is checked against central finite differences
in float64 (away from kinks); the parity tests (marked ``keras``) compare the
forward pass with ``keras.activations`` and the backward pass with JAX's
vector-Jacobian product of it, kinks included.
"""

from __future__ import annotations

import math
import os

import numpy as np
import pytest

from backprop_lab.engine import activations
from backprop_lab.engine.activations import ACTIVATIONS, ELU, GELU, SELU_ALPHA, SELU_SCALE

RNG = np.random.default_rng(0)
Z = RNG.normal(size=(6, 4)) * 3  # wide enough to reach past hard_sigmoid's +-3
dA = RNG.normal(size=Z.shape)
# Where a function has a kink, the finite differences must not straddle it.
KINKS = {"relu": [0], "leaky_relu": [0], "relu6": [0, 6], "hard_sigmoid": [-3, 3]}
KINKS["hard_silu"] = KINKS["hard_swish"] = KINKS["hard_sigmoid"]

# Every activation by name, and those with options.
OBJECTS = {name: cls() for name, cls in ACTIVATIONS.items()}
OBJECTS.update(
    {"elu_alpha": ELU(alpha=0.5), "gelu_tanh": GELU(approximate=True)},
)


def central_differences(f, Z, h=1e-6):
    G = np.zeros_like(Z)
    for idx in np.ndindex(Z.shape):
        Zp, Zm = Z.copy(), Z.copy()
        Zp[idx] += h
        Zm[idx] -= h
        G[idx] = (f(Zp) - f(Zm)) / (2 * h)
    return G


@pytest.mark.parametrize("name", OBJECTS)
def test_backward_is_the_derivative(name):
    act = OBJECTS[name]
    assert not any(np.abs(Z - k).min() < 1e-3 for k in KINKS.get(name, []))
    numerical = central_differences(lambda X: (act(X) * dA).sum(), Z)
    np.testing.assert_allclose(act.backward(Z, act(Z), dA), numerical, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", OBJECTS)
def test_float32_stays_float32(name):
    act, Z32 = OBJECTS[name], Z.astype(np.float32)
    A = act(Z32)
    assert A.dtype == np.float32
    assert act.backward(Z32, A, dA.astype(np.float32)).dtype == np.float32


# ---------------------------------------------------------------------- Keras's golden values
def test_selu_and_elu_values_from_kerass_tests():
    positive, negative = np.array([[1.0, 2.0]]), np.array([[-1.0, -2.0]])
    selu, elu = activations.get("selu"), activations.get("elu")
    np.testing.assert_allclose(selu(positive), positive * SELU_SCALE, rtol=1e-12)
    np.testing.assert_allclose(selu(negative), np.expm1(negative) * SELU_SCALE * SELU_ALPHA)
    np.testing.assert_allclose(elu(negative), np.exp(negative) - 1)
    np.testing.assert_allclose(elu(positive), positive)


def test_hard_sigmoid_and_hard_silu_follow_keras_3():
    x = np.array([-4.0, -3.0, -1.5, 0.0, 1.5, 3.0, 4.0])
    np.testing.assert_allclose(activations.get("hard_sigmoid")(x), [0, 0, 0.25, 0.5, 0.75, 1, 1])
    # Keras's reference: x * min(max(0, x + 3), 6) / 6
    np.testing.assert_allclose(
        activations.get("hard_swish")(x), x * np.minimum(np.maximum(0.0, x + 3.0), 6.0) / 6
    )


def test_gelu_is_exact_by_default_and_tanh_when_asked():
    x = np.linspace(-3, 3, 13)
    cdf = np.array([0.5 * (1 + math.erf(v / math.sqrt(2))) for v in x])
    np.testing.assert_allclose(activations.get("gelu")(x), x * cdf, rtol=1e-12)
    tanh_form = 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))
    np.testing.assert_allclose(GELU(approximate=True)(x), tanh_form, rtol=1e-12)
    assert np.abs(GELU(approximate=True)(x) - x * cdf).max() > 1e-5  # they differ


@pytest.mark.parametrize(
    ("name", "reference"),
    [
        ("softplus", lambda x: np.log(1 + np.exp(x))),
        ("softsign", lambda x: x / (1 + np.abs(x))),
        ("silu", lambda x: x / (1 + np.exp(-x))),
        ("swish", lambda x: x / (1 + np.exp(-x))),
        ("relu6", lambda x: np.minimum(np.maximum(x, 0), 6)),
        ("exponential", np.exp),
        ("mish", lambda x: x * np.tanh(np.log(1 + np.exp(x)))),
        ("log_softmax", lambda x: x - np.log(np.exp(x).sum(axis=-1, keepdims=True))),
    ],
)
def test_values_match_kerass_reference_functions(name, reference):
    x = Z * 2.5  # past relu6's 6
    np.testing.assert_allclose(activations.get(name)(x), reference(x), rtol=1e-10, atol=1e-12)


def test_softplus_does_not_overflow():
    x = np.array([-1000.0, 0.0, 1000.0])
    np.testing.assert_allclose(activations.get("softplus")(x), [0.0, math.log(2), 1000.0])


# ---------------------------------------------------------------------- names
def test_kerass_aliases_and_identifiers():
    assert type(activations.get("swish")) is activations.SiLU
    assert type(activations.get("hard_swish")) is activations.HardSiLU
    assert activations.get("swish").name == "silu"  # Keras's function name
    assert type(activations.get(None)) is activations.Linear
    assert type(activations.get(ELU)) is ELU
    gelu = GELU(approximate=True)
    assert activations.get(gelu) is gelu


@pytest.mark.parametrize(
    ("identifier", "error", "match"),
    [
        ("celu", NotImplementedError, "activation 'celu' is not supported by backprop_lab"),
        ("sparsemax", NotImplementedError, "'sparsemax' is not supported.*supported: elu"),
        ("relux", ValueError, "Could not interpret activation identifier: 'relux'; valid names"),
        (7, ValueError, "Could not interpret activation identifier: 7"),
        (np.tanh, NotImplementedError, "custom activation 'tanh'"),
    ],
)
def test_unsupported_and_unknown_activations_are_told_apart(identifier, error, match):
    with pytest.raises(error, match=match):
        activations.get(identifier)


# ---------------------------------------------------------------------- real Keras
@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("KERAS_BACKEND", "jax")
    return pytest.importorskip("keras")


def keras_function(keras, name):
    act = OBJECTS[name]
    if isinstance(act, ELU):
        return lambda x: keras.activations.elu(x, alpha=act.alpha)
    if isinstance(act, GELU):
        return lambda x: keras.activations.gelu(x, approximate=act.approximate)
    return getattr(keras.activations, act.name)


@pytest.mark.keras
@pytest.mark.parametrize("name", OBJECTS)
def test_forward_and_backward_match_keras(keras, name):
    import jax

    act, theirs = OBJECTS[name], keras_function(keras, name)
    # Random points and every kink, in float32 as Keras computes.  At 0 leaky_relu's
    # derivative is the slope here, as in TensorFlow; JAX takes 1.
    kinks = [-3.0, 3.0, 6.0] + ([] if name == "leaky_relu" else [0.0])
    X = np.concatenate([Z.ravel(), kinks]).reshape(1, -1).astype(np.float32)
    G = np.ones_like(X) * 0.7
    A = act(X)
    np.testing.assert_allclose(A, np.asarray(theirs(X)), rtol=2e-6, atol=1e-6)
    _, vjp = jax.vjp(theirs, X)
    np.testing.assert_allclose(act.backward(X, A, G), np.asarray(vjp(G)[0]), rtol=1e-5, atol=1e-6)
