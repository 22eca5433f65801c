import pytest

from bench.errors import BenchError
from bench.registry import Registry


def test_register_get_and_names():
    reg = Registry("thing")
    reg.register("b", 2)

    @reg.register("a")
    def fn():
        return 1

    assert reg.get("a") is fn and reg.get("b") == 2
    assert reg.names() == ["a", "b"] and "a" in reg and "c" not in reg


def test_duplicate_is_an_error():
    reg = Registry("thing")
    reg.register("x", 1)
    with pytest.raises(BenchError, match="duplicate thing name 'x'"):
        reg.register("x", 2)


def test_unknown_name_suggests_close_match():
    reg = Registry("suite")
    reg.register("ntu60-xsub", 1)
    with pytest.raises(BenchError, match="did you mean 'ntu60-xsub'"):
        reg.get("ntu60-xsb")


def test_lazy_entry_is_imported_on_first_get():
    reg = Registry("thing")
    reg.register("join", "os.path:join")
    import os.path

    assert reg.get("join") is os.path.join


def test_project_registries_hold_the_documented_entries():
    from bench.ablations import load_ablations
    from bench.methods import METHODS
    from bench.suites import SUITES

    assert {"ntu60-xsub", "ntu60-xview", "ntu120-xsub", "ntu120-xset"} <= set(SUITES.names())
    assert {"lvlm_var", "stgcn", "knn"} <= set(METHODS.names())
    assert {"vst.codebook", "vst.token_rate", "lora.rank"} <= set(load_ablations().names())
