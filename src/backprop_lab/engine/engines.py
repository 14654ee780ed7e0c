"""The two engines behind ``fit``, ``evaluate`` and ``predict``, and how one is chosen.

Both offer the same three things: why they cannot run a model (or None), a
trainer for one ``fit`` (``train_epoch(order, callbacks)`` and ``close()``; see
``training.NumpyTrainer``) and a forward pass for inference.  The NumPy engine
runs any model; the compiled one (numba kernels, imported only when first
needed) runs the layers, losses and optimizers it knows, much faster.
"""

from __future__ import annotations

import functools
import importlib.util

import numpy as np

from .training import NumpyTrainer

ENGINES = ("auto", "numpy", "compiled")


class NumpyEngine:
    """The readable engine: every step is the NumPy code of the layers and optimizers."""

    name = "numpy"

    def unsupported_reason(self, model, *, training: bool = True) -> str | None:
        return None

    def trainer(self, model, X, Y, batch_size: int, callbacks, validating: bool, weights=None):
        return NumpyTrainer(model, X, Y, batch_size, weights)

    def predict(self, model, X: np.ndarray, chunk: int | None = None) -> np.ndarray:
        """``model.apply(X)``, ``chunk`` rows at a time to bound memory."""
        if chunk is None or len(X) <= chunk:
            return model.apply(X)
        return np.concatenate([model.apply(X[i : i + chunk]) for i in range(0, len(X), chunk)])


@functools.cache
def _numba_installed() -> bool:
    """Whether numba can be imported (looked up once: a search of ``sys.path``)."""
    return importlib.util.find_spec("numba") is not None


class CompiledEngine:
    """The same math as numba kernels (``engine.compiled``)."""

    name = "compiled"

    def unsupported_reason(self, model, *, training: bool = True) -> str | None:
        if not _numba_installed():  # imported when a kernel first runs
            return "numba is not installed"
        from .compiled import trainer

        return trainer.unsupported_reason(model, training=training)

    def trainer(self, model, X, Y, batch_size: int, callbacks, validating: bool, weights=None):
        from .compiled.trainer import CompiledTrainer

        if weights is not None:
            raise ValueError("the compiled engine trains without sample weights")

        return CompiledTrainer(model, X, Y, batch_size, callbacks, validating)

    def predict(self, model, X: np.ndarray, chunk: int | None = None) -> np.ndarray:
        """``model.apply(X)`` by the kernel, which bounds memory itself (blocks of 256 rows)."""
        from .compiled.trainer import predict

        return predict(model, X)


NUMPY, COMPILED = NumpyEngine(), CompiledEngine()


def select(model, choice: str, *, training: bool = True, numpy_reason: str | None = None):
    """The engine that runs ``model`` for ``choice`` in ``ENGINES``.

    ``"auto"`` takes the compiled engine when it supports the model and NumPy
    otherwise; ``"compiled"`` raises a ValueError naming what it cannot run.
    With ``training=False`` only inference needs to be supported.
    ``numpy_reason`` is what this ``fit`` asks that only NumPy computes (the
    kernels log only the loss and accuracy, without sample weights), or None.
    """
    if choice == "numpy":
        return NUMPY
    reason = numpy_reason or COMPILED.unsupported_reason(model, training=training)
    if reason is None:
        return COMPILED
    if choice == "compiled":
        raise ValueError(
            f"engine='compiled' cannot run this model: {reason}; "
            "use engine='auto' or engine='numpy'"
        )
    return NUMPY
