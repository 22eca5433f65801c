"""Explanation-quality metrics against reference motion descriptions."""
from __future__ import annotations

import numpy as np


def rouge_l(texts: list[str], references: list[str]) -> float:
    """Mean ROUGE-L F1 over the pairs with a non-empty explanation (rouge-score, stemmed)."""
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    scores = [scorer.score(ref, text)["rougeL"].fmeasure
              for text, ref in zip(texts, references) if text and ref]
    return float(np.mean(scores)) if scores else float("nan")


def explanation_metrics(texts: list[str] | None, references: list[str] | None) -> dict:
    if not texts or not references:
        return {}
    return {"rouge_l": rouge_l(texts, references),
            "explained": int(sum(1 for t in texts if t))}
