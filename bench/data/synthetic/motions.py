"""Motion primitives for the synthetic NTU generator, and how a program of them is performed.

A program is a sequence of phases; in each phase every person runs a few acts at once (an act
is one primitive: what moves, and how to say it). Performing a program turns it into per-frame
channel tracks for the skeleton (see `bench.data.synthetic.generator`) and into the plain-English
description of what was actually performed.

Channels, in reference-body units (a 1.70 m adult; `synthetic` scales them per performer).
"dom"/"off" stand for the performer's dominant and other side, resolved to right/left at the end:
  dom_hand, off_hand  wrist position in the torso frame, relative to the spine-shoulder joint:
                      (outwards, up, forwards) in metres
  dom_foot, off_foot  ankle offset from its standing place on the floor: (outwards, up, forwards)
  head                (turn towards the dominant side, bow down) in degrees
  torso               (bend forwards, lean towards the dominant side, twist towards it) in degrees
  body                pelvis offset (towards the dominant side, up, forwards) in metres, and a
                      turn of the whole body towards the dominant side in degrees
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

REST = {
    "dom_hand": (0.20, -0.52, 0.04), "off_hand": (0.20, -0.52, 0.04),
    "dom_foot": (0.0, 0.0, 0.0), "off_foot": (0.0, 0.0, 0.0),
    "head": (0.0, 0.0), "torso": (0.0, 0.0, 0.0), "body": (0.0, 0.0, 0.0, 0.0),
}
CHANNELS = tuple(REST)
_ANGULAR = {"head", "torso"}
_KEEP = float("nan")  # a target component that keeps its current value

# Wrist places: (outwards, up, forwards) from the spine shoulder, and the words for them.
PLACES = {
    "side": (REST["dom_hand"], "side of the body"),
    "thigh": ((0.13, -0.45, 0.25), "thigh"),
    "pocket": ((0.17, -0.50, 0.12), "trouser pocket"),
    "back": ((0.10, -0.40, -0.16), "lower back"),
    "belly": ((0.06, -0.30, 0.17), "belly"),
    "lap": ((0.13, -0.30, 0.30), "front of the belly"),
    "chest": ((0.04, -0.10, 0.15), "chest"),
    "centre": ((0.04, -0.12, 0.30), "front of the chest"),
    "cross": ((-0.12, -0.08, 0.20), "opposite side of the chest"),
    "shoulder": ((-0.15, -0.03, 0.10), "opposite shoulder"),
    "neck": ((0.05, 0.05, 0.10), "neck"),
    "mouth": ((0.04, 0.13, 0.15), "mouth"),
    "nose": ((0.03, 0.17, 0.16), "nose"),
    "eyes": ((0.06, 0.19, 0.15), "eyes"),
    "ear": ((0.13, 0.19, 0.03), "ear"),
    "forehead": ((0.10, 0.25, 0.12), "forehead"),
    "head": ((0.09, 0.31, 0.02), "top of the head"),
    "behind_head": ((0.16, 0.30, -0.14), "back of the head"),
    "face": ((0.09, 0.15, 0.32), "front of the face"),
    "forward": ((0.12, -0.03, 0.52), "front at chest height"),
    "forward_high": ((0.14, 0.22, 0.48), "front at eye level"),
    "forward_low": ((0.15, -0.40, 0.40), "front at hip height"),
    "raised": ((0.36, 0.28, 0.06), "side of the head"),
    "overhead": ((0.16, 0.60, 0.06), "space above the head"),
    "out": ((0.66, -0.03, 0.02), "side at shoulder height"),
    "wind_up": ((0.30, 0.25, -0.25), "space behind the shoulder"),
    "floor": ((0.16, -0.55, 0.30), "floor"),
    "across_low": ((-0.12, -0.50, 0.35), "opposite foot"),
    "front_mid": ((0.15, -0.10, 0.42), "front of the body"),
    "selfie": ((0.25, 0.25, 0.42), "front of the face at arm's length"),
    "swing_back": ((0.42, -0.12, -0.30), "space behind the body"),
    "own_shoulder": ((0.15, 0.05, 0.05), "shoulder"),
    "box_sides": ((0.30, -0.20, 0.30), "sides of the box"),
    "folded": ((-0.10, -0.20, 0.12), "opposite elbow"),
    "hand_back": ((-0.05, -0.08, 0.32), "back of the other hand"),
    # Reaches towards a second person standing about an arm's length away.
    "partner_chest": ((0.10, -0.05, 0.55), "other person's chest"),
    "partner_shoulder": ((0.02, 0.00, 0.50), "other person's back"),
    "partner_hand": ((0.08, -0.18, 0.46), "space between the two persons"),
    "partner_pocket": ((0.10, -0.42, 0.45), "other person's pocket"),
    "partner_high": ((0.16, 0.30, 0.42), "raised hand of the other person"),
    "hug": ((-0.04, -0.06, 0.36), "other person's back in a hug"),
}


@dataclass(frozen=True)
class Move:
    """One channel in one phase: go to `target` (NaN parts keep their value), plus an
    oscillation of amplitude `osc` and `cycles` cycles over the phase."""

    channel: str
    target: tuple | None = None
    relative: bool = False  # target is an offset from the current value
    osc: tuple | None = None
    cycles: float = 0.0
    wave: str = "sin"  # "sin", "bounce" (|sin|: jumps, hops) or "lift" (the positive half)
    shift: float = 0.0  # phase shift in cycles: alternating hands or feet
    ease: str = "smooth"  # "smooth" or "linear" (walking)


@dataclass(frozen=True)
class Act:
    """A primitive: its moves, an English template and the body parts it moves."""

    moves: tuple[Move, ...]
    text: str  # placeholders: who, subj, dom, off, tempo, rises, rise
    parts: tuple[str, ...]


@dataclass(frozen=True)
class Phase:
    seconds: float  # duration at speed 1
    acts: tuple[tuple[Act, ...], ...]  # one tuple of acts per person


@dataclass(frozen=True)
class Program:
    phases: tuple[Phase, ...]
    persons: int = 1
    spacing: float = 1.0  # metres between the two persons' pelvises
    start: tuple[dict, ...] = ({},)  # per person: channel values that differ from REST at start


@dataclass
class Performance:
    num_frames: int
    tracks: list[dict[str, np.ndarray]]  # per person: channel -> (T, dims) float64
    description: str
    parts: list[str]  # body part names (bench.data.layouts.NTU25.parts) that moved


# ---- primitives ---------------------------------------------------------------------------

_HAND_WORDS = {"dom": "{who} {dom} hand", "off": "{who} {off} hand", "both": "{both}"}
_ARM_PARTS = {"dom": ("{dom} arm",), "off": ("{off} arm",), "both": ("right arm", "left arm")}
_LEGS = ("right leg", "left leg")


def _hands(h: str) -> tuple[str, ...]:
    return ("dom_hand", "off_hand") if h == "both" else (f"{h}_hand",)


def hand_to(h: str, place: str) -> Act:
    xyz, words = PLACES[place]
    verb = "{rise}" if h == "both" else "{rises}"
    return Act(tuple(Move(c, xyz) for c in _hands(h)),
               f"{_HAND_WORDS[h]} {{tempo}}{verb} to the {words}", _ARM_PARTS[h])


def hand_osc(h: str, amp, cycles: float, words: str, wave: str = "sin",
             alternate: bool = False) -> Act:
    """Oscillate a hand (or both, in step or alternating) around where it is."""
    moves = tuple(Move(c, osc=tuple(amp), cycles=cycles, wave=wave, shift=0.5 * i * alternate)
                  for i, c in enumerate(_hands(h)))
    return Act(moves, f"{_HAND_WORDS[h]} {{tempo}}{words}", _ARM_PARTS[h])


def head_to(turn=_KEEP, bow=_KEEP, words: str = "") -> Act:
    return Act((Move("head", (turn, bow)),), f"{{who}} head {{tempo}}{words}", ("head",))


def head_osc(turn: float, bow: float, cycles: float, words: str) -> Act:
    return Act((Move("head", osc=(turn, bow), cycles=cycles),), f"{{who}} head {{tempo}}{words}",
               ("head",))


def torso_to(bend=_KEEP, lean=_KEEP, twist=_KEEP, words: str = "") -> Act:
    return Act((Move("torso", (bend, lean, twist)),), f"{{who}} torso {{tempo}}{words}",
               ("torso",))


def torso_osc(amp, cycles: float, words: str) -> Act:
    return Act((Move("torso", osc=tuple(amp), cycles=cycles),), f"{{who}} torso {{tempo}}{words}",
               ("torso",))


def foot_to(f: str, target, words: str) -> Act:
    return Act((Move(f"{f}_foot", tuple(target)),), f"{{who}} {{{f}}} foot {{tempo}}{words}",
               (f"{{{f}}} leg",))


def feet_osc(amp, cycles: float, words: str, wave: str = "lift") -> Act:
    """Both feet in alternation: running on the spot, butt kicks."""
    moves = tuple(Move(f"{f}_foot", osc=tuple(amp), cycles=cycles, wave=wave, shift=0.5 * i)
                  for i, f in enumerate(("dom", "off")))
    return Act(moves, f"{{subj}} {{tempo}}{words}", _LEGS)


def body_to(target, words: str, parts=_LEGS, relative: bool = False) -> Act:
    return Act((Move("body", tuple(target), relative=relative),), f"{{subj}} {{tempo}}{words}",
               tuple(parts))


def jump(height: float, times: int, words: str, lifted: str | None = None) -> Act:
    """The pelvis and the feet bounce together; `lifted` names a foot kept off the floor."""
    feet = [f for f in ("dom", "off") if f != lifted]
    moves = (Move("body", osc=(0, height, 0, 0), cycles=times, wave="bounce"),) + tuple(
        Move(f"{f}_foot", osc=(0, height, 0), cycles=times, wave="bounce") for f in feet)
    return Act(moves, f"{{subj}} {{tempo}}{words}", _LEGS + ("torso",))


def walk(distance: float, steps: int, words: str, sideways: bool = False) -> Act:
    """Pelvis and feet travel together; the feet swing in alternation and lift as they swing."""
    axis = 0 if sideways else 2
    travel = np.zeros(3)
    travel[axis] = distance
    stride = np.zeros(3)
    stride[axis] = 0.75 * abs(distance) / max(steps, 1)  # each foot swings past the pelvis
    moves = [Move("body", tuple(np.r_[travel, 0.0]), relative=True, ease="linear")]
    for i, f in enumerate(("dom", "off")):
        moves += [Move(f"{f}_foot", tuple(travel), relative=True, ease="linear",
                       osc=tuple(stride), cycles=steps / 2, shift=0.5 * i),
                  Move(f"{f}_foot", osc=(0, 0.07, 0), cycles=steps / 2, wave="lift",
                       shift=0.5 * i + 0.25)]
    return Act(tuple(moves), f"{{subj}} {{tempo}}{words}", _LEGS)


def turn_around(degrees: float = 180.0) -> Act:
    return Act((Move("body", (0, 0, 0, degrees), relative=True),), "{subj} {tempo}turns around",
               _LEGS + ("torso",))


# ---- performing a program -------------------------------------------------------------------

@dataclass(frozen=True)
class Variation:
    """How one performer, in one take, performs: a per-sample draw of these."""

    speed: float = 1.0  # > 1 is faster
    style: float = 1.0  # scales angles, body displacements and oscillation amplitudes
    right_handed: bool = True


def perform(program: Program, variations, rng: np.random.Generator, *, fps: float = 30.0,
            min_frames: int = 48, max_frames: int = 84) -> Performance:
    """Run a program: variations holds one Variation per person (or one for all); the first
    person sets the tempo, each person their own handedness and style."""
    if isinstance(variations, Variation):
        variations = [variations] * program.persons
    bounds, seconds = _timeline(program, variations[0], rng, fps, min_frames, max_frames)
    person_words = (("the", "the person"),) if program.persons == 1 else (
        ("the first person's", "the first person"), ("the second person's", "the second person"))
    tracks, clauses, parts = [], [[] for _ in program.phases], set()
    for p, var in zip(range(program.persons), variations):
        start = {c: np.asarray(program.start[p].get(c, REST[c]), float) for c in CHANNELS}
        track, said = _person_tracks(program, p, start, bounds, seconds, var, rng)
        _add_idle_sway(track, rng, fps)
        tracks.append(track)
        sides = {"dom": "right", "off": "left"} if var.right_handed else {"dom": "left",
                                                                           "off": "right"}
        for k, acts in enumerate(said):
            clauses[k] += _person_clauses(acts, person_words[p], sides, program.persons)
        parts |= {part.format(**sides) for ph in program.phases for act in ph.acts[p]
                  for part in act.parts}
    return Performance(int(bounds[-1]), tracks, _describe(clauses, seconds[1:-1], parts),
                       sorted(parts))


def _timeline(program, var, rng, fps, min_frames, max_frames):
    """Frame bounds of [lead-in, phases..., tail]; durations jittered and fitted to the limits."""
    phase_s = [ph.seconds * rng.uniform(0.85, 1.15) / var.speed for ph in program.phases]
    seconds = np.array([rng.uniform(0.1, 0.35), *phase_s, rng.uniform(0.1, 0.35)])
    frames = seconds.sum() * fps
    seconds *= np.clip(frames, min_frames, max_frames) / frames
    frames = np.diff(np.round(np.cumsum(np.r_[0.0, seconds]) * fps).astype(int))
    bounds = np.r_[0, np.cumsum(np.maximum(frames, 2))]  # >= 2 frames per phase
    return bounds, np.diff(bounds) / fps


def _person_tracks(program, p, start, bounds, seconds, var, rng):
    """Channel tracks of person p, and per phase the (template, words) of each act."""
    T = int(bounds[-1])
    track = {c: np.repeat(v[None], T, axis=0) for c, v in start.items()}
    current = dict(start)
    said = []
    for k, phase in enumerate(program.phases, start=1):
        b0, b1 = bounds[k], bounds[k + 1]
        u = np.arange(1, b1 - b0 + 1) / (b1 - b0)
        acts_said = []
        for act in phase.acts[p]:
            lead = act.moves[0]
            before = current[lead.channel].copy()
            for move in act.moves:
                _apply(move, track[move.channel], current, b0, b1, u, var, rng)
            acts_said.append((act.text, _act_words(lead, before, current[lead.channel],
                                                   seconds[k])))
        for c in CHANNELS:  # hold the reached values until the next change
            track[c][b1:] = current[c]
        said.append(acts_said)
    return track, said


def _add_idle_sway(track, rng, fps):
    """Nobody stands perfectly still: a slow, small drift of torso and head on top of the
    program (a degree or two; well below any described movement)."""
    T = len(track["torso"])
    t = np.arange(T) / fps
    for channel, amp in (("torso", (1.5, 1.0, 1.5)), ("head", (3.0, 2.0))):
        freq = rng.uniform(0.15, 0.5, len(amp))
        phase = rng.uniform(0, 2 * np.pi, len(amp))
        track[channel] = track[channel] + np.sin(2 * np.pi * freq * t[:, None] + phase) * amp


def _apply(move, values, current, b0, b1, u, var, rng):
    c = move.channel
    if move.target is not None:
        goal = _goal(move, current[c], var, rng)
        ramp = u if move.ease == "linear" else u * u * (3 - 2 * u)
        values[b0:b1] = current[c] + (goal - current[c]) * ramp[:, None]
        current[c] = goal
    if move.osc is not None:
        amp = np.asarray(move.osc, float) * var.style * rng.uniform(0.85, 1.15)
        values[b0:b1] += _wave(move, u)[:, None] * amp


def _goal(move, now, var, rng):
    target = np.asarray(move.target, float)
    goal = now + np.nan_to_num(target) if move.relative else np.where(np.isnan(target), now, target)
    if move.channel.endswith("_hand"):  # places are places: jitter them, never scale them
        return goal + rng.normal(0.0, 0.015, 3)
    if move.relative:
        return goal
    return now + (goal - now) * var.style * rng.uniform(0.9, 1.1)


def _wave(move, u):
    x = move.cycles * u + move.shift
    if move.wave == "bounce":
        return np.abs(np.sin(np.pi * x))
    if move.wave == "lift":
        return np.maximum(np.sin(2 * np.pi * x), 0.0)
    envelope = np.clip(np.minimum(u, 1 - u) / 0.12, 0, 1)  # start and end where it was
    return np.sin(2 * np.pi * x) * envelope


def _act_words(move: Move, before, after, seconds: float) -> dict:
    """Verb (rises/lowers/moves) and tempo adverb of an act, from what its lead move did."""
    if move.target is not None:
        delta = (after - before)[:3]  # the body's turn (4th value) has no speed word
        angular = move.channel in _ANGULAR
        up = 0.0 if angular else delta[1]
        rate = float(np.linalg.norm(delta)) / seconds
        quick, slow = (120.0, 25.0) if angular else (1.6, 0.3)
    else:
        up, rate, quick, slow = 0.0, move.cycles / seconds, 2.5, 1.0
    tempo = "quickly " if rate > quick else "slowly " if 0.02 < rate < slow else ""
    direction = 0 if up > 0.08 else 1 if up < -0.08 else 2
    return {"tempo": tempo, "rises": ("rises", "lowers", "moves")[direction],
            "rise": ("rise", "lower", "move")[direction]}


def _person_clauses(acts, words, sides, persons) -> list[str]:
    """Fill the templates of one person's acts in one phase: (clause, plural subject). After
    the first clause of two persons, "their" ("the first person's hand ... while their torso")."""
    who, subj = words
    out = []
    for text, tempo_words in acts:
        if not text:  # a silent helper act
            continue
        both = "both hands" if persons == 1 else f"{who} hands"
        clause = text.format(who=who, subj=subj, both=both, **sides, **tempo_words)
        out.append((clause, "{both}" in text))  # plural subject: "both hands ... stay there"
        if persons > 1:
            who = "their"
    return out


def _describe(clauses: list[list[tuple[str, bool]]], seconds, parts: set) -> str:
    phrases: list[str] = []
    plural = False
    for k, said in enumerate(clauses):
        if said:
            texts = [text for text, _ in said]
            plural = said[-1][1]
            phrases.append(texts[0] if len(texts) == 1 else texts[0] + " while " + texts[1]
                           if len(texts) == 2 else ", ".join(texts[:-1]) + " and " + texts[-1])
        elif phrases and not phrases[-1].endswith(("there", "there for a while")):
            phrases[-1] += (" and stay there" if plural else " and stays there") + (
                " for a while" if seconds[k] > 0.9 else "")
    text = ", then ".join(phrases)
    if not parts & {"torso", "right leg", "left leg"}:
        text += ". The torso and legs stay still"
    return text[0].upper() + text[1:] + "."
