"""``Layer``, the interface every layer offers, and ``Input``.

A built layer turns ``X`` of shape ``(n_samples, fan_in)`` into ``A`` of shape
``(n_samples, units)``:

- ``apply(X, *weights)`` is the inference pass: pure, it caches nothing and
  changes nothing (Dropout is the identity, BatchNormalization uses its
  moving statistics);
- ``forward(X)`` is the training pass, keeping what ``backward`` needs;
- ``backward(dA)`` returns ``dX`` and stores ``dL/dparam`` in ``grads``.

``params``/``grads`` are the trainable arrays and their gradients (aligned
lists); ``weights`` adds the non-trainable state, in Keras's ``get_weights()``
order.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from numbers import Integral

import numpy as np

from .._checks import check_positive_int

# How many layers of each kind have been named so far, for Keras's names
# ``dense``, ``dense_1``, ... (like Keras, counted over the whole session).
_NAMES_USED: defaultdict[str, int] = defaultdict(int)
_NAMES_LOCK = threading.Lock()


def unique_name(prefix: str) -> str:
    """``prefix`` the first time, then ``prefix_1``, ``prefix_2``, ... as Keras names layers."""
    with _NAMES_LOCK:  # models may be built in several threads (experiments, fit_many)
        n = _NAMES_USED[prefix]
        _NAMES_USED[prefix] += 1
    return prefix if n == 0 else f"{prefix}_{n}"


def check_dtype(dtype) -> np.dtype | None:
    """``None``, or ``dtype`` as float32 or float64 (the precisions the engine computes in)."""
    if dtype is None:
        return None
    if np.dtype(dtype) not in (np.float32, np.float64):
        raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
    return np.dtype(dtype)


def flat_shape(what: str, shape) -> tuple[int]:
    """``shape`` as ``(n_features,)``; other shapes are refused."""
    shape = tuple(shape)
    if len(shape) != 1:
        raise NotImplementedError(
            f"{what} {shape} is not supported; only flat inputs (n_features,) are"
        )
    return (check_positive_int(f"{what}[0]", shape[0]),)


class Layer:
    """Base class of the layers.

    Parameters
    ----------
    input_shape : tuple of one int, optional
        ``(n_features,)`` for the first layer of a model.
    input_dim : int, optional
        The same as ``input_shape=(input_dim,)``, as Keras still accepts.
    trainable : bool
        Only ``True`` is supported (frozen layers are not).
    dtype : {"float32", "float64"}, optional
    name : str, optional
        Keras's automatic name (``dense``, ``dense_1``, ...) when not given.
    """

    #: Keras's name for the kind of layer, the prefix of automatic names.
    kind = "layer"
    #: Keras's names of ``params`` (the trainable arrays), e.g. ("kernel", "bias"),
    #: and of ``state`` (the non-trainable ones).
    param_names: tuple[str, ...] = ()
    state_names: tuple[str, ...] = ()
    #: True for a layer whose inference pass returns its input (Dropout).
    identity_at_inference = False

    def __init__(self, *, input_shape=None, input_dim=None, trainable=True, dtype=None, name=None):
        if input_dim is not None:
            if isinstance(input_dim, bool) or not isinstance(input_dim, Integral):
                raise ValueError(f"input_dim must be a positive integer, got {input_dim!r}")
            input_shape = (input_dim,)
        self.input_shape = None if input_shape is None else flat_shape("input_shape", input_shape)
        self.trainable = trainable
        if name is not None and not isinstance(name, str):
            raise ValueError(f"name must be a string, got {name!r}")
        self.name = name or unique_name(self.kind)
        self.dtype = check_dtype(dtype)
        self.built = False
        self.params: list[np.ndarray] = []
        self.grads: list[np.ndarray] = []

    @property
    def trainable(self) -> bool:
        """Always True: freezing a layer (``trainable = False``) is not supported."""
        return True

    @trainable.setter
    def trainable(self, value) -> None:
        if value is not True:
            raise NotImplementedError(
                f"trainable={value!r} is not supported by backprop_lab: every layer trains"
            )

    def __call__(self, *args, **kwargs):
        raise NotImplementedError(
            "calling a layer on a tensor (Keras's functional API) is not supported by "
            "backprop_lab; stack the layers in a Sequential"
        )

    # ------------------------------------------------------------------ state
    @property
    def weights(self) -> list[np.ndarray]:
        """The trainable ``params`` then the non-trainable ``state``: Keras's ``get_weights()``."""
        return [*self.params, *self.state]

    @property
    def weight_names(self) -> tuple[str, ...]:
        """Keras's names of ``weights``, in the same order."""
        return (*self.param_names, *self.state_names)

    @property
    def state(self) -> list[np.ndarray]:
        """Non-trainable arrays (BatchNormalization's moving statistics); none by default."""
        return []

    def get_weights(self) -> list[np.ndarray]:
        """Copies of ``weights``, as Keras's ``layer.get_weights()``."""
        return [w.copy() for w in self.weights]

    def set_weights(self, weights) -> None:
        """Load arrays shaped as ``get_weights()`` into the layer, in place."""
        weights = [np.asarray(w) for w in weights]
        own = self.weights
        if len(weights) != len(own) or any(w.shape != o.shape for w, o in zip(weights, own)):
            raise ValueError(
                f"{self.name} expects weights of shapes {[o.shape for o in own]}, "
                f"got {[w.shape for w in weights]}"
            )
        for o, w in zip(own, weights):
            o[...] = w

    def build(self, fan_in: int, rng: np.random.Generator, dtype) -> None:
        """Create the weights for inputs of ``fan_in`` columns; ``rng`` is the model's generator.

        This default suits layers without weights whose output has the input's width.
        """
        self.dtype = self.dtype or np.dtype(dtype)
        self.fan_in = self.units = fan_in
        self.built = True

    # ------------------------------------------------------------------ math
    def apply(self, X: np.ndarray, *weights: np.ndarray) -> np.ndarray:
        """The inference output for ``X`` with the layer's ``weights``, or with ``weights``
        given in their place (same order and shapes); caches and changes nothing.

        A layer without its own ``apply`` runs ``forward``, and takes no other weights.
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

    # ------------------------------------------------------------------ description
    def count_params(self) -> int:
        """Number of values in ``weights`` (Keras counts the moving statistics too)."""
        return sum(w.size for w in self.weights)

    def get_config(self) -> dict:
        """Keras's layer config: ``name``, ``trainable``, ``dtype`` and the layer's arguments."""
        dtype = None if self.dtype is None else self.dtype.name
        return {"name": self.name, "trainable": self.trainable, "dtype": dtype}

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Input:
    """Declares the input width, as ``keras.Input(shape=(n_features,))`` does.

    Put first in a ``Sequential``; it holds no weights.  ``dtype`` (float32 or
    float64) becomes the model's.
    """

    def __init__(self, shape, *, dtype=None, name: str | None = None):
        self.shape = flat_shape("Input shape", shape)
        self.dtype = check_dtype(dtype)
        self.name = name

    def __repr__(self) -> str:
        return f"Input(shape={self.shape})"
