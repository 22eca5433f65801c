"""Issue 18: memory bounded by blocks and batches, results unchanged.

knn's distances come in blocks of train rows folded into a running per-class minimum; the VST
streams its windows from the clips in batches, making the perturbed copies on the fly.
"""
from __future__ import annotations

import numpy as np
import pytest

from bench.methods import knn as knn_mod


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_knn_blocked_distances_equal_the_whole_matrix(metric):
    rng = np.random.default_rng(0)
    train = knn_mod._prepare(rng.normal(size=(301, 40)).astype(np.float32), metric)
    query = knn_mod._prepare(rng.normal(size=(17, 40)).astype(np.float32), metric)
    labels = np.sort(rng.integers(0, 9, len(train)))  # sorted, as fit keeps them
    classes, starts = np.unique(labels, return_index=True)
    whole = np.minimum.reduceat(knn_mod._distances(query, train, metric), starts, axis=1)
    for block in (1, 7, 64, 300, 301, 5000):  # blocks that cut classes anywhere
        blocked = knn_mod.nearest_per_class(query, train, starts, metric, block=block)
        np.testing.assert_allclose(blocked, whole, rtol=0, atol=1e-6)
        assert np.array_equal(blocked.argmin(1), whole.argmin(1))


def test_knn_scores_do_not_depend_on_the_block_size(tmp_path, monkeypatch):
    from tests.test_knn import _knn, toy_bundle

    data = toy_bundle()
    scores = []
    for block in (knn_mod.TRAIN_BLOCK, 13):
        monkeypatch.setattr(knn_mod, "TRAIN_BLOCK", block)
        monkeypatch.setattr(knn_mod.nearest_per_class, "__defaults__", (block,))
        model = _knn(tmp_path, metric="euclidean", chunk=5)
        model.fit(data)
        scores.append(model.predict(data.test, data).scores)
    # float32 matrix products of other shapes round differently (euclidean: |q|^2 + |t|^2 -
    # 2 q.t cancels); the nearest class is the same
    np.testing.assert_allclose(scores[0], scores[1], rtol=1e-4, atol=1e-3)
    assert np.array_equal(scores[0].argmax(1), scores[1].argmax(1))
