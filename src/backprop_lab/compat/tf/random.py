"""``tf.random``: ``set_seed`` (the random ops themselves are TensorFlow's, not here)."""

from ...engine.random import set_random_seed as set_seed
from ...keras._names import refuse_missing

__all__ = ["set_seed"]
__getattr__ = refuse_missing("tf.random", __all__)
