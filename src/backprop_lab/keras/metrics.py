"""``keras.metrics``: the engine's streaming metrics under their Keras names.

``keras.metrics.AUC()``, ``Precision()``, ``BinaryAccuracy()``, ... build the
engine's metric objects; ``keras.metrics.mae`` (a function in Keras) is the
name ``"mae"`` here, which ``compile(metrics=[...])`` takes the same way.
"""

from ..engine import keras_metrics as _metrics
from ._names import classes_in, refuse_missing, wrap_all

_NAMES = {
    **{name: name for name in _metrics.METRICS if name.islower()},
    **wrap_all(classes_in(_metrics, _metrics.Metric)),
}
globals().update(_NAMES)

__all__ = sorted(_NAMES)
__getattr__ = refuse_missing("keras.metrics", __all__)
