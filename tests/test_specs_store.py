import json
import subprocess
import sys

import numpy as np
import pytest

from bench.ablations import set_config_value
from bench.errors import BenchError
from bench.specs import Predictions, RunResult, RunSpec, SplitManifest
from bench.store import Store


def _spec(**over):
    base = dict(suite="ntu60-xsub", method="knn", config={"k": 1, "vst": {"codebook": 64}},
                seed=0, manifest_sha256="ab" * 32, profile="smoke", data="synthetic:x")
    base.update(over)
    return RunSpec(**base)


def test_run_id_is_stable_and_content_addressed():
    a, b = _spec(), _spec(config={"vst": {"codebook": 64}, "k": 1})  # key order does not matter
    assert a.run_id == b.run_id
    assert _spec(seed=1).run_id != a.run_id
    assert _spec(config={"k": 2, "vst": {"codebook": 64}}).run_id != a.run_id
    # Stable across processes too (no hash randomisation leaks in).
    code = ("from bench.specs import RunSpec; print(RunSpec(suite='ntu60-xsub', method='knn', "
            "config={'k': 1, 'vst': {'codebook': 64}}, seed=0, manifest_sha256='ab'*32, "
            "profile='smoke', data='synthetic:x').run_id)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == a.run_id


def test_manifest_hash_changes_with_any_id():
    m = SplitManifest("ntu60", "xsub", ("a", "b"), ("c",), ("d",))
    assert m.sha256 == SplitManifest("ntu60", "xsub", ("a", "b"), ("c",), ("d",)).sha256
    assert m.sha256 != SplitManifest("ntu60", "xsub", ("a", "b"), ("d",), ("c",)).sha256


def test_predictions_reject_mismatched_shapes():
    with pytest.raises(ValueError):
        Predictions(["a", "b"], [0], np.zeros((2, 3)))


def test_store_round_trip_and_atomic_commit(tmp_path):
    store = Store(tmp_path)
    spec = _spec()
    assert not store.is_done(spec.run_id)
    staging = store.staging_dir(spec.run_id)
    assert not store.run_dir(spec.run_id).exists()
    preds = Predictions(["s1", "s2"], [1, 0], np.array([[0.1, 0.9], [0.8, 0.2]]),
                        texts=["right hand rises", ""], extra={"reference": ["r1", "r2"]})
    store.commit(staging, RunResult(spec.run_id, spec, "done", {"top1": 1.0}), preds)
    assert store.is_done(spec.run_id) and not staging.exists()
    back = store.load_predictions(spec.run_id)
    assert back.sample_ids == ["s1", "s2"] and back.texts == ["right hand rises", ""]
    np.testing.assert_allclose(back.scores, preds.scores)
    assert back.extra["reference"] == ["r1", "r2"]
    assert json.loads((store.run_dir(spec.run_id) / "spec.json").read_text())["seed"] == 0
    store.index(RunResult(spec.run_id, spec, "done", {"top1": 1.0}))
    assert (tmp_path / "index.sqlite").exists()


def test_failed_run_is_not_done(tmp_path):
    store = Store(tmp_path)
    spec = _spec()
    store.commit(store.staging_dir(spec.run_id), RunResult(spec.run_id, spec, "failed"), None)
    assert not store.is_done(spec.run_id)


def test_set_config_value_flat_and_nested():
    assert set_config_value({"vst.codebook": 64}, "vst.codebook", 8) == {"vst.codebook": 8}
    nested = {"vst": {"codebook": 64, "dim": 32}}
    new = set_config_value(nested, "vst.codebook", 8)
    assert new == {"vst": {"codebook": 8, "dim": 32}} and nested["vst"]["codebook"] == 64
    with pytest.raises(BenchError, match="no key 'vst.nope'"):
        set_config_value(nested, "vst.nope", 1)
