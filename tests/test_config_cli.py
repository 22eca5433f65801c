"""`bench config METHOD [--profile P] [--set K=V]`: the resolved config a run would use, as
JSON, checked as at plan time (the same one-line errors as bench run)."""
import json

import pytest

from bench.cli import main
from bench.methods import METHODS


def config(capsys, *args):
    code = main(["config", *args])
    out = capsys.readouterr()
    return code, out.out, out.err.strip()


@pytest.mark.parametrize("method, profile", [("knn", "smoke"), ("noop", "cpu"),
                                             ("lvlm_var", "paper")])
def test_prints_the_profiles_defaults_as_json(capsys, method, profile):
    code, out, err = config(capsys, method, "--profile", profile)
    assert code == 0 and err == ""
    assert json.loads(out) == METHODS.get(method).default_config(profile)


def test_set_overrides_are_applied_and_read_as_json_else_text(capsys):
    code, out, _ = config(capsys, "knn", "--profile", "smoke", "--set", "frames=7",
                          "--set", "metric=cosine")
    expected = {**METHODS.get("knn").default_config("smoke"), "frames": 7, "metric": "cosine"}
    assert code == 0 and json.loads(out) == expected
    code, out, _ = config(capsys, "lvlm_var", "--set", "vst.codebook=128")
    assert code == 0 and json.loads(out)["vst.codebook"] == 128


def test_the_default_profile_is_cpu(capsys):
    code, out, _ = config(capsys, "knn")
    assert code == 0 and json.loads(out) == METHODS.get("knn").default_config("cpu")


@pytest.mark.parametrize("args, message", [
    (["knn", "--set", "nope=1"], "--set nope: knn has no config field 'nope' (its fields: "),
    (["lvlm_var", "--set", "vst.codebook=-3"],
     "lvlm_var config: vst.codebook must be >= 1, got -3"),
    (["lvlm_var", "--set", "vst.codebook=abc"],
     "lvlm_var config: vst.codebook='abc'; expected an int like its default 64"),
    (["nothere"], "unknown method 'nothere'"),
    (["knn", "--profile", "huge"], "unknown profile 'huge'"),
    (["knn", "--set", "frames"], "--set 'frames': expected KEY=VALUE"),
])
def test_bad_configs_are_refused_in_one_line_as_at_plan_time(capsys, args, message):
    code, out, err = config(capsys, *args)
    assert code == 2 and out == ""
    assert err.startswith(f"bench: error: {message}") and "\n" not in err
