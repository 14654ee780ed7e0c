"""Layers.  A layer turns ``X`` of shape ``(n_samples, fan_in)`` into ``A`` of
shape ``(n_samples, units)`` in ``forward`` and sends the gradient back in
``backward``, with each gradient written next to the forward line it
differentiates.
"""

from __future__ import annotations

import numpy as np

from . import activations, initializers, regularizers
from ._checks import check_positive_int


class Layer:
    """Base class.  Subclasses set ``params`` and ``grads`` (aligned lists) when built."""

    def __init__(self, *, input_shape=None, name: str | None = None):
        if input_shape is not None:
            input_shape = tuple(input_shape)
            if len(input_shape) != 1:
                raise NotImplementedError(
                    f"input_shape {input_shape} is not supported; only flat inputs "
                    "(n_features,) are"
                )
            check_positive_int("input_shape[0]", input_shape[0])
        self.input_shape = input_shape
        self.name = name
        self.built = False
        self.params: list[np.ndarray] = []
        self.grads: list[np.ndarray] = []

    def build(self, fan_in: int, rng: np.random.Generator, dtype) -> None:
        raise NotImplementedError

    def apply(self, X: np.ndarray, *weights: np.ndarray) -> np.ndarray:
        """The layer's output for ``X`` with its own weights, or with ``weights``
        (one array per entry of ``params``) in their place.

        A layer that caches in ``forward`` should override this with a pure
        version; this default runs ``forward`` and takes no other weights.
        """
        if weights:
            raise NotImplementedError(
                f"{type(self).__name__} cannot be evaluated with other weights: define apply()"
            )
        return self.forward(X)

    def forward(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dA: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def penalty(self) -> float:
        """The regularization term this layer adds to the loss."""
        return 0.0

    def options(self) -> dict:
        """Options that change the math from the plain layer (e.g. ``use_bias=False``):
        the compiled engine runs only a layer with none."""
        return {}


class Dense(Layer):
    """A fully connected layer ``A = activation(X @ W + b)``.

    Parameters
    ----------
    units : int
        Number of neurons, the width of the output.
    activation : str, Activation or None
        One of ``activations.ACTIVATIONS``; ``None`` means linear.
    input_shape : tuple of one int, optional
        ``(n_features,)`` for the first layer; otherwise the model builds the
        layer from the first data it sees.
    kernel_initializer, bias_initializer : str or callable
        Names from ``initializers.INITIALIZERS``; Keras's defaults.
    kernel_regularizer : str, Regularizer or None
        An L1/L2 penalty on ``W`` added to the loss.
    dtype : str, optional
        ``"float32"`` (default) or ``"float64"``.

    Attributes
    ----------
    W : ndarray of shape (fan_in, units)
        The kernel.
    b : ndarray of shape (units,)
        The bias.
    """

    def __init__(
        self,
        units: int,
        activation=None,
        *,
        input_shape=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        dtype: str | None = None,
        name: str | None = None,
    ):
        super().__init__(input_shape=input_shape, name=name)
        self.units = check_positive_int("units", units)
        self.activation = activations.get(activation)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        if dtype is not None and np.dtype(dtype) not in (np.float32, np.float64):
            raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
        self.dtype = None if dtype is None else np.dtype(dtype)

    def build(self, fan_in, rng, dtype):
        dtype = self.dtype or np.dtype(dtype)
        self.dtype = dtype
        self.W = self.kernel_initializer((fan_in, self.units), rng, dtype).astype(dtype)
        self.b = self.bias_initializer((self.units,), rng, dtype).astype(dtype)
        self.params = [self.W, self.b]
        self.grads = [np.zeros_like(self.W), np.zeros_like(self.b)]
        self.built = True

    def apply(self, X, W=None, b=None):
        """``activation(X @ W + b)``, caching nothing: the forward pass to evaluate with.

        Parameters
        ----------
        X : ndarray of shape (n_samples, fan_in)
        W : ndarray of shape (fan_in, units), optional
            A kernel to use instead of the layer's (e.g. a point of a loss landscape).
        b : ndarray of shape (units,), optional
            A bias to use instead of the layer's.

        Returns
        -------
        A : ndarray of shape (n_samples, units)
        """
        W = self.W if W is None else W
        b = self.b if b is None else b
        return self.activation(X @ W + b)

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
        self.Z = X @ self.W + self.b
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
        dW, db = self.grads
        np.matmul(self.X.T, dZ, out=dW)  # dW = X.T @ dZ
        dZ.sum(axis=0, out=db)  # db = sum of dZ over the batch
        if self.kernel_regularizer is not None:
            dW += self.kernel_regularizer.gradient(self.W)
        return dZ @ self.W.T  # dX

    def penalty(self):
        if self.kernel_regularizer is None:
            return 0.0
        return self.kernel_regularizer.penalty(self.W)

    def get_config(self) -> dict:
        return {
            "class_name": "Dense",
            "units": self.units,
            "activation": self.activation.name,
            "kernel_initializer": getattr(self.kernel_initializer, "__name__", "custom"),
            "bias_initializer": getattr(self.bias_initializer, "__name__", "custom"),
            "kernel_regularizer": None
            if self.kernel_regularizer is None
            else self.kernel_regularizer.get_config(),
        }

    def count_params(self) -> int:
        return sum(p.size for p in self.params)

    def __repr__(self) -> str:
        act = self.activation.name
        return f"Dense({self.units}, activation={act!r})"


class Input:
    """Declares the input width, as ``keras.Input(shape=(n_features,))`` does.

    Put first in a ``Sequential``; it holds no weights.
    """

    def __init__(self, shape):
        shape = tuple(shape)
        if len(shape) != 1:
            raise NotImplementedError(
                f"Input shape {shape} is not supported; only flat inputs (n_features,) are"
            )
        self.shape = (check_positive_int("shape[0]", shape[0]),)

    def __repr__(self) -> str:
        return f"Input(shape={self.shape})"
