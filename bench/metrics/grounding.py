"""Grounding: the share of body parts and motions named in an explanation that the skeleton shows.

Facts (computed by the runner from the test skeletons at predict time, stored per sample in
Predictions.extra["motion_facts"], so reports need no data): the clip is put in its performer's
body frame (x = performer's left, y = up, z = forward, spine-length units), smoothed over 5
frames, and each body part is tracked by its end joint relative to the spine base (the spine base
itself for the whole body):
  "<part>|moving"           over the clip the part covers more than THRESHOLD on some axis;
  "<part>|up" (down, ...)   in some 1-second window (every half second) its net displacement on
                            that axis exceeds THRESHOLD with that sign, or it goes back and forth
                            on that axis (range > THRESHOLD, net under half the range);
  "pair|closer" / "pair|apart"  the two persons' distance falls / rises by THRESHOLD.
Claims (parsed from the text): a body part, then what it does: a direction ("rises" -> up), an
oscillation on an axis ("up and down"), "stays still", or nothing recognisable (-> it moves).
"""
from __future__ import annotations

import re

import numpy as np

THRESHOLD = 0.2  # spine lengths (~10 cm): parts a description calls still stay under ~0.13
PARTS = ("head", "torso", "left hand", "right hand", "left leg", "right leg", "body")
_DIRS = {(0, 1): "left", (0, -1): "right", (1, 1): "up", (1, -1): "down",
         (2, 1): "forward", (2, -1): "back"}
_SMOOTH = 5  # frames of moving average against tracking jitter

# ---- facts from skeletons ----------------------------------------------------------------------


def _smooth(x: np.ndarray, k: int = _SMOOTH) -> np.ndarray:
    """Moving average over time (axis 0), edges padded with the end values."""
    if len(x) < k:
        return x
    pad = np.concatenate([np.repeat(x[:1], k // 2, 0), x, np.repeat(x[-1:], k // 2, 0)])
    c = np.cumsum(np.concatenate([np.zeros_like(pad[:1]), pad]), axis=0)
    return (c[k:] - c[:-k]) / k


def _part_tracks(y: np.ndarray, layout) -> np.ndarray:  # y: (n, V, 3)
    """(n, 7, 3): the end joint of each part relative to the spine base, then the spine base."""
    from bench.methods.lvlm_var.features import KIN_PARTS, PART_END_JOINT, joint_index

    base = joint_index(layout, ("spine base", "hip centre"))
    ends = [joint_index(layout, PART_END_JOINT[p]) for p in KIN_PARTS]
    body = _smooth(y.astype(np.float64))  # (n, V, 3) of one person
    return np.concatenate([body[:, ends] - body[:, base][:, None], body[:, base][:, None]], 1)


def clip_facts(keypoint: np.ndarray, num_frames: int, layout, fps: float) -> list[str]:
    """Facts of one clip (M, T, V, 3). A second person adds its moving parts and vertical motions
    (its left/right/forward/back are mirrored in the first person's frame, so they are left out)."""
    from bench.methods.lvlm_var.features import normalise_clip

    y, present = normalise_clip(keypoint, int(num_frames), layout)
    persons = [0] + ([1] if y.shape[0] > 1 and present[1].sum() > 1 else [])
    facts = set()
    for m in persons:
        own = _part_facts(_part_tracks(y[m][present[m]], layout), fps)
        facts |= own if m == 0 else {f for f in own if f.split("|")[1] in ("moving", "up", "down")}
    if len(persons) == 2:
        both = present[0] & present[1]
        if both.sum() > 1:
            dist = _smooth(np.linalg.norm(y[1, both, 0] - y[0, both, 0], axis=-1))
            if np.max(np.maximum.accumulate(dist) - dist) > THRESHOLD:  # fell from an earlier max
                facts.add("pair|closer")
            if np.max(dist - np.minimum.accumulate(dist)) > THRESHOLD:
                facts.add("pair|apart")
    return sorted(facts)


def _part_facts(tracks: np.ndarray, fps: float) -> set[str]:
    n, win = len(tracks), max(2, int(round(fps)))
    starts = range(0, max(1, n - win + 1), max(1, win // 2))
    facts = set()
    for j, part in enumerate(PARTS):
        if len(tracks) and np.ptp(tracks[:, j], axis=0).max() > THRESHOLD:
            facts.add(f"{part}|moving")
        for s in starts:
            w = tracks[s:s + win, j]
            if len(w) < 2:
                continue
            net, extent = w[-1] - w[0], np.ptp(w, axis=0)
            for (axis, sign), name in _DIRS.items():
                swing = extent[axis] > THRESHOLD and abs(net[axis]) < 0.5 * extent[axis]
                if sign * net[axis] > THRESHOLD or swing:
                    facts.add(f"{part}|{name}")
    return facts


def skeleton_facts(keypoint: np.ndarray, num_frames: np.ndarray, layout,
                   fps: float) -> list[list[str]]:
    """Per clip (keypoint (N, M, T, V, 3)), the sorted fact strings (see the module docstring)."""
    return [clip_facts(keypoint[i], int(num_frames[i]), layout, fps)
            for i in range(len(num_frames))]


# ---- claims from text --------------------------------------------------------------------------

_SUBJECTS = [  # (pattern, parts it names); longer patterns first
    (r"both (?:hands|arms|wrists)", ("left hand", "right hand")),
    (r"both (?:legs|feet|knees)", ("left leg", "right leg")),
    (r"left (?:hand|arm|wrist|elbow|forearm)", ("left hand",)),
    (r"right (?:hand|arm|wrist|elbow|forearm)", ("right hand",)),
    (r"left (?:leg|foot|knee|ankle)", ("left leg",)),
    (r"right (?:leg|foot|knee|ankle)", ("right leg",)),
    (r"(?:hands|arms)", ("left hand|right hand",)),  # both, unsided: either side may show it
    (r"(?:legs|feet)", ("left leg|right leg",)),
    (r"(?:hand|arm|wrist)", ("left hand|right hand",)),
    (r"(?:leg|foot|knee)", ("left leg|right leg",)),
    (r"(?:two|both) (?:people|persons|performers)|each other", ("pair",)),
    (r"head", ("head",)),
    (r"(?:torso|trunk|upper body|spine|chest)", ("torso",)),
    (r"(?:whole body|body|person|performer)", ("body",)),
]
_SUBJECT_RES = [(re.compile(rf"\b(?:{p})\b"), parts) for p, parts in _SUBJECTS]


def _subject(clause: str):
    """The most specific part a clause names ("the second person's hands" -> hands), its match."""
    for rx, parts in _SUBJECT_RES:
        m = rx.search(clause)
        if m:
            return m, parts
    return None, ()
_OSCILLATIONS = [(r"up and down|bobs|bounces|nods", 1), (r"back and forth|rocks|swings", 2),
                 (r"side to side|waves|shakes|sways", 0)]
_DIRECTION_WORDS = [
    (r"\b(?:rises?|raises?|lifts?|up|upwards|above|straightens)\b", "up"),
    (r"\b(?:lowers?|drops?|down|downwards|bends down|bows|squats?|sits?)\b", "down"),
    (r"\b(?:forwards?|pushes|push|kicks?|reaches|front)\b", "forward"),
    (r"\b(?:back|backwards|pulls?|behind)\b", "back"),
    (r"\b(?:moves left|leans left|steps left|tilts left|to the left)\b", "left"),
    (r"\b(?:moves right|leans right|steps right|tilts right|to the right)\b", "right"),
]
_STILL = re.compile(r"\b(?:stays? still|still|does not move|motionless|stationary)\b")
_RETURN = re.compile(r"\b(?:comes back|goes back|turns back|returns)\b")
_PAIR = [(r"closer|approach|towards", "closer"), (r"apart|away", "apart")]


def _clauses(text: str) -> list[str]:
    t = text.lower()
    for phrase in ("up and down", "back and forth", "side to side"):
        t = t.replace(phrase, phrase.replace(" ", "_"))
    parts = re.split(r"[,.;:]| then | and | while | before | after ", t)
    return [p.replace("_", " ").strip() for p in parts if p.strip()]


def claims(text: str) -> list[tuple[str, str]]:
    """(part, what) pairs an explanation asserts; what is a direction, 'axis<k>', 'still' or
    'moving'. A clause naming no part inherits the previous clause's part ("..., then lowers");
    a bare part shares the next clause's predicate ("the torso and legs stay still")."""
    out: list[tuple[str, str]] = []
    last: tuple[str, ...] = ()
    pending: tuple[str, ...] = ()
    for clause in _clauses(text):
        m, named = _subject(clause)
        if m:
            last = pending + named
            rest = clause[m.end():].strip()
            if not rest:
                pending = last
                continue
        elif not last:
            continue
        else:
            rest = clause
        pending = ()
        for part in last:
            out += [(part, what) for what in _what(part, rest)]
    return out + [(part, "moving") for part in pending]


def _what(part: str, rest: str) -> list[str]:
    if part == "pair":
        return [name for pat, name in _PAIR if re.search(pat, rest)] or ["moving"]
    if _STILL.search(rest):
        return ["still"]
    if _RETURN.search(rest):  # "comes back level": a return to rest, no direction
        return ["moving"]
    found = [f"axis{axis}" for pat, axis in _OSCILLATIONS if re.search(pat, rest)]
    if not found:
        found = [name for pat, name in _DIRECTION_WORDS if re.search(pat, rest)]
    return found or ["moving"]


def supported(part: str, what: str, facts: set[str]) -> bool:
    if "|" in part:  # an unsided limb: either side may show a motion; "still" needs both
        sides = [supported(p, what, facts) for p in part.split("|")]
        return all(sides) if what == "still" else any(sides)
    if what == "still":
        return f"{part}|moving" not in facts
    if what.startswith("axis"):
        axis = int(what[4:])
        return any(f"{part}|{name}" in facts for (a, _), name in _DIRS.items() if a == axis)
    return f"{part}|{what}" in facts


def grounding(text: str, facts: list[str]) -> float | None:
    """Share of the text's claims the facts support; None when it names no body part."""
    found = claims(text or "")
    if not found:
        return None
    fact_set = set(facts)
    return sum(supported(p, w, fact_set) for p, w in found) / len(found)


def grounding_scores(texts: list[str], facts: list) -> list[float | None]:
    return [grounding(t, f) if f is not None else None for t, f in zip(texts, facts)]
