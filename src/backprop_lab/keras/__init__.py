"""``backprop_lab.keras``: Keras 3's public namespace, on backprop-lab's engine.

Change one line of a Keras script and it runs here::

    import keras                 ->  from backprop_lab import keras
    from keras.layers import X   ->  from backprop_lab.keras.layers import X

Every module is a real module (``layers``, ``models``, ``optimizers``,
``optimizers.schedules``, ``losses``, ``metrics``, ``callbacks``, ``utils``,
``initializers``, ``regularizers``, ``activations``, ``backend``, ``saving``);
each hands out the engine's classes under Keras's names, and any name it
does not provide raises ``NotSupported`` (a NotImplementedError) naming it.

May import: the engine only.
"""

from .._version import __version__ as _version
from . import (
    activations,
    backend,
    callbacks,
    initializers,
    layers,
    losses,
    metrics,
    models,
    optimizers,
    regularizers,
    saving,
    utils,
)
from ._names import refuse_missing
from .layers import Input
from .models import Model, Sequential

__version__ = f"backprop-lab {_version}"  # not a Keras release: backprop-lab's own

__all__ = [
    "Input",
    "Model",
    "Sequential",
    "activations",
    "backend",
    "callbacks",
    "initializers",
    "layers",
    "losses",
    "metrics",
    "models",
    "optimizers",
    "regularizers",
    "saving",
    "utils",
]
__getattr__ = refuse_missing("keras", __all__)
