"""Model files: weights in safetensors, architecture and training setup in JSON.

``save_model(model, folder)`` writes ``model.safetensors`` and ``model.json``;
``load_model(folder)`` reads them back.  Loading never executes anything from
the files (no pickle): the JSON is checked against a fixed schema, every tensor
name, shape and dtype is checked against the architecture, and the JSON keeps
the SHA-256 of the weights file so a truncated or altered file is refused.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
from safetensors.numpy import load as st_load
from safetensors.numpy import save as st_save

from ..engine import activations, losses, optimizers
from ..engine.layers import Dense
from ..engine.model import Sequential
from .fileio import read_json_object, write_atomic

FORMAT = "backprop-lab-model"
VERSION = 1
WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "model.json"


class ModelFileError(ValueError):
    """A model file is missing, malformed, or does not match its description."""


def _tensor_names(i: int) -> tuple[str, str]:
    return f"layers.{i}.kernel", f"layers.{i}.bias"


def save_model(model: Sequential, folder: str | Path) -> None:
    """Write ``model.safetensors`` and ``model.json`` into ``folder`` (which must exist)."""
    folder = Path(folder)
    for i, layer in enumerate(model.layers):
        # The run folder's format holds what the CLI builds; a Keras script's
        # other layers go to Keras's own file (model.save("m.keras")).
        if type(layer) is not Dense or layer.options():
            what = type(layer).__name__ if type(layer) is not Dense else repr(layer)
            raise NotImplementedError(
                f"run-folder model files hold plain Dense layers only, and layer {i} is {what}; "
                "save the model with model.save('model.keras') instead"
            )
    tensors = {}
    for i, layer in enumerate(model.layers):
        kernel, bias = _tensor_names(i)
        tensors[kernel], tensors[bias] = layer.W, layer.b
    blob = st_save(tensors, metadata={"format": FORMAT})
    config = {
        "format": FORMAT,
        "version": VERSION,
        "dtype": model.dtype.name,
        "n_features": model.n_features,
        "layers": [
            {"units": layer.units, "activation": layer.activation.name} for layer in model.layers
        ],
        "training": {
            "loss": model.loss.name if model.compiled else None,
            "optimizer": model.optimizer.get_config() if model.compiled else None,
        },
        "weights_sha256": hashlib.sha256(blob).hexdigest(),
    }
    write_atomic(folder / WEIGHTS_FILE, blob)
    write_atomic(folder / CONFIG_FILE, (json.dumps(config, indent=2) + "\n").encode())


def _expect(cond: bool, where: Path, message: str) -> None:
    if not cond:
        raise ModelFileError(f"{where}: {message}")


def _read_config(path: Path) -> dict:
    if not path.exists():
        raise ModelFileError(f"{path} is missing")
    config = read_json_object(path, error=ModelFileError)
    _expect(config.get("format") == FORMAT, path, f"format is not {FORMAT!r}")
    _expect(
        config.get("version") == VERSION, path, f"unsupported version {config.get('version')!r}"
    )
    _expect(config.get("dtype") in ("float32", "float64"), path, "dtype must be float32 or float64")
    n = config.get("n_features")
    _expect(isinstance(n, int) and n >= 1, path, "n_features must be a positive integer")
    layers = config.get("layers")
    _expect(isinstance(layers, list) and len(layers) >= 1, path, "layers must be a non-empty list")
    for i, layer in enumerate(layers):
        _expect(isinstance(layer, dict), path, f"layer {i} must be an object")
        units = layer.get("units")
        _expect(isinstance(units, int) and units >= 1, path, f"layer {i} units must be >= 1")
        _expect(
            layer.get("activation") in activations.ACTIVATIONS,
            path,
            f"layer {i} has unknown activation {layer.get('activation')!r}",
        )
    sha = config.get("weights_sha256")
    _expect(isinstance(sha, str) and len(sha) == 64, path, "weights_sha256 is missing")
    training = config.get("training") or {}
    _expect(isinstance(training, dict), path, "training must be an object")
    if training.get("loss") is not None:
        _expect(training["loss"] in losses.LOSSES, path, f"unknown loss {training['loss']!r}")
    opt = training.get("optimizer")
    if opt is not None:
        _expect(
            isinstance(opt, dict) and opt.get("name") in optimizers.OPTIMIZERS,
            path,
            "unknown optimizer",
        )
    return config


def load_model(folder: str | Path) -> Sequential:
    """Rebuild the model saved in ``folder``, compiled as it was trained.

    Raises
    ------
    ModelFileError
        With a one-line message naming the file and what is wrong.
    """
    folder = Path(folder)
    config = _read_config(folder / CONFIG_FILE)
    weights_path = folder / WEIGHTS_FILE
    try:
        blob = weights_path.read_bytes()
    except FileNotFoundError:
        raise ModelFileError(f"{weights_path} is missing") from None
    _expect(
        hashlib.sha256(blob).hexdigest() == config["weights_sha256"],
        weights_path,
        "contents do not match the checksum in model.json (truncated or altered file)",
    )
    try:
        tensors = st_load(blob)
    except Exception as e:  # safetensors raises its own error types for bad headers
        raise ModelFileError(f"{weights_path} is not a valid safetensors file ({e})") from None
    dtype = np.dtype(config["dtype"])
    # A private seed: the throw-away initial weights must not consume the global stream.
    model = Sequential(dtype=dtype, seed=0)
    fan_in = config["n_features"]
    expected = set()
    for i, spec in enumerate(config["layers"]):
        kernel, bias = _tensor_names(i)
        for name, shape in ((kernel, (fan_in, spec["units"])), (bias, (spec["units"],))):
            expected.add(name)
            _expect(name in tensors, weights_path, f"tensor {name} is missing")
            t = tensors[name]
            _expect(t.shape == shape, weights_path, f"{name} has shape {t.shape}, expected {shape}")
            _expect(t.dtype == dtype, weights_path, f"{name} has dtype {t.dtype}, expected {dtype}")
            _expect(bool(np.all(np.isfinite(t))), weights_path, f"{name} has non-finite values")
        model.add(
            Dense(spec["units"], spec["activation"], input_shape=(fan_in,) if i == 0 else None)
        )
        fan_in = spec["units"]
    extra = set(tensors) - expected
    _expect(not extra, weights_path, f"unexpected tensors {sorted(extra)}")
    model.set_weights([tensors[n] for i in range(len(config["layers"])) for n in _tensor_names(i)])
    training = config.get("training") or {}
    if training.get("loss"):
        opt = dict(training.get("optimizer") or {"name": "sgd"})
        cls = optimizers.OPTIMIZERS[opt.pop("name")]
        try:
            optimizer = cls(**opt)
        except (TypeError, ValueError) as e:
            raise ModelFileError(f"{folder / CONFIG_FILE}: bad optimizer settings ({e})") from None
        model.compile(optimizer, training["loss"], ["accuracy"])
    return model
