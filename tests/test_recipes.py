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

    assert PROFILES == recipes.PROFILES  # every profile, in the same order
    base = recipes.base("lvlm_var")
    for profile in PROFILES:
        config = check_config(default_config(profile))
        assert set(config) == set(base)
    assert default_config("paper")["lvlm.backbone"] == "llava-1.5"
    assert default_config("cpu") == base  # cpu is the base table


# --- `bench = dict(...)` blocks of the MMAction2 baseline files -------------------------------

TOY_FILE = '''# a toy baseline: MMAction2 fields around the block are not read
_base_ = 'mmaction::skeleton/stgcn/some_recipe.py'

bench = dict(
    epochs=3, lr=-0.5, weight_decay=5e-4, nesterov=True, augment=None, name='x',
    model=dict(backbone=dict(stages=[3, 5]), cls_head={'in_channels': 8}), pair=(1, 2))


def _clips(pipeline):
    return pipeline


train_cfg = dict(max_epochs=bench['epochs'])
'''


def test_a_baseline_block_is_read_as_a_literal_without_running_the_file(tmp_path):
    (tmp_path / "toy_smoke.py").write_text(TOY_FILE + "raise SystemExit('executed')\n")
    block = recipes.read_block(tmp_path / "toy_smoke.py")
    assert block == {"epochs": 3, "lr": -0.5, "weight_decay": 5e-4, "nesterov": True,
                     "augment": None, "name": "x", "pair": (1, 2),
                     "model": {"backbone": {"stages": [3, 5]}, "cls_head": {"in_channels": 8}}}
    block["model"]["backbone"]["stages"].append(7)  # callers get their own dict
    assert recipes.read_block(tmp_path / "toy_smoke.py")["model"]["backbone"]["stages"] == [3, 5]


def test_a_block_may_start_from_its_local_base_files_block(tmp_path):
    (tmp_path / "toy_cpu.py").write_text(TOY_FILE)
    (tmp_path / "wide_cpu.py").write_text(
        "_base_ = 'toy_cpu.py'\nbench = dict(_base_.bench, lr=0.1, model=dict(backbone={}))\n")
    block = recipes.read_block(tmp_path / "wide_cpu.py")
    # Python's dict(): named keys replace the base's values whole (model is not merged)
    assert block["lr"] == 0.1 and block["model"] == {"backbone": {}}
    assert block["epochs"] == 3 and block["pair"] == (1, 2)


@pytest.mark.parametrize("text, message", [
    ("x = 1\n", r"no top-level `bench = dict\(...\)` block"),
    ("bench = dict(lr=0.1 * 2)\n", r"line 1: bench holds `0.1 \* 2`, which is not a literal"),
    ("max_epochs = 3\nbench = dict(\n    epochs=max_epochs)\n",
     r"line 3: bench holds `max_epochs`, which is not a literal"),
    ("bench = dict(**other)\n", "bench holds `dict"),
    ("bench = [1, 2]\n", "bench must be a dict"),
    ("bench = dict(epochs=\n", "not valid Python"),
    ("_base_ = 'mmaction::a.py'\nbench = dict(_base_.bench)\n",
     r"_base_.bench needs `_base_` to name another baseline file"),
    ("_base_ = 'toy_smoke.py'\nbench = dict(_base_.bench)\n", "inherits itself"),
    ("bench = dict(other.bench)\n", r"the only positional argument .* is _base_.bench"),
])
def test_a_broken_block_is_one_line_naming_the_file(tmp_path, text, message):
    (tmp_path / "toy_smoke.py").write_text(text)
    with pytest.raises(BenchError, match=message) as err:
        recipes.read_block(tmp_path / "toy_smoke.py")
    assert "toy_smoke.py" in str(err.value) and "\n" not in str(err.value)


@pytest.fixture
def baseline_dir(tmp_path, monkeypatch):
    """A baselines/ content folder of the caller's own files."""
    import bench.paths

    folder = tmp_path / "baselines"
    folder.mkdir()
    monkeypatch.setattr(bench.paths, "content_dir", lambda name: tmp_path / name)
    return folder


def _toy_method():
    from bench.methods.mmaction_gcn import MMActionGCN

    class Toy(MMActionGCN):
        RECIPE = "toy"
    return Toy


FULL_BLOCK = ("bench = dict(stream='joint', model=dict(), epochs=2, repeat=1, clip_len=8, "
              "val_clips=1, test_clips=1, batch_size=4, test_batch_size=4, num_workers=0, "
              "lr=0.01, momentum=0.9, weight_decay=5e-4, nesterov=True, auto_scale_lr=False, "
              "val_interval=1, checkpoint='best', deterministic=False, nproc=1{extra})\n")


def test_a_zoo_method_config_is_its_profile_files_block(baseline_dir):
    (baseline_dir / "toy_cpu.py").write_text(FULL_BLOCK.format(extra=", fit_on='train+val'"))
    config = _toy_method().default_config("cpu")
    assert config["config"] == "toy_cpu.py" and config["fit_on"] == "train+val"
    assert config == {"config": "toy_cpu.py",
                      **recipes.read_block(baseline_dir / "toy_cpu.py")}


@pytest.mark.parametrize("extra, message", [
    (", colour='red'", r"sets \['colour'\], which Toy does not know"),
    (", epochs2=3", r"sets \['epochs2'\]"),
])
def test_a_block_with_an_unknown_key_is_refused_naming_the_file(baseline_dir, extra, message):
    (baseline_dir / "toy_smoke.py").write_text(FULL_BLOCK.format(extra=extra))
    with pytest.raises(BenchError, match=message) as err:
        _toy_method().default_config("smoke")
    assert "toy_smoke.py" in str(err.value) and "\n" not in str(err.value)


def test_a_block_missing_a_key_or_a_profile_file_is_refused(baseline_dir):
    (baseline_dir / "toy_smoke.py").write_text("bench = dict(epochs=2)\n")
    with pytest.raises(BenchError, match=r"toy_smoke.py: its bench block lacks \['auto_scale_lr'"):
        _toy_method().default_config("smoke")
    with pytest.raises(BenchError, match=r"Toy: no 'paper' recipe \(\S+toy_paper.py does not "
                       r"exist\); its profiles: smoke$"):
        _toy_method().default_config("paper")
    with pytest.raises(BenchError, match=r"Toy: unknown profile 'fast'"):
        _toy_method().default_config("fast")


# A few values of the shipped zoo recipes, frozen: a run id hashes the method config, so a
# change here re-runs that method (and needs saying why in the baseline file).
FROZEN = {
    ("stgcn", "smoke"): {"epochs": 10, "clip_len": 32, "lr": 0.025, "batch_size": 8,
                         "model": {"backbone": {"base_channels": 16, "num_stages": 4,
                                                "inflate_stages": [3], "down_stages": [3]},
                                   "cls_head": {"in_channels": 32}}},
    ("stgcn", "cpu"): {"epochs": 30, "lr": 0.05, "min_epoch_clips": 700, "fit_on": "train+val",
                       "augment": {"yaw_deg": 30, "tilt_deg": 10, "scale": 0.1}},
    ("ctrgcn", "cpu"): {"epochs": 24, "lr": 0.05, "test_clips": 2},
    ("msg3d", "cpu"): {"model": {"backbone": {"base_channels": 16, "num_gcn_scales": 8,
                                              "num_g3d_scales": 4},
                                 "cls_head": {"in_channels": 64, "dropout": 0.3}}},
    ("aagcn", "paper"): {"epochs": 16, "repeat": 5, "clip_len": 100, "lr": 0.1,
                         "auto_scale_lr": True, "num_workers": 2, "model": {}},
    ("posec3d", "paper"): {"epochs": 24, "repeat": 10, "lr": 0.2, "weight_decay": 3e-4,
                           "nesterov": False, "num_workers": 8},
    ("tsn", "paper"): {"epochs": 100, "test_clips": 25, "test_crop": "TenCrop",
                       "batch_size": 32, "video_root": None},
    ("slowonly", "cpu"): {"epochs": 30, "frame_interval": 4, "short_side": 112, "lr": 0.05},
}


@pytest.mark.parametrize("method, profile", sorted(FROZEN))
def test_the_zoo_recipes_keep_their_values(method, profile):
    from bench.methods import METHODS

    config = METHODS.get(method).default_config(profile)
    assert config["config"] == f"{method}_{profile}.py"
    for key, value in FROZEN[method, profile].items():
        assert config[key] == value and type(config[key]) is type(value), key
    fusion = METHODS.get(f"{method}-fusion").default_config(profile) \
        if method in ("stgcn", "ctrgcn", "msg3d", "aagcn") else None
    if fusion:  # a fusion trains its GCN's profile once per stream
        assert fusion["gcn_config"] == {k: v for k, v in config.items() if k != "stream"}


def test_reading_the_zoo_recipes_imports_no_mmaction():
    import subprocess
    import sys

    code = ("import sys\nfrom bench.methods import METHODS, tagged\n"
            "for m in tagged('mmaction'):\n"
            "    for p in ('smoke', 'cpu', 'paper'): METHODS.get(m).default_config(p)\n"
            "print(sorted(k for k in ('mmaction', 'mmengine', 'torch') if k in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
