"""Issue 18: memory bounded by blocks and batches, results unchanged.

knn's distances come in blocks of train rows folded into a running per-class minimum; the VST
streams its windows from the clips in batches, making the perturbed copies on the fly.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from toys import knn_method, lvlm_method, named_motion_bundle, part_swing_bundle

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
    data = part_swing_bundle()
    scores = []
    for block in (knn_mod.TRAIN_BLOCK, 13):
        monkeypatch.setattr(knn_mod, "TRAIN_BLOCK", block)
        monkeypatch.setattr(knn_mod.nearest_per_class, "__defaults__", (block,))
        model = knn_method(tmp_path, metric="euclidean", chunk=5)
        model.fit(data)
        scores.append(model.predict(data.test, data).scores)
    # float32 matrix products of other shapes round differently (euclidean: |q|^2 + |t|^2 -
    # 2 q.t cancels); the nearest class is the same
    np.testing.assert_allclose(scores[0], scores[1], rtol=1e-4, atol=1e-3)
    assert np.array_equal(scores[0].argmax(1), scores[1].argmax(1))


# ------------------------------------------------------------------------------------- VST


@pytest.fixture(scope="module")
def bundle():
    return named_motion_bundle(num_classes=4, train_per_class=6, test_per_class=2)


def _source(split, copies: int, **kw):
    from bench.data.layouts import NTU25
    from bench.methods.lvlm_var.features import ClipWindows

    aug = {"copies": copies, "noise": 0.15, "tilt": 0.3, "seed": 3} if copies else None
    return ClipWindows(split.keypoint, split.num_frames, NTU25, window=16, stride=5.0,
                       pose_frames=4, augment=aug, **kw)


def _vst_cfg(**over):
    from bench.methods.lvlm_var.config import default_config, section

    cfg = section(default_config("smoke"), "vst")
    cfg.update({"epochs": 2, "vq_epochs": 2, "codebook": 8, "dim": 8, "hidden": 32,
                "batch_size": 64, **over})
    return cfg


def _peak(fn) -> int:
    import tracemalloc

    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_vst_stream_memory_does_not_grow_with_aug_copies(bundle, monkeypatch):
    """The held windows (their numpy features and targets) stay one chunk, with 1 or 8 perturbed
    copies of every clip; building them all at once grows with the copies."""
    import bench.methods.lvlm_var.vst as vst
    from bench.methods.lvlm_var.features import split_windows
    from bench.data.layouts import NTU25

    monkeypatch.setattr(vst, "CHUNK_WINDOWS", 128)
    labels = bundle.train.labels

    def stream(copies):
        src = _source(bundle.train, copies)
        data = vst.WindowStream(src, np.tile(labels, src.copies), torch.device("cpu"),
                                target={"pose_frames": 4, "context": "none",
                                        "velocity_weight": 1.0})
        data.scale()
        seen = sum(len(b) for b in data.epoch(64, torch.Generator().manual_seed(0)))
        assert seen == len(data) == int(src.window_counts().sum())

    def whole(copies):
        split_windows(bundle.train.keypoint, bundle.train.num_frames, NTU25, window=16,
                      stride=5.0, pose_frames=4,
                      augment={"copies": copies, "noise": 0.15, "tilt": 0.3, "seed": 3})

    one, eight = _peak(lambda: stream(1)), _peak(lambda: stream(8))
    assert eight < 1.5 * one, (one, eight)
    assert _peak(lambda: whole(8)) > 3 * _peak(lambda: whole(1))  # the measure sees growth


def test_streamed_training_equals_training_on_the_windows_in_memory(bundle, monkeypatch):
    """The same windows from the clips (in chunks, copies made on the fly) or held in memory
    train the same VST, bit for bit; chunks smaller than an epoch exercise the carried batch
    remainder and the bounded k-means sample and restart pool."""
    import bench.methods.lvlm_var.codebook as codebook
    import bench.methods.lvlm_var.vst as vst

    monkeypatch.setattr(vst, "CHUNK_WINDOWS", 100)
    monkeypatch.setattr(codebook, "KMEANS_WINDOWS", 300)
    monkeypatch.setattr(codebook, "POOL_WINDOWS", 200)
    src = _source(bundle.train, 2)
    labels = np.tile(bundle.train.labels, src.copies)
    held = src.windows(np.arange(src.units))
    a = vst.train_vst(src, labels, 4, _vst_cfg(), seed=5, device="cpu", layout="ntu25")
    b = vst.train_vst(held, labels, 4, _vst_cfg(), seed=5, device="cpu", layout="ntu25")
    assert torch.equal(a.code_vectors, b.code_vectors)
    assert a.train_stats == b.train_stats
    test = _source(bundle.test, 0).windows(np.arange(len(bundle.test)))
    assert np.array_equal(a.window_codes(test), b.window_codes(test))


def test_two_fits_of_one_spec_give_identical_tokens(bundle, tmp_path, monkeypatch):
    import bench.methods.lvlm_var.vst as vst
    from bench.methods.lvlm_var.stage import fit_or_load_vst

    monkeypatch.setattr(vst, "CHUNK_WINDOWS", 150)
    over = {"vst.epochs": 2, "vst.vq_epochs": 2, "vst.aug_copies": 2}
    fits = []
    for cache in ("c1", "c2"):
        m = lvlm_method(tmp_path, cache=cache, **over)
        model, hit = fit_or_load_vst(m, bundle)
        assert not hit
        m.vst = model
        fits.append((m.tokenize(bundle.test, bundle)[0], model.descriptions))
    assert fits[0] == fits[1]


def test_streamed_descriptions_equal_describing_all_windows_at_once(bundle, monkeypatch):
    import bench.methods.lvlm_var.stage as stage
    import bench.methods.lvlm_var.vst as vst
    from bench.methods.lvlm_var.semantics import describe_codes

    src = _source(bundle.train, 0)
    model = vst.train_vst(src, bundle.train.labels, 4, _vst_cfg(), seed=1, device="cpu",
                          layout="ntu25")
    held = src.windows(np.arange(src.units))
    whole = describe_codes(held.kinematics, model.window_codes(held),
                           model.code_vectors.numpy(), 0.08)
    monkeypatch.setattr(stage, "CHUNK_WINDOWS", 16 * 5)  # 5 clips a chunk
    described, means = stage.describe_streamed(src, [model], [None], 0.08, [None])
    assert described == [whole]
    # each code's mean window (decode.py), streamed, equals the mean over all windows at once
    codes = model.window_codes(held)
    for k in np.unique(codes)[:5]:
        np.testing.assert_allclose(means.means[0][k], held.features[codes == k].mean(0),
                                   rtol=1e-4, atol=1e-5)


def test_vst_epochs_are_logged(bundle, caplog):
    import logging

    import bench.methods.lvlm_var.vst as vst

    src = _source(bundle.train, 1)
    with caplog.at_level(logging.INFO, logger="bench"):
        vst.train_vst(src, np.tile(bundle.train.labels, 2), 4, _vst_cfg(epochs=3, vq_epochs=2),
                      seed=0, device="cpu", layout="ntu25")
    lines = [r.getMessage() for r in caplog.records if "vst epoch" in r.getMessage()]
    assert lines[0].startswith("vst epoch 1/5 autoencoder loss ")
    assert lines[-1].startswith("vst epoch 5/5 vq loss ") and lines[-1].endswith("s)")


def test_encode_clips_in_chunks_equals_coding_all_windows(bundle, monkeypatch):
    import bench.methods.lvlm_var.vst as vst

    src = _source(bundle.train, 0)
    model = vst.train_vst(src, bundle.train.labels, 4, _vst_cfg(epochs=1, vq_epochs=1),
                          seed=2, device="cpu", layout="ntu25")
    test = _source(bundle.test, 0)
    held = test.windows(np.arange(test.units))
    monkeypatch.setattr(vst, "CHUNK_WINDOWS", 16 * 3)  # 3 clips a chunk
    codes, raw, windows = vst.encode_clips(model, test)
    assert np.array_equal(codes, model.window_codes(held))
    assert np.array_equal(raw, model.window_codes(held, 0.0))
    assert np.array_equal(windows.offsets, held.offsets)
    assert vst.clip_tokens(codes, windows, False, 80) == vst.clip_tokens(
        model.window_codes(held), held, False, 80)
