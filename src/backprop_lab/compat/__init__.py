"""Drop-in namespaces for Keras and TensorFlow scripts.

Change one line of a Keras script and it runs on backprop-lab::

    import tensorflow as tf            ->  from backprop_lab.compat import tf
    from tensorflow.keras import X     ->  from backprop_lab.compat.tf.keras import X
    import keras                       ->  from backprop_lab.compat import keras

``tf.keras`` is ``backprop_lab.keras`` under the name ``tf.keras`` (same
objects; its errors say ``tf.keras....``).  Only a subset is provided: asking
for anything else (a Conv2D layer, ``tf.constant``) raises
``NotImplementedError`` naming it, so a script never silently does something
different from Keras.  ``backprop-lab run script.py`` needs no change at all.

May import: keras and the engine.
"""

from .. import keras
from . import tf

__all__ = ["keras", "tf"]
