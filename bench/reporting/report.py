"""Assemble a suite's report.md / report.tex (+ figures/) from stored predictions only.

Every number is re-scored from predictions.npz / explanations.jsonl, so `bench report` needs no
model and no dataset.
"""
from __future__ import annotations

from pathlib import Path

from bench.errors import BenchError
from bench.metrics.statistics import DEFAULT_RESAMPLES, DEFAULT_SEED
from bench.paths import safe_folder_name
from bench.reporting import accuracy as A
from bench.reporting import explanations as E
from bench.reporting import tables
from bench.reporting.document import Document
from bench.reporting.sections import (appendices, diagnostics_section, split_note, title_of,
                                      with_note, write_records)
from bench.specs import DataRef
from bench.store import Store



def suite_report(store: Store, suite, results: list[dict], class_names: list[str],
                 synthetic: bool, resamples: int = DEFAULT_RESAMPLES,
                 boot_seed: int = DEFAULT_SEED) -> Path:
    if not results:
        raise BenchError(f"no finished runs for suite {suite.name} under {store.out}")
    manifest = A.check_one_manifest(results)
    out = store.out / "reports" / safe_folder_name(suite.name)
    (out / "figures").mkdir(parents=True, exist_ok=True)
    groups = A.load_groups(store, results, resamples, boot_seed)
    done = [g for g in groups if g.predictions]
    note = split_note(results)
    doc = Document(title_of("Suite", suite.name, synthetic), table_note=note)
    n_test = len(done[0].predictions[0].labels) if done else 0
    doc.para(f"{suite.description}. Split manifest `{manifest[:12]}`; "
             f"{with_note(f'{n_test} test samples', note)}, "
             f"{len(class_names)} classes (chance {100 / len(class_names):.1f}%). All numbers are "
             f"measured here" + (" on synthetic data" if synthetic else "") +
             ", re-scored from the stored predictions; each run's config, split sizes, timings "
             "and software are listed in the last appendix.")
    evaluate = "val" if any(DataRef.from_any(r["spec"]["data"]).evaluate == "val"
                            for r in results) else "test"
    for profile in sorted({r["spec"]["profile"] for r in results}):
        doc.para(suite.protocol_line(profile, evaluate))
    _accuracy_section(doc, groups, resamples)
    if evaluate == "test":  # published numbers are test numbers
        _published_section(doc, suite.name, done, synthetic)
    _explanation_section(doc, done, class_names)
    diagnostics_section(doc, results)
    _confusion_section(doc, done, class_names, suite.name, out)
    failed = [r for r in results if r["status"] != "done"]
    if failed:
        doc.heading("Failed runs")
        doc.lines([f"- `{r['run_id']}`: {(r.get('error') or '').splitlines()[0]}"
                   for r in failed] + [""],
                  "\\begin{itemize}\n" + "".join(
                      f"\\item {tables.latex_escape(r['run_id'])}: "
                      f"{tables.latex_escape((r.get('error') or '').splitlines()[0])}\n"
                      for r in failed) + "\\end{itemize}\n")
    appendices(doc, store, results, resamples, boot_seed)
    write_records(store, results, out, resamples, boot_seed)
    return doc.write(out)


def _accuracy_section(doc: Document, groups: list[A.RunGroup], resamples: int) -> None:
    doc.heading("Accuracy")
    doc.para("Value [bootstrap 95% CI] in %; with several seeds, mean ± std over seeds [CI of the "
             "seed mean]. McNemar: b/c = test samples only this method / only lvlm_var gets "
             f"right, p-value, * p < 0.05, ** p < 0.01, *** p < 0.001. {resamples} resamples.")
    doc.table(A.ACCURACY_HEADERS, A.accuracy_rows(groups), "Accuracy (measured here)")
    seeds = A.per_seed_rows(groups)
    if seeds:
        doc.heading("Per-seed results")
        doc.table(A.PER_SEED_HEADERS, seeds, "Accuracy per seed")


def _published_section(doc: Document, suite_name: str, groups: list[A.RunGroup],
                       synthetic: bool) -> None:
    from bench.reporting.published import HEADERS, published_rows

    measured = {(g.method, g.profile): (g.estimates["top1"].value, g.results[0]["spec"]["config"])
                for g in groups}
    rows = published_rows(suite_name, measured, synthetic)
    if not rows:
        return
    doc.heading("Published results: reported vs measured here")
    note = (" The reported numbers are on the real dataset; this report is on synthetic data, so "
            "no differences are given." if synthetic else
            " Differences are measured minus reported, in points; the papers' recipes may differ "
            "from the profile run here.")
    doc.para("Reported: top-1 (%) as published, not measured here. Measured: this report's "
             "mean top-1 of the run that stands for the entry, like with like: the same method "
             "at the published recipe's profile (paper) and, for LVLM-VAR (LLaVA-13B), the "
             "llava-1.5 backbone; other profiles are not compared (-)." + note)
    doc.table(HEADERS, rows, "Published (reported) against measured here")


def _explanation_section(doc: Document, groups: list[A.RunGroup], class_names) -> None:
    from bench.metrics.registry import score_run

    rows, faith, examples, constants = [], [], [], []
    for g in groups:
        for seed, p in zip(g.seeds, g.predictions):
            if p.texts is None:
                continue
            q = score_run(p, class_names, run_time=False)
            rows += E.quality_rows(g.method, g.profile, seed, q)
            faith += [r for r in [E.faithfulness_row(g.method, g.profile, seed, q)] if r]
            if seed == g.seeds[0]:
                examples += E.example_rows(p, class_names, g.method)
                if E.constant_text(p):
                    constants.append(f"{g.method}: \"{E.constant_text(p)}\"")
    if not rows:
        return
    doc.heading("Explanation quality")
    doc.para("Each score of the model's explanations beside the same score of four control "
             "texts on the same test clips: a constant (the most frequent train explanation), "
             "the model's texts shuffled across clips, the predicted class's template (its "
             "most frequent train explanation), and what the clip's tokens read as without the "
             "language model (decoded; '-' for a method without one). A score a control "
             "matches says nothing. "
             "Reference-based scores compare with each clip's ground-truth motion description; "
             "grounding and consistency need no reference. See the appendix for definitions.")
    doc.table(E.QUALITY_HEADERS, rows, "Explanation quality: model against controls")
    if faith:
        doc.heading("Faithfulness")
        doc.para("Erasure of the semantic tokens an explanation cites (ERASER): "
                 "comprehensiveness (higher is better) and sufficiency (lower is better), each "
                 "beside a random rationale of the same size; deletion only over samples that "
                 "cite fewer tokens than they have.")
        doc.table(E.FAITH_HEADERS, faith, "Faithfulness of the explanations")
    if examples:
        doc.heading("Example explanations")
        doc.para(f"Per method (lowest seed), up to {E.EXAMPLES // 2} wrong predictions and the "
                 "rest right, each from another true class where possible, drawn at random "
                 f"(numpy default_rng({E.EXAMPLE_SEED})) from the explained test clips; wrong "
                 "ones first. Beside each explanation: what the clip's tokens read as without "
                 "the language model, the predicted class's template control and the clip's "
                 "reference description. The constant control, the same text "
                 "for every clip: " + ("; ".join(constants) if constants else "not stored")
                 + ".")
        doc.table(E.EXAMPLE_HEADERS, examples, "Example explanations, right and wrong",
                  long=True, spec=tables.ragged(["1.0cm", "2.4cm", "1.4cm", "1.4cm", "0.6cm",
                                                 "2.4cm", "2.1cm", "2.0cm", "2.1cm"]))


def _confusion_section(doc: Document, groups: list[A.RunGroup], class_names: list[str],
                       suite_name: str, out: Path) -> None:
    from bench.metrics.classification import confusion_matrix
    from bench.reporting import confusion as CF
    from bench.reporting.figures import confusion_figure

    if not groups:
        return
    doc.heading("Confusion matrices")
    doc.para("Row-normalised (each row: where the samples of one true class went), lowest seed "
             "of each method. Classes are ordered by hierarchical clustering of the symmetrised "
             "confusion so that classes confused with each other sit together.")
    matrices, pairs = {}, []
    for g in groups:
        p = g.predictions[0]
        cm = confusion_matrix(p.labels, p.scores.argmax(1), len(class_names))
        key = f"{g.method} ({g.profile})"
        matrices[key] = cm
        stem = f"confusion_{g.method}_{g.profile}"
        confusion_figure(cm, class_names, f"{g.method} on {suite_name}", out / "figures" / stem,
                         order=CF.grouping_order(cm))
        doc.figure(stem, f"Confusion matrix of {key}")
        pairs += CF.pair_rows(key, cm, class_names)
    doc.heading("Most confused pairs")
    doc.table(CF.PAIR_HEADERS, pairs, "Most confused class pairs")
    doc.heading("Classes never recognised")
    never = CF.never_right_rows(groups, class_names)
    if any(r[3] != "0" for r in never):
        doc.para("Per run, the classes with test samples of which it got none right (recall "
                 "0): a method that never outputs a class, or confuses it every time.")
    else:
        doc.para("Every run gets at least one test sample of every class right.")
    doc.table(CF.NEVER_HEADERS, never, "Classes a run never gets right",
              spec=tables.ragged(["1.6cm", "1.2cm", "0.8cm", "1.4cm", "9.6cm"]))
    doc.heading("Per-class accuracy")
    doc.table(["#", "Class", "Test samples"] + [f"{m} (%)" for m in matrices],
              CF.per_class_rows(matrices, class_names), "Per-class accuracy (recall)", long=True)
    doc.columns.add(E.PER_CLASS_COLUMN)  # the method columns above, for the appendix
