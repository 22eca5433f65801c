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


class RunCounts:
    """Per-sample indicator matrices of one run, so that every classification metric is a
    weighted sum: weights w (B, n) are bootstrap resample counts, or ones for the full set."""

    def __init__(self, labels: np.ndarray, scores: np.ndarray):
        eye = np.eye(scores.shape[1], dtype=np.float32)  # float32: integer sums stay exact
        predicted = np.argmax(scores, axis=1)
        self.n = len(labels)
        self.true_1h = eye[labels]
        self.pred_1h = eye[predicted]
        self.hit_1h = self.true_1h * (labels == predicted)[:, None]
        self.hit1 = (labels == predicted).astype(np.float32)
        self.hit5 = topk_correct(scores, labels, 5).astype(np.float32)

    @classmethod
    def of(cls, p: Predictions) -> "RunCounts":
        return cls(p.labels, p.scores)

    def full(self) -> np.ndarray:
        return np.ones((1, self.n), dtype=np.float32)

    def _per_class(self, w: np.ndarray):
        # float32 sums of integer weights are exact; the ratios are taken in float64
        return tuple(np.asarray(w @ m, dtype=np.float64)
                     for m in (self.true_1h, self.pred_1h, self.hit_1h))

    def top1(self, w: np.ndarray) -> np.ndarray:
        return (w @ self.hit1).astype(np.float64) / w.sum(axis=1, dtype=np.float64)

    def top5(self, w: np.ndarray) -> np.ndarray:
        return (w @ self.hit5).astype(np.float64) / w.sum(axis=1, dtype=np.float64)

    def mean_class_acc(self, w: np.ndarray) -> np.ndarray:
        """Mean recall over the classes present (balanced accuracy)."""
        support, _, hits = self._per_class(w)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.nanmean(np.where(support > 0, hits / support, np.nan), axis=-1)

    def macro_f1(self, w: np.ndarray) -> np.ndarray:
        """Mean F1 over the classes that occur as true or predicted labels (scikit-learn)."""
        support, predcount, hits = self._per_class(w)
        present = (support + predcount) > 0
        with np.errstate(invalid="ignore", divide="ignore"):
            f1 = np.where(present, 2 * hits / np.where(present, support + predcount, 1), np.nan)
        return np.nanmean(f1, axis=-1)
