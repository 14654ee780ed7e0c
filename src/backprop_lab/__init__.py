"""backprop-lab: see, measure and trust how backpropagation and gradient descent learn.

The engine is plain NumPy, written to be read: every layer's backward pass sits
next to its forward pass.  The API follows Keras, so a Keras script runs after
changing its import line (see ``backprop_lab.compat``).
"""

from ._version import __version__
from .compat import keras  # ``from backprop_lab import keras``
from .engine.callbacks import Callback, EarlyStopping, History, TerminateOnNaN
from .engine.layers import Dense
from .engine.model import Sequential
from .engine.optimizers import SGD, Adagrad, Adam, RMSprop
from .engine.random import set_random_seed

__all__ = [
    "__version__",
    "Adagrad",
    "Adam",
    "Callback",
    "Dense",
    "EarlyStopping",
    "History",
    "RMSprop",
    "SGD",
    "Sequential",
    "TerminateOnNaN",
    "keras",
    "set_random_seed",
]
