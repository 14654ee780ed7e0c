"""Learning-rate schedules with Keras 3's arguments and formulas.

A schedule maps the optimizer's step counter (``iterations``: 0 on the first
step) to a learning rate.  Give one to any optimizer as ``learning_rate``::

    SGD(learning_rate=ExponentialDecay(0.1, decay_steps=100, decay_rate=0.5))

Keras computes schedules in float32 (its default float type); so do these,
so the rates are Keras's to the last bit, returned as Python floats.  A
subclass of ``LearningRateSchedule`` with its own ``__call__(step)`` works
too (on the NumPy engine, as every schedule does: the compiled engine reads
one fixed rate per call).
"""

from __future__ import annotations

import math
from numbers import Real

import numpy as np

f32 = np.float32


def _number(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise TypeError(f"{name} must be a finite number, got {value!r}")
    return value


def _steps(name: str, value):
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a positive number of steps, got {value!r}")
    if not value > 0:
        raise ValueError(f"Argument `{name}` must be > 0. Received: {name}={value}")
    return value


def _flag(name: str, value) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


class LearningRateSchedule:
    """Base class: subclass it and define ``__call__(self, step)``.

    ``step`` is the number of optimizer steps already taken (an int); the
    result is the learning rate of the next step.
    """

    def __call__(self, step):
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override `__call__(self, step)`."
        )

    def get_config(self) -> dict:
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override `get_config()` "
            "in order to be serializable."
        )

    @classmethod
    def from_config(cls, config: dict) -> LearningRateSchedule:
        return cls(**config)

    def __repr__(self) -> str:
        try:
            args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        except NotImplementedError:
            args = ""
        return f"{type(self).__name__}({args})"


class _DecayOverSteps(LearningRateSchedule):
    """What ExponentialDecay and InverseTimeDecay share: a rate, a decay every
    ``decay_steps`` steps (continuous, or floored with ``staircase``), and their config."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name=None):
        self.initial_learning_rate = _number("initial_learning_rate", initial_learning_rate)
        self.decay_steps = _steps("decay_steps", decay_steps)
        self.decay_rate = _number("decay_rate", decay_rate)
        self.staircase = _flag("staircase", staircase)
        self.name = name or type(self).__name__  # Keras's default name is the class name

    def _progress(self, step):
        """``step / decay_steps`` in float32, floored with ``staircase``."""
        p = f32(step) / f32(self.decay_steps)
        return np.floor(p) if self.staircase else p

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


class ExponentialDecay(_DecayOverSteps):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)``.

    With ``staircase=True`` the exponent is ``floor(step / decay_steps)``.
    """

    def __call__(self, step):
        return float(f32(self.initial_learning_rate) * f32(self.decay_rate) ** self._progress(step))


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` while ``step <= boundaries[0]``, ``values[1]`` while
    ``step <= boundaries[1]``, ..., ``values[-1]`` after ``boundaries[-1]``."""

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        boundaries, values = list(boundaries), list(values)
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "The length of boundaries should be 1 less than the length of values. "
                f"Received: boundaries={boundaries} of length {len(boundaries)}, "
                f"and values={values} of length {len(values)}."
            )
        for b in boundaries:
            _number("boundaries", b)
        for v in values:
            _number("values", v)
        if any(b >= c for b, c in zip(boundaries, boundaries[1:])):
            raise ValueError(f"boundaries must be strictly increasing, got {boundaries}")
        self.boundaries = boundaries
        self.values = values
        self.name = name

    def __call__(self, step):
        for boundary, value in zip(self.boundaries, self.values):
            if step <= boundary:
                return float(f32(value))
        return float(f32(self.values[-1]))

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """From ``initial_learning_rate`` to ``end_learning_rate`` in ``decay_steps``::

    step = min(step, decay_steps)     # cycle: decay_steps *= ceil(step / decay_steps)
    (initial - end) * (1 - step / decay_steps) ** power + end
    """

    def __init__(
        self,
        initial_learning_rate,
        decay_steps,
        end_learning_rate=0.0001,
        power=1.0,
        cycle=False,
        name="PolynomialDecay",
    ):
        self.initial_learning_rate = _number("initial_learning_rate", initial_learning_rate)
        self.decay_steps = _steps("decay_steps", decay_steps)
        self.end_learning_rate = _number("end_learning_rate", end_learning_rate)
        self.power = _number("power", power)
        self.cycle = _flag("cycle", cycle)
        self.name = name

    def __call__(self, step):
        step, decay_steps = f32(step), f32(self.decay_steps)
        if self.cycle:
            decay_steps = decay_steps * (f32(1) if step == 0 else np.ceil(step / decay_steps))
        else:
            step = min(step, decay_steps)
        p = step / decay_steps
        initial, end = f32(self.initial_learning_rate), f32(self.end_learning_rate)
        return float((initial - end) * (f32(1) - p) ** f32(self.power) + end)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "end_learning_rate": self.end_learning_rate,
            "power": self.power,
            "cycle": self.cycle,
            "name": self.name,
        }


class InverseTimeDecay(_DecayOverSteps):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)``.

    With ``staircase=True``, ``step / decay_steps`` is floored.
    """

    def __call__(self, step):
        rate = f32(self.initial_learning_rate)
        return float(rate / (f32(1) + f32(self.decay_rate) * self._progress(step)))


class CosineDecay(LearningRateSchedule):
    """An optional linear warmup, then a cosine from the start rate to ``alpha`` times it::

    if warmup_target is None:                    # no warmup
        start, step = initial_learning_rate, min(step, decay_steps)
    elif step < warmup_steps:                    # warmup
        return initial + (warmup_target - initial) * step / warmup_steps
    else:
        start, step = warmup_target, min(step, decay_steps + warmup_steps) - warmup_steps
    start * ((1 - alpha) * 0.5 * (1 + cos(pi * step / decay_steps)) + alpha)
    """

    def __init__(
        self,
        initial_learning_rate,
        decay_steps,
        alpha=0.0,
        name="CosineDecay",
        warmup_target=None,
        warmup_steps=0,
    ):
        self.initial_learning_rate = _number("initial_learning_rate", initial_learning_rate)
        self.decay_steps = _steps("decay_steps", decay_steps)
        self.alpha = _number("alpha", alpha)
        self.name = name
        if warmup_target is not None:
            _number("warmup_target", warmup_target)
        if isinstance(warmup_steps, bool) or not isinstance(warmup_steps, Real) or warmup_steps < 0:
            raise ValueError(f"warmup_steps must be a number >= 0, got {warmup_steps!r}")
        self.warmup_target = warmup_target
        self.warmup_steps = warmup_steps

    def __call__(self, step):
        initial, step = f32(self.initial_learning_rate), f32(step)
        decay_steps, warmup_steps = f32(self.decay_steps), f32(self.warmup_steps)
        if self.warmup_target is None:
            start, step = initial, min(step, decay_steps)
        else:
            target = f32(self.warmup_target)
            step = min(step, decay_steps + warmup_steps)
            if step < warmup_steps:
                return float((target - initial) * (step / warmup_steps) + initial)
            start, step = target, step - warmup_steps
        cosine = f32(0.5) * (f32(1) + np.cos(f32(math.pi) * (step / decay_steps)))
        alpha = f32(self.alpha)
        return float(start * ((f32(1) - alpha) * cosine + alpha))

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "alpha": self.alpha,
            "name": self.name,
            "warmup_target": self.warmup_target,
            "warmup_steps": self.warmup_steps,
        }


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR, Loshchilov and Hutter, 2016).

    Period ``i`` lasts ``first_decay_steps * t_mul**i`` steps and starts at
    ``initial_learning_rate * m_mul**i``; within a period, with ``x`` the
    fraction of it completed::

        rate = initial_learning_rate * ((1 - alpha) * 0.5 * m_mul**i * (1 + cos(pi * x)) + alpha)
    """

    def __init__(
        self,
        initial_learning_rate,
        first_decay_steps,
        t_mul=2.0,
        m_mul=1.0,
        alpha=0.0,
        name="SGDRDecay",
    ):
        self.initial_learning_rate = _number("initial_learning_rate", initial_learning_rate)
        self.first_decay_steps = _steps("first_decay_steps", first_decay_steps)
        self.t_mul = _number("t_mul", t_mul)
        self.m_mul = _number("m_mul", m_mul)
        if self.t_mul <= 0:
            raise ValueError(f"t_mul must be > 0, got {t_mul!r}")
        self.alpha = _number("alpha", alpha)
        self.name = name

    def __call__(self, step):
        fraction = f32(step) / f32(self.first_decay_steps)  # of the first period
        t_mul = f32(self.t_mul)
        if self.t_mul == 1.0:
            restarts = np.floor(fraction)
            fraction = fraction - restarts
        else:
            # Periods 1, t, t^2, ... end at the partial sums (1 - t^i) / (1 - t).
            restarts = np.floor(np.log(f32(1) - fraction * (f32(1) - t_mul)) / np.log(t_mul))
            done = (f32(1) - t_mul**restarts) / (f32(1) - t_mul)
            fraction = (fraction - done) / t_mul**restarts
        cosine = f32(0.5) * f32(self.m_mul) ** restarts * (f32(1) + np.cos(f32(math.pi) * fraction))
        alpha = f32(self.alpha)
        return float(f32(self.initial_learning_rate) * ((f32(1) - alpha) * cosine + alpha))

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "first_decay_steps": self.first_decay_steps,
            "t_mul": self.t_mul,
            "m_mul": self.m_mul,
            "alpha": self.alpha,
            "name": self.name,
        }


SCHEDULES: dict[str, type[LearningRateSchedule]] = {
    cls.__name__: cls
    for cls in (
        ExponentialDecay,
        PiecewiseConstantDecay,
        PolynomialDecay,
        InverseTimeDecay,
        CosineDecay,
        CosineDecayRestarts,
    )
}


def serialize(schedule: LearningRateSchedule) -> dict:
    """Keras's serialized form: ``{"module", "class_name", "config", "registered_name"}``."""
    return {
        "module": "keras.optimizers.schedules",
        "class_name": type(schedule).__name__,
        "config": schedule.get_config(),
        "registered_name": None,
    }


def deserialize(config: dict) -> LearningRateSchedule:
    """The schedule ``serialize`` described (built-in schedules only)."""
    name = config.get("class_name") if isinstance(config, dict) else None
    if name not in SCHEDULES:
        valid = ", ".join(SCHEDULES)
        raise ValueError(f"unknown learning-rate schedule {name!r}; valid: {valid}")
    return SCHEDULES[name].from_config(config.get("config", {}))
