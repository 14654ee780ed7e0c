"""Losses: Keras's golden values, its direct-call semantics, and exact gradients.

- Golden values are ported from Keras's own ``keras/src/losses/losses_test.py``
  (the numbers Keras asserts, to the decimals Keras asserts them).
- Every loss's ``backward`` (and ``backward_logits`` where it fuses) is checked
  against central finite differences of ``value`` in float64, with and without
  sample weights.
- Parity tests (marked ``keras``) run the same arrays through real Keras on JAX,
  values and gradients (``jax.grad`` of Keras's loss).
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from backprop_lab import Dense, Sequential
from backprop_lab.engine import activations, losses
from backprop_lab.engine.losses import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    CategoricalHinge,
    CosineSimilarity,
    Hinge,
    Huber,
    KLDivergence,
    LogCosh,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    Poisson,
    SparseCategoricalCrossentropy,
    SquaredHinge,
)

# Keras's test arrays.
REG_TRUE = np.array([[1, 9, 2], [-5, -2, 6]])
REG_PRED = np.array([[4, 8, 12], [8, 1, 3]], dtype="float32")
HINGE_TRUE = np.array([[0.0, 1.0], [0.0, 0.0]])
HINGE_PRED = np.array([[0.6, 0.4], [0.4, 0.6]])
ONE_HOT = np.eye(3, dtype=int)
PROBS = np.array([[0.9, 0.05, 0.05], [0.5, 0.89, 0.6], [0.05, 0.01, 0.94]], dtype="float32")
LOGITS = np.array([[8.0, 1.0, 1.0], [0.0, 9.0, 1.0], [2.0, 3.0, 5.0]])
BIN_TRUE = np.array([1, 0, 1, 0]).reshape(2, 2)
BIN_PRED = np.array([1, 1, 1, 0], dtype="float32").reshape(2, 2)
BIN_LOGIT_TRUE = np.array([[1, 0, 1], [0, 1, 1]])
BIN_LOGITS = np.array([[10.0, -10.0, 10.0], [10.0, 10.0, -10.0]])
W_COLUMN = np.array([[1.2], [3.4]])
W3 = np.array([[1.2], [3.4], [5.6]])

# (loss, y_true, y_pred, sample_weight, value Keras asserts, decimals Keras asserts)
GOLDEN = {
    "mse": (MeanSquaredError(), REG_TRUE, REG_PRED, None, 49.5, 3),
    "mse_scalar_weight": (MeanSquaredError(), REG_TRUE, REG_PRED, 2.3, 113.85, 3),
    "mse_sample_weight": (MeanSquaredError(), REG_TRUE, REG_PRED, W_COLUMN, 767.8 / 6, 3),
    "mse_timestep_weight": (
        MeanSquaredError(),
        REG_TRUE.reshape(2, 3, 1),
        REG_PRED.reshape(2, 3, 1),
        np.array([3, 6, 5, 0, 4, 2]).reshape(2, 3),
        97.833336,
        3,
    ),
    "mse_zero_weight": (MeanSquaredError(), REG_TRUE, REG_PRED, 0, 0.0, 3),
    "mae": (MeanAbsoluteError(), REG_TRUE, REG_PRED, None, 5.5, 3),
    "mae_scalar_weight": (MeanAbsoluteError(), REG_TRUE, REG_PRED, 2.3, 12.65, 3),
    "mae_sample_weight": (MeanAbsoluteError(), REG_TRUE, REG_PRED, W_COLUMN, 81.4 / 6, 3),
    "mape": (MeanAbsolutePercentageError(), REG_TRUE, REG_PRED, None, 211.8518, 3),
    "mape_scalar_weight": (MeanAbsolutePercentageError(), REG_TRUE, REG_PRED, 2.3, 487.259, 3),
    "mape_sample_weight": (
        MeanAbsolutePercentageError(),
        REG_TRUE,
        REG_PRED,
        W_COLUMN,
        422.8888,
        3,
    ),
    "msle": (MeanSquaredLogarithmicError(), REG_TRUE, REG_PRED, None, 1.4370, 3),
    "msle_scalar_weight": (MeanSquaredLogarithmicError(), REG_TRUE, REG_PRED, 2.3, 3.3051, 3),
    "msle_sample_weight": (
        MeanSquaredLogarithmicError(),
        REG_TRUE,
        REG_PRED,
        W_COLUMN,
        3.7856,
        3,
    ),
    "hinge": (Hinge(), HINGE_TRUE, HINGE_PRED, None, 1.3, 3),
    "hinge_weighted": (Hinge(), HINGE_TRUE, HINGE_PRED, [1, 0], 0.55, 3),
    "squared_hinge": (SquaredHinge(), HINGE_TRUE, HINGE_PRED, None, 1.86, 3),
    "squared_hinge_weighted": (SquaredHinge(), HINGE_TRUE, HINGE_PRED, [1, 0], 0.73, 3),
    "categorical_hinge": (CategoricalHinge(), HINGE_TRUE, HINGE_PRED, None, 1.4, 3),
    "categorical_hinge_weighted": (CategoricalHinge(), HINGE_TRUE, HINGE_PRED, [1, 0], 0.6, 3),
    "bce_all_correct": (BinaryCrossentropy(), ONE_HOT, ONE_HOT.astype("float32"), None, 0.0, 3),
    "bce": (
        BinaryCrossentropy(),
        ONE_HOT,
        np.array([[0.9, 0.1, 0.2], [0.3, 0.8, 0.1], [0.1, 0.2, 0.7]], dtype="float32"),
        None,
        0.20046903,
        6,
    ),
    "bce_clipped": (BinaryCrossentropy(), BIN_TRUE, BIN_PRED, None, 3.98559, 3),
    "bce_scalar_weight": (BinaryCrossentropy(), BIN_TRUE, BIN_PRED, 2.3, 9.1668, 3),
    "bce_sample_weight": (BinaryCrossentropy(), BIN_TRUE, BIN_PRED, W_COLUMN, 4.7827, 3),
    "bce_logits": (
        BinaryCrossentropy(from_logits=True),
        BIN_LOGIT_TRUE,
        BIN_LOGITS,
        None,
        3.3333,
        3,
    ),
    "bce_logits_scalar_weight": (
        BinaryCrossentropy(from_logits=True),
        BIN_LOGIT_TRUE,
        BIN_LOGITS,
        2.3,
        7.666,
        3,
    ),
    "bce_logits_sample_weight": (
        BinaryCrossentropy(from_logits=True),
        BIN_LOGIT_TRUE,
        BIN_LOGITS,
        np.array([4, 3]),
        10.0,
        3,
    ),
    "bce_label_smoothing": (
        BinaryCrossentropy(from_logits=True, label_smoothing=0.1),
        np.array([[1, 0, 1]]),
        np.array([[10.0, -10.0, -10.0]]),
        None,
        (10.0 + 5.0 * 0.1) / 3.0,
        3,
    ),
    "cce": (CategoricalCrossentropy(), ONE_HOT, PROBS, None, 0.3239, 3),
    "cce_scalar_weight": (CategoricalCrossentropy(), ONE_HOT, PROBS, 2.3, 0.7449, 3),
    "cce_sample_weight": (CategoricalCrossentropy(), ONE_HOT, PROBS, W3, 1.0696, 3),
    "cce_logits": (CategoricalCrossentropy(from_logits=True), ONE_HOT, LOGITS, None, 0.0573, 3),
    "cce_logits_weighted": (
        CategoricalCrossentropy(from_logits=True),
        ONE_HOT,
        LOGITS,
        W3,
        0.31829,
        3,
    ),
    "cce_label_smoothing": (
        CategoricalCrossentropy(from_logits=True, label_smoothing=0.1),
        np.array([[1, 0, 0]]),
        np.array([[100.0, -100.0, -100.0]]),
        None,
        400.0 * 0.1 / 3.0,
        3,
    ),
    # The defect of issue 12: integer labels were read as one-hot rows (5.640).
    "scce": (SparseCategoricalCrossentropy(), np.array([0, 1, 2]), PROBS, None, 0.3239, 3),
    "scce_column": (
        SparseCategoricalCrossentropy(),
        np.array([[0], [1], [2]]),
        PROBS,
        2.3,
        0.7449,
        3,
    ),
    "scce_sample_weight": (
        SparseCategoricalCrossentropy(),
        np.array([[0], [1], [2]]),
        PROBS,
        W3,
        1.0696,
        3,
    ),
    # ... and 32.24 instead of 0 for (3, 1) labels with matching one-hot predictions.
    "scce_all_correct": (
        SparseCategoricalCrossentropy(),
        np.array([[0], [1], [2]]),
        np.eye(3, dtype="float32"),
        None,
        0.0,
        3,
    ),
    "scce_logits": (
        SparseCategoricalCrossentropy(from_logits=True),
        np.array([0, 1, 2]),
        LOGITS,
        None,
        0.0573,
        3,
    ),
}


@pytest.mark.parametrize("case", GOLDEN.values(), ids=GOLDEN.keys())
def test_direct_call_gives_kerass_golden_values(case):
    loss, y_true, y_pred, sample_weight, expected, decimals = case
    assert loss(y_true, y_pred, sample_weight=sample_weight) == pytest.approx(
        expected, abs=1.5 * 10.0**-decimals
    )


def _huber(r, delta):
    """Keras's test reference: quadratic up to delta, linear beyond."""
    quadratic = np.minimum(np.abs(r), delta)
    return 0.5 * quadratic**2 + delta * (np.abs(r) - quadratic)


@pytest.mark.parametrize("delta", [1.0, 0.8])
def test_huber_matches_kerass_reference_formula(delta):
    y_true = np.array([[1.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    y_pred = np.array([[0.9, 0.2, 0.2], [0.8, 0.4, 0.6]])
    expected = 2.3 * _huber(y_pred - y_true, delta).sum() / 6
    assert Huber(delta=delta)(y_true, y_pred, sample_weight=2.3) == pytest.approx(expected, 1e-6)


def test_log_cosh_kl_divergence_and_poisson_match_kerass_reference_formulas():
    r = REG_PRED - REG_TRUE
    log_cosh = np.log((np.exp(r) + np.exp(-r)) / 2) * np.array([[1.2], [3.4]])
    assert LogCosh()(REG_TRUE, REG_PRED, sample_weight=[1.2, 3.4]) == pytest.approx(
        log_cosh.sum() / 6, rel=1e-5
    )
    p = np.array([0.4, 0.9, 0.12, 0.36, 0.3, 0.4], dtype="float32").reshape(2, 3)
    t = np.array([0.5, 0.8, 0.12, 0.7, 0.43, 0.8], dtype="float32").reshape(2, 3)
    assert KLDivergence()(t, p) == pytest.approx((t * np.log(t / p)).sum() / 2, rel=1e-5)
    p = np.array([1, 9, 2, 5, 2, 6], dtype="float32").reshape(2, 3)
    t = np.array([4, 8, 12, 8, 1, 3], dtype="float32").reshape(2, 3)
    assert Poisson()(t, p) == pytest.approx(np.mean(p - t * np.log(p)), rel=1e-5)


def test_cosine_similarity_matches_kerass_reference():
    def l2(x):
        return x / np.sqrt(np.maximum((x * x).sum(axis=1, keepdims=True), 1e-12))

    t, p = REG_TRUE.astype("float32"), REG_PRED
    expected = -np.mean((l2(t) * l2(p)).sum(axis=1) * np.array([1.2, 3.4]))
    assert CosineSimilarity()(t, p, sample_weight=[1.2, 3.4]) == pytest.approx(expected, 1e-5)
    assert CosineSimilarity()(np.zeros((1, 3)), np.ones((1, 3))) == 0.0  # a zero row gives 0


@pytest.mark.parametrize("loss", [BinaryCrossentropy(), CategoricalCrossentropy()])
def test_cross_entropies_refuse_targets_of_another_shape_as_keras(loss):
    with pytest.raises(ValueError, match=r"must have the same shape.*\(3, 1\).*\(3, 3\)"):
        loss(np.array([[0], [1], [2]]), PROBS)


def test_sparse_labels_must_match_the_predictions_rows():
    with pytest.raises(ValueError, match="same shape up until the last dimension"):
        SparseCategoricalCrossentropy()(ONE_HOT, PROBS)  # one-hot rows are not labels
    with pytest.raises(ValueError, match=r"integer labels in \[0, 2\]"):
        SparseCategoricalCrossentropy()(np.array([0, 1, 3]), PROBS)


def test_a_1d_call_averages_everything_and_weighs_like_keras():
    # Keras: per-sample values collapse to one number, then weights multiply it.
    y, p = np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 5.0])
    assert MeanSquaredError()(y, p) == pytest.approx(5 / 3)
    assert MeanSquaredError()(y, p, sample_weight=[1, 2, 3]) == pytest.approx(5 / 3 * 2)


# ---------------------------------------------------------------------- names and options
@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("mse", MeanSquaredError),
        ("MSE", MeanSquaredError),
        ("MeanSquaredError", MeanSquaredError),
        ("mae", MeanAbsoluteError),
        ("mape", MeanAbsolutePercentageError),
        ("msle", MeanSquaredLogarithmicError),
        ("huber", Huber),
        ("log_cosh", LogCosh),
        ("hinge", Hinge),
        ("squared_hinge", SquaredHinge),
        ("categorical_hinge", CategoricalHinge),
        ("kl_divergence", KLDivergence),
        ("kld", KLDivergence),
        ("poisson", Poisson),
        ("cosine_similarity", CosineSimilarity),
        ("bce", BinaryCrossentropy),
    ],
)
def test_kerass_names_give_the_loss(name, cls):
    assert type(losses.get(name)) is cls


def test_loss_names_and_configs_are_kerass():
    assert Huber().name == "huber_loss" and Huber(name="h").name == "h"
    assert Huber(delta=2.0).get_config() == {
        "name": "huber_loss",
        "reduction": "sum_over_batch_size",
        "delta": 2.0,
    }
    config = BinaryCrossentropy(from_logits=True, label_smoothing=0.1).get_config()
    assert config["from_logits"] is True and config["label_smoothing"] == 0.1


def test_options_name_what_changes_the_math():
    assert BinaryCrossentropy().options() == {}
    assert BinaryCrossentropy(from_logits=True).options() == {"from_logits": True}
    assert CategoricalCrossentropy(label_smoothing=0.1).options() == {"label_smoothing": 0.1}
    assert SparseCategoricalCrossentropy(from_logits=True).fuses_with == "linear"
    assert CategoricalCrossentropy().fuses_with == "softmax"


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: losses.get("dice"), NotImplementedError, "loss 'dice' is not supported"),
        (lambda: losses.get("Tversky"), NotImplementedError, "'Tversky' is not supported"),
        (lambda: losses.get("bce_loss"), ValueError, "Could not interpret loss identifier"),
        (lambda: losses.get(3), ValueError, "Could not interpret loss identifier: 3"),
        (lambda: losses.get(lambda y, p: 0), NotImplementedError, "custom loss '<lambda>'"),
        (lambda: Hinge(reduction="sum"), NotImplementedError, "reduction='sum'"),
        (lambda: Hinge(reduction=None), NotImplementedError, "reduction=None"),
        (lambda: Hinge(reduction="abc"), ValueError, "Invalid value for argument `reduction`"),
        (lambda: CategoricalCrossentropy(axis=1), NotImplementedError, "axis=1"),
        (lambda: Huber(dtype="bfloat16"), NotImplementedError, "dtype='bfloat16'"),
        (
            lambda: SparseCategoricalCrossentropy(ignore_class=-1),
            NotImplementedError,
            "ignore_class",
        ),
        (lambda: BinaryCrossentropy(label_smoothing=2), ValueError, r"label_smoothing .*\[0, 1\]"),
    ],
)
def test_unsupported_and_unknown_are_told_apart(make, error, match):
    with pytest.raises(error, match=match):
        make()


# ---------------------------------------------------------------------- gradients
RNG = np.random.default_rng(0)
N, K = 5, 3
WEIGHTS = RNG.uniform(0.5, 2.0, size=N)
POSITIVE = RNG.uniform(0.1, 0.9, size=(N, K))  # probabilities away from the clip
SIGNED = RNG.normal(size=(N, K)) * 2
TARGETS = RNG.normal(size=(N, K)) * 2  # apart from SIGNED everywhere: no kink of |P - Y|
ONE_HOT_Y = np.eye(K)[RNG.integers(0, K, size=N)]
BINARY_Y = RNG.integers(0, 2, size=(N, K)).astype(float)

# (loss, targets, predictions): every loss at points where it is smooth.
GRADIENT_CASES = {
    "bce": (BinaryCrossentropy(), BINARY_Y, POSITIVE),
    "bce_smoothed": (BinaryCrossentropy(label_smoothing=0.2), BINARY_Y, POSITIVE),
    "bce_logits": (BinaryCrossentropy(from_logits=True), BINARY_Y, SIGNED),
    "cce": (CategoricalCrossentropy(), ONE_HOT_Y, POSITIVE),
    "cce_smoothed": (CategoricalCrossentropy(label_smoothing=0.1), ONE_HOT_Y, POSITIVE),
    "cce_logits": (CategoricalCrossentropy(from_logits=True), ONE_HOT_Y, SIGNED),
    "scce_logits": (SparseCategoricalCrossentropy(from_logits=True), ONE_HOT_Y, SIGNED),
    "mse": (MeanSquaredError(), TARGETS, SIGNED),
    "mae": (MeanAbsoluteError(), TARGETS, SIGNED),
    "mape": (MeanAbsolutePercentageError(), TARGETS, SIGNED),
    "msle": (MeanSquaredLogarithmicError(), POSITIVE[::-1] * 3, POSITIVE * 3),
    "huber": (Huber(), TARGETS, SIGNED),  # both sides of delta occur
    "huber_delta": (Huber(delta=0.5), TARGETS, SIGNED),
    "log_cosh": (LogCosh(), TARGETS, SIGNED),
    "hinge": (Hinge(), BINARY_Y, SIGNED),
    "squared_hinge": (SquaredHinge(), BINARY_Y, SIGNED),
    "categorical_hinge": (CategoricalHinge(), ONE_HOT_Y, SIGNED),
    "kl_divergence": (KLDivergence(), POSITIVE[::-1], POSITIVE),
    "poisson": (Poisson(), BINARY_Y * 3, POSITIVE * 2),
    "cosine_similarity": (CosineSimilarity(), TARGETS, SIGNED),
}


def central_differences(f, P, h=1e-6):
    G = np.zeros_like(P)
    for idx in np.ndindex(P.shape):
        Pp, Pm = P.copy(), P.copy()
        Pp[idx] += h
        Pm[idx] -= h
        G[idx] = (f(Pp) - f(Pm)) / (2 * h)
    return G


@pytest.mark.parametrize("weights", [None, WEIGHTS], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("case", GRADIENT_CASES.values(), ids=GRADIENT_CASES.keys())
def test_backward_is_the_derivative_of_value(case, weights):
    loss, Y, P = case
    numerical = central_differences(lambda Q: loss.value(Y, Q, weights), P)
    assert np.abs(numerical).max() > 1e-3  # the check is not about a flat loss
    np.testing.assert_allclose(loss.backward(Y, P, weights), numerical, rtol=1e-6, atol=1e-8)


FUSED = {
    "bce_sigmoid": (BinaryCrossentropy(), BINARY_Y),
    "bce_smoothed_sigmoid": (BinaryCrossentropy(label_smoothing=0.2), BINARY_Y),
    "cce_softmax": (CategoricalCrossentropy(), ONE_HOT_Y),
    "cce_smoothed_softmax": (CategoricalCrossentropy(label_smoothing=0.1), ONE_HOT_Y),
    "bce_logits_linear": (BinaryCrossentropy(from_logits=True), BINARY_Y),
    "cce_logits_linear": (CategoricalCrossentropy(from_logits=True), ONE_HOT_Y),
}


@pytest.mark.parametrize("weights", [None, WEIGHTS], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("case", FUSED.values(), ids=FUSED.keys())
def test_fused_gradient_is_the_derivative_through_the_output_activation(case, weights):
    loss, Y = case
    act = activations.get(loss.fuses_with)
    numerical = central_differences(lambda Z: loss.value(Y, act(Z), weights), SIGNED)
    np.testing.assert_allclose(
        loss.backward_logits(Y, act(SIGNED), weights), numerical, rtol=1e-6, atol=1e-8
    )


def test_weighted_value_and_backward_are_keras_sum_over_batch_size():
    Y, P = TARGETS, SIGNED
    per_sample = ((P - Y) ** 2).mean(axis=1)
    loss = MeanSquaredError()
    assert loss.value(Y, P, WEIGHTS) == pytest.approx((WEIGHTS * per_sample).sum() / N, 1e-12)
    expected = WEIGHTS[:, None] * 2 * (P - Y) / (N * K)
    np.testing.assert_allclose(loss.backward(Y, P, WEIGHTS), expected, rtol=1e-12)
    assert loss.per_sample(Y, P).shape == (N,)
    # All weights 1 is the unweighted loss.
    assert loss.value(Y, P, np.ones(N)) == pytest.approx(loss.value(Y, P), 1e-12)


def test_hinge_maps_binary_labels_to_signs_and_leaves_signs_alone():
    signs = 2 * BINARY_Y - 1
    assert Hinge().value(BINARY_Y, SIGNED) == Hinge().value(signs, SIGNED)
    # A batch of one class only is the same either way: 2 * 1 - 1 = 1.
    ones = np.ones((N, K))
    assert Hinge().value(ones, SIGNED) == pytest.approx(np.maximum(1 - SIGNED, 0).mean())


# ---------------------------------------------------------------------- the engines
def test_a_loss_without_a_compiled_kernel_trains_on_numpy():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 2))
    y = X @ np.array([1.0, -2.0]) + 0.1 * rng.normal(size=64)

    def model():
        return Sequential([Dense(8, "tanh", input_shape=(2,)), Dense(1)], seed=0)

    auto = model()
    auto.compile("adam", Huber(), engine="auto")
    history = auto.fit(X, y, epochs=5, batch_size=16, verbose=0)
    assert auto.engine_used == "numpy"
    assert history.history["loss"][-1] < history.history["loss"][0]
    strict = model()
    with pytest.raises(ValueError, match="Huber"):
        strict.compile("adam", Huber(), engine="compiled")
        strict.fit(X, y, epochs=1, verbose=0)


# ---------------------------------------------------------------------- real Keras
@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("KERAS_BACKEND", "jax")
    return pytest.importorskip("keras")


PARITY = {
    **{k: v for k, v in GRADIENT_CASES.items() if not k.startswith("scce")},
    "scce": (SparseCategoricalCrossentropy(), ONE_HOT_Y.argmax(axis=1), POSITIVE),
    "scce_logits": (
        SparseCategoricalCrossentropy(from_logits=True),
        ONE_HOT_Y.argmax(axis=1),
        SIGNED,
    ),
    "bce_clipped": (BinaryCrossentropy(), BINARY_Y, np.clip(SIGNED, 0, 1)),
    "mse_column_target": (MeanSquaredError(), SIGNED[:, :1], SIGNED[:, 0]),
}


def keras_twin(keras, loss):
    """The same loss built by Keras, from our config."""
    config = {k: v for k, v in loss.get_config().items() if k not in ("name", "reduction")}
    return getattr(keras.losses, type(loss).__name__)(**config)


@pytest.mark.keras
@pytest.mark.parametrize("case", PARITY.values(), ids=PARITY.keys())
def test_value_and_gradient_match_keras(keras, case):
    import jax

    loss, Y, P = case
    Y, P = Y.astype("float32"), P.astype("float32")
    theirs = keras_twin(keras, loss)

    def keras_value(Q):
        return theirs(Y, Q, sample_weight=WEIGHTS.astype("float32"))

    expected = float(keras_value(P))
    assert loss(Y, P, sample_weight=WEIGHTS) == pytest.approx(expected, rel=2e-6, abs=1e-7)
    if P.ndim == 2:
        prepared = Y
        if isinstance(loss, SparseCategoricalCrossentropy):  # the engine's targets are one-hot
            prepared = np.eye(K, dtype="float32")[Y.astype(int)]
        grad = np.asarray(jax.grad(keras_value)(P))
        np.testing.assert_allclose(
            loss.backward(prepared, P, WEIGHTS.astype("float32")), grad, rtol=2e-5, atol=1e-7
        )
