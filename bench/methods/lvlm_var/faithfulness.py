"""Faithfulness of LVLM-VAR's explanations by erasure (ERASER, DeYoung et al. 2020): does the
prediction rest on the tokens the explanation cites?

A token is cited when the readable description of its code makes a claim the explanation makes
too: the same body part (a side-less "hand" matches either hand) doing the same thing (a
direction, an oscillation axis, "still"; a bare "moves" matches any motion of that part). Claims
are read with the grounding metric's parser. For a seeded subset of test samples that cite at
least one token, the clip is re-scored four times: without the cited tokens, with only them,
and the same with as many tokens drawn at random (the random rationale ERASER reports beside).
Stored per sample (None where not tested): the predicted class's probability (softmax over the
class scores) on the full input and on each variant.
"""
from __future__ import annotations

import numpy as np

VARIANTS = ("p_drop_cited", "p_keep_cited", "p_drop_random", "p_keep_random")


def _claim_set(text: str) -> set[tuple[str, str]]:
    from bench.metrics.grounding import claims

    return {(side, what) for part, what in claims(text or "") for side in part.split("|")}


def _agree(a: set[tuple[str, str]], b: set[tuple[str, str]]) -> bool:
    return any(pa == pb and (wa == wb or "moving" in (wa, wb)) for pa, wa in a for pb, wb in b)


def cited_positions(tokens: list[int], text: str, descriptions: list[str]) -> list[int]:
    said = _claim_set(text)
    if not said:
        return []
    code_claims: dict[int, set] = {}
    out = []
    for i, t in enumerate(tokens):
        if t not in code_claims:
            code_claims[t] = _claim_set(descriptions[t])
        if _agree(code_claims[t], said):
            out.append(i)
    return out


def _class_prob(scores: np.ndarray, cls: int) -> float:
    z = scores.astype(np.float64) - scores.max()
    return float(np.exp(z[cls]) / np.exp(z).sum())


def erasure_test(score_fn, tokens: list[list[int]], texts: list[str], scores: np.ndarray,
                 descriptions: list[str], samples: int, seed: int,
                 batch: int = 64) -> list[dict | None]:
    """score_fn(list of token lists) -> (B, C) class scores. Returns one record (or None) per
    sample: {"cited", "tokens", "p", "p_drop_cited", "p_keep_cited", "p_drop_random",
    "p_keep_random"}."""
    records: list[dict | None] = [None] * len(tokens)
    cited = {i: cited_positions(tokens[i], texts[i], descriptions)
             for i in range(len(tokens)) if texts[i]}
    candidates = [i for i, c in cited.items() if c]
    if samples <= 0 or not candidates:
        return records
    rng = np.random.default_rng(seed)
    chosen = sorted(int(i) for i in rng.choice(candidates, min(samples, len(candidates)),
                                               replace=False))
    variants = []
    for i in chosen:
        seq, keep = tokens[i], set(cited[i])
        rand = set(rng.choice(len(seq), len(keep), replace=False).tolist())
        for subset, drop in ((keep, True), (keep, False), (rand, True), (rand, False)):
            variants.append([t for k, t in enumerate(seq) if (k in subset) != drop])
    new_scores = np.concatenate([np.asarray(score_fn(variants[s:s + batch]), dtype=np.float64)
                                 for s in range(0, len(variants), batch)])
    for j, i in enumerate(chosen):
        cls = int(np.argmax(scores[i]))
        record = {"cited": len(cited[i]), "tokens": len(tokens[i]),
                  "p": _class_prob(scores[i], cls)}
        record.update({name: _class_prob(new_scores[4 * j + v], cls)
                       for v, name in enumerate(VARIANTS)})
        records[i] = record
    return records
