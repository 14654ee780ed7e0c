"""The optimizer base class: learning rate (or schedule), gradient clipping, weight decay.

Every optimizer takes Keras 3's common keywords and applies them in Keras's
order (``BaseOptimizer.apply``), once per step::

    lr = learning_rate(iterations)   # a float, or the schedule at the step count
    g = clip(g)                      # clipnorm, clipvalue or global_clipnorm
    w -= w * weight_decay * lr       # decoupled weight decay, on every parameter
    rule(w, g, lr)                   # the subclass's update
    iterations += 1

Both engines read an optimizer through the same small public interface:
``slot_names`` and ``slots`` (the per-parameter state, such as Adam's ``m`` and
``v``: for each name a list of arrays aligned with ``params``, created on the
first step), ``hyperparameters()`` (the numbers of the rule, the learning rate
read at the current step) and ``options()`` (what the compiled engine lacks).
"""

from __future__ import annotations

import inspect
import math
from numbers import Real

import numpy as np

from ._checks import check_float_in, check_positive_float
from .schedules import LearningRateSchedule, deserialize, serialize


class NotInThisOptimizer(NotImplementedError, AttributeError):
    """A Keras optimizer attribute backprop_lab does not provide (an AttributeError too,
    so ``hasattr`` answers False), as ``model.NotSupported`` is for models."""


class LearningRate(float):
    """The learning rate read from ``optimizer.learning_rate``: a plain float number.

    Keras returns a variable there; the two variable methods scripts use work
    on this value too: ``assign(x)`` sets the optimizer's rate (as
    ``optimizer.learning_rate = x`` does) and ``numpy()`` returns it as float32.
    """

    def __new__(cls, value: float, optimizer: Optimizer | None = None):
        self = super().__new__(cls, value)
        self._optimizer = optimizer
        return self

    def assign(self, value) -> None:
        if self._optimizer is None:
            raise TypeError(
                "this learning rate belongs to no optimizer; set optimizer.learning_rate"
            )
        self._optimizer.learning_rate = value

    def numpy(self) -> np.float32:
        return np.float32(self)


def _optional_positive(name: str, value):
    return None if value is None else check_positive_float(name, value)


# Keras optimizer methods for custom training loops, which backprop_lab's fit replaces.
_KERAS_ONLY = (
    "apply_gradients",
    "apply",
    "stateless_apply",
    "variables",
    "set_weights",
    "finalize_variable_values",
    "scale_loss",
    "save_own_variables",
    "load_own_variables",
)


class Optimizer:
    """Base class: the learning rate, the common Keras options, ``iterations`` and the slots.

    Parameters
    ----------
    learning_rate : float or LearningRateSchedule or callable
        A positive number; a schedule, called with ``iterations`` before each
        step; or a function of no arguments returning the rate.
    weight_decay : float, optional
        If set, every parameter first shrinks by ``w * weight_decay * lr``.
    clipnorm, clipvalue, global_clipnorm : float, optional
        At most one: clip each gradient to this L2 norm, each element to
        ``[-clipvalue, clipvalue]``, or all gradients together to this norm.
    use_ema, ema_momentum, ema_overwrite_frequency, loss_scale_factor,
    gradient_accumulation_steps
        Keras's; only their defaults are supported (NotImplementedError otherwise).
    name : str, optional
        Defaults to the optimizer's registry name, such as ``"adam"``.

    Attributes
    ----------
    slot_names : tuple of str
        The per-parameter state the rule keeps, in order.
    hyperparameter_names : tuple of str
        The attributes ``hyperparameters()`` and ``get_config()`` report.
    slots : dict of str to list of ndarray
        ``slots[name][i]`` has the shape of ``params[i]``; empty before ``build``.
    iterations : int
        Steps taken so far.
    built : bool
        Whether the slots exist (``build`` ran).
    """

    name = "optimizer"
    slot_names: tuple[str, ...] = ()
    hyperparameter_names: tuple[str, ...] = ("learning_rate",)

    def __init__(
        self,
        learning_rate,
        *,
        weight_decay=None,
        clipnorm=None,
        clipvalue=None,
        global_clipnorm=None,
        use_ema=False,
        ema_momentum=0.99,
        ema_overwrite_frequency=None,
        loss_scale_factor=None,
        gradient_accumulation_steps=None,
        name=None,
        **unknown,
    ):
        # Every optimizer passes these keywords here as ``**options`` (Keras's common
        # arguments); anything else is a Keras option backprop-lab does not have.
        if unknown:
            key = next(iter(unknown))
            raise NotImplementedError(
                f"{type(self).__name__}({key}=...) is not supported by backprop_lab; "
                f"{type(self).__name__} takes: {', '.join(self.keywords())}"
            )
        if name is not None and not isinstance(name, str):
            raise TypeError(f"name must be a string, got {name!r}")
        self.name = name or type(self).name
        self._learning_rate = None
        self.learning_rate = learning_rate
        self.weight_decay = (
            None
            if weight_decay is None
            else check_float_in("weight_decay", weight_decay, 0, math.inf)
        )
        self.clipnorm = _optional_positive("clipnorm", clipnorm)
        self.clipvalue = _optional_positive("clipvalue", clipvalue)
        self.global_clipnorm = _optional_positive("global_clipnorm", global_clipnorm)
        if sum(c is not None for c in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(
                "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. Received: "
                f"clipnorm={clipnorm}, clipvalue={clipvalue}, global_clipnorm={global_clipnorm}"
            )
        unsupported = {
            "use_ema": (use_ema, False),
            "loss_scale_factor": (loss_scale_factor, None),
            "gradient_accumulation_steps": (gradient_accumulation_steps, None),
        }
        for key, (value, default) in unsupported.items():
            if value is not default and value != default:
                raise NotImplementedError(
                    f"{key}={value!r} is not supported by backprop_lab's optimizers "
                    f"(only {key}={default!r})"
                )
        self.use_ema, self.ema_momentum = False, ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.loss_scale_factor = self.gradient_accumulation_steps = None
        self.iterations = 0
        self.slots: dict[str, list[np.ndarray]] = {}
        self.built = False

    @classmethod
    def keywords(cls) -> list[str]:
        """The keywords this optimizer takes: its own, then Keras's common ones."""
        own = list(inspect.signature(cls.__init__).parameters.values())[1:]
        common = list(inspect.signature(Optimizer.__init__).parameters.values())[1:]
        named = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        return list(dict.fromkeys(q.name for q in own + common if q.kind in named))

    # ------------------------------------------------------------------ learning rate
    @property
    def learning_rate(self) -> LearningRate:
        """The rate of the next step: the float, or the schedule at ``iterations``.

        Assign a number to change it (a schedule's rate cannot be set, as in Keras).
        """
        return LearningRate(self._current_learning_rate(), self)

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        if isinstance(value, LearningRateSchedule) or (
            callable(value) and not isinstance(value, Real | np.ndarray)
        ):
            self._learning_rate = value
            return
        if isinstance(self._learning_rate, LearningRateSchedule):
            raise TypeError(
                "This optimizer was created with a `LearningRateSchedule` object as its "
                "`learning_rate` constructor argument, hence its learning rate is not settable."
            )
        if isinstance(value, np.ndarray) and value.shape == ():
            value = value.item()
        self._learning_rate = check_positive_float("learning_rate", value)

    def _current_learning_rate(self) -> float:
        if isinstance(self._learning_rate, LearningRateSchedule):
            return float(self._learning_rate(self.iterations))
        if callable(self._learning_rate):
            return float(self._learning_rate())
        return self._learning_rate

    @property
    def lr(self):
        return self.__getattr__("lr")  # the message below (hasattr(optimizer, "lr") is False)

    @lr.setter
    def lr(self, value):
        self.__getattr__("lr")

    def __getattr__(self, name: str):
        # Only reached for names the object lacks.
        if name == "lr":
            raise NotInThisOptimizer(
                "optimizer.lr was removed in Keras 3; use optimizer.learning_rate"
            )
        if name in _KERAS_ONLY:
            raise NotInThisOptimizer(
                f"optimizer.{name} is not supported by backprop_lab (it is for custom training "
                "loops); fit() updates the weights with step(params, grads)"
            )
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        raise NotImplementedError(
            "exclude_from_weight_decay is not supported by backprop_lab: weight decay "
            "applies to every parameter (Keras's default)"
        )

    # ------------------------------------------------------------------ the step
    def initial_slot_value(self, name: str) -> float:
        """The value slot ``name`` starts at (0 unless a rule says otherwise)."""
        return 0.0

    def set_moment_rates(self, beta_1, beta_2, epsilon) -> None:
        """Check and keep the Adam family's decay rates of its moments, and epsilon."""
        self.beta_1 = check_float_in("beta_1", beta_1, 0.0, 1.0)
        self.beta_2 = check_float_in("beta_2", beta_2, 0.0, 1.0)
        self.epsilon = check_positive_float("epsilon", epsilon)

    def build(self, params: list[np.ndarray]) -> None:
        """Create the state slots for ``params``; called on the first step."""
        self.slots = {
            name: [np.full_like(p, self.initial_slot_value(name)) for p in params]
            for name in self.slot_names
        }
        self.built = True

    def step(self, params: list[np.ndarray], grads: list[np.ndarray]) -> None:
        """Update every parameter in place from its gradient; one training step.

        Parameters
        ----------
        params : list of ndarray
            ``[W1, b1, W2, b2, ...]``, each updated in place.
        grads : list of ndarray
            The gradients of the loss, aligned with ``params`` (same shapes);
            never modified (clipping makes new arrays).
        """
        if self.iterations == 0 or not self.built:  # a counter set by hand still builds
            self.build(params)
        lr = self._current_learning_rate()
        grads = self.clip_gradients(grads)
        if self.weight_decay is not None:
            for w in params:
                f = w.dtype.type
                w -= w * f(self.weight_decay) * f(lr)
        self._update(params, grads, lr)
        self.iterations += 1

    def clip_gradients(self, grads: list[np.ndarray]) -> list[np.ndarray]:
        """The gradients clipped as Keras clips them (``grads`` itself without clipping).

        ::

            clipnorm:         g * c / max(norm(g), c)                 for each g
            clipvalue:        clip(g, -c, c)                          for each g
            global_clipnorm:  g * c * min(1 / n, 1 / c),  n = norm of all g together
        """
        if self.clipnorm is not None:
            out = []
            for g in grads:
                c = g.dtype.type(self.clipnorm)
                out.append(g * c / np.maximum(np.sqrt(np.sum(g * g)), c))
            return out
        if self.clipvalue is not None:
            return [np.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        if self.global_clipnorm is not None:
            f = grads[0].dtype.type
            norm = np.sqrt(sum(np.sum(g * g) for g in grads))
            c = f(self.global_clipnorm)
            # (norm - norm) turns an infinite or NaN norm into NaN instead of a silent 0.
            with np.errstate(invalid="ignore"):
                scale = c * np.minimum(f(1) / norm, f(1) / c) + (norm - norm)
            return [g * scale for g in grads]
        return grads

    def _update(self, params, grads, lr: float) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------------ description
    def hyperparameters(self) -> dict:
        """``{name: value}`` of the rule's numbers, e.g. ``{"learning_rate": 0.01, ...}``."""
        values = {name: getattr(self, name) for name in self.hyperparameter_names}
        values["learning_rate"] = self._current_learning_rate()
        return values

    def options(self) -> dict:
        """Options beyond the plain rule (a schedule, clipping, weight decay), e.g.
        ``{"clipnorm": 1.0}``: the compiled engine runs only an optimizer with none."""
        found = {}
        if not isinstance(self._learning_rate, float):
            found["learning_rate"] = getattr(
                self._learning_rate, "__name__", type(self._learning_rate).__name__
            )
        for key in ("weight_decay", "clipnorm", "clipvalue", "global_clipnorm"):
            if getattr(self, key) is not None:
                found[key] = getattr(self, key)
        return found

    def get_config(self) -> dict:
        """Keras's optimizer config: the common keywords, then the rule's numbers."""
        lr = self._learning_rate
        if isinstance(lr, LearningRateSchedule):
            lr = serialize(lr)
        elif not isinstance(lr, float):
            lr = getattr(lr, "__qualname__", repr(lr))
        config = {"name": self.name, "learning_rate": lr}
        for key in (
            "weight_decay",
            "clipnorm",
            "global_clipnorm",
            "clipvalue",
            "use_ema",
            "ema_momentum",
            "ema_overwrite_frequency",
            "loss_scale_factor",
            "gradient_accumulation_steps",
        ):
            config[key] = getattr(self, key)
        config.update({k: getattr(self, k) for k in self.hyperparameter_names[1:]})
        return config

    @classmethod
    def from_config(cls, config: dict) -> Optimizer:
        """The optimizer ``get_config`` described (a schedule given as its serialized dict)."""
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = deserialize(config["learning_rate"])
        return cls(**config)

    def __repr__(self) -> str:
        shown = {"learning_rate": self._learning_rate}
        shown.update({k: getattr(self, k) for k in self.hyperparameter_names[1:]})
        shown.update({k: v for k, v in self.options().items() if k != "learning_rate"})
        args = ", ".join(f"{k}={v!r}" for k, v in shown.items())
        return f"{type(self).__name__}({args})"
