"""``Dense``: the fully connected layer ``A = activation(X @ W + b)``."""

from __future__ import annotations

from numbers import Integral

import numpy as np

from .. import activations, initializers, regularizers
from .base import Layer


def check_units(units) -> int:
    """``units`` as an int if it is an integer >= 1, else Keras's ValueError."""
    if isinstance(units, bool) or not isinstance(units, Integral) or units <= 0:
        raise ValueError(
            "Received an invalid value for `units`, expected a positive integer. "
            f"Received: units={units}"
        )
    return int(units)


def refuse_constraints(**constraints) -> None:
    """Weight constraints (``max_norm`` and friends) are outside the supported subset."""
    for name, value in constraints.items():
        if value is not None:
            raise NotImplementedError(f"{name}={value!r} is not supported by backprop_lab")


def _initializer_name(initializer) -> str:
    return getattr(initializer, "__name__", "custom")


class Dense(Layer):
    """A fully connected layer ``A = activation(X @ W + b)``.

    Parameters
    ----------
    units : int
        Number of neurons, the width of the output.
    activation : str, Activation or None
        One of ``activations.ACTIVATIONS``; ``None`` means linear.
    use_bias : bool
        ``False`` drops ``b``: ``A = activation(X @ W)``.
    kernel_initializer, bias_initializer : str or callable
        Names from ``initializers.INITIALIZERS``; Keras's defaults.
    kernel_regularizer, bias_regularizer : str, Regularizer or None
        An L1/L2 penalty on ``W`` or ``b`` added to the loss.
    activity_regularizer, kernel_constraint, bias_constraint : None
        Anything else raises NotImplementedError.
    input_shape, input_dim, trainable, dtype, name
        See ``Layer``.

    Attributes
    ----------
    W : ndarray of shape (fan_in, units)
        The kernel.
    b : ndarray of shape (units,) or None
        The bias (None with ``use_bias=False``).
    """

    kind = "dense"

    def __init__(
        self,
        units: int,
        activation=None,
        use_bias: bool = True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        *,
        input_shape=None,
        input_dim=None,
        trainable: bool = True,
        dtype: str | None = None,
        name: str | None = None,
    ):
        self.units = check_units(units)
        refuse_constraints(
            activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint,
        )
        super().__init__(
            input_shape=input_shape,
            input_dim=input_dim,
            trainable=trainable,
            dtype=dtype,
            name=name,
        )
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.param_names = ("kernel", "bias") if self.use_bias else ("kernel",)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.b = None

    def build(self, fan_in, rng, dtype):
        dtype = self.dtype or np.dtype(dtype)
        self.dtype, self.fan_in = dtype, fan_in
        self.W = self.kernel_initializer((fan_in, self.units), rng, dtype).astype(dtype)
        self.params = [self.W]
        if self.use_bias:
            self.b = self.bias_initializer((self.units,), rng, dtype).astype(dtype)
            self.params.append(self.b)
        self.grads = [np.zeros_like(p) for p in self.params]
        self.built = True

    def apply(self, X, *weights):
        """``activation(X @ W + b)``, caching nothing: the forward pass to evaluate with.

        Parameters
        ----------
        X : ndarray of shape (n_samples, fan_in)
        *weights : ndarray, optional
            ``W`` of shape ``(fan_in, units)`` and ``b`` of shape ``(units,)`` (just
            ``W`` without a bias) to use instead of the layer's own, e.g. a
            point of a loss landscape.

        Returns
        -------
        A : ndarray of shape (n_samples, units)
        """
        W, *b = weights or self.params
        Z = X @ W + b[0] if b else X @ W
        return self.activation(Z)

    def forward(self, X):
        """``A = activation(X @ W + b)``, the training pass: ``apply`` plus a cache.

        Parameters
        ----------
        X : ndarray of shape (n_samples, fan_in)

        Returns
        -------
        A : ndarray of shape (n_samples, units)
            Also kept, with ``X`` and ``Z``, for the backward pass.
        """
        self.X = X
        self.Z = X @ self.W + self.b if self.use_bias else X @ self.W
        self.A = self.activation(self.Z)
        return self.A

    def backward(self, dA):
        """Send the gradient back through the layer.

        Parameters
        ----------
        dA : ndarray of shape (n_samples, units)
            ``dL/dA`` for the ``A`` of the last ``forward``.

        Returns
        -------
        dX : ndarray of shape (n_samples, fan_in)
            ``dL/dX``; ``dL/dW`` and ``dL/db`` are stored in ``grads``.
        """
        return self.backward_z(self.activation.backward(self.Z, self.A, dA))

    def backward_z(self, dZ):
        """The same, starting from ``dZ = dL/dZ`` (used by fused output losses)."""
        dW = self.grads[0]
        np.matmul(self.X.T, dZ, out=dW)  # dW = X.T @ dZ
        if self.kernel_regularizer is not None:
            dW += self.kernel_regularizer.gradient(self.W)
        if self.use_bias:
            db = self.grads[1]
            dZ.sum(axis=0, out=db)  # db = sum of dZ over the batch
            if self.bias_regularizer is not None:
                db += self.bias_regularizer.gradient(self.b)
        return dZ @ self.W.T  # dX

    def penalty(self):
        total = 0.0
        if self.kernel_regularizer is not None:
            total += self.kernel_regularizer.penalty(self.W)
        if self.bias_regularizer is not None and self.use_bias:
            total += self.bias_regularizer.penalty(self.b)
        return total

    def options(self) -> dict:
        opts = {}
        if not self.use_bias:
            opts["use_bias"] = False
        if self.bias_regularizer is not None:
            opts["bias_regularizer"] = self.bias_regularizer
        return opts

    def get_config(self) -> dict:
        def regularizer(r):
            return None if r is None else r.get_config()

        return {
            **super().get_config(),
            "units": self.units,
            "activation": self.activation.name,
            "use_bias": self.use_bias,
            "kernel_initializer": _initializer_name(self.kernel_initializer),
            "bias_initializer": _initializer_name(self.bias_initializer),
            "kernel_regularizer": regularizer(self.kernel_regularizer),
            "bias_regularizer": regularizer(self.bias_regularizer),
            "activity_regularizer": None,
            "kernel_constraint": None,
            "bias_constraint": None,
        }

    def __repr__(self) -> str:
        extra = "" if self.use_bias else ", use_bias=False"
        return f"Dense({self.units}, activation={self.activation.name!r}{extra})"
