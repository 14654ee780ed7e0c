"""Backpropagation checked against central finite differences.

For every parameter ``theta_k`` of the whole network (all kernels and biases,
flattened into one vector) the numerical derivative

    (L(theta + h e_k) - L(theta - h e_k)) / (2 h),   L = loss(Y, forward(X)) + penalty

is compared with the gradient ``model.backward`` leaves in ``model.grads``.
Everything runs in float64 with h = 1e-5.  The central difference then has a
truncation error of about h^2 |L'''| / 6 ~ 2e-11 and a rounding error of about
1e-16 |L| / h ~ 1e-11 (the largest difference observed over all cases below is
8e-11), so entries are compared by the relative error

    |a - b| / max(|a| + |b|, FLOOR)

with FLOOR = 1e-4: for gradient entries above it the error is relative and must
be below 1e-6; below it the check becomes absolute at 1e-10, still orders of
magnitude under anything a wrong gradient would leave.
"""

from __future__ import annotations

import numpy as np
import pytest

from backprop_lab import Dense, Sequential
from backprop_lab.engine.losses import BinaryCrossentropy, CategoricalCrossentropy
from backprop_lab.engine.regularizers import L1, L1L2, L2

H = 1e-5
FLOOR = 1e-4
MAX_RELATIVE_ERROR = 1e-6
N_SAMPLES, N_FEATURES, WIDTH = 7, 3, 5
# Pre-activations of kinked functions (relu, leaky_relu) must stay this far from
# 0, so that no perturbation of size H crosses the kink.
KINK_MARGIN = 1e-3

# (output activation, loss, number of outputs).  Every pair is mathematically
# valid: cross-entropies get outputs in (0, 1), categorical cross-entropy
# normalises positive outputs itself (so it also accepts sigmoid), and mean
# squared error takes anything.
OUTPUT_PAIRS = [
    ("sigmoid", "binary_crossentropy", 1),  # fused
    ("sigmoid", "binary_crossentropy", 2),  # fused, multi-label: mean over all outputs
    ("softmax", "categorical_crossentropy", 3),  # fused
    ("softmax", "sparse_categorical_crossentropy", 3),  # fused
    ("softmax", "binary_crossentropy", 3),  # unfused: BCE on each softmax output
    ("sigmoid", "categorical_crossentropy", 3),  # unfused: through CCE's normalisation
    ("linear", "mse", 2),
    ("sigmoid", "mse", 1),  # unfused sigmoid
    ("tanh", "mse", 2),
    ("softmax", "mse", 3),  # unfused softmax Jacobian
    ("relu", "mse", 2),
    ("leaky_relu", "mse", 2),
]
# The activations of the CLI's networks; the others have finite-difference tests of their own
# (tests/test_keras_activations.py).
HIDDEN = ["leaky_relu", "linear", "relu", "sigmoid", "softmax", "tanh"]


def make_targets(loss: str, n_outputs: int, rng: np.random.Generator):
    """Targets the loss accepts, as a user would pass them to fit."""
    if loss == "binary_crossentropy":
        return rng.integers(0, 2, size=(N_SAMPLES, n_outputs))
    if loss == "categorical_crossentropy":
        return np.eye(n_outputs)[rng.integers(0, n_outputs, size=N_SAMPLES)]
    if loss == "sparse_categorical_crossentropy":
        return rng.integers(0, n_outputs, size=N_SAMPLES)
    return rng.normal(size=(N_SAMPLES, n_outputs))


def make_problem(hidden, output, loss, n_outputs, n_hidden, regularizer=None, seed=0):
    """A float64 model with nonzero biases, data away from every kink, and targets."""
    rng = np.random.default_rng(seed)
    layers = [
        Dense(WIDTH, hidden, kernel_regularizer=regularizer, bias_initializer=_random_bias)
        for _ in range(n_hidden)
    ]
    layers.append(Dense(n_outputs, output, kernel_regularizer=regularizer))
    model = Sequential(layers, seed=seed, dtype="float64")
    model.compile("sgd", loss)
    model.build(N_FEATURES)
    Y = model.loss.prepare_targets(make_targets(loss, n_outputs, rng), n_outputs, np.float64)
    for _ in range(100):  # redraw the inputs until no pre-activation sits near a kink
        X = rng.normal(size=(N_SAMPLES, N_FEATURES))
        model.forward(X)
        if min(np.abs(layer.Z).min() for layer in model.layers) > KINK_MARGIN:
            return model, X, Y
    raise AssertionError("could not draw inputs away from the kinks")


def _random_bias(shape, rng, dtype):
    # Keras's zero bias would make every bias gradient check start from the same
    # point; random biases also move pre-activations off 0.
    return rng.uniform(-0.5, 0.5, size=shape).astype(dtype)


def objective(model, X, Y) -> float:
    return model.loss.value(Y, model.forward(X)) + model.penalty()


def numerical_gradient(model, X, Y) -> np.ndarray:
    """Central differences of the objective for each parameter, flattened."""
    grads = []
    for p in model.params:
        flat = p.reshape(-1)  # a view: writing to it perturbs the model
        for k in range(flat.size):
            saved = flat[k]
            flat[k] = saved + H
            plus = objective(model, X, Y)
            flat[k] = saved - H
            minus = objective(model, X, Y)
            flat[k] = saved
            grads.append((plus - minus) / (2 * H))
    return np.array(grads)


def analytic_gradient(model, X, Y) -> np.ndarray:
    model.backward(Y, model.forward(X))
    return np.concatenate([g.ravel() for g in model.grads])


def max_relative_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), FLOOR)))


def check_gradient(model, X, Y):
    analytic = analytic_gradient(model, X, Y)
    numerical = numerical_gradient(model, X, Y)
    assert analytic.shape == numerical.shape == (model.count_params(),)
    # A gradient of all zeros (dead network, saturated output) would pass trivially.
    assert np.abs(numerical).max() > 1e-3
    assert max_relative_error(analytic, numerical) < MAX_RELATIVE_ERROR


@pytest.mark.parametrize("n_hidden", [1, 2, 3])
@pytest.mark.parametrize(("output", "loss", "n_outputs"), OUTPUT_PAIRS)
@pytest.mark.parametrize("hidden", HIDDEN)
def test_backward_matches_finite_differences(hidden, output, loss, n_outputs, n_hidden):
    model, X, Y = make_problem(hidden, output, loss, n_outputs, n_hidden)
    check_gradient(model, X, Y)


@pytest.mark.parametrize("regularizer", [L1(0.01), L2(0.05), L1L2(l1=0.01, l2=0.05)], ids=repr)
@pytest.mark.parametrize(
    ("hidden", "output", "loss", "n_outputs"),
    [
        ("relu", "sigmoid", "binary_crossentropy", 1),
        ("tanh", "softmax", "categorical_crossentropy", 3),
        ("sigmoid", "linear", "mse", 2),
    ],
)
def test_regularized_gradient_matches_finite_differences(
    hidden, output, loss, n_outputs, regularizer
):
    model, X, Y = make_problem(hidden, output, loss, n_outputs, 2, regularizer=regularizer)
    # |W| sits far from L1's kink at 0, where the penalty is not differentiable.
    assert min(np.abs(layer.W).min() for layer in model.layers) > 10 * H
    assert model.penalty() > 0
    check_gradient(model, X, Y)


def test_regularizer_gradient_is_added_to_the_loss_gradient():
    """The penalty's share of dL/dW is exactly 2 * l2 * W + l1 * sign(W)."""
    model, X, Y = make_problem("tanh", "sigmoid", "binary_crossentropy", 1, 1)
    plain = analytic_gradient(model, X, Y)
    for layer in model.layers:
        layer.kernel_regularizer = L1L2(l1=0.01, l2=0.05)
    regularized = analytic_gradient(model, X, Y)
    expected = np.concatenate(
        [
            np.concatenate([(0.1 * p + 0.01 * np.sign(p)).ravel(), np.zeros(b.size)])
            for p, b in zip(model.params[::2], model.params[1::2])
        ]
    )
    np.testing.assert_allclose(regularized - plain, expected, rtol=1e-12, atol=1e-15)


# ---------------------------------------------------------------------- fused rules
class UnfusedBCE(BinaryCrossentropy):
    fuses_with = None


class UnfusedCCE(CategoricalCrossentropy):
    fuses_with = None


@pytest.mark.parametrize(
    ("output", "fused", "unfused", "n_outputs"),
    [
        ("sigmoid", BinaryCrossentropy(), UnfusedBCE(), 2),
        ("softmax", CategoricalCrossentropy(), UnfusedCCE(), 3),
    ],
    ids=["sigmoid+bce", "softmax+cce"],
)
@pytest.mark.parametrize("scale", [1.0, 30.0], ids=["moderate", "saturated"])
def test_fused_and_unfused_gradients_agree(output, fused, unfused, n_outputs, scale):
    """The shortcut ``(P - Y) / n`` equals the chain rule through the activation.

    ``scale=30`` multiplies the last kernel so some probabilities fall within
    1e-7 of 0 or 1, where Keras clips them: both paths must then agree that
    those samples contribute nothing, not only in the easy interior.
    """
    assert fused.fuses_with == output and unfused.fuses_with is None
    loss = "binary_crossentropy" if output == "sigmoid" else "categorical_crossentropy"
    model, X, Y = make_problem("tanh", output, loss, n_outputs, 1, seed=4)
    model.layers[-1].W *= scale
    P = model.forward(X)
    # Whether the clip mask changes dL/dZ here: it must in the saturated case,
    # or that case would test nothing new.
    unmasked = (P - Y) / (P.size if output == "sigmoid" else len(P))
    assert np.allclose(fused.backward_logits(Y, P), unmasked, rtol=0, atol=1e-12) == (scale == 1)

    model.loss = fused
    fused_grads = analytic_gradient(model, X, Y)
    model.loss = unfused
    unfused_grads = analytic_gradient(model, X, Y)
    assert np.abs(fused_grads).max() > 1e-3
    np.testing.assert_allclose(fused_grads, unfused_grads, rtol=1e-9, atol=1e-15)


def test_fused_gradient_is_p_minus_y_over_n():
    """sigmoid + BCE: dL/dZ = dL/dP * P (1 - P) = (P - Y) / n_samples for one output,
    and the same for softmax + CCE on the two-class one-hot encoding."""
    P = np.array([[0.2], [0.9], [0.5], [0.7]])
    Y = np.array([[0.0], [1.0], [1.0], [0.0]])
    expected = np.array([[0.2], [-0.1], [-0.5], [0.7]]) / 4
    np.testing.assert_allclose(BinaryCrossentropy().backward_logits(Y, P), expected)
    two_class = CategoricalCrossentropy().backward_logits(
        np.hstack([Y, 1 - Y]), np.hstack([P, 1 - P])
    )
    np.testing.assert_allclose(two_class, np.hstack([expected, -expected]))
