"""Pickle and Kinect v1 datasets as bench sources: manifests, the prepared-data cache (content
keyed, never parsed twice, never half-written), NTU -> MMAction2 pickle export, and the CLI."""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
from toys import KINECT_CLASSES, kinect_pose_data

from bench.data.ntu import loader as ntu_loader
from bench.data.pose import kinect_v1, pkl_io
from bench.data.pose import prepare as pose_prepare
from bench.data.layouts import COCO17, KINECT20, NTU25
from bench.data.pose.pkl_io import PoseData, read_pose_pickle, write_pose_pickle
from bench.data.prepared import prepared_root
from bench.data.splits import make_manifest, split_names
from bench.data.datasets import choose_data, export_pickle, load_bundle, resolve_source
from bench.errors import BenchError
from bench.suites import SUITES

@pytest.fixture
def kinect_pkl(tmp_path):
    return write_pose_pickle(tmp_path / "toy.pkl", kinect_pose_data(), KINECT20)


def _source(path, layout="kinect20", split="xsub"):
    return resolve_source(*choose_data(None, None, str(path), layout, split))


def test_pickle_source_trains_on_train_tests_on_val_and_records_the_file_hash(kinect_pkl):
    data = read_pose_pickle(kinect_pkl)
    source = _source(kinect_pkl)
    m = source.manifest
    assert source.suite.name == "toy.pkl-xsub" and source.suite.layout == "kinect20"
    assert m.test == tuple(sorted(data.split["xsub_val"]))
    assert sorted(m.train + m.val) == sorted(data.split["xsub_train"])
    # val: one whole training subject (1 or 3), carved from train only
    assert len({kinect_v1.subject_of(s) for s in m.val}) == 1 and len(m.val) == 6
    assert hashlib.sha256(kinect_pkl.read_bytes()).hexdigest()[:16] in m.dataset
    bundle = load_bundle(source)
    assert bundle.class_names == KINECT_CLASSES and bundle.layout == "kinect20"
    by_id = {a["frame_dir"]: a for a in data.annotations}
    for i, sid in enumerate(bundle.test.sample_ids):
        t = by_id[sid]["total_frames"]
        assert bundle.test.num_frames[i] == t and bundle.test.labels[i] == by_id[sid]["label"]
        assert np.array_equal(bundle.test.keypoint[i, :, :t], by_id[sid]["keypoint"])
        assert not bundle.test.keypoint[i, :, t:].any()
    # different content, different manifest
    changed = kinect_pose_data()
    changed.annotations[0]["keypoint"][0, 0, 0, 0] += 1
    write_pose_pickle(kinect_pkl, changed, KINECT20)
    assert _source(kinect_pkl).manifest.sha256 != m.sha256


def test_class_names_default_and_split_errors(tmp_path):
    path = write_pose_pickle(tmp_path / "two.pkl", kinect_pose_data(None, extra_split=True))
    with pytest.raises(BenchError, match="has splits xsub, xview: choose one with --split"):
        _source(path, split=None)
    with pytest.raises(BenchError, match=r"no split 'xset' .*available: xsub, xview"):
        _source(path, split="xset")
    source = _source(path, split="xview")
    assert source.class_names == ["class 0", "class 1", "class 2"]
    assert len(source.manifest.val) == 1  # not subject-wise: ~10% of 12 training samples
    with pytest.raises(BenchError, match="needs --layout"):
        choose_data(None, None, str(path), None, None)
    with pytest.raises(BenchError, match=r"annotations\[0\].keypoint: expected \(M, T, 25, 3\) "
                                         r"for layout ntu25, got \(1, 24, 20, 3\)"):
        _source(path, layout="ntu25", split="xsub")


def test_second_run_does_not_parse_again_and_the_key_is_the_content(kinect_pkl, tmp_path,
                                                                    monkeypatch):
    first = _source(kinect_pkl)

    def no_parsing(*args, **kwargs):
        raise AssertionError("parsed again")

    monkeypatch.setattr(pkl_io, "read_pose_pickle", no_parsing)
    again = _source(kinect_pkl)
    moved = tmp_path / "elsewhere" / kinect_pkl.name
    moved.parent.mkdir()
    shutil.copy(kinect_pkl, moved)  # new path and mtime, same bytes: same cache entry
    assert _source(moved).manifest == again.manifest == first.manifest
    assert again.prepared == first.prepared
    changed = kinect_pose_data()
    changed.annotations[5]["label"] = 2
    write_pose_pickle(moved, changed, KINECT20)
    with pytest.raises(AssertionError, match="parsed again"):
        _source(moved)


def test_interrupted_preparation_leaves_no_cache_entry(kinect_pkl, tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_CACHE", str(tmp_path / "fresh-cache"))
    save_arrays = pose_prepare.save_arrays

    def killed(folder, *args, **kwargs):
        assert (folder / "keypoint.npy").is_file()  # midway: the big array is already written
        raise KeyboardInterrupt

    monkeypatch.setattr(pose_prepare, "save_arrays", killed)
    with pytest.raises(KeyboardInterrupt):
        _source(kinect_pkl)
    assert [p.name for p in prepared_root().iterdir() if p.is_dir()] == []
    monkeypatch.setattr(pose_prepare, "save_arrays", save_arrays)
    assert len(load_bundle(_source(kinect_pkl)).train) == 6


def test_2d_coco_pickle_carries_scores_as_third_channel_and_exports_back(tmp_path):
    rng = np.random.default_rng(0)
    anns = [{"frame_dir": f"a{k % 2 + 1:02d}_s{k % 4 + 1:02d}_t{k:02d}", "label": k % 2,
             "keypoint": rng.uniform(0, 500, size=(2, 9 + k, 17, 2)).astype(np.float32),
             "keypoint_score": rng.uniform(0.1, 1, size=(2, 9 + k, 17)).astype(np.float32),
             "total_frames": 9 + k} for k in range(8)]
    ids = [a["frame_dir"] for a in anns]
    data = PoseData({"xsub_train": ids[::2], "xsub_val": ids[1::2]}, anns)
    path = write_pose_pickle(tmp_path / "coco.pkl", data)
    source = _source(path, layout="coco17")
    bundle = load_bundle(source)
    first = anns[ids.index(bundle.test.sample_ids[0])]
    t = first["total_frames"]
    assert np.array_equal(bundle.test.keypoint[0, :, :t, :, :2], first["keypoint"])
    assert np.array_equal(bundle.test.keypoint[0, :, :t, :, 2], first["keypoint_score"])
    back = read_pose_pickle(export_pickle(source, tmp_path / "back.pkl"), COCO17)
    for a, b in zip(anns, back.annotations):
        assert np.array_equal(a["keypoint"], b["keypoint"])
        assert np.array_equal(a["keypoint_score"], b["keypoint_score"])
    assert back.split == data.split and back.class_names == ["class 0", "class 1"]


@pytest.fixture(scope="module")
def ntu_export(tmp_path_factory):
    """A small synthetic NTU raw dataset, its bundle, and its export as an MMAction2 pickle."""
    from bench.data.synthetic.generator import generate_ntu

    base = tmp_path_factory.mktemp("ntu")
    root = generate_ntu(base / "raw", actions=(1, 2, 3), performers=(1, 2, 3, 4),
                        cameras=(1, 2), replications=(1,))
    with pytest.MonkeyPatch.context() as mp:  # module scope: before the per-test cache is set
        mp.setenv("BENCH_CACHE", str(base / "cache"))
        source = resolve_source(SUITES.get("mini-xsub"), str(root))
        bundle = load_bundle(source)
        out = export_pickle(source, base / "ntu.pkl")
    return root, source, bundle, out


def test_ntu_arrays_are_cached_by_content(ntu_export, tmp_path, monkeypatch):
    root, source, bundle, _ = ntu_export
    monkeypatch.setenv("BENCH_CACHE", str(tmp_path / "cache"))
    first = load_bundle(resolve_source(SUITES.get("mini-xsub"), str(root)))
    assert np.array_equal(first.train.keypoint, bundle.train.keypoint)

    def no_parsing(*args, **kwargs):
        raise AssertionError("parsed again")

    monkeypatch.setattr(ntu_loader, "write_ntu_keypoint", no_parsing)
    copy = shutil.copytree(root, tmp_path / "copy")
    again = load_bundle(resolve_source(SUITES.get("mini-xsub"), str(copy)))
    assert np.array_equal(again.train.keypoint, bundle.train.keypoint)
    assert again.manifest == bundle.manifest


def test_ntu_export_is_exact_with_mmaction_split_names(ntu_export):
    _, source, bundle, out = ntu_export
    data = read_pose_pickle(out, NTU25)
    names = sorted(source.files)
    assert set(data.split) == {"xsub_train", "xsub_val", "xview_train", "xview_val"}
    for protocol in ("xsub", "xview"):
        train, test = split_names(names, protocol, "ntu60")
        assert data.split[f"{protocol}_train"] == train and data.split[f"{protocol}_val"] == test
    assert data.class_names[:3] == bundle.class_names[:3]
    # read back as a generic pickle: same manifest (val carved by performer, like NTU's), same
    # arrays up to the person padding
    back = _source(out, layout="ntu25", split="xsub")
    ntu = make_manifest("ntu60", "xsub", names)
    assert ntu == bundle.manifest and len(ntu.val) > 0
    assert (back.manifest.train, back.manifest.val, back.manifest.test) == \
        (ntu.train, ntu.val, ntu.test)
    rebuilt = load_bundle(back)
    m = rebuilt.test.keypoint.shape[1]
    assert np.array_equal(rebuilt.test.keypoint, bundle.test.keypoint[:, :m])
    assert not bundle.test.keypoint[:, m:].any()
    assert np.array_equal(rebuilt.test.labels, bundle.test.labels)


def test_mmaction_reads_the_exported_pickle(ntu_export):
    from mmaction.datasets import PoseDataset
    from mmengine.registry import init_default_scope

    _, _, bundle, out = ntu_export
    init_default_scope("mmaction")
    pipeline = [dict(type="PreNormalize3D"), dict(type="GenSkeFeat", dataset="nturgb+d"),
                dict(type="UniformSampleFrames", clip_len=16, num_clips=1),
                dict(type="PoseDecode"), dict(type="FormatGCNInput", num_person=2),
                dict(type="PackActionInputs")]
    dataset = PoseDataset(ann_file=str(out), pipeline=pipeline, split="xsub_val", test_mode=True)
    assert len(dataset) == len(bundle.test)
    sample = dataset[0]
    assert tuple(sample["inputs"].shape) == (1, 2, 16, 25, 3)
    assert int(sample["data_samples"].gt_label[0]) == int(bundle.test.labels[0])


def test_utd_mhad_suite_converts_once(shared_data, monkeypatch):
    suite = SUITES.get("utd-mhad-xsub")
    source = resolve_source(suite, str(shared_data / "utd-mhad"))
    m = source.manifest
    assert len(m.test) == 430 and len(m.train) + len(m.val) == 431
    assert len({kinect_v1.subject_of(s) for s in m.val}) == 1
    monkeypatch.setattr(kinect_v1, "convert", lambda *a: (_ for _ in ()).throw(AssertionError))
    bundle = load_bundle(resolve_source(suite, str(shared_data / "utd-mhad")))
    assert bundle.fps == 30.0 and bundle.layout == "kinect20" and bundle.num_classes == 27
    assert bundle.test.keypoint.shape[1:] == (1, bundle.test.keypoint.shape[2], 20, 3)
    assert json.loads((source.prepared / "meta.json").read_text())["skipped"] == []


def _bench(*args):
    return subprocess.run([sys.executable, "-m", "bench", *args], capture_output=True, text=True)


def test_cli_runs_a_pickle_dataset_end_to_end(kinect_pkl, tmp_path):
    out = tmp_path / "out"
    res = _bench("run", "--data", str(kinect_pkl), "--layout", "kinect20", "--split", "xsub",
                 "--methods", "knn", "--profile", "smoke", "--out", str(out))
    assert res.returncode == 0, res.stderr
    report = out / "reports" / "toy.pkl-xsub" / "report.md"
    assert res.stdout.strip().splitlines()[-1] == str(report) and report.is_file()
    (result,) = [json.loads(p.read_text()) for p in out.glob("runs/*/result.json")]
    assert result["status"] == "done" and result["metrics"]["top1"] > 0.9
    assert result["spec"]["suite"] == "toy.pkl-xsub"
    res = _bench("ablate", "vst.codebook", "--data", str(kinect_pkl), "--layout", "kinect20",
                 "--profile", "smoke", "--values", "8,16", "--dry-run", "--out", str(out))
    planned = [line for line in res.stdout.splitlines() if line.startswith("lvlm_var-")]
    assert res.returncode == 0 and len(planned) == 2, res.stderr
    again = tmp_path / "again.pkl"
    res = _bench("data", "prepare", str(kinect_pkl), "--layout", "kinect20", "--to", "pkl",
                 str(again))
    assert res.returncode == 0 and res.stdout.strip().splitlines()[-1] == str(again)
    first, second = read_pose_pickle(kinect_pkl), read_pose_pickle(again)
    assert first.split == second.split and first.class_names == second.class_names
    for a, b in zip(first.annotations, second.annotations):
        assert a.keys() == b.keys() and np.array_equal(a["keypoint"], b["keypoint"])


@pytest.mark.parametrize("extra, message", [
    ([], "needs --layout"),
    (["--layout", "kinect20", "--split", "xview"], "no split 'xview'"),
    (["--layout", "ntu25"], "annotations[0].keypoint: expected (M, T, 25, 3) for layout ntu25"),
    (["--layout", "kinect20", "--suite", "ntu60-xsub"], "does not apply to --data"),
])
def test_cli_pickle_errors_are_one_line(kinect_pkl, extra, message):
    res = _bench("run", "--data", str(kinect_pkl), "--methods", "knn", *extra)
    assert res.returncode == 2 and message in res.stderr, res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr


def test_fps_of_a_pickle_is_declared_or_ntus(kinect_pkl):
    suite, ref = choose_data(None, None, str(kinect_pkl), "kinect20", "xsub")
    assert suite.fps == 30.0 and load_bundle(resolve_source(suite, ref)).fps == 30.0
    suite, ref = choose_data(None, None, str(kinect_pkl), "kinect20", "xsub", 15.0)
    assert suite.fps == 15.0 and load_bundle(resolve_source(suite, ref)).fps == 15.0
    with pytest.raises(BenchError, match="--fps -2.0: expected the pickle's frame rate"):
        choose_data(None, None, str(kinect_pkl), "kinect20", "xsub", -2.0)
    with pytest.raises(BenchError, match="apply only to --data FILE.pkl"):
        choose_data(None, "/data/ntu", None, None, None, 15.0)
