"""LVLM-VAR's video branch: frozen CLIP tower features per skeleton window, from rendered clips."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from toys import named_motion_bundle

from bench.errors import BenchError


def _cfg(llava_dir, **overrides):
    from bench.methods.lvlm_var.config import default_config

    return {**default_config("smoke"), "vst.video": "clip", "vst.video_encoder": str(llava_dir),
            "vst.render_size": 32, "vst.video_frames": 2, **overrides}


def test_frame_indices_sit_inside_each_window_and_the_video():
    from bench.methods.lvlm_var.features import window_starts
    from bench.methods.lvlm_var.video import frame_indices

    idx = frame_indices(num_frames=70, video_frames=70, window=16, stride=7.5, per_window=2)
    starts = window_starts(70, 16, 7.5)
    assert idx.shape == (len(starts), 2)
    assert ((idx >= starts[:, None]) & (idx < starts[:, None] + 16)).all()
    assert (np.diff(idx, axis=1) > 0).all()
    short = frame_indices(num_frames=70, video_frames=40, window=16, stride=7.5, per_window=2)
    assert short.max() == 39  # a video shorter than its skeleton: clipped, never past the end


def test_tower_from_a_llava_directory_is_the_saved_one(llava_dir):
    from transformers import LlavaForConditionalGeneration

    from bench.methods.lvlm_var.video import load_vision_tower

    tower, layer = load_vision_tower(llava_dir)
    assert layer == -2
    llava = LlavaForConditionalGeneration.from_pretrained(llava_dir, dtype=torch.float32)
    ours, theirs = tower.state_dict(), llava.model.vision_tower.state_dict()
    assert ours.keys() == theirs.keys()
    assert all(torch.equal(ours[k], theirs[k].to(ours[k].dtype)) for k in ours)


@pytest.mark.parametrize("prefix", ["vision_tower.vision_model.", "model.vision_tower."])
def test_tower_weights_are_found_under_other_checkpoint_names(llava_dir, tmp_path, prefix):
    from safetensors.torch import load_file, save_file

    from bench.methods.lvlm_var.video import load_vision_tower

    saved = load_file(str(llava_dir / "model.safetensors"))
    renamed = {(prefix + k.split("vision_tower.", 1)[1]) if "vision_tower." in k else k: v
               for k, v in saved.items()}  # llava-hf's layout, transformers 5's layout
    save_file(renamed, str(tmp_path / "model.safetensors"))
    (tmp_path / "config.json").write_text((llava_dir / "config.json").read_text())
    ours, _ = load_vision_tower(tmp_path)
    reference, _ = load_vision_tower(llava_dir)
    assert all(torch.equal(v, reference.state_dict()[k]) for k, v in ours.state_dict().items())
    del renamed[next(k for k in renamed if k.endswith("post_layernorm.weight"))]
    save_file(renamed, str(tmp_path / "model.safetensors"))
    with pytest.raises(BenchError, match="vision tower lacks 1 weights"):
        load_vision_tower(tmp_path)


def test_a_clip_vision_directory_works_and_others_are_refused(tmp_path):
    from transformers import CLIPVisionConfig, CLIPVisionModel

    from bench.methods.lvlm_var.video import load_vision_tower

    clip = CLIPVisionModel(CLIPVisionConfig(hidden_size=16, intermediate_size=32,
                                            num_hidden_layers=2, num_attention_heads=2,
                                            image_size=32, patch_size=16))
    clip.save_pretrained(tmp_path / "clip")
    tower, _ = load_vision_tower(tmp_path / "clip")
    ours, theirs = tower.state_dict(), clip.state_dict()
    assert ours.keys() == theirs.keys() and all(torch.equal(ours[k], theirs[k]) for k in ours)
    (tmp_path / "bert").mkdir()
    (tmp_path / "bert" / "config.json").write_text('{"model_type": "bert"}')
    with pytest.raises(BenchError, match="model_type 'bert'"):
        load_vision_tower(tmp_path / "bert")


def test_window_features_follow_the_skeleton_windows_and_are_cached(llava_dir, tmp_path):
    from bench.methods.lvlm_var.features import window_starts
    from bench.methods.lvlm_var.video import VideoFeatures

    torch.set_num_threads(1)
    data = dataclasses.replace(
        named_motion_bundle(num_classes=2, train_per_class=2, test_per_class=1), synthetic=True)
    cfg = _cfg(llava_dir)
    video = VideoFeatures(cfg, tmp_path)
    feats = video.for_split(data.train, data, stride=7.5)
    windows = [len(window_starts(int(n), 16, 7.5)) for n in data.train.num_frames]
    assert feats.shape == (sum(windows), 32) and np.isfinite(feats).all()
    first, second = feats[:windows[0]], feats[windows[0]:windows[0] + windows[1]]
    assert not np.allclose(first.mean(0), second.mean(0))  # the frames matter
    again = VideoFeatures(cfg, tmp_path)
    assert np.array_equal(again.for_split(data.train, data, stride=7.5), feats)
    assert again._encoder is None  # all from the per-sample cache: nothing encoded


def test_video_needs_videos_and_an_encoder(llava_dir, tmp_path, monkeypatch):
    from bench.methods.lvlm_var.video import VideoFeatures, encoder_path

    # real-like: no root
    data = named_motion_bundle(num_classes=2, train_per_class=1, test_per_class=1)
    with pytest.raises(BenchError, match="no folder of NTU _rgb.avi videos"):
        VideoFeatures(_cfg(llava_dir), tmp_path).for_split(data.train, data, stride=7.5)
    monkeypatch.delenv("BENCH_LLAVA_PATH", raising=False)
    with pytest.raises(BenchError, match="vst.video=clip needs a local HF directory"):
        encoder_path(_cfg(llava_dir, **{"vst.video_encoder": ""}))


def test_smoke_fit_predict_with_the_video_branch(llava_dir, tmp_path):
    from bench.methods.lvlm_var.method import LvlmVar
    from bench.methods.lvlm_var.stage import stage_key

    torch.set_num_threads(1)
    data = dataclasses.replace(
        named_motion_bundle(num_classes=3, train_per_class=6, test_per_class=2), synthetic=True)
    cfg = _cfg(llava_dir, **{"vst.epochs": 5, "vst.vq_epochs": 2, "lvlm.steps": 3,
                             "eval.faithfulness_samples": 0})
    method = LvlmVar(cfg, profile="smoke", seed=0, workdir=tmp_path / "w", cache_dir=tmp_path / "c")
    method.fit(data)
    skeleton_only = LvlmVar({**cfg, "vst.video": "none"}, profile="smoke", seed=0,
                            workdir=tmp_path / "w2", cache_dir=tmp_path / "c2")
    width = method._windows(data.train, data).features.shape[1]
    assert width == skeleton_only._windows(data.train, data).features.shape[1] + 32
    assert method.vst.encoder.body[0].in_features == width
    pred = method.predict(data.test, data)
    assert pred.scores.shape == (len(data.test), 3) and np.isfinite(pred.scores).all()
    # The stage key (encoder included) ignores the test split.
    other = dataclasses.replace(data, test=named_motion_bundle(num_classes=3, test_per_class=2,
                                                               test_seed=9).test)
    assert stage_key(cfg, data, 0) == stage_key(cfg, other, 0)
    assert stage_key(cfg, data, 0) != stage_key({**cfg, "vst.video": "none"}, data, 0)
