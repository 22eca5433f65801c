"""Peak RSS, time and validation quality of one LVLM-VAR VST fit (issue 18).

    python benchmarks/vst_memory.py --suite ntu60-xsub --profile smoke --repeat 4 \
        --set vst.aug_copies=8 --set vst.epochs=2

Loads the suite's synthetic data (train optionally tiled `--repeat` times: a bigger train set
of the same clips), fits the VST into a fresh cache, then tokenises train and val and scores
the tokens-only bag-of-tokens classifier on val (never test). Prints one JSON line: RSS after
loading the data and peak RSS after the fit (MB, ru_maxrss), fit seconds, the VST's train
statistics and val bag-of-tokens top-1. Run one configuration per process.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--suite", default="mini-xsub")
    ap.add_argument("--profile", default="smoke")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--set", action="append", default=[])
    ap.add_argument("--no-eval", action="store_true")
    args = ap.parse_args()
    import dataclasses

    import numpy as np
    import torch

    torch.set_num_threads(1)
    from bench.data.bundle import SkeletonSet
    from bench.data.datasets import load_bundle, resolve_source
    from bench.methods.lvlm_var.method import LvlmVar
    from bench.methods.lvlm_var.stage import fit_or_load_vst
    from bench.suites import SUITES

    data = load_bundle(resolve_source(SUITES.get(args.suite), "synthetic"))
    if args.repeat > 1:
        t = data.train
        r = args.repeat
        data = dataclasses.replace(data, train=SkeletonSet(
            [f"{s}#{k}" for k in range(r) for s in t.sample_ids],
            np.concatenate([t.keypoint] * r), np.tile(t.num_frames, r), np.tile(t.labels, r)))
    cfg = LvlmVar.default_config(args.profile)
    for pair in args.set:
        key, value = pair.split("=", 1)
        cfg[key] = type(cfg[key])(value) if not isinstance(cfg[key], bool) else value == "true"
    with tempfile.TemporaryDirectory() as tmp:
        m = LvlmVar(cfg, profile=args.profile, seed=0, workdir=f"{tmp}/work",
                    cache_dir=f"{tmp}/cache")
        before = rss_mb()
        t0 = time.perf_counter()
        m.vst, _ = fit_or_load_vst(m, data)
        fit_s = time.perf_counter() - t0
        peak = rss_mb()
        out = {"suite": args.suite, "profile": args.profile, "repeat": args.repeat,
               "set": args.set, "train_clips": len(data.train), "rss_loaded_mb": round(before),
               "peak_rss_mb": round(peak), "fit_s": round(fit_s, 1),
               **{k: round(float(v), 4) for k, v in m.vst.train_stats.items()}}
        if not args.no_eval and len(data.val):
            from bench.methods.lvlm_var.token_baselines import bag_of_tokens_scores
            train_tokens, _ = m.tokenize(data.train, data)
            val_tokens, _ = m.tokenize(data.val, data)
            scores = bag_of_tokens_scores(train_tokens, data.train.labels, val_tokens, m.vst.size,
                                          data.num_classes, 0)[0]
            out["val_bow_top1"] = round(float(np.mean(scores.argmax(1) == data.val.labels)), 4)
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    sys.exit(main())
