"""``Activation``: an activation function as a layer of its own, ``A = activation(Z)``."""

from __future__ import annotations

from .. import activations
from .base import Layer


class Activation(Layer):
    """Applies ``activation`` element-wise (softmax: over each row); no weights.

    ``Dense(1)`` then ``Activation("sigmoid")`` computes what
    ``Dense(1, "sigmoid")`` does, and the model treats it the same way (a
    sigmoid output, fused with binary cross-entropy).

    Parameters
    ----------
    activation : str or engine Activation
        Any name ``activations.get`` accepts.
    name, dtype
        See ``Layer``.
    """

    kind = "activation"

    def __init__(
        self,
        activation,
        *,
        input_shape=None,
        input_dim=None,
        trainable: bool = True,
        dtype: str | None = None,
        name: str | None = None,
    ):
        self.activation = activations.get(activation)
        super().__init__(
            input_shape=input_shape,
            input_dim=input_dim,
            trainable=trainable,
            dtype=dtype,
            name=name,
        )

    def apply(self, X, *weights):
        """``activation(X)``, caching nothing."""
        return self.activation(X)

    def forward(self, X):
        """``A = activation(Z)`` with ``Z = X``, keeping both for ``backward``."""
        self.Z = X
        self.A = self.activation(X)
        return self.A

    def backward(self, dA):
        """``dZ = activation.backward(Z, A, dA)``, which is ``dX``."""
        return self.activation.backward(self.Z, self.A, dA)

    def backward_z(self, dZ):
        """From ``dZ = dL/dZ`` (a fused output loss): the input is ``Z``, so ``dX = dZ``."""
        return dZ

    def get_config(self) -> dict:
        return {**super().get_config(), "activation": self.activation.name}

    def __repr__(self) -> str:
        return f"Activation({self.activation.name!r})"
