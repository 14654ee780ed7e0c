"""``tf``: what Keras scripts use of TensorFlow: ``tf.keras``, ``tf.random.set_seed``,
``tf.config.list_physical_devices``.

Anything else (``tf.constant``, ``tf.data``, ``tf.GradientTape``) raises
NotSupported naming it: backprop-lab is a NumPy engine, not TensorFlow.
"""

from ..._version import __version__ as _version
from ...keras._aliases import AliasFinder
from ...keras._names import refuse_missing

# tf.keras.* is backprop_lab.keras.* under the name tf.keras (one import hook for all).
ALIASES = AliasFinder({__name__ + ".keras": ("backprop_lab.keras", "tf.keras")})
ALIASES.install()

from . import config, keras, random  # noqa: E402 - keras exists once the hook is installed

__version__ = f"backprop-lab {_version}"  # not a TensorFlow release: backprop-lab's own

__all__ = ["config", "keras", "random"]
__getattr__ = refuse_missing("tf", __all__)
