"""Suites: a split protocol on a dataset + the methods it compares + the synthetic stand-in for it.

Each suite is a file in `suites/` (`<name>.toml`); `suites/protocol.toml` is the protocol (what
every method fits on, per profile; default seeds; the test clips per class a profile is limited
to) that a suite's own `[protocol]` table may
override. A dataset's own facts (class names, frame rate, layout) come from the dataset, not
from the suite file.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field

from bench.data.pose import kinect_v1_classes
from bench.errors import BenchError
from bench.paths import content_dir
from bench.registry import Registry

SUITES = Registry("suite")
NTU_ACTIONS = {"ntu60": 60, "ntu120": 120}
FIT_ON = ("train", "train+val")


@dataclass(frozen=True)
class SuiteSpec:
    name: str
    dataset: str  # "ntu60" | "ntu120" | a Kinect v1 dataset | a pickle's name
    protocol: str  # "xsub" | "xview" | "xset"
    methods: tuple[str, ...]
    description: str
    num_actions: int  # the suite uses actions A001..A<num_actions> of the dataset
    # What `--data synthetic` generates for this suite: NTU naming, a subset of the real factors.
    synthetic: dict = field(default_factory=dict)
    layout: str = "ntu25"  # skeleton layout of the arrays (bench/data/layouts.py)
    fps: float = 30.0
    class_names: tuple[str, ...] = ()  # empty: the NTU class names of `dataset`
    seeds: tuple[int, ...] = (0,)  # what `bench run` runs without --seeds
    # profile -> what every method fits on ("train" or "train+val"; suites/protocol.toml)
    fit_on: dict = field(default_factory=lambda: dict(DEFAULT_FIT_ON))
    # profile -> test samples per class its runs use when no --limit is given (quick)
    limit: dict = field(default_factory=lambda: dict(DEFAULT_LIMIT))

    def fit_on_for(self, profile: str) -> str:
        return self.fit_on.get(profile, "train")

    def limit_for(self, profile: str, given: int | None = None) -> int | None:
        """Test samples per class: `--limit N` when given, else the profile's own (or none)."""
        return given if given is not None else self.limit.get(profile)

    def protocol_line(self, profile: str, evaluate: str = "test") -> str:
        """The protocol in one line, as the report prints it above the accuracy table."""
        fit = self.fit_on_for(profile)
        how = ("every method fits on the train part; a method that selects a checkpoint does "
               "so on the validation part" if fit == "train" else
               "every method fits on the whole official train split (train + validation); "
               "nothing is selected on validation (GCNs keep their last epoch)")
        if evaluate == "val":  # bench.data.datasets: the validation part left training
            how = ("scored on the validation part (--evaluate val), not test: every method fits "
                   "on the train part only and nothing is selected on it (GCNs keep their last "
                   "epoch)")
        limit = self.limit_for(profile)
        tested = (f"; every method is tested on the first {limit} test clips of each class "
                  f"(the {profile} budget)" if limit else "")
        return f"Protocol ({profile}): {how}{tested}."


def _read(path) -> dict:
    try:
        return tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise BenchError(f"suite file {path}: {exc}") from None


def _protocol(table: dict, where) -> tuple[tuple[int, ...], dict, dict]:
    seeds, fit_on, limit = table.get("seeds"), table.get("fit_on", {}), table.get("limit", {})
    if not (isinstance(seeds, list) and seeds and all(isinstance(s, int) and s >= 0
                                                       for s in seeds)):
        raise BenchError(f"{where}: seeds={seeds!r}; expected a list of non-negative integers")
    if not isinstance(fit_on, dict) or any(v not in FIT_ON for v in fit_on.values()):
        raise BenchError(f"{where}: fit_on={fit_on!r}; expected a table profile = one of "
                         f"{FIT_ON}")
    if not isinstance(limit, dict) or any(not isinstance(v, int) or isinstance(v, bool) or v < 1
                                          for v in limit.values()):
        raise BenchError(f"{where}: limit={limit!r}; expected a table profile = a positive "
                         f"number of test samples per class")
    return tuple(seeds), fit_on, limit


_DEFAULT = _read(content_dir("suites") / "protocol.toml")
DEFAULT_SEEDS, DEFAULT_FIT_ON, DEFAULT_LIMIT = _protocol(_DEFAULT, "suites/protocol.toml")


def suite_from_file(path) -> SuiteSpec:
    """One suite file: dataset, split (xsub | xview | xset), methods, description, and the
optional tables [synthetic] (the stand-in `--data synthetic` generates) and [protocol]."""
    table = _read(path)
    where = f"suite file {path}"
    missing = [k for k in ("dataset", "split", "methods", "description") if k not in table]
    if missing:
        raise BenchError(f"{where}: missing {missing}")
    dataset = table["dataset"]
    protocol = {**_DEFAULT, "fit_on": dict(DEFAULT_FIT_ON), **table.get("protocol", {})}
    protocol["fit_on"] = {**DEFAULT_FIT_ON, **protocol["fit_on"]}
    protocol["limit"] = {**DEFAULT_LIMIT, **protocol.get("limit", {})}
    seeds, fit_on, limit = _protocol(protocol, where)
    facts: dict = {}
    if dataset in kinect_v1_classes.ACTIONS:  # the dataset's own class names and frame rate
        actions = kinect_v1_classes.ACTIONS[dataset]
        facts = {"layout": "kinect20", "fps": kinect_v1_classes.FPS[dataset],
                 "class_names": actions}
        num_actions = len(actions)
    elif dataset in NTU_ACTIONS:
        num_actions = int(table.get("num_actions", NTU_ACTIONS[dataset]))
    else:
        raise BenchError(f"{where}: dataset {dataset!r}; expected one of "
                         f"{sorted(NTU_ACTIONS) + sorted(kinect_v1_classes.ACTIONS)}")
    synthetic = {}
    if "synthetic" in table:
        syn = table["synthetic"]
        synthetic = {"dataset": dataset, "actions": list(range(1, int(syn["actions"]) + 1)),
                     "setups": list(syn["setups"]), "cameras": list(syn["cameras"]),
                     "performers": list(syn["performers"]),
                     "replications": list(syn.get("replications", [1])),
                     "seed": int(syn.get("seed", 0))}
    return SuiteSpec(path.stem, dataset, table["split"], tuple(table["methods"]),
                     table["description"], num_actions, synthetic, seeds=seeds, fit_on=fit_on,
                     limit=limit, **facts)


for _path in sorted(content_dir("suites").glob("*.toml")):
    if _path.name != "protocol.toml":
        SUITES.register(_path.stem, suite_from_file(_path))
