import numpy as np
import pytest
from toys import knn_method, part_swing_bundle, part_swing_set

from bench.methods import METHODS
from bench.methods.knn import KNN, normalised_clip


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_knn_is_accurate_on_easy_data(tmp_path, metric):
    data = part_swing_bundle()
    knn = knn_method(tmp_path, metric=metric)
    knn.fit(data)
    pred = knn.predict(data.test, data)
    assert pred.sample_ids == data.test.sample_ids
    assert pred.scores.shape == (len(data.test), data.num_classes)
    assert np.isfinite(pred.scores).all()
    accuracy = (pred.scores.argmax(1) == pred.labels).mean()
    assert accuracy >= 0.9, accuracy
    again = knn_method(tmp_path, metric=metric)
    again.fit(data)
    np.testing.assert_array_equal(again.predict(data.test, data).scores, pred.scores)


def test_knn_ranks_unseen_classes_last(tmp_path):
    data = part_swing_bundle(classes=4, train=3)
    data.class_names.append("never trained")
    knn = knn_method(tmp_path)
    knn.fit(data)
    scores = knn.predict(data.test, data).scores
    assert (scores[:, 4] < scores[:, :4].min(axis=1)).all()


def test_normalised_clip_is_invariant_to_position_and_size():
    clip = part_swing_set(1, 1, seed=3, prefix="x")
    kp, t = clip.keypoint[0], int(clip.num_frames[0])
    a = normalised_clip(kp, t, centre=1, frames=16, persons=2)
    moved = kp.copy()
    moved[:, :t] = (moved[:, :t] + np.array([5.0, -2.0, 1.0])) * 2.0
    moved[1] = 0
    b = normalised_clip(moved, t, centre=1, frames=16, persons=2)
    np.testing.assert_allclose(a[0], b[0], atol=1e-4)
    assert a.shape == (2, 16, 25, 3) and not b[1].any()


def test_knn_is_registered():
    assert METHODS.get("knn") is KNN


def test_val_joins_train_for_a_final_fit_with_padding(tmp_path):
    import dataclasses

    data = part_swing_bundle(classes=3, train=2, val=1, test=1)
    short = dataclasses.replace(data.val, keypoint=data.val.keypoint[:, :1, :10])  # 1 body, 10 frames
    merged = dataclasses.replace(data, val=short).with_val_in_train()
    n = len(data.train)
    assert merged.train.sample_ids == data.train.sample_ids + data.val.sample_ids
    assert merged.train.keypoint.shape[1:] == data.train.keypoint.shape[1:]
    np.testing.assert_array_equal(merged.train.keypoint[n:, :1, :10], short.keypoint)
    assert not merged.train.keypoint[n:, 1:].any() and not merged.train.keypoint[n:, :, 10:].any()
    np.testing.assert_array_equal(merged.train.labels[n:], data.val.labels)
    assert len(merged.val) == 0 and merged.test is data.test
    # knn outside smoke fits on both: a val clip is its own nearest neighbour
    knn = KNN(KNN.default_config("cpu"), profile="cpu", seed=0, workdir=tmp_path, cache_dir=tmp_path)
    assert knn.config["include_val"] and not KNN.default_config("smoke")["include_val"]
    knn.fit(data)
    pred = knn.predict(data.val, data)
    assert (pred.scores.argmax(1) == data.val.labels).all()
    np.testing.assert_allclose(pred.scores.max(1), 0.0, atol=1e-5)
