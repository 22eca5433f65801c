"""Tokens read back as motion (bench/methods/lvlm_var/decode.py): a clip decoded from its
codes' mean windows says what the clip did, and the LM's prompt carries it."""
from __future__ import annotations

import numpy as np
import torch

from bench.data.layouts import NTU25
from bench.data.synthetic.motions import PLACES, REST
from bench.data.synthetic.skeleton import REFERENCE_BONES, body_to_world, pose_joints, rest_tracks
from bench.methods.lvlm_var.decode import MeanAccumulator, decode_clip, narrate_tokens
from bench.methods.lvlm_var.features import ClipWindows
from bench.methods.lvlm_var.narrator import narrate_clip

torch.set_num_threads(1)
FPS, WINDOW, STRIDE, POSE_FRAMES = 30.0, 16, 5.0, 4
BONES = dict(REFERENCE_BONES, scale=1.0,
             pelvis_height=REFERENCE_BONES["ankle_h"] + REFERENCE_BONES["hip_drop"]
             + 0.97 * (REFERENCE_BONES["thigh"] + REFERENCE_BONES["shin"]))


def _clip(channel: str, *keys) -> np.ndarray:
    """(1, T, 25, 3): a performer facing the camera whose `channel` eases through `keys`."""
    values = [np.asarray(REST[channel], float)] + [np.asarray(k, float) for k in keys]
    pieces = [np.repeat(values[0][None], 15, 0)]
    for a, b in zip(values[:-1], values[1:]):
        u = np.linspace(0.0, 1.0, 18)[:, None]
        pieces += [a + (b - a) * u * u * (3 - 2 * u), np.repeat(b[None], 15, 0)]
    track = np.concatenate(pieces)
    tracks = rest_tracks(len(track))
    tracks[channel] = track
    joints = body_to_world(pose_joints(tracks, BONES, 1), (0.0, 3.0), np.pi)
    return joints[None].astype(np.float32)


def _windows(clips: list[np.ndarray]):
    frames = max(c.shape[1] for c in clips)
    keypoint = np.zeros((len(clips), 2, frames, 25, 3), np.float32)
    for i, c in enumerate(clips):
        keypoint[i, :1, :c.shape[1]] = c
    num_frames = np.array([c.shape[1] for c in clips])
    cw = ClipWindows(keypoint, num_frames, NTU25, window=WINDOW, stride=STRIDE,
                     pose_frames=POSE_FRAMES)
    return cw.windows(np.arange(len(clips)), kinematics=False)


def _own_codes(clip: np.ndarray):
    """A codebook with one code per window of `clip` (a perfect tokenizer) and its tokens."""
    w = _windows([clip])
    n = len(w.features)
    acc = MeanAccumulator([n], [np.arange(w.features.shape[1])])
    acc.add(0, np.arange(n), w.features)
    return acc.result(25, POSE_FRAMES), list(range(n))


def test_a_perfect_codebook_decodes_the_clip_and_its_narrative():
    clip = _clip("dom_hand", PLACES["mouth"][0], REST["dom_hand"])
    means, tokens = _own_codes(clip)
    decoded = decode_clip(tokens, means, WINDOW, STRIDE)
    assert decoded.shape[0] == 2 and decoded.shape[2:] == (25, 3)
    assert not decoded[1].any()  # one person: the second stays empty
    said = narrate_tokens([tokens], means, WINDOW, STRIDE, NTU25, FPS)[0]
    assert said == narrate_clip(clip, clip.shape[1], NTU25, FPS), said
    assert "right hand rises" in said and "lowers" in said, said


def test_codes_shared_across_clips_tell_different_motions_apart():
    up = _clip("dom_hand", PLACES["overhead"][0], REST["dom_hand"])
    other = _clip("off_hand", PLACES["overhead"][0], REST["off_hand"])
    w = _windows([up, other])
    # code = the window's position in its clip, shared by both clips' windows, except where the
    # two clips differ (their moving hands), which get codes of their own
    pos = np.concatenate([np.arange(c) for c in np.diff(w.offsets)])
    moving = np.abs(w.features - w.features[np.r_[1:len(pos), 0]]).max(1) > 0  # any change
    codes = np.where(np.arange(len(pos)) < w.offsets[1], pos, pos + 100)
    codes = np.where(moving, codes, 0)
    acc = MeanAccumulator([200], [np.arange(w.features.shape[1])])
    acc.add(0, codes, w.features)
    means = acc.result(25, POSE_FRAMES)
    texts = narrate_tokens([codes[w.clip_slice(i)].tolist() for i in range(2)], means, WINDOW,
                           STRIDE, NTU25, FPS)
    assert "right hand" in texts[0] and "left hand" not in texts[0], texts
    assert "left hand" in texts[1] and "right hand" not in texts[1], texts


def test_tokens_removed_still_decode():
    clip = _clip("dom_hand", PLACES["mouth"][0], REST["dom_hand"])
    means, tokens = _own_codes(clip)
    for kept in (tokens[::2], tokens[:1], []):
        decoded = decode_clip(kept, means, WINDOW, STRIDE)
        assert np.isfinite(decoded).all() and decoded.shape[1] >= WINDOW


def test_a_stage_stored_without_code_means_gets_them_on_load(tmp_path):
    from toys import lvlm_method, named_motion_bundle

    from bench.methods.lvlm_var.stage import fit_or_load_vst

    bundle = named_motion_bundle(num_classes=3, train_per_class=4, test_per_class=1)
    method = lvlm_method(tmp_path, **{"vst.epochs": 2, "vst.vq_epochs": 1})
    trained, hit = fit_or_load_vst(method, bundle)
    assert not hit and trained.code_means is not None
    stored = next((tmp_path / "cache" / "vst").glob("*/code_means.npz"))
    stored.unlink()  # as a stage from before code means were kept
    loaded, hit = fit_or_load_vst(method, bundle)
    assert hit and stored.is_file()
    for a, b in zip(trained.code_means.means, loaded.code_means.means):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    from bench.data.layouts import get_layout

    method.vst = loaded
    said = narrate_tokens(method.tokenize(bundle.test, bundle)[0][:2], loaded.code_means, WINDOW,
                          bundle.fps / 6.0, get_layout(bundle.layout), bundle.fps)
    assert len(said) == 2 and all(said)
