"""Grounding: do an explanation's claims, in their order, match the motion events of the clip?

Facts (computed by the runner from the test skeletons at predict time, stored per sample in
Predictions.extra["motion_facts"], so reports need no data): the clip is put in its first
performer's body frame (x = performer's left, y = up, z = forward, spine-length units, fixed at
the first frame), smoothed over 5 frames; each body part is tracked by its end joint relative to
the spine base (the spine base itself for the whole body). Per clip:
  {"seconds": clip length, "range": {part: largest extent on any axis},
   "events": [[part, kind, start_s, end_s], ...]}
with kinds
  up / down / left / right / forward / back  a one-way move on that axis: a turn-to-turn leg of
      the trajectory (turning points found with hysteresis THRESHOLD) covering more than
      THRESHOLD; its time is where it passes 10% and 90% of the leg;
  osc0 / osc1 / osc2  an oscillation on x / y / z: at least OSC_LEGS consecutive legs of more
      than OSC_THRESHOLD, each under OSC_LEG_SECONDS;
  turn  (part "body") the shoulder line turns by more than TURN_DEGREES (a claim that the torso
      turns or twists is checked against it);
  down / back  (part "head", besides its position's moves) the head tilts forward (looks down)
      or back relative to the spine by more than HEAD_DEGREES: a nod barely moves the head joint;
  closer / apart  (part "pair") the two persons' spine bases come closer / move apart by more
      than THRESHOLD. The second person's own parts are left out.
Claims (parsed from the text): phases split at "then" and sentence ends, parts within a phase at
"while" / "and" / commas; each part clause names a subject and what it does: a direction
("rises" -> up, "moves outward" -> away from the body's midline), an oscillation ("moves up and
down" -> osc1), "turns", "stays" (-> still), or nothing recognisable (-> any event of the part).
Not checked (left out of the score): landmarks ("to the mouth", ...); the head turning or shaking
(one head joint shows no yaw); what the second person's own parts do ("the second person's torso
leans back", and "their ..." clauses after it in the same phase), since facts leave them out.

Score of one clip (`grounding`): F1 of
  precision  share of claims matched in order: a claim is matched by an unused event of its part
             and kind that starts no earlier than SLACK_SECONDS before the earliest event matched
             in the previous phase; a "still" claim by a stretch of at least STILL_SECONDS, after
             that time, in which the part has no event (a sentence that only says parts rest, "the
             torso and legs stay still", speaks of the whole clip: no event of the part at
             all). A matched "still" claim is left out (a
             true claim of rest is cheap: most parts rest most of the time), a false one counts
             as a miss; a text of true "still" claims only has precision 1;
  recall     share of the clip's salient parts (range above SALIENT) the text says move ("the
             body" also names the legs, "the torso" the head; with no salient part, recall is 1).
Facts stored by older versions (lists of "part|direction" strings, no times) are read as events
at time 0, so their order is not checked.
"""
from __future__ import annotations

import re

import numpy as np

THRESHOLD = 0.2  # spine lengths (~10 cm): parts a description calls still stay under ~0.13
OSC_THRESHOLD = 0.1  # smaller swings count inside an oscillation (scrubbing, tapping)
OSC_LEGS = 3  # a rise and a lowering (2 legs) is not an oscillation
OSC_LEG_SECONDS = 1.0
TURN_DEGREES = 45.0
HEAD_DEGREES = 10.0  # a tilt a description calls "looks down" / "tilts back"
SALIENT = 0.4  # spine lengths: a part that covers this much should be named
STILL_SECONDS = 0.5
SLACK_SECONDS = 0.25  # parts of one phase start a little apart
PARTS = ("head", "torso", "left hand", "right hand", "left leg", "right leg", "body")
_AXIS_NAMES = (("right", "left"), ("down", "up"), ("back", "forward"))  # (negative, positive)
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
    from bench.data.body import KIN_PARTS, PART_END_JOINT, joint_index

    base = joint_index(layout, ("spine base", "hip centre"))
    ends = [joint_index(layout, PART_END_JOINT[p]) for p in KIN_PARTS]
    body = _smooth(y.astype(np.float64))  # (n, V, 3) of one person
    return np.concatenate([body[:, ends] - body[:, base][:, None], body[:, base][:, None]], 1)


def turning_points(x: np.ndarray, h: float) -> list[int]:
    """The zig-zag of x with hysteresis h: indices of its turning points (an extreme from which
    the signal turned back by more than h), the last extreme, and the last sample."""
    n = len(x)
    if n < 2:
        return list(range(n))
    pivots, trend, lo, hi, ext = [0], 0, 0, 0, 0  # trend: +1 rising, -1 falling, 0 unknown
    for i in range(1, n):
        if trend == 0:  # until the signal has moved by h, its first extreme is not known
            lo, hi = (i if x[i] < x[lo] else lo), (i if x[i] > x[hi] else hi)
            if x[hi] - x[lo] > h:
                trend, pivots, ext = (1 if lo < hi else -1), [min(lo, hi)], max(lo, hi)
        elif trend * (x[i] - x[ext]) > 0:
            ext = i
        elif trend * (x[ext] - x[i]) > h:
            pivots.append(ext)
            trend, ext = -trend, i
    if trend != 0 and ext != pivots[-1]:
        pivots.append(ext)
    return pivots + ([n - 1] if pivots[-1] != n - 1 else [])


def _leg_times(x: np.ndarray, a: int, b: int, fps: float) -> tuple[float, float]:
    """When the leg a->b passes 10% and 90% of its change (its start without the rest around)."""
    seg = (x[a:b + 1] - x[a]) / (x[b] - x[a])
    start = a + int(np.argmax(seg >= 0.1))
    end = a + int(np.argmax(seg >= 0.9))
    return start / fps, end / fps


def _legs(x: np.ndarray, h: float, fps: float) -> list[tuple[int, float, float, float]]:
    """(sign, change, start_s, end_s) of each leg of the zig-zag that changes by more than h."""
    pts = turning_points(x, h)
    out = []
    for a, b in zip(pts, pts[1:]):
        change = float(x[b] - x[a])
        if abs(change) > h:
            out.append((1 if change > 0 else -1, change, *_leg_times(x, a, b, fps)))
    return out


def _axis_events(part: str, axis: int, x: np.ndarray, fps: float) -> list[list]:
    events = [[part, _AXIS_NAMES[axis][sign > 0], s, e] for sign, _, s, e in _legs(x, THRESHOLD,
                                                                                      fps)]
    run: list = []
    for leg in _legs(x, OSC_THRESHOLD, fps) + [None]:  # None flushes the last run
        if leg is not None and leg[3] - leg[2] <= OSC_LEG_SECONDS:
            run.append(leg)
            continue
        if len(run) >= OSC_LEGS:
            events.append([part, f"osc{axis}", run[0][2], run[-1][3]])
        run = []
    return events


def _turn_events(y: np.ndarray, layout, fps: float) -> list[list]:
    from bench.data.body import joint_index

    lateral = y[:, joint_index(layout, "left shoulder")] - y[:, joint_index(layout,
                                                                         "right shoulder")]
    yaw = np.degrees(np.unwrap(np.arctan2(lateral[:, 2], lateral[:, 0])))
    return [["body", "turn", s, e] for _, _, s, e in _legs(_smooth(yaw), TURN_DEGREES, fps)]


def _head_tilt_events(y: np.ndarray, layout, fps: float) -> list[list]:
    """The head's pitch against the spine (sagittal plane): + tilts forward, i.e. looks down."""
    from bench.data.body import body_joints

    j = body_joints(layout)
    neck, spine = y[:, j.head] - y[:, j.top], y[:, j.top] - y[:, j.base]
    pitch = np.degrees(np.arctan2(neck[:, 2], neck[:, 1]) - np.arctan2(spine[:, 2], spine[:, 1]))
    return [["head", "down" if sign > 0 else "back", s, e]
            for sign, _, s, e in _legs(_smooth(pitch), HEAD_DEGREES, fps)]


def clip_facts(keypoint: np.ndarray, num_frames: int, layout, fps: float) -> dict:
    """Facts of one clip (M, T, V, C): see the module docstring."""
    from bench.data.body import normalise_clip, with_virtual_joints

    keypoint, layout = with_virtual_joints(keypoint, layout)  # 2D poses: joints they lack
    y, present = normalise_clip(keypoint, int(num_frames), layout)
    own = y[0][present[0]]
    tracks = _part_tracks(own, layout)
    events, ranges = [], {}
    for j, part in enumerate(PARTS):
        if len(tracks):
            ranges[part] = float(np.ptp(tracks[:, j], axis=0).max())
        for axis in range(3):
            events += _axis_events(part, axis, tracks[:, j, axis], fps)
    if len(own) > 1:
        events += _turn_events(own, layout, fps) + _head_tilt_events(own, layout, fps)
    if y.shape[0] > 1:
        both = present[0] & present[1]
        if both.sum() > 1:
            dist = _smooth(np.linalg.norm(y[1, both, 0] - y[0, both, 0], axis=-1))
            ranges["pair"] = float(np.ptp(dist))
            events += [["pair", "apart" if sign > 0 else "closer", s, e]
                       for sign, _, s, e in _legs(dist, THRESHOLD, fps)]
    events.sort(key=lambda ev: (ev[2], ev[0], ev[1]))
    return {"seconds": round(max(len(own) - 1, 0) / fps, 3),
            "range": {k: round(v, 3) for k, v in ranges.items()},
            "events": [[p, k, round(s, 3), round(e, 3)] for p, k, s, e in events]}


def skeleton_facts(keypoint: np.ndarray, num_frames: np.ndarray, layout,
                   fps: float) -> list[dict]:
    """Per clip (keypoint (N, M, T, V, 3)), its facts (see the module docstring)."""
    return [clip_facts(keypoint[i], int(num_frames[i]), layout, fps)
            for i in range(len(num_frames))]


def _from_old_facts(facts: list[str]) -> dict:
    """Facts stored before events had times ("part|direction", "part|moving"): events at 0."""
    events, ranges = [], {}
    for fact in facts:
        part, what = fact.split("|")
        if what == "moving":
            ranges[part] = float("inf")  # it moved, by how much is unknown: salient
        else:
            events.append([part, what, 0.0, 0.0])
    for part in {e[0] for e in events}:  # an old swing fact holds both directions of an axis
        kinds = {e[1] for e in events if e[0] == part}
        events += [[part, f"osc{a}", 0.0, 0.0] for a, pair in enumerate(_AXIS_NAMES)
                   if set(pair) <= kinds]
    return {"seconds": 0.0, "range": ranges, "events": events}


# ---- claims from text --------------------------------------------------------------------------

_SUBJECTS = [  # (pattern, parts it names); longer patterns first
    (r"both (?:hands|arms|wrists)", ("left hand", "right hand")),
    (r"both (?:legs|feet|knees)", ("left leg", "right leg")),
    (r"left (?:hand|arm|wrist|elbow|forearm)", ("left hand",)),
    (r"right (?:hand|arm|wrist|elbow|forearm)", ("right hand",)),
    (r"left (?:leg|foot|knee|ankle)", ("left leg",)),
    (r"right (?:leg|foot|knee|ankle)", ("right leg",)),
    (r"(?:hands|arms)", ("left hand|right hand",)),  # unsided: either side may show it
    (r"(?:legs|feet)", ("left leg|right leg",)),
    (r"(?:hand|arm|wrist)", ("left hand|right hand",)),
    (r"(?:leg|foot|knee)", ("left leg|right leg",)),
    (r"(?:two|both) (?:people|persons|performers)|each other", ("pair",)),
    (r"head", ("head",)),
    (r"(?:torso|trunk|upper body|spine|chest)", ("torso",)),
    (r"(?:whole body|body|person|performer)", ("body",)),
]
_SUBJECT_RES = [(re.compile(rf"\b(?:{p})\b"), parts) for p, parts in _SUBJECTS]
_LANDMARK = re.compile(r"\b(?:to|towards|above) the (?:mouth|head|chest|hip|side|floor)\b")
_PREDICATES = [  # (pattern, kinds any of which supports the claim); first match wins
    (r"\b(?:stays?|still|does not move|motionless|stationary)\b", ("still",)),
    (r"\b(?:comes back|goes back|turns back|returns)\b", ("any",)),  # a return: no direction
    (r"up and down|\bbob|\bbounces|\bnods", ("osc1",)),
    (r"back and forth|\brocks|\bswings", ("osc2",)),
    (r"side to side|\bwaves|\bshakes|\bsways", ("osc0",)),
    (r"\b(?:turns|twists)\b", ("turn",)),
    (r"\bbends forward|\bbows|\bleans forward", ("forward", "down")),
    (r"\bstraightens", ("up", "back")),
    (r"\b(?:sits?|squats?|crouch\w*|kneels?)\b", ("down",)),
    (r"\b(?:stands? up|jumps?|hops?)\b", ("up",)),
    (r"\bwalks? (?:forward|towards)|\bsteps forward", ("forward",)),
    (r"\bwalks? (?:back|away)|\bsteps back", ("back",)),
    (r"\boutward|\bkicks? out", ("out",)),
    (r"\binward", ("in",)),
    (r"\b(?:rises?|raises?|lifts?|up|upwards)\b", ("up",)),
    (r"\b(?:lowers?|drops?|down|downwards)\b", ("down",)),
    (r"\b(?:forwards?|pushes|push|kicks?|reaches)\b", ("forward",)),
    (r"\b(?:back|backwards|pulls?|draws? back|leans back|tilts back)\b", ("back",)),
    (r"\bto the left\b|\bleft\b", ("left",)),
    (r"\bto the right\b|\bright\b", ("right",)),
]
_PREDICATE_RES = [(re.compile(p), kinds) for p, kinds in _PREDICATES]
_PAIR = [(re.compile(r"closer|approach|towards|inward|forward"), ("closer",)),
         (re.compile(r"apart|away|outward|back"), ("apart",))]
_KEEP_TOGETHER = ("up and down", "back and forth", "side to side", "stands up")
_UNOBSERVED = {("head", "turn"), ("head", "osc0")}  # yaw of a single head joint
_SECOND_PERSON = re.compile(r"^(?:the )?(?:second|other) person\b")  # its subject, not a landmark
_THEIR = re.compile(r"^(?:their|his|her)\b")


def _phases(text: str) -> list[tuple[bool, list[str]]]:
    """Phases (split at "then" and sentence ends) of part clauses (split at while/and/commas),
    each with whether it opens a sentence."""
    t = text.lower()
    for phrase in _KEEP_TOGETHER:
        t = t.replace(phrase, phrase.replace(" ", "_"))
    out = []
    for sentence in re.split(r"[.;:]", t):
        for k, phase in enumerate(re.split(r"\bthen\b", sentence)):
            parts = [p.replace("_", " ").strip() for p in re.split(r",| while | and ", phase)]
            if any(parts):
                out.append((k == 0, [p for p in parts if p]))
    return out


def _subject(clause: str):
    for rx, parts in _SUBJECT_RES:
        m = rx.search(clause)
        if m:
            return m, parts
    return None, ()


def _kinds(part: str, rest: str) -> tuple[str, ...]:
    if part == "pair":
        return next((k for rx, k in _PAIR if rx.search(rest)), ("any",))
    rest = _LANDMARK.sub(" ", rest)
    return next((k for rx, k in _PREDICATE_RES if rx.search(rest)), ("any",))


def ordered_claims(text: str) -> list[tuple[int, str, tuple[str, ...]]]:
    """(phase, part, kinds) an explanation asserts, in order. A clause naming no part inherits
    the previous clause's part ("..., then lowers"); a bare part shares the next clause's
    predicate ("the torso and legs stay still"). A sentence that only says parts rest speaks of
    the whole clip: its kinds are ("still", "throughout")."""
    out: list = []
    last: tuple[str, ...] = ()
    for k, (opens_sentence, phase) in enumerate(_phases(text or "")):
        first = len(out)
        pending: tuple[str, ...] = ()
        second = False  # inside the second person's clauses: not checkable
        for clause in phase:
            second = bool(_SECOND_PERSON.match(clause)) or (second and bool(_THEIR.match(clause)))
            if second:
                continue
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
            out += [(k, part, kinds) for part in last
                    if (part, (kinds := _kinds(part, rest))[0]) not in _UNOBSERVED]
        out += [(k, part, ("any",)) for part in pending]
        if opens_sentence and len(out) > first and all(c[2] == ("still",) for c in out[first:]):
            out[first:] = [(k, part, ("still", "throughout")) for _, part, _ in out[first:]]
    return out


_OLD_WHAT = {"any": "moving", "osc0": "axis0", "osc1": "axis1", "osc2": "axis2"}


def claims(text: str) -> list[tuple[str, str]]:
    """(part, what) pairs without phases (what: a direction, 'axis<k>' for an oscillation,
    'turn', 'still' or 'moving'; the first of a claim's alternatives): for code that compares
    claims as sets (LVLM-VAR's cited tokens)."""
    return [(part, _OLD_WHAT.get(kinds[0], kinds[0])) for _, part, kinds in ordered_claims(text)]


# ---- matching ----------------------------------------------------------------------------------

def _resolve(part: str, kind: str) -> str:
    """'out' / 'in' are away from / towards the midline: left for the left side, else right."""
    if kind not in ("out", "in"):
        return kind
    left_side = part.startswith("left")
    return "left" if (kind == "out") == left_side else "right"


def _still_stretches(part: str, facts: dict) -> list[tuple[float, float]]:
    """Stretches of the clip in which `part` has no event."""
    busy = sorted((s, e) for p, _, s, e in facts["events"] if p == part)
    out, t = [], 0.0
    for s, e in busy:
        if s > t:
            out.append((t, s))
        t = max(t, e)
    return out + ([(t, facts["seconds"])] if facts["seconds"] > t else [])


def _match(part: str, kinds: tuple[str, ...], facts: dict, after: float,
           used: set) -> float | None:
    """Start time of the earliest unused event that supports the claim, from `after` on."""
    best = None
    if part == "torso" and "turn" in kinds:
        part = "body"  # the shoulder line's turn
    for sub in part.split("|"):  # an unsided limb: either side may show it
        if "still" in kinds:
            if facts["seconds"] == 0.0:  # old facts: still means never moving
                ok = facts["range"].get(sub, 0.0) < THRESHOLD
                return 0.0 if ok and not any(p == sub for p, *_ in facts["events"]) else None
            for s, e in _still_stretches(sub, facts):
                start = max(s, after)
                if e - start >= STILL_SECONDS:
                    best = start if best is None else min(best, start)
                    break
            continue
        wanted = {_resolve(sub, k) for k in kinds}
        for i, (p, kind, s, _) in enumerate(facts["events"]):
            if (p == sub and i not in used and s >= after - SLACK_SECONDS
                    and ("any" in wanted or kind in wanted)):
                if best is None or s < best:
                    best, chosen = s, i
                break
    if best is not None and "still" not in kinds:
        used.add(chosen)
    return best


def precision_in_order(found: list, facts: dict) -> float:
    """Share of claims matched in order (see the module docstring). A "still" claim is cheap to
    make true (most parts rest most of the time): it counts only when false, as a miss."""
    used: set = set()
    after, phase, starts, hits, counted = 0.0, None, [], 0, 0
    for k, part, kinds in found:
        if k != phase:
            after = min(starts) if starts else after
            phase, starts = k, []
        if "throughout" in kinds:  # "the torso and legs stay still": all clip long
            t = None if any(p in part.split("|") for p, *_ in facts["events"]) else 0.0
        else:
            t = _match(part, kinds, facts, after, used)
        if "still" in kinds:
            counted += t is None
            continue
        counted += 1
        if t is not None:
            hits += 1
            starts.append(t)
    return hits / counted if counted else 1.0


_CARRIES = {"body": ("left leg", "right leg"), "torso": ("head",)}  # parts that ride along


def _named(found: list) -> set[str]:
    """Parts the text says move ("the legs stay still" does not name moving legs)."""
    named = {p for _, part, kinds in found if "still" not in kinds for p in part.split("|")}
    return named | {c for p in named for c in _CARRIES.get(p, ())}


def recall_of_salient(found: list, facts: dict) -> float:
    salient = {p for p, r in facts["range"].items() if r > SALIENT}
    return len(salient & _named(found)) / len(salient) if salient else 1.0


def grounding(text: str, facts) -> float | None:
    """F1 of in-order precision and salient-part recall; None when the text names no part."""
    found = ordered_claims(text or "")
    if not found or facts is None:
        return None
    if isinstance(facts, list):
        facts = _from_old_facts(facts)
    p, r = precision_in_order(found, facts), recall_of_salient(found, facts)
    return 2 * p * r / (p + r) if p + r > 0 else 0.0


def grounding_scores(texts: list[str], facts: list) -> list[float | None]:
    return [grounding(t, f) for t, f in zip(texts, facts)]
