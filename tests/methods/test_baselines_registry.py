"""Every registered baseline builds, trains one step and evaluates on tiny smoke data.

Parametrised over the methods tagged "mmaction": a new MMAction2 recognizer is tested here
without editing this file (the others have their own tests).
"""
import numpy as np
import pytest
from toys import part_swing_bundle, unscoped

from bench.methods import METHODS, tagged

BASELINES = tagged("mmaction")
# RGB baselines apply their profiles their own way (apply_rgb_profile), tested with them.
SKELETON_BASELINES = tagged("mmaction", "skeleton")
RECIPE_KEYS = ("model", "train_dataloader", "val_dataloader", "test_dataloader", "train_cfg",
               "val_cfg", "test_cfg", "val_evaluator", "test_evaluator", "optim_wrapper",
               "param_scheduler", "auto_scale_lr", "default_hooks", "load_from")


def one_step(config: dict) -> dict:
    """The smoke config cut to one epoch (the toy train split is a single batch); a fusion
    keeps one of its streams (test_fusion.py fuses several), so the test stays cheap."""
    config = dict(config)
    if "gcn_config" in config:  # a stream fusion: its last stream, one epoch
        config.update(streams=config["streams"][-1:], weights=config["weights"][-1:],
                      gcn_config=one_step(config["gcn_config"]))
    else:
        config["epochs"] = 1
    return config


@pytest.mark.parametrize("name", BASELINES)
def test_baseline_trains_one_step_and_evaluates(name, tmp_path):
    cls = METHODS.get(name)
    data = part_swing_bundle(classes=3, train=2, val=1, test=2)  # 6 train clips: one batch of 8
    data.synthetic = True  # RGB baselines render their clips from synthetic skeletons
    method = cls(one_step(cls.default_config("smoke")), profile="smoke", seed=0,
                 workdir=tmp_path / "work", cache_dir=tmp_path / "cache")
    method.workdir.mkdir()
    method.fit(data)
    pred = method.predict(data.test, data)
    assert pred.sample_ids == data.test.sample_ids
    np.testing.assert_array_equal(pred.labels, data.test.labels)
    assert pred.scores.shape == (len(data.test), data.num_classes)
    assert np.isfinite(pred.scores).all()


def _baseline_config(name: str, profile: str) -> dict:
    config = METHODS.get(name).default_config(profile)
    return config.get("gcn_config", config)  # a fusion's GCN config


# every skeleton baseline has smoke, cpu and paper files; quick (the main command's budget) only
# the methods of that command
PROFILE_FILES = [(n, p) for n in SKELETON_BASELINES for p in ("smoke", "cpu", "paper")]
PROFILE_FILES.append(("stgcn", "quick"))


@pytest.mark.parametrize("name, profile", PROFILE_FILES)
def test_baseline_file_agrees_with_its_profile(name, profile):
    """default_config(profile) (the file's `bench` block) is the whole truth: applying it to its
    own baseline file (which inherits MMAction2's recipe) changes nothing but checkpoint
    retention. So the block agrees with the file's MMAction2 fields, and a paper block with the
    MMAction2 recipe it restates."""
    from bench.methods.mmaction_gcn import apply_profile, load_config
    from bench.methods.mmaction_setup import import_mmaction
    from bench.paths import content_dir

    config = _baseline_config(name, profile)
    cfg = load_config(import_mmaction(), content_dir("baselines") / config["config"])
    before = cfg.to_dict()
    apply_profile(cfg, config)
    after = cfg.to_dict()
    after["default_hooks"]["checkpoint"] = before["default_hooks"]["checkpoint"]
    assert after == before
    assert cfg.load_from is None  # never a pretrained download


def test_a_value_edited_in_a_block_is_what_the_mmaction2_config_uses(tmp_path, monkeypatch):
    """The block is the only place a value lives: edit it and both the method config and the
    standalone MMAction2 config (and a file inheriting it) change with it."""
    import bench.paths
    from bench.methods.mmaction_gcn import load_config
    from bench.methods.mmaction_setup import import_mmaction
    from bench.paths import content_dir

    folder = tmp_path / "baselines"
    folder.mkdir()
    text = (content_dir("baselines") / "stgcn_cpu.py").read_text()
    for old, new in (("lr=0.05,", "lr=0.2,"), ("test_clips=2,", "test_clips=3,"),
                     ("yaw_deg=30", "yaw_deg=5")):
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    (folder / "stgcn_cpu.py").write_text(text)
    (folder / "ctrgcn_cpu.py").write_text((content_dir("baselines") / "ctrgcn_cpu.py").read_text())
    monkeypatch.setattr(bench.paths, "content_dir", lambda name: tmp_path / name)
    for name in ("stgcn", "ctrgcn"):
        config = METHODS.get(name).default_config("cpu")
        assert (config["lr"], config["test_clips"], config["augment"]["yaw_deg"]) == (0.2, 3, 5)
        cfg = load_config(import_mmaction(), folder / config["config"])
        assert "bench" not in cfg  # bench's block, not an MMAction2 field
        assert cfg.optim_wrapper.optimizer.lr == 0.2
        assert cfg.train_cfg.max_epochs == cfg.param_scheduler[0].T_max == config["epochs"]
        test_steps = {s["type"]: s for s in cfg.test_dataloader.dataset.pipeline}
        assert test_steps["UniformSampleFrames"]["num_clips"] == 3
        train_steps = {s["type"]: s for s in cfg.train_dataloader.dataset.dataset.pipeline}
        assert train_steps["RandomRotScale"]["yaw_deg"] == 5
    assert METHODS.get("ctrgcn").default_config("cpu")["epochs"] == 24


@pytest.mark.parametrize("name, profile", [
    (n, p) for n in ["stgcn", "aagcn", "stgcnpp", "ctrgcn", "msg3d", "posec3d"]
    for p in ["smoke", "cpu"]] + [("stgcn", "quick")])
def test_small_profiles_are_the_paper_recipe_with_the_profile_values(name, profile):
    """smoke/cpu files = the paper file + the profile's values: same model type and options,
    pipeline, optimiser and schedule otherwise (only the logging interval differs)."""
    from bench.methods.mmaction_gcn import apply_profile, load_config
    from bench.methods.mmaction_setup import import_mmaction
    from bench.paths import content_dir

    mm, small = import_mmaction(), _baseline_config(name, profile)
    paper = load_config(mm, content_dir("baselines") / _baseline_config(name, "paper")["config"])
    own = load_config(mm, content_dir("baselines") / small["config"])
    for cfg in (paper, own):
        apply_profile(cfg, small)
        cfg.default_hooks.logger.interval = 10
    for key in RECIPE_KEYS:
        assert unscoped(paper.get(key)) == unscoped(own.get(key)), key
