"""Optimizer update rules, checked against numbers worked out by hand.

The engine writes each rule as Keras does; the tests recompute it from the
textbook form of each algorithm (PyTorch's and the papers' notation), which is
algebraically equal but written differently, so a slip in either shows.
"""

from __future__ import annotations

import math
import os

import numpy as np
import pytest

from backprop_lab import SGD, Adagrad, Adam, Dense, RMSprop, Sequential
from backprop_lab.engine import optimizers as optimizers_module
from backprop_lab.engine import schedules
from backprop_lab.engine.optimizers import Adadelta, Adamax, AdamW, Lion, Nadam


# ---------------------------------------------------------------------- whole-network steps
def test_one_sgd_step_on_a_sigmoid_unit_by_hand():
    """One input, one sigmoid unit, binary cross-entropy, two samples, SGD(0.1).

    w = 0.5, b = -1, x = [2, -1], y = [1, 0]:

        z = w x + b                = [0, -1.5]
        p = sigmoid(z)             = [0.5, 0.18242552380635635]
        loss = -(ln 0.5 + ln(1 - 0.18242552)) / 2
             = (0.69314718 + 0.20141328) / 2 = 0.44728022927134886
        dL/dz = (p - y) / 2        = [-0.25, 0.09121276190317817]
        dL/dw = sum(x * dL/dz)     = 2 * -0.25 + -1 * 0.09121276 = -0.5912127619031782
        dL/db = sum(dL/dz)         = -0.15878723809682183
        w' = 0.5 - 0.1 * -0.59121276  = 0.5591212761903178
        b' = -1 - 0.1 * -0.15878724   = -0.9841212761903179

    The logged loss is the loss before the step.
    """
    model = Sequential([Dense(1, "sigmoid", input_shape=(1,))], dtype="float64")
    model.set_weights([np.array([[0.5]]), np.array([-1.0])])
    model.compile(SGD(learning_rate=0.1), "binary_crossentropy")
    history = model.fit([[2.0], [-1.0]], [1, 0], epochs=1, batch_size=2, shuffle=False, verbose=0)

    W, b = model.get_weights()
    assert W[0, 0] == pytest.approx(0.5591212761903178, rel=1e-14)
    assert b[0] == pytest.approx(-0.9841212761903179, rel=1e-14)
    assert history.history["loss"] == [pytest.approx(0.44728022927134886, rel=1e-14)]


def test_one_sgd_step_through_two_layers_by_hand():
    """1 -> relu(1) -> linear(1), mean squared error, two samples, SGD(0.1).

    w1 = 1, b1 = 0.5, w2 = 0.5, b2 = 0, x = [1, 2], y = [1, 0]:

        z1 = a1 = [1.5, 2.5]           (both positive, so relu passes them)
        p = 0.5 a1 = [0.75, 1.25]
        loss = ((0.75 - 1)^2 + 1.25^2) / 2 = (0.0625 + 1.5625) / 2 = 0.8125
        dL/dp = 2 (p - y) / 2          = [-0.25, 1.25]
        dL/dw2 = sum(a1 dL/dp)         = -0.375 + 3.125 = 2.75
        dL/db2 = sum(dL/dp)            = 1.0
        dL/dz1 = w2 dL/dp              = [-0.125, 0.625]
        dL/dw1 = sum(x dL/dz1)         = -0.125 + 1.25 = 1.125
        dL/db1 = sum(dL/dz1)           = 0.5
        w1' = 1 - 0.1125 = 0.8875, b1' = 0.5 - 0.05 = 0.45,
        w2' = 0.5 - 0.275 = 0.225, b2' = 0 - 0.1 = -0.1
    """
    model = Sequential([Dense(1, "relu", input_shape=(1,)), Dense(1, "linear")], dtype="float64")
    model.set_weights([[[1.0]], [0.5], [[0.5]], [0.0]])
    model.compile(SGD(learning_rate=0.1), "mse")
    history = model.fit([[1.0], [2.0]], [1.0, 0.0], batch_size=2, shuffle=False, verbose=0)

    expected = [0.8875, 0.45, 0.225, -0.1]
    np.testing.assert_allclose([w.item() for w in model.get_weights()], expected, rtol=1e-14)
    assert history.history["loss"] == [pytest.approx(0.8125, rel=1e-14)]


# ---------------------------------------------------------------------- rules on fixed gradients
# Each textbook rule maps a sequence of scalar gradients to the parameter after
# each step, starting from w0.
def sgd_textbook(w, gs, lr):
    out = []
    for g in gs:
        w = w - lr * g
        out.append(w)
    return out


def momentum_textbook(w, gs, lr, mu, nesterov=False):
    # PyTorch's form: a buffer of raw gradients, the rate applied outside it.
    # Keras keeps v = -lr * buf instead; the iterates are the same.
    buf, out = 0.0, []
    for g in gs:
        buf = mu * buf + g
        w = w - lr * ((g + mu * buf) if nesterov else buf)
        out.append(w)
    return out


def adam_textbook(w, gs, lr, beta_1, beta_2, eps):
    # Kingma & Ba, Algorithm 1, with bias-corrected moments.  Keras's epsilon is
    # the paper's "epsilon hat" (end of Section 2), i.e. eps / sqrt(1 - beta_2^t)
    # in the form below.
    m = v = 0.0
    out = []
    for t, g in enumerate(gs, start=1):
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g * g
        m_hat, v_hat = m / (1 - beta_1**t), v / (1 - beta_2**t)
        w = w - lr * m_hat / (math.sqrt(v_hat) + eps / math.sqrt(1 - beta_2**t))
        out.append(w)
    return out


def rmsprop_textbook(w, gs, lr, rho, eps, mu=0.0):
    # Hinton's rule with epsilon inside the root (as Keras); momentum as in
    # PyTorch, on the normalised gradient with the rate outside.
    s = buf = 0.0
    out = []
    for g in gs:
        s = rho * s + (1 - rho) * g * g
        buf = mu * buf + g / math.sqrt(s + eps)
        w = w - lr * buf
        out.append(w)
    return out


def adagrad_textbook(w, gs, lr, initial, eps):
    s, out = initial, []
    for g in gs:
        s = s + g * g
        w = w - lr * g / math.sqrt(s + eps)
        out.append(w)
    return out


def amsgrad_textbook(w, gs, lr, beta_1, beta_2, eps):
    # Reddi et al. (2018), Algorithm 2 with Adam's bias corrections and epsilon hat:
    # the maximum of the raw second moments so far replaces v.
    m = v = v_max = 0.0
    out = []
    for t, g in enumerate(gs, start=1):
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g * g
        v_max = max(v_max, v)
        m_hat, v_hat = m / (1 - beta_1**t), v_max / (1 - beta_2**t)
        w = w - lr * m_hat / (math.sqrt(v_hat) + eps / math.sqrt(1 - beta_2**t))
        out.append(w)
    return out


def centered_rmsprop_textbook(w, gs, lr, rho, eps):
    # Graves (2013), eq. 38-40 without momentum: divide by the running standard
    # deviation sqrt(E[g^2] - E[g]^2) instead of the root mean square.
    s = a = 0.0
    out = []
    for g in gs:
        s = rho * s + (1 - rho) * g * g
        a = rho * a + (1 - rho) * g
        w = w - lr * g / math.sqrt(s - a * a + eps)
        out.append(w)
    return out


def adamax_textbook(w, gs, lr, beta_1, beta_2, eps):
    # Kingma & Ba, Algorithm 2 (u_t = max(beta_2 u, |g|)); Keras adds epsilon to u.
    m = u = 0.0
    out = []
    for t, g in enumerate(gs, start=1):
        m = beta_1 * m + (1 - beta_1) * g
        u = max(beta_2 * u, abs(g))
        w = w - (lr / (1 - beta_1**t)) * m / (u + eps)
        out.append(w)
    return out


def nadam_textbook(w, gs, lr, beta_1, beta_2, eps):
    # Dozat (2016), Algorithm 2, with the momentum schedule mu_t = beta_1 (1 - 0.5 * 0.96^t)
    # that Keras uses (Dozat's 0.96^(t/250) with 250 taken as 1).
    def mu(t):
        return beta_1 * (1 - 0.5 * 0.96**t)

    m = v = 0.0
    prod = 1.0  # mu_1 ... mu_t
    out = []
    for t, g in enumerate(gs, start=1):
        prod *= mu(t)
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g * g
        m_bar = (1 - mu(t)) * g / (1 - prod) + mu(t + 1) * m / (1 - prod * mu(t + 1))
        w = w - lr * m_bar / (math.sqrt(v / (1 - beta_2**t)) + eps)
        out.append(w)
    return out


def adadelta_textbook(w, gs, lr, rho, eps):
    # Zeiler (2012), Algorithm 1, the update scaled by lr as Keras does.
    eg2 = edx2 = 0.0
    out = []
    for g in gs:
        eg2 = rho * eg2 + (1 - rho) * g * g
        dx = -math.sqrt(edx2 + eps) / math.sqrt(eg2 + eps) * g
        edx2 = rho * edx2 + (1 - rho) * dx * dx
        w = w + lr * dx
        out.append(w)
    return out


def lion_textbook(w, gs, lr, beta_1, beta_2, wd=0.0):
    # Chen et al. (2023), Program 1: update = sign(interp(g, m, beta_1)), decoupled decay.
    m, out = 0.0, []
    for g in gs:
        c = beta_1 * m + (1 - beta_1) * g
        w = w - lr * (math.copysign(1.0, c) if c != 0 else 0.0) - lr * wd * w
        m = beta_2 * m + (1 - beta_2) * g
        out.append(w)
    return out


def decayed_adam_textbook(w, gs, lr, beta_1, beta_2, eps, wd):
    # Loshchilov & Hutter (2019), Algorithm 2 (AdamW) with schedule multiplier 1: the
    # decay uses the weight before the Adam step, so it is the same as decaying first.
    m = v = 0.0
    out = []
    for t, g in enumerate(gs, start=1):
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g * g
        m_hat, v_hat = m / (1 - beta_1**t), v / (1 - beta_2**t)
        decayed = w - lr * wd * w
        w = decayed - lr * m_hat / (math.sqrt(v_hat) + eps / math.sqrt(1 - beta_2**t))
        out.append(w)
    return out


# Two parameters of different shapes; every element gets its own gradient
# sequence, so state that leaks between elements or parameters shows.
W0 = [np.array([[1.0, -2.0], [0.5, 3.0]]), np.array([0.0, -0.25, 4.0])]
GRADIENTS = [
    [np.array([[0.5, -1.0], [2.0, 1e-3]]), np.array([0.3, -0.7, 5.0])],
    [np.array([[-1.0, 0.2], [2.0, 1e-3]]), np.array([0.0, 0.4, -5.0])],
    [np.array([[2.0, 0.7], [-0.1, 1e-3]]), np.array([-0.6, 0.1, 1.0])],
]

RULES = [
    (lambda: SGD(0.1), lambda w, gs: sgd_textbook(w, gs, 0.1)),
    (lambda: SGD(0.1, momentum=0.9), lambda w, gs: momentum_textbook(w, gs, 0.1, 0.9)),
    (
        lambda: SGD(0.1, momentum=0.9, nesterov=True),
        lambda w, gs: momentum_textbook(w, gs, 0.1, 0.9, nesterov=True),
    ),
    (lambda: Adam(0.1), lambda w, gs: adam_textbook(w, gs, 0.1, 0.9, 0.999, 1e-7)),
    (
        lambda: Adam(0.05, beta_1=0.5, beta_2=0.8, epsilon=0.1),
        lambda w, gs: adam_textbook(w, gs, 0.05, 0.5, 0.8, 0.1),
    ),
    (lambda: RMSprop(0.1), lambda w, gs: rmsprop_textbook(w, gs, 0.1, 0.9, 1e-7)),
    (
        lambda: RMSprop(0.1, rho=0.5, momentum=0.9, epsilon=0.01),
        lambda w, gs: rmsprop_textbook(w, gs, 0.1, 0.5, 0.01, mu=0.9),
    ),
    (lambda: Adagrad(0.1), lambda w, gs: adagrad_textbook(w, gs, 0.1, 0.1, 1e-7)),
    (
        lambda: Adagrad(0.1, initial_accumulator_value=1.0, epsilon=0.5),
        lambda w, gs: adagrad_textbook(w, gs, 0.1, 1.0, 0.5),
    ),
]
RULES += [
    (
        lambda: Adam(0.05, beta_1=0.5, beta_2=0.8, epsilon=0.1, amsgrad=True),
        lambda w, gs: amsgrad_textbook(w, gs, 0.05, 0.5, 0.8, 0.1),
    ),
    (
        lambda: AdamW(0.05, weight_decay=0.3, beta_1=0.5, beta_2=0.8, epsilon=0.1),
        lambda w, gs: decayed_adam_textbook(w, gs, 0.05, 0.5, 0.8, 0.1, 0.3),
    ),
    (
        lambda: RMSprop(0.1, rho=0.5, epsilon=0.01, centered=True),
        lambda w, gs: centered_rmsprop_textbook(w, gs, 0.1, 0.5, 0.01),
    ),
    (
        lambda: Adamax(0.1, beta_1=0.5, beta_2=0.8, epsilon=0.01),
        lambda w, gs: adamax_textbook(w, gs, 0.1, 0.5, 0.8, 0.01),
    ),
    (
        lambda: Nadam(0.1, beta_1=0.5, beta_2=0.8, epsilon=0.01),
        lambda w, gs: nadam_textbook(w, gs, 0.1, 0.5, 0.8, 0.01),
    ),
    (
        lambda: Adadelta(1.0, rho=0.5, epsilon=0.01),
        lambda w, gs: adadelta_textbook(w, gs, 1.0, 0.5, 0.01),
    ),
    (
        lambda: Lion(0.1, beta_1=0.5, beta_2=0.8, weight_decay=0.2),
        lambda w, gs: lion_textbook(w, gs, 0.1, 0.5, 0.8, wd=0.2),
    ),
]
RULE_IDS = [
    "sgd",
    "momentum",
    "nesterov",
    "adam",
    "adam_custom",
    "rmsprop",
    "rmsprop_momentum",
    "adagrad",
    "adagrad_custom",
    "amsgrad",
    "adamw",
    "rmsprop_centered",
    "adamax",
    "nadam",
    "adadelta",
    "lion_decayed",
]


@pytest.mark.parametrize(("make", "textbook"), RULES, ids=RULE_IDS)
def test_three_steps_match_the_textbook_rule(make, textbook):
    optimizer = make()
    params = [w.copy() for w in W0]
    ids = [id(p) for p in params]
    steps = []
    for grads in GRADIENTS:
        optimizer.step(params, grads)
        steps.append([p.copy() for p in params])
    assert [id(p) for p in params] == ids  # updated in place
    assert optimizer.iterations == 3
    for i, w0 in enumerate(W0):
        for index in np.ndindex(w0.shape):
            expected = textbook(w0[index], [g[i][index] for g in GRADIENTS])
            actual = [step[i][index] for step in steps]
            np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-15)


def test_sgd_steps_in_numbers():
    """w0 = 1, gradients 0.5, -1, 2, rate 0.1; momentum and Nesterov with 0.9.

    plain:     1 - 0.05 = 0.95;  0.95 + 0.1 = 1.05;  1.05 - 0.2 = 0.85
    momentum:  v = -0.05, w = 0.95;  v = 0.9 * -0.05 + 0.1 = 0.055, w = 1.005;
               v = 0.0495 - 0.2 = -0.1505, w = 0.8545
    nesterov:  w += 0.9 v - 0.1 g with the new v:
               0.9 * -0.05 - 0.05 = -0.095, w = 0.905;
               0.9 * 0.055 + 0.1 = 0.1495, w = 1.0545;
               0.9 * -0.1505 - 0.2 = -0.33545, w = 0.71905
    """
    expected = {
        (0.0, False): [0.95, 1.05, 0.85],
        (0.9, False): [0.95, 1.005, 0.8545],
        (0.9, True): [0.905, 1.0545, 0.71905],
    }
    for (momentum, nesterov), values in expected.items():
        optimizer = SGD(0.1, momentum=momentum, nesterov=nesterov)
        w = np.array([1.0])
        actual = []
        for g in (0.5, -1.0, 2.0):
            optimizer.step([w], [np.array([g])])
            actual.append(w[0])
        np.testing.assert_allclose(actual, values, rtol=1e-13)


def test_first_steps_in_numbers():
    """First steps from w = 0 with gradient g = 0.5, rate 0.1.

    Adam: m = 0.05, v = 0.00025, so m_hat = 0.5, v_hat = 0.25 and the step is
          0.1 * 0.5 / (0.5 + 1e-7 / sqrt(0.001)) = 0.1 / (1 + 6.3245553e-6): about lr.
    RMSprop: s = 0.1 * 0.25 = 0.025, step = 0.1 * 0.5 / sqrt(0.025 + 1e-7)
          = 0.31622714..., i.e. lr / sqrt(1 - rho) for any g.
    Adagrad: s = 0.1 + 0.25 = 0.35, step = 0.1 * 0.5 / sqrt(0.35 + 1e-7) = 0.08451540...
    """
    cases = [
        (Adam(0.1), 0.1 / (1 + 1e-7 / math.sqrt(0.001) / 0.5)),
        (RMSprop(0.1), 0.05 / math.sqrt(0.025 + 1e-7)),
        (Adagrad(0.1), 0.05 / math.sqrt(0.35 + 1e-7)),
    ]
    for optimizer, step in cases:
        w = np.zeros(1)
        optimizer.step([w], [np.array([0.5])])
        assert w[0] == pytest.approx(-step, rel=1e-13)
    assert cases[1][1] == pytest.approx(0.1 / math.sqrt(0.1), rel=1e-5)
    assert cases[2][1] == pytest.approx(0.0845154, rel=1e-6)


@pytest.mark.parametrize(("make", "textbook"), RULES, ids=RULE_IDS)
def test_float32_parameters_stay_float32(make, textbook):
    optimizer = make()
    params = [w.astype(np.float32) for w in W0]
    for grads in GRADIENTS:
        optimizer.step(params, [g.astype(np.float32) for g in grads])
    assert all(p.dtype == np.float32 for p in params)
    expected = W0[1][2]  # the last element of the bias, float64 recurrence
    expected = textbook(expected, [g[1][2] for g in GRADIENTS])[-1]
    assert params[1][2] == pytest.approx(expected, rel=1e-5)


# ---------------------------------------------------------------------- defaults
DEFAULTS = [
    (SGD, {"learning_rate": 0.01, "momentum": 0.0, "nesterov": False}),
    (Adam, {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}),
    (RMSprop, {"learning_rate": 0.001, "rho": 0.9, "momentum": 0.0, "epsilon": 1e-7}),
    (
        Adagrad,
        {"learning_rate": 0.001, "initial_accumulator_value": 0.1, "epsilon": 1e-7},
    ),
    (
        AdamW,
        {
            "learning_rate": 0.001,
            "weight_decay": 0.004,
            "beta_1": 0.9,
            "beta_2": 0.999,
            "epsilon": 1e-7,
            "amsgrad": False,
        },
    ),
    (Adamax, {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}),
    (Nadam, {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}),
    (Adadelta, {"learning_rate": 0.001, "rho": 0.95, "epsilon": 1e-7}),
    (Lion, {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.99}),
]


@pytest.mark.parametrize(("cls", "defaults"), DEFAULTS, ids=lambda v: getattr(v, "name", ""))
def test_defaults_are_keras_defaults(cls, defaults):
    optimizer = cls()
    assert {k: getattr(optimizer, k) for k in defaults} == defaults
    by_name = optimizers_module.get(cls.name)
    assert type(by_name) is cls
    assert {k: getattr(by_name, k) for k in defaults} == defaults


@pytest.mark.keras
@pytest.mark.parametrize(("cls", "defaults"), DEFAULTS, ids=lambda v: getattr(v, "name", ""))
def test_defaults_equal_keras_objects(cls, defaults):
    os.environ.setdefault("KERAS_BACKEND", "jax")  # before keras's first import
    keras = pytest.importorskip("keras")
    theirs = getattr(keras.optimizers, cls.__name__)()
    for name, value in defaults.items():
        if isinstance(value, bool):
            assert getattr(theirs, name) is value, name
        else:
            # Keras stores the rate as a float32 variable.
            keras_value = float(np.asarray(getattr(theirs, name)))
            assert keras_value == pytest.approx(value, rel=1e-7), name


def test_unknown_optimizer_name_lists_valid_names():
    valid = "adadelta, adagrad, adam, adamax, adamw, lion, nadam, rmsprop, sgd"
    with pytest.raises(ValueError, match=f"unknown optimizer 'adamx'; valid names: {valid}$"):
        optimizers_module.get("adamx")


@pytest.mark.parametrize("name", ["ftrl", "Adafactor", "lamb", "muon"])
def test_optimizer_names_keras_has_and_we_lack_are_not_implemented(name):
    with pytest.raises(NotImplementedError, match=f"optimizer '{name}' is not supported.*adamw"):
        optimizers_module.get(name)


def test_names_are_case_insensitive_as_in_keras():
    assert type(optimizers_module.get("AdamW")) is AdamW
    assert type(optimizers_module.get("RMSprop")) is RMSprop


# ---------------------------------------------------------------------- invalid hyper-parameters
BAD_LEARNING_RATES = [
    (0, ValueError),
    (0.0, ValueError),
    (-0.01, ValueError),
    (float("nan"), ValueError),
    (float("inf"), ValueError),
    (True, TypeError),
    ("0.01", TypeError),
    (None, TypeError),
]


@pytest.mark.parametrize("cls", [SGD, Adam, RMSprop, Adagrad])
@pytest.mark.parametrize(("value", "error"), BAD_LEARNING_RATES)
def test_bad_learning_rate_is_refused(cls, value, error):
    with pytest.raises(error, match="learning_rate"):
        cls(learning_rate=value)


BAD_HYPERPARAMETERS = [
    (SGD, "momentum", -0.1, ValueError),
    (SGD, "momentum", 1.0, ValueError),
    (SGD, "momentum", float("nan"), ValueError),
    (SGD, "momentum", "0.9", TypeError),
    (SGD, "nesterov", "False", TypeError),
    (SGD, "nesterov", 1, TypeError),
    (Adam, "beta_1", 1.0, ValueError),
    (Adam, "beta_1", -0.5, ValueError),
    (Adam, "beta_2", 1.5, ValueError),
    (Adam, "beta_2", True, TypeError),
    (Adam, "epsilon", 0.0, ValueError),
    (Adam, "epsilon", -1e-7, ValueError),
    (Adam, "epsilon", float("inf"), ValueError),
    (RMSprop, "rho", 1.0, ValueError),
    (RMSprop, "rho", -0.1, ValueError),
    (RMSprop, "momentum", 1.0, ValueError),
    (RMSprop, "epsilon", 0.0, ValueError),
    (Adagrad, "initial_accumulator_value", -0.1, ValueError),
    (Adagrad, "initial_accumulator_value", float("inf"), ValueError),
    (Adagrad, "initial_accumulator_value", "0.1", TypeError),
    (Adagrad, "epsilon", float("nan"), ValueError),
    (Adam, "amsgrad", "True", TypeError),
    (RMSprop, "centered", 1, TypeError),
    (AdamW, "weight_decay", None, ValueError),
    (AdamW, "weight_decay", -0.1, ValueError),
    (Adamax, "beta_2", 1.0, ValueError),
    (Nadam, "beta_1", -0.1, ValueError),
    (Adadelta, "rho", 1.0, ValueError),
    (Lion, "beta_1", 0.0, ValueError),
    (Lion, "beta_1", 1.5, ValueError),
    (Lion, "beta_2", 1.0, ValueError),
    (SGD, "weight_decay", -1.0, ValueError),
    (SGD, "weight_decay", "0.1", TypeError),
    (SGD, "clipnorm", 0.0, ValueError),
    (Adam, "clipvalue", -1.0, ValueError),
    (Adam, "global_clipnorm", float("inf"), ValueError),
    (Adam, "clipnorm", "1", TypeError),
    (Adam, "name", 3, TypeError),
]


@pytest.mark.parametrize(
    ("cls", "name", "value", "error"),
    BAD_HYPERPARAMETERS,
    ids=[f"{c.name}-{n}={v!r}" for c, n, v, _ in BAD_HYPERPARAMETERS],
)
def test_bad_hyperparameter_is_refused(cls, name, value, error):
    with pytest.raises(error, match=name):
        cls(**{name: value})


def test_compile_refuses_a_bad_optimizer():
    model = Sequential([Dense(1, "sigmoid", input_shape=(2,))])
    with pytest.raises(ValueError, match="unknown optimizer 'sdg'; valid names: .*sgd"):
        model.compile("sdg", "binary_crossentropy")
    with pytest.raises(TypeError, match="optimizer must be a name or an object"):
        model.compile(0.01, "binary_crossentropy")


@pytest.mark.parametrize(
    "optimizer, slots, hyperparameters",
    [
        (
            SGD(0.1, momentum=0.9),
            ("v",),
            {"learning_rate": 0.1, "momentum": 0.9, "nesterov": False},
        ),
        (
            Adam(),
            ("m", "v"),
            {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
        ),
        (
            RMSprop(),
            ("s", "v"),
            {"learning_rate": 0.001, "rho": 0.9, "momentum": 0.0, "epsilon": 1e-7},
        ),
        (
            Adagrad(),
            ("s",),
            {"learning_rate": 0.001, "initial_accumulator_value": 0.1, "epsilon": 1e-7},
        ),
    ],
)
def test_the_public_state_interface(optimizer, slots, hyperparameters):
    params = [np.ones((2, 3), np.float32), np.zeros(3, np.float32)]
    assert optimizer.slots == {}
    optimizer.step(params, [np.full_like(p, 0.5) for p in params])
    assert optimizer.slot_names == slots and tuple(optimizer.slots) == slots
    for name in slots:
        assert [s.shape for s in optimizer.slots[name]] == [(2, 3), (3,)]
    assert optimizer.hyperparameters() == hyperparameters
    assert optimizer.get_config() == {
        "name": optimizer.name,
        "learning_rate": hyperparameters["learning_rate"],
        **COMMON_DEFAULTS,
        **hyperparameters,
        **({"amsgrad": False} if isinstance(optimizer, Adam) else {}),
        **({"centered": False} if isinstance(optimizer, RMSprop) else {}),
    }
    assert optimizer.options() == {}
    assert type(optimizer).from_config(optimizer.get_config()).get_config() == (
        optimizer.get_config()
    )


# Keras's common keywords and their defaults (BaseOptimizer.get_config's order).
COMMON_DEFAULTS = {
    "weight_decay": None,
    "clipnorm": None,
    "global_clipnorm": None,
    "clipvalue": None,
    "use_ema": False,
    "ema_momentum": 0.99,
    "ema_overwrite_frequency": None,
    "loss_scale_factor": None,
    "gradient_accumulation_steps": None,
}


def test_adagrad_accumulator_starts_at_its_initial_value():
    opt = Adagrad(initial_accumulator_value=0.25)
    w, g = np.zeros(3), np.full(3, 0.5)
    opt.step([w], [g])
    np.testing.assert_array_equal(opt.slots["s"][0], 0.25 + 0.5**2)


# ---------------------------------------------------------------------- Keras's common keywords
def test_weight_decay_then_the_rule_by_hand():
    """SGD(0.1, weight_decay=0.5), w = 2, g = 1: Keras decays first, with the step's rate.

    w = 2 - 2 * 0.5 * 0.1 = 1.9;  then w = 1.9 - 0.1 * 1 = 1.8
    (decaying after the rule would give 1.9 - 1.9 * 0.05 = 1.805).
    """
    w = np.array([2.0])
    SGD(0.1, weight_decay=0.5).step([w], [np.array([1.0])])
    assert w[0] == pytest.approx(1.8, rel=1e-15)


def test_clipping_comes_before_weight_decay_and_leaves_the_gradients_alone():
    """SGD(0.1, clipnorm=1, weight_decay=0.5) on w = [2, 0], g = [3, 4] (norm 5):

    g -> [3, 4] / 5 = [0.6, 0.8];  w -> [1.9, 0] - 0.1 * [0.6, 0.8] = [1.84, -0.08]
    """
    w, g = np.array([2.0, 0.0]), np.array([3.0, 4.0])
    SGD(0.1, clipnorm=1.0, weight_decay=0.5).step([w], [g])
    np.testing.assert_allclose(w, [1.84, -0.08], rtol=1e-14)
    np.testing.assert_array_equal(g, [3.0, 4.0])  # the caller's gradient is not clipped in place


def test_the_three_clip_options_by_hand():
    """Gradients [3, 4] (norm 5) and [12] (norm 12); together norm 13.

    clipnorm=6:         [3, 4] stays, [12] -> [6]
    clipvalue=3.5:      [3, 3.5] and [3.5]
    global_clipnorm=6.5: everything times 6.5 / 13 = 0.5 -> [1.5, 2] and [6]
    """
    grads = [np.array([3.0, 4.0]), np.array([12.0])]
    cases = [
        ({"clipnorm": 6.0}, [[3.0, 4.0], [6.0]]),
        ({"clipvalue": 3.5}, [[3.0, 3.5], [3.5]]),
        ({"global_clipnorm": 6.5}, [[1.5, 2.0], [6.0]]),
        ({"global_clipnorm": 20.0}, [[3.0, 4.0], [12.0]]),
    ]
    for kwargs, expected in cases:
        clipped = SGD(**kwargs).clip_gradients(grads)
        for c, e in zip(clipped, expected):
            np.testing.assert_allclose(c, e, rtol=1e-15)


def test_global_clipnorm_of_an_infinite_gradient_is_nan_as_in_keras():
    clipped = SGD(global_clipnorm=1.0).clip_gradients([np.array([np.inf, 1.0])])
    assert np.isnan(clipped[0]).all()


def test_learning_rate_reads_and_sets_as_a_float():
    optimizer = Adam(0.01)
    assert float(optimizer.learning_rate) == 0.01 and optimizer.learning_rate == 0.01
    optimizer.learning_rate = 0.5  # what Keras's callbacks and scripts do
    assert optimizer.hyperparameters()["learning_rate"] == 0.5
    optimizer.learning_rate.assign(0.25)  # Keras's variable method
    assert optimizer.learning_rate == 0.25
    assert optimizer.learning_rate.numpy() == np.float32(0.25)
    optimizer.learning_rate = np.float32(0.125)
    assert optimizer.learning_rate == 0.125
    with pytest.raises(ValueError, match="learning_rate must be a positive finite number"):
        optimizer.learning_rate = -1.0
    assert optimizer.learning_rate == 0.125


def test_a_schedule_sets_the_rate_of_every_step():
    """ExponentialDecay(0.1, 1, 0.5) halves the rate every step: SGD steps of g = 1 move
    w by 0.1, 0.05, 0.025 (the rate at iterations 0, 1, 2)."""
    optimizer = SGD(schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5))
    w, moves = np.array([1.0]), []
    for _ in range(3):
        assert optimizer.hyperparameters()["learning_rate"] == optimizer.learning_rate
        before = w[0]
        optimizer.step([w], [np.array([1.0])])
        moves.append(before - w[0])
    np.testing.assert_allclose(moves, [0.1, 0.05, 0.025], rtol=1e-7)
    assert optimizer.learning_rate == pytest.approx(0.0125, rel=1e-7)
    with pytest.raises(TypeError, match="learning rate is not settable"):
        optimizer.learning_rate = 0.01
    assert optimizer.options() == {"learning_rate": "ExponentialDecay"}
    assert optimizer.get_config()["learning_rate"]["class_name"] == "ExponentialDecay"


class OneOverStep(schedules.LearningRateSchedule):
    def __call__(self, step):
        return 1.0 / (step + 1)


def test_a_user_schedule_works_and_an_incomplete_one_says_what_is_missing():
    optimizer = SGD(OneOverStep())
    w = np.zeros(1)
    for _ in range(3):
        optimizer.step([w], [np.array([-1.0])])
    assert w[0] == pytest.approx(1 + 1 / 2 + 1 / 3, rel=1e-15)
    with pytest.raises(NotImplementedError, match="must override `__call__"):
        SGD(schedules.LearningRateSchedule()).step([w], [w])


@pytest.mark.parametrize(
    ("optimizer", "options"),
    [
        (SGD(clipnorm=1.0), {"clipnorm": 1.0}),
        (SGD(clipvalue=0.5), {"clipvalue": 0.5}),
        (Adam(global_clipnorm=2.0), {"global_clipnorm": 2.0}),
        (RMSprop(weight_decay=0.01), {"weight_decay": 0.01}),
        (Adam(amsgrad=True), {"amsgrad": True}),
        (RMSprop(centered=True), {"centered": True}),
        (AdamW(), {"weight_decay": 0.004}),
        (SGD(schedules.CosineDecay(0.1, 10)), {"learning_rate": "CosineDecay"}),
        (SGD(lambda: 0.1), {"learning_rate": "<lambda>"}),
    ],
)
def test_options_name_what_the_plain_rule_lacks(optimizer, options):
    assert optimizer.options() == options


@pytest.mark.parametrize(
    "optimizer",
    [
        SGD(0.1, clipnorm=1.0),
        Adam(0.01, amsgrad=True),
        SGD(schedules.ExponentialDecay(0.1, 5, 0.5)),
    ],
    ids=["clipnorm", "amsgrad", "schedule"],
)
def test_auto_engine_trains_such_an_optimizer_on_numpy(optimizer):
    pytest.importorskip("numba")
    model = Sequential([Dense(1, "sigmoid", input_shape=(2,))], seed=0)
    model.compile(optimizer, "binary_crossentropy")
    X = np.random.default_rng(0).normal(size=(40, 2))
    model.fit(X, (X[:, 0] > 0).astype(float), batch_size=8, verbose=0)
    assert model.engine_used == "numpy"
    assert optimizer.iterations == 5
    with pytest.raises(ValueError, match="engine='compiled' cannot run this model: the optimizer"):
        model.compile(optimizer, "binary_crossentropy", engine="compiled")


def test_a_rate_set_between_epochs_reaches_the_compiled_engine():
    """Two epochs at 0.1, then two at 0.01: the compiled engine ends where NumPy does."""
    pytest.importorskip("numba")
    X = np.random.default_rng(0).normal(size=(64, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(float)
    weights = {}
    for engine in ("numpy", "compiled"):
        model = Sequential([Dense(4, "tanh", input_shape=(2,)), Dense(1, "sigmoid")], seed=0)
        model.compile(Adam(0.1), "binary_crossentropy", engine=engine)
        model.fit(X, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
        model.optimizer.learning_rate = 0.01
        model.fit(X, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
        assert model.engine_used == engine
        weights[engine] = model.get_weights()
    for a, b in zip(weights["numpy"], weights["compiled"]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    unchanged = Sequential([Dense(4, "tanh", input_shape=(2,)), Dense(1, "sigmoid")], seed=0)
    unchanged.compile(Adam(0.1), "binary_crossentropy", engine="numpy")
    unchanged.fit(X, y, batch_size=16, epochs=4, shuffle=False, verbose=0)
    assert not np.allclose(unchanged.get_weights()[0], weights["numpy"][0], atol=1e-4)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"use_ema": True}, "use_ema=True is not supported"),
        ({"loss_scale_factor": 128.0}, "loss_scale_factor=128.0 is not supported"),
        ({"gradient_accumulation_steps": 4}, "gradient_accumulation_steps=4 is not supported"),
    ],
)
def test_keras_keywords_we_lack_are_not_implemented(kwargs, match):
    with pytest.raises(NotImplementedError, match=match):
        Adam(**kwargs)


def test_keras_2_and_custom_loop_names_are_not_implemented_but_hasattr_says_no():
    optimizer = Adam()
    with pytest.raises(NotImplementedError, match="optimizer.lr was removed in Keras 3; use "):
        optimizer.lr  # noqa: B018
    with pytest.raises(NotImplementedError, match="optimizer.lr was removed"):
        optimizer.lr = 0.1
    with pytest.raises(NotImplementedError, match="apply_gradients is not supported"):
        optimizer.apply_gradients([])
    with pytest.raises(NotImplementedError, match="exclude_from_weight_decay is not supported"):
        optimizer.exclude_from_weight_decay(var_names=["bias"])
    assert not hasattr(optimizer, "lr") and not hasattr(optimizer, "variables")
    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        optimizer.nonsense  # noqa: B018


def test_name_defaults_to_the_registry_name():
    assert Adam().name == "adam" and AdamW().name == "adamw"
    assert Adam(name="mine").name == "mine"
    assert Adam(name="mine").get_config()["name"] == "mine"


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: schedules.ExponentialDecay(0.1, 0, 0.5), ValueError, "decay_steps` must be > 0"),
        (lambda: schedules.PolynomialDecay(0.1, -5), ValueError, "decay_steps` must be > 0"),
        (lambda: schedules.CosineDecayRestarts(0.1, 0), ValueError, "first_decay_steps"),
        (lambda: schedules.InverseTimeDecay("0.1", 5, 0.5), TypeError, "initial_learning_rate"),
        (lambda: schedules.ExponentialDecay(0.1, 5, 0.5, staircase="no"), TypeError, "staircase"),
        (
            lambda: schedules.PiecewiseConstantDecay([10, 20], [0.1, 0.01]),
            ValueError,
            "length of boundaries should be 1 less than the length of values",
        ),
        (
            lambda: schedules.PiecewiseConstantDecay([20, 10], [0.1, 0.01, 0.001]),
            ValueError,
            "boundaries must be strictly increasing",
        ),
        (lambda: schedules.CosineDecay(0.1, 10, warmup_steps=-1), ValueError, "warmup_steps"),
        (lambda: schedules.deserialize({"class_name": "Nope"}), ValueError, "unknown learning"),
    ],
)
def test_bad_schedule_arguments_are_refused(make, error, match):
    with pytest.raises(error, match=match):
        make()
