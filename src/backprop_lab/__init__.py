"""backprop-lab: see, measure and trust how backpropagation and gradient descent learn.

The engine is plain NumPy, written to be read: every layer's backward pass sits
next to its forward pass.  The API follows Keras, so a Keras script runs after
changing its import line (see ``backprop_lab.keras`` and ``backprop_lab.compat``),
or unchanged with ``backprop-lab run script.py``.

The names below load on first use, so ``import backprop_lab`` (and the
``backprop-lab`` command starting) is quick and imports nothing heavy.
"""

from ._version import __version__

# Public name -> the module that defines it.
_EXPORTS = {
    "Callback": "engine.callbacks",
    "EarlyStopping": "engine.callbacks",
    "History": "engine.callbacks",
    "TerminateOnNaN": "engine.callbacks",
    "Dense": "engine.layers",
    "Sequential": "engine.model",
    "SGD": "engine.optimizers",
    "Adagrad": "engine.optimizers",
    "Adam": "engine.optimizers",
    "RMSprop": "engine.optimizers",
    "set_random_seed": "engine.random",
}

# Subpackages loaded on first use too: ``backprop_lab.keras`` after ``import backprop_lab``.
_SUBPACKAGES = ("compat", "keras")

__all__ = ["__version__", *sorted(_EXPORTS), *_SUBPACKAGES]


def __getattr__(name: str):
    import importlib  # here, not at the top: the package itself stays instant to import

    if name in _SUBPACKAGES:
        return importlib.import_module(f".{name}", __name__)
    if name not in _EXPORTS:
        raise AttributeError(f"module 'backprop_lab' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value  # found directly from now on
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS) | set(_SUBPACKAGES))
