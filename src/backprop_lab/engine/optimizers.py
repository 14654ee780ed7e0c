"""Optimizers with Keras 3's update rules, defaults and keywords.

``step(params, grads)`` updates each parameter array in place.  Each class's
docstring gives its rule as code, with ``g`` the gradient (after clipping),
``w`` the parameter (after weight decay) and ``lr`` the learning rate of the
step; ``optimizer_base`` holds what every optimizer shares (the learning rate
or its schedule, clipping, weight decay, the step counter), and
``more_optimizers`` the less common rules (Adamax, Nadam, Adadelta, Lion).

Every constructor takes Keras's common keywords after the rule's own:
``weight_decay``, ``clipnorm``, ``clipvalue``, ``global_clipnorm``, ``use_ema``,
``ema_momentum``, ``ema_overwrite_frequency``, ``loss_scale_factor``,
``gradient_accumulation_steps`` and ``name`` (see ``optimizer_base.Optimizer``).
"""

from __future__ import annotations

import numpy as np

from ._checks import check_float_in, check_positive_float, lookup
from .more_optimizers import Adadelta, Adamax, Lion, Nadam
from .optimizer_base import LearningRate, NotInThisOptimizer, Optimizer

__all__ = [
    "OPTIMIZERS",
    "SGD",
    "Adadelta",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "LearningRate",
    "Lion",
    "Nadam",
    "NotInThisOptimizer",
    "Optimizer",
    "RMSprop",
    "deserialize",
    "get",
    "serialize",
]


def check_flag(name: str, value) -> bool:
    # bool("False") is True: a flag read from text must not switch an option on.
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum.

    ::

        if momentum == 0:  w -= lr * g
        else:
            v = momentum * v - lr * g
            w += momentum * v - lr * g  if nesterov else  v
    """

    name = "sgd"
    slot_names = ("v",)
    hyperparameter_names = ("learning_rate", "momentum", "nesterov")

    def __init__(
        self,
        learning_rate=0.01,
        momentum=0.0,
        nesterov=False,
        **options,
    ):
        super().__init__(learning_rate, **options)
        self.momentum = check_float_in("momentum", momentum, 0.0, 1.0)
        self.nesterov = check_flag("nesterov", nesterov)

    def _update(self, params, grads, lr):
        # Python floats combine with float32 arrays in float32, as Keras casts them.
        mu = self.momentum
        for w, g, v in zip(params, grads, self.slots["v"]):
            if mu == 0:
                w -= lr * g
            else:
                v[...] = mu * v - lr * g
                w += (mu * v - lr * g) if self.nesterov else v


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2015), written as Keras writes it.

    ::

        t += 1
        alpha = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)
        m += (g - m) * (1 - beta_1)
        v += (g**2 - v) * (1 - beta_2)
        if amsgrad:                    # Reddi et al., 2018: never let v shrink
            v_hat = max(v_hat, v);  v = v_hat
        w -= alpha * m / (sqrt(v) + epsilon)
    """

    name = "adam"
    slot_names = ("m", "v")
    hyperparameter_names = ("learning_rate", "beta_1", "beta_2", "epsilon")

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        amsgrad=False,
        **options,
    ):
        super().__init__(learning_rate, **options)
        self.set_moment_rates(beta_1, beta_2, epsilon)
        self.amsgrad = check_flag("amsgrad", amsgrad)
        if self.amsgrad:
            self.slot_names = ("m", "v", "v_hat")

    def _update(self, params, grads, lr):
        t = self.iterations + 1
        v_hats = self.slots["v_hat"] if self.amsgrad else [None] * len(params)
        for w, g, m, v, v_hat in zip(params, grads, self.slots["m"], self.slots["v"], v_hats):
            f = w.dtype.type
            alpha = f(lr) * np.sqrt(1 - f(self.beta_2) ** t) / (1 - f(self.beta_1) ** t)
            m += (g - m) * f(1 - self.beta_1)
            v += (g * g - v) * f(1 - self.beta_2)
            if self.amsgrad:
                np.maximum(v_hat, v, out=v_hat)
                v = v_hat
            w -= m * alpha / (np.sqrt(v) + f(self.epsilon))

    def options(self):
        return {**super().options(), **({"amsgrad": True} if self.amsgrad else {})}

    def get_config(self):
        return {**super().get_config(), "amsgrad": self.amsgrad}


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter, 2019), as Keras has it:
    Adam's rule after ``w -= w * weight_decay * lr``, with ``weight_decay=0.004``."""

    name = "adamw"

    def __init__(
        self,
        learning_rate=0.001,
        weight_decay=0.004,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        amsgrad=False,
        **options,
    ):
        if weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float. Received: weight_decay=None")
        super().__init__(
            learning_rate,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            amsgrad=amsgrad,
            weight_decay=weight_decay,
            **options,
        )


class RMSprop(Optimizer):
    """RMSprop (Hinton, 2012), Keras's variant with epsilon inside the root.

    ::

        s = rho * s + (1 - rho) * g**2
        if centered:                   # subtract the squared mean gradient: a variance
            a = rho * a + (1 - rho) * g;  step = lr * g / sqrt(s - a**2 + epsilon)
        else:
            step = lr * g / sqrt(s + epsilon)
        if momentum == 0:  w -= step
        else:              v = momentum * v + step;  w -= v
    """

    name = "rmsprop"
    slot_names = ("s", "v")
    hyperparameter_names = ("learning_rate", "rho", "momentum", "epsilon")

    def __init__(
        self,
        learning_rate=0.001,
        rho=0.9,
        momentum=0.0,
        epsilon=1e-7,
        centered=False,
        **options,
    ):
        super().__init__(learning_rate, **options)
        self.rho = check_float_in("rho", rho, 0.0, 1.0)
        self.momentum = check_float_in("momentum", momentum, 0.0, 1.0)
        self.epsilon = check_positive_float("epsilon", epsilon)
        self.centered = check_flag("centered", centered)
        if self.centered:
            self.slot_names = ("s", "v", "a")

    def _update(self, params, grads, lr):
        averages = self.slots["a"] if self.centered else [None] * len(params)
        for w, g, s, v, a in zip(params, grads, self.slots["s"], self.slots["v"], averages):
            f = w.dtype.type
            s[...] = f(self.rho) * s + f(1 - self.rho) * (g * g)
            if self.centered:
                a[...] = f(self.rho) * a + f(1 - self.rho) * g
                step = f(lr) * g / np.sqrt(s - a * a + f(self.epsilon))
            else:
                step = f(lr) * g / np.sqrt(s + f(self.epsilon))
            if self.momentum == 0:
                w -= step
            else:
                v[...] = f(self.momentum) * v + step
                w -= v

    def options(self):
        return {**super().options(), **({"centered": True} if self.centered else {})}

    def get_config(self):
        return {**super().get_config(), "centered": self.centered}


class Adagrad(Optimizer):
    """Adagrad (Duchi et al., 2011) as in Keras.

    ::

        s += g**2                      # s starts at initial_accumulator_value
        w -= lr * g / sqrt(s + epsilon)
    """

    name = "adagrad"
    slot_names = ("s",)
    hyperparameter_names = ("learning_rate", "initial_accumulator_value", "epsilon")

    def __init__(
        self,
        learning_rate=0.001,
        initial_accumulator_value=0.1,
        epsilon=1e-7,
        **options,
    ):
        super().__init__(learning_rate, **options)
        self.initial_accumulator_value = check_float_in(
            "initial_accumulator_value", initial_accumulator_value, 0.0, np.inf
        )
        self.epsilon = check_positive_float("epsilon", epsilon)

    def initial_slot_value(self, name):
        return self.initial_accumulator_value

    def _update(self, params, grads, lr):
        for w, g, s in zip(params, grads, self.slots["s"]):
            f = w.dtype.type
            s += g * g
            w -= f(lr) * g / np.sqrt(s + f(self.epsilon))


OPTIMIZERS: dict[str, type[Optimizer]] = {
    cls.name: cls for cls in (SGD, Adam, AdamW, RMSprop, Adagrad, Adamax, Nadam, Adadelta, Lion)
}
# Optimizers Keras 3 has and backprop_lab does not (keras.optimizers.get's names).
KERAS_ONLY = ("adafactor", "ftrl", "lamb", "muon", "lossscaleoptimizer", "schedulefreeadamw")


def serialize(optimizer: Optimizer) -> dict:
    """Keras's serialized form, ``{"module", "class_name", "config", "registered_name"}``."""
    return {
        "module": "keras.optimizers",
        "class_name": type(optimizer).__name__,
        "config": optimizer.get_config(),
        "registered_name": None,
    }


def deserialize(config: dict) -> Optimizer:
    """The optimizer a Keras config dict describes (``serialize``'s inverse)."""
    if not isinstance(config, dict):
        raise TypeError(f"an optimizer config must be a dict, got {config!r}")
    return get(config)


def get(identifier) -> Optimizer:
    """Return an optimizer from a name (Keras defaults), a Keras config dict or an object.

    A config dict is ``{"class_name": "Adam", "config": {...}}`` as Keras writes it.
    """
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        cls = get(identifier.get("class_name", "")).__class__
        return cls.from_config(identifier.get("config", {}))
    if isinstance(identifier, str) and identifier.lower() in KERAS_ONLY:
        raise NotImplementedError(
            f"the optimizer {identifier!r} is not supported by backprop_lab; "
            f"supported: {', '.join(sorted(OPTIMIZERS))}"
        )
    return lookup("optimizer", identifier, OPTIMIZERS)()
