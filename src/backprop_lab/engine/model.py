"""``Sequential``: a stack of layers; the training API comes from ``trainer.Trainer``."""

from __future__ import annotations

import numpy as np

from ._checks import check_positive_int
from .layers import Input, Layer
from .random import check_random_state
from .trainer import Trainer


def as_inputs(x, n_features: int | None, dtype) -> np.ndarray:
    """Check ``x`` and return it as a C-contiguous array of shape ``(n_samples, n_features)``."""
    X = np.asarray(x)
    if X.dtype == object or not np.issubdtype(X.dtype, np.number):
        raise TypeError(f"x must be numeric, got an array of dtype {X.dtype}")
    X = np.ascontiguousarray(X, dtype=dtype)
    if X.ndim != 2:
        raise ValueError(f"x must be 2-D (n_samples, n_features), got shape {X.shape}")
    if len(X) == 0:
        raise ValueError("x is empty; need at least one sample")
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(
            f"x has {X.shape[1]} columns but the model expects {n_features} input features"
        )
    if not np.all(np.isfinite(X)):
        raise ValueError("x contains NaN or infinite values; all inputs must be finite")
    return X


def output_activation(model) -> str:
    """The name of the activation that makes the model's output.

    The last layer's activation (``Dense`` or ``Activation``); trailing
    Dropout layers, the identity at inference, are looked through; any other
    layer (BatchNormalization) makes a ``"linear"`` output.
    """
    for layer in reversed(model.layers):
        act = getattr(layer, "activation", None)
        if act is not None:
            return act.name
        if not layer.identity_at_inference:
            break
    return "linear"


def problem_kind(model) -> str:
    """``"binary"``, ``"classes"`` or ``"regression"``, from the model's output.

    One sigmoid unit, or two softmax units, is binary; ``k > 2`` softmax units
    are ``k`` classes; one unit of any other activation (linear, for the loss
    ``"mse"``) is a regression.  ``Dense(1)`` then ``Activation("sigmoid")``
    counts as a sigmoid output (see ``output_activation``).

    Raises
    ------
    ValueError
        For several outputs that are not softmax probabilities.
    """
    act, units = output_activation(model), model.layers[-1].units
    if act == "softmax" and units > 2:
        return "classes"
    if act in ("sigmoid", "softmax"):
        return "binary"
    if units == 1:
        return "regression"
    raise ValueError(f"{units} {act} outputs are neither class probabilities nor one value")


def architecture(config: dict) -> str:
    """A compact architecture such as ``2 → 8 relu → 1 sigmoid`` from ``get_config()``.

    Works on a config read back from a run folder too; missing fields show as ``?``.
    """
    parts = [str(config.get("n_features") or "?")]
    for entry in config.get("layers") or []:
        # A Keras-like entry {"class_name", "config"}; older run folders kept the
        # fields of a Dense layer at the top level.
        kind, layer = entry.get("class_name", "Dense"), entry.get("config", entry)
        if kind == "Dense":
            parts.append(f"{layer.get('units', '?')} {layer.get('activation', '?')}")
        elif kind == "Activation":
            parts.append(str(layer.get("activation", "?")))
        elif kind == "Dropout":
            parts.append(f"dropout {layer.get('rate', '?')}")
        else:
            parts.append(kind)
    return " → ".join(parts)


class NotSupported(NotImplementedError, AttributeError):
    """A Keras name backprop_lab does not provide: a NotImplementedError saying what to use.

    It is an AttributeError too, so asking whether the name exists
    (``hasattr``, ``getattr`` with a default, ``inspect.getmembers``) answers
    "no" instead of failing, while using it fails with the message.
    """


class Sequential(Trainer):
    """A linear stack of layers, used as in Keras.

    Parameters
    ----------
    layers : list of Layer, optional
        The layers, first to last.  The first may carry ``input_shape``;
        otherwise the model is built from the first data it sees.
    seed : int, numpy Generator or None
        Seeds the initial weights, the shuffling of batches and the Dropout
        masks.  ``None`` draws from the global generator (see ``set_random_seed``).
    dtype : {"float32", "float64"}, optional
        Precision of weights and arithmetic; float32 by default, as in Keras.
    name : str, optional

    Attributes
    ----------
    rng : numpy.random.Generator
        The generator behind ``seed``: it draws the initial weights, then each
        epoch's order of the samples and the Dropout masks.
    engine_used : {"numpy", "compiled"} or None
        The engine the last ``fit`` ran.

    Examples
    --------
    >>> from backprop_lab import Sequential, Dense
    >>> model = Sequential([Dense(8, "relu", input_shape=(2,)), Dense(1, "sigmoid")])
    >>> model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
    """

    def __init__(self, layers=None, *, seed=None, dtype=None, name: str | None = None):
        self.layers: list[Layer] = []
        self.name = name or "sequential"
        self.rng = check_random_state(seed)
        self._dtype = None if dtype is None else np.dtype(dtype)
        self.compiled = False
        self.stop_training = False
        self.history = None
        self.engine_used: str | None = None  # "compiled" or "numpy", set by fit
        self._input_shape = None
        for layer in layers or []:
            self.add(layer)

    # ------------------------------------------------------------------ structure
    def add(self, layer: Layer | Input) -> None:
        if isinstance(layer, Input) and not self.layers:
            self._input_shape = layer.shape
            self._dtype = self._dtype or layer.dtype
            return
        if not isinstance(layer, Layer):
            raise TypeError(
                f"Sequential takes layers such as Dense, Dropout, Activation or "
                f"BatchNormalization, got {layer!r}"
            )
        self.layers.append(layer)
        self._weights_changed()
        if len(self.layers) == 1:
            shape = layer.input_shape or self._input_shape
            if shape is not None:
                self.build(shape[0])
        elif self.layers[-2].built:
            layer.build(self.layers[-2].units, self.rng, self.dtype)

    def pop(self) -> Layer:
        """Remove the last layer and return it, as Keras's ``pop()``."""
        if not self.layers:
            raise ValueError("pop() needs a layer to remove; the model has no layers")
        self._weights_changed()
        return self.layers.pop()

    def _weights_changed(self) -> None:
        """A layer came or went: the optimizer makes its slots again at its next step."""
        if self.compiled:
            self.optimizer.built = False

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """The layer called ``name``, or at position ``index`` (Keras's rules and messages)."""
        if index is not None and name is not None:
            raise ValueError(
                f"Provide only a layer name or a layer index. Received: index={index}, name={name}."
            )
        if index is not None:
            if len(self.layers) <= index:
                raise ValueError(
                    f"Was asked to retrieve layer at index {index} but model only has "
                    f"{len(self.layers)} layers."
                )
            return self.layers[index]
        if name is not None:
            for layer in self.layers:
                if layer.name == name:
                    return layer
            names = [layer.name for layer in self.layers]
            raise ValueError(f"No such layer: {name}. Existing layers are: {names}.")
        raise ValueError("Provide either a layer name or layer index at `get_layer`.")

    @property
    def dtype(self) -> np.dtype:
        first = self.layers[0].dtype if self.layers else None
        return self._dtype or first or np.dtype("float32")

    @property
    def built(self) -> bool:
        return bool(self.layers) and all(layer.built for layer in self.layers)

    @property
    def n_features(self) -> int | None:
        return self.layers[0].fan_in if self.built else None

    @property
    def input_shape(self) -> tuple:
        """``(None, n_features)``, as Keras shows it (None: any number of samples)."""
        if not self.built:
            raise ValueError(f"Sequential model {self.name!r} has no defined input shape yet")
        return (None, self.n_features)

    @property
    def output_shape(self) -> tuple:
        """``(None, units)`` of the last layer."""
        if not self.built:
            raise ValueError(f"Sequential model {self.name!r} has no defined output shape yet")
        return (None, self.layers[-1].units)

    def build(self, n_features: int) -> None:
        """Create every layer's weights for inputs of ``n_features`` columns."""
        if not self.layers:
            raise ValueError("the model has no layers; add at least one Dense layer")
        fan_in = check_positive_int("n_features", n_features)
        for layer in self.layers:
            layer.build(fan_in, self.rng, self.dtype)
            fan_in = layer.units

    @property
    def params(self) -> list[np.ndarray]:
        """The trainable arrays, layer by layer (what the optimizer updates)."""
        return [p for layer in self.layers for p in layer.params]

    @property
    def grads(self) -> list[np.ndarray]:
        return [g for layer in self.layers for g in layer.grads]

    @property
    def weights(self) -> list[np.ndarray]:
        """Every layer's ``weights`` (the arrays themselves, not copies), in Keras's order."""
        return [w for layer in self.layers for w in layer.weights]

    @property
    def trainable_weights(self) -> list[np.ndarray]:
        return self.params

    @property
    def non_trainable_weights(self) -> list[np.ndarray]:
        """BatchNormalization's moving statistics."""
        return [w for layer in self.layers for w in layer.state]

    def count_params(self) -> int:
        """All weights, the non-trainable ones too, as Keras counts."""
        return sum(w.size for w in self.weights)

    def get_weights(self) -> list[np.ndarray]:
        """Copies of ``weights``: ``[W1, b1, W2, b2, ...]`` for Dense layers, ``W`` of
        shape ``(fan_in, units)``; BatchNormalization adds ``gamma, beta,
        moving_mean, moving_variance``."""
        return [w.copy() for w in self.weights]

    def set_weights(self, weights) -> None:
        """Load arrays shaped as ``get_weights()`` in place."""
        own = self.weights
        weights = list(weights)
        if len(weights) != len(own):
            raise ValueError(
                f"set_weights got {len(weights)} arrays, the model has {len(own)} "
                "(as get_weights() returns: a kernel and a bias per Dense layer)"
            )
        for i, (p, w) in enumerate(zip(own, weights)):
            w = np.asarray(w)
            if w.shape != p.shape:
                raise ValueError(f"weight {i} has shape {w.shape}, expected {p.shape}")
            if not np.all(np.isfinite(w)):
                raise ValueError(f"weight {i} contains NaN or infinite values")
        for p, w in zip(own, weights):
            p[...] = w

    # ------------------------------------------------------------------ math
    def layer_outputs(self, X: np.ndarray, weights=None) -> list[np.ndarray]:
        """``[X, A_1, ..., A_L]``: the input and every layer's inference output, caching nothing.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            In the model's dtype (see ``apply`` for any array-like).
        weights : list of ndarray, optional
            Arrays shaped as ``get_weights()`` to use instead of the model's own;
            the model is not changed.

        Returns
        -------
        list of ndarray, the ``i``-th of shape ``(n_samples, units_i)``
        """
        out, start = [X], 0
        for layer in self.layers:
            n = len(layer.weights)
            own = weights is None
            out.append(
                layer.apply(out[-1]) if own else layer.apply(out[-1], *weights[start : start + n])
            )
            start += n
        return out

    def apply(self, X: np.ndarray, weights=None) -> np.ndarray:
        """The network's output ``P`` of shape ``(n_samples, units)``, caching nothing.

        A pure function of ``X`` and the weights (the model's, or ``weights``):
        what pictures, the loss landscape and the recording of frames evaluate with.
        """
        return self.layer_outputs(X, weights)[-1]

    def forward(self, X: np.ndarray) -> np.ndarray:
        """The training pass: every layer's ``forward``, which keeps what ``backward`` needs
        (Dropout draws its masks, BatchNormalization updates its moving statistics).

        Returns the output ``P`` of shape ``(n_samples, units)``."""
        for layer in self.layers:
            X = layer.forward(X)
        return X

    def backward(self, Y: np.ndarray, P: np.ndarray, weights: np.ndarray | None = None) -> None:
        """Fill every layer's ``grads`` with the gradient of the loss at ``P = forward(X)``.

        ``weights`` (shape ``(n_samples,)``), if given, weigh each sample's loss
        as Keras's ``sample_weight`` does.
        """
        last = self.layers[-1]
        act = getattr(last, "activation", None)
        extra = () if weights is None else (weights,)  # a custom loss may not take weights
        # Dense and Activation layers start from dL/dZ when the loss fuses with their activation.
        if act is not None and self.loss.fuses_with == act.name:
            dX = last.backward_z(self.loss.backward_logits(Y, P, *extra))
        else:
            dX = last.backward(self.loss.backward(Y, P, *extra))
        for layer in reversed(self.layers[:-1]):
            dX = layer.backward(dX)

    def penalty(self) -> float:
        """Sum of the layers' regularization terms."""
        return sum(layer.penalty() for layer in self.layers)

    # ------------------------------------------------------------------ data
    def _inputs(self, x) -> np.ndarray:
        X = as_inputs(x, self.n_features, self.dtype)
        if not self.built:
            self.build(X.shape[1])
        return X

    # ------------------------------------------------------------------ display
    def summary(self, print_fn=print) -> None:
        """Print the layers, their output shapes and parameter counts."""
        rows = [("Layer (type)", "Output Shape", "Param #")]
        for layer in self.layers:
            act = getattr(layer, "activation", None)
            kind = type(layer).__name__ + ("" if act is None else f", {act.name}")
            shape = f"(None, {layer.units})" if layer.built else "?"
            n = layer.count_params() if layer.built else "?"
            rows.append((f"{layer.name} ({kind})", shape, n))
        widths = [max(len(str(r[c])) for r in rows) + 2 for c in range(3)]
        line = "-" * sum(widths)
        print_fn(f'Model: "{self.name}"')
        print_fn(line)
        for j, row in enumerate(rows):
            print_fn("".join(str(v).ljust(w) for v, w in zip(row, widths)))
            if j == 0:
                print_fn(line)
        print_fn(line)
        if self.built:
            trainable = sum(p.size for p in self.params)
            print_fn(f"Total params: {self.count_params()}")
            print_fn(f"Trainable params: {trainable}")
            print_fn(f"Non-trainable params: {self.count_params() - trainable}")
        else:
            print_fn("Total params: ? (not built yet)")
        print_fn(f"dtype: {self.dtype.name}")
        if self.compiled:
            print_fn(f"Optimizer: {self.optimizer!r}  Loss: {self.loss.name}")
            used = self.engine_used or self._engine_preview()
            print_fn(f"Engine: {self.engine} ({used})")

    def get_config(self) -> dict:
        """The architecture: each layer as Keras serializes it (``class_name`` and its
        ``config``) with its output width ``units``; ``architecture()`` reads it."""
        layers = [
            {
                "class_name": type(layer).__name__,
                "config": layer.get_config(),
                "units": getattr(layer, "units", None),
            }
            for layer in self.layers
        ]
        return {
            "name": self.name,
            "dtype": self.dtype.name,
            "n_features": self.n_features,
            "layers": layers,
        }

    # ------------------------------------------------------------------ Keras model files
    # The .keras format lives in keras_format, imported only when a file is written or read.
    def save(self, filepath, overwrite: bool = True) -> None:
        """Write Keras 3's ``.keras`` file (a zip of the config and the weights)."""
        from . import keras_format

        keras_format.save_model(self, filepath, overwrite=overwrite)

    def save_weights(self, filepath, overwrite: bool = True) -> None:
        """Write the weights as Keras's ``.weights.h5`` file."""
        from . import keras_format

        keras_format.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath) -> None:
        """Load weights that ``save_weights`` (here or in Keras) wrote."""
        from . import keras_format

        keras_format.load_weights(self, filepath)

    def to_json(self) -> str:
        """The model's config as Keras's JSON (``keras.models.model_from_json`` reads it)."""
        from . import keras_format

        return keras_format.to_json(self)

    def __repr__(self) -> str:
        inner = ", ".join(repr(layer) for layer in self.layers)
        return f"Sequential([{inner}])"

    def __call__(self, x, training: bool = False) -> np.ndarray:
        """The output for ``x``: ``predict``, or with ``training=True`` the training pass
        (Dropout masks drawn, BatchNormalization on the batch's statistics), as Keras."""
        if training:
            return self.forward(self._inputs(x))
        return self.predict(x, verbose=0)


# Keras names a script reaches for that Sequential does not provide, with what to
# do instead: they raise NotSupported (a NotImplementedError, as the README promises).
_KERAS_ATTRIBUTES = ("input", "output")
_NOT_IMPLEMENTED = {
    "input": "the model takes arrays of shape (n_samples, n_features); see n_features",
    "output": "predict(x) returns the network's output",
    "export": "save('model.keras') writes Keras's own model file",
    "quantize": "the engine computes in float32 or float64 (Sequential(dtype=...))",
    "from_config": "keras.models.model_from_json(model.to_json()) rebuilds a model",
}


def _not_implemented(name: str, instead: str):
    def refuse(self, *args, **kwargs):
        raise NotSupported(
            f"Sequential.{name} is not supported by backprop_lab; instead: {instead}"
        )

    refuse.__name__ = refuse.__qualname__ = name
    refuse.__doc__ = (
        f"Not supported: raises NotSupported (a NotImplementedError). Instead: {instead}."
    )
    return property(refuse) if name in _KERAS_ATTRIBUTES else refuse


for _name, _instead in _NOT_IMPLEMENTED.items():
    setattr(Sequential, _name, _not_implemented(_name, _instead))
