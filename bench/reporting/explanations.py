"""The explanation-quality tables (each text score beside its controls; faithfulness), example
explanations, and the appendix defining each metric (from bench.metrics.registry)."""
from __future__ import annotations

import numpy as np

from bench.metrics import explanation as X
from bench.metrics import registry as R
from bench.reporting import tables

QUALITY_HEADERS = ["Method", "Profile", "Seed", "Metric", "Model", "Constant", "Shuffled",
                   "Template", "Decoded", "Better"]


def quality_rows(method: str, profile: str, seed: int, q: dict) -> list[list[str]]:
    """One row per text metric the run has: the model's score and each control's on the same
    clips ('-' where a control's inputs are missing)."""
    explained = f"{q.get('explained', 0)}/{q.get('num_test', 0)}"
    rows = [[method, profile, str(seed), "Explained", explained] + ["-"] * (len(R.CONTROLS) + 1)]
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


EXAMPLE_HEADERS = ["Method", "Sample", "True", "Predicted", "Right", "Explanation",
                   "Tokens read as", "Template control", "Reference motion"]
EXAMPLE_SEED = 0  # the examples' draw: numpy default_rng(EXAMPLE_SEED)
EXAMPLES = 6  # per method: up to half of them wrong predictions


def example_indices(p, n: int = EXAMPLES) -> list[int]:
    """A deterministic sample of the explained test clips, stratified by outcome: up to n // 2
    wrong predictions and the rest right (the other kind fills in when one runs short), each
    from a different true class while classes last, in a seeded random order (the first clips
    of a test split are often one class, or all right)."""
    explained = [i for i, t in enumerate(p.texts or []) if t]
    if not explained:
        return []
    order = [explained[j] for j in np.random.default_rng(EXAMPLE_SEED).permutation(len(explained))]
    right = p.scores.argmax(1) == p.labels
    wrong_pool = [i for i in order if not right[i]]
    right_pool = [i for i in order if right[i]]
    n_wrong = min(len(wrong_pool), max(n // 2, n - len(right_pool)))
    chosen: list[int] = []
    for pool, k in ((wrong_pool, n_wrong), (right_pool, n - n_wrong)):
        chosen += _spread(pool, k, {int(p.labels[i]) for i in chosen}, p.labels)
    # wrong ones first, each group in test-split order
    return sorted(chosen, key=lambda i: (bool(right[i]), i))


def _spread(pool: list[int], k: int, used: set, labels) -> list[int]:
    """k of pool (in its order), a new true class each time while any is left."""
    picked: list[int] = []
    for fresh_only in (True, False):
        for i in pool:
            if len(picked) == k:
                return picked
            if i in picked or (fresh_only and int(labels[i]) in used):
                continue
            picked.append(i)
            used.add(int(labels[i]))
    return picked


def example_rows(p, class_names: list[str], method: str, n: int = EXAMPLES) -> list[list[str]]:
    refs = p.extra.get("reference") or [""] * len(p.sample_ids)
    controls = X.control_texts(p, [t or "" for t in p.texts or []])
    template, decoded = controls.get("template"), controls.get("decoded")
    rows = []
    for i in example_indices(p, n):
        predicted = int(p.scores[i].argmax())
        rows.append([method, p.sample_ids[i], class_names[p.labels[i]], class_names[predicted],
                     "yes" if predicted == p.labels[i] else "no", p.texts[i],
                     (decoded[i] if decoded else "") or "-",
                     (template[i] if template else "") or "-", refs[i] or "-"])
    return rows


def constant_text(p) -> str | None:
    """The constant control's text (the same for every clip)."""
    return p.context.get("constant_text") or None


NOTES = [  # the procedures the appendix defines beside the metrics
    ("95% CI", "percentile bootstrap: {resamples} resamples of the test samples with replacement "
     "(numpy default_rng({seed}), one draw of n indices per resample); with several seeds the "
     "same resample is applied to every seed and the seed-mean is taken. 'mean ± std' is over "
     "seeds (sample standard deviation)."),
    ("McNemar vs lvlm_var", "paired test against lvlm_var on the same test samples (lowest "
     "seed both have): b/c = samples only this method / only lvlm_var classifies correctly; "
     "exact two-sided binomial test when b + c < 25, else chi-squared with continuity "
     "correction (|b - c| - 1)^2 / (b + c), 1 degree of freedom. * p < 0.05, ** p < 0.01, "
     "*** p < 0.001."),
]

PER_CLASS_COLUMN = "METHOD (PROFILE) (%)"  # the per-class table's method columns, as one entry
# The report's other columns (not metrics); bench/reporting/runs.py adds the Runs tables' ones.
# Method, Profile, Seed, Sample, Class, '#', Run id and Source name things and need none.
COLUMN_NOTES = [
    ("Seeds", "finished runs (one per seed) the row pools; '(+k failed)' counts runs that "
     "failed."),
    ("Reported top-1 (%)", "top-1 as the cited source publishes it for the real dataset; not "
     "measured here."),
    ("Measured here: run", "the run of this report that stands for the published method: the "
     "same method at the published recipe's profile (paper) and, where the entry names them, "
     "its config values; runs of other profiles are not compared."),
    ("Measured top-1 (%)", "that run's top-1 here (mean over seeds)."),
    ("Measured - reported", "measured minus reported top-1, in points (n/a on synthetic data)."),
    ("Metric", "the explanation score of the row (defined above)."),
    ("Model", "the score of the method's own explanations."),
    ("Constant", "the score of the constant control text (see Controls)."),
    ("Shuffled", "the score of the shuffled control texts (see Controls)."),
    ("Template", "the score of the predicted-class template control (see Controls)."),
    ("Decoded", "the score of what the clip's tokens read as without the language model (see "
     "Controls)."),
    ("Better", "whether a higher or a lower score is better."),
    ("True", "the test clip's true class."),
    ("Predicted", "the class the method scored highest."),
    ("Right", "yes when Predicted is True."),
    ("Explanation", "the method's explanation of the clip, as generated."),
    ("Tokens read as", "what the clip's semantic tokens read as without the language model "
     "(the decoded control's text, which LVLM-VAR's prompt carries; see Controls)."),
    ("Template control", "the predicted class's template control text for the clip (see "
     "Controls); the constant control's text is given above the table."),
    ("Reference motion", "the clip's ground-truth motion description that reference-based "
     "scores compare with."),
    ("True class", "the test clips' true class."),
    ("Predicted as", "the class they were predicted as."),
    ("Count", "test clips of the true class predicted as that class."),
    ("Share of true class (%)", "Count over the true class's test clips."),
    ("Test samples", "test clips of the class."),
    (PER_CLASS_COLUMN, "per-class accuracy: the recall of the class (its test clips "
     "predicted as it) for that method and profile, lowest seed."),
    ("Never right", "classes with test clips of which the run got none right (recall 0)."),
    ("Never-right classes", "those classes, by name."),
    ("Runs", "finished / planned runs of the grid point (seeds pooled)."),
]


def appendix(resamples: int, seed: int, extra=(), columns=None) -> list[tuple[str, str]]:
    """(name, definition) of every metric (from the registry) and procedure, then of the
    report's other columns (those in `columns` when given: the headers its tables use), then
    `extra` (an ablation's axes)."""
    from bench.reporting.runs import COLUMN_NOTES as RUN_COLUMNS

    entries = R.appendix_entries()
    cut = len(R.CLASSIFICATION)
    notes = [(name, text.format(resamples=resamples, seed=seed)) for name, text in NOTES]
    others = [(name, text) for name, text in COLUMN_NOTES + RUN_COLUMNS
              if columns is None or name in columns]
    return entries[:cut] + notes + entries[cut:] + others + list(extra)


def appendix_md(resamples: int, seed: int, extra=(), columns=None) -> list[str]:
    lines = ["## Appendix: metric definitions", ""]
    lines += [f"- **{name}**: {text}" for name, text in appendix(resamples, seed, extra, columns)]
    return lines + [""]


def appendix_tex(resamples: int, seed: int, extra=(), columns=None) -> str:
    items = "".join(f"\\item[{tables.latex_escape(name)}] {tables.latex_escape(text)}\n"
                    for name, text in appendix(resamples, seed, extra, columns))
    return "\\section*{Appendix: metric definitions}\n\\begin{description}\n" + items + \
        "\\end{description}\n"
