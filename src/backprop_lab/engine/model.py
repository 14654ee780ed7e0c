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


def problem_kind(model) -> str:
    """``"binary"``, ``"classes"`` or ``"regression"``, from the model's last layer.

    One sigmoid unit, or two softmax units, is binary; ``k > 2`` softmax units
    are ``k`` classes; one unit of any other activation (linear, for the loss
    ``"mse"``) is a regression.

    Raises
    ------
    ValueError
        For several outputs that are not softmax probabilities.
    """
    last = model.layers[-1]
    act, units = last.activation.name, last.units
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
    layers = config.get("layers") or []
    parts = [str(config.get("n_features") or "?")]
    parts += [f"{layer.get('units', '?')} {layer.get('activation', '?')}" for layer in layers]
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
        Seeds the initial weights and the shuffling of batches.  ``None``
        draws from the global generator (see ``set_random_seed``).
    dtype : {"float32", "float64"}, optional
        Precision of weights and arithmetic; float32 by default, as in Keras.
    name : str, optional

    Attributes
    ----------
    rng : numpy.random.Generator
        The generator behind ``seed``: it draws the initial weights, then each
        epoch's order of the samples.
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
            return
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential takes layers such as Dense, got {layer!r}")
        self.layers.append(layer)
        if len(self.layers) == 1:
            shape = layer.input_shape or self._input_shape
            if shape is not None:
                self.build(shape[0])
        elif self.layers[-2].built:
            layer.build(self.layers[-2].units, self.rng, self.dtype)

    @property
    def dtype(self) -> np.dtype:
        first = self.layers[0].dtype if self.layers else None
        return self._dtype or first or np.dtype("float32")

    @property
    def built(self) -> bool:
        return bool(self.layers) and all(layer.built for layer in self.layers)

    @property
    def n_features(self) -> int | None:
        return self.layers[0].W.shape[0] if self.built else None

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
        return [p for layer in self.layers for p in layer.params]

    @property
    def grads(self) -> list[np.ndarray]:
        return [g for layer in self.layers for g in layer.grads]

    def count_params(self) -> int:
        return sum(p.size for p in self.params)

    def get_weights(self) -> list[np.ndarray]:
        """Copies of ``[W1, b1, W2, b2, ...]``; ``W`` of shape ``(fan_in, units)``."""
        return [p.copy() for p in self.params]

    def set_weights(self, weights) -> None:
        """Load ``[W1, b1, ...]`` in place; shapes must match ``get_weights()``."""
        params = self.params
        weights = list(weights)
        if len(weights) != len(params):
            raise ValueError(
                f"set_weights got {len(weights)} arrays, the model has {len(params)} "
                "(a kernel and a bias per layer)"
            )
        for i, (p, w) in enumerate(zip(params, weights)):
            w = np.asarray(w)
            if w.shape != p.shape:
                raise ValueError(f"weight {i} has shape {w.shape}, expected {p.shape}")
            if not np.all(np.isfinite(w)):
                raise ValueError(f"weight {i} contains NaN or infinite values")
        for p, w in zip(params, weights):
            p[...] = w

    # ------------------------------------------------------------------ math
    def layer_outputs(self, X: np.ndarray, weights=None) -> list[np.ndarray]:
        """``[X, A_1, ..., A_L]``: the input and every layer's output, caching nothing.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            In the model's dtype (see ``apply`` for any array-like).
        weights : list of ndarray, optional
            ``[W1, b1, W2, b2, ...]`` to use instead of the model's own, shaped as
            ``get_weights()``; the model is not changed.

        Returns
        -------
        list of ndarray, the ``i``-th of shape ``(n_samples, units_i)``
        """
        out, start = [X], 0
        for layer in self.layers:
            n = len(layer.params)
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
        """The training pass: every layer's ``forward``, which keeps what ``backward`` needs.

        Returns the output ``P`` of shape ``(n_samples, units)``."""
        for layer in self.layers:
            X = layer.forward(X)
        return X

    def backward(self, Y: np.ndarray, P: np.ndarray) -> None:
        """Fill every layer's ``grads`` with the gradient of the loss at ``P = forward(X)``."""
        last = self.layers[-1]
        if self.loss.fuses_with == last.activation.name:
            dX = last.backward_z(self.loss.backward_logits(Y, P))
        else:
            dX = last.backward(self.loss.backward(Y, P))
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
        for i, layer in enumerate(self.layers):
            name = layer.name or f"dense_{i}"
            n = layer.count_params() if layer.built else "?"
            rows.append((f"{name} (Dense, {layer.activation.name})", f"(None, {layer.units})", n))
        widths = [max(len(str(r[c])) for r in rows) + 2 for c in range(3)]
        line = "-" * sum(widths)
        print_fn(f'Model: "{self.name}"')
        print_fn(line)
        for j, row in enumerate(rows):
            print_fn("".join(str(v).ljust(w) for v, w in zip(row, widths)))
            if j == 0:
                print_fn(line)
        print_fn(line)
        total = self.count_params() if self.built else "? (not built yet)"
        print_fn(f"Total params: {total}")
        print_fn(f"dtype: {self.dtype.name}")
        if self.compiled:
            print_fn(f"Optimizer: {self.optimizer!r}  Loss: {self.loss.name}")
            used = self.engine_used or self._engine_preview()
            print_fn(f"Engine: {self.engine} ({used})")

    def get_config(self) -> dict:
        return {
            "name": self.name,
            "dtype": self.dtype.name,
            "n_features": self.n_features,
            "layers": [layer.get_config() for layer in self.layers],
        }

    def __repr__(self) -> str:
        inner = ", ".join(repr(layer) for layer in self.layers)
        return f"Sequential([{inner}])"

    def __call__(self, x) -> np.ndarray:
        return self.predict(x, verbose=0)


# Keras names a script reaches for that Sequential does not provide yet, with what
# to use instead: they raise NotSupported (a NotImplementedError, as the README
# promises).  The first three are attributes in Keras, the rest methods.
_KERAS_ATTRIBUTES = ("metrics_names", "weights", "trainable_weights")
_NOT_IMPLEMENTED = {
    "metrics_names": "evaluate returns [loss, accuracy] (just the loss without metrics)",
    "weights": "get_weights() returns copies of the arrays [W1, b1, W2, b2, ...]",
    "trainable_weights": "get_weights() returns copies of the arrays [W1, b1, W2, b2, ...]",
    "save": "backprop_lab.runs.modelio.save_model(model, folder) writes model.safetensors "
    "+ model.json (what the CLI writes in every run folder); load_model(folder) reads them",
    "save_weights": "get_weights() returns the arrays; backprop_lab.runs.modelio.save_model"
    "(model, folder) writes them with the architecture",
    "load_weights": "set_weights(arrays), or backprop_lab.runs.modelio.load_model(folder) "
    "for a folder that save_model wrote",
    "to_json": "get_config() returns the architecture as a dict",
    "get_layer": "model.layers is the list of layers, first to last",
    "pop": "build a new Sequential from the layers you keep",
    "train_on_batch": "fit(x, y, batch_size=len(x), epochs=1, verbose=0)",
    "test_on_batch": "evaluate(x, y, verbose=0)",
    "predict_on_batch": "predict(x, verbose=0)",
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
