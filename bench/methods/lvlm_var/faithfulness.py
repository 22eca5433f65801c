"""Faithfulness of LVLM-VAR's explanations by deletion: does the model rely on what it cites?

For a seeded subset of test samples whose explanation cites at least one of the clip's semantic
tokens (a token is cited when its readable description occurs in the explanation), the clip is
re-scored twice: without the cited tokens, and without as many tokens drawn at random from the
clip. Stored per sample (None where not tested): the predicted class's probability (softmax over
the class scores) before, after deleting the cited tokens and after the random deletion. A
faithful explanation cites tokens whose deletion hurts more than random deletion does.
"""
from __future__ import annotations

import numpy as np



def cited_positions(tokens: list[int], text: str, descriptions: list[str]) -> list[int]:
    low = (text or "").lower()
    return [i for i, t in enumerate(tokens) if descriptions[t].lower() in low]


def _class_prob(scores: np.ndarray, cls: int) -> float:
    z = scores.astype(np.float64) - scores.max()
    return float(np.exp(z[cls]) / np.exp(z).sum())


def deletion_test(score_fn, tokens: list[list[int]], texts: list[str], scores: np.ndarray,
                  descriptions: list[str], samples: int, seed: int,
                  batch: int = 64) -> list[dict | None]:
    """score_fn(list of token lists) -> (B, C) class scores. Returns one record (or None) per
    sample: {"cited", "tokens", "p", "p_cited", "p_random"}."""
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
        drop = set(cited[i])
        rand = set(rng.choice(len(tokens[i]), len(drop), replace=False).tolist())
        variants += [[t for k, t in enumerate(tokens[i]) if k not in drop],
                     [t for k, t in enumerate(tokens[i]) if k not in rand]]
    new_scores = np.concatenate([np.asarray(score_fn(variants[s:s + batch]), dtype=np.float64)
                                 for s in range(0, len(variants), batch)])
    for j, i in enumerate(chosen):
        cls = int(np.argmax(scores[i]))
        records[i] = {"cited": len(cited[i]), "tokens": len(tokens[i]),
                      "p": _class_prob(scores[i], cls),
                      "p_cited": _class_prob(new_scores[2 * j], cls),
                      "p_random": _class_prob(new_scores[2 * j + 1], cls)}
    return records
