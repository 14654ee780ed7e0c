"""Metrics on predictions: accuracy, the majority-class baseline, confusion matrices."""

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
