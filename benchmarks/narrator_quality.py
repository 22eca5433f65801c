"""The kinematic narrator (bench/methods/lvlm_var/narrator.py) against the synthetic ground truth.

    python benchmarks/narrator_quality.py [--suite ntu60-xsub] [--no-bertscore] [--examples 3]

Narrates every clip of the suite's synthetic data (generated once into the bench cache) and
prints ROUGE-L (rouge-score, stemmed, F1) and MiniLM BERTScore F1 of the narratives against the
generator's descriptions, separately on train-subject clips (train + val: where the thresholds
were tuned) and on test-subject clips, each beside two controls on the same clips: a constant
text (the most frequent narrative on train clips) and the narratives shuffled across clips
(seeded). Also: grounding (bench.metrics.grounding) of the narratives, and of the ground truth
itself beside the ground truth of the neighbouring clip (the metric's own validity check),
distinct narratives per clip, words per narrative and milliseconds per clip. The descriptions
are read here only, to score: the narrator never sees them.
"""
from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # a bare checkout runs it too


def load_clips(suite_name: str) -> dict:
    """{"train": ..., "test": ...}: keypoint, num_frames, descriptions; plus layout and fps.
    Train-subject clips are the suite's train and val splits together."""
    from bench.data.datasets import load_bundle, resolve_source
    from bench.suites import SUITES

    bundle = load_bundle(resolve_source(SUITES.get(suite_name), "synthetic"), workers=1)
    train, val, test = bundle.train, bundle.val, bundle.test
    width = max(train.keypoint.shape[2], val.keypoint.shape[2])

    def pad(k):
        return np.pad(k, [(0, 0), (0, 0), (0, width - k.shape[2]), (0, 0), (0, 0)])

    return {"layout": bundle.layout, "fps": bundle.fps,
            "train": (np.concatenate([pad(train.keypoint), pad(val.keypoint)]),
                      np.concatenate([train.num_frames, val.num_frames]),
                      list(train.descriptions) + list(val.descriptions)),
            "test": (test.keypoint, test.num_frames, list(test.descriptions))}


def narrate_timed(keypoint, num_frames, layout, fps) -> tuple[list[str], float]:
    from bench.methods.lvlm_var.narrator import narrate

    start = time.perf_counter()
    texts = narrate(keypoint, num_frames, layout, fps)
    return texts, 1000.0 * (time.perf_counter() - start) / max(len(texts), 1)


def scores(texts, refs, bertscore: bool) -> dict:
    from bench.metrics.explanation import bertscore_f1, rouge_l

    out = {"rouge_l": rouge_l(texts, refs)}
    if bertscore:
        out["bertscore"] = bertscore_f1(texts, refs)
    return out


def mean_grounding(texts, keypoint, num_frames, layout, fps) -> float:
    from bench.data.layouts import get_layout
    from bench.metrics.grounding import grounding_scores, skeleton_facts

    facts = skeleton_facts(keypoint, num_frames, get_layout(layout), fps)
    vals = [g for g in grounding_scores(texts, facts) if g is not None]
    return float(np.mean(vals)) if vals else float("nan")


def report_split(name, texts, clips, constant, args, layout, fps) -> None:
    keypoint, num_frames, refs = clips
    shuffled = list(np.random.default_rng(args.seed).permutation(np.array(texts, dtype=object)))
    rows = {"narrator": texts, "constant": [constant] * len(texts), "shuffled": shuffled}
    print(f"\n{name}-subject clips: {len(texts)}, distinct narratives {len(set(texts))} "
          f"({len(set(texts)) / len(texts):.2f} per clip), "
          f"words per narrative {np.mean([len(t.split()) for t in texts]):.1f}")
    print(f"  {'':10s} {'ROUGE-L':>8s} {'BERTScore':>10s} {'grounding':>10s}")
    for label, candidate in rows.items():
        s = scores(candidate, refs, not args.no_bertscore)
        g = mean_grounding(candidate, keypoint, num_frames, layout, fps)
        print(f"  {label:10s} {s['rouge_l']:8.3f} {s.get('bertscore', float('nan')):10.3f} "
              f"{g:10.3f}")
    # the metric's own check: true descriptions should ground high, misplaced ones low
    g_true = mean_grounding(list(refs), keypoint, num_frames, layout, fps)
    g_moved = mean_grounding(list(np.roll(np.array(refs, dtype=object), 1)), keypoint,
                             num_frames, layout, fps)
    print(f"  grounding of the ground truth {g_true:.3f}, of the ground truth moved one clip "
          f"on {g_moved:.3f}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--suite", default="ntu60-xsub")
    p.add_argument("--seed", type=int, default=0, help="seed of the shuffled control")
    p.add_argument("--no-bertscore", action="store_true", help="skip MiniLM (faster)")
    p.add_argument("--examples", type=int, default=3, help="test narratives to print beside "
                                                           "their ground truth")
    args = p.parse_args(argv)
    from bench.data.layouts import get_layout

    data = load_clips(args.suite)
    layout, fps = get_layout(data["layout"]), data["fps"]
    texts, ms = {}, {}
    for split in ("train", "test"):
        keypoint, num_frames, _ = data[split]
        texts[split], ms[split] = narrate_timed(keypoint, num_frames, layout, fps)
    constant = Counter(texts["train"]).most_common(1)[0][0]
    print(f"suite {args.suite} (synthetic), layout {layout.name}, {fps:g} fps; "
          f"{np.mean(list(ms.values())):.2f} ms per clip (one core)")
    print(f"constant control: {constant!r}")
    for split in ("train", "test"):
        report_split(split, texts[split], data[split], constant, args, data["layout"], fps)
    refs = data["test"][2]
    picks = np.random.default_rng(args.seed).choice(len(refs), min(args.examples, len(refs)),
                                                    replace=False)
    for i in sorted(picks):
        print(f"\nground truth: {refs[i]}\nnarrator:     {texts['test'][i]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
