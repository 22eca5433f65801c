"""CONTRIBUTING.md's recipes, each done the documented way in a temporary folder: a metric (one
module calling register), an ablation axis (one TOML file). The method and dataset/suite recipes
are tested in test_registry.py (REGISTER literal) and test_suites.py (a suite file)."""
import numpy as np
import pytest

from bench.metrics import registry as R
from bench.specs import Predictions

METRIC_MODULE = '''
from bench.metrics.registry import Metric, register


def _error_rate(counts, weights):
    return 1.0 - (weights @ counts.hit1) / weights.sum(axis=1)


register(Metric("toy_error", "Error (%)", "classification", False,
                "share of test samples whose top-1 class is wrong.", scale=100.0, digits=1,
                from_counts=_error_rate))
'''


@pytest.fixture
def toy_metric_package(tmp_path, monkeypatch):
    package = tmp_path / "toy_metrics"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "error_rate.py").write_text(METRIC_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield package
    R.unregister("toy_error")


def test_a_new_metric_is_one_module_calling_register(toy_metric_package):
    R.load_metric_modules(toy_metric_package, "toy_metrics")
    assert R.BY_KEY["toy_error"] in R.METRICS and R.BY_KEY["toy_error"] in R.CLASSIFICATION
    p = Predictions(["a", "b", "c", "d"], np.array([0, 1, 1, 0]), np.eye(2)[[0, 1, 0, 0]])
    scored = R.score_run(p)
    assert scored["toy_error"] == pytest.approx(0.25) and scored["top1"] == pytest.approx(0.75)
    assert ("Error (%)", "share of test samples whose top-1 class is wrong.") in \
        R.appendix_entries()
    assert R.fmt("toy_error", 0.25) == "25.0"


def test_register_refuses_a_duplicate_key_and_an_unknown_kind():
    with pytest.raises(ValueError, match="already registered"):
        R.register(R.Metric("top1", "Top-1", "classification", True, "again"))
    with pytest.raises(ValueError, match="kind 'diagnostic'"):
        R.register(R.Metric("x", "X", "diagnostic", True, "not a table metric"))


def _ablations_folder_with(tmp_path, monkeypatch, text: str):
    """bench.ablations reading an ablations/ folder that holds one file, knn.frames.toml."""
    import bench.ablations as ablations

    folder = tmp_path / "ablations"
    folder.mkdir()
    (folder / "knn.frames.toml").write_text(text)
    monkeypatch.setattr(ablations, "content_dir", lambda name: tmp_path / name)
    return ablations


def test_a_new_ablation_axis_is_one_toml_file(tmp_path, monkeypatch):
    ablations = _ablations_folder_with(
        tmp_path, monkeypatch,
        'name = "knn.frames"\nmethod = "knn"\ndescription = "frames each clip is resampled to"\n'
        '\n[values]\npaper = [16, 32, 64]\ncpu = [16, 32]\nsmoke = [8, 16]\n')
    spec = ablations.load_ablations().get("knn.frames")
    assert (spec.method, spec.values["cpu"]) == ("knn", [16, 32])
    assert ablations.set_config_value({"frames": 32, "metric": "cosine"}, "frames", 16) == {
        "frames": 16, "metric": "cosine"}


def test_an_ablation_sets_what_its_axis_needs_in_every_run(tmp_path, monkeypatch):
    """An ablation file's [set] table reaches every planned run, under the swept values."""
    from bench.data.datasets import resolve_source
    from bench.plan import plan_sweep
    from bench.suites import SUITES

    ablations = _ablations_folder_with(
        tmp_path, monkeypatch, 'name = "knn.frames"\nmethod = "knn"\ndescription = "frames"\n'
        '[set]\nmetric = "euclidean"\n[values]\npaper = [16, 32]\n')
    sweep = ablations.resolve_sweep("knn.frames", ablations.load_ablations())
    source = resolve_source(SUITES.get("mini-xsub"), "synthetic")
    specs = plan_sweep(source, sweep, sweep.grids("paper"), "cpu", [0])
    assert [(s.config["frames"], s.config["metric"]) for s in specs] == [
        (16, "euclidean"), (32, "euclidean")]
