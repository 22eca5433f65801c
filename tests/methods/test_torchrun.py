"""A baseline trained by torchrun on 2 processes (gloo, CPU): same result format as 1 process."""
import json
from pathlib import Path

import numpy as np
import pytest
from toys import part_swing_bundle

from bench.methods import METHODS


def train_and_predict(tmp_path: Path, name: str, nproc: int, data):
    cls = METHODS.get(name)
    config = {**cls.default_config("smoke"), "epochs": 1, "batch_size": 4, "nproc": nproc}
    method = cls(config, profile="smoke", seed=0, workdir=tmp_path / f"work{nproc}",
                 cache_dir=tmp_path / "cache")
    method.workdir.mkdir()
    method.fit(data)
    return method, method.predict(data.test, data)


def test_torchrun_on_two_processes_gives_a_single_process_result(tmp_path):
    data = part_swing_bundle(classes=3, train=4, val=1, test=2)  # 12 clips: 6 per process
    one, single = train_and_predict(tmp_path, "stgcn", 1, data)
    two, dist = train_and_predict(tmp_path, "stgcn", 2, data)

    report = json.loads((two.workdir / "dist_train.json").read_text())
    assert report["world_size"] == 2
    log = (two.workdir / "torchrun.log").read_text()
    assert "Traceback" not in log
    state1 = json.loads((one.workdir / "trained.json").read_text())
    state2 = json.loads((two.workdir / "trained.json").read_text())
    assert set(state1) == set(state2) and state2["epoch"] == 1
    assert (two.workdir / state2["checkpoint"]).is_file()
    assert two.diagnostics().keys() == one.diagnostics().keys()
    assert dist.sample_ids == single.sample_ids
    np.testing.assert_array_equal(dist.labels, single.labels)
    assert dist.scores.shape == single.scores.shape and dist.scores.dtype == single.scores.dtype
    np.testing.assert_allclose(dist.scores.sum(1), 1.0, atol=1e-4)  # clip-averaged softmax
    # each process saw half of the data per step: a different model from the 1-process one
    assert not np.allclose(dist.scores, single.scores)


def test_torchrun_failure_is_reported_with_the_log(tmp_path, monkeypatch):
    from bench.methods import mmaction_dist
    from bench.methods.mmaction_setup import import_mmaction

    cfg = import_mmaction().Config(dict(work_dir=str(tmp_path)))
    monkeypatch.setattr(mmaction_dist.sys, "executable", "false")  # a launch that fails at once
    with pytest.raises(RuntimeError, match=r"torchrun training on 2 processes failed \(exit 1; "
                                           r"log .*torchrun.log\)"):
        mmaction_dist.train_with_torchrun(cfg, 2, tmp_path)
    assert not (tmp_path / mmaction_dist.RESULT_FILE).exists()
