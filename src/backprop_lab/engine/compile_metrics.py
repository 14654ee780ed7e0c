"""What ``compile(metrics=..., weighted_metrics=...)`` turns into: Keras's ``CompileMetrics``.

Rules taken from ``keras.src.trainers.compile_utils``:

* ``"accuracy"`` / ``"acc"`` (any case) become ``BinaryAccuracy`` for one
  output, else ``SparseCategoricalAccuracy`` (integer labels) or
  ``CategoricalAccuracy`` (one-hot), named as the user wrote them; any other
  string keeps its own spelling as its name (``"mae"`` logs ``mae``); an object
  keeps its ``name`` (``AUC()`` is ``auc``, a second one ``auc_1``).
* metrics see no sample weights; ``weighted_metrics`` see them.
* duplicate names get ``_1``, ``_2``...; a weighted metric named like an
  unweighted one is logged as ``weighted_<name>``.
"""

from __future__ import annotations

import numpy as np

from . import keras_metrics
from .keras_metrics import (
    BinaryAccuracy,
    CategoricalAccuracy,
    Metric,
    SparseCategoricalAccuracy,
)

_ACCURACY = ("accuracy", "acc")


def _check_list(argument: str, metrics) -> list:
    if metrics is None:
        return []
    if isinstance(metrics, dict):
        raise NotImplementedError(
            f"{argument} as a dict (one entry per output) is not supported by backprop_lab; "
            "a Sequential model has one output: pass a list"
        )
    if not isinstance(metrics, list | tuple):
        raise ValueError(
            f"Expected `{argument}` argument to be a list, tuple, or dict. "
            f"Received instead: {argument}={metrics!r} of type {type(metrics)}"
        )
    return list(metrics)


class CompileMetrics:
    """The metrics of one compiled model: resolved at the first batch, as Keras does.

    Parameters
    ----------
    metrics, weighted_metrics : list of str, Metric or function, optional
    """

    name = "compile_metrics"

    def __init__(self, metrics=None, weighted_metrics=None):
        self._given = (
            _check_list("metrics", metrics),
            _check_list("weighted_metrics", weighted_metrics),
        )
        # Non-accuracy names are resolved now, so a bad name fails at compile().
        self._resolved = [[self._early(m) for m in given] for given in self._given]
        self.built = False
        self._names = None
        self.unweighted: list[Metric] = []
        self.weighted: list[Metric] = []

    @staticmethod
    def _early(identifier):
        if identifier is None:
            raise ValueError("Expected metric, received `None`")
        if str(identifier).lower() in _ACCURACY:
            return None
        metric = keras_metrics.get(identifier)
        if isinstance(identifier, str):
            metric.name = identifier
        return metric

    @property
    def given(self) -> tuple[list, list]:
        """``(metrics, weighted_metrics)`` as compile() was given them (for compile_config)."""
        return self._given

    def __bool__(self) -> bool:
        return any(self._given)

    def build(self, n_outputs: int, sparse: bool) -> None:
        """Resolve ``"accuracy"`` for ``n_outputs`` outputs and integer (``sparse``) labels."""
        if self.built:
            return
        lists = []
        for given, resolved in zip(self._given, self._resolved):
            out = []
            for identifier, metric in zip(given, resolved):
                if metric is None:
                    name = str(identifier)
                    if n_outputs == 1:
                        metric = BinaryAccuracy(name=name)
                    elif sparse:
                        metric = SparseCategoricalAccuracy(name=name)
                    else:
                        metric = CategoricalAccuracy(name=name)
                out.append(metric)
            lists.append(out)
        self.unweighted, self.weighted = lists
        self.built = True
        self._names = None  # result()'s keys, once known (set_counts)

    @property
    def metrics(self) -> list[Metric]:
        """Every metric object, unweighted first (Keras's ``CompileMetrics.metrics``)."""
        return self.unweighted + self.weighted

    def reset_state(self) -> None:
        for m in self.metrics:
            m.reset_state()

    def update_state(self, Y: np.ndarray, P: np.ndarray, weights=None) -> None:
        """Add a batch of prepared targets ``Y`` and outputs ``P`` (n_samples, n_outputs)."""
        for m in self.unweighted:
            m._update(Y, P, None)
        for m in self.weighted:
            m._update(Y, P, weights)

    def result(self) -> dict:
        """``{name: value}`` with Keras's names for duplicates."""
        results, seen = {}, {}
        for m in self.unweighted:
            name = m.name
            if name in seen:
                seen[name] += 1
                name = f"{name}_{seen[name] - 1}"
            else:
                seen[name] = 1
            results[name] = m.result()
        for m in self.weighted:
            name = m.name
            if name in seen:
                name = f"weighted_{m.name}"
                if name in seen:
                    seen[name] += 1
                    name = f"{name}_{seen[name] - 1}"
                else:
                    seen[name] = 1
            else:
                seen[name] = 1
            results[name] = m.result()
        return results

    def direction(self, name: str) -> str | None:
        """``"up"`` or ``"down"``: whether the metric logged as ``name`` should grow."""
        if self.built:
            found = [m._direction for m in self.metrics if m.name == name]
        else:  # "accuracy" and "acc" are accuracies, whatever they resolve to
            found = [
                "up" if m is None else m._direction
                for given, resolved in zip(self._given, self._resolved)
                for g, m in zip(given, resolved)
                if (str(g) if m is None else m.name) == name
            ]
        return found[-1] if found else None

    # ------------------------------------------------------------------ compiled engine
    def kernel_reason(self, n_outputs: int, binary_targets: bool = True) -> str | None:
        """Why the compiled kernel cannot count these metrics, or None.

        The kernel counts ``(p > 0.5) == (y > 0.5)`` for one output (Keras's
        ``BinaryAccuracy`` only for 0/1 targets: ``binary_targets``) and arg-max
        agreement for several; nothing else.  Works before ``build``.
        """
        given = [m for resolved in self._resolved for m in resolved]
        for m in self.metrics if self.built else given:
            if m is None or type(m) in (CategoricalAccuracy, SparseCategoricalAccuracy):
                kind = "binary" if n_outputs == 1 else "arg-max"
            elif type(m) is BinaryAccuracy and m.threshold == 0.5:
                kind = "binary"
            else:
                return f"the metric {m.name!r} (the compiled engine counts only accuracy)"
            if kind == "binary" and not (n_outputs == 1 and binary_targets):
                return f"the metric {m.name!r} on targets other than 0/1"
            if kind == "arg-max" and n_outputs == 1:
                return f"the metric {m.name!r} on one output"
        return None

    def set_counts(self, correct: float, seen: int) -> dict:
        """Every (accuracy) metric set to ``correct / seen``; returns ``result()``."""
        if self._names is None:
            self._names = list(self.result())
        for m in self.metrics:
            m.total, m.count = float(correct), float(seen)
        value = correct / seen
        return dict.fromkeys(self._names, value)
