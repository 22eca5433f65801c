"""The synthetic NTU generator: real naming and format, determinism, rigid bodies, descriptions,
two-person classes, the cache and atomic generation."""
from __future__ import annotations

import json
from itertools import product

import numpy as np
import pytest

from bench.data.synthetic import generator as synthetic
from bench.data.layouts import NTU25
from bench.data.synthetic.motions import Variation, perform
from bench.data.ntu.skeleton import parse_skeleton_file
from bench.data.synthetic.generator import generate_ntu, read_descriptions, synthetic_root
from bench.data.synthetic.programs import class_program, is_two_person
from bench.data.synthetic.skeleton import draw_performer, pose_joints
from bench.errors import BenchError

ACTIONS = (1, 3, 8, 9, 10, 23, 24, 27, 31, 38, 50, 58)  # 50, 58: two persons
PERFORMERS = (1, 2, 3, 4)
CAMERAS = (1, 2, 3)
SMALL = dict(actions=ACTIONS, performers=PERFORMERS, cameras=CAMERAS, replications=(1,))


@pytest.fixture(scope="module")
def small_root(tmp_path_factory):
    return generate_ntu(tmp_path_factory.mktemp("syn") / "ntu", **SMALL)


def _files(root):
    return sorted((root / synthetic.SKELETON_DIR).glob("*.skeleton"))


def read_raw(path):
    """A minimal reader, independent of bench's parser: lines must end in CRLF; returns the
    frames as lists of (info tokens, (25, 12) float64 joint array)."""
    data = path.read_bytes()
    assert data.endswith(b"\r\n") and b"\n" not in data.replace(b"\r\n", b"")
    lines = data.decode("ascii").split("\r\n")[:-1]
    pos, frames = 1, []
    for _ in range(int(lines[0])):
        count, pos = int(lines[pos]), pos + 1
        bodies = []
        for _ in range(count):
            info = lines[pos].split(" ")
            assert len(info) == 10 and lines[pos + 1] == "25"
            joints = np.array([ln.split(" ") for ln in lines[pos + 2:pos + 27]], float)
            assert joints.shape == (25, 12)
            bodies.append((info, joints))
            pos += 27
        frames.append(bodies)
    assert pos == len(lines), "data after the last frame"
    return frames


def test_names_follow_the_real_pattern(small_root):
    from bench.data.ntu.names import parse_sample_name

    names = {parse_sample_name(p.name) for p in _files(small_root)}
    expected = {(1, c, p, 1, a) for c, p, a in product(CAMERAS, PERFORMERS, ACTIONS)}
    assert {(n.setup, n.camera, n.performer, n.replication, n.action) for n in names} == expected


def test_files_round_trip_and_values_are_plausible(small_root):
    for path in _files(small_root)[::7]:
        frames = read_raw(path)
        parsed = parse_skeleton_file(path)
        assert parsed.num_frames == len(frames) and 40 <= len(frames) <= 90
        assert parsed.bodies_per_frame.tolist() == [len(f) for f in frames]
        ours = np.concatenate([j[None] for f in frames for _, j in f])
        theirs = np.concatenate([b.joints for b in parsed.bodies])
        assert np.array_equal(np.sort(ours.astype(np.float32).ravel()), np.sort(theirs.ravel()))
        for frame in frames:
            for info, j in frame:
                assert info[0].isdigit() and len(info[0]) == 17  # Kinect-like tracking ids
                x, y, z = j[:, 0], j[:, 1], j[:, 2]
                assert ((z > 1.0) & (z < 6.0)).all()  # metres from the sensor
                assert np.allclose(j[:, 3], 366.5 * x / z + 256.0, atol=1e-2)
                assert np.allclose(j[:, 4], -366.7 * y / z + 208.1, atol=1e-2)
                norms = np.linalg.norm(j[:, 7:11], axis=1)
                assert np.allclose(norms[norms > 0], 1.0, atol=1e-5)
                assert set(j[:, 11]) <= {1.0, 2.0}


def test_same_seed_same_bytes_and_samples_do_not_depend_on_each_other(tmp_path):
    one = generate_ntu(tmp_path / "a", actions=(1, 50), performers=(2,), seed=3)
    two = generate_ntu(tmp_path / "b", actions=(1, 50), performers=(2,), seed=3)
    alone = generate_ntu(tmp_path / "c", actions=(50,), performers=(2,), cameras=(3,),
                         replications=(2,), seed=3)
    other = generate_ntu(tmp_path / "d", actions=(1, 50), performers=(2,), seed=4)
    files = [p.relative_to(one) for p in _files(one)]
    assert len(files) == 2 * 3 * 2
    assert all((one / f).read_bytes() == (two / f).read_bytes() for f in files)
    assert (one / "descriptions.jsonl").read_bytes() == (two / "descriptions.jsonl").read_bytes()
    solo = _files(alone)[0]
    assert solo.read_bytes() == (one / solo.relative_to(alone)).read_bytes()
    assert all((one / f).read_bytes() != (other / f).read_bytes() for f in files)


def test_bones_keep_their_length(small_root):
    child, parent = np.array(NTU25.bones).T
    # Exactly rigid before the sensor noise ...
    rng = np.random.default_rng(0)
    for action in ACTIONS:
        performer = draw_performer(rng)
        done = perform(class_program(action), performer.variation, rng)
        for tracks in done.tracks:
            joints = pose_joints(tracks, performer.bones, 1)
            lengths = np.linalg.norm(joints[:, child] - joints[:, parent], axis=-1)
            assert np.ptp(lengths, axis=0).max() < 1e-9
    # ... and up to that noise in the files.
    for path in _files(small_root)[::5]:
        for body in parse_skeleton_file(path).bodies:
            if len(body.frames) < 11:  # a short-lived noise detection
                continue
            xyz, state = body.joints[:, :, :3].astype(float), body.joints[:, :, 11]
            lengths = np.linalg.norm(xyz[:, child] - xyz[:, parent], axis=-1)
            tracked = (state[:, child] == 2) & (state[:, parent] == 2)
            spread = [lengths[tracked[:, b], b].std() for b in range(len(child))]
            assert max(spread) < 0.03, path.name
            assert 0.2 < np.median(lengths[:, 0]) < 0.35  # spine base to spine mid, metres


def test_every_sample_has_a_description_of_what_moved(small_root):
    records = read_descriptions(small_root)
    assert set(records) == {p.stem for p in _files(small_root)}
    for name, rec in records.items():
        action = int(name[-3:])
        assert rec["label"] == action - 1
        text = rec["description"]
        assert text[0].isupper() and text.endswith(".") and "{" not in text
        assert rec["parts"] and set(rec["parts"]) <= set(NTU25.parts)
        assert rec["persons"] == (2 if is_two_person(action) else 1)
    # The three cameras film one performance: one description for all of them.
    by_take = {}
    for name, rec in records.items():
        by_take.setdefault(name[:4] + name[8:], set()).add(rec["description"])
    assert all(len(texts) == 1 for texts in by_take.values())
    drink = records["S001C001P001R001A001"]["description"]
    assert "hand" in drink and "mouth" in drink
    kick = records["S001C001P001R001A024"]["description"]
    assert "foot" in kick and "kicks forward" in kick


def test_two_person_classes_have_two_bodies(small_root):
    for path in _files(small_root):
        sf = parse_skeleton_file(path)
        long_bodies = [b for b in sf.bodies if len(b.frames) >= 11]
        persons = 2 if is_two_person(int(path.stem[-3:])) else 1
        assert len(long_bodies) == persons, path.name
        assert (sf.bodies_per_frame >= persons).mean() > 0.85


def test_noise_bodies_and_empty_frames_occur(small_root):
    parsed = [parse_skeleton_file(p) for p in _files(small_root)]
    assert any(min(len(b.frames) for b in sf.bodies) < 11 for sf in parsed)
    assert any((sf.bodies_per_frame == 0).any() for sf in parsed)


def test_every_class_has_its_own_program():
    programs = [class_program(a) for a in range(1, 121)]
    assert len({repr(p) for p in programs}) == 120
    assert [a for a in range(1, 121) if is_two_person(a)] == [*range(50, 61), *range(106, 121)]
    rng = np.random.default_rng(1)
    for action, program in enumerate(programs, start=1):
        for var in (Variation(0.75, 0.9, True), Variation(1.3, 1.1, False)):
            done = perform(program, var, rng)
            assert 48 <= done.num_frames <= 84, action
            assert all(np.isfinite(v).all() for t in done.tracks for v in t.values())


def test_synthetic_root_generates_once_and_reuses(tmp_path, monkeypatch):
    params = {"actions": [23], "performers": [1], "cameras": [1], "replications": [1]}
    root = synthetic_root(params, tmp_path)
    assert root.parent == tmp_path / "synthetic" and synthetic.is_complete(root)
    meta = json.loads((root / "meta.json").read_text())
    assert meta["num_samples"] == 1 and meta["generator_version"] == synthetic.GENERATOR_VERSION

    def fail(*args, **kwargs):
        raise AssertionError("regenerated a complete dataset")

    monkeypatch.setattr(synthetic, "generate_ntu", fail)
    assert synthetic_root(dict(params, seed=0), tmp_path) == root  # defaults hash alike
    assert synthetic_root(params, tmp_path) == root
    monkeypatch.undo()
    assert synthetic_root(dict(params, seed=1), tmp_path) != root


def test_interrupted_generation_leaves_nothing(tmp_path, monkeypatch):
    def crash(root, params):
        (root / "half-written").write_text("x")
        raise KeyboardInterrupt

    monkeypatch.setattr(synthetic, "_write_dataset", crash)
    with pytest.raises(KeyboardInterrupt):
        generate_ntu(tmp_path / "out", actions=[1])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("bad", [dict(dataset="ntu61"), dict(actions=[61]), dict(cameras=[4]),
                                 dict(performers=[0]), dict(replications=[]), dict(seed=-1),
                                 dict(dataset="ntu120", setups=[33])])
def test_bad_parameters_are_refused(tmp_path, bad):
    with pytest.raises(BenchError):
        generate_ntu(tmp_path / "out", **bad)
    assert not (tmp_path / "out").exists()


def test_existing_output_is_never_overwritten(tmp_path):
    (tmp_path / "out").mkdir()
    with pytest.raises(BenchError, match="already exists"):
        generate_ntu(tmp_path / "out", actions=[1])


# ---- NTU120 and the four official suites ------------------------------------------------------

def test_ntu120_names_setups_and_two_person_classes(tmp_path):
    from bench.data.ntu.skeleton import parse_skeleton_file

    root = generate_ntu(tmp_path / "ntu120", dataset="ntu120", actions=(61, 106, 120),
                        setups=(18, 32), cameras=(3,), performers=(106,), replications=(2,))
    files = _files(root)
    assert [p.stem for p in files] == [f"S{s:03d}C003P106R002A{a:03d}"
                                       for s in (18, 32) for a in (61, 106, 120)]
    records = read_descriptions(root)
    for path in files:
        action = int(path.stem[-3:])
        long_bodies = [b for b in parse_skeleton_file(path).bodies if len(b.frames) >= 11]
        assert len(long_bodies) == records[path.stem]["persons"] == (1 if action == 61 else 2)
        assert records[path.stem]["label"] == action - 1


# The suites' full synthetic sets (1,440 NTU60 and 2,880 NTU120 files) take about a minute to
# generate here. A sample's bytes do not depend on what else is generated, so a subset generated
# with the same seed is exactly part of the suite's set: the test plants such a subset where the
# suite's set is cached, and the run goes through the real suite, protocol and manifest.
SUBSETS = {"ntu60": dict(actions=(1, 8, 23, 24, 50, 58), cameras=(1, 2), performers=(1, 2, 3)),
           "ntu120": dict(actions=(1, 23, 50, 61, 106, 120), setups=(1, 2), cameras=(1,),
                          performers=(1, 2, 3))}


@pytest.mark.parametrize("suite_name", ["ntu60-xsub", "ntu60-xview", "ntu120-xsub",
                                        "ntu120-xset"])
def test_every_official_suite_runs_on_synthetic_data(suite_name, tmp_path, monkeypatch):
    from bench.cli import main
    from bench.suites import SUITES

    suite = SUITES.get(suite_name)
    cache = tmp_path / "cache"
    monkeypatch.setenv("BENCH_CACHE", str(cache))
    params = dict(suite.synthetic, **SUBSETS[suite.dataset])
    generate_ntu(cache / "synthetic" / synthetic.params_key(suite.synthetic), **params)
    out = tmp_path / "out"
    assert main(["run", "--suite", suite_name, "--data", "synthetic", "--methods", "knn",
                 "--profile", "smoke", "--out", str(out)]) == 0
    [result] = [json.loads(p.read_text()) for p in out.glob("runs/*/result.json")]
    assert result["status"] == "done" and result["spec"]["suite"] == suite_name
    assert result["metrics"]["top1"] > 1 / len(SUBSETS[suite.dataset]["actions"])
    report = (out / "reports" / suite_name / "report.md").read_text()
    assert "(synthetic data)" in report.splitlines()[0]
