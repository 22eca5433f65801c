"""Classification metrics over Predictions (fractions in [0, 1])."""
from __future__ import annotations

import numpy as np

from bench.specs import Predictions


def topk_correct(scores: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """(N,) bool: the true class is among the k highest scores."""
    k = min(k, scores.shape[1])
    # Stable ordering: among tied scores the lower class index ranks first.
    topk = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return np.any(topk == labels[:, None], axis=1)


def topk_accuracy(scores: np.ndarray, labels: np.ndarray, k: int) -> float:
    return float(np.mean(topk_correct(scores, labels, k)))


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, num_classes: int) -> np.ndarray:
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(cm, (labels, predicted), 1)
    return cm


def per_class_accuracy(cm: np.ndarray) -> np.ndarray:
    """Recall of each class; NaN for classes absent from the evaluated split."""
    support = cm.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(support > 0, np.diag(cm) / support, np.nan)


def macro_f1(cm: np.ndarray) -> float:
    """Mean F1 over the classes that occur as true or predicted labels (scikit-learn's default)."""
    hits, support, predicted = np.diag(cm), cm.sum(axis=1), cm.sum(axis=0)
    present = (support + predicted) > 0
    return float(np.mean(2 * hits[present] / (support + predicted)[present]))


def classification_metrics(p: Predictions) -> dict:
    predicted = np.argmax(p.scores, axis=1)
    cm = confusion_matrix(p.labels, predicted, p.scores.shape[1])
    return {
        "top1": topk_accuracy(p.scores, p.labels, 1),
        "top5": topk_accuracy(p.scores, p.labels, 5),
        "mean_class_acc": float(np.nanmean(per_class_accuracy(cm))),
        "macro_f1": macro_f1(cm),
        "num_test": int(len(p.labels)),
    }
