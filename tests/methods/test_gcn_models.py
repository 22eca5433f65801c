"""bench's own MMAction2 modules: CTR-GCN, MS-G3D, layout-aware transforms (no training)."""
import pickle

import numpy as np
import pytest
import torch
from toys import NTU_TO_KINECT20, REST

from bench.data.layouts import get_layout
from bench.methods.gcn_models.common import exact_hop_adjacency
from bench.methods.gcn_models.layouts import bone_pairs, mirrored_joints, mmaction_graph  # noqa
from bench.methods.mmaction_setup import import_mmaction

SMALL = {"CTRGCN": dict(base_channels=8, num_stages=4, inflate_stages=[2, 3],
                        down_stages=[2, 3]),
         "MSG3D": dict(base_channels=8, num_gcn_scales=3, num_g3d_scales=2)}


@pytest.mark.parametrize("layout", ["ntu25", "kinect20", "coco17"])
@pytest.mark.parametrize("backbone", ["CTRGCN", "MSG3D"])
def test_backbones_build_from_the_registry_and_learn(backbone, layout):
    mm = import_mmaction()
    import_mmaction.cache_clear()
    assert import_mmaction().MODELS.get(backbone) is mm.MODELS.get(backbone)  # idempotent
    torch.manual_seed(0)
    model = mm.MODELS.build(dict(type=backbone, graph_cfg=dict(layout=mmaction_graph(layout),
                                                               mode="spatial"), **SMALL[backbone]))
    v = get_layout(layout).num_joints
    x = torch.randn(3, 2, 16, v, 3)
    out = model(x)
    assert out.shape == (3, 2, 32, 4, v)  # (N, M, C, T / 4, V): GCNHead's input
    out.mean().backward()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)
    # the output depends on each sample only (batch statistics aside): eval mode
    model.eval()
    with torch.no_grad():
        np.testing.assert_allclose(model(x)[:1].numpy(), model(x[:1]).numpy(), atol=1e-5)


def test_ctrgc_refines_the_shared_topology_per_channel():
    from bench.methods.gcn_models.ctrgcn import ChannelTopologyGC

    torch.manual_seed(0)
    gc = ChannelTopologyGC(16, 8)
    x, A = torch.randn(2, 16, 5, 4), torch.rand(4, 4)
    plain = torch.einsum("uv,nctv->nctu", A, gc.value(x))
    np.testing.assert_allclose(gc(x, A, torch.zeros(1)).detach(), plain.detach(), atol=1e-6)
    refined = gc(x, A, torch.ones(1)).detach()
    assert not torch.allclose(refined, plain)  # alpha > 0: sample- and channel-specific


def test_disentangled_adjacency_counts_exact_hops():
    chain = np.zeros((5, 5), np.float32)  # 0-1-2-3-4
    for i in range(4):
        chain[i, i + 1] = chain[i + 1, i] = 1
    two = exact_hop_adjacency(chain, 2)
    expected = np.eye(5) + np.eye(5, k=2) + np.eye(5, k=-2)  # exactly 2 apart, plus self
    np.testing.assert_array_equal(two, expected)
    np.testing.assert_array_equal(exact_hop_adjacency(chain, 0), np.eye(5))
    np.testing.assert_array_equal(exact_hop_adjacency(chain, 5), np.eye(5))  # beyond the diameter


def _body(v: int, frames: int = 12, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    kp = rng.normal(size=(2, frames, v, 3)).astype(np.float32)
    kp[1, frames // 2:] = 0  # the second body leaves
    kp[0, :2] = 0  # two empty frames
    return kp


def _standing_kinect20(frames: int = 6) -> np.ndarray:
    """A standing body (toys.REST in kinect20 order), turned and moved at random,
    with some jitter; a second body that leaves half way."""
    rng = np.random.default_rng(1)
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    body = REST[NTU_TO_KINECT20] @ q.T + rng.normal(size=3)
    kp = np.repeat(body[None, None], frames, axis=1).repeat(2, axis=0)
    kp[:, 1:] += rng.normal(0, 0.01, kp[:, 1:].shape)
    kp[1, frames // 2:] = 0
    return kp.astype(np.float32)


def test_layout_transforms_equal_mmaction_on_ntu25():
    from mmaction.datasets.transforms.pose_transforms import GenSkeFeat, PreNormalize3D

    build = import_mmaction().TRANSFORMS.build
    for kp in (_body(25), _body(25)[::-1].copy()):  # body 0 or body 1 present longer
        ours = build(dict(type="LayoutPreNormalize3D", layout="ntu25"))
        a = PreNormalize3D().transform(dict(keypoint=kp.copy(), total_frames=kp.shape[1]))
        b = ours.transform(dict(keypoint=kp.copy(), total_frames=kp.shape[1]))
        np.testing.assert_allclose(a["keypoint"], b["keypoint"], atol=1e-5)
        assert a["total_frames"] == b["total_frames"]
        assert pickle.loads(pickle.dumps(ours)).center == 1  # data loader workers pickle it
    for feats in (["j"], ["b"], ["jm"], ["bm"]):
        a = GenSkeFeat(dataset="nturgb+d", feats=feats).transform(dict(keypoint=_body(25)))
        b = build(dict(type="LayoutGenSkeFeat", layout="ntu25", feats=feats)).transform(
            dict(keypoint=_body(25)))
        np.testing.assert_array_equal(a["keypoint"], b["keypoint"])


def test_kinect20_bones_normalisation_and_flip_pairs():
    layout = get_layout("kinect20")
    pairs = dict(bone_pairs(layout))
    assert pairs[0] == 0 and pairs[3] == 2 and pairs[7] == 6 and pairs[19] == 18
    build = import_mmaction().TRANSFORMS.build
    kp = _standing_kinect20()
    bone = build(dict(type="LayoutGenSkeFeat", layout="kinect20", feats=["b"])).transform(
        dict(keypoint=kp.copy()))["keypoint"]
    np.testing.assert_allclose(bone[..., 7, :], kp[..., 7, :] - kp[..., 6, :])  # hand - wrist
    assert not bone[..., 0, :].any()  # the root's bone is zero
    out = build(dict(type="LayoutPreNormalize3D", layout="kinect20")).transform(
        dict(keypoint=kp.copy(), total_frames=kp.shape[1]))["keypoint"]
    first = out[0, 0]
    np.testing.assert_allclose(first[1], 0, atol=1e-6)  # origin: the spine
    spine = first[1] - first[0]
    np.testing.assert_allclose(spine / np.linalg.norm(spine), [0, 0, 1], atol=1e-5)
    shoulders = first[8] - first[4]  # right - left shoulder along +x
    assert shoulders[0] > 0 and abs(shoulders[1]) < 1e-5
    left, right = mirrored_joints(layout)
    assert list(zip(left, right))[:2] == [(4, 8), (5, 9)] and len(left) == 8


def test_skeleton_to_pose2d_gives_mmaction_pose_fields():
    build = import_mmaction().TRANSFORMS.build
    kp = _body(20)
    pose = build(dict(type="SkeletonToPose2D", layout="kinect20")).transform(
        dict(keypoint=kp.copy()))
    present = (kp != 0).any(-1)
    assert pose["keypoint"].shape == (2, 12, 20, 2)
    np.testing.assert_array_equal(pose["keypoint_score"], present.astype(np.float32))
    xy = pose["keypoint"][present]
    h, w = pose["img_shape"]
    assert xy.min() >= 0 and xy[:, 0].max() < w and xy[:, 1].max() < h
    # depth dropped, y flipped: image x follows x, image y follows -y
    i, j = np.argwhere(present[0])[[0, -1]]
    d = pose["keypoint"][0, j[0], j[1]] - pose["keypoint"][0, i[0], i[1]]
    np.testing.assert_allclose(d, 200 * np.array([kp[0, j[0], j[1], 0] - kp[0, i[0], i[1], 0],
                                                  kp[0, i[0], i[1], 1] - kp[0, j[0], j[1], 1]]),
                               rtol=1e-4, atol=1e-3)
