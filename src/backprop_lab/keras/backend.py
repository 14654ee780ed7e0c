"""``keras.backend``: the few calls Keras scripts make on it."""

from ..engine.keras_metrics import reset_uids
from ..engine.losses import EPSILON
from ._names import refuse_missing


def clear_session() -> None:
    """Start automatic metric names afresh (a new ``AUC()`` is ``auc`` again), as Keras.

    backprop-lab keeps no global graph or session to clear.
    """
    reset_uids()


def epsilon() -> float:
    """The fuzz factor Keras clips probabilities with: 1e-7."""
    return EPSILON


def floatx() -> str:
    """The default float type of weights: ``"float32"``, as in Keras."""
    return "float32"


def backend() -> str:
    """The name of the backend: backprop-lab's NumPy (or compiled) engine."""
    return "backprop_lab"


__all__ = ["backend", "clear_session", "epsilon", "floatx"]
__getattr__ = refuse_missing("keras.backend", __all__)
