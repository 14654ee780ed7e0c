"""The less common Keras optimizers: Adamax, Nadam, Adadelta and Lion.

Written as Keras 3 writes them (``keras/src/optimizers/``), with the same
defaults; ``optimizers`` registers them by name and explains the common
keywords.  None runs on the compiled engine (``engine="auto"`` picks NumPy).
"""

from __future__ import annotations

import math
from numbers import Real

import numpy as np

from ._checks import check_float_in, check_positive_float
from .optimizer_base import Optimizer


class Adamax(Optimizer):
    """Adamax (Kingma and Ba, 2015, Section 7): Adam with an infinity norm.

    ::

        t += 1
        m += (g - m) * (1 - beta_1)
        u = max(beta_2 * u, |g|)
        w -= lr * m / ((1 - beta_1**t) * (u + epsilon))
    """

    name = "adamax"
    slot_names = ("m", "u")
    hyperparameter_names = ("learning_rate", "beta_1", "beta_2", "epsilon")

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        **options,
    ):
        super().__init__(learning_rate, **options)
        self.set_moment_rates(beta_1, beta_2, epsilon)

    def _update(self, params, grads, lr):
        t = self.iterations + 1
        for w, g, m, u in zip(params, grads, self.slots["m"], self.slots["u"]):
            f = w.dtype.type
            m += (g - m) * f(1 - self.beta_1)
            u[...] = np.maximum(f(self.beta_2) * u, np.abs(g))
            w -= f(lr) * m / ((1 - f(self.beta_1) ** t) * (u + f(self.epsilon)))


class Nadam(Optimizer):
    """Nadam (Dozat, 2016): Adam with Nesterov momentum, with Keras's momentum schedule.

    ``mu(t) = beta_1 * (1 - 0.5 * 0.96**t)`` and ``prod`` (one number for all
    parameters, starting at 1) is the product of ``mu(1) ... mu(t)``::

        t += 1
        prod *= mu(t)
        m += (g - m) * (1 - beta_1)
        v += (g**2 - v) * (1 - beta_2)
        m_hat = mu(t + 1) * m / (1 - prod * mu(t + 1)) + (1 - mu(t)) * g / (1 - prod)
        v_hat = v / (1 - beta_2**t)
        w -= lr * m_hat / (sqrt(v_hat) + epsilon)
    """

    name = "nadam"
    slot_names = ("m", "v")
    hyperparameter_names = ("learning_rate", "beta_1", "beta_2", "epsilon")

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        **options,
    ):
        super().__init__(learning_rate, **options)
        self.set_moment_rates(beta_1, beta_2, epsilon)
        self.u_product = None  # ``prod`` above, in the parameters' dtype

    def build(self, params):
        super().build(params)
        self.u_product = (params[0].dtype if params else np.dtype(np.float32)).type(1.0)

    def _update(self, params, grads, lr):
        f = type(self.u_product)
        t = f(self.iterations + 1)
        beta_1, beta_2 = f(self.beta_1), f(self.beta_2)
        u_t = beta_1 * (f(1) - f(0.5) * f(0.96) ** t)
        u_next = beta_1 * (f(1) - f(0.5) * f(0.96) ** (t + f(1)))
        # Keras multiplies in this order: (prod * beta_1) * (1 - 0.5 * 0.96**t).
        self.u_product = self.u_product * beta_1 * (f(1) - f(0.5) * f(0.96) ** t)
        u_product_next = self.u_product * u_next
        for w, g, m, v in zip(params, grads, self.slots["m"], self.slots["v"]):
            m += (g - m) * (f(1) - beta_1)
            v += (g * g - v) * (f(1) - beta_2)
            m_hat = u_next * m / (f(1) - u_product_next) + (f(1) - u_t) * g / (
                f(1) - self.u_product
            )
            v_hat = v / (f(1) - beta_2**t)
            w -= m_hat * f(lr) / (np.sqrt(v_hat) + f(self.epsilon))


class Adadelta(Optimizer):
    """Adadelta (Zeiler, 2012) as in Keras, scaled by the learning rate.

    ::

        s = rho * s + (1 - rho) * g**2
        delta = -sqrt(d + epsilon) * g / sqrt(s + epsilon)
        d = rho * d + (1 - rho) * delta**2
        w += lr * delta
    """

    name = "adadelta"
    slot_names = ("s", "d")
    hyperparameter_names = ("learning_rate", "rho", "epsilon")

    def __init__(
        self,
        learning_rate=0.001,
        rho=0.95,
        epsilon=1e-7,
        **options,
    ):
        super().__init__(learning_rate, **options)
        self.rho = check_float_in("rho", rho, 0.0, 1.0)
        self.epsilon = check_positive_float("epsilon", epsilon)

    def _update(self, params, grads, lr):
        for w, g, s, d in zip(params, grads, self.slots["s"], self.slots["d"]):
            f = w.dtype.type
            rho, eps = f(self.rho), f(self.epsilon)
            s[...] = rho * s + f(1 - self.rho) * (g * g)
            delta = -(np.sqrt(d + eps) * g / np.sqrt(s + eps))
            d[...] = rho * d + f(1 - self.rho) * (delta * delta)
            w += f(lr) * delta


class Lion(Optimizer):
    """Lion (Chen et al., 2023): the sign of an interpolated momentum.

    ::

        w -= lr * sign(beta_1 * m + (1 - beta_1) * g)
        m = beta_2 * m + (1 - beta_2) * g
    """

    name = "lion"
    slot_names = ("m",)
    hyperparameter_names = ("learning_rate", "beta_1", "beta_2")

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.99,
        **options,
    ):
        super().__init__(learning_rate, **options)
        # beta_1 = 0 would be sign SGD, which Keras refuses; 1 is allowed.
        if isinstance(beta_1, bool) or not isinstance(beta_1, Real):
            raise TypeError(f"beta_1 must be a number, got {beta_1!r}")
        if not (math.isfinite(beta_1) and 0 < beta_1 <= 1):
            raise ValueError(f"beta_1 must be in (0, 1], got {beta_1!r}")
        self.beta_1 = float(beta_1)
        self.beta_2 = check_float_in("beta_2", beta_2, 0.0, 1.0)

    def _update(self, params, grads, lr):
        for w, g, m in zip(params, grads, self.slots["m"]):
            f = w.dtype.type
            beta_1, beta_2 = f(self.beta_1), f(self.beta_2)
            w -= f(lr) * np.sign(m * beta_1 + g * (f(1) - beta_1))
            m[...] = m * beta_2 + g * (f(1) - beta_2)
