import numpy as np
import pytest

from bench.data.bundle import DataBundle, SkeletonSet
from bench.methods import METHODS
from bench.methods.knn import KNN, normalised_clip
from bench.specs import SplitManifest

# A rough standing pose in the NTU-25 joint order (metres, y up).
REST = np.array([
    [0, 0, 0], [0, .3, 0], [0, .55, 0], [0, .7, 0], [-.2, .5, 0], [-.25, .25, 0], [-.3, 0, 0],
    [-.3, -.05, 0], [.2, .5, 0], [.25, .25, 0], [.3, 0, 0], [.3, -.05, 0], [-.1, 0, 0],
    [-.1, -.45, 0], [-.1, -.85, 0], [-.1, -.9, .1], [.1, 0, 0], [.1, -.45, 0], [.1, -.85, 0],
    [.1, -.9, .1], [0, .5, 0], [-.3, -.1, 0], [-.28, -.05, .03], [.3, -.1, 0], [.28, -.05, .03]],
    dtype=np.float32)
# Body parts that move (NTU-25 joint indices): left arm, right arm, head, left leg, right leg.
PARTS = [(5, 6, 7, 21, 22), (9, 10, 11, 23, 24), (2, 3), (13, 14, 15), (17, 18, 19)]


def toy_set(classes, per_class, seed, prefix, t_max=64):
    """Class c swings body part c % 5 along axis c // 5 % 3, c // 15 + 1 times per clip (60
    distinct classes); lengths, size, position, phase and noise vary per clip; every third clip
    has a second, idle body beside the first."""
    rng = np.random.default_rng(seed)
    n = classes * per_class
    kp = np.zeros((n, 2, t_max, 25, 3), np.float32)
    frames = rng.integers(t_max // 2, t_max + 1, size=n)
    labels = np.repeat(np.arange(classes), per_class)
    for i, (c, t) in enumerate(zip(labels, frames)):
        phase = np.linspace(0, 2 * np.pi, t) + rng.uniform(0, np.pi / 4)
        body = np.repeat(REST[None], t, axis=0) * rng.uniform(.9, 1.1)
        body[:, PARTS[c % 5], c // 5 % 3] += .3 * np.sin((c // 15 + 1) * phase)[:, None]
        where = np.array([rng.uniform(-1, 1), 0, 3])
        kp[i, 0, :t] = body + where + rng.normal(0, .01, body.shape)
        if i % 3 == 0:
            kp[i, 1, :t] = REST + where + np.array([1.0, 0, .5]) + rng.normal(0, .01, body.shape)
    ids = [f"{prefix}{i:04d}A{c + 1:03d}" for i, c in enumerate(labels)]
    return SkeletonSet(ids, kp, frames.astype(np.int64), labels.astype(np.int64))


def toy_bundle(classes=10, train=20, val=2, test=4):
    sets = [toy_set(classes, k, seed, name) for seed, (name, k) in
            enumerate((("train", train), ("val", val), ("test", test)))]
    manifest = SplitManifest("toy", "toy", *(tuple(sorted(s.sample_ids)) for s in sets))
    return DataBundle(manifest, [f"class {c}" for c in range(classes)], "ntu25", 30.0, *sets)


def _knn(tmp_path, **overrides):
    config = {**KNN.default_config("smoke"), **overrides}
    return KNN(config, profile="smoke", seed=0, workdir=tmp_path, cache_dir=tmp_path)


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_knn_is_accurate_on_easy_data(tmp_path, metric):
    data = toy_bundle()
    knn = _knn(tmp_path, metric=metric)
    knn.fit(data)
    pred = knn.predict(data.test, data)
    assert pred.sample_ids == data.test.sample_ids
    assert pred.scores.shape == (len(data.test), data.num_classes)
    assert np.isfinite(pred.scores).all()
    accuracy = (pred.scores.argmax(1) == pred.labels).mean()
    assert accuracy >= 0.9, accuracy
    again = _knn(tmp_path, metric=metric)
    again.fit(data)
    np.testing.assert_array_equal(again.predict(data.test, data).scores, pred.scores)


def test_knn_ranks_unseen_classes_last(tmp_path):
    data = toy_bundle(classes=4, train=3)
    data.class_names.append("never trained")
    knn = _knn(tmp_path)
    knn.fit(data)
    scores = knn.predict(data.test, data).scores
    assert (scores[:, 4] < scores[:, :4].min(axis=1)).all()


def test_normalised_clip_is_invariant_to_position_and_size():
    clip = toy_set(1, 1, seed=3, prefix="x")
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

    data = toy_bundle(classes=3, train=2, val=1, test=1)
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
