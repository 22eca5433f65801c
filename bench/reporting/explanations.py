"""The explanation-quality table, example explanations, and the appendix defining each metric."""
from __future__ import annotations

from bench.reporting import tables

QUALITY_COLUMNS = (
    ("explained", "Explained", "int"), ("rouge_l", "ROUGE-L", "num"), ("bleu", "BLEU", "bleu"),
    ("embedding_similarity", "Emb. sim.", "num"), ("bertscore_f1", "BERTScore F1", "num"),
    ("grounding", "Grounding", "num"), ("faith_cited_drop", "Drop: cited", "num"),
    ("faith_random_drop", "Drop: random", "num"), ("faithfulness", "Faithfulness", "num"),
    ("consistency", "Consistency", "num"),
)
QUALITY_HEADERS = ["Method", "Profile", "Seed"] + [h for _, h, _ in QUALITY_COLUMNS]


def _cell(value, kind: str) -> str:
    if value is None:
        return "-"
    if kind == "int":
        return str(int(value))
    return tables.fmt_num(value, 1 if kind == "bleu" else 3)


def quality_row(method: str, profile: str, seed: int, q: dict) -> list[str]:
    cells = [_cell(q.get(k), kind) for k, _, kind in QUALITY_COLUMNS]
    cells[0] = f"{q.get('explained', 0)}/{q.get('samples', 0)}"
    return [method, profile, str(seed)] + cells


EXAMPLE_HEADERS = ["Method", "Sample", "True", "Predicted", "Explanation", "Reference motion"]


def example_rows(p, class_names: list[str], method: str, n: int = 5) -> list[list[str]]:
    refs = p.extra.get("reference") or [""] * len(p.sample_ids)
    rows = []
    for i in [i for i, t in enumerate(p.texts) if t][:n]:
        rows.append([method, p.sample_ids[i], class_names[p.labels[i]],
                     class_names[int(p.scores[i].argmax())], p.texts[i], refs[i] or "-"])
    return rows


APPENDIX = [
    ("Top-1 / Top-5", "share of test samples whose true class has the highest score / is among "
     "the five highest (ties broken towards the lower class index)."),
    ("Mean class acc.", "the mean over classes present in the test split of each class's recall "
     "(balanced accuracy)."),
    ("Macro-F1", "the unweighted mean of per-class F1 = 2 TP / (2 TP + FP + FN) over the classes "
     "that occur as true or predicted labels (scikit-learn's default)."),
    ("95% CI", "percentile bootstrap: {resamples} resamples of the test samples with replacement "
     "(numpy default_rng({seed}), one draw of n indices per resample); with several seeds the "
     "same resample is applied to every seed and the seed-mean is taken. 'mean ± std' is over "
     "seeds (sample standard deviation)."),
    ("McNemar", "paired test against lvlm_var on the same test samples (lowest seed both have): "
     "b/c = samples only this method / only lvlm_var classifies correctly; exact two-sided "
     "binomial test when b + c < 25, else chi-squared with continuity correction "
     "(|b - c| - 1)^2 / (b + c), 1 degree of freedom. * p < 0.05, ** p < 0.01, *** p < 0.001."),
    ("ROUGE-L", "F1 of the longest common subsequence of explanation and reference motion "
     "description (rouge-score, Porter stemming), averaged over explained samples."),
    ("BLEU", "corpus BLEU (sacrebleu: 13a tokenisation, exponential smoothing, 0-100) of the "
     "explanations against the reference descriptions."),
    ("Emb. sim.", "mean cosine similarity of the all-MiniLM-L6-v2 sentence vectors (mean-pooled "
     "last layer, L2-normalised) of explanation and reference."),
    ("BERTScore F1", "token-level F1 of greedy cosine matching between the MiniLM last-layer "
     "word-piece vectors of explanation and reference (no idf weights, no baseline rescaling)."),
    ("Grounding", "share of the (body part, motion) claims an explanation makes that the test "
     "skeleton shows: motions are read from the skeleton's kinematics in its body frame "
     "(1-second windows; a part moves when its range exceeds 0.12 spine lengths); averaged over "
     "explanations that name a body part. Reference-free."),
    ("Drop: cited / random", "mean drop of the predicted class's probability (softmax over "
     "class scores) when the semantic tokens the explanation cites are deleted from the input / "
     "when as many random tokens are deleted (LVLM-VAR only; a seeded subset of test samples "
     "whose explanation cites a token)."),
    ("Faithfulness", "Drop: cited minus Drop: random, per sample, averaged: > 0 means the "
     "explanation cites tokens the prediction depends on more than on arbitrary ones."),
    ("Consistency", "share of explanations whose MiniLM vector is closest (cosine) to the "
     "prototype of the predicted class: the mean vector of that class's reference descriptions "
     "when references exist, else the vector of the class name. Chance is 1 / classes."),
]


def appendix_md(resamples: int, seed: int) -> list[str]:
    lines = ["## Appendix: metric definitions", ""]
    for name, text in APPENDIX:
        lines.append(f"- **{name}**: {text.format(resamples=resamples, seed=seed)}")
    return lines + [""]


def appendix_tex(resamples: int, seed: int) -> str:
    items = "".join(f"\\item[{tables.latex_escape(name)}] "
                    f"{tables.latex_escape(text.format(resamples=resamples, seed=seed))}\n"
                    for name, text in APPENDIX)
    return "\\section*{Appendix: metric definitions}\n\\begin{description}\n" + items + \
        "\\end{description}\n"
