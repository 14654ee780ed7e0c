"""Streaming metrics with Keras's names and semantics (``keras.metrics``).

A metric accumulates state over batches (``update_state``), reports it
(``result``) and starts again (``reset_state``), as Keras's ``Metric`` does.
Two families cover what tutorials use:

* mean metrics: a value per sample, averaged over every sample seen
  (weighted by ``sample_weight`` when given)::

      total += sum(values * w);  count += sum(w);  result = total / count

  accuracies, ``mae``, ``mse``, ``mape``, ``msle`` and ``rmse`` (the square
  root of the running ``mse``);
* confusion metrics: true/false positives and negatives counted at
  thresholds, for ``Precision``, ``Recall`` and ``AUC`` (Keras's 200
  thresholds and interpolated Riemann sum).

The engine calls ``update_state`` with the loss's prepared targets ``Y`` and
the outputs ``P``, both ``(n_samples, n_outputs)``.  ``compile_metrics``
resolves what ``compile(metrics=...)`` names, as
``keras.src.trainers.compile_utils`` does.
"""

from __future__ import annotations

import re
from collections import defaultdict

import numpy as np

from ._checks import keras_lookup

EPSILON = 1e-7  # Keras's backend.epsilon()
_uids: defaultdict[str, int] = defaultdict(int)


def to_snake_case(name: str) -> str:
    """``"AUC"`` -> ``"auc"``, ``"MeanAbsoluteError"`` -> ``"mean_absolute_error"`` (Keras)."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def auto_name(class_name: str) -> str:
    """Keras's default object name: ``auc``, then ``auc_1``, ``auc_2``... in this process."""
    base = to_snake_case(class_name)
    name = f"{base}_{_uids[base]}" if base in _uids else base
    _uids[base] += 1
    return name


def reset_uids() -> None:
    """Start the ``auc_1``... numbering again (Keras's ``clear_session``)."""
    _uids.clear()


def _as_2d(a) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    return a.reshape(len(a), -1) if a.ndim != 2 else a


class Metric:
    """Base class: ``update_state``, ``result``, ``reset_state``, ``name``.

    ``_direction`` ("up" or "down") tells ``mode="auto"`` callbacks whether
    larger is better, as in Keras.
    """

    _direction = "up"

    def __init__(self, name: str | None = None, dtype=None):
        self.name = name or auto_name(type(self).__name__)
        self.dtype = "float32" if dtype is None else dtype
        self.reset_state()

    def _prepare(self, y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
        """Raw ``y_true``, ``y_pred`` as 2-D arrays of one shape (Keras squeezes or expands)."""
        Y, P = _as_2d(y_true), _as_2d(y_pred)
        try:
            Y, P = np.broadcast_arrays(Y, P)
        except ValueError:
            raise ValueError(
                f"{self.name}: y_true of shape {np.shape(y_true)} does not match "
                f"y_pred of shape {np.shape(y_pred)}"
            ) from None
        return Y, P

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        """Add a batch: targets and predictions of shape ``(n_samples, ...)``.

        ``sample_weight`` : array of shape ``(n_samples,)``, optional.
        """
        Y, P = self._prepare(y_true, y_pred)
        w = None if sample_weight is None else np.asarray(sample_weight, np.float64).reshape(-1)
        if w is not None and len(w) != len(P):
            raise ValueError(f"{self.name}: sample_weight has {len(w)} values for {len(P)} samples")
        self._update(Y, P, w)

    def __call__(self, y_true, y_pred, sample_weight=None) -> float:
        """``update_state`` then ``result``, as Keras's ``Metric.__call__``."""
        self.update_state(y_true, y_pred, sample_weight)
        return self.result()

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}>"


class MeanMetric(Metric):
    """A per-sample value averaged over the samples seen (Keras's ``MeanMetricWrapper``).

    ``_row_mean``: the Keras function averages the last axis (``mae``, ``mse``...),
    so 1-D arrays given to ``update_state`` count as one sample, as in Keras (the
    engine always passes ``(n_samples, n_outputs)``).
    """

    _direction = "down"
    _row_mean = False

    def _prepare(self, y_true, y_pred):
        Y, P = super()._prepare(y_true, y_pred)
        if self._row_mean and Y.shape[1] == 1 and min(np.ndim(y_true), np.ndim(y_pred)) == 1:
            return Y.T, P.T
        return Y, P

    def values(self, Y: np.ndarray, P: np.ndarray) -> np.ndarray:
        """One value per sample, shape ``(n_samples,)``."""
        raise NotImplementedError

    def reset_state(self) -> None:
        self.total, self.count = 0.0, 0.0

    def _update(self, Y, P, w) -> None:
        v = self.values(Y, P)
        if w is None:
            self.total += float(v.sum())
            self.count += len(v)
        else:
            self.total += float(v @ w)
            self.count += float(w.sum())

    def result(self) -> float:
        return self.total / self.count if self.count else 0.0


class Mean(MeanMetric):
    """The (weighted) mean of the values given: ``update_state(values, sample_weight=None)``."""

    def update_state(self, values, sample_weight=None) -> None:
        v = np.asarray(values, dtype=np.float64)
        v = v.reshape(1, 1) if v.ndim == 0 else v.reshape(len(v), -1)
        w = (
            None
            if sample_weight is None
            else np.broadcast_to(np.asarray(sample_weight, np.float64).reshape(-1), (len(v),))
        )
        self._update(v, v, w)

    def values(self, Y, P):
        return P.mean(axis=1)


class BinaryAccuracy(MeanMetric):
    """Fraction of outputs where ``y_true == (y_pred > threshold)``."""

    _direction = "up"

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(name, dtype)
        self.threshold = float(threshold)

    def values(self, Y, P):
        return (Y == (P > self.threshold)).mean(axis=1)

    def _update(self, Y, P, w) -> None:
        if w is None and P.shape[1] == 1:  # the usual case, as cheap as a count
            self.total += int(np.count_nonzero(Y == (P > self.threshold)))
            self.count += len(P)
        else:
            super()._update(Y, P, w)

    def get_config(self) -> dict:
        return {**super().get_config(), "threshold": self.threshold}


class CategoricalAccuracy(MeanMetric):
    """Fraction of samples whose arg-max output is the one-hot target's."""

    _direction = "up"

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(name, dtype)

    def values(self, Y, P):
        return (Y.argmax(axis=1) == P.argmax(axis=1)).astype(np.float64)

    def _update(self, Y, P, w) -> None:
        if w is None:  # as cheap as a count
            self.total += int(np.count_nonzero(Y.argmax(axis=1) == P.argmax(axis=1)))
            self.count += len(P)
        else:
            super()._update(Y, P, w)


class SparseCategoricalAccuracy(CategoricalAccuracy):
    """Fraction of samples whose arg-max output is the integer label.

    The engine passes the labels one-hot (as the loss prepared them), so the rule
    is ``CategoricalAccuracy``'s; raw labels of shape ``(n,)`` or ``(n, 1)`` are
    turned one-hot first.
    """

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(name, dtype)

    def _prepare(self, y_true, y_pred):
        P = _as_2d(y_pred)
        labels = np.asarray(y_true).reshape(len(P), -1)
        if labels.shape[1] == P.shape[1] and P.shape[1] > 1:
            return labels.astype(np.float64), P
        Y = np.zeros_like(P)
        ids = labels[:, 0].astype(np.int64)
        ok = (ids >= 0) & (ids < P.shape[1])
        Y[np.flatnonzero(ok), ids[ok]] = 1.0  # an out-of-range label is never right
        return Y, P


class Accuracy(MeanMetric):
    """Fraction of outputs where ``y_pred == y_true`` exactly (``keras.metrics.Accuracy``)."""

    _direction = "up"

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(name, dtype)

    def values(self, Y, P):
        return (Y == P).mean(axis=1)


class MeanAbsoluteError(MeanMetric):
    """``mean(|y_pred - y_true|)`` over the outputs, per sample."""

    _row_mean = True

    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(name, dtype)

    def values(self, Y, P):
        return np.abs(P - Y).mean(axis=1)


class MeanSquaredError(MeanMetric):
    """``mean((y_pred - y_true) ** 2)`` over the outputs, per sample."""

    _row_mean = True

    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(name, dtype)

    def values(self, Y, P):
        return ((P - Y) ** 2).mean(axis=1)


class RootMeanSquaredError(MeanSquaredError):
    """``sqrt`` of the running mean squared error."""

    _row_mean = False  # Keras averages the squared errors element by element

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name, dtype)

    def result(self) -> float:
        return float(np.sqrt(super().result()))


class MeanAbsolutePercentageError(MeanMetric):
    """``100 * mean(|y_true - y_pred| / max(|y_true|, eps))`` per sample."""

    _row_mean = True

    def __init__(self, name="mean_absolute_percentage_error", dtype=None):
        super().__init__(name, dtype)

    def values(self, Y, P):
        return 100.0 * (np.abs(Y - P) / np.maximum(np.abs(Y), EPSILON)).mean(axis=1)


class MeanSquaredLogarithmicError(MeanMetric):
    """``mean((log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1)) ** 2)`` per sample."""

    _row_mean = True

    def __init__(self, name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(name, dtype)

    def values(self, Y, P):
        d = np.log(np.maximum(P, EPSILON) + 1.0) - np.log(np.maximum(Y, EPSILON) + 1.0)
        return (d**2).mean(axis=1)


# ---------------------------------------------------------------- confusion metrics
def confusion_counts(Y, P, thresholds, w) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted ``(tp, fp, positives)`` at each threshold, every output flattened.

    A prediction is positive at threshold ``t`` when ``p > t``; ``y`` counts as
    a positive label when nonzero.  ``positives`` is the total positive weight
    (``fn = positives - tp``); the negatives' total is ``sum(w) - positives``.
    """
    y = (Y != 0).ravel()
    p = P.ravel()
    w = np.ones(p.size) if w is None else np.repeat(w, P.shape[1])
    above = p[None, :] > np.asarray(thresholds)[:, None]  # (n_thresholds, n_values)
    return above @ (w * y), above @ (w * ~y), float(w @ y)


class _Confusion(Metric):
    """Counts ``tp``, ``fp``, ``tn``, ``fn`` at ``self.thresholds`` (an array)."""

    def reset_state(self) -> None:
        n = len(self.thresholds)
        self.tp, self.fp, self.tn, self.fn = (np.zeros(n) for _ in range(4))

    def _counts(self, Y, P, w):
        return confusion_counts(Y, P, self.thresholds, w)

    def _update(self, Y, P, w) -> None:
        if getattr(self, "class_id", None) is not None:
            Y, P = Y[:, [self.class_id]], P[:, [self.class_id]]
        tp, fp, positives = self._counts(Y, P, w)
        total = P.size if w is None else float(w.sum()) * P.shape[1]
        self.tp += tp
        self.fp += fp
        self.fn += positives - tp
        self.tn += (total - positives) - fp


def _one_threshold(kind: str, thresholds, top_k) -> np.ndarray:
    if top_k is not None:
        raise NotImplementedError(f"{kind}(top_k=...) is not supported by backprop_lab")
    if thresholds is None:
        return np.array([0.5])
    if np.ndim(thresholds) != 0:
        raise NotImplementedError(
            f"{kind}(thresholds=[...]) with several thresholds is not supported by "
            "backprop_lab; give one number"
        )
    return np.array([float(thresholds)])


class Precision(_Confusion):
    """``tp / (tp + fp)`` at ``thresholds`` (0.5 by default), 0 when nothing is positive.

    ``class_id`` restricts it to one output column.
    """

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        self.thresholds = _one_threshold("Precision", thresholds, top_k)
        self.init_thresholds = thresholds
        self.class_id = class_id
        super().__init__(name, dtype)

    def result(self) -> float:
        d = self.tp[0] + self.fp[0]
        return float(self.tp[0] / d) if d else 0.0

    def get_config(self) -> dict:
        config = {"thresholds": self.init_thresholds, "top_k": None}
        return {**super().get_config(), **config, "class_id": self.class_id}


class Recall(_Confusion):
    """``tp / (tp + fn)`` at ``thresholds`` (0.5 by default), 0 without positives."""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        self.thresholds = _one_threshold("Recall", thresholds, top_k)
        self.init_thresholds = thresholds
        self.class_id = class_id
        super().__init__(name, dtype)

    def result(self) -> float:
        d = self.tp[0] + self.fn[0]
        return float(self.tp[0] / d) if d else 0.0

    def get_config(self) -> dict:
        config = {"thresholds": self.init_thresholds, "top_k": None}
        return {**super().get_config(), **config, "class_id": self.class_id}


def _divide_no_nan(a, b):
    return np.divide(a, b, out=np.zeros_like(a), where=b != 0)


class AUC(_Confusion):
    """Area under the ROC (or precision-recall) curve, as Keras approximates it.

    The curve is sampled at ``num_thresholds`` thresholds: ``i / (T - 1)`` for
    ``i = 1 .. T-2``, plus ``-1e-7`` and ``1 + 1e-7`` at the ends.  With the
    default thresholds the counts come from buckets (Keras's O(N + T) method:
    ``bucket = ceil(p * (T - 1)) - 1``, then cumulative sums from the top).
    ``summation_method="interpolation"`` averages neighbouring heights (ROC),
    or for PR uses Davis & Goadrich's interpolation, as Keras does.
    """

    def __init__(
        self,
        num_thresholds=200,
        curve="ROC",
        summation_method="interpolation",
        name=None,
        dtype=None,
        thresholds=None,
        multi_label=False,
        num_labels=None,
        label_weights=None,
        from_logits=False,
    ):
        if multi_label or num_labels is not None or label_weights is not None:
            raise NotImplementedError(
                "AUC(multi_label=..., num_labels=..., label_weights=...) is not supported "
                "by backprop_lab; outputs are flattened into one curve"
            )
        self.curve = str(curve).upper()
        self.summation_method = str(summation_method).lower()
        if self.curve not in ("ROC", "PR"):
            raise ValueError(f"AUC curve must be 'ROC' or 'PR', got {curve!r}")
        if self.summation_method not in ("interpolation", "minoring", "majoring"):
            raise ValueError(
                "AUC summation_method must be 'interpolation', 'minoring' or 'majoring', "
                f"got {summation_method!r}"
            )
        self._evenly = thresholds is None
        if thresholds is None:
            if num_thresholds <= 1:
                raise ValueError(f"AUC num_thresholds must be an integer > 1, got {num_thresholds}")
            inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        else:
            inner = sorted(float(t) for t in thresholds)
        self.thresholds = np.array([0.0 - EPSILON, *inner, 1.0 + EPSILON])
        self.num_thresholds = len(self.thresholds)
        self.from_logits = bool(from_logits)
        super().__init__(name, dtype)

    def _counts(self, Y, P, w):
        if self.from_logits:
            P = 1.0 / (1.0 + np.exp(-P))
        if not self._evenly:
            return confusion_counts(Y, P, self.thresholds, w)
        T = self.num_thresholds
        # Keras computes the bucket in float32: p in (i-1, i] / (T-1) lands in bucket i-1.
        p = np.clip(P.astype(np.float32).ravel(), 0.0, 1.0)
        bucket = np.maximum(np.ceil(p * np.float32(T - 1)) - 1, 0).astype(np.int64)
        y = (Y != 0).ravel()
        w = np.ones(p.size) if w is None else np.repeat(w, P.shape[1])
        tp = np.bincount(bucket, w * y, minlength=T)[::-1].cumsum()[::-1]
        fp = np.bincount(bucket, w * ~y, minlength=T)[::-1].cumsum()[::-1]
        return tp, fp, float(w @ y)

    def get_config(self) -> dict:
        """Keras's ``AUC.get_config`` keys."""
        config = {
            "num_thresholds": self.num_thresholds,
            "curve": self.curve,
            "summation_method": self.summation_method,
            "multi_label": False,
            "num_labels": None,
            "label_weights": None,
            "from_logits": self.from_logits,
        }
        if not self._evenly:
            config["thresholds"] = [float(t) for t in self.thresholds[1:-1]]
        return {**super().get_config(), **config}

    def _pr_interpolated(self) -> float:
        tp, fp, fn = self.tp, self.fp, self.fn
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        slope = _divide_no_nan(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - slope * p[1:]
        both = (p[:-1] > 0) & (p[1:] > 0)
        ratio = np.where(both, _divide_no_nan(p[:-1], np.maximum(p[1:], 0)), 1.0)
        with np.errstate(divide="ignore"):
            increment = slope * (dtp + intercept * np.log(ratio))
        return float(_divide_no_nan(increment, np.maximum(tp[1:] + fn[1:], 0)).sum())

    def result(self) -> float:
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._pr_interpolated()
        recall = _divide_no_nan(self.tp, self.tp + self.fn)
        if self.curve == "ROC":
            x, y = _divide_no_nan(self.fp, self.fp + self.tn), recall
        else:
            x, y = recall, _divide_no_nan(self.tp, self.tp + self.fp)
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2
        elif self.summation_method == "minoring":
            heights = np.minimum(y[:-1], y[1:])
        else:
            heights = np.maximum(y[:-1], y[1:])
        return float(((x[:-1] - x[1:]) * heights).sum())


class FunctionMetric(MeanMetric):
    """A user function ``fn(y_true, y_pred)`` of per-sample values, averaged."""

    def __init__(self, fn, name=None, dtype=None):
        self.fn = fn
        super().__init__(name or to_snake_case(getattr(fn, "__name__", "metric")), dtype)

    def values(self, Y, P):
        return np.asarray(self.fn(Y, P), dtype=np.float64).reshape(len(P), -1).mean(axis=1)


METRICS = {
    "accuracy": Accuracy,
    "binary_accuracy": BinaryAccuracy,
    "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "mean_absolute_error": MeanAbsoluteError,
    "mae": MeanAbsoluteError,
    "mean_squared_error": MeanSquaredError,
    "mse": MeanSquaredError,
    "root_mean_squared_error": RootMeanSquaredError,
    "mean_absolute_percentage_error": MeanAbsolutePercentageError,
    "mape": MeanAbsolutePercentageError,
    "mean_squared_logarithmic_error": MeanSquaredLogarithmicError,
    "msle": MeanSquaredLogarithmicError,
    "auc": AUC,
    "precision": Precision,
    "recall": Recall,
    "mean": Mean,
}
METRICS.update({cls.__name__: cls for cls in set(METRICS.values())})
# keras.metrics names (class names, their snake case, aliases) backprop_lab lacks:
# they raise NotImplementedError, anything else Keras's ValueError.
_KERAS_ONLY = (
    "Sum MeanMetricWrapper CosineSimilarity LogCoshError R2Score FalseNegatives "
    "FalsePositives PrecisionAtRecall RecallAtPrecision SensitivityAtSpecificity "
    "SpecificityAtSensitivity TrueNegatives TruePositives ConcordanceCorrelation "
    "PearsonCorrelation Hinge SquaredHinge CategoricalHinge KLDivergence Poisson "
    "BinaryCrossentropy CategoricalCrossentropy SparseCategoricalCrossentropy "
    "TopKCategoricalAccuracy SparseTopKCategoricalAccuracy F1Score FBetaScore IoU "
    "BinaryIoU MeanIoU OneHotIoU OneHotMeanIoU"
).split()
KERAS_ONLY_NAMES = frozenset(
    [*_KERAS_ONLY, *(to_snake_case(n) for n in _KERAS_ONLY), "bce", "BCE", "kl_divergence"]
)


def get(identifier) -> Metric:
    """A metric object from a Keras name (``"mae"``, ``"AUC"``), an object or a function."""
    if isinstance(identifier, Metric):
        return identifier
    if callable(identifier) and not isinstance(identifier, type | str):
        return FunctionMetric(identifier)
    return keras_lookup("metric", identifier, METRICS, KERAS_ONLY_NAMES)()
