"""The layers Keras tutorials use besides Dense (Dropout, Activation,
BatchNormalization), Dense's Keras options, and Sequential's structure methods.

Gradients are checked by central finite differences; behaviour by parity with
real Keras on the same weights and batches (tests marked ``keras``).
"""

from __future__ import annotations

import numpy as np
import pytest

from backprop_lab.engine import activations
from backprop_lab.engine.gradcheck import TOLERANCE, check_gradients, relative_error
from backprop_lab.engine.layers import Activation, BatchNormalization, Dense, Dropout, Input
from backprop_lab.engine.model import Sequential, architecture, problem_kind
from backprop_lab.engine.optimizers import Adam
from backprop_lab.engine.regularizers import L1L2


def float64_model(layers, loss, seed=0):
    model = Sequential(layers, seed=seed, dtype="float64")
    model.compile("sgd", loss)
    return model


def data(n=12, d=3, k=None, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = rng.integers(0, k or 2, n)
    return X, y


def assert_gradients_match(model, X, y):
    Y = model.loss.prepare_targets(y, model.layers[-1].units, model.dtype)
    rows = check_gradients(model, X, Y)
    assert rows and all(row["max"] < TOLERANCE for row in rows), rows
    return rows


def keras_module():
    return pytest.importorskip("keras")


# --------------------------------------------------------------------------- finite differences
def test_dense_without_bias_has_only_a_kernel_and_its_gradient_is_right():
    model = float64_model(
        [Dense(4, "tanh", use_bias=False, input_shape=(3,)), Dense(1, "sigmoid")],
        "binary_crossentropy",
    )
    first = model.layers[0]
    assert first.b is None and len(first.params) == len(first.weights) == 1
    assert first.options() == {"use_bias": False}
    rows = assert_gradients_match(model, *data())
    assert set(rows[0]) == {"layer", "kernel", "max"}


def test_bias_regularizer_adds_its_penalty_and_gradient():
    model = float64_model(
        [Dense(3, "tanh", bias_regularizer=L1L2(l1=0.1, l2=0.2), input_shape=(2,)), Dense(1)],
        "mse",
    )
    first = model.layers[0]
    first.b[...] = [0.5, -1.0, 2.0]
    assert model.penalty() == pytest.approx(0.1 * 3.5 + 0.2 * 5.25)
    assert "bias_regularizer" in first.options()  # the compiled engine does not run it
    X, _ = data(d=2)
    assert_gradients_match(model, X, np.random.default_rng(0).normal(size=len(X)))


def test_dropout_gradient_with_the_mask_fixed():
    model = float64_model(
        [Dense(6, "tanh", input_shape=(3,)), Dropout(0.5), Dense(3, "softmax")],
        "sparse_categorical_crossentropy",
    )
    X, y = data(k=3)
    rows = assert_gradients_match(model, X, y)
    assert len(rows) == 2  # the Dropout layer has no parameters
    mask = model.layers[1].mask
    assert 0 < mask.mean() < 1  # some units were really dropped


def test_activation_layers_gradient_including_the_fused_sigmoid_output():
    model = float64_model(
        [Dense(5, input_shape=(3,)), Activation("tanh"), Dense(1), Activation("sigmoid")],
        "binary_crossentropy",
    )
    assert model.loss.fuses_with == "sigmoid" and problem_kind(model) == "binary"
    assert_gradients_match(model, *data())


@pytest.mark.parametrize(("center", "scale"), [(True, True), (False, True), (True, False)])
def test_batch_normalization_gradients_of_gamma_beta_and_the_weights_before_it(center, scale):
    model = float64_model(
        [
            Dense(5, input_shape=(3,)),
            BatchNormalization(center=center, scale=scale),
            Activation("tanh"),
            Dense(1),
        ],
        "mse",
    )
    bn = model.layers[1]
    rng = np.random.default_rng(1)
    for p in bn.params:  # away from gamma = 1, beta = 0
        p[...] = rng.uniform(0.5, 1.5, p.shape)
    X, _ = data()
    y = rng.normal(size=len(X))
    moving = [w.copy() for w in bn.state]
    rows = assert_gradients_match(model, X, y)
    assert set(rows[1]) == {"layer", *bn.param_names, "max"}
    for w, before in zip(bn.state, moving):  # the check puts the moving statistics back
        np.testing.assert_array_equal(w, before)


def test_batch_normalization_input_gradient_by_finite_differences():
    """``dX`` through the batch statistics, for L = sum(G * A) with a fixed G."""
    bn = BatchNormalization()
    bn.build(4, np.random.default_rng(0), np.float64)
    rng = np.random.default_rng(2)
    bn.gamma[...] = rng.uniform(0.5, 2, 4)
    bn.beta[...] = rng.normal(size=4)
    X, G = rng.normal(size=(7, 4)), rng.normal(size=(7, 4))
    bn.forward(X)
    dX = bn.backward(G)
    numeric, eps = np.zeros_like(X), 1e-6
    for i in np.ndindex(X.shape):
        up, down = X.copy(), X.copy()
        up[i] += eps
        down[i] -= eps
        numeric[i] = ((bn.forward(up) - bn.forward(down)) * G).sum() / (2 * eps)
    assert relative_error(dX, numeric) < 1e-6
    np.testing.assert_allclose(dX.sum(axis=0), 0, atol=1e-12)  # shifting X changes nothing


# --------------------------------------------------------------------------- behaviour
def test_dropout_is_the_identity_at_inference_and_keeps_the_mean_while_training():
    model = Sequential([Dropout(0.3, input_shape=(50,))], seed=0)
    X = np.ones((4000, 50), np.float32)
    np.testing.assert_array_equal(model.apply(X), X)
    np.testing.assert_array_equal(model.predict(X, verbose=0), X)
    A = model.forward(X)
    assert set(np.unique(A)) == {0.0, np.float32(1 / 0.7)}
    assert abs((A == 0).mean() - 0.3) < 0.005
    assert abs(A.mean() - 1.0) < 0.01
    dA = np.full_like(X, 2.0)
    np.testing.assert_array_equal(model.layers[0].backward(dA), dA * (A != 0) / np.float32(0.7))


def test_dropout_masks_come_from_the_model_seed_or_the_layer_seed():
    X = np.ones((5, 8))

    def masks(model_seed, layer_seed=None):
        model = Sequential([Dropout(0.5, seed=layer_seed, input_shape=(8,))], seed=model_seed)
        return model.forward(X)

    np.testing.assert_array_equal(masks(1), masks(1))
    assert not np.array_equal(masks(1), masks(2))
    np.testing.assert_array_equal(masks(1, layer_seed=7), masks(2, layer_seed=7))


def test_rate_zero_and_one_as_keras():
    X = np.arange(6.0).reshape(2, 3)
    keep = Sequential([Dropout(0.0, input_shape=(3,))], seed=0)
    drop = Sequential([Dropout(1.0, input_shape=(3,))], seed=0)
    np.testing.assert_array_equal(keep.forward(X), X)
    np.testing.assert_array_equal(drop.forward(X), np.zeros_like(X))
    np.testing.assert_array_equal(drop.layers[0].backward(X), np.zeros_like(X))


def test_batch_normalization_uses_batch_statistics_to_train_and_moving_ones_to_infer():
    bn = BatchNormalization(momentum=0.9, epsilon=1e-3)
    bn.build(3, np.random.default_rng(0), np.float64)
    X = np.random.default_rng(0).normal(2.0, 3.0, size=(50, 3))
    A = bn.forward(X)
    np.testing.assert_allclose(A.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(A.var(axis=0), X.var(axis=0) / (X.var(axis=0) + 1e-3))
    np.testing.assert_allclose(bn.moving_mean, 0.1 * X.mean(axis=0))
    np.testing.assert_allclose(bn.moving_variance, 0.9 + 0.1 * X.var(axis=0))
    expected = (X - bn.moving_mean) / np.sqrt(bn.moving_variance + 1e-3)
    np.testing.assert_allclose(bn.apply(X), expected)


def test_activation_layer_accepts_every_activation_name():
    Z = np.linspace(-2, 2, 12).reshape(3, 4)
    for name in activations.ACTIVATIONS:
        layer = Activation(name)
        layer.build(4, None, np.float64)
        np.testing.assert_array_equal(layer.apply(Z), activations.get(name)(Z))


def test_a_final_activation_layer_is_the_models_output_activation():
    """Dense(1) + Activation("sigmoid") trains exactly like Dense(1, "sigmoid")."""
    X, y = data(n=20, d=2)
    bce = "binary_crossentropy"
    split = float64_model([Dense(1, input_shape=(2,)), Activation("sigmoid")], bce)
    assert problem_kind(split) == "binary"
    fused = float64_model([Dense(1, "sigmoid", input_shape=(2,))], bce)
    split.set_weights(fused.get_weights())
    for model in (split, fused):
        model.fit(X, y, epochs=2, batch_size=5, shuffle=False, verbose=0)
    for a, b in zip(split.get_weights(), fused.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_problem_kind_looks_through_a_final_dropout():
    model = Sequential([Dense(3, "softmax", input_shape=(2,)), Dropout(0.2)])
    assert problem_kind(model) == "classes"
    model = Sequential([Dense(1, input_shape=(2,)), BatchNormalization()])
    assert problem_kind(model) == "regression"


def test_a_model_with_every_layer_learns_the_circle_on_the_numpy_engine():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (1000, 2))
    y = ((X**2).sum(axis=1) < 0.5).astype(int)
    model = Sequential(
        [
            Dense(16, input_dim=2),
            BatchNormalization(),
            Activation("relu"),
            Dropout(0.1),
            Dense(1, "sigmoid"),
        ],
        seed=0,
    )
    model.compile(Adam(0.01), "binary_crossentropy", metrics=["accuracy"])
    model.fit(X[:700], y[:700], epochs=100, batch_size=32, verbose=0)
    assert model.engine_used == "numpy"
    loss, accuracy = model.evaluate(X[700:], y[700:], verbose=0)
    assert accuracy > 0.95, accuracy
    assert model.layers[1].moving_mean.any()  # the moving statistics followed training


def test_the_compiled_engine_refuses_what_it_cannot_run_and_auto_falls_back():
    model = Sequential([Dense(4, "relu", use_bias=False, input_shape=(2,)), Dense(1)], seed=0)
    with pytest.raises(ValueError, match="use_bias=False"):
        model.compile("sgd", "mse", engine="compiled")
    model = Sequential([Dense(4, input_shape=(2,)), Dropout(0.5), Dense(1)], seed=0)
    with pytest.raises(ValueError, match=r"layer 1 \(Dropout\)"):
        model.compile("sgd", "mse", engine="compiled")
    model.compile("sgd", "mse")
    model.fit(np.zeros((4, 2)), np.zeros(4), verbose=0)
    assert model.engine_used == "numpy"


# --------------------------------------------------------------------------- Sequential structure
def bn_model():
    return Sequential(
        [
            Input((3,)),
            Dense(4, name="hidden"),
            BatchNormalization(name="norm"),
            Activation("relu", name="act"),
            Dropout(0.2, name="drop"),
            Dense(1, "sigmoid", name="out"),
        ],
        seed=0,
    )


def test_weights_trainable_and_non_trainable_in_keras_order():
    model = bn_model()
    shapes = [w.shape for w in model.weights]
    assert shapes == [(3, 4), (4,), (4,), (4,), (4,), (4,), (4, 1), (1,)]
    bn = model.get_layer("norm")
    expected = [bn.gamma, bn.beta, bn.moving_mean, bn.moving_variance]
    assert all(a is b for a, b in zip(model.weights[2:6], expected, strict=True))
    assert bn.weight_names == ("gamma", "beta", "moving_mean", "moving_variance")
    assert model.layers[0].weight_names == ("kernel", "bias")
    assert [w.shape for w in model.trainable_weights] == [(3, 4), (4,), (4,), (4,), (4, 1), (1,)]
    moving = zip(model.non_trainable_weights, [bn.moving_mean, bn.moving_variance], strict=True)
    assert all(a is b for a, b in moving)
    assert model.count_params() == (3 * 4 + 4) + 4 * 4 + (4 + 1)
    other = [w + 1 for w in model.get_weights()]
    model.set_weights(other)
    for w, o in zip(model.weights, other):
        np.testing.assert_array_equal(w, o)
    X = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    np.testing.assert_array_equal(model.apply(X, model.get_weights()), model.apply(X))
    assert bn.get_weights()[3] is not bn.moving_variance  # copies
    bn.set_weights([np.full(4, 2.0)] * 4)
    np.testing.assert_array_equal(bn.moving_variance, 2.0)
    with pytest.raises(ValueError, match="norm expects weights of shapes"):
        bn.set_weights([np.ones(4)] * 2)


def test_get_layer_and_pop_as_keras():
    model = bn_model()
    assert model.get_layer("act") is model.layers[2]
    assert model.get_layer(index=4) is model.layers[4]
    with pytest.raises(ValueError, match=r"No such layer: nope. Existing layers are: \['hidden'"):
        model.get_layer("nope")
    with pytest.raises(ValueError, match="retrieve layer at index 9 but model only has 5 layers"):
        model.get_layer(index=9)
    with pytest.raises(ValueError, match="Provide only a layer name or a layer index"):
        model.get_layer("act", 1)
    with pytest.raises(ValueError, match="Provide either a layer name or layer index"):
        model.get_layer()
    last = model.pop()
    assert last.name == "out" and len(model.layers) == 4
    model.add(Dense(2, "softmax"))
    assert model.built and model.layers[-1].W.shape == (4, 2)
    assert problem_kind(model) == "binary"


def test_automatic_names_follow_keras():
    first, second = Dropout(0.1), Dropout(0.1)
    base = first.name
    assert base.startswith("dropout")
    n = 0 if base == "dropout" else int(base.rsplit("_", 1)[1])
    assert second.name == f"dropout_{n + 1}"
    assert BatchNormalization().name.startswith("batch_normalization")


def test_summary_config_and_architecture_cover_every_layer():
    model = bn_model()
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    for expected in (
        "hidden (Dense, linear)",
        "norm (BatchNormalization)",
        "act (Activation, relu)",
        "drop (Dropout)",
        "Total params: 37",
        "Trainable params: 29",
        "Non-trainable params: 8",
    ):
        assert expected in text, text
    config = model.get_config()
    assert [entry["class_name"] for entry in config["layers"]] == [
        "Dense",
        "BatchNormalization",
        "Activation",
        "Dropout",
        "Dense",
    ]
    assert config["layers"][1]["config"]["momentum"] == 0.99
    assert config["layers"][3]["config"]["rate"] == 0.2
    assert (
        architecture(config) == "3 → 4 linear → BatchNormalization → relu → dropout 0.2 → 1 sigmoid"
    )
    old_run_folder = {"n_features": 2, "layers": [{"units": 8, "activation": "relu"}]}
    assert architecture(old_run_folder) == "2 → 8 relu"


def test_input_dim_and_input_shape():
    model = Sequential([Dense(4, input_dim=3), Dense(1)])
    assert model.n_features == 3 and model.layers[0].W.shape == (3, 4)
    assert (model.input_shape, model.output_shape) == ((None, 3), (None, 1))
    with pytest.raises(ValueError, match="no defined input shape yet"):
        _ = Sequential([Dense(2)]).input_shape
    model = Sequential([Dropout(0.5, input_shape=(3,)), Dense(1)])
    assert model.built and model.n_features == 3
    model = Sequential([Input((3,), dtype="float64"), Dense(1)])
    assert model.built and model.layers[0].W.dtype == np.float64


# --------------------------------------------------------------------------- errors
@pytest.mark.parametrize("units", [2.5, None, "64", 0, -3])
def test_bad_units_raise_keras_value_error(units):
    with pytest.raises(ValueError, match=r"^Received an invalid value for `units`"):
        Dense(units)


@pytest.mark.parametrize("rate", [-0.1, 1.5])
def test_bad_dropout_rate_raises_keras_value_error(rate):
    with pytest.raises(ValueError, match=r"^Invalid value received for argument `rate`"):
        Dropout(rate)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: Dense(2, kernel_constraint="max_norm"), "kernel_constraint"),
        (lambda: Dense(2, activity_regularizer="l2"), "activity_regularizer"),
        (lambda: Dense(2, trainable=False), "trainable=False"),
        (lambda: setattr(Dense(2), "trainable", False), "trainable=False"),
        (lambda: Dense(2)(np.ones((1, 2))), "functional API"),
        (lambda: Dropout(0.5, noise_shape=(None, 1)), "noise_shape"),
        (lambda: BatchNormalization(renorm=True), "renorm"),
        (lambda: BatchNormalization(axis=0), "axis=0"),
        (lambda: BatchNormalization(gamma_regularizer="l2"), "gamma_regularizer"),
    ],
)
def test_unsupported_keras_options_raise_not_implemented(make, match):
    with pytest.raises(NotImplementedError, match=match):
        make()


@pytest.mark.keras
def test_layer_arguments_match_keras_errors():
    keras = keras_module()
    for units in (2.5, None, "64", 0):
        with pytest.raises(ValueError) as ours:
            Dense(units)
        with pytest.raises(ValueError) as theirs:
            keras.layers.Dense(units)
        assert str(ours.value) == str(theirs.value)
    for rate in (-0.1, 1.5):
        with pytest.raises(ValueError) as ours:
            Dropout(rate)
        with pytest.raises(ValueError) as theirs:
            keras.layers.Dropout(rate)
        assert str(ours.value) == str(theirs.value)


# --------------------------------------------------------------------------- parity with Keras
@pytest.mark.keras
def test_batch_normalization_matches_keras_in_training_and_inference():
    keras = keras_module()
    rng = np.random.default_rng(3)
    X = rng.normal(1.0, 2.0, size=(16, 4)).astype(np.float32)
    start = [rng.uniform(0.5, 1.5, 4).astype(np.float32) for _ in range(4)]
    theirs = keras.layers.BatchNormalization(momentum=0.9, epsilon=0.01)
    theirs.build((None, 4))
    theirs.set_weights(start)
    ours = BatchNormalization(momentum=0.9, epsilon=0.01)
    ours.build(4, np.random.default_rng(0), np.float32)
    ours.set_weights(start)
    np.testing.assert_allclose(ours.forward(X), np.asarray(theirs(X, training=True)), atol=2e-6)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    np.testing.assert_allclose(ours.apply(X), np.asarray(theirs(X, training=False)), atol=2e-6)


@pytest.mark.keras
def test_dense_without_bias_and_activation_layers_match_keras():
    keras = keras_module()
    rng = np.random.default_rng(4)
    X = rng.normal(size=(6, 3)).astype(np.float32)
    theirs = keras.layers.Dense(5, activation="tanh", use_bias=False)
    theirs.build((None, 3))
    ours = Sequential([Dense(5, "tanh", use_bias=False, input_shape=(3,))])
    ours.set_weights(theirs.get_weights())
    assert len(theirs.get_weights()) == 1 and ours.count_params() == theirs.count_params()
    np.testing.assert_allclose(ours.apply(X), np.asarray(theirs(X)), atol=1e-6)
    names = set(activations.ACTIVATIONS) & {"relu", "tanh", "sigmoid", "softmax", "elu", "selu"}
    for name in sorted(names):
        layer = Activation(name)
        layer.build(3, None, np.float32)
        expected = np.asarray(keras.layers.Activation(name)(X))
        np.testing.assert_allclose(layer.apply(X), expected, atol=1e-6, err_msg=name)


@pytest.mark.keras
def test_keras_dropout_draws_the_same_kind_of_mask():
    """Keras's masks come from its own generator; what must match is their law:
    values 0 or 1 / (1 - rate), a fraction ``rate`` of zeros, the identity at inference."""
    keras = keras_module()
    X = np.ones((2000, 50), np.float32)
    theirs = np.asarray(keras.layers.Dropout(0.25, seed=1)(X, training=True))
    ours = Sequential([Dropout(0.25, input_shape=(50,))], seed=1).forward(X)
    for A in (theirs, ours):
        np.testing.assert_allclose(sorted(set(A.ravel().tolist())), [0, 1 / 0.75], rtol=1e-6)
        assert abs((A == 0).mean() - 0.25) < 0.01
    np.testing.assert_array_equal(np.asarray(keras.layers.Dropout(0.25)(X, training=False)), X)


@pytest.mark.keras
def test_one_training_step_of_a_batch_normalized_model_matches_keras():
    """Full-batch SGD: same weights and moving statistics as Keras after two steps."""
    keras = keras_module()
    rng = np.random.default_rng(5)
    X = rng.normal(size=(32, 3)).astype(np.float32)
    y = (X[:, 0] * X[:, 1] > 0).astype(np.float32)
    theirs = keras.Sequential(
        [
            keras.Input((3,)),
            keras.layers.Dense(6),
            keras.layers.BatchNormalization(momentum=0.8),
            keras.layers.Activation("tanh"),
            keras.layers.Dense(1),
            keras.layers.Activation("sigmoid"),
        ]
    )
    theirs.compile(keras.optimizers.SGD(0.5), "binary_crossentropy")
    ours = Sequential(
        [
            Dense(6, input_shape=(3,)),
            BatchNormalization(momentum=0.8),
            Activation("tanh"),
            Dense(1),
            Activation("sigmoid"),
        ]
    )
    ours.compile("sgd", "binary_crossentropy")
    ours.optimizer.learning_rate = 0.5
    ours.set_weights(theirs.get_weights())
    theirs.fit(X, y, batch_size=32, epochs=2, shuffle=False, verbose=0)
    ours.fit(X, y, batch_size=32, epochs=2, shuffle=False, verbose=0)
    assert ours.engine_used == "numpy"
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, atol=2e-5)
    np.testing.assert_allclose(ours.predict(X, verbose=0), theirs.predict(X, verbose=0), atol=1e-5)


# --------------------------------------------------------------------------- runs and pictures
def test_run_folder_tools_handle_a_keras_script_model(tmp_path):
    """Model files and the network picture refuse other layers in one line; the gradient
    recorder measures the Dense kernels and leaves masks and moving statistics alone."""
    from backprop_lab.pictures.network import not_dense, plot_network
    from backprop_lab.runs.modelio import save_model
    from backprop_lab.runs.recording import layer_gradient_norms

    model = Sequential(
        [Dense(4, input_shape=(2,)), BatchNormalization(), Dropout(0.5), Dense(1, "sigmoid")],
        seed=0,
    )
    model.compile("sgd", "binary_crossentropy")
    with pytest.raises(NotImplementedError, match="layer 1 is BatchNormalization.*model.keras"):
        save_model(model, tmp_path)
    assert (
        not_dense(model) == "the picture draws Dense layers only, and layer 1 is BatchNormalization"
    )
    with pytest.raises(ValueError, match="Dense layers only"):
        plot_network(model)
    X = np.random.default_rng(0).normal(size=(8, 2)).astype(np.float32)
    Y = np.ones((8, 1), np.float32)
    state, rng_state = model.get_weights(), model.rng.bit_generator.state
    norms = layer_gradient_norms(model, X, Y)
    assert norms.shape == (2,) and np.all(norms > 0)
    for w, before in zip(model.get_weights(), state):
        np.testing.assert_array_equal(w, before)
    assert model.rng.bit_generator.state == rng_state


@pytest.mark.keras
def test_dropout_matches_keras_on_the_same_mask():
    """Keras's ``random.dropout`` with a fixed seed draws one mask; given that mask, our
    forward output and our ``dX`` are Keras's output and its JAX gradient."""
    keras = keras_module()
    jax = pytest.importorskip("jax")
    rng = np.random.default_rng(6)
    X = rng.uniform(0.5, 1.5, size=(40, 5)).astype(np.float32)  # no zeros: the mask shows
    G = rng.normal(size=X.shape).astype(np.float32)

    def theirs(x):
        return keras.random.dropout(x, 0.4, seed=42)

    expected = np.asarray(theirs(X))
    kept = expected != 0

    class SameMask:  # stands in for the generator: draws below 1 - rate exactly where kept
        def random(self, shape):
            return np.where(kept, 0.0, 0.99)

    layer = Dropout(0.4)
    layer.build(5, None, np.float32)
    layer.rng = SameMask()
    np.testing.assert_allclose(layer.forward(X), expected, rtol=1e-6)
    expected_dX = np.asarray(jax.grad(lambda x: (G * theirs(x)).sum())(X))
    np.testing.assert_allclose(layer.backward(G), expected_dX, rtol=1e-6)
    assert 0.3 < 1 - kept.mean() < 0.5


def test_training_goes_on_after_pop_and_add():
    """The optimizer's slots follow the new weights (Adam keeps one pair per array)."""
    X, y = data(n=16, d=3)
    model = Sequential([Dense(4, "relu", input_shape=(3,)), Dense(1, "sigmoid")], seed=0)
    model.compile("adam", "binary_crossentropy")
    model.fit(X, y, epochs=1, verbose=0)
    model.pop()
    model.add(BatchNormalization())
    model.add(Dense(1, "sigmoid"))
    model.fit(X, y, epochs=1, verbose=0)
    slots = next(iter(model.optimizer.slots.values()))
    assert [s.shape for s in slots] == [p.shape for p in model.params]
