"""Argument checks shared by the engine, with one-line messages.

Every message names the argument, shows what it got and says what is allowed,
so the command line can print it as it is.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from numbers import Integral, Real
from typing import Any


def check_positive_int(name: str, value: Any) -> int:
    """Return ``value`` as an int if it is an integer >= 1, else raise."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be a positive integer, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be a positive integer (>= 1), got {value!r}")
    return int(value)


def check_positive_float(name: str, value: Any) -> float:
    """Return ``value`` as a float if it is a finite number > 0, else raise."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a positive finite number, got {value!r}")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return float(value)


def check_float_in(name: str, value: Any, low: float, high: float, *, closed_low=True) -> float:
    """Return ``value`` as a float if ``low <= value < high`` (or ``low < value``)."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a number, got {value!r}")
    ok_low = value >= low if closed_low else value > low
    if not (math.isfinite(value) and ok_low and value < high):
        bracket = "[" if closed_low else "("
        raise ValueError(f"{name} must be in {bracket}{low}, {high}), got {value!r}")
    return float(value)


def lookup(kind: str, name: Any, table: Mapping[str, Any]) -> Any:
    """Return ``table[name]``, or raise a ValueError listing the valid names."""
    if not isinstance(name, str):
        raise TypeError(f"{kind} must be a name or an object, got {name!r}")
    key = name.lower()
    if key not in table:
        valid = ", ".join(sorted(table))
        raise ValueError(f"unknown {kind} {name!r}; valid names: {valid}")
    return table[key]


def keras_lookup(kind: str, identifier: Any, table: Mapping[str, Any], keras_names) -> Any:
    """Return ``table[identifier]`` for a name of Keras's ``<module>.get``.

    A name Keras knows (``keras_names``) that backprop_lab does not have raises
    NotImplementedError; anything else raises Keras's ValueError ("Could not
    interpret ... identifier"), both listing the supported names.  Keras's names are
    case-sensitive; a differently cased name is still found here.
    """
    valid = ", ".join(sorted(table))
    if isinstance(identifier, str):
        for key in (identifier, identifier.lower()):
            if key in table:
                return table[key]
        if identifier in keras_names:
            raise NotImplementedError(
                f"{kind} {identifier!r} is not supported by backprop_lab; supported: {valid}"
            )
    raise ValueError(f"Could not interpret {kind} identifier: {identifier!r}; valid names: {valid}")


def custom_refusal(kind: str, identifier: Any, reason: str, supported) -> NotImplementedError:
    """The error for a user's own function where a named ``kind`` is needed.

    Callers test ``callable(x) and not isinstance(x, str)``: a name standing in
    for a Keras function (``keras.losses.mse``) is a callable string, and a name.
    """
    what = getattr(identifier, "__name__", type(identifier).__name__)
    return NotImplementedError(
        f"the custom {kind} {what!r} is not supported by backprop_lab ({reason}); "
        f"supported: {', '.join(sorted(supported))}"
    )
