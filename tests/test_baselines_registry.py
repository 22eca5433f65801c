"""Every registered baseline builds, trains one step and evaluates on tiny smoke data.

Parametrised over the methods tagged "mmaction": a new MMAction2 recognizer is tested here
without editing this file (the others have their own tests).
"""
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("mmaction")
pytest.importorskip("torch")

from bench.methods import METHODS, tagged  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from test_knn import toy_bundle  # noqa: E402

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
    data = toy_bundle(classes=3, train=2, val=1, test=2)  # 6 train clips: one batch of 8
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


@pytest.mark.parametrize("profile", ["smoke", "cpu", "paper"])
@pytest.mark.parametrize("name", SKELETON_BASELINES)
def test_baseline_file_agrees_with_its_profile(name, profile):
    """default_config(profile) is the whole truth: applying it to its own baseline file (which
    inherits MMAction2's recipe) changes nothing but checkpoint retention."""
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


@pytest.mark.parametrize("profile", ["smoke", "cpu"])
@pytest.mark.parametrize("name", ["stgcn", "aagcn", "stgcnpp", "ctrgcn", "msg3d", "posec3d"])
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
        assert _unscoped(paper.get(key)) == _unscoped(own.get(key)), key


def _unscoped(node):
    """Without the `_scope_` marks mmengine adds to dicts read through `mmaction::` bases."""
    if isinstance(node, dict):
        return {k: _unscoped(v) for k, v in node.items() if k != "_scope_"}
    if isinstance(node, (list, tuple)):
        return [_unscoped(v) for v in node]
    return node
