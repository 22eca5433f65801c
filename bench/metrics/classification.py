"""Classification metrics over Predictions (fractions in [0, 1])."""
from __future__ import annotations

import numpy as np

from bench.specs import Predictions


def topk_accuracy(scores: np.ndarray, labels: np.ndarray, k: int) -> float:
    k = min(k, scores.shape[1])
    # Stable ordering: among tied scores the lower class index ranks first.
    topk = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return float(np.mean(np.any(topk == labels[:, None], axis=1)))


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, num_classes: int) -> np.ndarray:
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(cm, (labels, predicted), 1)
    return cm


def per_class_accuracy(cm: np.ndarray) -> np.ndarray:
    """Recall of each class; NaN for classes absent from the evaluated split."""
    support = cm.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(support > 0, np.diag(cm) / support, np.nan)


def classification_metrics(p: Predictions) -> dict:
    predicted = np.argmax(p.scores, axis=1)
    cm = confusion_matrix(p.labels, predicted, p.scores.shape[1])
    return {
        "top1": topk_accuracy(p.scores, p.labels, 1),
        "top5": topk_accuracy(p.scores, p.labels, 5),
        "mean_class_acc": float(np.nanmean(per_class_accuracy(cm))),
        "num_test": int(len(p.labels)),
    }
