"""Pieces both reports use (the suite report, report.py, and the ablation report, ablation.py):
titles, the --evaluate / --limit note, the appendices, results.json/csv and the semantic-token
diagnostics."""
from __future__ import annotations

from pathlib import Path

from bench.reporting import explanations as E
from bench.reporting.document import Document
from bench.store import Store


def title_of(kind: str, name: str, synthetic: bool) -> str:
    return f"{kind} {name}" + (" (synthetic data)" if synthetic else "")


def split_note(results: list[dict]) -> str:
    """What sets the scored samples apart from the whole test split, or '': '(--evaluate val:
    scored on the validation part, not test)', '(--limit N: test samples capped per class)'."""
    from bench.specs import DataRef

    refs = [DataRef.from_any(r["spec"]["data"]) for r in results]
    notes = []
    if any(ref.evaluate == "val" for ref in refs):
        notes.append("(--evaluate val: scored on the validation part, not test)")
    limits = sorted({ref.limit for ref in refs} - {0})
    if limits:
        notes.append(f"(--limit {','.join(map(str, limits))}: test samples capped per class)")
    return " ".join(notes)


def with_note(text: str, note: str) -> str:
    return f"{text} {note}" if note else text


def appendices(doc: Document, store: Store, results: list[dict], resamples: int,
                boot_seed: int, extra=()) -> None:
    """The definitions of every metric and of every column the report's tables use (the Runs
    tables' included), then the runs themselves."""
    from bench.reporting.runs import (OVERRIDE_HEADERS, RUN_HEADERS, VERSION_HEADERS,
                                      runs_appendix)

    columns = doc.columns | set(RUN_HEADERS + OVERRIDE_HEADERS + VERSION_HEADERS)
    doc.lines(E.appendix_md(resamples, boot_seed, extra, columns),
              E.appendix_tex(resamples, boot_seed, extra, columns))
    runs_appendix(doc, store, results)


def write_records(store: Store, results: list[dict], out: Path, resamples: int,
                   boot_seed: int) -> None:
    """results.json / results.csv beside the report (bench/reporting/results.py)."""
    from bench.reporting.results import records_from_store, write_results

    write_results(out, records_from_store(store, results, resamples, boot_seed))


def diagnostics_section(doc: Document, results: list[dict]) -> None:
    from bench.metrics.registry import LM_ADDS, TOKEN_DIAGNOSTICS

    def rows_of(metrics):
        return [[r["spec"]["method"], r["spec"]["profile"], str(r["spec"]["seed"])]
                + [m.fmt(r["metrics"].get(m.key)) for m in metrics]
                for r in results if any(m.key in r["metrics"] for m in metrics)]

    rows = rows_of(TOKEN_DIAGNOSTICS)
    if rows:
        doc.heading("Semantic-token diagnostics")
        doc.para("Measured on the test clips' windows (reconstruction error: the VQ-VAE's on the "
                 "train windows, standardised, so 1.0 is predicting each value's mean); flip "
                 "rate after the flicker penalty. Defined in the appendix.")
        doc.table(["Method", "Profile", "Seed"] + [m.header for m in TOKEN_DIAGNOSTICS], rows,
                  "Semantic-token diagnostics")
    rows = rows_of(LM_ADDS)
    if rows:
        doc.heading("What the language model adds")
        doc.para("Top-1 on the same test tokens: the LM; a bag-of-tokens logistic regression "
                 "(unigram and bigram frequencies, C by 3-fold CV on train) and a bidirectional "
                 "GRU over the tokens (epochs by early stopping on a 15% train hold-out), both "
                 "trained on the same train tokens; and the LM given each clip's tokens in a "
                 "shuffled order (what token order is worth to it).")
        doc.table(["Method", "Profile", "Seed"] + [m.header for m in LM_ADDS], rows,
                  "What the language model adds over token-only classifiers")
