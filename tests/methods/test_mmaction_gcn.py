"""MMAction2 adapter: setup (DRN stand-in, checkpoint policy), baseline configs, ST-GCN smoke."""
import pickle
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from toys import part_swing_bundle, relayout

from bench.methods import METHODS
from bench.methods.gcn_zoo import STGCN
from bench.methods.mmaction_gcn import apply_profile, load_config
from bench.methods.mmaction_setup import import_mmaction, trusted_checkpoints
from bench.paths import content_dir


class Opaque:
    """Not a tensor type: only a full unpickle can restore it."""

    def __init__(self, value):
        self.value = value


def test_import_mmaction_registers_models_and_score_metric():
    mm = import_mmaction()
    assert mm.version == "1.2.0"
    assert mm.MODELS.get("STGCN") is not None and mm.MODELS.get("RecognizerGCN") is not None
    assert mm.METRICS.get("BenchScoreDump") is not None
    assert (mm.configs_dir / "skeleton" / "stgcn").is_dir()
    assert import_mmaction() is mm
    drn_dir = Path(mmaction_package_dir()) / "models" / "localizers" / "drn"
    if not drn_dir.is_dir():  # the wheel's gap: our stand-in, which refuses to build
        with pytest.raises(RuntimeError, match="DRN is missing"):
            sys.modules["mmaction.models.localizers.drn.drn"].DRN()


def mmaction_package_dir():
    import mmaction
    return Path(mmaction.__file__).parent


def test_checkpoints_unpickle_fully_only_inside_the_run_dir(tmp_path):
    run_dir, elsewhere = tmp_path / "run", tmp_path / "elsewhere"
    run_dir.mkdir(), elsewhere.mkdir()
    payload = {"meta": Opaque(3), "state_dict": {"w": torch.ones(2)}}
    for folder in (run_dir, elsewhere):
        torch.save(payload, folder / "ckpt.pth")
    (run_dir / "link.pth").symlink_to(elsewhere / "ckpt.pth")
    original = torch.load
    with trusted_checkpoints(run_dir):
        # what mmengine does: torch.load(filename, map_location=...) without weights_only
        assert torch.load(str(run_dir / "ckpt.pth"), map_location="cpu")["meta"].value == 3
        with pytest.raises(pickle.UnpicklingError):
            torch.load(str(elsewhere / "ckpt.pth"), map_location="cpu")
        with pytest.raises(pickle.UnpicklingError):  # a link out of the run dir is foreign
            torch.load(run_dir / "link.pth", weights_only=False)
        with open(run_dir / "ckpt.pth", "rb") as f, pytest.raises(pickle.UnpicklingError):
            torch.load(f)  # a file object's origin is unknown
        torch.save({"w": torch.ones(2)}, elsewhere / "weights.pth")
        assert torch.load(elsewhere / "weights.pth")["w"].sum() == 2  # plain weights still load
    assert torch.load is original
    with pytest.raises(pickle.UnpicklingError):
        torch.load(run_dir / "ckpt.pth")  # torch's own default again outside the block


@pytest.mark.parametrize("profile", ["smoke", "cpu", "paper"])
def test_baseline_file_agrees_with_default_config(profile):
    """default_config(profile) is the whole truth: applying it to its own file changes nothing."""
    mm = import_mmaction()
    config = STGCN.default_config(profile)
    path = content_dir("baselines") / config["config"]
    cfg = load_config(mm, path)
    before = cfg.to_dict()
    apply_profile(cfg, config)
    after = cfg.to_dict()
    after["default_hooks"]["checkpoint"] = before["default_hooks"]["checkpoint"]  # retention only
    assert after == before
    assert cfg.load_from is None
    if profile == "paper":  # the published recipe
        assert (config["epochs"], config["repeat"], config["clip_len"]) == (16, 5, 100)
        assert config["test_clips"] == 10 and cfg.model.cls_head.in_channels == 256


def test_stgcn_smoke_trains_predicts_and_writes_a_pyskl_pickle(tmp_path):
    torch.set_num_threads(1)
    data = part_swing_bundle(classes=10, train=6, val=1, test=2)
    config = {**STGCN.default_config("smoke"), "epochs": 1}
    method = METHODS.get("stgcn")(config, profile="smoke", seed=0, workdir=tmp_path / "work",
                                  cache_dir=tmp_path / "cache")
    method.workdir.mkdir()
    method.fit(data)

    with open(method.ann_file, "rb") as f:
        ann = pickle.load(f)
    assert set(ann["split"]) == {"train", "val", "test"}
    assert ann["split"]["test"] == data.test.sample_ids
    records = {r["frame_dir"]: r for r in ann["annotations"]}
    assert len(records) == len(data.train) + len(data.val) + len(data.test)
    i = 0  # clip 0 of each split has a second body
    rec = records[data.train.sample_ids[i]]
    assert set(rec) >= {"frame_dir", "label", "keypoint", "total_frames"}
    t = int(data.train.num_frames[i])
    assert rec["keypoint"].dtype == np.float32 and rec["keypoint"].shape == (2, t, 25, 3)
    assert rec["total_frames"] == t and rec["label"] == data.train.labels[i]
    np.testing.assert_array_equal(rec["keypoint"], data.train.keypoint[i][:, :t])
    assert records[data.train.sample_ids[1]]["keypoint"].shape[0] == 1  # absent body dropped

    pred = method.predict(data.test, data)
    assert pred.sample_ids == data.test.sample_ids
    np.testing.assert_array_equal(pred.labels, data.test.labels)
    assert pred.scores.shape == (len(data.test), data.num_classes)
    assert np.isfinite(pred.scores).all()
    np.testing.assert_allclose(pred.scores.sum(1), 1.0, atol=1e-4)  # averaged clip probabilities

    # a fresh instance predicts from the stored checkpoint; a reordered subset stays aligned
    again = STGCN(config, profile="smoke", seed=0, workdir=tmp_path / "work",
                  cache_dir=tmp_path / "cache")
    np.testing.assert_array_equal(again.predict(data.test, data).scores, pred.scores)
    subset = data.test.subset([3, 0, 5])
    np.testing.assert_allclose(again.predict(subset, data).scores, pred.scores[[3, 0, 5]],
                               atol=1e-6)
    assert method.diagnostics()["selected_epoch"] == 1

    # same seed, same data, fresh workdir: the same model
    rerun = STGCN(config, profile="smoke", seed=0, workdir=tmp_path / "rerun",
                  cache_dir=tmp_path / "cache")
    rerun.workdir.mkdir()
    rerun.fit(data)
    np.testing.assert_array_equal(rerun.predict(data.test, data).scores, pred.scores)


@pytest.mark.parametrize("name,layout", [("stgcn", "kinect20"), ("stgcn", "coco17"),
                                         ("posec3d", "kinect20")])
def test_other_layouts_train_and_predict(tmp_path, name, layout):
    data = relayout(part_swing_bundle(classes=3, train=2, val=1, test=2), layout)
    cls = METHODS.get(name)
    method = cls({**cls.default_config("smoke"), "epochs": 1}, profile="smoke", seed=0,
                 workdir=tmp_path / "work", cache_dir=tmp_path / "cache")
    method.workdir.mkdir()
    cfg = method.build_config(import_mmaction(), data, tmp_path / "ann.pkl")
    if name == "stgcn":  # our graph dict, our transforms where MMAction2 has none
        graph = cfg.model.backbone.graph_cfg.layout
        assert graph["num_node"] == (20 if layout == "kinect20" else 17)
        types = [step["type"] for step in cfg.train_dataloader.dataset.dataset.pipeline]
        assert "LayoutGenSkeFeat" in types and "GenSkeFeat" not in types
        assert ("LayoutPreNormalize3D" if layout == "kinect20" else "PreNormalize2D") in types
    else:
        assert cfg.model.backbone.in_channels == 20  # one heatmap per joint
    method.fit(data)
    pred = method.predict(data.test, data)
    assert pred.scores.shape == (len(data.test), 3) and np.isfinite(pred.scores).all()


def test_layout_and_stream_errors_are_one_line(tmp_path):
    from bench.errors import BenchError

    data = part_swing_bundle(classes=2, train=1, val=0, test=1)
    data.layout = "kinect20"  # but 25 joints in the arrays
    method = STGCN(STGCN.default_config("smoke"), profile="smoke", seed=0, workdir=tmp_path,
                   cache_dir=tmp_path)
    with pytest.raises(BenchError, match=r"train keypoints have shape .*25, 3\); expected "
                                         r"\(N, M, T, 20, 3\) for layout kinect20"):
        method.fit(data)
    data.layout = "ntu25"
    bad = STGCN({**STGCN.default_config("smoke"), "stream": "bones"}, profile="smoke", seed=0,
                workdir=tmp_path, cache_dir=tmp_path)
    with pytest.raises(BenchError, match="stream='bones'; expected one of joint, bone, "
                                         "joint-motion, bone-motion"):
        bad.fit(data)


@pytest.mark.parametrize("stream,feats", [("joint", "j"), ("bone", "b"),
                                          ("joint-motion", "jm"), ("bone-motion", "bm")])
def test_stream_field_selects_the_gcn_input(tmp_path, stream, feats):
    data = part_swing_bundle(classes=2, train=1, val=1, test=1)
    method = STGCN({**STGCN.default_config("smoke"), "stream": stream}, profile="smoke",
                   seed=0, workdir=tmp_path, cache_dir=tmp_path)
    cfg = method.build_config(import_mmaction(), data, tmp_path / "ann.pkl")
    for loader in (cfg.train_dataloader.dataset.dataset, cfg.val_dataloader.dataset,
                   cfg.test_dataloader.dataset):
        steps = [step for step in loader.pipeline if step["type"] == "GenSkeFeat"]
        assert [(s["dataset"], s["feats"]) for s in steps] == [("nturgb+d", [feats])]


def test_cli_set_selects_the_stream_per_run():
    from bench.cli import _with_overrides
    from bench.errors import BenchError
    from bench.specs import RunSpec

    def spec(method):
        return RunSpec("mini-xsub", method, METHODS.get(method).default_config("smoke"), 0,
                       "0" * 64, "smoke", "synthetic:x")

    planned = [spec("stgcn"), spec("knn"), spec("ctrgcn-fusion")]
    changed = _with_overrides(planned, ["stream=bone", "gcn_config.epochs=3"])
    assert changed[0].config["stream"] == "bone" and changed[0].run_id != planned[0].run_id
    assert changed[1] is planned[1]  # knn has no stream: untouched
    assert changed[2].config["gcn_config"]["epochs"] == 3
    assert "stream" not in changed[2].config  # a fusion picks its streams itself
    with pytest.raises(BenchError, match=r"--set strem: none of the planned methods "
                                         r"\(ctrgcn-fusion, knn, stgcn\) has a config field"):
        _with_overrides(planned, ["strem=bone"])
    with pytest.raises(BenchError, match="expected KEY=VALUE"):
        _with_overrides(planned, ["stream"])


def test_cpu_profile_repeats_small_training_sets(tmp_path):
    data = part_swing_bundle(classes=5, train=20, val=1, test=1)  # 100 training clips
    method = STGCN(STGCN.default_config("cpu"), profile="cpu", seed=0, workdir=tmp_path,
                   cache_dir=tmp_path)
    cfg = method.build_config(import_mmaction(), data, tmp_path / "ann.pkl")
    assert cfg.train_dataloader.dataset.times == 7  # 700 clips per epoch at least
    smoke = STGCN(STGCN.default_config("smoke"), profile="smoke", seed=0, workdir=tmp_path,
                  cache_dir=tmp_path)
    assert smoke.build_config(import_mmaction(), data, tmp_path / "a.pkl") \
        .train_dataloader.dataset.times == 1


def _memory_mapped(data, path):
    """The bundle with every split's keypoints as rows of one .npy memory map (what
    load_bundle hands methods for prepared data)."""
    import dataclasses

    from bench.data.bundle import RowView

    sets = [data.train, data.val, data.test]
    np.save(path, np.concatenate([s.keypoint for s in sets]))
    base = np.load(path, mmap_mode="r")
    starts = np.cumsum([0] + [len(s) for s in sets])
    views = [dataclasses.replace(s, keypoint=RowView(base, np.arange(a, a + len(s))))
             for s, a in zip(sets, starts)]
    return dataclasses.replace(data, train=views[0], val=views[1], test=views[2])


def test_stgcn_on_a_memory_map_reads_its_rows_and_trains_and_predicts_alike(tmp_path):
    """Prepared data: the annotation records name rows of the memory map instead of holding
    keypoints (NTU120's would be gigabytes in the pickle and in MMAction2's dataset), the
    pipelines read them first; the same model and scores as with the keypoints in the file."""
    from bench.methods.gcn_models.transforms import LoadPreparedKeypoint

    torch.set_num_threads(1)
    data = part_swing_bundle(classes=10, train=6, val=1, test=2)
    mapped = _memory_mapped(data, tmp_path / "keypoint.npy")
    config = {**STGCN.default_config("smoke"), "epochs": 1}
    runs = {}
    for name, bundle in (("in memory", data), ("mapped", mapped)):
        method = STGCN(config, profile="smoke", seed=0, workdir=tmp_path / name,
                       cache_dir=tmp_path / "cache")
        method.workdir.mkdir()
        method.fit(bundle)
        with open(method.ann_file, "rb") as f:
            records = {r["frame_dir"]: r for r in pickle.load(f)["annotations"]}
        scores = method.predict(bundle.test, bundle).scores
        subset = method.predict(bundle.test.subset([3, 0, 5]), bundle).scores
        runs[name] = records, scores, subset, method.keypoint_source(bundle)
    (embedded, scores, subset, none), (rows, mapped_scores, mapped_subset, source) = runs.values()
    assert none is None and source["file"] == str(tmp_path / "keypoint.npy")
    assert all("keypoint" not in r and "prepared_row" in r for r in rows.values())
    assert all("keypoint" in r for r in embedded.values())
    import_mmaction()
    load = LoadPreparedKeypoint(**source)
    for sid, record in rows.items():  # absent second bodies dropped, padding cut, as embedded
        np.testing.assert_array_equal(load.transform(dict(record))["keypoint"],
                                      embedded[sid]["keypoint"])
    np.testing.assert_array_equal(mapped_scores, scores)
    np.testing.assert_allclose(mapped_subset, scores[[3, 0, 5]], atol=1e-6)
    np.testing.assert_allclose(mapped_subset, subset, atol=1e-6)
