"""Stream fusion: weighted sums aligned by sample id, never by position."""
from pathlib import Path

import numpy as np
import pytest
from toys import part_swing_bundle

from bench.errors import BenchError
from bench.methods.fusion import DEFAULT_WEIGHTS, STREAMS, fuse, fuse_files, load_scores
from bench.specs import Predictions

IDS = [f"S001C001P00{p}R001A00{a}" for p in (1, 2, 3) for a in (1, 2)]


def stream_predictions(seed: int, classes: int = 4) -> Predictions:
    rng = np.random.default_rng(seed)
    labels = np.arange(len(IDS)) % classes
    return Predictions(list(IDS), labels, rng.random((len(IDS), classes)).astype(np.float32))


def save(pred: Predictions, path: Path, order=None) -> Path:
    """Write a store-format predictions.npz, rows in `order`."""
    order = np.arange(len(pred.sample_ids)) if order is None else np.asarray(order)
    np.savez(path, sample_ids=np.array(pred.sample_ids)[order], labels=pred.labels[order],
             scores=pred.scores[order])
    return path


def test_default_weights_are_two_two_one_one():
    assert STREAMS == ("joint", "bone", "joint-motion", "bone-motion")
    assert DEFAULT_WEIGHTS == (2, 2, 1, 1)


def test_fused_scores_do_not_depend_on_the_order_of_the_files(tmp_path):
    preds = [stream_predictions(seed) for seed in range(4)]
    expected = sum(w * p.scores for w, p in zip(DEFAULT_WEIGHTS, preds))
    in_order = fuse_files([save(p, tmp_path / f"{s}.npz") for p, s in zip(preds, STREAMS)])
    rng = np.random.default_rng(0)
    shuffled = fuse_files([save(p, tmp_path / f"{s}-shuffled.npz", rng.permutation(len(IDS)))
                           for p, s in zip(preds, STREAMS)])
    assert in_order.sample_ids == IDS
    np.testing.assert_allclose(in_order.scores, expected, rtol=1e-6)
    np.testing.assert_array_equal(in_order.labels, preds[0].labels)
    # the first file's row order is kept; every row is the same sample's fused score
    by_id = dict(zip(shuffled.sample_ids, shuffled.scores))
    for sid, row in zip(in_order.sample_ids, in_order.scores):
        np.testing.assert_allclose(by_id[sid], row, rtol=1e-6)
    assert dict(zip(shuffled.sample_ids, shuffled.labels.tolist())) == \
        dict(zip(IDS, preds[0].labels.tolist()))


def test_reversed_rows_would_fuse_differently_by_position():
    """The test above means something: aligning by position gives another result."""
    a, b = stream_predictions(0), stream_predictions(1)
    flipped = Predictions(b.sample_ids[::-1], b.labels[::-1], b.scores[::-1])
    np.testing.assert_allclose(fuse([a, flipped], [1, 1]).scores, a.scores + b.scores, rtol=1e-6)
    assert not np.allclose(a.scores + flipped.scores, a.scores + b.scores)


def test_mismatched_ids_are_a_clear_error(tmp_path):
    a, b = stream_predictions(0), stream_predictions(1)
    fewer = Predictions(b.sample_ids[:-1], b.labels[:-1], b.scores[:-1])
    with pytest.raises(BenchError, match=r"sample ids of bone do not match joint: 1 missing "
                                         r"\(e.g. \['S001C001P003R001A002'\]\), 0 extra"):
        fuse([a, fewer], [2, 2], ["joint", "bone"])
    renamed = Predictions(["X" + s for s in b.sample_ids], b.labels, b.scores)
    with pytest.raises(BenchError, match="6 missing .* 6 extra"):
        fuse([a, renamed], [2, 2], ["joint", "bone"])
    twice = Predictions(a.sample_ids[:-1] + a.sample_ids[:1], a.labels, a.scores)
    with pytest.raises(BenchError, match="lists sample S001C001P001R001A001 more than once"):
        fuse([a, twice], [1, 1])
    relabelled = Predictions(a.sample_ids, (a.labels + 1) % 4, a.scores)
    with pytest.raises(BenchError, match="labels sample"):
        fuse([a, relabelled], [1, 1])
    with pytest.raises(BenchError, match="one weight and name per stream"):
        fuse([a, b], [2, 2, 1, 1])


def test_score_files_are_checked(tmp_path):
    np.savez(tmp_path / "bad.npz", sample_ids=np.array(IDS), labels=np.zeros(len(IDS)))
    with pytest.raises(BenchError, match=r"bad.npz: field 'scores' missing"):
        load_scores(tmp_path / "bad.npz")
    np.savez(tmp_path / "short.npz", sample_ids=np.array(IDS), labels=np.zeros(len(IDS)),
             scores=np.zeros((2, 3)))
    with pytest.raises(BenchError, match=r"short.npz: field scores has shape \(2, 3\)"):
        load_scores(tmp_path / "short.npz")
    with pytest.raises(BenchError, match="score file not found"):
        load_scores(tmp_path / "absent.npz")


def test_fusion_method_trains_each_stream_and_fuses_them(tmp_path):
    from bench.methods import METHODS

    cls = METHODS.get("stgcn-fusion")
    config = cls.default_config("smoke")
    assert config["streams"] == list(STREAMS) and config["weights"] == list(DEFAULT_WEIGHTS)
    assert "stream" not in config["gcn_config"]
    config.update(streams=["joint", "bone"], weights=[2.0, 1.0])
    config["gcn_config"]["epochs"] = 1
    data = part_swing_bundle(classes=3, train=2, val=1, test=2)
    method = cls(config, profile="smoke", seed=0, workdir=tmp_path / "work",
                 cache_dir=tmp_path / "cache")
    method.fit(data)
    assert (tmp_path / "work" / "joint" / "trained.json").is_file()
    assert (tmp_path / "work" / "bone" / "trained.json").is_file()
    fused = method.predict(data.test, data)
    gcn = METHODS.get("stgcn")
    streams = [gcn({**config["gcn_config"], "stream": s}, profile="smoke", seed=0,
                   workdir=tmp_path / "work" / s, cache_dir=tmp_path / "cache").predict(
                       data.test, data) for s in ("joint", "bone")]
    np.testing.assert_allclose(fused.scores, 2 * streams[0].scores + streams[1].scores,
                               rtol=1e-5)
    assert not np.allclose(streams[0].scores, streams[1].scores)  # the streams differ
    assert set(method.diagnostics()) == {"top1_joint", "top1_bone"}
