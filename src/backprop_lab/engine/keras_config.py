"""A model's config in Keras 3's JSON form, both ways, for ``.keras`` files.

``model_config(model)`` is what Keras's ``serialize_keras_object(model)``
writes for a ``Sequential`` of Dense, Dropout, Activation and
BatchNormalization layers: ``module``/``class_name``/``config``/
``registered_name``, each layer's config with Keras's keys, ``build_config``
and ``compile_config``.  ``model_from_config`` reads one back.  Only JSON is
read: nothing in a config names code that gets imported or run; a class is
looked up in the short tables below, and anything else is refused by name.
"""

from __future__ import annotations

import inspect
import re
import warnings

from . import initializers, keras_metrics, layers, losses, optimizers, regularizers, schedules

LAYERS = {
    cls.__name__: cls
    for cls in (layers.Dense, layers.Dropout, layers.Activation, layers.BatchNormalization)
}
_VARIANCE_SCALING = {"seed": None, "input_axes": None, "output_axes": None}
_INITIALIZER_CONFIGS = {  # what Keras 3 writes for each initializer at its defaults
    "glorot_uniform": _VARIANCE_SCALING,
    "glorot_normal": _VARIANCE_SCALING,
    "he_uniform": _VARIANCE_SCALING,
    "he_normal": _VARIANCE_SCALING,
    "lecun_uniform": _VARIANCE_SCALING,
    "lecun_normal": _VARIANCE_SCALING,
    "random_uniform": {"seed": None, "minval": -0.05, "maxval": 0.05},
    "random_normal": {"seed": None, "mean": 0.0, "stddev": 0.05},
    "truncated_normal": {"seed": None, "mean": 0.0, "stddev": 0.05},
}
_REGULARIZER_KEYS = {"L1": ("l1",), "L2": ("l2",), "L1L2": ("l1", "l2")}
# Keras's config keys the engine's classes do not take, at the values meaning "off".
_OFF = {
    "quantization_config": None,
    "synchronized": False,
    "renorm_momentum": None,  # any value: meaningless without renorm
    "activity_regularizer": None,
}


class KerasFileError(ValueError):
    """A ``.keras`` file or config that cannot be read, with what was wrong."""


def camel(snake: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in snake.split("_"))


def snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def _object(module: str, class_name: str, config: dict) -> dict:
    return {"module": module, "class_name": class_name, "config": config, "registered_name": None}


def _policy(dtype) -> dict:
    return _object("keras", "DTypePolicy", {"name": str(dtype)})


# ---------------------------------------------------------------------- writing
def _initializer(init) -> dict:
    name = getattr(init, "name", None) or getattr(init, "__name__", "")
    if name not in initializers.INITIALIZERS:
        raise KerasFileError(f"initializer {init!r} has no Keras name; use a built-in one")
    own = init.get_config() if hasattr(init, "get_config") else {}
    config = {**_INITIALIZER_CONFIGS.get(name, {}), **own}
    class_name = type(init).__name__ if isinstance(init, initializers.Initializer) else camel(name)
    return _object("keras.initializers", class_name, config)


def _regularizer(reg) -> dict | None:
    if reg is None:
        return None
    cls = type(reg).__name__
    keys = _REGULARIZER_KEYS.get(cls, ("l1", "l2"))
    return _object(
        "keras.regularizers",
        cls if cls in _REGULARIZER_KEYS else "L1L2",
        {k: float(getattr(reg, k)) for k in keys},
    )


def layer_config(layer, fan_in: int | None) -> dict:
    """Keras's serialized config of one engine layer (``fan_in``: its input width, if built)."""
    cls = type(layer).__name__
    if cls not in LAYERS:
        raise KerasFileError(
            f"{cls} layers cannot be written to a .keras file; supported: {', '.join(LAYERS)}"
        )
    config = {"name": layer.name, "trainable": True, "dtype": _policy(layer.dtype or "float32")}
    if cls == "Dense":
        config |= {
            "units": layer.units,
            "activation": layer.activation.name,
            "use_bias": layer.use_bias,
            "kernel_initializer": _initializer(layer.kernel_initializer),
            "bias_initializer": _initializer(layer.bias_initializer),
            "kernel_regularizer": _regularizer(layer.kernel_regularizer),
            "bias_regularizer": _regularizer(layer.bias_regularizer),
            "kernel_constraint": None,
            "bias_constraint": None,
            "quantization_config": None,
        }
    elif cls == "Dropout":
        config |= {"rate": layer.rate, "seed": layer.seed, "noise_shape": None}
    elif cls == "Activation":
        config["activation"] = layer.activation.name
    else:
        config |= {
            "axis": layer.axis,
            "momentum": layer.momentum,
            "epsilon": layer.epsilon,
            "center": layer.center,
            "scale": layer.scale,
            **{f"{k}_initializer": _initializer(v) for k, v in layer.initializers.items()},
            "beta_regularizer": None,
            "gamma_regularizer": None,
            "beta_constraint": None,
            "gamma_constraint": None,
            "synchronized": False,
            "renorm": False,
            "renorm_clipping": None,
            "renorm_momentum": 0.99,
        }
    out = _object("keras.layers", cls, config)
    if fan_in is not None and cls in ("Dense", "BatchNormalization"):
        out["build_config"] = {"input_shape": [None, fan_in]}
    return out


def _loss_config(loss):
    if not loss.options() and loss.name in losses.LOSSES:
        return loss.name
    return _object("keras.losses", type(loss).__name__, loss.get_config())


def _optimizer_config(opt) -> dict:
    config = {}
    for key, value in opt.get_config().items():
        if isinstance(value, schedules.LearningRateSchedule):
            value = schedules.serialize(value)
        config[key] = float(value) if type(value).__name__ == "LearningRate" else value
    return _object("keras.optimizers", type(opt).__name__, config)


def _metric_config(metric):
    if isinstance(metric, str):
        return metric
    if hasattr(metric, "get_config"):
        return _object("keras.metrics", type(metric).__name__, metric.get_config())
    raise KerasFileError(f"the metric {metric!r} has no Keras name; use a built-in one")


def compile_config(model) -> dict:
    """Keras's ``compile_config``: the optimizer, the loss and the metrics as compiled."""
    # The metrics as compile() was given them (Keras keeps the names the user chose).
    metrics, weighted = model.compile_metrics.given
    return {
        "optimizer": _optimizer_config(model.optimizer),
        "loss": _loss_config(model.loss),
        "loss_weights": None,
        "metrics": [_metric_config(m) for m in metrics] or None,
        "weighted_metrics": [_metric_config(m) for m in weighted] or None,
        "run_eagerly": False,
        "steps_per_execution": 1,
        "jit_compile": False,
    }


def model_config(model) -> dict:
    """``serialize_keras_object(model)`` as Keras writes it for this Sequential."""
    n = model.n_features
    dtype = model.dtype.name
    widths = [n]
    for layer in model.layers:
        widths.append(layer.units if model.built else None)
    configs = [layer_config(layer, w) for layer, w in zip(model.layers, widths)]
    if n is not None:
        input_layer = {
            "batch_shape": [None, n],
            "dtype": dtype,
            "sparse": False,
            "ragged": False,
            "name": "input_layer",
            "optional": False,
        }
        configs.insert(0, _object("keras.layers", "InputLayer", input_layer))
    config = {"name": model.name, "trainable": True, "dtype": _policy(dtype), "layers": configs}
    out = _object("keras", "Sequential", config)
    if n is not None:
        config["build_input_shape"] = [None, n]
        out["build_config"] = {"input_shape": [None, n]}
    if model.compiled:
        out["compile_config"] = compile_config(model)
    return out


# ---------------------------------------------------------------------- reading
def refused(where: str, what: str) -> NotImplementedError:
    return NotImplementedError(f"{where}: {what} is not supported by backprop_lab")


def _is_off(key: str, value) -> bool:
    return key in _OFF and (key == "renorm_momentum" or value == _OFF[key])


def dtype_name(value):
    if isinstance(value, dict):
        value = (value.get("config") or {}).get("name")
    return value


def _read_value(key: str, value, where: str):
    """An engine argument from a Keras config value (initializers, regularizers, dtypes)."""
    if key == "dtype":
        return dtype_name(value)
    if not isinstance(value, dict):
        return value
    name = value.get("class_name")
    inner = value.get("config") or {}
    if key.endswith("initializer"):
        cls = initializers.INITIALIZERS.get(snake(str(name)))
        if cls is None:
            raise refused(where, f"the initializer {name}")
        skip = [k for k, v in inner.items() if v is None]
        return cls(**arguments(cls, str(name), inner, where, skip=skip))
    if key.endswith("regularizer") and name in _REGULARIZER_KEYS:
        return getattr(regularizers, name)(**{k: inner[k] for k in _REGULARIZER_KEYS[name]})
    if key == "learning_rate":
        return schedules.deserialize(value)
    raise refused(where, f"{key}={name or value!r}")


def arguments(cls, class_name: str, config: dict, where: str, skip=()) -> dict:
    """``config`` as keyword arguments of the engine's ``cls``; refuses what it lacks."""
    # An optimizer takes Keras's common options through **options: it lists them itself.
    accepted = cls.keywords() if hasattr(cls, "keywords") else inspect.signature(cls).parameters
    kwargs = {}
    for key, value in config.items():
        if key in skip or _is_off(key, value):
            continue
        if key not in accepted:
            raise refused(where, f"{class_name}({key}={value!r})")
        kwargs[key] = _read_value(key, value, f"{where}: {class_name}")
    return kwargs


def _optimizer(config, where: str):
    if isinstance(config, str):
        return optimizers.get(config)
    classes = {cls.__name__: cls for cls in optimizers.OPTIMIZERS.values()}
    name = config.get("class_name")
    if name not in classes:
        raise refused(where, f"the optimizer {name}")
    inner = config.get("config") or {}
    defaults = {"use_ema": False, "ema_momentum": 0.99}
    skip = [k for k, v in inner.items() if v is None or defaults.get(k, object()) == v]
    return classes[name](**arguments(classes[name], name, inner, where, skip=skip))


def _loss(config, where: str):
    if isinstance(config, str):
        return losses.get(config)
    classes = {cls.__name__: cls for cls in set(losses.LOSSES.values())}
    name = config.get("class_name") if isinstance(config, dict) else None
    if name not in classes:
        raise refused(where, f"the loss {name or config!r}")
    inner = config.get("config") or {}
    skip = [
        k for k, v in inner.items() if v is None or (k, v) == ("reduction", "sum_over_batch_size")
    ]
    return classes[name](**arguments(classes[name], name, inner, where, skip=skip))


def _metric(config, where: str):
    if isinstance(config, str):
        return config
    name = config.get("class_name") if isinstance(config, dict) else None
    cls = keras_metrics.METRICS.get(name)
    if cls is None or not isinstance(cls, type):
        raise refused(where, f"the metric {name or config!r}")
    inner = config.get("config") or {}
    return cls(
        **arguments(cls, name, inner, where, skip=[k for k, v in inner.items() if v is None])
    )


def compile_from_config(model, config: dict, where: str) -> None:
    """Compile ``model`` as ``compile_config`` says, or warn and leave it uncompiled."""
    try:
        model.compile(
            optimizer=_optimizer(config.get("optimizer") or "rmsprop", where),
            loss=_loss(config.get("loss"), where),
            metrics=[_metric(m, where) for m in config.get("metrics") or []] or None,
            weighted_metrics=[_metric(m, where) for m in config.get("weighted_metrics") or []]
            or None,
        )
    except (NotImplementedError, ValueError, TypeError) as exc:
        warnings.warn(
            f"{where}: loaded uncompiled, its compile settings are not supported: {exc}",
            stacklevel=3,
        )
