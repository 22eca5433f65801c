"""RowView (bench/data/bundle.py): a split's rows of the prepared memory map behave like the
array they stand for, without copying the split."""
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
