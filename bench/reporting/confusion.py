"""Confusion analysis: a class order that groups confusions, most-confused pairs, per-class
accuracy."""
from __future__ import annotations

import numpy as np

from bench.reporting import tables


def row_normalised(cm: np.ndarray) -> np.ndarray:
    return cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)


def grouping_order(cm: np.ndarray) -> np.ndarray:
    """Class order from average-linkage clustering (optimal leaf order) of the distance
    1 - (N + N^T) / 2 on the row-normalised confusion N: classes confused with each other end up
    next to each other, so confusions form blocks along the diagonal."""
    from scipy.cluster.hierarchy import leaves_list, linkage
    from scipy.spatial.distance import squareform

    c = len(cm)
    if c < 3:
        return np.arange(c)
    n = row_normalised(cm.astype(np.float64))
    sym = (n + n.T) / 2
    dist = np.clip(1.0 - sym, 0.0, 1.0)
    np.fill_diagonal(dist, 0.0)
    link = linkage(squareform(dist, checks=False), method="average", optimal_ordering=True)
    return leaves_list(link)


def confused_pairs(cm: np.ndarray, k: int = 10) -> list[tuple[int, int, int, float]]:
    """The k largest off-diagonal cells: (true, predicted, count, share of the true class)."""
    off = cm.astype(np.int64).copy()
    np.fill_diagonal(off, 0)
    flat = np.argsort(-off, axis=None, kind="stable")[:k]
    support = cm.sum(axis=1)
    out = []
    for f in flat:
        t, p = divmod(int(f), cm.shape[1])
        if off[t, p] == 0:
            break
        out.append((t, p, int(off[t, p]), float(off[t, p] / max(support[t], 1))))
    return out


PAIR_HEADERS = ["Method", "True class", "Predicted as", "Count", "Share of true class (%)"]


def pair_rows(method: str, cm: np.ndarray, names: list[str], k: int = 10) -> list[list[str]]:
    return [[method, names[t], names[p], str(n), tables.fmt_pct(share)]
            for t, p, n, share in confused_pairs(cm, k)]


def per_class_rows(matrices: dict[str, np.ndarray], names: list[str]) -> list[list[str]]:
    """Class, support, then each method's recall (%), one row per class."""
    from bench.metrics.classification import per_class_accuracy

    accs = {m: per_class_accuracy(cm) for m, cm in matrices.items()}
    support = next(iter(matrices.values())).sum(axis=1)
    return [[str(c + 1), names[c], str(int(support[c]))]
            + [tables.fmt_pct(None if np.isnan(a[c]) else float(a[c])) for a in accs.values()]
            for c in range(len(names))]


NEVER_HEADERS = ["Method", "Profile", "Seed", "Never right", "Never-right classes"]


def never_right_rows(groups, names: list[str]) -> list[list[str]]:
    """Per run (every seed), the classes with test samples and none of them right."""
    rows = []
    for g in groups:
        for seed, p in zip(g.seeds, g.predictions):
            classes = never_right(p.labels, p.scores.argmax(1), len(names))
            rows.append([g.method, g.profile, str(seed), str(len(classes)),
                         ", ".join(names[c] for c in classes) or "-"])
    return rows


def never_right(labels, predicted, n_classes: int) -> list[int]:
    """Classes present among `labels` whose samples are never predicted as them."""
    labels, predicted = np.asarray(labels), np.asarray(predicted)
    support = np.bincount(labels, minlength=n_classes)
    hits = np.bincount(labels[predicted == labels], minlength=n_classes)
    return [int(c) for c in np.flatnonzero((support > 0) & (hits == 0))]
