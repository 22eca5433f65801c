"""A kinematic narrator: one skeleton clip -> a short, clip-specific account of its motion.

It reads only the skeleton (never a ground-truth description), so the same recipe runs on NTU,
the Kinect v1 datasets (ntu25, kinect20) and 2D poses (coco17 via `with_virtual_joints`). The clip
goes into its first performer's body frame (`features.normalise_clip`: x = performer's left,
y = up, z = forward, spine-length units). Each body part becomes a channel (a hand in the torso's
own frame, head and torso angles, pelvis height and travel, feet, the two persons' distance);
a channel's smoothed motion splits into strokes at speed valleys and reversals; three or more
quick reversing strokes are an oscillation, the rest are moves; moves of the hands end at a body
landmark. Events that overlap in time form a phase.

Grammar (the grounding metric and the LM's targets rely on it): phases in time order joined by
", then "; two parts in one phase joined by " while "; a fast hand move gets "quickly" before
its verb; a held pose adds " and stays there";
a clip whose torso and legs never move ends with ". the torso and legs stay still".
Example: "the right hand rises to the mouth and stays there, then the right hand lowers to the
side. the torso and legs stay still".
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bench.data.layouts import Layout

MAX_PHASES = 5
MAX_PARTS_PER_PHASE = 2
STILL_TEXT = "the body stays still"
STILL_SUFFIX = "the torso and legs stay still"
HOLD_SECONDS = 0.3  # a part resting this long at a landmark before its next move "stays there"
REVERSAL_COS = -0.3  # successive strokes this opposed go back and forth
OSC_MIN_STROKES = 3  # strokes in a reversing chain that make an oscillation
QUICK_HAND_SPEED = 4.5  # spine lengths per second over a move: "quickly"
OSC_STROKE_SECONDS = 0.3  # longer strokes are separate moves (a wind-up, then a throw)


@dataclass(frozen=True)
class ChannelSpec:
    """How a channel moves: `amp` the net change that counts as a move, `osc_amp` the stroke
    size in an oscillation, `speed` the speed (per second) below which it rests."""

    part: str
    amp: float
    osc_amp: float
    speed: float


@dataclass
class Event:
    part: str  # subject key: "right hand", "torso", "body", "pair", ...
    start: int
    end: int
    text: str  # predicate: "rises to the mouth"
    salience: float
    kind: str = "move"  # "move" or "osc"
    held: bool = False  # followed by a rest away from the start pose


# ---- entry points ------------------------------------------------------------------------------

def narrate(keypoint: np.ndarray, num_frames, layout: Layout, fps: float) -> list[str]:
    """One narrative per clip of keypoint (N, M, T, V, 3)."""
    return [narrate_clip(keypoint[i], int(num_frames[i]), layout, fps)
            for i in range(len(num_frames))]


def narrate_clip(keypoint: np.ndarray, num_frames: int, layout: Layout, fps: float) -> str:
    """The narrative of one clip (M, T, V, 3)."""
    from bench.data.body import normalise_clip, with_virtual_joints

    keypoint, layout = with_virtual_joints(keypoint, layout)
    y, present = normalise_clip(keypoint, num_frames, layout)
    frames = np.flatnonzero(present[0])
    if len(frames) < 3:
        return STILL_TEXT
    body = _smooth(y[0, frames].astype(np.float64), _smooth_width(fps))
    other = _other_person(y, present, frames, fps)
    events = clip_events(body, other, _Joints(layout), float(fps))
    return render(events)


def clip_events(body: np.ndarray, other: np.ndarray | None, j: "_Joints",
                fps: float) -> list[Event]:
    """Every move and oscillation of the clip's channels, in time order."""
    events = []
    for spec, values, describe in _channels(body, other, j, fps):
        for kind, a, b, sal in _channel_motions(values, spec, fps):
            text = describe(kind, a, b, values)
            if text:
                events.append(Event(spec.part, a, b, text, sal, kind))
    events = _subsume(events)
    _mark_holds(events, len(body), fps)
    return sorted(events, key=lambda e: (e.start, e.end))


# ---- geometry ----------------------------------------------------------------------------------

class _Joints:
    """The joints the narrator reads, by name (ntu25, kinect20 and 2D layouts with virtual
    joints share them)."""

    def __init__(self, layout: Layout):
        from bench.data.body import joint_index

        def find(*names):
            return joint_index(layout, names)

        self.base = find("spine base", "hip centre")
        self.top = find("spine shoulder", "shoulder centre")
        self.head = find("head")
        self.lsh, self.rsh = find("left shoulder"), find("right shoulder")
        self.lhip, self.rhip = find("left hip"), find("right hip")
        self.hand = {"left": find("left hand"), "right": find("right hand")}
        self.foot = {"left": find("left foot"), "right": find("right foot")}


def _smooth_width(fps: float) -> int:
    return max(1, int(round(fps / 10.0)) | 1)  # 3 frames at 30 fps: keeps 4 Hz hand strokes


def _smooth(x: np.ndarray, k: int) -> np.ndarray:
    """Moving average over axis 0, edges padded with the end values."""
    if k <= 1 or len(x) < k:
        return x
    pad = np.concatenate([np.repeat(x[:1], k // 2, 0), x, np.repeat(x[-1:], k // 2, 0)])
    c = np.cumsum(np.concatenate([np.zeros_like(pad[:1]), pad]), axis=0)
    return (c[k:] - c[:-k]) / k


def _other_person(y, present, frames, fps) -> np.ndarray | None:
    """The second person's joints on the first person's frames (held over gaps), or None."""
    if y.shape[0] < 2 or present[1, frames].sum() < 3:
        return None
    seen = np.flatnonzero(present[1])
    nearest = seen[np.clip(np.searchsorted(seen, frames), 0, len(seen) - 1)]
    return _smooth(y[1, nearest].astype(np.float64), _smooth_width(fps))


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-6)


def _torso_axes(body: np.ndarray, j: _Joints) -> np.ndarray:
    """(n, 3, 3) rows: the torso's own left, up and forward directions per frame."""
    up = _unit(body[:, j.top] - body[:, j.base])
    left = body[:, j.lsh] - body[:, j.rsh]
    left = _unit(left - np.sum(left * up, -1, keepdims=True) * up)
    return np.stack([left, up, np.cross(left, up)], axis=1)


def _yaw(vec: np.ndarray) -> np.ndarray:
    """Degrees about the vertical of a left-pointing horizontal line (0 at the start pose)."""
    return np.degrees(np.unwrap(np.arctan2(-vec[:, 2], vec[:, 0])))


# ---- channels: what each body part does, as numbers over time -----------------------------------

def _channels(body: np.ndarray, other: np.ndarray | None, j: _Joints, fps: float):
    """(spec, values (n, d), describe) per channel. describe(kind, a, b, values) -> predicate."""
    axes = _torso_axes(body, j)
    out = []
    for side, sign in (("right", -1.0), ("left", 1.0)):
        local = np.einsum("nij,nj->ni", axes, body[:, j.hand[side]] - body[:, j.top])
        local[:, 0] *= sign  # x: outwards from the body's midline
        out.append((ChannelSpec(f"{side} hand", 0.3, 0.06, 0.8), local,
                    _hand_describer(body, other, j, side, fps)))
    head = np.einsum("nij,nj->ni", axes, body[:, j.head] - body[:, j.top])
    pitch = np.degrees(np.arctan2(head[:, 2], head[:, 1]))[:, None]  # + looks down
    out.append((ChannelSpec("head", 12.0, 9.0, 40.0), pitch, _head_words))
    spine = body[:, j.top] - body[:, j.base]
    lean = np.degrees(np.stack([np.arctan2(spine[:, 2], spine[:, 1]),  # + bends forward
                                np.arctan2(spine[:, 0], spine[:, 1])], 1))  # + to the left
    out.append((ChannelSpec("torso", 8.0, 5.0, 20.0), lean, _torso_words))
    hips = body[:, j.lhip] - body[:, j.rhip]
    twist = (_yaw(body[:, j.lsh] - body[:, j.rsh]) - _yaw(hips))[:, None]  # + to the left
    out.append((ChannelSpec("torso", 15.0, 10.0, 40.0), twist, _twist_words))
    base = body[:, j.base]
    out.append((ChannelSpec("body", 0.25, 0.08, 0.6), base[:, 1:2] - base[0, 1], _height_words))
    out.append((ChannelSpec("body", 0.35, 1e9, 0.4), base[:, [0, 2]], _travel_words))
    out.append((ChannelSpec("body", 60.0, 1e9, 60.0), _yaw(hips)[:, None], _turn_words))
    for side, sign in (("right", -1.0), ("left", 1.0)):
        foot = body[:, j.foot[side]] - body[0, j.foot[side]]
        foot[:, 0] *= sign
        out.append((ChannelSpec(f"{side} leg", 0.3, 0.12, 0.8), foot, _leg_words))
    if other is not None:
        gap = np.linalg.norm(other[:, j.base] - base, axis=-1)[:, None]
        out.append((ChannelSpec("pair", 0.3, 1e9, 0.3), gap, _pair_words))
    return out


def _signed(delta: float, plus: str, minus: str) -> str:
    return plus if delta > 0 else minus


def _head_words(kind, a, b, v) -> str:
    if kind == "osc":
        return "moves up and down"
    start, end = float(v[a, 0]), float(v[b, 0])
    if abs(end) < 0.5 * abs(start) and abs(start) > 8.0:
        return "comes back level"
    return _signed(end - start, "looks down", "tilts back")


def _torso_words(kind, a, b, v) -> str:
    d = v[b] - v[a]
    axis = int(np.argmax(np.abs(d))) if kind == "move" else int(np.argmax(np.ptp(v[a:b + 1], 0)))
    if kind == "osc":
        return ("moves back and forth", "sways side to side")[axis]
    start, end = float(v[a, axis]), float(v[b, axis])
    if abs(end) < 0.5 * abs(start):
        return "straightens up"
    if axis == 0:
        return _signed(end - start, "bends forward", "leans back")
    return _signed(end - start, "leans to the left", "leans to the right")


def _twist_words(kind, a, b, v) -> str:
    if kind == "osc":
        return "twists side to side"
    start, end = float(v[a, 0]), float(v[b, 0])
    if abs(end) < 0.5 * abs(start):
        return "turns back to the front"
    return _signed(end - start, "twists to the left", "twists to the right")


def _height_words(kind, a, b, v) -> str:
    if kind == "osc":
        return "jumps"
    start, end = float(v[a, 0]), float(v[b, 0])
    if end > start:  # a large rise comes from sitting or squatting
        return "stands up" if end - start > 0.4 or start < -0.2 else "rises"
    return "sits down" if end < -0.6 else "squats down"


def _travel_words(kind, a, b, v) -> str:
    dx, dz = v[b] - v[a]
    far = np.hypot(dx, dz) > 0.8
    if abs(dz) >= abs(dx):
        return ("walks " if far else "steps ") + _signed(dz, "forward", "back")
    return ("walks" if far else "steps") + _signed(dx, " to the left", " to the right")


def _turn_words(kind, a, b, v) -> str:
    d = float(v[b, 0] - v[a, 0])
    return "turns around" if abs(d) > 135 else _signed(d, "turns to the left", "turns to the right")


def _leg_words(kind, a, b, v) -> str:
    if kind == "osc":
        return "moves up and down"
    out, up, fwd = v[b] - v[a]
    if abs(up) >= max(abs(out), abs(fwd)):
        return "lifts" if up > 0 else "lowers to the floor"
    if abs(fwd) >= abs(out):
        return _signed(fwd, "kicks forward", "pulls back")
    return _signed(out, "kicks out to the side", "moves inward")


def _pair_words(kind, a, b, v) -> str:
    return _signed(float(v[b, 0] - v[a, 0]), "move apart", "move closer")


# ---- hands: direction and the landmark where the hand ends --------------------------------------

def _hand_describer(body, other, j: _Joints, side: str, fps: float):
    def describe(kind, a, b, v) -> str:
        if kind == "osc":
            axis = int(np.argmax(np.ptp(v[a:b + 1], axis=0)))
            return ("moves side to side", "moves up and down", "moves back and forth")[axis]
        rate = float(np.linalg.norm(v[b] - v[a])) * fps / max(b - a, 1)
        tempo = "quickly " if rate > QUICK_HAND_SPEED else ""
        return f"{tempo}{_hand_verb(v[b] - v[a])} {hand_landmark(body, other, j, side, b, v[b])}"
    return describe


def _hand_verb(d: np.ndarray) -> str:
    out, up, fwd = d
    if abs(up) > 0.2 and abs(up) >= 0.5 * max(abs(out), abs(fwd)):
        return _signed(up, "rises", "lowers")
    if abs(fwd) >= abs(out):
        return _signed(fwd, "moves forward", "pulls back")
    return _signed(out, "moves outward", "moves inward")


def hand_landmark(body, other, j: _Joints, side: str, t: int, local: np.ndarray) -> str:
    """Where a hand is at frame t, named by the body landmark nearest in height and depth;
    `local` is its (outwards, up, forwards) offset from the torso top in the torso's frame.
    Heights are relative to the head, torso top and pelvis of the same frame (spine lengths)."""
    out, _, fwd = local
    p = body[t, j.hand[side]]
    if other is not None and fwd > 0.4 and _near_other(p, other[t], j) < 0.8:
        return "towards the other person"
    above_head, above_top = p[1] - body[t, j.head, 1], p[1] - body[t, j.top, 1]
    above_base = p[1] - body[t, j.base, 1]
    if above_head > -0.15:
        return _head_level_landmark(above_head, out, fwd)
    if out > 0.9:
        return "to the side at shoulder height"
    if above_top > -0.4 or (above_top > -0.6 and fwd > 1.0):
        if fwd < -0.2:
            return "behind the shoulder"
        if out < -0.25:
            return "across the chest"
        return "to the chest" if fwd < 0.6 else (
            "to the front of the chest" if fwd < 1.0 else "to the front at chest height")
    if above_base > 0.05:
        return "to the belly" if fwd < 0.5 else "to the front of the belly"
    if fwd < -0.2 and above_base > -0.25:
        return "to the lower back"
    if above_base < -0.9:
        return "towards the floor"
    return "to the front at hip height" if fwd > 0.6 else "to the side"


def _head_level_landmark(above_head: float, out: float, fwd: float) -> str:
    if above_head > 0.45:
        return "above the head"
    if fwd > 0.8:
        return "to the front at eye level"
    if above_head > 0.22:
        return "to the head"
    if above_head > 0.11:
        return "to the forehead"
    if out > 0.15 and fwd < 0.3:
        return "to the ear"
    return "to the mouth" if above_head < 0.0 else "to the eyes"


def _near_other(p: np.ndarray, other: np.ndarray, j: _Joints) -> float:
    torso = np.stack([other[j.top], other[j.base], 0.5 * (other[j.top] + other[j.base]),
                      other[j.hand["left"]], other[j.hand["right"]]])
    return float(np.min(np.linalg.norm(torso - p, axis=-1)))


# ---- strokes, moves and oscillations of one channel ---------------------------------------------

def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of each run of True."""
    edges = np.diff(np.r_[0, mask.astype(np.int8), 0])
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)))


def _strokes(values: np.ndarray, fps: float, thr: float) -> list[tuple[int, int]]:
    """Intervals of steady motion: runs above the resting speed, cut where the motion reverses
    or its speed dips to a deep valley (one move ends, the next begins)."""
    vel = np.gradient(values, axis=0) * fps if len(values) > 1 else np.zeros_like(values)
    speed = np.linalg.norm(vel, axis=1)
    n = len(values)
    cut = np.zeros(n, dtype=bool)
    if n > 2:
        reverse = np.sum(vel[:-2] * vel[2:], axis=1) < 0
        valley = (speed[1:-1] <= speed[:-2]) & (speed[1:-1] < speed[2:])
        cut[1:-1] = reverse | valley
    out = []
    for a, b in _runs(speed > thr):
        start = a
        for i in np.flatnonzero(cut[a + 1:b - 1]) + a + 1:
            if i - start < 2:
                continue
            if not _deep_valley(speed, start, i, b) and not cut_reverses(vel, i):
                continue
            out.append((start, i))
            start = i
        out.append((start, b))
    return [(a, min(b, n - 1)) for a, b in out if min(b, n - 1) > a]


def _deep_valley(speed, a, i, b) -> bool:
    return speed[i] < 0.4 * min(speed[a:i].max(), speed[i:b].max())


def cut_reverses(vel, i) -> bool:
    return float(np.dot(vel[i - 1], vel[min(i + 1, len(vel) - 1)])) < 0


def _channel_motions(values, spec: ChannelSpec, fps: float):
    """(kind, start, end, salience) of the channel's moves and oscillations."""
    strokes = [(a, b, values[b] - values[a]) for a, b in _strokes(values, fps, spec.speed)]
    strokes = [s for s in strokes if np.linalg.norm(s[2]) >= min(spec.osc_amp, spec.amp)]
    out, k = [], 0
    min_strokes = 2 if spec.part == "body" else OSC_MIN_STROKES
    while k < len(strokes):
        end = _chain_end(strokes, k, fps)
        chain = strokes[k:end]
        if end - k >= min_strokes and all(np.linalg.norm(s[2]) >= spec.osc_amp for s in chain) \
                and np.median([b - a for a, b, _ in chain]) <= OSC_STROKE_SECONDS * fps:
            path = sum(np.linalg.norm(s[2]) for s in strokes[k:end])
            out.append(("osc", strokes[k][0], strokes[end - 1][1], path / spec.amp))
            k = end
            continue
        a, b, d = strokes[k]
        while k + 1 < len(strokes) and _continues(strokes[k], strokes[k + 1], fps):
            k += 1
            b = strokes[k][1]
            d = values[b] - values[a]
        if np.linalg.norm(d) >= spec.amp:
            out.append(("move", a, b, float(np.linalg.norm(d)) / spec.amp))
        k += 1
    return out


def _cos(u, v) -> float:
    return float(np.dot(u, v) / max(np.linalg.norm(u) * np.linalg.norm(v), 1e-9))


def _chain_end(strokes, k: int, fps: float) -> int:
    """End (exclusive) of the back-and-forth chain of similar strokes starting at k."""
    end = k + 1
    while end < len(strokes):
        (_, b0, d0), (a1, _, d1) = strokes[end - 1], strokes[end]
        n0, n1 = np.linalg.norm(d0), np.linalg.norm(d1)
        if a1 - b0 > 0.2 * fps or _cos(d0, d1) > REVERSAL_COS or max(n0, n1) > 3 * min(n0, n1):
            break
        end += 1
    return end


def _continues(s0, s1, fps: float) -> bool:
    """The next stroke goes on the same way after a short dip: one move."""
    return s1[0] - s0[1] <= 0.1 * fps and _cos(s0[2], s1[2]) > 0.8


# ---- from events to phases to text --------------------------------------------------------------

_SUBJECTS = {"right hand": "the right hand", "left hand": "the left hand", "hands": "both hands",
             "head": "the head", "torso": "the torso", "right leg": "the right leg",
             "left leg": "the left leg", "legs": "both legs", "body": "the body",
             "pair": "the two people"}
_RESTING = ("to the side", "straightens up", "comes back level", "turns back to the front",
            "lowers to the floor")
_LEGS = ("right leg", "left leg")


def _overlap(e: Event, f: Event) -> int:
    return min(e.end, f.end) - max(e.start, f.start)


def _subsume(events: list[Event]) -> list[Event]:
    """Feet that step, jump or turn with the whole body are part of the body's event."""
    body = [e for e in events if e.part == "body"]
    return [e for e in events if e.part not in _LEGS
            or not any(_overlap(e, b) > 0.5 * (e.end - e.start) for b in body)]


def _mark_holds(events: list[Event], n: int, fps: float) -> None:
    for e in events:
        if e.kind != "move" or e.part in ("body", "pair") or e.text.endswith(_RESTING):
            continue
        later = [f.start for f in events if f.part == e.part and f.start >= e.end]
        rest = (min(later) if later else n) - e.end
        e.held = rest >= HOLD_SECONDS * fps and (bool(later) or rest >= 0.8 * fps)


def _phases(events: list[Event]) -> list[list[Event]]:
    """Events in time order; one that starts well before the current phase ends joins it."""
    phases: list[list[Event]] = []
    end = -1
    for e in events:
        if phases and e.start < end - 0.3 * (e.end - e.start):
            phases[-1].append(e)
            end = max(end, e.end)
        else:
            phases.append([e])
            end = e.end
    return phases


def _plural(predicate: str) -> str:
    adverb = "quickly " if predicate.startswith("quickly ") else ""
    verb, _, rest = predicate.removeprefix(adverb).partition(" ")
    verb = verb[:-2] if verb.endswith(("shes", "ches")) else verb[:-1] if verb.endswith("s") \
        else verb
    return f"{adverb}{verb} {rest}".strip()


def _pair_sides(phase: list[Event]) -> list[Event]:
    """Left and right doing the same thing in one phase: both hands / both legs."""
    out = list(phase)
    for left, right, both in (("left hand", "right hand", "hands"), ("left leg", "right leg",
                                                                     "legs")):
        lefts = [e for e in out if e.part == left]
        rights = [e for e in out if e.part == right]
        for le in lefts:
            twin = next((r for r in rights if r.text == le.text and r in out), None)
            if twin is None:
                continue
            out.remove(le)
            out.remove(twin)
            out.append(Event(both, min(le.start, twin.start), max(le.end, twin.end), le.text,
                             le.salience + twin.salience, le.kind, le.held and twin.held))
    return out


def _clause(e: Event) -> str:
    plural = e.part in ("hands", "legs", "pair")
    text = _plural(e.text) if plural and e.part != "pair" else e.text
    stays = " and stay there" if plural else " and stays there"
    return f"{_SUBJECTS[e.part]} {text}{stays if e.held else ''}"


def render(events: list[Event]) -> str:
    if not events:
        return STILL_TEXT
    phases = []
    for phase in _phases(events):
        parts = sorted(_pair_sides(phase), key=lambda e: -e.salience)[:MAX_PARTS_PER_PHASE]
        phases.append(sorted(parts, key=lambda e: e.start))
    while len(phases) > MAX_PHASES:  # drop the least salient phase
        phases.pop(int(np.argmin([max(e.salience for e in p) for p in phases])))
    text = ", then ".join(" while ".join(_clause(e) for e in p) for p in phases)
    if not any(e.part in ("torso", "body", "right leg", "left leg") for e in events):
        text += ". " + STILL_SUFFIX
    return text
