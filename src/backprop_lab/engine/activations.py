"""Activation functions, each with its derivative written next to it.

An activation maps pre-activations ``Z`` of shape ``(n_samples, units)`` to
activations ``A`` of the same shape.  ``backward(Z, A, dA)`` turns the gradient
of the loss with respect to ``A`` into the gradient with respect to ``Z``
(the chain rule through one element-wise function, or through softmax's
Jacobian).  Both ``Z`` and ``A`` are passed so each rule can use whichever is
cheaper: sigmoid's derivative is ``A * (1 - A)``, relu's needs ``Z``.

The formulas are Keras 3's (``keras/src/activations/activations.py``, computed
by JAX on the JAX backend); where a function has a kink, the derivative at the
kink is JAX's.  ``get`` takes the names ``keras.activations.get`` takes.
"""

from __future__ import annotations

import math

import numpy as np

from ._checks import custom_refusal, keras_lookup

# SELU's constants (Klambauer et al. 2017), as Keras writes them.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


class Activation:
    """Base class: ``A = activation(Z)`` and ``dZ = activation.backward(Z, A, dA)``."""

    name = "activation"

    def __call__(self, Z: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, Z: np.ndarray, A: np.ndarray, dA: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    @property
    def __name__(self) -> str:
        """The name, as a Keras activation function has it (``dense.activation.__name__``)."""
        return self.name

    def __repr__(self) -> str:
        return self.name


def _sigmoid(Z):
    # 1 / (1 + exp(-Z)) written through tanh: same value, no overflow for large -Z.
    return 0.5 * (1 + np.tanh(0.5 * Z))


def _softplus(Z):
    return np.logaddexp(Z, 0.0).astype(Z.dtype, copy=False)


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


class ReLU6(Activation):
    """``min(max(Z, 0), 6)``."""

    name = "relu6"

    def __call__(self, Z):
        return np.minimum(np.maximum(Z, 0), 6)

    def backward(self, Z, A, dA):
        return dA * ((Z > 0) & (Z < 6))


class ELU(Activation):
    """``Z`` where ``Z > 0``, else ``alpha * (exp(Z) - 1)``."""

    name = "elu"

    def __init__(self, alpha: float = 1.0):
        self.alpha = float(alpha)

    def __call__(self, Z):
        return np.where(Z > 0, Z, self.alpha * np.expm1(np.minimum(Z, 0)))

    def backward(self, Z, A, dA):
        # d/dZ alpha (exp(Z) - 1) = alpha exp(Z) = A + alpha.
        return np.where(Z > 0, dA, dA * (A + self.alpha))


class SELU(Activation):
    """``scale * elu(Z, alpha)`` with SELU's fixed ``alpha`` and ``scale``."""

    name = "selu"

    def __call__(self, Z):
        return SELU_SCALE * np.where(Z > 0, Z, SELU_ALPHA * np.expm1(np.minimum(Z, 0)))

    def backward(self, Z, A, dA):
        # Below 0: d/dZ scale alpha (exp(Z) - 1) = A + scale alpha.
        return dA * np.where(Z > 0, SELU_SCALE, A + SELU_SCALE * SELU_ALPHA)


class GELU(Activation):
    """``Z * Phi(Z)``, ``Phi`` the standard normal CDF (Keras's default, exact, via erf).

    With ``approximate=True`` the tanh form
    ``0.5 Z (1 + tanh(sqrt(2/pi) (Z + 0.044715 Z^3)))``.
    """

    name = "gelu"

    def __init__(self, approximate: bool = False):
        self.approximate = bool(approximate)

    def __call__(self, Z):
        if self.approximate:
            return 0.5 * Z * (1 + np.tanh(self._inner(Z)))
        return Z * self._cdf(Z)

    def backward(self, Z, A, dA):
        if self.approximate:
            T = np.tanh(self._inner(Z))
            dinner = math.sqrt(2 / math.pi) * (1 + 3 * 0.044715 * Z * Z)
            return dA * (0.5 * (1 + T) + 0.5 * Z * (1 - T * T) * dinner)
        # d/dZ Z Phi(Z) = Phi(Z) + Z phi(Z), phi the standard normal density.
        pdf = np.exp(-0.5 * Z * Z) / math.sqrt(2 * math.pi)
        return dA * (self._cdf(Z) + Z * pdf)

    @staticmethod
    def _cdf(Z):
        """``Phi(Z) = (1 + erf(Z / sqrt 2)) / 2``."""
        from scipy.special import erf  # imported when used: SciPy takes 0.2 s to load

        return 0.5 * (1 + erf(Z / math.sqrt(2.0)))

    @staticmethod
    def _inner(Z):
        return math.sqrt(2 / math.pi) * (Z + 0.044715 * Z**3)


class Tanh(Activation):
    name = "tanh"

    def __call__(self, Z):
        return np.tanh(Z)

    def backward(self, Z, A, dA):
        return dA * (1 - A * A)


class Sigmoid(Activation):
    name = "sigmoid"

    def __call__(self, Z):
        return _sigmoid(Z)

    def backward(self, Z, A, dA):
        return dA * A * (1 - A)


class HardSigmoid(Activation):
    """``relu6(Z + 3) / 6``: 0 below -3, 1 above 3, a line in between (Keras 3)."""

    name = "hard_sigmoid"

    def __call__(self, Z):
        return np.minimum(np.maximum(Z + 3, 0), 6) / 6

    def backward(self, Z, A, dA):
        return dA * ((Z > -3) & (Z < 3)) / 6


class SiLU(Activation):
    """``Z * sigmoid(Z)``, also called swish."""

    name = "silu"

    def __call__(self, Z):
        return Z * _sigmoid(Z)

    def backward(self, Z, A, dA):
        S = _sigmoid(Z)
        return dA * S * (1 + Z * (1 - S))


class HardSiLU(Activation):
    """``Z * hard_sigmoid(Z)``, also called hard swish."""

    name = "hard_silu"

    def __call__(self, Z):
        return Z * HardSigmoid()(Z)

    def backward(self, Z, A, dA):
        return dA * (HardSigmoid()(Z) + Z * ((Z > -3) & (Z < 3)) / 6)


class Softplus(Activation):
    """``log(1 + exp(Z))``."""

    name = "softplus"

    def __call__(self, Z):
        return _softplus(Z)

    def backward(self, Z, A, dA):
        return dA * _sigmoid(Z)


class Softsign(Activation):
    """``Z / (1 + |Z|)``."""

    name = "softsign"

    def __call__(self, Z):
        return Z / (1 + np.abs(Z))

    def backward(self, Z, A, dA):
        return dA / (1 + np.abs(Z)) ** 2


class Exponential(Activation):
    name = "exponential"

    def __call__(self, Z):
        return np.exp(Z)

    def backward(self, Z, A, dA):
        return dA * A


class Mish(Activation):
    """``Z * tanh(softplus(Z))``."""

    name = "mish"

    def __call__(self, Z):
        return Z * np.tanh(_softplus(Z))

    def backward(self, Z, A, dA):
        T = np.tanh(_softplus(Z))
        return dA * (T + Z * (1 - T * T) * _sigmoid(Z))


class Softmax(Activation):
    """Softmax over the last axis (the classes)."""

    name = "softmax"

    def __call__(self, Z):
        E = np.exp(Z - Z.max(axis=-1, keepdims=True))
        return E / E.sum(axis=-1, keepdims=True)

    def backward(self, Z, A, dA):
        # Jacobian-vector product of softmax: dZ_i = A_i * (dA_i - sum_j dA_j A_j).
        return A * (dA - (dA * A).sum(axis=-1, keepdims=True))


class LogSoftmax(Activation):
    """``Z - logsumexp(Z)`` over the last axis."""

    name = "log_softmax"

    def __call__(self, Z):
        shifted = Z - Z.max(axis=-1, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))

    def backward(self, Z, A, dA):
        # dA_i/dZ_j = delta_ij - softmax_j, and softmax = exp(A).
        return dA - np.exp(A) * dA.sum(axis=-1, keepdims=True)


_CLASSES = (
    Linear,
    ReLU,
    LeakyReLU,
    ReLU6,
    ELU,
    SELU,
    GELU,
    Tanh,
    Sigmoid,
    HardSigmoid,
    SiLU,
    HardSiLU,
    Softplus,
    Softsign,
    Exponential,
    Mish,
    Softmax,
    LogSoftmax,
)
ACTIVATIONS: dict[str, type[Activation]] = {cls.name: cls for cls in _CLASSES}
ACTIVATIONS["swish"] = SiLU  # Keras's aliases
ACTIVATIONS["hard_swish"] = HardSiLU

# Every name keras.activations.get accepts (Keras 3.15), to tell a Keras feature
# backprop_lab lacks from a name Keras does not know either.
KERAS_ACTIVATIONS = frozenset(
    "celu elu exponential gelu glu hard_shrink hard_sigmoid hard_silu hard_swish hard_tanh "
    "leaky_relu linear log_sigmoid log_softmax mish relu relu6 selu sigmoid silu soft_shrink "
    "softmax softplus softsign sparse_plus sparse_sigmoid sparsemax squareplus swish tanh "
    "tanh_shrink threshold".split()
)


def get(identifier: str | Activation | type | None) -> Activation:
    """Return an activation object from a name, an object, a class, or ``None`` (linear).

    Raises
    ------
    NotImplementedError
        For an activation Keras has and backprop_lab does not, including any
        Python function of the user's own.
    ValueError
        For a name Keras does not know either.
    """
    if identifier is None:
        return Linear()
    if isinstance(identifier, Activation):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Activation):
        return identifier()
    if callable(identifier) and not isinstance(identifier, str):
        raise custom_refusal("activation", identifier, "its backward pass is unknown", ACTIVATIONS)
    return keras_lookup("activation", identifier, ACTIVATIONS, KERAS_ACTIVATIONS)()
