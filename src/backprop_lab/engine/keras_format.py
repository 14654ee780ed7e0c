"""Keras 3's ``.keras`` model files and ``.weights.h5`` weight files.

A ``.keras`` file is a zip archive holding::

    metadata.json       {"keras_version": ..., "date_saved": ...}
    config.json         the model's config (see ``keras_config``)
    model.weights.h5    the variables, laid out as Keras's saving_lib writes them

In the HDF5 file each layer of ``model.layers`` has a group
``layers/<snake_case class>[_i]/vars`` (``dense``, ``dense_1``, ``dropout``,
...; numbered by class in order, not by the layer's name) with one dataset per
variable, ``"0"``, ``"1"``, ...: the trainable ones then the others, which is
``layer.weights`` (Dense: kernel, bias; BatchNormalization: gamma, beta,
moving_mean, moving_variance).  ``optimizer/vars`` holds the step counter, the
learning rate and the optimizer's slots in Keras's order; ``vars`` the model's
own (none).  A ``.weights.h5`` file is that HDF5 file alone.

Loading reads the config as JSON only and never imports or runs code named in
a file.  Files are written to a temporary sibling and renamed, so a failed or
refused save never leaves a partial file.
"""

from __future__ import annotations

import datetime
import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np

from .._version import __version__
from .keras_config import KerasFileError, model_config, snake

CONFIG_FILE, METADATA_FILE, WEIGHTS_FILE = "config.json", "metadata.json", "model.weights.h5"
KERAS_VERSION = "3.15.1"  # the Keras release these files were checked against
MAX_MEMBER_BYTES = 2**30  # refuse a zip member that would inflate beyond 1 GiB

__all__ = [
    "KerasFileError",
    "load_weights",
    "save_model",
    "save_weights",
    "to_json",
]


# ---------------------------------------------------------------------- paths
def model_path(filepath) -> Path:
    path = Path(os.fspath(filepath))
    if path.name.endswith((".h5", ".hdf5")):
        raise NotImplementedError(
            f"{path}: the legacy HDF5 model format is not supported by backprop_lab; "
            "save to a .keras file (Keras 3's format) instead"
        )
    if path.suffix != ".keras":
        raise ValueError(f"{path}: a model file must end in .keras, Keras 3's format")
    return path


def _weights_path(filepath) -> Path:
    path = Path(os.fspath(filepath))
    if not path.name.endswith(".weights.h5"):
        raise ValueError(f"{path}: a weights file must end in .weights.h5, as in Keras 3")
    return path


def _write_atomic(path: Path, data: bytes, overwrite: bool) -> None:
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
    if not path.parent.is_dir():
        raise FileNotFoundError(f"cannot write {path}: the folder {path.parent} does not exist")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


# ---------------------------------------------------------------------- variables
def _layer_paths(model) -> list[str]:
    """``layers/dense``, ``layers/dense_1``, ...: Keras's group of each layer, in order."""
    used: dict[str, int] = {}
    paths = []
    for layer in model.layers:
        name = snake(type(layer).__name__)
        used[name] = used.get(name, -1) + 1
        paths.append(f"layers/{name}" + (f"_{used[name]}" if used[name] else ""))
    return paths


def _optimizer_slots(optimizer) -> list[tuple[str, ...]] | None:
    """Our slot names grouped as Keras creates its variables (each group interleaved
    over the parameters), or None for an optimizer whose layout is not mapped."""
    kind = type(optimizer).__name__
    if kind == "SGD":
        return [("v",)] if optimizer.momentum else []
    if kind in ("Adam", "AdamW"):
        return [("m", "v")] + ([("v_hat",)] if getattr(optimizer, "amsgrad", False) else [])
    if kind == "RMSprop":
        centered = getattr(optimizer, "centered", False)
        return [("s",)] + ([("v",)] if optimizer.momentum else []) + ([("a",)] if centered else [])
    if kind == "Adagrad":
        return [("s",)]
    return None


def _optimizer_variables(optimizer, params) -> tuple[list, list] | None:
    """``(head, slots)``: the step counter and learning rate, then the slot arrays, in
    Keras's order (``None`` when the layout is not mapped)."""
    groups = _optimizer_slots(optimizer)
    if groups is None:
        return None
    if not optimizer.slots:
        optimizer.build(params)
    head = [np.asarray(optimizer.iterations, dtype=np.int64)]
    if not callable(getattr(optimizer, "_learning_rate", None)):  # a schedule is no variable
        head.append(np.asarray(float(optimizer.learning_rate), dtype=np.float32))
    slots = [
        optimizer.slots[name][i] for group in groups for i in range(len(params)) for name in group
    ]
    return head, slots


def _write_variables(h5, model) -> None:
    for path, layer in zip(_layer_paths(model), model.layers):
        group = h5.create_group(f"{path}/vars")
        group.attrs["name"] = layer.name
        for i, w in enumerate(layer.weights):
            group.create_dataset(str(i), data=w)
    h5.create_group("vars").attrs["name"] = model.name
    if model.compiled and model.built:
        found = _optimizer_variables(model.optimizer, model.params)
        if found is not None:
            variables = found[0] + found[1]
            group = h5.create_group("optimizer/vars")
            group.attrs["name"] = model.optimizer.name
            for i, v in enumerate(variables):
                group.create_dataset(str(i), data=v)


def _h5_bytes(model) -> bytes:
    import h5py  # here: only saving and loading need it

    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as h5:
        _write_variables(h5, model)
    return buffer.getvalue()


def read_variables(h5, model, where: str) -> None:
    if not model.built:
        raise ValueError(
            f"{where}: build the model (give it an input width) before loading weights"
        )
    for path, layer in zip(_layer_paths(model), model.layers):
        group = h5.get(f"{path}/vars")
        expected = [w.shape for w in layer.weights]
        found = [] if group is None else [group[str(i)] for i in range(len(group))]
        if [tuple(d.shape) for d in found] != expected:
            raise KerasFileError(
                f"{where}: {path} holds arrays of shapes {[tuple(d.shape) for d in found]}, "
                f"the model's {layer.name} needs {expected}"
            )
        layer.set_weights([np.asarray(d) for d in found])
    group = h5.get("optimizer/vars")
    if model.compiled and group is not None:
        _read_optimizer(model, [np.asarray(group[str(i)]) for i in range(len(group))])


def _read_optimizer(model, values: list[np.ndarray]) -> None:
    """Restore the optimizer's step counter and slots when the layout is Keras's."""
    found = _optimizer_variables(model.optimizer, model.params)
    if found is None or [v.shape for v in found[0] + found[1]] != [v.shape for v in values]:
        return  # another layout: the optimizer starts afresh, as Keras's does
    head, slots = found
    model.optimizer.iterations = int(values[0])
    for slot, value in zip(slots, values[len(head) :]):
        slot[...] = value


# ---------------------------------------------------------------------- public functions
def save_model(model, filepath, overwrite: bool = True) -> None:
    """Write ``model`` to ``filepath`` (``.keras``) in Keras 3's format.

    Raises
    ------
    NotImplementedError
        For a ``.h5`` path (the legacy format) or a layer outside the subset.
    FileExistsError
        When the file exists and ``overwrite`` is False.
    """
    path = model_path(filepath)
    config = json.dumps(model_config(model))
    metadata = json.dumps(
        {
            "keras_version": KERAS_VERSION,
            "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
            "saved_by": f"backprop-lab {__version__}",
        }
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr(METADATA_FILE, metadata)
        zf.writestr(CONFIG_FILE, config)
        zf.writestr(WEIGHTS_FILE, _h5_bytes(model))
    _write_atomic(path, buffer.getvalue(), overwrite)


def read_member(zf: zipfile.ZipFile, name: str, where: str) -> bytes:
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise KerasFileError(f"{where} is not a .keras model file: it has no {name}") from None
    if info.file_size > MAX_MEMBER_BYTES:
        raise KerasFileError(f"{where}: {name} would inflate to {info.file_size} bytes; refused")
    return zf.read(name)


def save_weights(model, filepath, overwrite: bool = True) -> None:
    """Write the model's variables to ``filepath`` (``.weights.h5``), Keras's layout."""
    if not model.built:
        raise ValueError("the model is not built yet; it has no weights to save")
    _write_atomic(_weights_path(filepath), _h5_bytes(model), overwrite)


def load_weights(model, filepath) -> None:
    """Load variables from a ``.weights.h5`` file, or from a ``.keras`` file's weights."""
    import h5py

    path = Path(os.fspath(filepath))
    if path.suffix == ".keras":
        with zipfile.ZipFile(path) as zf:
            data = io.BytesIO(read_member(zf, WEIGHTS_FILE, str(path)))
    else:
        data = _weights_path(path)
    with h5py.File(data, "r") as h5:
        read_variables(h5, model, str(path))


def to_json(model) -> str:
    """The model's config as Keras's ``model.to_json()`` writes it."""
    return json.dumps(model_config(model))
