"""Every metric once: its stored key, column header, direction, how it is computed, how it prints
and its definition (built from the code's own constants). The runner stores what this lists, the
report tables, the ablation tables and plots, the appendix and `bench list metrics` read it.

Kinds of metric:
  classification  `from_counts(RunCounts, weights (B, n)) -> (B,)`: the same code gives the
                  full-sample value and each bootstrap resample;
  text            `from_texts(texts, ExplanationInputs) -> float | None`: an explanation score,
                  also computed on each control's texts (stored as "<key>@<control>");
  run             `from_predictions(Predictions) -> float | None` (faithfulness, counts).
`at_run_time` metrics are cheap (no MiniLM) and go into result.json; the report computes all.
Stored keys never change, so stored runs stay readable.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from bench.metrics import explanation as X
from bench.metrics import grounding as G
from bench.metrics.classification import RunCounts


@dataclass(frozen=True)
class Metric:
    key: str  # as stored in result.json
    header: str  # table column
    kind: str  # "classification" | "text" | "run" | "diagnostic" (stored by the method)
    higher_is_better: bool  # of the quantity (a random-rationale counterpart: the same as its own)
    definition: str  # the appendix text
    scale: float = 1.0  # printed value = scale * stored value
    digits: int = 3
    at_run_time: bool = True
    in_ablation: bool = False  # a column of ablation tables (classification: also the plot)
    in_appendix: bool = True  # every metric a table shows must be defined: keep it True then
    from_counts: Callable | None = None
    from_texts: Callable | None = None
    from_predictions: Callable | None = None

    def fmt(self, value) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "-"
        return fixed_sig(self.scale * value, self.digits)


def fixed_sig(x: float, digits: int, sig: int = 2) -> str:
    """x with `digits` decimals, or more where needed to keep `sig` significant figures, so a
    small non-zero value (a BLEU of 0.011 on its 0-100 scale) never prints as 0.0."""
    x = float(x)
    if x != 0 and math.isfinite(x):
        digits = max(digits, sig - 1 - math.floor(math.log10(abs(x))))
    return f"{x:.{digits}f}"


def _erasure(key: str) -> Callable:
    return lambda p: X.erasure_summary(X.erasure_records(p.extra)).get(key)


def _explained(p) -> int | None:
    return None if p.texts is None else sum(1 for t in p.texts if t)


def _grounded(p) -> int | None:
    texts = [t or "" for t in p.texts or []]
    return X.grounded_samples(texts, X.ExplanationInputs(p)) if p.texts is not None else None


_PCT = dict(scale=100.0, digits=1)
CLASSIFICATION = [
    Metric("top1", "Top-1 (%)", "classification", True,
           "share of test samples whose true class has the highest score (ties broken towards "
           "the lower class index).", from_counts=RunCounts.top1, in_ablation=True, **_PCT),
    Metric("top5", "Top-5 (%)", "classification", True,
           "share of test samples whose true class is among the five highest scores.",
           from_counts=RunCounts.top5, **_PCT),
    Metric("mean_class_acc", "Mean class acc. (%)", "classification", True,
           "the mean over classes present in the test split of each class's recall (balanced "
           "accuracy).", from_counts=RunCounts.mean_class_acc, in_ablation=True, **_PCT),
    Metric("macro_f1", "Macro-F1 (%)", "classification", True,
           "the unweighted mean of per-class F1 = 2 TP / (2 TP + FP + FN) over the classes that "
           "occur as true or predicted labels (scikit-learn's default).",
           from_counts=RunCounts.macro_f1, in_ablation=True, **_PCT),
]

TEXT = [
    Metric("rouge_l", "ROUGE-L", "text", True,
           "F1 of the longest common subsequence of explanation and reference motion "
           "description (rouge-score, Porter stemming), averaged over explained samples.",
           from_texts=X.score_rouge_l, in_ablation=True),
    Metric("bleu", "BLEU", "text", True,
           "corpus BLEU (sacrebleu: 13a tokenisation, exponential smoothing) of the explanations "
           "against the reference descriptions, on a 0-100 scale.",
           from_texts=X.score_bleu, digits=1),
    Metric("bertscore_f1", "BERTScore (MiniLM)", "text", True,
           "BERTScore (MiniLM-L6, layer 6, no idf, no rescaling; not comparable with published "
           "BERTScore): F1 of greedy cosine matching between the word-piece vectors of "
           "explanation and reference, averaged over explained samples.",
           from_texts=X.score_bertscore, at_run_time=False),
    Metric("embedding_similarity", "MiniLM cosine", "text", True,
           "mean cosine similarity of the all-MiniLM-L6-v2 sentence vectors (mean-pooled last "
           "layer, L2-normalised) of explanation and reference.",
           from_texts=X.score_embedding, at_run_time=False),
    Metric("grounding", "Grounding", "text", True,
           "per explanation, F1 of (a) the share of its (body part, motion) claims that the "
           "test skeleton's motion events support in the text's order (claim phases split at "
           "'then', parts of a phase at 'while'; a claim is matched by an unused event of its "
           "part and direction that starts no earlier than "
           f"{G.SLACK_SECONDS:g} s before the earliest event matched in the previous phase; "
           f"a one-way move is a turn-to-turn leg of the part's trajectory covering more than "
           f"{G.THRESHOLD:g} spine lengths; an oscillation at least {G.OSC_LEGS} legs of more "
           f"than {G.OSC_THRESHOLD:g}, each under {G.OSC_LEG_SECONDS:g} s; a turn of the "
           f"shoulder line over {G.TURN_DEGREES:g} degrees (the torso's turn or twist); the "
           f"head looking down or tilting back a change of over {G.HEAD_DEGREES:g} degrees in its "
           f"pitch against the spine; 'stays' a stretch of at least "
           f"{G.STILL_SECONDS:g} s without an event, and a sentence of rest only ('the torso and "
           f"legs stay still') no event all clip long; a true 'stays' claim is left out, a false "
           f"one counts as a miss) and (b) the share of the clip's salient parts (covering more "
           f"than {G.SALIENT:g} spine lengths) the text says move. Positions "
           "are the parts' end joints relative to the spine base in the first performer's body "
           "frame; landmarks ('to the mouth'), the head turning or shaking (one head joint "
           "shows no yaw) and the second person's own parts are not checked. "
           "Averaged over explanations that name a body part. Reference-free.",
           from_texts=X.score_grounding, in_ablation=True),
    Metric("consistency", "Consistency", "text", True,
           "share of explanations whose MiniLM sentence vector is closest (cosine) to the "
           "prototype of the predicted class: the mean vector of that class's train "
           "explanations (up to 50, stored by the method) when the run has them, else of the "
           "class's test reference descriptions, else the class name's vector. Chance is "
           "1 / classes.", from_texts=X.score_consistency, at_run_time=False),
]

RUN = [
    Metric("explained", "Explained", "run", True,
           "test samples with a non-empty explanation.", digits=0,
           from_predictions=_explained),
    Metric("grounding_samples", "Grounded", "run", True,
           "explanations that name a body part (the samples grounding averages over).",
           digits=0, from_predictions=_grounded),
    Metric("comprehensiveness", "Comprehensiveness", "run", True,
           "ERASER (DeYoung et al. 2020) on the semantic tokens: mean over tested samples of "
           "p - p(without the cited tokens), p the predicted class's probability (softmax over "
           "class scores) on the full input.", from_predictions=_erasure("comprehensiveness"),
           in_ablation=True),
    Metric("comprehensiveness_random", "Compr.: random", "run", True,
           "comprehensiveness of a random rationale of the same size (a comprehensiveness "
           "near it says the cited tokens matter no more than any).",
           from_predictions=_erasure("comprehensiveness_random")),
    Metric("sufficiency", "Sufficiency", "run", False,
           "mean of p - p(only the cited tokens kept); lower is better.",
           from_predictions=_erasure("sufficiency")),
    Metric("sufficiency_random", "Suff.: random", "run", False,
           "sufficiency of a random rationale of the same size.",
           from_predictions=_erasure("sufficiency_random")),
    Metric("erasure_samples", "Erasure samples", "run", True,
           "test samples the erasure test ran on (a seeded subset whose explanation cites a "
           "token).", digits=0, from_predictions=_erasure("erasure_samples")),
    Metric("faith_cited_drop", "Deletion: cited", "run", True,
           "mean drop of p when the cited tokens are deleted, over the tested samples that cite "
           "fewer tokens than the clip has (citing all makes deletion meaningless).",
           from_predictions=_erasure("faith_cited_drop")),
    Metric("faith_random_drop", "Deletion: random", "run", True,
           "the same drop when as many random tokens are deleted.",
           from_predictions=_erasure("faith_random_drop")),
    Metric("faithfulness", "Deletion", "run", True,
           "Deletion: cited minus Deletion: random, per sample, averaged (> 0: the explanation "
           "cites tokens the prediction depends on more than on arbitrary ones).",
           from_predictions=_erasure("faithfulness")),
    Metric("faith_samples", "Deletion samples", "run", True,
           "samples the deletion score averages over.", digits=0,
           from_predictions=_erasure("faith_samples")),
]

# Stored by LVLM-VAR itself (Method.diagnostics): defined here so tables and the appendix agree.
_DIAG = dict(at_run_time=False)
TOKEN_DIAGNOSTICS = [
    Metric("vst_test_tokens_per_clip", "Tokens per clip", "diagnostic", True,
           "semantic tokens of a test clip as the LM sees them (after any run merging and the "
           "vst.max_tokens cap), averaged.", digits=1, **_DIAG),
    Metric("vst_test_windows_per_clip", "Windows per clip", "diagnostic", True,
           "VST windows of a test clip (one token per window, per part with vst.parts), averaged.",
           digits=1, **_DIAG),
    Metric("vst_test_clip_token_entropy", "Clip entropy (bits)", "diagnostic", True,
           "entropy of a test clip's own token distribution, averaged over clips: 0 when a clip "
           "is one repeated token.", digits=2, **_DIAG),
    Metric("vst_test_clip_distinct_tokens", "Distinct per clip", "diagnostic", True,
           "distinct tokens in a test clip, averaged.", digits=1, **_DIAG),
    Metric("vst_test_utilisation", "Codebook utilisation", "diagnostic", True,
           "share of the codebook's codes used by at least one test window.", **_DIAG),
    Metric("vst_test_perplexity", "Perplexity", "diagnostic", True,
           "exp of the entropy of code use over all test windows (the effective codebook size).",
           digits=1, **_DIAG),
    Metric("vst_test_flip_rate", "Flip rate", "diagnostic", False,
           "share of consecutive test windows (per part) whose codes differ, after the flicker "
           "penalty (vst.flicker_weight).", **_DIAG),
    Metric("vst_reconstruction_error", "Recon. error (train)", "diagnostic", False,
           "the VQ-VAE decoder's mean squared error on the train windows' standardised motion "
           "(poses, velocities, displacements, centre track) from the quantised code: 1.0 is "
           "what predicting each value's train mean scores.", **_DIAG),
]
LM_ADDS = list(
    Metric(key, header, "diagnostic", True, text, **_PCT, **_DIAG) for key, header, text in (
        ("lm_top1", "LM (%)", "LVLM-VAR's top-1 (the LM's class scores)."),
        ("token_bow_top1", "Bag-of-tokens (%)",
         "top-1 of a logistic regression on the same tokens' unigram and bigram frequencies "
         "(max-abs scaled; C by stratified 3-fold cross-validation on the train tokens)."),
        ("token_seq_top1", "Token GRU (%)",
         "top-1 of a bidirectional GRU over the same tokens (epochs by early stopping on a "
         "seeded 15% hold-out of the train tokens, then refit on all of them)."),
        ("lm_shuffled_order_top1", "LM, tokens shuffled (%)",
         "top-1 of the LM when each test clip's tokens are given in a seeded random order."),
    ))
# The groups are lists so that register() (a metric module's one call) reaches every module that
# imported them; METRICS, DIAGNOSTICS and BY_KEY are kept in step by _index().
METRICS: list[Metric] = []
DIAGNOSTICS: list[Metric] = []
BY_KEY: dict[str, Metric] = {}
_GROUPS = {"classification": CLASSIFICATION, "text": TEXT, "run": RUN}


def _index() -> None:
    METRICS[:] = CLASSIFICATION + TEXT + RUN
    DIAGNOSTICS[:] = TOKEN_DIAGNOSTICS + LM_ADDS
    BY_KEY.clear()
    BY_KEY.update({m.key: m for m in METRICS + DIAGNOSTICS})


def register(metric: Metric) -> Metric:
    """Add a classification, text or run metric: it is then stored by the runner (at_run_time),
    re-scored in reports, shown in their tables, defined in the appendix and listed by `bench
    list metrics`. A module in bench/metrics/ that calls this is found without further edits
    (load_metric_modules); CONTRIBUTING.md shows one."""
    if metric.kind not in _GROUPS:
        raise ValueError(f"metric {metric.key!r}: kind {metric.kind!r}; register() takes one of "
                         f"{sorted(_GROUPS)}")
    if metric.key in BY_KEY:
        raise ValueError(f"metric {metric.key!r} is already registered")
    _GROUPS[metric.kind].append(metric)
    _index()
    return metric


def unregister(key: str) -> None:
    """Remove a registered metric (tests that register a toy one)."""
    for group in _GROUPS.values():
        group[:] = [m for m in group if m.key != key]
    _index()


def load_metric_modules(folder, package: str) -> None:
    """Import every module of a metrics folder, so the ones that call register() are in."""
    import importlib
    import pkgutil

    for info in pkgutil.iter_modules([str(folder)]):
        importlib.import_module(f"{package}.{info.name}")


_index()
CONTROLS = X.CONTROLS
CONTROL_DEFINITION = (
    "every text score is also computed, on the same test clips, for four control texts: "
    "constant = the most frequent train explanation, for every clip; shuffled = the model's own "
    "explanations permuted across the explained test clips (numpy default_rng("
    f"{X.SHUFFLE_SEED}), one fixed permutation); template = the most frequent train explanation "
    "of the predicted class; decoded = what the clip's semantic tokens read as without the "
    "language model (LVLM-VAR: each token laid out as its code's mean train window and the "
    "clip so decoded narrated, the text its prompt carries). A score a control matches says nothing about the model. '-' where "
    "the run lacks a control's inputs.")


def control_key(key: str, control: str) -> str:
    return f"{key}@{control}"


def lookup(key: str) -> tuple[Metric, str | None]:
    """The metric and control of a stored key ("rouge_l@shuffled" -> (ROUGE-L, "shuffled"))."""
    base, _, control = key.partition("@")
    return BY_KEY[base], control or None


def header_of(key: str) -> str:
    metric, control = lookup(key)
    return metric.header + (f" ({control})" if control else "")


def fmt(key: str, value) -> str:
    return lookup(key)[0].fmt(value)


def ablation_keys() -> list[str]:
    """Columns of the ablation tables beyond the bootstrap estimates: each ablation text metric
    beside its constant and shuffled controls, then the run-level ones."""
    out = []
    for m in TEXT + RUN:
        if m.in_ablation:
            out.append(m.key)
            if m.kind == "text":
                out += [control_key(m.key, c) for c in ("constant", "shuffled")]
    return out


def score_run(p, class_names: list[str] | None = None, run_time: bool = True) -> dict:
    """Stored key -> value of every metric this run has. run_time=True: the cheap ones (what the
    runner stores); False: every one (the report; loads MiniLM, needs class_names for
    consistency)."""
    counts = RunCounts.of(p)
    out = {m.key: float(m.from_counts(counts, counts.full())[0]) for m in CLASSIFICATION}
    out["num_test"] = int(len(p.labels))
    chosen = [m for m in TEXT + RUN if m.at_run_time or not run_time]
    for m in chosen:
        if m.kind == "run":
            _put(out, m.key, m.from_predictions(p))
    if p.texts is None:
        return out
    texts = [t or "" for t in p.texts]
    inputs = X.ExplanationInputs(p, class_names)
    variants = {None: texts, **X.control_texts(p, texts)}
    for m in chosen:
        if m.kind == "text":
            for control, variant in variants.items():
                key = m.key if control is None else control_key(m.key, control)
                _put(out, key, m.from_texts(variant, inputs))
    if not run_time and inputs.prototypes is not None:
        out["consistency_prototypes"] = inputs.prototypes[1]
    return out


def _put(out: dict, key: str, value) -> None:
    if value is not None:
        out[key] = value


def appendix_entries() -> list[tuple[str, str]]:
    """(header, definition) of every metric the appendix defines, then the controls."""
    return ([(m.header, m.definition) for m in METRICS + DIAGNOSTICS if m.in_appendix]
            + [("Controls", CONTROL_DEFINITION)])


load_metric_modules(Path(__file__).parent, "bench.metrics")
