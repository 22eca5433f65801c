"""One motion program per NTU RGB+D 120 class (A001..A120), built from `motions` (beside it).

Where natural a program follows its class name (A001 drink water: the hand goes to the mouth);
some classes deliberately share primitives and differ in one part or in tempo (drink water, hush,
yawn; hands up, stretch, cheer up; hand waving, use a fan, shake fist), as real classes do.
"""
from __future__ import annotations

import dataclasses
import functools

from bench.data.synthetic.motions import (
    Act, Move, Phase, Program, body_to, feet_osc, foot_to, hand_osc, hand_to, head_osc, head_to,
    jump, torso_osc, torso_to, turn_around, walk,
)
from bench.errors import BenchError

D, O, B = "dom", "off", "both"
K = float("nan")  # keep the current value
to = hand_to


def down(h: str = D) -> Act:
    return hand_to(h, "side")


def silent(act: Act) -> Act:
    """Moves without words: a helper of another act in the same phase."""
    return dataclasses.replace(act, text="")


def look_down(deg: float = 25) -> Act:
    return head_to(bow=deg, words="looks down")


def tilt_back(deg: float = 20) -> Act:
    return head_to(bow=-deg, words="tilts back")


def head_level() -> Act:
    return head_to(0, 0, words="comes back level")


def head_turn(deg: float) -> Act:
    return head_to(turn=deg, words="turns to the {dom}" if deg > 0 else "turns to the {off}")


def bend(deg: float, words: str = "bends forward") -> Act:
    return torso_to(bend=deg, words=words)


def lean_back(deg: float) -> Act:
    return torso_to(bend=-deg, words="leans back")


def upright() -> Act:
    return torso_to(0, 0, 0, words="comes back upright")


def twist(deg: float) -> Act:
    words = ("turns back to the front" if deg == 0 else
             "twists to the {dom}" if deg > 0 else "twists to the {off}")
    return torso_to(twist=deg, words=words)


def squat(depth: float, words: str = "squats down") -> Act:
    return body_to((K, -depth, K, K), words)


def stand(words: str = "stands up") -> Act:
    return body_to((K, 0.0, 0.0, K), words)


def foot_home(f: str = D) -> Act:
    return foot_to(f, (0, 0, 0), "returns to the floor")


def sway(amp: float = 0.12, cycles: float = 2) -> Act:
    return Act((Move("body", osc=(amp, 0, 0, 0), cycles=cycles),), "", ())


def arm_circles(radius: float = 0.2, cycles: float = 2) -> Act:
    """Two oscillations a quarter cycle apart draw a circle."""
    moves = tuple(Move(c, osc=osc, cycles=cycles, shift=shift)
                  for c in ("dom_hand", "off_hand")
                  for osc, shift in (((0, radius, 0), 0.0), ((0, 0, radius), 0.25)))
    return Act(moves, "{both} {tempo}trace circles", ("right arm", "left arm"))


SEATED = {"body": (0.0, -0.42, -0.22, 0.0), "torso": (8.0, 0.0, 0.0),
          "dom_hand": (0.13, -0.45, 0.25), "off_hand": (0.13, -0.45, 0.25)}


def solo(*phases, start: dict | None = None) -> Program:
    return Program(tuple(Phase(s, (tuple(acts),)) for s, *acts in phases), 1,
                   start=(start or {},))


def duo(*phases, spacing: float = 1.0) -> Program:
    return Program(tuple(Phase(s, (tuple(a), tuple(b))) for s, a, b in phases), 2, spacing,
                   start=({}, {}))


def _one_person() -> dict[int, Program]:
    return {
        1: solo((0.6, to(D, "mouth")), (0.6, tilt_back(20)), (0.6, down(), head_level())),
        2: solo((0.5, to(D, "mouth")),
                (0.9, hand_osc(D, (0, -0.10, 0.05), 2, "moves between the mouth and the chest")),
                (0.5, down())),
        3: solo((0.5, to(D, "mouth")),
                (1.0, hand_osc(D, (0.05, 0, 0), 4, "scrubs from side to side")),
                (0.5, down())),
        4: solo((0.5, to(D, "head")),
                (1.0, hand_osc(D, (0, -0.03, 0.10), 3, "combs from front to back")),
                (0.5, down())),
        5: solo((0.5, to(D, "lap")), (0.4,), (0.3, down(), look_down(30)), (0.4,)),
        6: solo((0.7, bend(65), squat(0.15), to(D, "floor")), (0.3,),
                (0.7, upright(), silent(stand()), to(D, "lap"))),
        7: solo((0.5, to(D, "wind_up"), twist(-25)), (0.25, to(D, "forward_high"), twist(25)),
                (0.6, down(), twist(0))),
        8: solo((0.5, bend(25)), (0.9, body_to(SEATED["body"], "sits down"), to(B, "thigh")),
                (0.4, bend(8, "straightens up"))),
        9: solo((0.4, bend(35)), (0.9, stand(), down(B)), (0.4, upright()), start=SEATED),
        10: solo((0.4, to(B, "centre")),
                 (1.0, hand_osc(B, (0.12, 0, 0), 4, "clap together", wave="bounce")),
                 (0.4, down(B))),
        11: solo((0.6, to(B, "lap"), look_down(30)),
                 (1.0, head_osc(8, 0, 1.5, "scans from side to side"))),
        12: solo((0.5, to(O, "lap"), look_down(30)), (0.3, to(D, "lap")),
                 (1.0, hand_osc(D, (0.06, 0.02, 0), 3, "writes in small strokes"))),
        13: solo((0.5, to(B, "centre")),
                 (0.8, hand_osc(B, (0, 0.10, 0), 2, "pull apart up and down", alternate=True)),
                 (0.5, down(B))),
        14: solo((0.5, to(D, "back"), twist(20)), (0.6, to(D, "out"), to(O, "back"), twist(-20)),
                 (0.5, to(B, "chest"), twist(0))),
        15: solo((0.5, to(B, "chest")), (0.6, to(D, "back"), to(O, "out"), twist(20)),
                 (0.5, down(B), twist(0))),
        16: solo((0.6, bend(45), foot_to(O, (0, 0.30, 0.15), "lifts off the floor"),
                  to(B, "forward_low")),
                 (0.9, hand_osc(B, (0, 0.05, 0.03), 3, "pull the shoe on")),
                 (0.5, upright(), foot_home(O), down(B))),
        17: solo((0.6, bend(45), foot_to(O, (0, 0.30, 0.15), "lifts off the floor"),
                  to(B, "forward_low")),
                 (0.5, hand_osc(B, (0, 0.08, 0), 1, "tug at the shoe")), (0.4, to(B, "lap")),
                 (0.5, upright(), foot_home(O), down(B))),
        18: solo((0.6, to(B, "eyes")), (0.5,), (0.6, down(B))),
        19: solo((0.5, to(B, "eyes")), (0.3,), (0.6, to(B, "lap"))),
        20: solo((0.5, to(B, "overhead")), (0.5, to(B, "head")), (0.5, down(B))),
        21: solo((0.5, to(B, "head")), (0.4, to(B, "overhead")), (0.5, to(B, "lap"))),
        22: solo((0.4, to(B, "overhead")),
                 (0.9, hand_osc(B, (0.08, 0.08, 0), 3, "shake in the air"),
                  jump(0.06, 2, "bounces on the spot")), (0.4, down(B))),
        23: solo((0.4, to(D, "raised")),
                 (1.0, hand_osc(D, (0.15, 0, 0), 3, "waves from side to side")),
                 (0.4, down())),
        24: solo((0.3, foot_to(D, (0, 0.05, -0.15), "draws back")),
                 (0.25, foot_to(D, (0, 0.30, 0.45), "kicks forward"), lean_back(10)),
                 (0.5, foot_home(D), upright())),
        25: solo((0.6, to(D, "pocket")),
                 (0.5, hand_osc(D, (0, 0.04, 0), 2, "digs into the pocket")),
                 (0.6, to(D, "lap"))),
        26: solo((0.4, foot_to(O, (0, 0.25, -0.10), "lifts off the floor")),
                 (0.9, jump(0.10, 3, "hops on one foot", lifted=O)), (0.4, foot_home(O))),
        27: solo((0.4, squat(0.15, "bends the knees")),
                 (0.5, silent(stand()), jump(0.25, 1, "jumps up"), to(B, "forward_high")),
                 (0.5, down(B))),
        28: solo((0.6, to(D, "ear")), (0.9,), (0.5, down())),
        29: solo((0.6, to(B, "lap"), look_down(30)),
                 (1.1, hand_osc(D, (0.03, 0.03, 0), 5, "taps the screen"))),
        30: solo((0.5, to(B, "lap"), look_down(20)),
                 (1.2, hand_osc(B, (0, 0.03, 0), 5, "tap up and down", alternate=True))),
        31: solo((0.45, to(D, "forward_high")), (0.8,), (0.5, down())),
        32: solo((0.6, to(D, "selfie")), (0.8, head_turn(12)), (0.5, down(), head_level())),
        33: solo((0.5, to(O, "centre"), look_down(25)), (0.6,), (0.5, down(O), head_level())),
        34: solo((0.5, to(B, "centre")),
                 (1.0, hand_osc(B, (0, 0, 0.06), 4, "rub against each other", alternate=True)),
                 (0.4, down(B))),
        35: solo((0.6, bend(35), look_down(20)), (0.3,), (0.6, upright(), head_level())),
        36: solo((1.4, head_osc(35, 0, 3, "shakes from side to side"))),
        37: solo((0.5, to(B, "eyes")), (0.8, hand_osc(B, (0, 0.08, 0), 2, "wipe down the face")),
                 (0.5, down(B))),
        38: solo((0.35, to(D, "forehead")), (0.8,), (0.5, down())),
        39: solo((0.6, to(B, "centre")), (0.8,), (0.5, down(B))),
        40: solo((0.5, to(B, "cross")), (0.8,), (0.5, down(B))),
        41: solo((0.35, to(D, "mouth")), (0.3, bend(25), look_down(20)),
                 (0.4, upright(), head_level()),
                 (0.5, down())),
        42: solo((1.6, walk(0.6, 4, "staggers forward unsteadily"), sway(),
                  torso_osc((5, 12, 0), 2, "sways from side to side"))),
        43: solo((0.5, bend(20), to(B, "forward")),
                 (0.6, body_to((K, -0.55, 0.35, K), "falls to the knees"), bend(60)), (0.5,)),
        44: solo((0.5, to(D, "forehead")),
                 (0.9, hand_osc(D, (0, 0.03, 0.02), 2, "rubs the forehead"), look_down(15)),
                 (0.5, down(), head_level())),
        45: solo((0.5, to(D, "chest"), bend(15)), (0.8,), (0.5, down(), upright())),
        46: solo((0.6, to(D, "back"), lean_back(10)), (0.8,), (0.5, down(), upright())),
        47: solo((0.5, to(D, "neck"), tilt_back(10)),
                 (0.8, hand_osc(D, (0, 0.03, 0), 2, "rubs the neck")),
                 (0.5, down(), head_level())),
        48: solo((0.6, bend(40), to(D, "mouth"), to(O, "belly"), look_down(20)),
                 (0.8, torso_osc((8, 0, 0), 2, "heaves")), (0.5, upright(), down(B), head_level())),
        49: solo((0.5, to(D, "face")),
                 (1.0, hand_osc(D, (0.08, 0, 0), 4, "fans from side to side")),
                 (0.4, down())),
        61: solo((0.5, to(B, "overhead")), (0.5, to(B, "ear")), (0.5, down(B))),
        62: solo((0.5, to(B, "ear")), (0.4, to(B, "overhead")), (0.5, to(B, "lap"))),
        63: solo((0.4, to(B, "face"), squat(0.12, "bends the knees")),
                 (0.35, to(B, "overhead"), silent(stand()), jump(0.12, 1, "jumps")),
                 (0.5, down(B))),
        64: solo((0.4, to(D, "forward_low")),
                 (1.0, hand_osc(D, (0, 0.15, 0), 3, "pushes up and down")),
                 (0.4, down())),
        65: solo((0.5, to(D, "swing_back"), twist(-30)), (0.3, to(D, "shoulder"), twist(30)),
                 (0.5, down(), twist(0))),
        66: solo((0.4, to(B, "lap"), tilt_back(15)),
                 (1.1, hand_osc(B, (0, 0.12, 0), 3, "toss upwards in turn", alternate=True)),
                 (0.4, down(B), head_level())),
        67: solo((0.4, to(D, "mouth")), (0.7,), (0.4, down())),
        68: solo((0.4, to(D, "ear")), (0.3, to(D, "behind_head"), tilt_back(15)),
                 (0.5, down(), head_level())),
        69: solo((0.5, to(D, "front_mid")), (0.8,), (0.5, down())),
        70: solo((0.5, to(D, "front_mid")),
                 (0.3, hand_osc(D, (0, -0.05, 0), 1, "dips", wave="bounce")),
                 (0.5,), (0.5, down())),
        71: solo((0.5, to(D, "face")), (0.8,), (0.5, down())),
        72: solo((0.5, to(D, "face")), (0.8, hand_osc(D, (0.02, 0.02, 0), 2, "wiggles slightly")),
                 (0.5, down())),
        73: solo((0.5, to(B, "lap")),
                 (0.8, hand_osc(D, (0, 0.08, 0), 2, "presses down hard", wave="bounce")),
                 (0.5, down(B))),
        74: solo((0.5, to(B, "lap"), look_down(25)),
                 (1.0, hand_osc(D, (0.05, 0, 0), 5, "flicks through the notes")),
                 (0.5, down(B), head_level())),
        75: solo((0.5, to(B, "centre"), look_down(25)),
                 (1.0, hand_osc(D, (0, 0, 0.03), 3, "clips in small motions")),
                 (0.5, down(B), head_level())),
        76: solo((0.5, to(B, "centre")), (1.0, hand_osc(D, (0.02, 0.04, 0), 4, "snips")),
                 (0.5, down(B))),
        77: solo((0.4, to(D, "face")),
                 (0.8, hand_osc(D, (0.02, 0.04, 0), 3, "snaps", wave="bounce")),
                 (0.4, down())),
        78: solo((0.5, to(O, "lap"), to(D, "centre")),
                 (0.9, hand_osc(D, (0.05, 0, 0.03), 3, "twists the cap")), (0.5, down(B))),
        79: solo((0.5, to(D, "nose")), (0.7,), (0.5, down())),
        80: solo((0.7, squat(0.40), to(B, "forward")), (0.5,), (0.7, stand(), down(B))),
        81: solo((0.4, to(D, "lap")),
                 (0.3, hand_osc(D, (0, 0.15, 0), 1, "flicks upwards", wave="bounce"),
                  tilt_back(15)),
                 (0.4, head_level()), (0.4, down())),
        82: solo((0.5, to(B, "lap"), look_down(20)),
                 (1.0, hand_osc(B, (0.06, 0.04, 0), 2, "fold inwards", wave="bounce")),
                 (0.5, down(B), head_level())),
        83: solo((0.5, to(B, "centre")),
                 (1.0, hand_osc(B, (0.03, 0.03, 0.03), 4, "crumple together")),
                 (0.5, down(B))),
        84: solo((0.5, to(B, "lap"), look_down(20)),
                 (1.1, hand_osc(B, (0.03, 0.02, 0.02), 4, "twist the cube", alternate=True)),
                 (0.4, down(B))),
        85: solo((0.5, to(B, "eyes")),
                 (1.0, hand_osc(B, (0.04, 0.05, 0), 3, "rub the face in circles")),
                 (0.5, down(B))),
        86: solo((0.5, to(O, "centre"), to(D, "hand_back")),
                 (1.0, hand_osc(D, (0, 0, 0.05), 3, "rubs the back of the other hand")),
                 (0.5, down(B))),
        87: solo((0.5, to(D, "forward_low")), (0.6, to(D, "own_shoulder"), twist(15)),
                 (0.5, down(), twist(0))),
        88: solo((0.5, to(D, "own_shoulder")), (0.6, to(D, "forward_low"), twist(15)),
                 (0.5, down(), twist(0))),
        89: solo((0.5, to(O, "forward_low"), to(D, "lap"), look_down(20)),
                 (0.5, to(D, "forward_low")),
                 (0.5, down(B), head_level())),
        90: solo((0.5, to(O, "forward_low"), to(D, "forward_low"), look_down(20)),
                 (0.5, to(D, "lap")),
                 (0.5, down(B), head_level())),
        91: solo((0.5, to(B, "lap"), look_down(20)), (0.6, to(B, "box_sides")),
                 (0.5, down(B), head_level())),
        92: solo((0.6, bend(50), squat(0.2), to(B, "forward_low")),
                 (0.7, upright(), stand(), to(B, "lap")),
                 (0.6, walk(0.3, 2, "carries it forward"))),
        93: solo((0.4, to(D, "raised")), (0.9, hand_osc(D, (0, 0.05, 0.03), 4, "shakes")),
                 (0.4, down())),
        94: solo((0.4, to(D, "head")), (0.3, to(D, "overhead"), tilt_back(25)),
                 (0.5, down(), head_level())),
        95: solo((0.6, to(B, "overhead")), (0.8,), (0.5, down(B))),
        96: solo((0.6, to(B, "folded")), (0.8,), (0.5, down(B))),
        97: solo((0.4, to(B, "out")), (1.1, arm_circles()), (0.5, down(B))),
        98: solo((1.4, hand_osc(B, (0, 0.10, 0.35), 2, "swing forwards and backwards",
                                alternate=True))),
        99: solo((1.4, feet_osc((0, 0.18, 0.05), 4, "runs on the spot"),
                  hand_osc(B, (0, 0.05, 0.15), 4, "pump back and forth", alternate=True))),
        100: solo((1.4, feet_osc((0, 0.25, -0.30), 3, "kicks the heels back in turn"))),
        101: solo((0.6, bend(60), twist(-30), to(D, "across_low")), (0.5, upright(), down()),
                  (0.6, bend(60), twist(30), to(O, "across_low")), (0.5, upright(), down(O))),
        102: solo((0.3, torso_to(lean=-15, words="leans to the {off}")),
                  (0.3, foot_to(D, (0.40, 0.30, 0), "kicks out to the side")),
                  (0.5, foot_home(D), upright())),
        103: solo((0.7, to(D, "mouth"), tilt_back(15)), (1.0,), (0.6, down(), head_level())),
        104: solo((0.7, to(B, "overhead"), lean_back(10), tilt_back(10)), (0.8,),
                  (0.6, down(B), upright(), head_level())),
        105: solo((0.5, to(B, "nose"), look_down(10)),
                  (0.6, hand_osc(B, (0, 0.02, 0.02), 2, "squeeze the nose")), (0.5, down(B))),
    }


def _two_person() -> dict[int, Program]:
    """Person 1 acts, person 2 mostly reacts; both face each other."""
    step_back = walk(-0.2, 1, "steps back")
    return {
        50: duo((0.4, [to(D, "chest")], []),
                (0.25, [to(D, "partner_chest"), twist(20)], []),
                (0.5, [down(), twist(0)], [lean_back(15), head_turn(-20)]),
                (0.4, [], [upright(), head_level()]), spacing=0.9),
        51: duo((0.3, [foot_to(D, (0, 0.05, -0.15), "draws back")], []),
                (0.25, [foot_to(D, (0, 0.35, 0.50), "kicks forward"), lean_back(10)], []),
                (0.5, [foot_home(D), upright()], [bend(25, "doubles over"), step_back]),
                (0.4, [], [upright()]), spacing=1.1),
        52: duo((0.4, [to(B, "centre")], []),
                (0.4, [to(B, "partner_chest"), walk(0.2, 1, "steps forward")],
                 [walk(-0.35, 2, "staggers backwards"), lean_back(15)]),
                (0.5, [down(B)], [upright()]), spacing=0.75),
        53: duo((0.5, [to(D, "partner_shoulder")], []),
                (0.9, [hand_osc(D, (0, 0.06, 0), 3, "pats the other person's back", wave="bounce")],
                 [look_down(15)]),
                (0.5, [down()], [head_level()]), spacing=0.55),
        54: duo((0.45, [to(D, "forward_high")], []), (0.9, [], [lean_back(8)]),
                (0.5, [down()], [upright()]), spacing=1.6),
        55: duo((0.6, [walk(0.2, 1, "steps forward"), to(B, "hug")],
                 [walk(0.2, 1, "steps forward"), to(B, "hug")]),
                (0.8, [], []), (0.5, [down(B)], [down(B)]), spacing=0.9),
        56: duo((0.5, [to(D, "partner_hand")], []), (0.5, [], [to(D, "partner_hand")]),
                (0.5, [down()], [to(D, "chest")])),
        57: duo((0.6, [to(D, "partner_pocket"), bend(15)], []),
                (0.6, [hand_osc(D, (0, 0.04, 0), 2, "rummages in it")], [look_down(20)]),
                (0.5, [down(), upright()], [head_level()]), spacing=0.75),
        58: duo((0.5, [to(D, "partner_hand")], [to(D, "partner_hand")]),
                (0.8, [hand_osc(D, (0, 0.06, 0), 3, "shakes up and down")],
                 [hand_osc(D, (0, 0.06, 0), 3, "shakes up and down")]),
                (0.5, [down()], [down()]), spacing=0.9),
        59: duo((1.6, [walk(0.7, 4, "walks towards the other person")],
                 [walk(0.7, 4, "walks towards the other person")]), spacing=2.6),
        60: duo((0.5, [turn_around()], [turn_around()]),
                (1.3, [walk(-0.7, 4, "walks away")], [walk(-0.7, 4, "walks away")]), spacing=0.9),
        106: duo((0.4, [to(D, "wind_up")], []),
                 (0.3, [to(D, "forward"), bend(15)], [to(B, "forehead")]),
                 (0.5, [down(), upright()], [down(B)]), spacing=1.1),
        107: duo((0.4, [to(D, "lap")], []),
                 (0.9, [hand_osc(D, (0, 0, 0.2), 3, "stabs forward")],
                  [lean_back(15), to(B, "centre")]),
                 (0.5, [down()], [upright(), down(B)]), spacing=0.9),
        108: duo((0.6, [walk(0.4, 2, "charges forward"), bend(25)], []),
                 (0.5, [], [walk(-0.4, 2, "is knocked backwards"), lean_back(20)]),
                 (0.5, [upright()], [upright()]), spacing=1.3),
        109: duo((0.4, [], [to(D, "lap")]), (0.3, [to(D, "partner_hand")], []),
                 (0.4, [to(D, "chest")], [to(D, "forward")]), (0.4, [], [down()]), spacing=0.9),
        110: duo((0.5, [to(B, "forward_high")], []), (0.6, [], [to(B, "overhead")]), (0.6, [], []),
                 spacing=1.8),
        111: duo((0.4, [foot_to(D, (0, 0.15, 0.25), "lifts")], []),
                 (0.25, [foot_to(D, (0, 0, 0.30), "stamps down")], []),
                 (0.6, [foot_home(D)], [foot_to(D, (0, 0.2, -0.05), "jerks up"), bend(15)]),
                 (0.4, [], [foot_home(D), upright()]), spacing=0.6),
        112: duo((0.5, [to(D, "partner_high")], [to(D, "partner_high")]), (0.2, [], []),
                 (0.5, [down()], [down()]), spacing=0.9),
        113: duo((0.5, [to(D, "partner_hand")], [to(D, "partner_hand")]),
                 (0.5, [to(D, "mouth"), tilt_back(15)], [to(D, "mouth"), tilt_back(15)]),
                 (0.5, [down(), head_level()], [down(), head_level()]), spacing=0.9),
        114: duo((0.5, [bend(30), to(B, "forward_low")], [bend(30), to(B, "forward_low")]),
                 (0.5, [upright(), to(B, "lap")], [upright(), to(B, "lap")]),
                 (0.8, [walk(0.4, 2, "walks forward")], [walk(-0.4, 2, "walks backwards")]),
                 spacing=1.2),
        115: duo((0.5, [to(B, "face")], [to(D, "raised")]), (0.8, [], []),
                 (0.5, [down(B)], [down()]), spacing=1.8),
        116: duo((0.4, [], [turn_around()]),
                 (1.3, [walk(0.7, 4, "follows behind")], [walk(-0.7, 4, "walks away")])),
        117: duo((0.5, [walk(0.15, 1, "steps closer"), bend(15, "leans in"), to(D, "mouth")],
                  [head_turn(-20)]),
                 (0.8, [], []), (0.5, [down(), upright()], [head_level()]), spacing=0.7),
        118: duo((0.5, [to(D, "partner_hand")], [to(D, "partner_hand")]), (0.3, [], []),
                 (0.5, [to(D, "chest")], [to(D, "chest")])),
        119: duo((0.5, [], [torso_to(lean=20, words="sags to the {dom}"),
                            squat(0.15, "sinks at the knees")]),
                 (0.5, [to(B, "partner_chest")], []),
                 (0.6, [], [upright(), stand("straightens the legs")]), spacing=0.8),
        120: duo((0.4, [to(D, "front_mid")], [to(D, "front_mid")]),
                 (0.8, [hand_osc(D, (0, 0.08, 0), 3, "shakes up and down", wave="bounce")],
                  [hand_osc(D, (0, 0.08, 0), 3, "shakes up and down", wave="bounce")]),
                 (0.4, [to(D, "forward")], [to(D, "forward")])),
    }


@functools.lru_cache(maxsize=None)
def _all_programs() -> dict[int, Program]:
    programs = {**_one_person(), **_two_person()}
    assert sorted(programs) == list(range(1, 121)), "every NTU120 class needs a program"
    return programs


def class_program(action: int) -> Program:
    """The motion program of NTU action `action` (1-based, A001..A120)."""
    programs = _all_programs()
    if action not in programs:
        raise BenchError(f"no synthetic motion program for action A{action:03d} (1..120)")
    return programs[action]


def is_two_person(action: int) -> bool:
    return class_program(action).persons == 2
