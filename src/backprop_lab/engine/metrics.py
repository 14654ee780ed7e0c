"""Metrics on predictions: accuracy, the majority-class baseline, confusion
matrices and the scores derived from them; MSE, MAE and R² for regression."""

from __future__ import annotations

import numpy as np


def count_correct(Y: np.ndarray, P: np.ndarray) -> int:
    """Number of correctly classified rows.

    Parameters
    ----------
    Y : ndarray of shape (n_samples, n_outputs)
        Targets, 0/1 for one output, one-hot for several.
    P : ndarray of shape (n_samples, n_outputs)
        Predicted probabilities.

    One output: ``P > 0.5`` against the 0/1 target (Keras's ``binary_accuracy``);
    several outputs: the arg-max class against the target's.
    """
    if P.shape[1] == 1:
        return int(np.count_nonzero((P > 0.5) == (Y > 0.5)))
    return int(np.count_nonzero(P.argmax(axis=1) == Y.argmax(axis=1)))


def predicted_labels(P: np.ndarray) -> np.ndarray:
    """Class labels of shape ``(n_samples,)`` from outputs ``P`` of shape ``(n_samples, k)``.

    One output: ``P > 0.5`` (class 1); several: the arg-max class.  The same
    rule as ``count_correct``.
    """
    return (P[:, 0] > 0.5).astype(np.int64) if P.shape[1] == 1 else P.argmax(axis=1)


def accuracy(y_true, y_pred) -> float:
    """Fraction of labels ``y_true`` (shape ``(n,)``) equal to ``y_pred`` (shape ``(n,)``)."""
    y_true, y_pred = np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()
    return float(np.mean(y_true == y_pred))


def baseline_accuracy(y) -> float:
    """Accuracy of always answering the most frequent class of ``y`` (shape ``(n,)``)."""
    _, counts = np.unique(np.asarray(y).ravel(), return_counts=True)
    return float(counts.max() / counts.sum())


def confusion_matrix(y_true, y_pred, n_classes: int = 2) -> np.ndarray:
    """``C[i, j]`` counts samples of true class ``i`` predicted as class ``j``."""
    y_true = np.asarray(y_true, dtype=np.int64).ravel()
    y_pred = np.asarray(y_pred, dtype=np.int64).ravel()
    return np.bincount(y_true * n_classes + y_pred, minlength=n_classes**2).reshape(
        n_classes, n_classes
    )


def class_scores(C) -> dict:
    """Per-class precision and recall and the macro-F1 of a confusion matrix.

    Parameters
    ----------
    C : array-like of shape (k, k)
        ``C[i, j]`` counts samples of true class ``i`` predicted as ``j``.

    Returns
    -------
    dict
        ``precision`` and ``recall``: lists of ``k`` floats (0 for a class
        never predicted, or never present); ``macro_f1``: the mean of
        ``2 p r / (p + r)`` (0 where ``p + r`` is 0) over the classes present
        in the truth or the predictions, as scikit-learn's ``f1_score`` with
        ``average="macro"``: a class with no points and no predictions does
        not count (0 if there is none at all).
    """
    C = np.asarray(C, dtype=np.float64)
    hits = np.diag(C)
    predicted, actual = C.sum(axis=0), C.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(predicted > 0, hits / predicted, 0.0)
        r = np.where(actual > 0, hits / actual, 0.0)
        f1 = np.where(p + r > 0, 2 * p * r / (p + r), 0.0)
    present = (predicted > 0) | (actual > 0)
    macro = float(f1[present].mean()) if present.any() else 0.0
    return {"precision": p.tolist(), "recall": r.tolist(), "macro_f1": macro}


def is_regression(metrics) -> bool:
    """Whether a run's ``metrics`` (``metrics.json``) are a regression's.

    A regression's metrics hold ``r2`` (or, from an older or partial file,
    ``mse`` without ``test_accuracy``); a classification's hold
    ``test_accuracy``.  The one test every reader of metrics uses.
    """
    return "r2" in metrics or ("mse" in metrics and "test_accuracy" not in metrics)


def r2_score(y_true, y_pred) -> float:
    """R² of predictions ``y_pred`` for targets ``y_true``, scikit-learn's rule.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,) or (n_samples, n_outputs)
        At least one sample; several outputs are scored each and averaged
        (scikit-learn's ``multioutput="uniform_average"``).

    Returns
    -------
    float
        ``1 - SS_res / SS_tot`` per output; for a constant target
        (``SS_tot == 0``) 1.0 if predicted exactly, else 0.0 (scikit-learn's
        ``force_finite``), so never ``-inf`` or NaN for finite inputs.
    """
    y = np.asarray(y_true, dtype=np.float64)
    p = np.asarray(y_pred, dtype=np.float64)
    y = y.reshape(len(y), -1)
    p = p.reshape(len(p), -1)
    ss_res = ((y - p) ** 2).sum(axis=0)
    ss_tot = ((y - y.mean(axis=0)) ** 2).sum(axis=0)
    ok = ss_tot > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        r2 = np.where(ok, 1 - ss_res / np.where(ok, ss_tot, 1.0), np.where(ss_res == 0, 1.0, 0.0))
    return float(r2.mean())


def regression_scores(y_true, y_pred) -> dict:
    """MSE, MAE and R² of predictions, and the MSE of predicting the mean.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,) or (n_samples, 1)
        Targets and predictions, at least one sample.

    Returns
    -------
    dict
        ``mse``, ``mae``; ``baseline_mse``, the MSE of always answering the
        mean of ``y_true`` (its variance); ``r2``, see `r2_score` (1 is
        perfect, 0 is no better than the mean; for constant targets 1 if
        predicted exactly, else 0).
    """
    y = np.asarray(y_true, dtype=np.float64).ravel()
    p = np.asarray(y_pred, dtype=np.float64).ravel()
    mse = float(np.mean((y - p) ** 2))
    base = float(np.var(y))
    r2 = r2_score(y, p)
    return {"mse": mse, "mae": float(np.mean(np.abs(y - p))), "r2": r2, "baseline_mse": base}


def cell_centres(low: float, high: float, n: int) -> np.ndarray:
    """Centres of ``n`` equal cells splitting ``[low, high]``, shape ``(n,)``.

    Contour or image coordinates for maps computed on ``grid_points``.
    """
    return low + (np.arange(n) + 0.5) * (high - low) / n


def grid_points(extent=(-1.0, 1.0, -1.0, 1.0), resolution: int = 1000) -> np.ndarray:
    """Centres of a ``resolution`` x ``resolution`` grid of cells over ``extent``.

    Returns an array of shape ``(resolution**2, 2)``; each point stands for a
    cell of equal area, so averages over it are midpoint-rule integrals.
    """
    x0, x1, y0, y1 = extent
    gx, gy = np.meshgrid(cell_centres(x0, x1, resolution), cell_centres(y0, y1, resolution))
    return np.column_stack([gx.ravel(), gy.ravel()])


def padded_extent(X: np.ndarray, extent=(-1.0, 1.0, -1.0, 1.0), pad: float = 0.05) -> tuple:
    """``extent`` widened to hold every point of ``X``, then padded by ``pad`` of its span.

    Parameters
    ----------
    X : ndarray of shape (n_samples, 2)
        May be empty.
    extent : tuple (x_min, x_max, y_min, y_max)
        Must be finite with ``x_min < x_max`` and ``y_min < y_max``.

    Returns
    -------
    tuple of four floats ``(x_min, x_max, y_min, y_max)``, the region pictures draw.
    """
    ext = np.asarray(extent, dtype=np.float64)
    if ext.shape != (4,) or not np.isfinite(ext).all() or ext[0] >= ext[1] or ext[2] >= ext[3]:
        raise ValueError(f"extent must be finite (xmin, xmax, ymin, ymax), got {extent!r}")
    lo, hi = ext[[0, 2]], ext[[1, 3]]
    if len(X):
        lo, hi = np.minimum(lo, X.min(axis=0)), np.maximum(hi, X.max(axis=0))
    margin = pad * (hi - lo)
    lo, hi = lo - margin, hi + margin
    return (float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1]))


def region_agreement(
    predict_labels, true_labels, extent=(-1.0, 1.0, -1.0, 1.0), resolution: int = 1000
) -> dict:
    """Compare a learned class-1 region with the true one over ``extent``.

    Parameters
    ----------
    predict_labels, true_labels : callable
        Map points of shape ``(n, 2)`` to 0/1 labels of shape ``(n,)``.
    extent : tuple (x_min, x_max, y_min, y_max)
        The square the data is drawn from.
    resolution : int
        Cells per side; the error of the areas shrinks like ``1 / resolution``.

    Returns
    -------
    dict
        ``disagreement_area``: area where the two regions differ (in the
        units of ``extent``, so out of 4 for ``[-1, 1]**2``);
        ``disagreement_fraction``: the same as a fraction of ``extent``;
        ``iou``: intersection over union of the two class-1 regions.
    """
    G = grid_points(extent, resolution)
    learned = np.asarray(predict_labels(G)).ravel().astype(bool)
    true = np.asarray(true_labels(G)).ravel().astype(bool)
    total_area = (extent[1] - extent[0]) * (extent[3] - extent[2])
    fraction = float(np.mean(learned != true))
    union = np.count_nonzero(learned | true)
    iou = np.count_nonzero(learned & true) / union if union else 1.0
    return {
        "disagreement_area": fraction * total_area,
        "disagreement_fraction": fraction,
        "iou": float(iou),
    }
