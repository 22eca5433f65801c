"""The GCNs' small-data recipe (cpu profile): train-only rotation/scaling augmentation, and the
final fit on train+val that keeps the last epoch."""
import numpy as np
import pytest
import torch
from toys import part_swing_bundle, relayout

from bench.errors import BenchError
from bench.methods.gcn_zoo import CTRGCN, STGCN
from bench.methods.mmaction_setup import import_mmaction


def _clip(seed=0):
    """(M=2, T=6, V=20, 3): body 2 absent, two joints of body 1 missing in frame 3."""
    kp = np.random.default_rng(seed).normal(size=(2, 6, 20, 3)).astype(np.float32)
    kp[1] = 0
    kp[0, 3, [4, 7]] = 0
    return kp


def _augment(kp, **kwargs):
    from bench.methods.gcn_models.transforms import RandomRotScale

    return RandomRotScale(**kwargs)({"keypoint": kp.copy()})["keypoint"]


def test_yaw_turns_about_the_vertical_and_absent_joints_stay_zero():
    np.random.seed(0)
    kp = _clip()
    out = _augment(kp, yaw_deg=30)
    assert not np.allclose(out, kp)
    np.testing.assert_allclose(out[..., 2], kp[..., 2], atol=1e-6)  # heights unchanged
    np.testing.assert_allclose(np.linalg.norm(out[..., :2], axis=-1),
                               np.linalg.norm(kp[..., :2], axis=-1), rtol=1e-5, atol=1e-6)
    angle = np.arctan2(out[0, 0, 1, 1], out[0, 0, 1, 0]) - np.arctan2(kp[0, 0, 1, 1],
                                                                       kp[0, 0, 1, 0])
    assert 0 < abs(np.rad2deg((angle + np.pi) % (2 * np.pi) - np.pi)) <= 30
    assert not out[1].any() and not out[0, 3, [4, 7]].any()


def test_tilt_and_yaw_are_rigid_and_scale_stays_within_bounds():
    np.random.seed(1)
    kp = _clip(1)[0]  # one body, (T, V, 3)
    rigid = _augment(kp, yaw_deg=30, tilt_deg=10)
    pairwise = lambda x: np.linalg.norm(x[:, :, None] - x[:, None], axis=-1)  # noqa: E731
    present = (kp != 0).any(-1)
    both = present[:, :, None] & present[:, None]
    np.testing.assert_allclose(pairwise(rigid)[both], pairwise(kp)[both], rtol=1e-4, atol=1e-5)
    ratios = []
    for _ in range(20):
        scaled = _augment(kp, scale=0.1)
        ratio = scaled[present] / kp[present]
        np.testing.assert_allclose(ratio, ratio[:1].repeat(len(ratio), 0), rtol=1e-4)  # per axis
        ratios.append(ratio[0])
    ratios = np.array(ratios)
    assert ratios.min() >= 0.9 - 1e-6 and ratios.max() <= 1.1 + 1e-6
    assert ratios.std(0).min() > 0.01  # a fresh draw per clip and per axis


def test_two_d_poses_scale_x_y_and_keep_the_score():
    np.random.seed(2)
    kp = np.abs(_clip(2))
    out = _augment(kp, yaw_deg=30, tilt_deg=10, scale=0.1, num_coords=2)
    np.testing.assert_array_equal(out[..., 2], kp[..., 2])
    assert not np.allclose(out[..., :2], kp[..., :2])
    with pytest.raises(ValueError, match="RandomRotScale"):
        _augment(kp, scale=1.5)


def _train_steps(cfg):
    inner = cfg.train_dataloader.dataset.dataset
    datasets = inner.datasets if inner.get("type") == "ConcatDataset" else [inner]
    return [[step["type"] for step in d.pipeline] for d in datasets]


@pytest.mark.parametrize("layout,prenorm,coords", [("kinect20", "LayoutPreNormalize3D", 3),
                                                   ("coco17", "PreNormalize2D", 2)])
def test_cpu_profile_augments_training_clips_only(tmp_path, layout, prenorm, coords):
    data = relayout(part_swing_bundle(classes=3, train=2, val=1, test=1), layout)
    for cls in (STGCN, CTRGCN):
        method = cls(cls.default_config("cpu"), profile="cpu", seed=0, workdir=tmp_path,
                     cache_dir=tmp_path)
        cfg = method.build_config(import_mmaction(), data, tmp_path / "ann.pkl")
        for steps in _train_steps(cfg):  # train and val splits, both augmented
            at = steps.index(prenorm)
            assert steps[at + 1] == "RandomRotScale"
        augment = [s for s in cfg.train_dataloader.dataset.dataset.datasets[0].pipeline
                   if s["type"] == "RandomRotScale"]
        assert augment[0]["num_coords" if coords == 2 else "yaw_deg"] == (2 if coords == 2
                                                                           else 30)
        assert "RandomRotScale" not in [s["type"] for s in cfg.test_dataloader.dataset.pipeline]
        assert cfg.model.cls_head.dropout > 0
    plain = STGCN({**STGCN.default_config("cpu"), "augment": None}, profile="cpu", seed=0,
                  workdir=tmp_path, cache_dir=tmp_path)
    cfg = plain.build_config(import_mmaction(), data, tmp_path / "ann.pkl")
    assert all("RandomRotScale" not in steps for steps in _train_steps(cfg))


def test_fit_on_train_and_val_trains_on_both_and_keeps_the_last_epoch(tmp_path):
    from mmaction.registry import DATASETS

    torch.set_num_threads(1)
    data = part_swing_bundle(classes=3, train=2, val=1, test=1)
    config = {**STGCN.default_config("smoke"), "epochs": 1, "fit_on": "train+val"}
    method = STGCN(config, profile="smoke", seed=0, workdir=tmp_path / "work",
                   cache_dir=tmp_path / "cache")
    method.workdir.mkdir()
    cfg = method.build_config(import_mmaction(), data, method._annotation_file(data))
    assert cfg.val_dataloader is None and cfg.default_hooks.checkpoint.save_best is None
    train_set = DATASETS.build(cfg.train_dataloader.dataset)
    seen = sorted(train_set.get_data_info(i)["frame_dir"] for i in range(len(train_set)))
    assert seen == sorted(data.train.sample_ids + data.val.sample_ids)
    assert train_set[len(train_set) - 1]["inputs"].shape[-1] == 3  # val clips load as training
    method.fit(data)
    assert method._state["selected_by"] == "last" and method.diagnostics()["selected_epoch"] == 1
    pred = method.predict(data.test, data)
    assert pred.scores.shape == (len(data.test), 3) and np.isfinite(pred.scores).all()


def test_recipe_field_errors_are_one_line(tmp_path):
    data = part_swing_bundle(classes=2, train=1, val=1, test=1)
    for field, value, message in (
            ("fit_on", "all", r"fit_on='all'; expected one of train, train\+val"),
            ("augment", {"yaw": 30}, r"augment=\{'yaw': 30\}; expected null or \{yaw_deg"),
            ("augment", {"yaw_deg": 30, "tilt_deg": -1, "scale": 0.1},
             r"augment.tilt_deg=-1; expected")):
        method = STGCN({**STGCN.default_config("smoke"), field: value}, profile="smoke",
                       seed=0, workdir=tmp_path, cache_dir=tmp_path)
        with pytest.raises(BenchError, match=message) as caught:
            method.fit(data)
        assert "\n" not in str(caught.value)


def test_single_person_data_formats_one_person(tmp_path):
    from bench.methods.gcn_recipe import bodies_in

    data = part_swing_bundle(classes=3, train=2, val=1, test=1)  # clip 0 of each split: two bodies
    assert bodies_in(data) == 2
    for name in ("train", "val", "test"):
        getattr(data, name).keypoint[:, 1] = 0
    assert bodies_in(data) == 1
    data.test.keypoint[-1, 1, 0, 0] = 0.5  # one joint of a second body in the last test clip
    assert bodies_in(data, chunk=2) == 2
    data.test.keypoint[-1, 1] = 0
    for cls in (STGCN, CTRGCN):
        method = cls(cls.default_config("smoke"), profile="smoke", seed=0, workdir=tmp_path,
                     cache_dir=tmp_path)
        cfg = method.build_config(import_mmaction(), data, tmp_path / "ann.pkl")
        assert cfg.model.backbone.num_person == 1
        for loader in (cfg.train_dataloader.dataset.dataset, cfg.val_dataloader.dataset,
                       cfg.test_dataloader.dataset):
            assert [s["num_person"] for s in loader.pipeline
                    if s["type"] == "FormatGCNInput"] == [1]
