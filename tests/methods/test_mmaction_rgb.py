"""MMAction2 RGB baselines (TSN, SlowOnly): configs, rendered and real videos, smoke training."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from toys import part_swing_bundle, unscoped

from bench.errors import BenchError
from bench.methods import METHODS
from bench.methods.mmaction_gcn import apply_profile, load_config
from bench.methods.mmaction_rgb import (
    SlowOnly, TSN, apply_rgb_profile, register_video_modules, rescale_schedule,
)
from bench.methods.mmaction_setup import import_mmaction
from bench.paths import content_dir

RGB_METHODS = {"tsn": TSN, "slowonly": SlowOnly}
REAL_SAMPLE = "S001C001P001R001A001"


@pytest.mark.parametrize("profile", ["smoke", "cpu", "paper"])
@pytest.mark.parametrize("name", sorted(RGB_METHODS))
def test_baseline_file_agrees_with_default_config(name, profile):
    """default_config(profile) is the whole truth: applying it to its own file changes nothing."""
    mm = import_mmaction()
    config = RGB_METHODS[name].default_config(profile)
    cfg = load_config(mm, content_dir("baselines") / config["config"])
    before = cfg.to_dict()
    apply_profile(cfg, config)
    apply_rgb_profile(cfg, config)
    after = cfg.to_dict()
    after["default_hooks"]["checkpoint"] = before["default_hooks"]["checkpoint"]  # retention only
    assert after == before
    assert cfg.load_from is None and cfg.model.backbone.pretrained is None
    if profile == "paper":  # MMAction2's published recipes, field by field
        assert cfg.model.backbone.depth == 50 and cfg.auto_scale_lr.enable
        steps = {s["type"]: s for s in cfg.test_dataloader.dataset.pipeline}
        if name == "tsn":
            assert (config["epochs"], config["num_clips"], config["test_clips"]) == (100, 3, 25)
            assert "TenCrop" in steps and cfg.param_scheduler[0]["milestones"] == [40, 80]
        else:
            assert (config["epochs"], config["clip_len"], config["frame_interval"]) == (256, 4, 16)
            assert config["test_clips"] == 10 and steps["ThreeCrop"]["crop_size"] == 256
            assert [s["type"] for s in cfg.param_scheduler] == ["LinearLR", "CosineAnnealingLR"]


@pytest.mark.parametrize("profile", ["smoke", "cpu"])
@pytest.mark.parametrize("name", sorted(RGB_METHODS))
def test_small_profiles_are_the_paper_recipe_with_the_profile_values(name, profile):
    """smoke/cpu files = the paper file + the profile's values (schedule stretched to the
    epochs, sizes, sampling, test crop): nothing else of the recipe differs."""
    mm, small = import_mmaction(), RGB_METHODS[name].default_config(profile)
    paper_file = RGB_METHODS[name].default_config("paper")["config"]
    configs = [load_config(mm, content_dir("baselines") / f) for f in (paper_file,
                                                                        small["config"])]
    for cfg in configs:
        apply_profile(cfg, small)
        apply_rgb_profile(cfg, small)
        cfg.default_hooks.logger.interval = 10
    for key in ("model", "train_dataloader", "val_dataloader", "test_dataloader", "train_cfg",
                "optim_wrapper", "param_scheduler", "auto_scale_lr", "default_hooks"):
        assert unscoped(configs[0].get(key)) == unscoped(configs[1].get(key)), key



def test_schedules_stretch_with_the_epochs():
    warmup_cosine = [dict(type="LinearLR", start_factor=0.1, by_epoch=True, begin=0, end=34),
                     dict(type="CosineAnnealingLR", T_max=222, by_epoch=True, begin=34, end=256)]
    assert rescale_schedule(warmup_cosine, 256) == warmup_cosine
    short = rescale_schedule(warmup_cosine, 64)
    assert (short[0]["end"], short[1]["begin"], short[1]["end"], short[1]["T_max"]) == \
        (8, 8, 64, 56)
    one = rescale_schedule(warmup_cosine, 1)  # mmengine needs end > begin even then
    assert all(s["end"] > s["begin"] for s in one)
    steps = [dict(type="MultiStepLR", by_epoch=True, begin=0, end=100, milestones=[40, 80])]
    assert rescale_schedule(steps, 10)[0]["milestones"] == [4, 8]


@pytest.mark.parametrize("name", sorted(RGB_METHODS))
def test_rgb_method_trains_and_predicts_on_rendered_clips(tmp_path, name):
    torch.set_num_threads(1)
    data = part_swing_bundle(classes=4, train=3, val=1, test=2)
    data.synthetic = True  # videos are rendered from the skeletons
    config = {**METHODS.get(name).default_config("smoke"), "epochs": 1}
    method = METHODS.get(name)(config, profile="smoke", seed=0, workdir=tmp_path / "work",
                               cache_dir=tmp_path / "cache")
    method.workdir.mkdir()
    method.fit(data)

    ann = json.loads(Path(method.ann_file).read_text())
    assert ann["split"]["test"] == data.test.sample_ids
    records = {r["frame_dir"]: r for r in ann["annotations"]}
    assert len(records) == len(data.train) + len(data.val) + len(data.test)
    from bench.data.ntu.rgb import probe_video
    sid = data.train.sample_ids[0]
    info = probe_video(records[sid]["filename"])
    assert info.num_frames == data.train.num_frames[0] and info.width == config["render_size"]
    assert records[sid]["label"] == data.train.labels[0]

    pred = method.predict(data.test, data)
    assert pred.sample_ids == data.test.sample_ids
    assert pred.scores.shape == (len(data.test), data.num_classes)
    np.testing.assert_allclose(pred.scores.sum(1), 1.0, atol=1e-4)
    # a fresh instance predicts from the stored checkpoint; a reordered subset stays aligned
    again = METHODS.get(name)(config, profile="smoke", seed=0, workdir=tmp_path / "work",
                              cache_dir=tmp_path / "cache")
    subset = data.test.subset([5, 0, 2])
    np.testing.assert_allclose(again.predict(subset, data).scores, pred.scores[[5, 0, 2]],
                               atol=1e-5)
    assert method.diagnostics()["selected_epoch"] == 1


def test_real_videos_are_found_under_the_data_root_and_decoded(tmp_path, shared_data):
    data = part_swing_bundle(classes=2, train=1, val=0, test=1)
    data.test.sample_ids[0] = REAL_SAMPLE
    method = TSN(TSN.default_config("smoke"), profile="smoke", seed=0, workdir=tmp_path,
                 cache_dir=tmp_path)
    data.root = tmp_path / "empty"
    data.root.mkdir()
    with pytest.raises(BenchError, match=r"4 of 4 samples have no video under .*empty"):
        method._videos(data, [data.train, data.test], "k")
    data.root = tmp_path / "ntu"
    (data.root / "nturgb+d_rgb").mkdir(parents=True)
    video = shared_data / "ntu-sample" / f"{REAL_SAMPLE}_rgb.avi"
    (data.root / "nturgb+d_rgb" / video.name).symlink_to(video)
    assert method._videos(data, [data.test.subset([0])], "k") == {
        REAL_SAMPLE: str(data.root / "nturgb+d_rgb" / video.name)}

    # the recipe's test pipeline with bench's decoding steps, on the real 1080p video
    from mmengine.dataset import Compose

    mm = import_mmaction()
    register_video_modules()
    config = TSN.default_config("smoke")
    cfg = load_config(mm, content_dir("baselines") / config["config"])
    from bench.methods.mmaction_rgb import apply_video_data
    apply_video_data(cfg, ann_file=tmp_path / "ann.json", num_classes=2, has_val=False)
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope("mmaction"):
        pipeline = Compose(cfg.test_dataloader.dataset.pipeline)
    out = pipeline({"filename": str(video), "label": 0, "start_index": 0, "modality": "RGB",
                    "frame_dir": REAL_SAMPLE})
    crop = config["crop_size"]
    assert tuple(out["inputs"].shape) == (config["test_clips"], 3, crop, crop)
    assert out["data_samples"].metainfo["frame_dir"] == REAL_SAMPLE
    assert out["inputs"].float().std() > 10


def test_rgb_methods_refuse_non_ntu_layouts(tmp_path):
    data = part_swing_bundle(classes=2, train=1, val=0, test=1)
    data.layout = "kinect20"
    method = SlowOnly(SlowOnly.default_config("smoke"), profile="smoke", seed=0,
                      workdir=tmp_path, cache_dir=tmp_path)
    with pytest.raises(BenchError, match="kinect20"):
        method.fit(data)
