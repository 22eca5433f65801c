"""Suites: a split protocol on a dataset + the methods it compares + the synthetic stand-in for it."""
from __future__ import annotations

from dataclasses import dataclass, field

from bench.data.kinect_v1_classes import MSR_ACTION3D_ACTIONS, UTD_MHAD_ACTIONS
from bench.registry import Registry

SUITES = Registry("suite")


@dataclass(frozen=True)
class SuiteSpec:
    name: str
    dataset: str  # "ntu60" | "ntu120"
    protocol: str  # "xsub" | "xview" | "xset"
    methods: tuple[str, ...]
    description: str
    num_actions: int  # the suite uses actions A001..A<num_actions> of the dataset
    # What `--data synthetic` generates for this suite: NTU naming, a subset of the real factors.
    synthetic: dict = field(default_factory=dict)
    layout: str = "ntu25"  # skeleton layout of the arrays (bench/data/layouts.py)
    fps: float = 30.0
    class_names: tuple[str, ...] = ()  # empty: the NTU class names of `dataset`


def _synthetic(dataset: str, actions: int, setups, cameras, performers, replications=(1,)):
    return {"dataset": dataset, "actions": list(range(1, actions + 1)), "setups": list(setups),
            "cameras": list(cameras), "performers": list(performers),
            "replications": list(replications), "seed": 0}


# Performers 1-8 give X-Sub train subjects {1,2,4,5,8} and test subjects {3,6,7}; all three
# cameras give the X-View split; two setups give the X-Set split.
_NTU60_SYN = _synthetic("ntu60", 60, setups=(1,), cameras=(1, 2, 3), performers=range(1, 9))
_NTU120_SYN = _synthetic("ntu120", 120, setups=(1, 2), cameras=(1, 2), performers=range(1, 7))
_MAIN_METHODS = ("lvlm_var", "stgcn", "knn")
_PROTOCOL_NAMES = {"xsub": "cross-subject", "xview": "cross-view", "xset": "cross-setup"}

for _name, _dataset, _protocol, _syn in (
    ("ntu60-xsub", "ntu60", "xsub", _NTU60_SYN),
    ("ntu60-xview", "ntu60", "xview", _NTU60_SYN),
    ("ntu120-xsub", "ntu120", "xsub", _NTU120_SYN),
    ("ntu120-xset", "ntu120", "xset", _NTU120_SYN),
):
    SUITES.register(_name, SuiteSpec(
        _name, _dataset, _protocol, _MAIN_METHODS,
        f"{_dataset.upper()} {_PROTOCOL_NAMES[_protocol]} (official protocol)",
        len(_syn["actions"]), _syn))

# A small suite for tests and quick checks: 10 classes, 5 performers, synthetic only in practice.
SUITES.register("mini-xsub", SuiteSpec(
    "mini-xsub", "ntu60", "xsub", _MAIN_METHODS,
    "10 NTU60 classes, cross-subject: a seconds-long suite for tests", 10,
    _synthetic("ntu60", 10, setups=(1,), cameras=(1, 2, 3), performers=range(1, 6))))

# Real Kinect v1 datasets (`--data-root` the dataset's folder; converted once into the cache):
# cross-subject, odd subjects train and even subjects test, one person, joints in kinect20 order.
SUITES.register("utd-mhad-xsub", SuiteSpec(
    "utd-mhad-xsub", "utd-mhad", "xsub", _MAIN_METHODS,
    "UTD-MHAD (Kinect v1, 27 actions, 8 subjects) cross-subject: odd subjects train, even test",
    len(UTD_MHAD_ACTIONS), layout="kinect20", fps=30.0, class_names=UTD_MHAD_ACTIONS))
SUITES.register("msr-action3d-xsub", SuiteSpec(
    "msr-action3d-xsub", "msr-action3d", "xsub", _MAIN_METHODS,
    "MSR Action3D (Kinect v1, 20 actions, 10 subjects, 557 sequences) cross-subject: odd "
    "subjects train, even test", len(MSR_ACTION3D_ACTIONS), layout="kinect20", fps=15.0,
    class_names=MSR_ACTION3D_ACTIONS))
