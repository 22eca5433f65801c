"""Full-size synthetic NTU (`bench data synth --full`): the exact sample names of the real
datasets, files the project's own reader parses, two bodies exactly for two-person actions,
real-looking lengths, classes that differ, and a cache entry that is complete or absent.
Files are generated for a few names only; the full-size run is benchmarks/scale.py's."""
from __future__ import annotations

import json

import numpy as np
import pytest

from bench.data.synthetic import full as sf
from bench.data.ntu.missing_skeletons import missing_skeleton_samples
from bench.data.ntu.skeleton import parse_skeleton_bytes, parse_skeleton_file, to_keypoint
from bench.errors import BenchError

SAMPLE_SIZES = {"ntu60": (56_880, 56_578), "ntu120": (114_480, 113_945)}


def official_list(shared_data, dataset):
    path = shared_data / "ntu-meta" / f"{dataset}_available_samples.txt"
    if not path.exists():
        pytest.skip(f"{path} not present")
    return path.read_text().split()


@pytest.mark.parametrize("dataset", ["ntu60", "ntu120"])
def test_names_are_exactly_the_official_available_samples(shared_data, dataset):
    official = official_list(shared_data, dataset)
    names = sf.available_names(dataset)
    assert len(names) == len(official) == SAMPLE_SIZES[dataset][1]
    assert names == sorted(set(official))  # sorted, no duplicates, the same set
    recorded = sf.recorded_names(dataset)
    assert len(recorded) == SAMPLE_SIZES[dataset][0]
    assert set(recorded) - set(names) == missing_skeleton_samples(dataset)


def test_names_without_the_shared_lists():
    """What holds without ../shared: the dataset's sizes and NTU60 inside NTU120."""
    for dataset, (recorded, available) in SAMPLE_SIZES.items():
        assert len(sf.recorded_names(dataset)) == recorded
        assert len(sf.available_names(dataset)) == available
    assert set(sf.available_names("ntu60")) <= set(sf.available_names("ntu120"))


def test_frame_counts_look_real():
    counts = np.array([sf.frame_count(n) for n in sf.available_names("ntu120")])
    assert counts.min() == sf.MIN_FRAMES and counts.max() == sf.MAX_FRAMES
    assert 60 < counts.mean() < 110
    assert 0.005 < (counts > 200).mean() < 0.05  # a few long takes


# One- and two-person actions of both halves, several setups, cameras and performers.
PICK = ["S001C001P001R001A001", "S001C002P002R002A050", "S007C003P025R001A023",
        "S017C001P003R002A060", "S018C002P041R001A061", "S021C003P055R002A106",
        "S032C001P102R002A120", "S029C002P088R001A090"]


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    root = tmp_path_factory.mktemp("full") / "ntu120"
    return sf.generate_full(root, "ntu120", names=PICK, workers=1)


def test_files_parse_with_the_project_reader(generated):
    files = sorted((generated / sf.SKELETON_DIR).glob("*.skeleton"))
    assert [f.stem for f in files] == sorted(PICK)
    for path in files:
        data = path.read_bytes()
        assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")  # CRLF throughout
        fast, exact = parse_skeleton_file(path), parse_skeleton_bytes(data, str(path), fast=False)
        bodies = 2 if int(path.stem[-3:]) in sf.TWO_PERSON else 1
        assert len(fast.bodies) == len(exact.bodies) == bodies
        assert sf.MIN_FRAMES <= fast.num_frames == sf.frame_count(path.stem) <= sf.MAX_FRAMES
        assert (fast.bodies_per_frame == bodies).all()
        for a, b in zip(fast.bodies, exact.bodies):
            np.testing.assert_array_equal(a.joints, b.joints)
            assert a.joints.shape == (fast.num_frames, 25, 12) and np.isfinite(a.joints).all()
        keypoint, _ = to_keypoint(fast)
        xyz = keypoint[:bodies]
        assert (xyz[..., 2] > 0.4).all()  # in front of the camera
        height = xyz[:, :, 3, 1] - xyz[:, :, 15, 1]  # head over left foot
        assert (height > 1.0).all() and (height < 2.2).all()


def test_meta_descriptions_and_completeness(generated):
    meta = json.loads((generated / sf.META_FILE).read_text())
    assert meta["num_samples"] == len(PICK) and meta["synthetic"] is True
    records = [json.loads(line) for line in (generated / sf.DESCRIPTIONS_FILE).open()]
    assert [r["sample_id"] for r in records] == sorted(PICK)
    for r in records:
        assert r["label"] == int(r["sample_id"][-3:]) - 1
        assert r["persons"] == (2 if r["label"] + 1 in sf.TWO_PERSON else 1)
        assert r["description"]
    assert sf.is_complete(generated)


def test_incomplete_folder_is_not_complete(tmp_path):
    root = sf.generate_full(tmp_path / "x", "ntu60", names=PICK[:2], workers=1)
    next((root / sf.SKELETON_DIR).iterdir()).unlink()
    assert not sf.is_complete(root)
    with pytest.raises(BenchError, match="already exists"):
        sf.generate_full(root, "ntu60", names=PICK[:2])


def test_bytes_depend_on_name_and_seed_only():
    a = bytes(sf.skeleton_bytes(PICK[0])[0])
    sf.skeleton_bytes(PICK[2])  # something else in between
    assert bytes(sf.skeleton_bytes(PICK[0])[0]) == a
    assert bytes(sf.skeleton_bytes(PICK[0], seed=1)[0]) != a


def motion_feature(name):
    """Per joint, its mean offset from the spine base and its spread over time (metres)."""
    keypoint, _ = to_keypoint(parse_skeleton_bytes(bytes(sf.skeleton_bytes(name)[0])))
    body = keypoint[0] - keypoint[0][:, :1]
    return np.concatenate([body.mean(0).ravel(), body.std(0).ravel()])


def test_different_actions_look_different():
    """Leave-one-out 1-NN over takes by different performers, cameras and setups."""
    actions = (1, 8, 24, 35)  # drink water, sit down, kick something, nod head
    takes = [n for n in sf.available_names("ntu60") if int(n[-3:]) in actions]
    takes = [takes[i] for i in np.random.default_rng(0).choice(len(takes), 48, replace=False)]
    features = np.stack([motion_feature(n) for n in takes])
    labels = np.array([int(n[-3:]) for n in takes])
    distance = np.linalg.norm(features[:, None] - features[None], axis=-1)
    np.fill_diagonal(distance, np.inf)
    accuracy = (labels[distance.argmin(1)] == labels).mean()
    assert accuracy > 0.8, accuracy


def test_prepare_reads_the_generated_folder(generated):
    from bench.data.datasets import choose_data, load_bundle, resolve_source

    suite, ref = choose_data("ntu120-xsub", str(generated), None)
    bundle = load_bundle(resolve_source(suite, ref))
    ids = bundle.train.sample_ids + bundle.val.sample_ids + bundle.test.sample_ids
    assert sorted(ids) == sorted(PICK)
    for part in (bundle.train, bundle.val, bundle.test):
        assert part.keypoint.shape[1:] == (2, max(map(sf.frame_count, PICK)), 25, 3)
        for i, sample in enumerate(part.sample_ids):
            assert part.labels[i] == int(sample[-3:]) - 1
            assert part.num_frames[i] == sf.frame_count(sample)


def test_unknown_dataset_is_one_line():
    with pytest.raises(BenchError, match="NTU RGB\\+D only") as err:
        sf.full_synthetic_root("utd-mhad", "/nonexistent")
    assert "\n" not in str(err.value)


def test_cli_full_synth_generates_once_into_the_cache(monkeypatch, capsys, tmp_path):
    from pathlib import Path

    from bench.cli import main

    monkeypatch.setenv("BENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(sf, "available_names", lambda dataset: PICK[:3])
    assert main(["data", "synth", "--full", "--suite", "ntu120-xset"]) == 0
    root = Path(capsys.readouterr().out.strip().splitlines()[-1])
    assert root.parent == tmp_path / "cache" / sf.CACHE_DIR and sf.is_complete(root)
    stamps = sorted(p.stat().st_mtime_ns for p in (root / sf.SKELETON_DIR).iterdir())
    assert main(["data", "synth", "--full", "--suite", "ntu120-xset"]) == 0  # a cache hit
    assert capsys.readouterr().out.strip().splitlines()[-1] == str(root)
    assert sorted(p.stat().st_mtime_ns for p in (root / sf.SKELETON_DIR).iterdir()) == stamps
    assert main(["data", "synth", "--full", "--suite", "utd-mhad-xsub"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("bench: error:") and "NTU RGB+D only" in err and "\n" not in err
