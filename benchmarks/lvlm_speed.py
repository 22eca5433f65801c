"""LVLM-VAR speed and accuracy on synthetic NTU: train / inference samples per second per profile,
and the speed-up of prefix-cached class scoring over one full forward pass per class.

    python benchmarks/lvlm_speed.py [--profiles smoke,cpu] [--suite S] [--threads 2] [--out FILE.json]

smoke runs on the `mini-xsub` suite (10 classes), cpu on `ntu60-xsub` (720 train / 180 val /
540 test, 60 classes) unless `--suite` names another synthetic suite. The paper profile needs
BENCH_LLAVA_PATH (benchmarks/random_llava.py writes a random one of the real geometry). Data is generated once into the bench cache ($BENCH_CACHE). The first cpu
run also converts SmolLM2 from its GGUF into the cache; its time is part of `fit_s`.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # a bare checkout runs it too

SUITE = {"smoke": "mini-xsub", "cpu": "ntu60-xsub", "paper": "ntu60-xsub"}


def load(suite_name: str):
    from bench.data.datasets import load_bundle, resolve_source
    from bench.suites import SUITES

    return load_bundle(resolve_source(SUITES.get(suite_name), "synthetic"))


def run_profile(profile: str, overrides: dict, seed: int = 0, suite: str = "") -> dict:
    from bench.methods.lvlm_var.method import LvlmVar

    suite = suite or SUITE[profile]
    bundle = load(suite)
    cfg = {**LvlmVar.default_config(profile), **overrides}
    with tempfile.TemporaryDirectory() as tmp:
        method = LvlmVar(cfg, profile=profile, seed=seed, workdir=Path(tmp) / "work",
                         cache_dir=Path(tmp) / "cache")
        started = time.perf_counter()
        method.fit(bundle)
        fit_s = time.perf_counter() - started
        started = time.perf_counter()
        pred = method.predict(bundle.test, bundle)
        predict_s = time.perf_counter() - started
        diag = method.diagnostics()
        ranks = np.argsort(-pred.scores, axis=1)
        result = {
            "profile": profile, "suite": suite, "counts": bundle.manifest.counts(),
            "classes": bundle.num_classes, "fit_s": round(fit_s, 1), "predict_s": round(predict_s, 1),
            "total_s": round(fit_s + predict_s, 1),
            "top1": float((ranks[:, 0] == pred.labels).mean()),
            "top5": float(np.mean([y in r[:5] for r, y in zip(ranks, pred.labels)])),
            "chance": 1.0 / bundle.num_classes,
            "train_samples_per_s": round(diag["lvlm_train_samples_per_s"], 2),
            "predict_samples_per_s": round(diag["lvlm_predict_samples_per_s"], 2),
            "explained": sum(bool(t) for t in pred.texts),
            "example": pred.extra["answer"][0],
            "diagnostics": {k: round(v, 4) for k, v in diag.items()},
        }
        result["scoring"] = scoring_speedup(method, bundle)
    return result


def scoring_speedup(method, bundle, samples: int = 4) -> dict:
    """Prefix-cached batched class scoring vs a full forward pass per (sample, class), both in
    float32 (so the difference shows the method, not bf16 rounding)."""
    import torch

    bb = method.bb
    dtype, weights = bb.dtype, next(bb.model.parameters()).dtype
    bb.model.to(torch.float32)
    bb.dtype = "float32"
    try:
        return _scoring_speedup(method, bundle, samples)
    finally:
        bb.model.to(weights)
        bb.dtype = dtype


def _scoring_speedup(method, bundle, samples: int) -> dict:
    from bench.methods.lvlm_var.scoring import full_forward_scores, score_classes, shared_prefix

    tokens, _ = method.tokenize(bundle.test, bundle)
    pick = list(range(min(samples, len(tokens))))
    prompts, norm = method.prompts, method.config["lvlm.score_norm"]
    classes = prompts.scored_continuations(list(bundle.class_names))
    started = time.perf_counter()
    shared = shared_prefix(method.bb, prompts.shared())
    cached, _, _ = score_classes(method.bb, method.trie, shared,
                                 [prompts.sample_prefix(tokens[i]) for i in pick],
                                 method._vectors([tokens[i] for i in pick]), norm)
    cached_s = time.perf_counter() - started
    started = time.perf_counter()
    full = np.stack([full_forward_scores(method.bb, prompts.prefix(tokens[i]),
                                         method._vectors([tokens[i]]), classes, norm) for i in pick])
    full_s = time.perf_counter() - started
    return {"samples": len(pick), "cached_s": round(cached_s, 3), "full_s": round(full_s, 3),
            "speedup": round(full_s / max(cached_s, 1e-9), 1),
            "max_abs_diff": float(np.abs(cached.numpy() - full).max()),
            "same_argmax": bool((cached.numpy().argmax(1) == full.argmax(1)).all())}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", default="smoke,cpu")
    parser.add_argument("--suite", default="", help="synthetic suite (default: by profile)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch default)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="config override (JSON value), e.g. --set lvlm.steps=20")
    parser.add_argument("--out", help="also write the results as JSON here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    overrides = {}
    for item in args.set:
        key, _, value = item.partition("=")
        overrides[key] = json.loads(value)
    results = []
    for profile in args.profiles.split(","):
        res = run_profile(profile, overrides, suite=args.suite)
        results.append(res)
        s = res["scoring"]
        print(f"[{profile}] {res['suite']} {res['counts']}: fit {res['fit_s']}s, predict "
              f"{res['predict_s']}s, total {res['total_s']}s | top1 {res['top1']:.3f} top5 "
              f"{res['top5']:.3f} (chance {res['chance']:.3f}) | train {res['train_samples_per_s']} "
              f"samples/s, inference {res['predict_samples_per_s']} samples/s | prefix-cached "
              f"scoring {s['cached_s']}s vs full passes {s['full_s']}s for {s['samples']} samples: "
              f"x{s['speedup']} (max |diff| {s['max_abs_diff']:.2e})", flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
