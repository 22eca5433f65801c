import json

import pytest

from bench.data import splits
from bench.data.ntu.classes import NTU60_CLASSES, NTU120_CLASSES, class_names
from bench.data.splits import make_manifest, read_missing_list, split_names
from bench.errors import BenchError, DataError

OFFICIAL_COUNTS = [("ntu60", "xsub", 40091, 16487), ("ntu60", "xview", 37646, 18932),
                   ("ntu120", "xsub", 63026, 50919), ("ntu120", "xset", 54468, 59477)]


def available(shared_data, dataset):
    return (shared_data / "ntu-meta" / f"{dataset}_available_samples.txt").read_text().split()


def test_protocol_lists_equal_the_official_json(shared_data):
    meta = json.loads((shared_data / "ntu-meta" / "ntu_split_protocols.json").read_text())
    assert list(splits.NTU60_XSUB_TRAIN_SUBJECTS) == meta["ntu60_xsub_train_subjects"]
    assert list(splits.NTU60_XVIEW_TRAIN_CAMERAS) == meta["ntu60_xview_train_cameras"]
    assert list(splits.NTU120_XSUB_TRAIN_SUBJECTS) == meta["ntu120_xsub_train_subjects"]
    assert list(splits.NTU120_XSET_TRAIN_SETUPS) == meta["ntu120_xset_train_setups"]


def test_class_names_equal_the_official_lists(shared_data):
    for dataset, ours in (("ntu60", NTU60_CLASSES), ("ntu120", NTU120_CLASSES)):
        rows = (shared_data / "ntu-meta" / f"{dataset}_class_names.txt").read_text().splitlines()
        assert [r.split("\t")[0] for r in rows] == [f"A{i:03d}" for i in range(1, len(rows) + 1)]
        assert class_names(dataset) == [r.split("\t", 1)[1] for r in rows] == list(ours)
    with pytest.raises(BenchError, match="unknown NTU dataset"):
        class_names("ntu90")


@pytest.mark.parametrize("dataset, protocol, n_train, n_test", OFFICIAL_COUNTS)
def test_official_split_sizes(shared_data, dataset, protocol, n_train, n_test):
    manifest = make_manifest(dataset, protocol, available(shared_data, dataset), 0.1, seed=0)
    assert (len(manifest.train) + len(manifest.val), len(manifest.test)) == (n_train, n_test)
    assert not set(manifest.val) & set(manifest.train)
    assert list(manifest.val) == sorted(manifest.val)
    assert list(manifest.train) == sorted(manifest.train)
    if protocol == "xsub":  # whole subjects: 10% of the 20 / 53 training subjects
        held = {n[8:12] for n in manifest.val}
        assert len(held) == {"ntu60": 2, "ntu120": 5}[dataset]
        assert not held & {n[8:12] for n in manifest.train}
    else:
        assert len(manifest.val) == round(0.1 * n_train)


def test_missing_lists_and_available_lists_agree(shared_data):
    for dataset, missing_file, n in (("ntu60", "NTU_RGBD_samples_with_missing_skeletons.txt", 302),
                                     ("ntu120", "NTU_RGBD120_samples_with_missing_skeletons.txt",
                                      535)):
        missing = read_missing_list(shared_data / "ntu-meta" / missing_file)
        assert len(missing) == n and not missing & set(available(shared_data, dataset))


def synthetic_names():
    return [f"S{s:03d}C{c:03d}P{p:03d}R001A{a:03d}" for s in (1, 2) for c in (1, 2, 3)
            for p in (1, 2, 3, 4, 5, 8, 9, 13, 14, 15, 16, 17) for a in (1, 2)]


def test_xsub_val_holds_out_whole_training_subjects():
    names = synthetic_names()
    m = make_manifest("ntu60", "xsub", names, val_fraction=0.2, seed=3)
    perf = lambda ids: {n[8:12] for n in ids}  # noqa: E731
    assert perf(m.val) and not perf(m.val) & perf(m.train) and not perf(m.val) & perf(m.test)
    assert len(perf(m.val)) == 2  # 20% of the 10 training subjects present
    assert m.sha256 == make_manifest("ntu60", "xsub", reversed(names), 0.2, seed=3).sha256
    others = {make_manifest("ntu60", "xsub", names, 0.2, seed=s).val for s in range(6)}
    assert len(others) > 1


def test_xview_val_is_a_seeded_slice_of_train():
    names = synthetic_names()
    m = make_manifest("ntu60", "xview", names, val_fraction=0.1, seed=0)
    assert all(n[5:8] == "001" for n in m.test)
    assert len(m.val) == round(0.1 * (len(m.train) + len(m.val)))
    assert not set(m.val) & set(m.train)
    assert make_manifest("ntu60", "xview", names, 0.1, seed=0) == m
    assert make_manifest("ntu60", "xview", names, 0.0).val == ()


def test_split_names_rules():
    names = ["S002C001P001R001A060", "S001C002P003R001A001", "S001C003P045R002A120"]
    assert split_names(names, "xsub") == (["S001C003P045R002A120", "S002C001P001R001A060"],
                                          ["S001C002P003R001A001"])
    assert split_names(names, "xset") == (["S002C001P001R001A060"],
                                          ["S001C002P003R001A001", "S001C003P045R002A120"])
    assert split_names(names[:2], "xview", "ntu60") == (["S001C002P003R001A001"],
                                                         ["S002C001P001R001A060"])


def test_bad_input_is_reported():
    with pytest.raises(DataError, match="S018C001P001R001A001 is not part of ntu60"):
        split_names(["S018C001P001R001A001"], "xsub", "ntu60")
    with pytest.raises(DataError, match="listed twice"):
        split_names(["S001C001P001R001A001"] * 2, "xsub")
    with pytest.raises(BenchError, match="unknown protocol 'xset' for ntu60"):
        make_manifest("ntu60", "xset", [])


def test_read_missing_list(tmp_path):
    path = tmp_path / "missing.txt"
    path.write_text("Some prose.\nMore prose.\n\nS001C002P005R002A008\nS001C002P006R001A008\n")
    assert read_missing_list(path) == {"S001C002P005R002A008", "S001C002P006R001A008"}
    path.write_text("prose\n\nS001C002P005R002A008\noops\n")
    with pytest.raises(DataError, match="line 4: 'oops' is not an NTU sample name"):
        read_missing_list(path)
