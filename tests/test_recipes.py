"""Recipe files (baselines/<method>.toml): the only place a method's values live."""
import pytest

from bench import recipes
from bench.errors import BenchError


@pytest.fixture
def recipe_dir(tmp_path, monkeypatch):
    folder = tmp_path / "baselines"
    folder.mkdir()
    monkeypatch.setattr(recipes, "content_dir", lambda name: tmp_path / name)
    recipes._read.cache_clear()
    yield folder
    recipes._read.cache_clear()


def test_a_profile_is_base_with_its_table_on_top(recipe_dir):
    (recipe_dir / "toy.toml").write_text('[base]\n"a.b" = 1\nc = "x"\n\n[fast]\n"a.b" = 2\n\n[slow]\n')
    assert recipes.profiles("toy") == ("fast", "slow")
    assert recipes.resolve("toy", "fast") == {"a.b": 2, "c": "x"}
    assert recipes.resolve("toy", "slow") == {"a.b": 1, "c": "x"}
    recipes.resolve("toy", "fast")["c"] = "changed"  # callers get their own dict
    assert recipes.resolve("toy", "fast")["c"] == "x"


@pytest.mark.parametrize("text, message", [
    ('[base]\na = 1\n[fast]\nb = 2\n', r"\[fast\] sets \['b'\], which \[base\] does not name"),
    ('[fast]\na = 1\n', r"expected a \[base\] table"),
    ('[base]\na = \n', "not valid TOML"),
])
def test_a_broken_recipe_file_is_one_line_naming_it(recipe_dir, text, message):
    (recipe_dir / "toy.toml").write_text(text)
    with pytest.raises(BenchError, match=message) as err:
        recipes.resolve("toy", "fast")
    assert "toy.toml" in str(err.value) and "\n" not in str(err.value)


def test_an_unknown_profile_names_the_file_and_the_choices(recipe_dir):
    (recipe_dir / "toy.toml").write_text('[base]\na = 1\n[fast]\n')
    with pytest.raises(BenchError, match=r"unknown profile 'slow'; expected one of \('fast',\)"):
        recipes.resolve("toy", "slow")
    with pytest.raises(BenchError, match="unknown profile 'base'"):
        recipes.resolve("toy", "base")


def test_lvlm_var_profiles_come_from_its_recipe_file_and_pass_the_schema():
    from bench.methods.lvlm_var.config import PROFILES, check_config, default_config

    assert PROFILES == ("smoke", "cpu", "paper")
    base = recipes.base("lvlm_var")
    for profile in PROFILES:
        config = check_config(default_config(profile))
        assert set(config) == set(base)
    assert default_config("paper")["lvlm.backbone"] == "llava-1.5"
    assert default_config("cpu") == base  # cpu is the base table
