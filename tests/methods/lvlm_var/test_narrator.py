"""The kinematic narrator on clips whose motion the test itself builds (a posed synthetic body:
known parts, directions and order), in ntu25, kinect20 and 2D coco17."""
from __future__ import annotations

import re

import numpy as np
import pytest

from bench.data.layouts import COCO17, KINECT20, NTU25
from bench.data.synthetic.motions import PLACES, REST
from bench.data.synthetic.skeleton import REFERENCE_BONES, body_to_world, pose_joints, rest_tracks
from bench.methods.lvlm_var.narrator import MAX_PHASES, STILL_TEXT, narrate, narrate_clip

FPS = 30.0
BONES = dict(REFERENCE_BONES, scale=1.0,
             pelvis_height=REFERENCE_BONES["ankle_h"] + REFERENCE_BONES["hip_drop"]
             + 0.97 * (REFERENCE_BONES["thigh"] + REFERENCE_BONES["shin"]))


def _ease(a, b, frames: int) -> np.ndarray:
    u = np.linspace(0.0, 1.0, frames)[:, None]
    return np.asarray(a, float) + (np.asarray(b, float) - np.asarray(a, float)) * u * u * (3 - 2 * u)


def _script(channel: str, *keys, hold: int = 15) -> dict:
    """Rest tracks where `channel` eases through the given values, 18 frames per move, `hold`
    frames resting between moves and at both ends."""
    values = [np.asarray(REST[channel], float)] + [np.asarray(k, float) for k in keys]
    pieces = [np.repeat(values[0][None], hold, 0)]
    for a, b in zip(values[:-1], values[1:]):
        pieces += [_ease(a, b, 18), np.repeat(b[None], hold, 0)]
    track = np.concatenate(pieces)
    tracks = rest_tracks(len(track))
    tracks[channel] = track
    return tracks


def _world(tracks: dict, spot=(0.0, 3.0), facing=np.pi, rng=None) -> np.ndarray:
    """(T, 25, 3) camera-space joints of a right-handed performer (dom = +1), facing the camera
    by default, with a little tracking noise."""
    joints = body_to_world(pose_joints(tracks, BONES, 1), spot, facing)
    rng = rng or np.random.default_rng(0)
    return joints + rng.normal(0.0, 0.004, joints.shape)


def _clip(*people: np.ndarray) -> np.ndarray:
    return np.stack(people).astype(np.float32)  # (M, T, 25, 3)


def _say(clip: np.ndarray, layout=NTU25) -> str:
    return narrate_clip(clip, clip.shape[1], layout, FPS)


def _to_kinect20(clip: np.ndarray) -> np.ndarray:
    rename = {"hip centre": "spine base", "spine": "spine mid", "shoulder centre": "spine shoulder"}
    return clip[:, :, [NTU25.joints.index(rename.get(n, n)) for n in KINECT20.joints]]


def _phases(text: str) -> list[str]:
    return text.split(". ")[0].split(", then ")


def _first(text: str, pattern: str) -> int:
    """Where pattern first matches; a verb may carry a tempo ("the right hand quickly rises")."""
    pattern = re.sub(r"(hands?|legs?|head|torso|body) (rises?|lowers?|moves?|lifts?)",
                     r"\1 (?:quickly )?\2", pattern)
    m = re.search(pattern, text)
    assert m, f"{pattern!r} not in {text!r}"
    return m.start()


HEAD_LEVEL = r"to the (?:mouth|eyes|face|forehead|head|ear)"


def test_right_hand_rises_to_the_head_then_lowers():
    text = _say(_clip(_world(_script("dom_hand", PLACES["mouth"][0], REST["dom_hand"]))))
    assert _first(text, rf"the right hand rises {HEAD_LEVEL}") < _first(
        text, "the right hand lowers to the side"), text
    assert "left hand" not in text and "both hands" not in text, text
    assert "the torso and legs stay still" in text, text


def test_left_hand_and_a_held_pose():
    text = _say(_clip(_world(_script("off_hand", PLACES["overhead"][0], REST["off_hand"],
                                     hold=30))))
    assert _first(text, "the left hand rises above the head and stays there, then the left hand "
                        "lowers") >= 0
    assert "right hand" not in text, text


def test_still_clip_says_still():
    assert _say(_clip(_world(rest_tracks(80)))) == STILL_TEXT


def test_torso_bends_forward_then_straightens():
    text = _say(_clip(_world(_script("torso", (45.0, 0.0, 0.0), (0.0, 0.0, 0.0)))))
    assert _first(text, "the torso bends forward") < _first(text, "the torso straightens up"), text
    assert "stay still" not in text, text


def test_hand_waves_side_to_side():
    tracks = _script("dom_hand", PLACES["raised"][0], PLACES["raised"][0], REST["dom_hand"])
    wave = 60 + np.arange(36)  # the second hold, stretched: three waves of 0.15 m outwards
    tracks = {c: np.concatenate([v[:60], np.repeat(v[60:61], 36, 0), v[60:]]) for c, v in
              tracks.items()}
    tracks["dom_hand"][wave, 0] += 0.15 * np.sin(2 * np.pi * 3 * np.arange(36) / 36)
    text = _say(_clip(_world(tracks)))
    assert _first(text, "the right hand rises") < _first(
        text, "the right hand moves side to side") < _first(text, "the right hand lowers"), text


def test_two_people_approach():
    body = np.zeros((60, 4))
    body[:, 2] = np.linspace(0.0, 0.7, 60)  # each walks 0.7 m forwards
    walk = rest_tracks(60)
    walk["body"] = np.concatenate([np.zeros((15, 4)), body, np.repeat(body[-1:], 15, 0)])
    walk = {c: (v if c == "body" else np.repeat(v[:1], 90, 0)) for c, v in walk.items()}
    first = _world(walk, spot=(0.0, 4.5), facing=np.pi)  # faces the camera
    second = _world(walk, spot=(0.0, 2.0), facing=0.0, rng=np.random.default_rng(1))
    text = _say(_clip(first, second))
    assert "the two people move closer" in text, text
    assert "move apart" not in text, text
    assert "walks forward" in text or "steps forward" in text, text


def test_differing_clips_get_differing_texts():
    clips = [_script("dom_hand", PLACES["mouth"][0], REST["dom_hand"]),
             _script("dom_hand", PLACES["overhead"][0], REST["dom_hand"]),
             _script("off_hand", PLACES["chest"][0], REST["off_hand"]),
             _script("torso", (45.0, 0.0, 0.0), (0.0, 0.0, 0.0))]
    texts = [_say(_clip(_world(t))) for t in clips]
    assert len(set(texts)) == len(texts), texts


def test_kinect20_layout():
    clip = _to_kinect20(_clip(_world(_script("dom_hand", PLACES["mouth"][0], REST["dom_hand"]))))
    text = _say(clip, KINECT20)
    assert _first(text, rf"the right hand rises {HEAD_LEVEL}") < _first(
        text, "the right hand lowers"), text


def test_coco17_2d_layout():
    """A 2D pose (image x right, y down, a score) of a performer facing the camera."""
    world = _world(_script("dom_hand", PLACES["overhead"][0], REST["dom_hand"]))
    names = {"nose": "head", "left eye": "head", "right eye": "head", "left ear": "head",
             "right ear": "head", "left wrist": "left hand", "right wrist": "right hand",
             "left ankle": "left foot", "right ankle": "right foot"}
    pts = world[:, [NTU25.joints.index(names.get(n, n)) for n in COCO17.joints]]
    image = np.stack([400 - 200 * pts[..., 0], 500 - 200 * pts[..., 1],
                      np.ones(pts.shape[:2])], -1)[None]
    text = _say(image.astype(np.float32), COCO17)
    assert _first(text, "the right hand rises") < _first(text, "the right hand lowers"), text


def test_batch_matches_clips_and_bounds_the_phases():
    rng = np.random.default_rng(3)
    busy = _world(rest_tracks(150), rng=rng)
    busy[:, [7, 11]] += rng.normal(0.0, 0.15, (150, 2, 3)).cumsum(0) * 0.3  # restless hands
    clips = [_clip(busy), _clip(_world(_script("dom_hand", PLACES["mouth"][0],
                                               REST["dom_hand"], hold=25)))]
    keypoint = np.zeros((2, 1, 150, 25, 3), np.float32)
    for i, c in enumerate(clips):
        keypoint[i, :, :c.shape[1]] = c
    frames = np.array([c.shape[1] for c in clips])
    texts = narrate(keypoint, frames, NTU25, FPS)
    assert texts == [narrate_clip(keypoint[i], frames[i], NTU25, FPS) for i in range(2)]
    assert all(len(_phases(t)) <= MAX_PHASES for t in texts), texts


@pytest.mark.parametrize("empty", [0, 2])
def test_too_short_or_empty(empty):
    clip = np.zeros((1, 10, 25, 3), np.float32)
    clip[0, :empty] = _world(rest_tracks(empty))[:empty] if empty else 0.0
    assert narrate_clip(clip, 10, NTU25, FPS) == STILL_TEXT
