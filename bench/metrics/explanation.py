"""Explanation-quality metrics, all computed from stored Predictions (texts and their extras).

Reference-based (against the ground-truth motion description of each sample): ROUGE-L, BLEU,
MiniLM embedding similarity, BERTScore F1. Reference-free: grounding (from the skeleton facts the
runner stored), faithfulness (from the deletion test LVLM-VAR stored), consistency (the text alone
points to the predicted class). Samples without an explanation are left out of every mean.
"""
from __future__ import annotations

import numpy as np

from bench.specs import Predictions


def rouge_l(texts: list[str], references: list[str]) -> float:
    """Mean ROUGE-L F1 over the pairs with a non-empty explanation (rouge-score, stemmed)."""
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    scores = [scorer.score(ref, text)["rougeL"].fmeasure
              for text, ref in zip(texts, references) if text and ref]
    return float(np.mean(scores)) if scores else float("nan")


def bleu(texts: list[str], references: list[str]) -> float:
    """Corpus BLEU (sacrebleu defaults: 13a tokens, exp smoothing), on a 0-100 scale."""
    import sacrebleu

    pairs = [(t, r) for t, r in zip(texts, references) if t and r]
    if not pairs:
        return float("nan")
    return float(sacrebleu.corpus_bleu([t for t, _ in pairs], [[r for _, r in pairs]]).score)


def embedding_similarity(texts: list[str], references: list[str]) -> float:
    """Mean cosine between MiniLM sentence vectors of explanation and reference."""
    from bench.metrics.text_embedding import sentence_vectors

    pairs = [(t, r) for t, r in zip(texts, references) if t and r]
    if not pairs:
        return float("nan")
    a = sentence_vectors([t for t, _ in pairs])
    b = sentence_vectors([r for _, r in pairs])
    return float(np.mean(np.sum(a * b, axis=1)))


def bertscore_pair(candidate: np.ndarray, reference: np.ndarray) -> tuple[float, float, float]:
    """(precision, recall, F1) of greedy cosine matching between unit token vectors."""
    if len(candidate) == 0 or len(reference) == 0:
        return 0.0, 0.0, 0.0
    sim = candidate @ reference.T
    p, r = float(sim.max(axis=1).mean()), float(sim.max(axis=0).mean())
    return p, r, (2 * p * r / (p + r) if p + r > 0 else 0.0)


def bertscore_f1(texts: list[str], references: list[str], chunk: int = 512) -> float:
    """Mean BERTScore F1 (MiniLM last layer, no idf weighting, no baseline rescaling)."""
    from bench.metrics.text_embedding import token_vectors

    pairs = [(t, r) for t, r in zip(texts, references) if t and r]
    if not pairs:
        return float("nan")
    f1 = []
    for start in range(0, len(pairs), chunk):  # word-piece vectors of a chunk at a time
        part = pairs[start:start + chunk]
        vecs = token_vectors([t for t, _ in part] + [r for _, r in part])
        f1 += [bertscore_pair(vecs[i], vecs[len(part) + i])[2] for i in range(len(part))]
    return float(np.mean(f1))


def class_prototypes(class_names: list[str], labels: np.ndarray,
                     references: list[str] | None) -> tuple[np.ndarray, str]:
    """A unit vector per class: the mean MiniLM vector of the class's reference descriptions when
    there are references, else the class name's vector. Returns (C, 384) and which was used."""
    from bench.metrics.text_embedding import sentence_vectors

    names = sentence_vectors(list(class_names))
    if not references or not any(references):
        return names, "class names"
    refs = sentence_vectors([r or "" for r in references])
    protos = names.copy()
    for c in range(len(class_names)):
        held = (labels == c) & np.array([bool(r) for r in references])
        if held.any():
            v = refs[held].mean(0)
            protos[c] = v / max(float(np.linalg.norm(v)), 1e-12)
    return protos, "reference descriptions"


def consistency(texts: list[str], predicted: np.ndarray, prototypes: np.ndarray) -> float:
    """Share of explanations whose nearest class prototype is the predicted class."""
    from bench.metrics.text_embedding import sentence_vectors

    idx = [i for i, t in enumerate(texts) if t]
    if not idx:
        return float("nan")
    vecs = sentence_vectors([texts[i] for i in idx])
    nearest = np.argmax(vecs @ prototypes.T, axis=1)
    return float(np.mean(nearest == predicted[idx]))


def faithfulness_summary(records: list) -> dict:
    """Mean drop of the predicted class's probability when the cited tokens are deleted, against
    deleting as many random tokens, over the samples the deletion test ran on."""
    rows = [r for r in records or [] if isinstance(r, dict) and r.get("cited")]
    if not rows:
        return {}
    cited = np.array([r["p"] - r["p_cited"] for r in rows])
    rand = np.array([r["p"] - r["p_random"] for r in rows])
    return {"faith_cited_drop": float(cited.mean()), "faith_random_drop": float(rand.mean()),
            "faithfulness": float((cited - rand).mean()), "faith_samples": len(rows)}


def explanation_metrics(texts: list[str] | None, references: list[str] | None,
                        extra: dict | None = None) -> dict:
    """The cheap scores stored in result.json at run time (no MiniLM): ROUGE-L, BLEU against the
    references, grounding and the faithfulness summary when their per-sample records exist."""
    if not texts:
        return {}
    out: dict = {"explained": int(sum(1 for t in texts if t))}
    if references and any(references):
        refs = [r or "" for r in references]
        out.update(rouge_l=rouge_l(texts, refs), bleu=bleu(texts, refs))
    extra = extra or {}
    out.update(_grounding(texts, extra.get("motion_facts")))
    out.update(faithfulness_summary(extra.get("faithfulness")))
    return out


def _grounding(texts: list[str], facts: list | None) -> dict:
    from bench.metrics.grounding import grounding_scores

    if not facts:
        return {}
    scores = [s for s in grounding_scores(texts, facts) if s is not None]
    return {"grounding": float(np.mean(scores)) if scores else float("nan"),
            "grounding_samples": len(scores)}


def explanation_quality(p: Predictions, class_names: list[str]) -> dict:
    """Every explanation metric of one run (used by reports; loads MiniLM)."""
    if p.texts is None:
        return {}
    texts = [t or "" for t in p.texts]
    refs = p.extra.get("reference")
    out: dict = {"explained": sum(1 for t in texts if t), "samples": len(texts)}
    if refs and any(refs):
        refs = [r or "" for r in refs]
        out.update(rouge_l=rouge_l(texts, refs), bleu=bleu(texts, refs),
                   bertscore_f1=bertscore_f1(texts, refs),  # first: it fills the vector cache
                   embedding_similarity=embedding_similarity(texts, refs))
    out.update(_grounding(texts, p.extra.get("motion_facts")))
    out.update(faithfulness_summary(p.extra.get("faithfulness")))
    protos, source = class_prototypes(class_names, p.labels, refs)
    out["consistency"] = consistency(texts, np.argmax(p.scores, axis=1), protos)
    out["consistency_prototypes"] = source
    return out
