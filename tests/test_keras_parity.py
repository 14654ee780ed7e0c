"""Cross-checks against real Keras 3: same initial weights, same batches, same result.

Each test builds a backprop_lab model, copies its initial weights into the
equivalent Keras model, trains both on the same data in the same order
(``shuffle=False``) and compares the final weights, the per-epoch history and
``evaluate``/``predict``.  Both run in float32, so they can only agree to
float32 rounding: the engines sum in different orders, and those last-bit
differences are carried through thousands of steps.

Tolerances
----------
Weights: ``rtol=1e-5, atol=1e-6``.  The float32 spacing near 1 is 1.2e-7, so
1e-6 is about 8 ulps: enough for rounding differences accumulated over 6,250
steps in weights that happen to end near zero (where a relative tolerance
means nothing), and still a hundred times smaller than how far every weight
vector moves during training (asserted, so the comparison cannot pass by
both models standing still).
History: ``rtol=1e-4`` on each epoch's loss and accuracy.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass, field

import numpy as np
import pytest

from backprop_lab import SGD, Adagrad, Adam, Dense, RMSprop, Sequential
from backprop_lab.engine import losses, optimizers
from backprop_lab.engine.regularizers import L1, L2

pytestmark = pytest.mark.keras

WEIGHT_RTOL, WEIGHT_ATOL = 1e-5, 1e-6
HISTORY_RTOL = 1e-4
BATCH_SIZE = 32
# Both training engines are held to Keras: the readable NumPy one and, when numba
# is installed, the compiled one that "auto" picks.
ENGINES = ["numpy"] + (["compiled"] if importlib.util.find_spec("numba") else [])


@pytest.fixture(scope="module")
def keras():
    # The backend must be chosen before keras is first imported.
    os.environ.setdefault("KERAS_BACKEND", "jax")
    return pytest.importorskip("keras")


# ---------------------------------------------------------------------- data
def circle_data(n_samples=4000, seed=0):
    """The article's data: uniform on [-1, 1]^2, label 1 inside the circle of radius 0.5."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(n_samples, 2)).astype(np.float32)
    y = ((X**2).sum(axis=1) <= 0.25).astype(np.float32).reshape(-1, 1)
    return X, y


def rings_data(n_samples=3000, seed=1):
    """Three classes by radius: r < 0.45, 0.45 <= r < 0.8, r >= 0.8 (integer labels).

    3000 samples is 93 full batches of 32 and a last one of 24, so the
    batch-size weighting of the logged epoch loss is exercised too.
    """
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(n_samples, 2)).astype(np.float32)
    r = np.sqrt((X**2).sum(axis=1))
    labels = np.digitize(r, [0.45, 0.8])
    return X, labels


# ---------------------------------------------------------------------- configurations
@dataclass
class Config:
    hidden: list[tuple[int, str]]
    output: tuple[int, str]
    loss: str | tuple[str, dict]  # a name, or a loss class name shared by both and its options
    optimizer: tuple[str, dict]  # class name shared by both libraries, keyword arguments
    epochs: int = 20
    regularizer: tuple[str, float] | None = None  # ("l1" | "l2", factor), on every kernel
    data: str = "circle"
    extra: dict = field(default_factory=dict)


SGD_001 = ("SGD", {"learning_rate": 0.01})

CONFIGS = {
    "tanh_hidden": Config([(8, "tanh")], (1, "sigmoid"), "binary_crossentropy", SGD_001),
    "sigmoid_hidden": Config([(8, "sigmoid")], (1, "sigmoid"), "binary_crossentropy", SGD_001),
    "leaky_relu_hidden": Config(
        [(8, "leaky_relu")], (1, "sigmoid"), "binary_crossentropy", SGD_001
    ),
    "two_hidden": Config(
        [(8, "relu"), (8, "relu")], (1, "sigmoid"), "binary_crossentropy", SGD_001
    ),
    "sgd_momentum": Config(
        [(8, "relu")],
        (1, "sigmoid"),
        "binary_crossentropy",
        ("SGD", {"learning_rate": 0.01, "momentum": 0.9}),
    ),
    "sgd_nesterov": Config(
        [(8, "relu")],
        (1, "sigmoid"),
        "binary_crossentropy",
        ("SGD", {"learning_rate": 0.01, "momentum": 0.9, "nesterov": True}),
    ),
    "adam": Config([(8, "relu")], (1, "sigmoid"), "binary_crossentropy", ("Adam", {})),
    "rmsprop": Config([(8, "relu")], (1, "sigmoid"), "binary_crossentropy", ("RMSprop", {})),
    "rmsprop_momentum": Config(
        [(8, "relu")],
        (1, "sigmoid"),
        "binary_crossentropy",
        ("RMSprop", {"momentum": 0.9}),
    ),
    # Adagrad's default rate (0.001) barely moves the weights in 20 epochs.
    "adagrad": Config(
        [(8, "relu")], (1, "sigmoid"), "binary_crossentropy", ("Adagrad", {"learning_rate": 0.05})
    ),
    "l2_regularizer": Config(
        [(8, "relu")], (1, "sigmoid"), "binary_crossentropy", SGD_001, regularizer=("l2", 0.01)
    ),
    "l1_regularizer": Config(
        [(8, "relu")], (1, "sigmoid"), "binary_crossentropy", SGD_001, regularizer=("l1", 0.001)
    ),
    "sigmoid_mse": Config([(8, "tanh")], (1, "sigmoid"), "mse", ("SGD", {"learning_rate": 0.1})),
    "softmax_categorical": Config(
        [(16, "relu")],
        (3, "softmax"),
        "categorical_crossentropy",
        ("SGD", {"learning_rate": 0.05}),
        data="rings",
    ),
    "softmax_sparse": Config(
        [(16, "relu")],
        (3, "softmax"),
        "sparse_categorical_crossentropy",
        ("SGD", {"learning_rate": 0.05}),
        data="rings",
    ),
}


def make_data(config: Config):
    if config.data == "circle":
        return circle_data()
    X, labels = rings_data()
    if "sparse" in str(config.loss).lower():
        return X, labels
    return X, np.eye(3, dtype=np.float32)[labels]


def build_ours(config: Config, engine: str, seed=0) -> Sequential:
    """Our model, compiled and built; the same seed gives the same initial weights."""
    regularizer = None
    if config.regularizer is not None:
        kind, factor = config.regularizer
        regularizer = {"l1": L1, "l2": L2}[kind](factor)
    units = [*config.hidden, config.output]
    model = Sequential(
        [
            Dense(
                n, act, kernel_regularizer=regularizer, **({"input_shape": (2,)} if i == 0 else {})
            )
            for i, (n, act) in enumerate(units)
        ],
        seed=seed,
    )
    name, kwargs = config.optimizer
    optimizer = {"SGD": SGD, "Adam": Adam, "RMSprop": RMSprop, "Adagrad": Adagrad}[name](**kwargs)
    model.compile(optimizer, make_loss(losses, config.loss), metrics=["accuracy"], engine=engine)
    return model


def build_keras(keras, config: Config, weights):
    """The same network in Keras, starting from ``weights``."""
    regularizer = None
    if config.regularizer is not None:
        kind, factor = config.regularizer
        regularizer = {"l1": keras.regularizers.L1, "l2": keras.regularizers.L2}[kind](factor)
    model = keras.Sequential(
        [keras.Input((2,))]
        + [
            keras.layers.Dense(n, act, kernel_regularizer=regularizer)
            for n, act in [*config.hidden, config.output]
        ]
    )
    name, kwargs = config.optimizer
    loss = make_loss(keras.losses, config.loss)
    model.compile(getattr(keras.optimizers, name)(**kwargs), loss, metrics=["accuracy"])
    model.set_weights(weights)
    return model


def make_loss(module, loss):
    """A loss name as it is, or ``(class name, options)`` built from ``module``."""
    return loss if isinstance(loss, str) else getattr(module, loss[0])(**loss[1])


def train_and_compare(keras, config: Config, validation=None, engines=ENGINES) -> dict:
    """Train Keras once and each of our engines from the same weights; compare everything.

    Returns, per engine, the largest relative and absolute weight differences.
    """
    X, y = make_data(config)
    fit_kwargs = dict(
        epochs=config.epochs,
        batch_size=BATCH_SIZE,
        shuffle=False,
        verbose=0,
        validation_data=validation,
    )
    initial = build_ours(config, "numpy").get_weights()
    theirs = build_keras(keras, config, initial)
    keras_history = theirs.fit(X, y, **fit_kwargs).history
    keras_final = theirs.get_weights()
    keras_evaluation = theirs.evaluate(X, y, batch_size=BATCH_SIZE, verbose=0)
    keras_predictions = theirs.predict(X, batch_size=BATCH_SIZE, verbose=0)
    for w0, w in zip(initial, keras_final):
        # Training really moved every array far beyond the tolerance.
        assert np.max(np.abs(w - w0)) > 100 * WEIGHT_ATOL

    discrepancies = {}
    for engine in engines:
        ours = build_ours(config, engine)
        for w0, w in zip(initial, ours.get_weights()):
            np.testing.assert_array_equal(w0, w)
        history = ours.fit(X, y, **fit_kwargs).history
        final = ours.get_weights()
        for i, (a, b) in enumerate(zip(final, keras_final)):
            np.testing.assert_allclose(
                a, b, rtol=WEIGHT_RTOL, atol=WEIGHT_ATOL, err_msg=f"{engine}: weight {i}"
            )
        assert sorted(history) == sorted(keras_history)
        for key, values in history.items():
            assert len(values) == config.epochs
            np.testing.assert_allclose(
                values, keras_history[key], rtol=HISTORY_RTOL, err_msg=f"{engine}: {key}"
            )
        np.testing.assert_allclose(
            ours.evaluate(X, y, verbose=0), keras_evaluation, rtol=HISTORY_RTOL, err_msg=engine
        )
        # A prediction is a sum of terms as large as the largest outputs (logits up to
        # about 10 here): one near 0 keeps their rounding, so the absolute tolerance
        # scales with the outputs (a BLAS of another CPU rounds the terms otherwise).
        scale = max(1.0, float(np.abs(keras_predictions).max()))
        np.testing.assert_allclose(
            ours.predict(X, verbose=0),
            keras_predictions,
            rtol=WEIGHT_RTOL,
            atol=WEIGHT_ATOL * scale,
            err_msg=engine,
        )
        discrepancies[engine] = {
            "relative": max(
                float(np.max(np.abs(a - b) / np.abs(b))) for a, b in zip(final, keras_final)
            ),
            "absolute": max(float(np.max(np.abs(a - b))) for a, b in zip(final, keras_final)),
        }
    return discrepancies


# ---------------------------------------------------------------------- tests
def test_article_network_matches_keras_after_50_epochs(keras):
    """Dense(8, relu) -> Dense(1, sigmoid), SGD(0.01), binary cross-entropy, 50 epochs."""
    config = Config([(8, "relu")], (1, "sigmoid"), "binary_crossentropy", SGD_001, epochs=50)
    validation = circle_data(1000, seed=7)
    train_and_compare(keras, config, validation=validation)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_variant_matches_keras(keras, name):
    train_and_compare(keras, CONFIGS[name])


OPTIMIZER_CASES = [
    ("SGD", {}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True}),
    ("Adam", {}),
    ("Adam", {"learning_rate": 0.1, "beta_1": 0.5, "beta_2": 0.9, "epsilon": 1e-3}),
    ("RMSprop", {}),
    ("RMSprop", {"learning_rate": 0.1, "rho": 0.5, "momentum": 0.9, "epsilon": 1e-3}),
    ("Adagrad", {}),
    ("Adagrad", {"learning_rate": 0.1, "initial_accumulator_value": 0.5, "epsilon": 1e-3}),
    ("Adam", {"learning_rate": 0.1, "amsgrad": True}),
    ("AdamW", {}),
    ("AdamW", {"learning_rate": 0.1, "weight_decay": 0.1, "beta_1": 0.5, "amsgrad": True}),
    ("RMSprop", {"learning_rate": 0.1, "centered": True, "momentum": 0.5}),
    ("Adamax", {}),
    ("Adamax", {"learning_rate": 0.1, "beta_1": 0.5, "beta_2": 0.9, "epsilon": 1e-3}),
    ("Nadam", {}),
    ("Nadam", {"learning_rate": 0.1, "beta_1": 0.8, "beta_2": 0.9, "epsilon": 1e-3}),
    ("Adadelta", {"learning_rate": 1.0}),
    ("Adadelta", {"learning_rate": 1.0, "rho": 0.5, "epsilon": 1e-3}),
    ("Lion", {}),
    ("Lion", {"learning_rate": 0.1, "beta_1": 0.5, "beta_2": 0.9}),
    # Keras's common keywords: clipping (the gradients here have norms about 2) and decay.
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9, "clipnorm": 0.5}),
    ("Adam", {"clipvalue": 0.3, "weight_decay": 0.05}),
    ("RMSprop", {"global_clipnorm": 0.7}),
    ("Adagrad", {"learning_rate": 0.1, "weight_decay": 0.2}),
]


@pytest.mark.parametrize(("name", "kwargs"), OPTIMIZER_CASES)
def test_optimizer_steps_match_keras_optimizer(keras, name, kwargs):
    """Ten steps on fixed gradients give the same variables as Keras's own optimizer."""
    rng = np.random.default_rng(3)
    shapes = [(3, 2), (2,)]
    params = [rng.normal(size=s).astype(np.float32) for s in shapes]
    gradients = [[rng.normal(size=s).astype(np.float32) for s in shapes] for _ in range(10)]
    variables = [keras.Variable(p) for p in params]
    ours = getattr(optimizers, name)(**kwargs)
    theirs = getattr(keras.optimizers, name)(**kwargs)
    for grads in gradients:
        ours.step(params, grads)
        theirs.apply_gradients(zip(grads, variables))
    for p, v in zip(params, variables):
        np.testing.assert_allclose(p, keras.ops.convert_to_numpy(v), rtol=1e-6, atol=1e-7)


# ---------------------------------------------------------------------- activations and losses
# What the compiled engine does not run: each trains on NumPy against Keras, from the
# same weights on the same batches.  Labels are the circle's 0/1 (or the rings' classes).
SGD_01 = ("SGD", {"learning_rate": 0.1})
NUMPY_CONFIGS = {
    **{
        f"{act}_hidden": Config([(8, act)], (1, "sigmoid"), "binary_crossentropy", SGD_01)
        for act in (
            "elu",
            "selu",
            "gelu",
            "swish",
            "softplus",
            "softsign",
            "relu6",
            "hard_sigmoid",
            "hard_silu",
            "mish",
        )
    },
    **{
        loss: Config([(8, "tanh")], (1, "sigmoid"), loss, SGD_01)
        for loss in ("mae", "msle", "huber", "log_cosh", "poisson", "kl_divergence")
    },
    # The hinge's gradient jumps where a sample reaches the margin, so a last-bit
    # difference decides a step once in a while: after 10 epochs the two runs part
    # by 1e-4 (they agree to 1e-7 for 6).
    "hinge": Config([(8, "tanh")], (1, "linear"), "hinge", SGD_001, epochs=6),
    "squared_hinge": Config([(8, "tanh")], (1, "linear"), "squared_hinge", SGD_001),
    **{
        loss: Config([(16, "relu")], (3, "softmax"), loss, SGD_01, data="rings")
        for loss in ("categorical_hinge", "cosine_similarity")
    },
    "bce_from_logits": Config(
        [(8, "relu")], (1, "linear"), ("BinaryCrossentropy", {"from_logits": True}), SGD_01
    ),
    "bce_label_smoothing": Config(
        [(8, "relu")], (1, "sigmoid"), ("BinaryCrossentropy", {"label_smoothing": 0.1}), SGD_01
    ),
    "cce_from_logits": Config(
        [(16, "relu")],
        (3, "linear"),
        ("CategoricalCrossentropy", {"from_logits": True}),
        SGD_001,  # predicted logits stay small: compared with the weights' tolerance
        data="rings",
    ),
    "cce_label_smoothing": Config(
        [(16, "relu")],
        (3, "softmax"),
        ("CategoricalCrossentropy", {"label_smoothing": 0.2}),
        SGD_01,
        data="rings",
    ),
    "scce_from_logits": Config(
        [(16, "relu")],
        (3, "linear"),
        ("SparseCategoricalCrossentropy", {"from_logits": True}),
        SGD_001,  # predicted logits stay small: compared with the weights' tolerance
        data="rings",
    ),
}


@pytest.mark.parametrize("name", list(NUMPY_CONFIGS))
def test_activation_or_loss_variant_matches_keras(keras, name):
    train_and_compare(keras, NUMPY_CONFIGS[name], engines=["numpy"])
