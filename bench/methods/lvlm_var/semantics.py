"""Readable descriptions of semantic tokens, from the kinematics of the train windows they hold.

A code's description names the body part that moves most in its windows (relative to the spine
base; the whole body for the spine base itself) and the direction it moves in, in the performer's
body frame: "right hand rises above head", "left leg kicks forward", "torso bends forward",
"body lowers", "the two people move closer", or "body stays still". Only train windows are used.
"""
from __future__ import annotations

import numpy as np

from bench.data.body import KIN_PARTS

STILL = "body stays still"
_SUBJECT = {"head": "head", "torso": "torso", "left arm": "left hand", "right arm": "right hand",
            "left leg": "left leg", "right leg": "right leg", "body": "body"}
# (axis, sign) -> verb; axes of the body frame: 0 = towards the performer's left, 1 = up, 2 = forward.
_VERBS = {
    "arm": {(1, 1): "rises", (1, -1): "lowers", (2, 1): "pushes forward", (2, -1): "pulls back",
            (0, 1): "moves left", (0, -1): "moves right"},
    "leg": {(1, 1): "lifts", (1, -1): "lowers", (2, 1): "kicks forward", (2, -1): "steps back",
            (0, 1): "steps left", (0, -1): "steps right"},
    "head": {(1, 1): "lifts", (1, -1): "bends down", (2, 1): "moves forward", (2, -1): "moves back",
             (0, 1): "tilts left", (0, -1): "tilts right"},
    "torso": {(1, 1): "straightens", (1, -1): "bends down", (2, 1): "bends forward",
              (2, -1): "leans back", (0, 1): "leans left", (0, -1): "leans right"},
    "body": {(1, 1): "rises", (1, -1): "lowers", (2, 1): "moves forward", (2, -1): "moves back",
             (0, 1): "moves left", (0, -1): "moves right"},
}


# axis -> verb for a part that goes back and forth on that axis within a window
_OSCILLATE = {
    "arm": {1: "moves up and down", 2: "swings back and forth", 0: "waves side to side"},
    "leg": {1: "moves up and down", 2: "swings back and forth", 0: "swings side to side"},
    "head": {1: "nods", 2: "moves back and forth", 0: "shakes"},
    "torso": {1: "bobs up and down", 2: "rocks back and forth", 0: "sways side to side"},
    "body": {1: "bounces up and down", 2: "moves back and forth", 0: "moves side to side"},
}
_PARTS = KIN_PARTS + ("body",)


def _kind(part: str) -> str:
    return part.split()[-1] if part.split()[-1] in ("arm", "leg") else part


def _unpack(k: np.ndarray) -> dict:
    n = len(_PARTS) * 3
    return {"move": {p: k[3 * i:3 * i + 3] for i, p in enumerate(_PARTS)},
            "extent": {p: k[n + 3 * i:n + 3 * i + 3] for i, p in enumerate(_PARTS)},
            "hand_height": {"left arm": k[2 * n], "right arm": k[2 * n + 1]},
            "pair": k[2 * n + 2], "has_pair": k[2 * n + 3] > 0.5}


def describe(kin: np.ndarray, still_threshold: float, allowed: tuple | None = None) -> str:
    """One description of a mean kinematics vector (features.KIN_DIM); with `allowed`, only
    those parts ("right arm", "body", "pair", ...) may be named (a part's own codebook)."""
    u = _unpack(kin)
    mags = {p: float(np.linalg.norm(v)) for p, v in u["extent"].items()}
    if u["has_pair"]:
        mags["pair"] = abs(float(u["pair"]))
    if allowed is not None:
        mags = {p: m for p, m in mags.items() if p in allowed}
    ranked = sorted(mags, key=mags.get, reverse=True)
    if mags[ranked[0]] < still_threshold:
        return STILL
    first = _phrase(ranked[0], u)
    if len(ranked) < 2:
        return first
    second = ranked[1]
    if mags[second] < max(0.6 * mags[ranked[0]], still_threshold):
        return first
    p2 = _phrase(second, u)
    both = {ranked[0], second}
    verb1, verb2 = first.split(" ", 2)[2:], p2.split(" ", 2)[2:]
    if both in ({"left arm", "right arm"}, {"left leg", "right leg"}) and verb1 == verb2:
        return ("both hands " if "left arm" in both else "both legs ") + _plural(verb1[0])
    return first if p2 == first else f"{first} and {p2}"


def _plural(verb: str) -> str:
    """'pushes forward' -> 'push forward', 'rises above head' -> 'rise above head'."""
    head, _, rest = verb.partition(" ")
    head = head[:-2] if head.endswith("shes") else head[:-1] if head.endswith("s") else head
    return f"{head} {rest}".strip()


def _phrase(part: str, u: dict) -> str:
    if part == "pair":
        return "the two people move closer" if u["pair"] < 0 else "the two people move apart"
    extent, move = u["extent"][part], u["move"][part]
    axis = int(np.argmax(extent))
    kind = _kind(part)
    if abs(move[axis]) >= 0.5 * extent[axis]:
        verb = _VERBS[kind][(axis, 1 if move[axis] >= 0 else -1)]
    else:
        verb = _OSCILLATE[kind][axis]
    if part in u["hand_height"] and verb == "rises" and u["hand_height"][part] > 0:
        verb = "rises above head"
    return f"{_SUBJECT[part]} {verb}"


def describe_codes(kinematics: np.ndarray, codes: np.ndarray, code_vectors: np.ndarray,
                   still_threshold: float, allowed: tuple | None = None) -> list[str]:
    """A description per code from the mean kinematics of its (train) windows; a code that holds
    no window borrows the description of the nearest code that does."""
    size = len(code_vectors)
    out: list[str | None] = [None] * size
    for c in range(size):
        held = codes == c
        if held.any():
            out[c] = describe(kinematics[held].mean(0), still_threshold, allowed)
    used = [c for c in range(size) if out[c] is not None]
    for c in range(size):
        if out[c] is None:
            if not used:
                out[c] = STILL
                continue
            d = ((code_vectors[used] - code_vectors[c]) ** 2).sum(1)
            out[c] = out[used[int(np.argmin(d))]]
    return out


def explain_tokens(tokens: list[int], descriptions: list[str], max_phrases: int) -> str:
    """The distinct descriptions of a token sequence, in order, "body stays still" only if alone."""
    seen: list[str] = []
    for t in tokens:
        d = descriptions[t]
        if d not in seen:
            seen.append(d)
    moving = [d for d in seen if d != STILL] or [STILL]
    return ", then ".join(moving[:max_phrases])


def vocabulary_text() -> list[str]:
    """Every word a description can use (for training the tiny profile's tokenizer)."""
    texts = [STILL, "the two people move closer", "the two people move apart", "rises above head",
             ", then ", " and "]
    for kind, verbs in _VERBS.items():
        subjects = [s for p, s in _SUBJECT.items() if _kind(p) == kind]
        words = list(verbs.values()) + list(_OSCILLATE[kind].values())
        texts += [f"{s} {v}" for s in subjects for v in words]
        texts += [f"both {limbs} {_plural(v)}" for limbs in ("hands", "legs") for v in words]
    return texts
