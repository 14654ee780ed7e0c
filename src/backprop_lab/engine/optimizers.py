"""Optimizers with Keras 3's update rules and defaults.

``step(params, grads)`` updates each parameter array in place.  Each class's
docstring gives its rule as code, with ``g`` the gradient and ``w`` the
parameter.

Both engines read an optimizer through the same small public interface:
``slot_names`` and ``slots`` (the per-parameter state, such as Adam's ``m`` and
``v``: for each name a list of arrays aligned with ``params``, created on the
first step) and ``hyperparameters()`` (the numbers of the rule).
"""

from __future__ import annotations

import numpy as np

from ._checks import check_float_in, check_positive_float, lookup


class Optimizer:
    """Base class: the learning rate, the step counter ``iterations`` and the state slots.

    Attributes
    ----------
    slot_names : tuple of str
        The per-parameter state the rule keeps, in order (class attribute).
    hyperparameter_names : tuple of str
        The attributes ``hyperparameters()`` and ``get_config()`` report.
    slots : dict of str to list of ndarray
        ``slots[name][i]`` has the shape of ``params[i]``; empty before ``build``.
    """

    name = "optimizer"
    slot_names: tuple[str, ...] = ()
    hyperparameter_names: tuple[str, ...] = ("learning_rate",)

    def __init__(self, learning_rate: float):
        self.learning_rate = check_positive_float("learning_rate", learning_rate)
        self.iterations = 0
        self.slots: dict[str, list[np.ndarray]] = {}

    def initial_slot_value(self, name: str) -> float:
        """The value slot ``name`` starts at (0 unless a rule says otherwise)."""
        return 0.0

    def build(self, params: list[np.ndarray]) -> None:
        """Create the state slots for ``params``; called on the first step."""
        self.slots = {
            name: [np.full_like(p, self.initial_slot_value(name)) for p in params]
            for name in self.slot_names
        }

    def hyperparameters(self) -> dict:
        """``{name: value}`` of the rule's numbers, e.g. ``{"learning_rate": 0.01, ...}``."""
        return {name: getattr(self, name) for name in self.hyperparameter_names}

    def step(self, params: list[np.ndarray], grads: list[np.ndarray]) -> None:
        """Update every parameter in place from its gradient; one training step.

        Parameters
        ----------
        params : list of ndarray
            ``[W1, b1, W2, b2, ...]``, each updated in place.
        grads : list of ndarray
            The gradients of the loss, aligned with ``params`` (same shapes).
        """
        if self.iterations == 0:
            self.build(params)
        self._update(params, grads)
        self.iterations += 1

    def _update(self, params, grads) -> None:
        raise NotImplementedError

    def options(self) -> dict:
        """Options beyond the plain rule (gradient clipping, weight decay, a learning-rate
        schedule): the compiled engine runs only an optimizer with none."""
        return {}

    def get_config(self) -> dict:
        return {"name": self.name, **self.hyperparameters()}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        return f"{type(self).__name__}({args})"


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

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False):
        super().__init__(learning_rate)
        self.momentum = check_float_in("momentum", momentum, 0.0, 1.0)
        # bool("False") is True: a flag read from text must not switch Nesterov on.
        if not isinstance(nesterov, bool | np.bool_):
            raise TypeError(f"nesterov must be True or False, got {nesterov!r}")
        self.nesterov = bool(nesterov)

    def _update(self, params, grads):
        # Python floats combine with float32 arrays in float32, as Keras casts them.
        lr, mu = self.learning_rate, self.momentum
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
        w -= alpha * m / (sqrt(v) + epsilon)
    """

    name = "adam"
    slot_names = ("m", "v")
    hyperparameter_names = ("learning_rate", "beta_1", "beta_2", "epsilon")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
        super().__init__(learning_rate)
        self.beta_1 = check_float_in("beta_1", beta_1, 0.0, 1.0)
        self.beta_2 = check_float_in("beta_2", beta_2, 0.0, 1.0)
        self.epsilon = check_positive_float("epsilon", epsilon)

    def _update(self, params, grads):
        t = self.iterations + 1
        for w, g, m, v in zip(params, grads, self.slots["m"], self.slots["v"]):
            f = w.dtype.type
            alpha = (
                f(self.learning_rate) * np.sqrt(1 - f(self.beta_2) ** t) / (1 - f(self.beta_1) ** t)
            )
            m += (g - m) * f(1 - self.beta_1)
            v += (g * g - v) * f(1 - self.beta_2)
            w -= m * alpha / (np.sqrt(v) + f(self.epsilon))


class RMSprop(Optimizer):
    """RMSprop (Hinton, 2012), Keras's variant with epsilon inside the root.

    ::

        s = rho * s + (1 - rho) * g**2
        step = lr * g / sqrt(s + epsilon)
        if momentum == 0:  w -= step
        else:              v = momentum * v + step;  w -= v
    """

    name = "rmsprop"
    slot_names = ("s", "v")
    hyperparameter_names = ("learning_rate", "rho", "momentum", "epsilon")

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7):
        super().__init__(learning_rate)
        self.rho = check_float_in("rho", rho, 0.0, 1.0)
        self.momentum = check_float_in("momentum", momentum, 0.0, 1.0)
        self.epsilon = check_positive_float("epsilon", epsilon)

    def _update(self, params, grads):
        for w, g, s, v in zip(params, grads, self.slots["s"], self.slots["v"]):
            f = w.dtype.type
            s[...] = f(self.rho) * s + f(1 - self.rho) * (g * g)
            step = f(self.learning_rate) * g / np.sqrt(s + f(self.epsilon))
            if self.momentum == 0:
                w -= step
            else:
                v[...] = f(self.momentum) * v + step
                w -= v


class Adagrad(Optimizer):
    """Adagrad (Duchi et al., 2011) as in Keras.

    ::

        s += g**2                      # s starts at initial_accumulator_value
        w -= lr * g / sqrt(s + epsilon)
    """

    name = "adagrad"
    slot_names = ("s",)
    hyperparameter_names = ("learning_rate", "initial_accumulator_value", "epsilon")

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7):
        super().__init__(learning_rate)
        self.initial_accumulator_value = check_float_in(
            "initial_accumulator_value", initial_accumulator_value, 0.0, np.inf
        )
        self.epsilon = check_positive_float("epsilon", epsilon)

    def initial_slot_value(self, name):
        return self.initial_accumulator_value

    def _update(self, params, grads):
        for w, g, s in zip(params, grads, self.slots["s"]):
            f = w.dtype.type
            s += g * g
            w -= f(self.learning_rate) * g / np.sqrt(s + f(self.epsilon))


OPTIMIZERS: dict[str, type[Optimizer]] = {cls.name: cls for cls in (SGD, Adam, RMSprop, Adagrad)}


def get(identifier: str | Optimizer) -> Optimizer:
    """Return an optimizer from a name (Keras defaults) or an object."""
    if isinstance(identifier, Optimizer):
        return identifier
    return lookup("optimizer", identifier, OPTIMIZERS)()
