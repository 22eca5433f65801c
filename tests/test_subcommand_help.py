"""Subcommand help: each `bench data` verb has its own options, every `bench report` option says
what it does, and a misspelt `--set` key fails before any data is read, with a suggestion."""
from __future__ import annotations

import argparse
import os
import subprocess
import sys

import pytest

from bench.cli import build_parser


def bench(*args, cache):
    return subprocess.run([sys.executable, "-m", "bench", *args], capture_output=True, text=True,
                          env={**os.environ, "BENCH_CACHE": str(cache)}, timeout=120)


def options_in_help(*verbs) -> set[str]:
    res = subprocess.run([sys.executable, "-m", "bench", *verbs, "--help"], capture_output=True,
                         text=True, check=True)
    return {word.strip("[],") for word in res.stdout.split() if word.startswith(("--", "[--"))}


@pytest.mark.parametrize("verb, own, foreign", [
    ("prepare", {"--to", "--layout", "--split", "--fps", "--suite"}, {"--expected", "--dataset"}),
    ("check", {"--expected", "--dataset"}, {"--to", "--layout", "--suite"}),
    ("synth", {"--suite"}, {"--to", "--expected", "--layout"}),
])
def test_each_data_verb_shows_only_its_own_options(verb, own, foreign):
    shown = options_in_help("data", verb)
    assert own <= shown, own - shown
    assert not shown & foreign, shown & foreign


def _subparser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices[name]


def test_every_report_option_has_help():
    report = _subparser(build_parser(), "report")
    options = [a for a in report._actions if a.option_strings and a.dest != "help"]
    assert {a.dest for a in options} >= {"suite", "ablation", "profile", "format", "out"}
    assert all(a.help for a in options), [a.dest for a in options if not a.help]


@pytest.mark.parametrize("args, suggestion", [
    (["run", "--suite", "mini-xsub", "--methods", "knn", "--set", "framez=3"], "'frames'"),
    (["run", "--suite", "mini-xsub", "--set", "epoch=1"], "'epochs'"),
    (["run", "--suite", "mini-xsub", "--set", "vst.codebok=16"], "'vst.codebook'"),
    (["ablate", "knn.frames", "--values", "8", "--suite", "mini-xsub", "--set", "metrc=l2"],
     "'metric'"),
])
def test_a_misspelt_set_key_fails_before_any_data(tmp_path, args, suggestion):
    cache = tmp_path / "cache"
    res = bench(*args, "--data", "synthetic", "--profile", "smoke", "--out",
                str(tmp_path / "out"), cache=cache)
    assert res.returncode == 2, res.stderr[-2000:]
    assert f"did you mean {suggestion}?" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr
    assert not cache.exists() and not (tmp_path / "out").exists()  # nothing was generated
