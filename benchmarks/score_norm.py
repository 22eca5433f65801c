"""LVLM-VAR's class-scoring rules on one trained model, on the validation part (never test).

    python benchmarks/score_norm.py --suite utd-mhad-xsub --data-root DIR --profile cpu \
        [--set lvlm.lr=0.01] [--norms sum,constrained] [--seed 0]

Fits LVLM-VAR once as `--evaluate val` does (train part only; the validation part is what is
scored), then scores the validation clips under each `lvlm.score_norm` with the same weights,
and prints one JSON line per rule: top-1, top-5, scoring seconds, beside the bag-of-tokens
top-1 on the same tokens and chance. `--data synthetic` (the default) uses the suite's
generated data. What `bench ablate lvlm_var.lvlm.score_norm` would show, without training the
language model once per value.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # a bare checkout runs it too


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", default="ntu60-xsub")
    ap.add_argument("--data", default=None, help="synthetic (default without --data-root)")
    ap.add_argument("--data-root", default=None)
    ap.add_argument("--profile", default="cpu")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--norms", default="sum,constrained")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="LVLM-VAR config override (VALUE read as JSON, else text)")
    args = ap.parse_args(argv)

    import logging

    import numpy as np
    import torch

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")  # stage progress
    torch.set_num_threads(1)
    from bench.cli import _set_pairs
    from bench.data.datasets import choose_data, load_bundle, resolve_source
    from bench.methods.lvlm_var.method import LvlmVar

    data = args.data or (None if args.data_root else "synthetic")
    suite, ref = choose_data(args.suite, args.data_root, data)
    bundle = load_bundle(resolve_source(suite, dataclasses.replace(ref, evaluate="val")))
    cfg = {**LvlmVar.default_config(args.profile), **dict(_set_pairs(args.set))}
    labels = np.asarray(bundle.test.labels)
    with tempfile.TemporaryDirectory() as tmp:
        method = LvlmVar(cfg, profile=args.profile, seed=args.seed, workdir=f"{tmp}/work",
                         cache_dir=f"{tmp}/cache")
        started = time.perf_counter()
        method.fit(bundle)
        fit_s = time.perf_counter() - started
        method._inference_weights()
        tokens, _ = method.tokenize(bundle.test, bundle)
        from bench.methods.lvlm_var.token_baselines import bag_of_tokens_scores
        bow = bag_of_tokens_scores(method._train_tokens, method._train_labels, tokens,
                                   method.vst.size, bundle.num_classes, args.seed)[0]
        common = {"suite": suite.name, "profile": args.profile, "seed": args.seed,
                  "set": args.set, "train_clips": len(bundle.train), "val_clips": len(labels),
                  "fit_s": round(fit_s, 1), "chance": round(1 / bundle.num_classes, 4),
                  "bow_top1": round(float(np.mean(bow.argmax(1) == labels)), 4)}
        for norm in args.norms.split(","):
            method.use_score_norm(norm, bundle.class_names)
            started = time.perf_counter()
            scores = method.score_all(tokens)
            ranks = np.argsort(-scores, axis=1)
            print(json.dumps({**common, "score_norm": norm,
                              "score_s": round(time.perf_counter() - started, 1),
                              "top1": round(float(np.mean(ranks[:, 0] == labels)), 4),
                              "top5": round(float(np.mean([y in r[:5] for r, y
                                                           in zip(ranks, labels)])), 4)}),
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
