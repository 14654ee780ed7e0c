import hashlib
import json
import pickle

import numpy as np
import pytest
from safetensors.numpy import load as st_load
from safetensors.numpy import save as st_save

from backprop_lab import SGD, Adam, Dense, Sequential
from backprop_lab.data.datasets import make_circle, make_spiral
from backprop_lab.runs.modelio import ModelFileError, load_model, save_model


def trained_binary(dtype="float32"):
    X, y = make_circle(200, random_state=0)
    model = Sequential(
        [Dense(8, "relu", input_shape=(2,)), Dense(1, "sigmoid")], seed=1, dtype=dtype
    )
    model.compile(SGD(0.1, momentum=0.5), "binary_crossentropy", ["accuracy"])
    model.fit(X, y, epochs=2, batch_size=16, verbose=0)
    return model, X, y


def trained_softmax(dtype="float64"):
    X, y = make_spiral(300, random_state=0)
    model = Sequential(
        [Dense(6, "tanh", input_shape=(2,)), Dense(5, "relu"), Dense(3, "softmax")],
        seed=2,
        dtype=dtype,
    )
    model.compile(Adam(0.01), "sparse_categorical_crossentropy", ["accuracy"])
    model.fit(X, y, epochs=2, batch_size=32, verbose=0)
    return model, X, y


@pytest.mark.parametrize(
    "make",
    [
        lambda: trained_binary("float32"),
        lambda: trained_binary("float64"),
        lambda: trained_softmax("float64"),
        lambda: trained_softmax("float32"),
    ],
    ids=["binary-f32", "binary-f64", "softmax-f64", "softmax-f32"],
)
def test_round_trip_gives_identical_weights_predictions_and_setup(tmp_path, make):
    model, X, y = make()
    save_model(model, tmp_path)
    loaded = load_model(tmp_path)
    assert loaded.dtype == model.dtype
    assert repr(loaded) == repr(model)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(loaded.predict(X, verbose=0), model.predict(X, verbose=0))
    assert loaded.loss.name == model.loss.name
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert loaded.evaluate(X, y, verbose=0) == model.evaluate(X, y, verbose=0)


def test_an_uncompiled_model_loads_uncompiled(tmp_path):
    model = Sequential([Dense(3, "tanh", input_shape=(4,)), Dense(1, "sigmoid")], seed=0)
    save_model(model, tmp_path)
    loaded = load_model(tmp_path)
    assert not loaded.compiled
    X = np.random.default_rng(0).normal(size=(5, 4))
    np.testing.assert_array_equal(loaded.predict(X, verbose=0), model.predict(X, verbose=0))


# --------------------------------------------------------------------------- refusals


@pytest.fixture
def saved(tmp_path):
    model, _, _ = trained_binary()
    save_model(model, tmp_path)
    return tmp_path


def edit_json(folder, change):
    path = folder / "model.json"
    config = json.loads(path.read_text())
    change(config)
    path.write_text(json.dumps(config))


def replace_weights(folder, blob):
    """Write new weight bytes *and* their checksum, so the checks behind the
    checksum are reached (a file altered on purpose rather than damaged)."""
    (folder / "model.safetensors").write_bytes(blob)
    edit_json(folder, lambda c: c.update(weights_sha256=hashlib.sha256(blob).hexdigest()))


def tensors_of(folder):
    return dict(st_load((folder / "model.safetensors").read_bytes()))


def refuses(folder, message):
    with pytest.raises(ModelFileError, match=message) as info:
        load_model(folder)
    assert str(folder) in str(info.value)  # names the file it refuses
    assert "\n" not in str(info.value)


def test_flipped_bytes_are_refused(saved):
    path = saved / "model.safetensors"
    blob = bytearray(path.read_bytes())
    blob[-3] ^= 0xFF  # inside the last tensor's data
    path.write_bytes(bytes(blob))
    refuses(saved, "do not match the checksum")


def test_truncated_file_is_refused(saved):
    path = saved / "model.safetensors"
    path.write_bytes(path.read_bytes()[:-8])
    refuses(saved, "truncated or altered")


def test_wrong_shape_in_the_description_is_refused(saved):
    edit_json(saved, lambda c: c["layers"][0].update(units=9))
    refuses(saved, r"layers.0.kernel has shape \(2, 8\), expected \(2, 9\)")


def test_wrong_dtype_in_the_description_is_refused(saved):
    edit_json(saved, lambda c: c.update(dtype="float64"))
    refuses(saved, "has dtype float32, expected float64")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c.update(format="keras"), "format is not 'backprop-lab-model'"),
        (lambda c: c.pop("format"), "format is not"),
        (lambda c: c.update(version=2), "unsupported version 2"),
        (lambda c: c.update(dtype="float16"), "dtype must be float32 or float64"),
        (lambda c: c.update(n_features=0), "n_features must be a positive integer"),
        (lambda c: c.update(layers=[]), "layers must be a non-empty list"),
        (lambda c: c["layers"][1].update(activation="swoosh"), "unknown activation 'swoosh'"),
        (lambda c: c["layers"][0].update(units="8"), "layer 0 units must be >= 1"),
        (lambda c: c.pop("weights_sha256"), "weights_sha256 is missing"),
        (lambda c: c["training"].update(loss="hingy"), "unknown loss 'hingy'"),
        (lambda c: c["training"]["optimizer"].update(name="lbfgs"), "unknown optimizer"),
        (lambda c: c["training"]["optimizer"].update(learning_rate=-1), "bad optimizer settings"),
    ],
)
def test_bad_description_fields_are_refused(saved, change, message):
    edit_json(saved, change)
    refuses(saved, message)


def test_description_that_is_not_a_json_object_is_refused(saved):
    (saved / "model.json").write_text("[1, 2]")
    refuses(saved, "must hold a JSON object")
    (saved / "model.json").write_text('{"format": ')
    refuses(saved, "is not valid JSON")


@pytest.mark.parametrize("name", ["model.json", "model.safetensors"])
def test_missing_files_are_refused(saved, name):
    (saved / name).unlink()
    refuses(saved, f"{name} is missing")


def test_extra_tensors_are_refused(saved):
    tensors = tensors_of(saved)
    tensors["layers.2.kernel"] = np.zeros((1, 1), np.float32)
    replace_weights(saved, st_save(tensors))
    refuses(saved, r"unexpected tensors \['layers.2.kernel'\]")


def test_missing_tensor_is_refused(saved):
    tensors = tensors_of(saved)
    tensors["layers.1.b"] = tensors.pop("layers.1.bias")
    replace_weights(saved, st_save(tensors))
    refuses(saved, "tensor layers.1.bias is missing")


def test_non_finite_weights_are_refused(saved):
    tensors = tensors_of(saved)
    tensors["layers.0.kernel"][0, 0] = np.nan
    replace_weights(saved, st_save(tensors))
    refuses(saved, "layers.0.kernel has non-finite values")


def test_broken_safetensors_header_is_refused_even_with_a_matching_checksum(saved):
    blob = (saved / "model.safetensors").read_bytes()
    replace_weights(saved, blob[:8] + b"{not json" + blob[17:])
    refuses(saved, "is not a valid safetensors file")


class _TouchOnUnpickle:
    """Unpickling this calls ``open(marker, "w")``: proof that pickle ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("name", ["model.safetensors", "model.json"])
def test_a_pickle_payload_is_refused_and_never_executed(saved, tmp_path_factory, name):
    marker = tmp_path_factory.mktemp("marker") / "pickle-ran"
    payload = pickle.dumps(_TouchOnUnpickle(marker))
    assert not marker.exists()
    if name == "model.safetensors":
        replace_weights(saved, payload)
        message = "is not a valid safetensors file"
    else:
        (saved / name).write_bytes(payload)
        message = "is not valid JSON"
    refuses(saved, message)
    assert not marker.exists()
    # The payload does run under pickle: the check above is not vacuous.
    pickle.loads(payload).close()
    assert marker.exists()
