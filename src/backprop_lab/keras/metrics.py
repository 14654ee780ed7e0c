"""``keras.metrics``: the engine's streaming metrics under their Keras names.

``keras.metrics.AUC()``, ``Precision()``, ``BinaryAccuracy()``, ... build the
engine's metric objects; ``keras.metrics.mae`` (a function in Keras) is the
name ``"mae"`` here, which ``compile(metrics=[...])`` takes the same way, and
which called directly returns the per-sample values, as Keras's function does.
"""

from ..engine import keras_metrics as _metrics
from ._names import classes_in, refuse_missing, wrap_all


class MetricName(str):
    """A metric's name standing in for Keras's metric function of that name."""

    def __call__(self, y_true, y_pred):
        """The metric of each sample, shape ``(n_samples,)``."""
        metric = _metrics.get(str(self))
        if not isinstance(metric, _metrics.MeanMetric):
            raise NotImplementedError(
                f"keras.metrics.{self}(y_true, y_pred) is not a per-sample function; "
                f"use keras.metrics.{type(metric).__name__}() and its update_state/result"
            )
        return metric.values(*metric._prepare(y_true, y_pred))


_NAMES = {
    **{name: MetricName(name) for name in _metrics.METRICS if name.islower()},
    **wrap_all(classes_in(_metrics, _metrics.Metric)),
}
globals().update(_NAMES)

__all__ = sorted(_NAMES)
__getattr__ = refuse_missing("keras.metrics", __all__)
