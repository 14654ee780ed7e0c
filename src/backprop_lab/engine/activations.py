"""Activation functions, each with its derivative written next to it.

An activation maps pre-activations ``Z`` of shape ``(n_samples, units)`` to
activations ``A`` of the same shape.  ``backward(Z, A, dA)`` turns the gradient
of the loss with respect to ``A`` into the gradient with respect to ``Z``
(the chain rule through one element-wise function, or through softmax's
Jacobian).  Both ``Z`` and ``A`` are passed so each rule can use whichever is
cheaper: sigmoid's derivative is ``A * (1 - A)``, relu's needs ``Z``.
"""

from __future__ import annotations

import numpy as np

from ._checks import lookup


class Activation:
    """Base class: ``A = activation(Z)`` and ``dZ = activation.backward(Z, A, dA)``."""

    name = "activation"

    def __call__(self, Z: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, Z: np.ndarray, A: np.ndarray, dA: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def __repr__(self) -> str:
        return self.name


class Linear(Activation):
    name = "linear"

    def __call__(self, Z):
        return Z

    def backward(self, Z, A, dA):
        return dA


class ReLU(Activation):
    name = "relu"

    def __call__(self, Z):
        return np.maximum(Z, 0)

    def backward(self, Z, A, dA):
        # The derivative at exactly 0 is taken as 0, as in JAX, PyTorch and Keras.
        return dA * (Z > 0)


class LeakyReLU(Activation):
    """``max(Z, 0) + negative_slope * min(Z, 0)``; Keras 3's default slope is 0.2."""

    name = "leaky_relu"

    def __init__(self, negative_slope: float = 0.2):
        self.negative_slope = float(negative_slope)

    def __call__(self, Z):
        return np.where(Z > 0, Z, Z * Z.dtype.type(self.negative_slope))

    def backward(self, Z, A, dA):
        return np.where(Z > 0, dA, dA * dA.dtype.type(self.negative_slope))


class Tanh(Activation):
    name = "tanh"

    def __call__(self, Z):
        return np.tanh(Z)

    def backward(self, Z, A, dA):
        return dA * (1 - A * A)


class Sigmoid(Activation):
    name = "sigmoid"

    def __call__(self, Z):
        # 1 / (1 + exp(-Z)) written through tanh: same value, no overflow for
        # large negative Z.
        return 0.5 * (1 + np.tanh(0.5 * Z))

    def backward(self, Z, A, dA):
        return dA * A * (1 - A)


class Softmax(Activation):
    """Softmax over the last axis (the classes)."""

    name = "softmax"

    def __call__(self, Z):
        E = np.exp(Z - Z.max(axis=1, keepdims=True))
        return E / E.sum(axis=1, keepdims=True)

    def backward(self, Z, A, dA):
        # Jacobian-vector product of softmax: dZ_i = A_i * (dA_i - sum_j dA_j A_j).
        return A * (dA - (dA * A).sum(axis=1, keepdims=True))


ACTIVATIONS: dict[str, type[Activation]] = {
    cls.name: cls for cls in (Linear, ReLU, LeakyReLU, Tanh, Sigmoid, Softmax)
}


def get(identifier: str | Activation | None) -> Activation:
    """Return an activation object from a name, an object, or ``None`` (linear)."""
    if identifier is None:
        return Linear()
    if isinstance(identifier, Activation):
        return identifier
    return lookup("activation", identifier, ACTIVATIONS)()
