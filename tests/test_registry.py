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


def test_every_shipped_ablation_grid_passes_the_plan_time_check():
    """Each value of each profile's grid, with the file's [set] settings, is a config its method
    accepts (the class-posterior projector once failed on the defaults it no longer fits)."""
    from bench.ablations import Sweep, load_ablations, set_config_value
    from bench.plan import check_config, method_config

    ablations = load_ablations()
    for name in ablations.names():
        axis = ablations.get(name)
        for profile, grid in axis.values.items():
            base = method_config(axis.method, profile)
            for key, value in Sweep((axis,)).fixed.items():
                base = set_config_value(base, key, value)
            for value in grid:
                check_config(axis.method, set_config_value(base, axis.config_key, value))


def test_a_new_method_is_one_module_with_its_register_literal(tmp_path, monkeypatch):
    """CONTRIBUTING's method recipe: a module declaring REGISTER is found without importing it,
    and its class loads on first use."""
    from bench import methods

    package = tmp_path / "toy_methods"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "toy.py").write_text(
        "from bench.methods.base import Method\n"
        "REGISTER = {'toy-method': {'class': 'Toy', 'tags': ['skeleton']}}\n"
        "class Toy(Method):\n"
        "    @classmethod\n"
        "    def default_config(cls, profile):\n"
        "        return {'fit_on': 'train', 'k': 1}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(methods, "METHODS", methods.Registry("method"))
    monkeypatch.setattr(methods, "TAGS", {})
    methods.register_folder(package, "toy_methods")
    assert methods.METHODS.names() == ["toy-method"] and methods.tagged("skeleton") == ["toy-method"]
    toy = methods.METHODS.get("toy-method")
    assert toy.__name__ == "Toy" and toy.with_protocol(toy.default_config("cpu"), "train+val") == {
        "fit_on": "train+val", "k": 1}


def test_a_register_that_is_not_a_literal_is_one_line_naming_the_file(tmp_path, monkeypatch):
    from bench import methods
    from bench.errors import BenchError

    (tmp_path / "bad.py").write_text("REGISTER = dict(x=1)\n")
    monkeypatch.setattr(methods, "METHODS", methods.Registry("method"))
    with pytest.raises(BenchError, match="bad.py: REGISTER must be a literal dict"):
        methods.register_folder(tmp_path, "anything")


def test_knn_follows_the_suite_protocol():
    from bench.methods import METHODS

    knn = METHODS.get("knn")
    assert knn.with_protocol(knn.default_config("cpu"), "train")["include_val"] is False
    assert knn.with_protocol(knn.default_config("smoke"), "train+val")["include_val"] is True
