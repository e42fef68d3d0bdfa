"""Pure evaluation helpers: confusion matrix, per-class precision/recall/F1, parameter count."""
from __future__ import annotations

import numpy as np

from mlp.network import parameter_count  # noqa: F401  (the engine's count, one for the whole project)


def confusion_matrix(y_true, y_pred, n_classes: int = 10) -> np.ndarray:
    """(n_classes, n_classes) counts; row = true class, column = predicted class."""
    cm = np.zeros((n_classes, n_classes), dtype=int)
    np.add.at(cm, (np.asarray(y_true, dtype=int), np.asarray(y_pred, dtype=int)), 1)
    return cm


def per_class_report(cm) -> dict:
    """Precision, recall, F1 and support per class from a confusion matrix (0 where undefined)."""
    cm = np.asarray(cm, dtype=float)
    tp = np.diag(cm)
    predicted, actual = cm.sum(axis=0), cm.sum(axis=1)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, actual, out=np.zeros_like(tp), where=actual > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    return {"precision": precision, "recall": recall, "f1": f1, "support": actual.astype(int)}
