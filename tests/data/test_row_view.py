"""RowView (bench/data/bundle.py): a split's rows of the prepared memory map behave like the
array they stand for, without copying the split."""
import os

import numpy as np
import pytest

from bench.data.bundle import RowView, take_rows


@pytest.mark.parametrize("key", [3, -1, slice(1, 5), slice(None), np.array([4, 0, 2]),
                                 (2, 0), (slice(None), slice(0, 2)), (np.array([1, 3]), 0, 1),
                                 (slice(1, 4), slice(None), 2), (Ellipsis, 0), (5, Ellipsis)])
def test_indexing_a_row_view_equals_indexing_the_copied_rows(tmp_path, key):
    base = np.lib.format.open_memmap(tmp_path / "k.npy", mode="w+", dtype=np.float32,
                                     shape=(9, 2, 4, 3))
    base[:] = np.arange(base.size, dtype=np.float32).reshape(base.shape)
    idx = np.array([7, 1, 4, 0, 8, 2])
    view, copied = RowView(base, idx), np.array(base[idx])
    assert view.shape == copied.shape and len(view) == 6 and view.dtype == np.float32
    assert np.array_equal(view[key], copied[key])
    assert np.array_equal(np.asarray(view), copied)
    assert np.array_equal(np.asarray(take_rows(view, [5, 0])), copied[[5, 0]])


def _mapped_rss_kb(path) -> int:
    """Resident kB of this process's mappings of `path` (/proc/self/smaps)."""
    total, inside = 0, False
    with open("/proc/self/smaps") as f:
        for line in f:
            if "-" in line.split(" ", 1)[0]:  # a mapping's header line
                inside = line.rstrip().endswith(str(path))
            elif inside and line.startswith("Rss:"):
                total += int(line.split()[1])
    return total


@pytest.mark.skipif(not os.path.exists("/proc/self/smaps"), reason="needs Linux /proc")
def test_reading_every_row_maps_none_of_the_file(tmp_path):
    """A pass over a large split (knn's features, the VST's windows) reads rows with pread, so
    the memory map's pages never count in the process's RSS."""
    path = tmp_path / "keypoint.npy"
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(256, 2, 64, 25, 3))
    out[:] = 1.0
    del out
    base = np.load(path, mmap_mode="r")
    view = RowView(base, np.arange(256)[::-1])
    assert sum(float(view[i][0, 0, 0, 0]) for i in range(len(view))) == 256.0
    assert _mapped_rss_kb(path) < 1024  # 256 rows x 38 kB read, none of it mapped


def test_a_data_root_a_generator_marked_reports_as_synthetic(tmp_path):
    import json

    from bench.data.datasets import DataSource
    from bench.specs import DataRef

    def source(root):
        return DataSource(suite=None, root=root, files={}, manifest=None,
                          ref=DataRef("ntu-raw", location=str(root)))

    (tmp_path / "gen" / "nturgb+d_skeletons").mkdir(parents=True)
    (tmp_path / "gen" / "meta.json").write_text(json.dumps({"synthetic": True}))
    assert source(tmp_path / "gen").synthetic
    assert source(tmp_path / "gen" / "nturgb+d_skeletons").synthetic
    (tmp_path / "real").mkdir()
    assert not source(tmp_path / "real").synthetic
