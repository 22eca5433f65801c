"""Explanation-quality metrics, all computed from stored Predictions (texts, extras, context).

Reference-based (against the ground-truth motion description of each sample): ROUGE-L, BLEU,
MiniLM embedding similarity, MiniLM BERTScore. Reference-free: grounding (from the skeleton facts
the runner stored), faithfulness (ERASER erasure records LVLM-VAR stored), consistency (the text
alone points to the predicted class). Each text score also runs on control texts for the same
clips (`control_texts`). Samples without an explanation are left out of every mean. Which
metrics exist, their columns and definitions: `bench.metrics.registry`.
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
    """Mean BERTScore F1 with MiniLM-L6 (layer 6 = last, no idf weighting, no baseline
    rescaling): not comparable with published BERTScore (roberta-large, layer 17)."""
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


def class_prototypes(class_names: list[str], labels: np.ndarray, references: list[str] | None,
                     train_texts: dict | None = None) -> tuple[np.ndarray, str]:
    """A unit vector per class: the mean MiniLM vector of the class's train explanations
    (Predictions.context["train_texts"]) when the run stored them, else of the class's reference
    descriptions of the test clips, else the class name's vector. Returns (C, 384) and which
    source the prototypes came from."""
    from bench.metrics.text_embedding import sentence_vectors

    protos = sentence_vectors(list(class_names))
    sources = {c: "class names" for c in range(len(class_names))}
    refs = [r or "" for r in references] if references and any(references) else None
    for c in range(len(class_names)):
        held = [t for t in (train_texts or {}).get(str(c)) or [] if t]
        if held:
            sources[c] = "train explanations"
        elif refs is not None:
            held = [r for r, y in zip(refs, labels) if r and y == c]
            sources[c] = "reference descriptions" if held else sources[c]
        if held:
            v = sentence_vectors(held).mean(0)
            protos[c] = v / max(float(np.linalg.norm(v)), 1e-12)
    return protos, _source_note(sources)


def _source_note(sources: dict[int, str]) -> str:
    kinds = sorted(set(sources.values()))
    if len(kinds) == 1:
        return kinds[0]
    return ", ".join(f"{k} ({sum(v == k for v in sources.values())} classes)" for k in kinds)


def consistency(texts: list[str], predicted: np.ndarray, prototypes: np.ndarray) -> float:
    """Share of explanations whose nearest class prototype is the predicted class."""
    from bench.metrics.text_embedding import sentence_vectors

    idx = [i for i, t in enumerate(texts) if t]
    if not idx:
        return float("nan")
    vecs = sentence_vectors([texts[i] for i in idx])
    nearest = np.argmax(vecs @ prototypes.T, axis=1)
    return float(np.mean(nearest == predicted[idx]))


# ---- faithfulness (ERASER) ---------------------------------------------------------------------

def _size(x) -> int:
    """'cited' / 'tokens' are counts, or the lists of positions themselves."""
    return len(x) if isinstance(x, (list, tuple)) else int(x or 0)


def erasure_records(extra: dict) -> list:
    """Per-sample records: Predictions.extra["erasure"], or the deletion records older runs
    stored as extra["faithfulness"] (keys p, p_cited, p_random)."""
    return extra.get("erasure") or extra.get("faithfulness") or []


def erasure_summary(records: list) -> dict:
    """ERASER comprehensiveness and sufficiency (DeYoung et al. 2020) of the cited tokens, each
    beside a random rationale of the same size, and the deletion score over the samples that
    cite fewer tokens than they have (citing every token makes deletion zero by construction)."""
    rows = [r for r in records or [] if isinstance(r, dict) and _size(r.get("cited"))]
    out: dict = {}
    full = [r for r in rows if "p_keep_cited" in r]
    if full:
        gap = lambda key: float(np.mean([r["p"] - r[key] for r in full]))  # noqa: E731
        out.update(comprehensiveness=gap("p_drop_cited"),
                   comprehensiveness_random=gap("p_drop_random"),
                   sufficiency=gap("p_keep_cited"), sufficiency_random=gap("p_keep_random"),
                   erasure_samples=len(full))
    partial = [r for r in rows if "tokens" not in r or _size(r["cited"]) < _size(r["tokens"])]
    if partial:
        cited = np.array([r["p"] - r.get("p_drop_cited", r.get("p_cited")) for r in partial])
        rand = np.array([r["p"] - r.get("p_drop_random", r.get("p_random")) for r in partial])
        out.update(faith_cited_drop=float(cited.mean()), faith_random_drop=float(rand.mean()),
                   faithfulness=float((cited - rand).mean()), faith_samples=len(partial))
    return out


# ---- controls ----------------------------------------------------------------------------------

CONTROLS = ("constant", "shuffled", "template", "decoded")
SHUFFLE_SEED = 0  # the shuffled control's permutation: numpy default_rng(SHUFFLE_SEED)


def control_texts(p: Predictions, texts: list[str]) -> dict[str, list[str]]:
    """Each control's text for every clip the model explained ("" elsewhere), for the controls
    whose inputs the run has: the most frequent train explanation, the model's own texts
    permuted across the explained clips, the most frequent train explanation of the predicted
    class, and what the clip's tokens read as with no LM (LVLM-VAR's token narration)."""
    explained = [i for i, t in enumerate(texts) if t]
    out: dict[str, list[str]] = {}
    constant = p.context.get("constant_text")
    if constant:
        out["constant"] = [constant if t else "" for t in texts]
    if len(explained) > 1:
        perm = np.random.default_rng(SHUFFLE_SEED).permutation(len(explained))
        shuffled = [""] * len(texts)
        for i, j in zip(explained, perm):
            shuffled[i] = texts[explained[j]]
        out["shuffled"] = shuffled
    templates = p.context.get("class_templates")
    if templates and len(templates) == p.scores.shape[1]:
        predicted = np.argmax(p.scores, axis=1)
        out["template"] = [(templates[predicted[i]] or "") if t else ""
                           for i, t in enumerate(texts)]
    decoded = (p.extra or {}).get("token_narration")
    if decoded and any(decoded) and len(decoded) == len(texts):
        out["decoded"] = [(decoded[i] or "") if t else "" for i, t in enumerate(texts)]
    return out


class ExplanationInputs:
    """What text scores need besides the texts: references, motion facts, predicted classes and
    (loaded on first use) the consistency prototypes."""

    def __init__(self, p: Predictions, class_names: list[str] | None = None):
        self.p = p
        refs = p.extra.get("reference")
        self.references = [r or "" for r in refs] if refs and any(refs) else None
        self.facts = p.extra.get("motion_facts") or None
        self.predicted = np.argmax(p.scores, axis=1)
        self.class_names = class_names
        self._prototypes = None

    @property
    def prototypes(self) -> tuple[np.ndarray, str] | None:
        if self._prototypes is None and self.class_names is not None:
            self._prototypes = class_prototypes(self.class_names, self.p.labels, self.references,
                                                self.p.context.get("train_texts"))
        return self._prototypes


def _with_references(fn):
    def score(texts: list[str], inputs: ExplanationInputs) -> float | None:
        return None if inputs.references is None else fn(texts, inputs.references)
    return score


score_rouge_l = _with_references(rouge_l)
score_bleu = _with_references(bleu)
score_bertscore = _with_references(bertscore_f1)
score_embedding = _with_references(embedding_similarity)


def score_grounding(texts: list[str], inputs: ExplanationInputs) -> float | None:
    from bench.metrics.grounding import grounding_scores

    if not inputs.facts:
        return None
    scores = [s for s in grounding_scores(texts, inputs.facts) if s is not None]
    return float(np.mean(scores)) if scores else None


def grounded_samples(texts: list[str], inputs: ExplanationInputs) -> int | None:
    from bench.metrics.grounding import grounding_scores

    if not inputs.facts:
        return None
    return sum(s is not None for s in grounding_scores(texts, inputs.facts))


def score_consistency(texts: list[str], inputs: ExplanationInputs) -> float | None:
    if inputs.prototypes is None:
        return None
    return consistency(texts, inputs.predicted, inputs.prototypes[0])
