"""Model weights by local directory or by Hugging Face model id, from the local HF cache only
(nothing is downloaded at run time)."""
import pytest

from bench.errors import BenchError
from bench.methods.lvlm_var.lm import llava15_path, local_model_dir


def _cached_model(cache, repo_id: str):
    """The layout huggingface_hub keeps a downloaded model in: refs/main -> snapshots/<commit>."""
    folder = cache / f"models--{repo_id.replace('/', '--')}"
    snapshot = folder / "snapshots" / ("a" * 40)
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text("{}")
    (folder / "refs").mkdir()
    (folder / "refs" / "main").write_text("a" * 40)
    return snapshot


def test_a_model_id_resolves_from_the_local_cache_and_a_folder_is_itself(tmp_path):
    cache = tmp_path / "hub"
    snapshot = _cached_model(cache, "llava-hf/llava-1.5-7b-hf")
    assert local_model_dir("llava-hf/llava-1.5-7b-hf", cache_dir=str(cache)) == snapshot
    assert local_model_dir(str(snapshot)) == snapshot
    assert local_model_dir("llava-hf/not-downloaded", cache_dir=str(cache)) is None
    assert local_model_dir(str(tmp_path / "no-such-folder")) is None
    assert local_model_dir("") is None


def test_a_missing_model_is_one_line_saying_how_to_get_it(monkeypatch):
    monkeypatch.delenv("BENCH_LLAVA_PATH", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(BenchError, match="local Hugging Face cache") as err:
        llava15_path({"lvlm.model_path": "llava-hf/surely-not-cached-here"})
    assert "\n" not in str(err.value)
