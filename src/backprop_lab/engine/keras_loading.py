"""Reading Keras 3 models: ``load_model`` (a ``.keras`` file) and ``model_from_json``.

Apart from ``keras_format`` (which writes the files, and reads weights into a
model) because these build a new ``Sequential``, and the model's own
``save``/``to_json`` methods reach ``keras_format``.  Only JSON is read:
nothing a file names is imported or run; classes come from the short tables in
``keras_config`` and anything else is refused by name.
"""

from __future__ import annotations

import io
import json
import zipfile

from . import layers
from .keras_config import (
    LAYERS,
    KerasFileError,
    arguments,
    compile_from_config,
    dtype_name,
    refused,
)
from .keras_format import CONFIG_FILE, WEIGHTS_FILE, model_path, read_member, read_variables
from .model import Sequential

__all__ = ["load_model", "model_from_config", "model_from_json"]


def _width(config: dict, layer_configs: list) -> int | None:
    """The model's input width, from its InputLayer or any build shape it records."""
    shapes = [
        c.get("config", {}).get("batch_shape") or c.get("config", {}).get("batch_input_shape")
        for c in layer_configs
        if c.get("class_name") == "InputLayer"
    ]
    shapes += [
        config.get("config", {}).get("build_input_shape"),
        (config.get("build_config") or {}).get("input_shape"),
    ]
    for shape in shapes:
        if isinstance(shape, list) and len(shape) == 2 and isinstance(shape[1], int):
            return shape[1]
    return None


def model_from_config(config: dict, where: str = "config") -> Sequential:
    """The ``Sequential`` a Keras config describes, built when it records its input width.

    Raises
    ------
    NotImplementedError
        For a model other than Sequential, or layers or options outside the
        subset, naming them.
    KerasFileError
        For a config that is not a Keras model config.
    """
    if not isinstance(config, dict) or "class_name" not in config:
        raise KerasFileError(f"{where} is not a Keras model config (no class_name)")
    if config["class_name"] != "Sequential":
        raise refused(where, f"a {config['class_name']} model (only Sequential is)")
    inner = config.get("config") or {}
    layer_configs = inner.get("layers")
    if not isinstance(layer_configs, list) or not all(isinstance(c, dict) for c in layer_configs):
        raise KerasFileError(f"{where}: the model config has no list of layers")
    unknown = sorted({str(c.get("class_name")) for c in layer_configs} - {*LAYERS, "InputLayer"})
    if unknown:
        raise NotImplementedError(
            f"{where} has layers backprop_lab does not support: {', '.join(unknown)} "
            f"(supported: {', '.join(LAYERS)}, InputLayer)"
        )
    dtype = dtype_name(inner.get("dtype")) or "float32"
    model = Sequential(name=inner.get("name"), dtype=dtype)
    width = _width(config, layer_configs)
    if width is not None:
        model.add(layers.Input(shape=(width,)))
    for c in layer_configs:
        if c["class_name"] != "InputLayer":
            cls = LAYERS[c["class_name"]]
            model.add(cls(**arguments(cls, c["class_name"], c.get("config") or {}, where)))
    if config.get("compile_config"):
        compile_from_config(model, config["compile_config"], where)
    return model


def load_model(filepath) -> Sequential:
    """The ``Sequential`` saved in a ``.keras`` file (by Keras or by backprop-lab).

    Compiled as it was saved when its optimizer, loss and metrics are supported;
    otherwise loaded uncompiled, with a warning saying why.

    Raises
    ------
    NotImplementedError
        For layers or a model kind outside the subset, naming them.
    KerasFileError
        For a file that is not a ``.keras`` archive or does not fit its config.
    """
    import h5py

    path = model_path(filepath)
    where = str(path)
    try:
        with zipfile.ZipFile(path) as zf:
            text = read_member(zf, CONFIG_FILE, where)
            weights = read_member(zf, WEIGHTS_FILE, where)
    except zipfile.BadZipFile:
        raise KerasFileError(f"{where} is not a .keras model file (not a zip archive)") from None
    try:
        config = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise KerasFileError(f"{where}: config.json is not valid JSON ({exc})") from None
    model = model_from_config(config, where)
    with h5py.File(io.BytesIO(weights), "r") as h5:
        read_variables(h5, model, where)
    return model


def model_from_json(text: str) -> Sequential:
    """The model a ``to_json`` text describes (no weights: freshly initialised)."""
    try:
        config = json.loads(text)
    except (TypeError, json.JSONDecodeError) as exc:
        raise KerasFileError(f"model_from_json needs a JSON text: {exc}") from None
    return model_from_config(config, "model_from_json")
