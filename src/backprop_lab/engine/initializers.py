"""Weight initializers with Keras 3's classes, formulas and defaults.

Each initializer is an object called as ``init(shape, rng, dtype)``; for a Dense
kernel ``shape`` is ``(fan_in, fan_out)``.  Without a seed it draws from ``rng``,
the model's generator, so a model's seed fixes every layer's weights.  With
``seed=`` it draws from its own ``np.random.default_rng(seed)``, started afresh
on every call: the same numbers each time, as a seeded Keras 3 initializer
gives, though not Keras's numbers (Keras draws with its backend's generator).

``get`` takes every name ``keras.initializers.get`` takes ("glorot_uniform",
"uniform", "normal", "GlorotUniform", ...), these objects, their classes, and a
function ``f(shape, rng, dtype)``.
"""

from __future__ import annotations

import math

import numpy as np

from ._checks import keras_lookup

# Keras draws "normal" variance-scaling initializers from a normal truncated at
# two standard deviations, and divides the scale by this constant (the standard
# deviation of a unit normal truncated to [-2, 2]) so the variance is as asked.
_TRUNCATED_STD = 0.87962566103423978


def compute_fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """Keras's ``compute_fans``: ``(fan_in, fan_out)`` of a weight of this shape."""
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive_field = math.prod(shape[:-2])  # 1 for a Dense kernel
    return shape[-2] * receptive_field, shape[-1] * receptive_field


def _truncated_normal(shape, mean: float, stddev: float, rng) -> np.ndarray:
    """Normal draws redrawn until every one lies within two standard deviations."""
    values = rng.normal(0.0, 1.0, size=shape)
    outside = np.abs(values) > 2
    while outside.any():
        values[outside] = rng.normal(0.0, 1.0, size=int(outside.sum()))
        outside = np.abs(values) > 2
    return mean + values * stddev


class Initializer:
    """Base class: ``init(shape, rng, dtype) -> ndarray of shape ``shape``."""

    name = "initializer"  # Keras's snake-case name of the class

    def __call__(self, shape, rng=None, dtype="float32") -> np.ndarray:
        # dtype=None is Keras's floatx, float32.
        return np.asarray(self.draw(tuple(shape), rng), dtype=dtype or "float32")

    def draw(self, shape: tuple[int, ...], rng) -> np.ndarray:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {}

    @property
    def __name__(self) -> str:
        # Code written for the initializer functions of earlier versions asks for it.
        return self.name

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class Zeros(Initializer):
    name = "zeros"

    def draw(self, shape, rng):
        return np.zeros(shape)


class Ones(Initializer):
    name = "ones"

    def draw(self, shape, rng):
        return np.ones(shape)


class Constant(Initializer):
    """Every entry ``value``."""

    name = "constant"

    def __init__(self, value=0.0):
        self.value = float(value)

    def draw(self, shape, rng):
        return np.full(shape, self.value)

    def get_config(self):
        return {"value": self.value}


class Identity(Initializer):
    """``gain`` times the identity matrix (ones on the diagonal of any 2-D shape)."""

    name = "identity"

    def __init__(self, gain=1.0):
        self.gain = float(gain)

    def draw(self, shape, rng):
        if len(shape) != 2:
            raise ValueError(
                "Identity matrix initializer can only be used for 2D matrices. "
                f"Received: shape={shape} of rank {len(shape)}."
            )
        return self.gain * np.eye(*shape)

    def get_config(self):
        return {"gain": self.gain}


def _check_axes(input_axes, output_axes) -> None:
    if input_axes is not None or output_axes is not None:
        raise NotImplementedError(
            "input_axes/output_axes are not supported by backprop_lab; fans come from the shape"
        )


class RandomInitializer(Initializer):
    """An initializer that draws random numbers: from ``rng``, or its own seed."""

    def __init__(self, seed=None):
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError(f"`seed` argument should be an integer. Received: seed={seed!r}")
        self.seed = seed

    def __call__(self, shape, rng=None, dtype="float32"):
        if self.seed is not None:
            rng = np.random.default_rng(self.seed)
        elif rng is None:
            rng = np.random.default_rng()
        return super().__call__(shape, rng, dtype)

    def get_config(self):
        return {"seed": self.seed}


class RandomUniform(RandomInitializer):
    """Uniform on ``[minval, maxval)``."""

    name = "random_uniform"

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        super().__init__(seed)
        self.minval, self.maxval = float(minval), float(maxval)

    def draw(self, shape, rng):
        return rng.uniform(self.minval, self.maxval, size=shape)

    def get_config(self):
        return {**super().get_config(), "minval": self.minval, "maxval": self.maxval}


class RandomNormal(RandomInitializer):
    """Normal with mean ``mean`` and standard deviation ``stddev``."""

    name = "random_normal"

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = float(mean), float(stddev)

    def draw(self, shape, rng):
        return rng.normal(self.mean, self.stddev, size=shape)

    def get_config(self):
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


class TruncatedNormal(RandomNormal):
    """Normal cut at two standard deviations from the mean (values beyond are redrawn)."""

    name = "truncated_normal"

    def draw(self, shape, rng):
        return _truncated_normal(shape, self.mean, self.stddev, rng)


class VarianceScaling(RandomInitializer):
    """Draws of variance ``scale / n``, ``n`` the fan given by ``mode``.

    ``distribution="uniform"`` draws on ``[-limit, limit]``, ``limit = sqrt(3 scale / n)``;
    ``"truncated_normal"`` (or ``"normal"``) a normal truncated at two standard
    deviations, widened so the variance after truncation is ``scale / n``;
    ``"untruncated_normal"`` a plain normal.
    """

    name = "variance_scaling"

    def __init__(
        self,
        scale=1.0,
        mode="fan_in",
        distribution="truncated_normal",
        seed=None,
        input_axes=None,
        output_axes=None,
    ):
        super().__init__(seed)
        _check_axes(input_axes, output_axes)
        if not scale > 0:
            raise ValueError(f"Argument `scale` must be positive float. Received: scale={scale}")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"Invalid `mode` argument: {mode!r}; use fan_in, fan_out or fan_avg")
        distribution = {"normal": "truncated_normal"}.get(distribution, distribution)
        if distribution not in ("uniform", "truncated_normal", "untruncated_normal"):
            raise ValueError(
                f"Invalid `distribution` argument: {distribution!r}; use uniform, "
                "truncated_normal or untruncated_normal"
            )
        self.scale, self.mode, self.distribution = float(scale), mode, distribution

    def draw(self, shape, rng):
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, n)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * self.scale / max(1.0, n))
            return rng.uniform(-limit, limit, size=shape)
        if self.distribution == "untruncated_normal":
            return rng.normal(0.0, math.sqrt(variance), size=shape)
        return _truncated_normal(shape, 0.0, math.sqrt(variance) / _TRUNCATED_STD, rng)

    def get_config(self):
        config = {"scale": self.scale, "mode": self.mode, "distribution": self.distribution}
        return {**super().get_config(), **config, "input_axes": None, "output_axes": None}


class _NamedVarianceScaling(VarianceScaling):
    """A VarianceScaling whose only argument is the seed."""

    def get_config(self):
        return {"seed": self.seed, "input_axes": None, "output_axes": None}


class GlorotUniform(_NamedVarianceScaling):
    """``VarianceScaling(1.0, "fan_avg", "uniform")``: limit ``sqrt(6 / (fan_in + fan_out))``."""

    name = "glorot_uniform"

    def __init__(self, seed=None, input_axes=None, output_axes=None):
        super().__init__(1.0, "fan_avg", "uniform", seed, input_axes, output_axes)


class GlorotNormal(_NamedVarianceScaling):
    """``VarianceScaling(1.0, "fan_avg", "truncated_normal")``: std ``sqrt(2 / (in + out))``."""

    name = "glorot_normal"

    def __init__(self, seed=None, input_axes=None, output_axes=None):
        super().__init__(1.0, "fan_avg", "truncated_normal", seed, input_axes, output_axes)


class HeUniform(_NamedVarianceScaling):
    """``VarianceScaling(2.0, "fan_in", "uniform")``: limit ``sqrt(6 / fan_in)``."""

    name = "he_uniform"

    def __init__(self, seed=None, input_axes=None, output_axes=None):
        super().__init__(2.0, "fan_in", "uniform", seed, input_axes, output_axes)


class HeNormal(_NamedVarianceScaling):
    """``VarianceScaling(2.0, "fan_in", "truncated_normal")``: std ``sqrt(2 / fan_in)``."""

    name = "he_normal"

    def __init__(self, seed=None, input_axes=None, output_axes=None):
        super().__init__(2.0, "fan_in", "truncated_normal", seed, input_axes, output_axes)


class LecunUniform(_NamedVarianceScaling):
    """``VarianceScaling(1.0, "fan_in", "uniform")``: limit ``sqrt(3 / fan_in)``."""

    name = "lecun_uniform"

    def __init__(self, seed=None, input_axes=None, output_axes=None):
        super().__init__(1.0, "fan_in", "uniform", seed, input_axes, output_axes)


class LecunNormal(_NamedVarianceScaling):
    """``VarianceScaling(1.0, "fan_in", "truncated_normal")``: std ``sqrt(1 / fan_in)``."""

    name = "lecun_normal"

    def __init__(self, seed=None, input_axes=None, output_axes=None):
        super().__init__(1.0, "fan_in", "truncated_normal", seed, input_axes, output_axes)


class Orthogonal(RandomInitializer):
    """``gain`` times a random orthogonal matrix: the Q of a normal matrix's QR.

    The signs of Q's columns follow R's diagonal, so Q is uniformly distributed.
    """

    name = "orthogonal"

    def __init__(self, gain=1.0, seed=None):
        super().__init__(seed)
        self.gain = float(gain)

    def draw(self, shape, rng):
        if len(shape) < 2:
            raise ValueError(
                "The tensor to initialize must be at least two-dimensional. "
                f"Received: shape={shape} of rank {len(shape)}."
            )
        rows, cols = math.prod(shape[:-1]), shape[-1]
        Q, R = np.linalg.qr(rng.normal(size=(max(rows, cols), min(rows, cols))))
        Q = Q * np.sign(np.diag(R))
        if rows < cols:
            Q = Q.T
        return self.gain * Q.reshape(shape)

    def get_config(self):
        return {**super().get_config(), "gain": self.gain}


CLASSES = (  # under Keras's class names
    Zeros,
    Ones,
    Constant,
    Identity,
    RandomUniform,
    RandomNormal,
    TruncatedNormal,
    VarianceScaling,
    GlorotUniform,
    GlorotNormal,
    HeUniform,
    HeNormal,
    LecunUniform,
    LecunNormal,
    Orthogonal,
)
INITIALIZERS: dict[str, type[Initializer]] = {cls.name: cls for cls in CLASSES}
INITIALIZERS.update(uniform=RandomUniform, normal=RandomNormal, one=Ones, zero=Zeros)
_BY_CLASS_NAME = {cls.__name__: cls for cls in CLASSES}
_BY_CLASS_NAME.update(IdentityInitializer=Identity, OrthogonalInitializer=Orthogonal)
# Keras 3.15's other names: refused as unsupported rather than unknown.
KERAS_INITIALIZERS = frozenset({"STFT", "stft", "STFTInitializer", "Initializer", "initializer"})


def get(identifier) -> Initializer:
    """Return an initializer from a name, a class, an object, or a function.

    A function is used as given: it must be ``f(shape, rng, dtype) -> ndarray``.

    Raises
    ------
    NotImplementedError
        For an initializer Keras has and backprop_lab does not.
    ValueError
        For a name Keras does not know either.
    """
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    if callable(identifier):
        return identifier
    if isinstance(identifier, str) and identifier in _BY_CLASS_NAME:
        return _BY_CLASS_NAME[identifier]()
    return keras_lookup("initializer", identifier, INITIALIZERS, KERAS_INITIALIZERS)()
