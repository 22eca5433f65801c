"""Suites as data (suites/*.toml): facts from the dataset, the protocol applied to every method."""
import dataclasses

import pytest

from bench.errors import BenchError
from bench.suites import SUITES, suite_from_file


def test_every_suite_file_is_registered_with_its_dataset_facts():
    assert {"ntu60-xsub", "ntu60-xview", "ntu120-xsub", "ntu120-xset", "mini-xsub",
            "utd-mhad-xsub", "msr-action3d-xsub"} <= set(SUITES.names())
    msr = SUITES.get("msr-action3d-xsub")
    assert (msr.layout, msr.fps, msr.num_actions, len(msr.class_names)) == ("kinect20", 15.0, 20, 20)
    ntu = SUITES.get("ntu120-xset")
    assert (ntu.protocol, ntu.num_actions, ntu.synthetic["actions"][-1]) == ("xset", 120, 120)
    assert SUITES.get("mini-xsub").num_actions == 10


def test_real_data_suites_default_to_three_seeds_and_synthetic_ones_to_one():
    assert SUITES.get("utd-mhad-xsub").seeds == (0, 1, 2)
    assert SUITES.get("ntu60-xsub").seeds == (0,)


def test_a_suite_file_may_override_the_protocol(tmp_path):
    path = tmp_path / "toy-xsub.toml"
    path.write_text('description = "toy"\ndataset = "ntu60"\nsplit = "xsub"\n'
                    'methods = ["knn"]\nnum_actions = 4\n\n[protocol]\nseeds = [3, 4]\n'
                    '[protocol.fit_on]\ncpu = "train"\n')
    suite = suite_from_file(path)
    assert (suite.name, suite.seeds, suite.num_actions) == ("toy-xsub", (3, 4), 4)
    assert suite.fit_on_for("cpu") == "train" and suite.fit_on_for("paper") == "train+val"
    assert "validation part" in suite.protocol_line("cpu")


@pytest.mark.parametrize("body, message", [
    ('dataset = "ntu60"\nsplit = "xsub"\nmethods = []\n', r"missing \['description'\]"),
    ('description = "x"\ndataset = "kth"\nsplit = "xsub"\nmethods = []\n', "dataset 'kth'"),
    ('description = "x"\ndataset = "ntu60"\nsplit = "xsub"\nmethods = []\n[protocol]\nseeds = [-1]\n',
     "seeds=.-1.; expected a list of non-negative integers"),
    ('description = "x"\ndataset = "ntu60"\nsplit = "xsub"\nmethods = []\n'
     '[protocol.fit_on]\ncpu = "test"\n', "fit_on="),
    ('description = "x"\ndataset = "ntu60"\nsplit = "xsub"\nmethods = []\n'
     '[protocol.limit]\nquick = 0\n', "limit=.*expected a table profile = a positive number"),
])
def test_a_broken_suite_file_is_one_line_naming_it(tmp_path, body, message):
    path = tmp_path / "bad.toml"
    path.write_text(body)
    with pytest.raises(BenchError, match=message) as err:
        suite_from_file(path)
    assert str(path) in str(err.value)


def test_the_protocol_sets_what_every_method_fits_on():
    from bench.data.datasets import resolve_source
    from bench.plan import plan_suite

    suite = SUITES.get("mini-xsub")
    source = resolve_source(suite, "synthetic")
    for fit_on in ("train", "train+val"):
        ruled = dataclasses.replace(suite, fit_on={"cpu": fit_on})
        specs = plan_suite(dataclasses.replace(source, suite=ruled), ["lvlm_var"], "cpu", [0])
        assert specs[0].config["fit_on"] == fit_on
