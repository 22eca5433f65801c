"""Every Python package under bench/ is listed in pyproject.toml, so a wheel install has it too."""
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_is_in_the_wheel():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
                 ["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "bench").rglob("__init__.py")}
    assert found - listed == set()


def test_install_routes_of_the_readme_exist_as_extras():
    """`pip install 'bench[4bit]'` (bitsandbytes), `[video]` (decord), `[track]` (tensorboard):
    the extras the README and the errors name; requires-python stops where numpy 1.26.4 does."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    assert any(d.startswith("bitsandbytes") for d in extras["4bit"])
    assert any(d.startswith("decord") for d in extras["video"])
    assert any(d.startswith("tensorboard") for d in extras["track"])
    assert project["requires-python"] == ">=3.11,<3.13"
    readme = (ROOT / "README.md").read_text()
    for name in ("4bit", "video", "test"):
        assert f"[{name}]" in readme or f",{name}`" in readme, name
