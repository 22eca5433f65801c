"""The VST's graph encoder (vst.encoder=stgcn): clips and window spans, whole-clip batches,
span pooling, training through MMAction2's ST-GCN, and the cached stage round trip."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from toys import lvlm_method, named_motion_bundle

from bench.data.layouts import NTU25

GRAPH = {"vst.encoder": "stgcn", "vst.gcn_channels": 8, "vst.clip_frames": 24,
         "vst.epochs": 4, "vst.vq_epochs": 2}


@pytest.fixture(scope="module")
def bundle():
    return named_motion_bundle(num_classes=4, train_per_class=10, test_per_class=4)


def test_split_windows_keeps_resampled_clips_and_window_spans(bundle):
    from bench.methods.lvlm_var.features import split_windows

    train = bundle.train
    kw = dict(window=16, stride=7.5, pose_frames=4, context="neighbours")
    plain = split_windows(train.keypoint, train.num_frames, NTU25, **kw)
    graph = split_windows(train.keypoint, train.num_frames, NTU25, **kw, clip_frames=24,
                          clip_persons=2, augment={"copies": 1, "noise": 0.1, "tilt": 0.3,
                                                   "seed": 0})
    assert plain.clips is None and plain.spans is None
    n = len(train)
    assert graph.clips.shape == (2 * n, 2, 24, 25, 3)  # originals, then the perturbed copies
    assert len(graph.spans) == len(graph.features) == 2 * len(plain.features)
    np.testing.assert_array_equal(graph.features[:len(plain.features)], plain.features)
    assert not graph.clips[:, 1].any()  # the toy clips have one performer
    # spans: inside [0, 1], a window's length apart, in order within a clip
    s = graph.spans[graph.clip_slice(0)]
    frames = int(train.num_frames[0])
    np.testing.assert_allclose(s[:, 1] - s[:, 0], 16 / frames, rtol=1e-5)
    assert s[0, 0] == 0 and s[-1, 1] <= 1 + 1e-6 and np.all(np.diff(s[:, 0]) > 0)
    # clip 0 in the body frame: its first resampled frame is the normalised first frame
    from bench.methods.lvlm_var.features import normalise_clip
    y, _ = normalise_clip(train.keypoint[0], frames, NTU25)
    np.testing.assert_allclose(graph.clips[0, 0, 0], y[0, 0], atol=1e-6)
    np.testing.assert_allclose(graph.clips[0, 0, -1], y[0, frames - 1], atol=1e-6)


def test_span_weights_cover_the_window_and_sum_to_one():
    from bench.methods.lvlm_var.vst import span_weights

    w = span_weights(torch.tensor([[0.0, 0.5], [0.25, 0.5], [0.0, 1.0], [0.1, 0.2]]), 4)
    np.testing.assert_allclose(w.sum(1).numpy(), 1.0, rtol=1e-6)
    np.testing.assert_allclose(w[0].numpy(), [0.5, 0.5, 0, 0], atol=1e-6)
    np.testing.assert_allclose(w[1].numpy(), [0, 1, 0, 0], atol=1e-6)
    np.testing.assert_allclose(w[2].numpy(), [0.25] * 4, atol=1e-6)
    np.testing.assert_allclose(w[3].numpy(), [1, 0, 0, 0], atol=1e-6)


def test_graph_batches_are_whole_clips_covering_every_window_once(bundle, tmp_path):
    from bench.methods.lvlm_var.vst import WindowTensors

    m = lvlm_method(tmp_path, **GRAPH)
    windows = m._windows(bundle.train, bundle)
    data = WindowTensors(windows, torch.zeros(windows.features.shape[1]),
                         torch.ones(windows.features.shape[1]))
    batches = list(data.batches(64, torch.Generator().manual_seed(0)))
    seen = torch.cat(batches).sort().values
    assert torch.equal(seen, torch.arange(len(windows.features)))
    for idx in batches:
        clips = set(windows.clip_index[idx.numpy()].tolist())
        whole = sum(windows.offsets[c + 1] - windows.offsets[c] for c in clips)
        assert whole == len(idx)  # no clip split across batches
        b = data.batch(idx)
        assert len(b.clips) == len(clips) and b.clip_of.max() == len(clips) - 1
        assert torch.equal(b.spans, data.spans[idx])


def test_graph_vst_trains_tokens_carry_class_and_reload_gives_same_codes(bundle, tmp_path):
    from bench.methods.lvlm_var.stage import fit_or_load_vst
    from bench.methods.lvlm_var.vst import GraphWindowEncoder

    graph = {**GRAPH, "vst.objective": "classify"}  # the head's vote below needs its label loss
    m = lvlm_method(tmp_path, **graph)
    vst, hit = fit_or_load_vst(m, bundle)
    assert not hit and isinstance(vst.encoder, GraphWindowEncoder)
    assert type(vst.encoder.backbone).__name__ == "STGCN"  # MMAction2's own
    m.vst = vst
    tokens, stats = m.tokenize(bundle.test, bundle)
    assert stats["utilisation"] > 0 and all(len(t) >= 1 for t in tokens)
    # the VST head's vote over a test clip's window codes beats chance clearly
    windows = m._windows(bundle.test, bundle)
    codes = vst.window_codes(windows)
    with torch.no_grad():
        logp = torch.log_softmax(vst.encoder.head(vst.code_vectors[torch.from_numpy(codes)]), 1)
    pred = [logp[windows.clip_slice(i)].sum(0).argmax().item() for i in range(len(bundle.test))]
    assert np.mean(np.array(pred) == bundle.test.labels) > 2.0 / bundle.num_classes
    again, hit = fit_or_load_vst(lvlm_method(tmp_path, **graph), bundle)
    assert hit and isinstance(again.encoder, GraphWindowEncoder)
    np.testing.assert_array_equal(again.window_codes(windows), codes)
    # the encoder is part of the stage key: the mlp encoder is a different stage
    _, hit = fit_or_load_vst(lvlm_method(tmp_path, **{**graph, "vst.encoder": "mlp"}), bundle)
    assert not hit


def test_person_mean_averages_the_persons_present_only():
    from bench.methods.lvlm_var.vst import GraphWindowEncoder

    torch.manual_seed(0)
    enc = GraphWindowEncoder(8, 16, 8, 3, 0.0, "ntu25", 8).eval()
    one, two = torch.randn(1, 24, 25, 3), torch.randn(1, 24, 25, 3)
    clips = torch.zeros(2, 2, 24, 25, 3)
    clips[0, 0], clips[1, 0], clips[1, 1] = one[0], one[0], two[0]
    with torch.no_grad():
        both = enc.person_mean(clips)
        alone = enc.backbone(torch.stack([one, two])).mean(dim=(1, 4))  # each on its own
    torch.testing.assert_close(both[0], alone[0])  # the empty slot does not count
    torch.testing.assert_close(both[1], (alone[0] + alone[1]) / 2)
