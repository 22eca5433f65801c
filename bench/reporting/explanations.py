"""The explanation-quality tables (each text score beside its controls; faithfulness), example
explanations, and the appendix defining each metric (from bench.metrics.registry)."""
from __future__ import annotations

from bench.metrics import registry as R
from bench.reporting import tables

QUALITY_HEADERS = ["Method", "Profile", "Seed", "Metric", "Model", "Constant", "Shuffled",
                   "Template", "Better"]


def quality_rows(method: str, profile: str, seed: int, q: dict) -> list[list[str]]:
    """One row per text metric the run has: the model's score and each control's on the same
    clips ('-' where a control's inputs are missing)."""
    explained = f"{q.get('explained', 0)}/{q.get('num_test', 0)}"
    rows = [[method, profile, str(seed), "Explained", explained, "-", "-", "-", "-"]]
    for m in R.TEXT:
        if m.key not in q:
            continue
        cells = [m.fmt(q.get(m.key))] + [m.fmt(q.get(R.control_key(m.key, c)))
                                         for c in R.CONTROLS]
        rows.append([method, profile, str(seed), m.header] + cells
                    + ["higher" if m.higher_is_better else "lower"])
    return rows


FAITH_KEYS = ("comprehensiveness", "comprehensiveness_random", "sufficiency",
              "sufficiency_random", "erasure_samples", "faith_cited_drop", "faith_random_drop",
              "faithfulness", "faith_samples")
FAITH_HEADERS = ["Method", "Profile", "Seed"] + [R.header_of(k) for k in FAITH_KEYS]


def faithfulness_row(method: str, profile: str, seed: int, q: dict) -> list[str] | None:
    if not any(k in q for k in FAITH_KEYS):
        return None
    return [method, profile, str(seed)] + [R.fmt(k, q.get(k)) for k in FAITH_KEYS]


EXAMPLE_HEADERS = ["Method", "Sample", "True", "Predicted", "Explanation", "Reference motion"]


def example_rows(p, class_names: list[str], method: str, n: int = 5) -> list[list[str]]:
    refs = p.extra.get("reference") or [""] * len(p.sample_ids)
    rows = []
    for i in [i for i, t in enumerate(p.texts) if t][:n]:
        rows.append([method, p.sample_ids[i], class_names[p.labels[i]],
                     class_names[int(p.scores[i].argmax())], p.texts[i], refs[i] or "-"])
    return rows


NOTES = [  # the procedures the appendix defines beside the metrics
    ("95% CI", "percentile bootstrap: {resamples} resamples of the test samples with replacement "
     "(numpy default_rng({seed}), one draw of n indices per resample); with several seeds the "
     "same resample is applied to every seed and the seed-mean is taken. 'mean ± std' is over "
     "seeds (sample standard deviation)."),
    ("McNemar", "paired test against lvlm_var on the same test samples (lowest seed both have): "
     "b/c = samples only this method / only lvlm_var classifies correctly; exact two-sided "
     "binomial test when b + c < 25, else chi-squared with continuity correction "
     "(|b - c| - 1)^2 / (b + c), 1 degree of freedom. * p < 0.05, ** p < 0.01, *** p < 0.001."),
]


def appendix(resamples: int, seed: int) -> list[tuple[str, str]]:
    """(name, definition) of every metric (from the registry) and procedure."""
    entries = R.appendix_entries()
    cut = len(R.CLASSIFICATION)
    notes = [(name, text.format(resamples=resamples, seed=seed)) for name, text in NOTES]
    return entries[:cut] + notes + entries[cut:]


def appendix_md(resamples: int, seed: int) -> list[str]:
    lines = ["## Appendix: metric definitions", ""]
    lines += [f"- **{name}**: {text}" for name, text in appendix(resamples, seed)]
    return lines + [""]


def appendix_tex(resamples: int, seed: int) -> str:
    items = "".join(f"\\item[{tables.latex_escape(name)}] {tables.latex_escape(text)}\n"
                    for name, text in appendix(resamples, seed))
    return "\\section*{Appendix: metric definitions}\n\\begin{description}\n" + items + \
        "\\end{description}\n"
