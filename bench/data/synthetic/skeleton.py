"""The synthetic performer's body: proportions, channel tracks -> the 25 Kinect v2 joints of the
NTU25 layout (rigid bones: two-bone IK places elbows and knees), and what a Kinect camera records
of it (camera-space metres, depth and colour pixels, joint orientations, tracking states)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bench.data.synthetic.motions import REST, Variation

# A 1.70 m adult, metres.
REFERENCE_BONES = {
    "spine_low": 0.26, "spine_high": 0.20, "neck": 0.08, "head": 0.12, "shoulder_w": 0.18,
    "shoulder_drop": 0.03, "upper_arm": 0.27, "forearm": 0.25, "hand": 0.08, "hand_tip": 0.07,
    "thumb": 0.05, "hip_w": 0.085, "hip_drop": 0.02, "thigh": 0.42, "shin": 0.40, "foot": 0.12,
    "ankle_h": 0.08,
}
_LIMB_GROUPS = {"spine": ("spine_low", "spine_high", "neck", "head"),
                "arms": ("upper_arm", "forearm", "hand", "hand_tip", "thumb"),
                "legs": ("thigh", "shin", "foot", "ankle_h"),
                "widths": ("shoulder_w", "shoulder_drop", "hip_w", "hip_drop")}
# Kinect's own tree: a joint's orientation is that of the bone from its parent to it.
_ORIENT_PARENT = (1, 0, 20, 2, 20, 4, 5, 6, 20, 8, 9, 10, 0, 12, 13, 14, 0, 16, 17, 18, 1, 7, 6,
                  11, 10)
_LEAVES = (3, 15, 19, 21, 22, 23, 24)  # Kinect reports no orientation for these
_DISTAL = (6, 7, 10, 11, 14, 15, 18, 19, 21, 22, 23, 24)  # the joints that get occluded
_BODY_ID_BASE = 72057594037927936  # 2**56: real tracking ids look like 72057594037931101


@dataclass(frozen=True)
class Performer:
    bones: dict  # REFERENCE_BONES scaled for this person, plus "scale" and "pelvis_height"
    variation: Variation  # habitual speed, style amplitude and handedness


def draw_performer(rng: np.random.Generator) -> Performer:
    scale = rng.uniform(0.88, 1.12)
    bones = dict(REFERENCE_BONES)
    for names in _LIMB_GROUPS.values():
        factor = scale * np.clip(rng.normal(1.0, 0.04), 0.9, 1.1)
        bones.update({n: bones[n] * factor for n in names})
    bones["scale"] = scale
    # Knees almost straight when standing: IK needs the ankle within the leg's reach.
    bones["pelvis_height"] = bones["ankle_h"] + bones["hip_drop"] + 0.97 * (bones["thigh"] +
                                                                         bones["shin"])
    variation = Variation(speed=rng.uniform(0.8, 1.25), style=rng.uniform(0.85, 1.15),
                          right_handed=bool(rng.random() < 0.85))
    return Performer(bones, variation)


# ---- pose -------------------------------------------------------------------------------

def _yaw(a):  # turn towards the right (+x) in a frame with x right, y up, z forward
    c, s, o, i = np.cos(a), np.sin(a), np.zeros_like(a), np.ones_like(a)
    return np.stack([np.stack([c, o, s], -1), np.stack([o, i, o], -1),
                     np.stack([-s, o, c], -1)], -2)


def _pitch(a):  # bend forwards: up tilts towards +z
    c, s, o, i = np.cos(a), np.sin(a), np.zeros_like(a), np.ones_like(a)
    return np.stack([np.stack([i, o, o], -1), np.stack([o, c, -s], -1),
                     np.stack([o, s, c], -1)], -2)


def _roll(a):  # lean towards the right: up tilts towards +x
    c, s, o, i = np.cos(a), np.sin(a), np.zeros_like(a), np.ones_like(a)
    return np.stack([np.stack([c, s, o], -1), np.stack([-s, c, o], -1),
                     np.stack([o, o, i], -1)], -2)


def _rotate(rotations, vectors):
    return np.einsum("tij,tj->ti", rotations, np.broadcast_to(vectors, rotations.shape[:2]))


def _unit(v):
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def _two_bone(root, target, a, b, pole):
    """Middle and end joints of a two-bone limb reaching for target, bending towards pole;
    bone lengths stay exactly a and b (the target is clamped to the limb's reach)."""
    delta = target - root
    u = _unit(delta)
    d = np.clip(np.linalg.norm(delta, axis=-1, keepdims=True), abs(a - b) + 1e-3, 0.999 * (a + b))
    v = pole - np.sum(pole * u, -1, keepdims=True) * u
    spare = np.cross(u, [1.0, 0.0, 0.0])  # any perpendicular, should the pole be parallel
    v = _unit(np.where(np.linalg.norm(v, axis=-1, keepdims=True) < 1e-3, spare, v))
    cos = (a * a + d * d - b * b) / (2 * a * d)
    mid = root + a * (cos * u + np.sqrt(np.clip(1 - cos * cos, 0, 1)) * v)
    return mid, root + d * u


def pose_joints(tracks: dict, bones: dict, dom: int) -> np.ndarray:
    """(T, 25, 3) joints in the performer's own frame: x right, y up, z forward, the floor at
    y = 0 under the starting pelvis. dom is +1 for a right-handed performer, -1 otherwise."""
    s = bones["scale"]
    body = tracks["body"]
    T = len(body)
    body_turn = _yaw(np.radians(dom * body[:, 3]))
    pelvis = np.stack([dom * body[:, 0] * s, bones["pelvis_height"] + body[:, 1] * s,
                       body[:, 2] * s], -1)
    bend, lean, twist = np.radians(tracks["torso"]).T
    torso = body_turn @ _pitch(bend) @ _roll(dom * lean) @ _yaw(dom * twist)
    turn, bow = np.radians(tracks["head"]).T
    head = torso @ _pitch(bow) @ _yaw(dom * turn)
    J = np.empty((T, 25, 3))
    J[:, 0] = pelvis
    J[:, 1] = pelvis + torso[:, :, 1] * bones["spine_low"]
    J[:, 20] = J[:, 1] + torso[:, :, 1] * bones["spine_high"]
    J[:, 2] = J[:, 20] + head[:, :, 1] * bones["neck"]
    J[:, 3] = J[:, 2] + head[:, :, 1] * bones["head"]
    for side, arm in ((1, (8, 9, 10, 11, 23, 24)), (-1, (4, 5, 6, 7, 21, 22))):
        _arm(J, arm, side, tracks["dom_hand" if side == dom else "off_hand"], torso, bones)
    for side, leg in ((1, (16, 17, 18, 19)), (-1, (12, 13, 14, 15))):
        _leg(J, leg, side, tracks["dom_foot" if side == dom else "off_foot"], pelvis, body_turn,
             bones)
    return J


def _arm(J, joints, side, wrist_track, torso, bones):
    shoulder, elbow, wrist, hand, tip, thumb = joints
    J[:, shoulder] = J[:, 20] + _rotate(torso, (side * bones["shoulder_w"],
                                                -bones["shoulder_drop"], 0.0))
    target = J[:, 20] + _rotate(torso, wrist_track * bones["scale"] * (side, 1, 1))
    pole = _rotate(torso, (side * 0.5, -0.6, -0.6))  # elbows point down, back and out
    J[:, elbow], J[:, wrist] = _two_bone(J[:, shoulder], target, bones["upper_arm"],
                                         bones["forearm"], pole)
    axis = _unit(J[:, wrist] - J[:, elbow])
    across = _unit(np.cross(axis, pole))
    J[:, hand] = J[:, wrist] + axis * bones["hand"]
    J[:, tip] = J[:, hand] + axis * bones["hand_tip"]
    J[:, thumb] = J[:, wrist] + bones["thumb"] * (0.6 * axis + 0.8 * side * across)


def _leg(J, joints, side, ankle_track, pelvis, body_turn, bones):
    hip, knee, ankle, foot = joints
    J[:, hip] = pelvis + _rotate(body_turn, (side * bones["hip_w"], -bones["hip_drop"], 0.0))
    standing = np.array([side * bones["hip_w"] * 1.15, bones["ankle_h"], 0.0])
    target = standing + ankle_track * bones["scale"] * (side, 1, 1)
    pole = _rotate(body_turn, (side * 0.15, 0.0, 1.0))  # knees bend forwards
    J[:, knee], J[:, ankle] = _two_bone(J[:, hip], target, bones["thigh"], bones["shin"], pole)
    J[:, foot] = J[:, ankle] + _rotate(body_turn, _unit(np.array([0.0, -0.45, 1.0]))
                                       * bones["foot"])


def body_to_world(joints: np.ndarray, spot, facing: float) -> np.ndarray:
    """Place a performer at spot (x, z) on the floor, facing `facing` radians about the vertical
    (0 faces camera 1 along +z). World axes: y up; right = forward x up."""
    forward = np.array([np.sin(facing), 0.0, np.cos(facing)])
    right = np.array([-np.cos(facing), 0.0, np.sin(facing)])
    basis = np.stack([right, [0.0, 1.0, 0.0], forward])  # rows: where x, y, z of the body go
    return joints @ basis + np.array([spot[0], 0.0, spot[1]])


def rest_tracks(num_frames: int) -> dict:
    return {c: np.repeat(np.asarray(v, float)[None], num_frames, axis=0) for c, v in REST.items()}


# ---- what the Kinect records --------------------------------------------------------------

def capture_body(world, rotation, position, rng, frames, noise: float = 0.008,
                 inferred_rate: float = 0.03) -> dict:
    """One tracked body seen by a camera: its id, frames, hand states and per-frame rows of
    [clipedEdges, leanX, leanY, 25 x (x y z depthX depthY colorX colorY qw qx qy qz state)]."""
    cam = (world - position) @ rotation.T
    state = np.full(cam.shape[:2], 2.0)
    inferred = rng.random((len(cam), len(_DISTAL))) < inferred_rate
    hidden = cam[:, _DISTAL, 2] > cam[:, [1], 2] + 0.12  # behind the body, seen from the camera
    inferred |= hidden & (rng.random(hidden.shape) < 0.5)
    state[:, _DISTAL] = np.where(inferred, 1.0, 2.0)
    # Inferred joints are guesses: noisier.
    sigma = np.where(state == 1.0, 2.5 * noise, noise)[..., None]
    cam = cam + rng.normal(0.0, 1.0, cam.shape) * sigma
    return {"frames": np.asarray(frames), "hands": tuple(int(h) for h in rng.choice([1, 2, 3], 2)),
            "rows": _rows(cam, state)}


def body_ids(rng, count: int) -> list[int]:
    """Distinct Kinect-like tracking ids for the bodies of one recording."""
    first = _BODY_ID_BASE + int(rng.integers(1000, 90000))
    return [first + 37 * i for i in range(count)]


def noise_body(rotation, position, rng, num_frames: int) -> dict:
    """A short-lived spurious detection (a passer-by, a chair) at the edge of the scene."""
    length = int(rng.integers(2, 9))
    start = int(rng.integers(0, max(num_frames - length, 1)))
    frames = np.arange(start, min(start + length, num_frames))
    bones = draw_performer(rng).bones
    shrink = rng.uniform(0.4, 1.0)
    bones = {k: v * shrink for k, v in bones.items()}
    joints = pose_joints(rest_tracks(len(frames)), bones, 1)
    spot = (rng.choice([-1, 1]) * rng.uniform(1.3, 2.0), rng.uniform(-1.0, 0.5))
    world = body_to_world(joints, spot, rng.uniform(-np.pi, np.pi))
    return capture_body(world, rotation, position, rng, frames, noise=0.04, inferred_rate=0.5)


def _rows(cam, state):
    x, y, z = cam[..., 0], cam[..., 1], cam[..., 2]
    # Kinect v2 projections, fitted on a real NTU file (depth 512x424, colour 1920x1080).
    depth = np.stack([366.5 * x / z + 256.0, -366.7 * y / z + 208.1], -1)
    colour = np.stack([1055.8 * x / z + 75.9 / z + 955.3, -1056.5 * y / z + 567.1], -1)
    joints = np.concatenate([cam, depth, colour, _orientations(cam), state[..., None]], -1)
    up = _unit(cam[:, 20] - cam[:, 0])
    edges = ((depth[..., 0] > 512).any(1) * 1 + (depth[..., 0] < 0).any(1) * 2
             + (depth[..., 1] < 0).any(1) * 4 + (depth[..., 1] > 424).any(1) * 8)
    rows = np.concatenate([edges[:, None], up[:, [0]], -up[:, [2]],
                           joints.reshape(len(cam), -1)], 1)
    return rows + 0.0  # no "-0" in the text


def _orientations(cam):
    """(T, 25, 4) w, x, y, z: a frame whose y axis runs along the joint's bone, x across the
    shoulders where it can; zero for Kinect's leaf joints."""
    along = _unit(cam - cam[:, _ORIENT_PARENT])
    along[:, 0] *= -1  # the root's bone runs from spine base up to spine mid
    across = _unit(cam[:, 8] - cam[:, 4])[:, None]
    trunk = _unit(cam[:, 20] - cam[:, 0])[:, None]
    ref = across - np.sum(across * along, -1, keepdims=True) * along
    alt = trunk - np.sum(trunk * along, -1, keepdims=True) * along
    x = _unit(np.where(np.linalg.norm(ref, axis=-1, keepdims=True) < 0.3, alt, ref))
    z = np.cross(x, along)
    m = np.stack([x, along, z], -1)  # columns
    d0, d1, d2 = m[..., 0, 0], m[..., 1, 1], m[..., 2, 2]
    q = 0.5 * np.sqrt(np.clip(np.stack([1 + d0 + d1 + d2, 1 + d0 - d1 - d2, 1 - d0 + d1 - d2,
                                        1 - d0 - d1 + d2], -1), 0, None))
    q[..., 1] = np.copysign(q[..., 1], m[..., 2, 1] - m[..., 1, 2])
    q[..., 2] = np.copysign(q[..., 2], m[..., 0, 2] - m[..., 2, 0])
    q[..., 3] = np.copysign(q[..., 3], m[..., 1, 0] - m[..., 0, 1])
    q = _unit(q)
    q[:, _LEAVES] = 0.0
    return q
