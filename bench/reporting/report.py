"""Assemble report.md / report.tex (+ figures/) for a suite run or an ablation sweep."""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np

from bench.errors import BenchError
from bench.reporting import tables
from bench.store import Store

_METRIC_COLUMNS = (("top1", "Top-1 (%)"), ("top5", "Top-5 (%)"),
                   ("mean_class_acc", "Mean class acc. (%)"))


def _check_one_manifest(results: list[dict]) -> str:
    hashes = {r["spec"]["manifest_sha256"] for r in results}
    if len(hashes) > 1:
        raise BenchError("refusing to put runs from different split manifests in one table: "
                         + ", ".join(sorted(h[:12] for h in hashes)))
    return hashes.pop() if hashes else ""


def _title(kind: str, name: str, synthetic: bool) -> str:
    return f"{kind} {name}" + (" (synthetic data)" if synthetic else "")


def _rows_by_method(results: list[dict]) -> dict:
    grouped = defaultdict(list)
    for r in results:
        grouped[(r["spec"]["method"], r["spec"]["profile"])].append(r)
    return grouped


def _mean(results: list[dict], key: str):
    vals = [r["metrics"].get(key) for r in results if r["metrics"].get(key) is not None]
    return float(np.mean(vals)) if vals else None


def accuracy_rows(results: list[dict]) -> list[list[str]]:
    rows = []
    for (method, profile), runs in sorted(_rows_by_method(results).items()):
        done = [r for r in runs if r["status"] == "done"]
        if not done:
            rows.append([method, profile, "failed", "-", "-", "-", "-", str(len(runs))])
            continue
        rows.append([method, profile] + [tables.fmt_pct(_mean(done, k)) for k, _ in _METRIC_COLUMNS]
                    + [tables.fmt_num(_mean(done, "rouge_l")),
                       done[0]["spec"]["manifest_sha256"][:12], str(len(done))])
    return rows


ACCURACY_HEADERS = ["Method", "Profile"] + [h for _, h in _METRIC_COLUMNS] + [
    "ROUGE-L", "Manifest", "Seeds"]


def suite_report(store: Store, suite, results: list[dict], class_names: list[str],
                 synthetic: bool) -> Path:
    """Accuracy table, a confusion matrix per method, example explanations."""
    from bench.metrics.classification import confusion_matrix
    from bench.reporting.figures import confusion_figure

    if not results:
        raise BenchError(f"no finished runs for suite {suite.name} under {store.out}")
    manifest = _check_one_manifest(results)
    out = store.out / "reports" / suite.name
    (out / "figures").mkdir(parents=True, exist_ok=True)
    title = _title("Suite", suite.name, synthetic)
    rows = accuracy_rows(results)
    figures, examples = [], []
    first_seed = {}  # figures and examples show each method's lowest-seed finished run
    for r in sorted(results, key=lambda r: r["spec"]["seed"]):
        if r["status"] == "done":
            first_seed.setdefault((r["spec"]["method"], r["spec"]["profile"]), r)
    for (method, profile), r in sorted(first_seed.items()):
        p = store.load_predictions(r["run_id"])
        cm = confusion_matrix(p.labels, p.scores.argmax(1), p.scores.shape[1])
        name = f"confusion_{method}_{profile}.png"
        confusion_figure(cm, class_names, f"{method} on {suite.name}", out / "figures" / name)
        figures.append((method, name))
        if p.texts is not None:
            examples += _examples(p, class_names, method)
    failed = [r for r in results if r["status"] != "done"]
    md = [f"# {title}", "", f"{suite.description}. Split manifest `{manifest[:12]}`; "
          f"{results[0]['metrics'].get('num_test', '?')} test samples, {len(class_names)} classes "
          f"(chance {100 / len(class_names):.1f}%). Accuracies are measured here.", "",
          "## Accuracy", "", tables.markdown_table(ACCURACY_HEADERS, rows), ""]
    published = published_rows(suite.name)
    if published:
        note = (" They are on the real dataset; the numbers above are on synthetic data and are "
                "not comparable." if synthetic else "")
        md += ["## Published results", "", "Top-1 (%) as reported by the papers, not measured "
               "here." + note, "", tables.markdown_table(["Method", "Source", "Top-1 (%)",
                                                           "Status"], published), ""]
    md += _diagnostics_md(results)
    md += ["## Confusion matrices", ""] + [f"![{m}](figures/{f})" for m, f in figures] + [""]
    if examples:
        md += ["## Example explanations", "",
               tables.markdown_table(["Method", "Sample", "True", "Predicted", "Explanation",
                                      "Reference motion"], examples), ""]
    if failed:
        md += ["## Failed runs", ""] + [f"- `{r['run_id']}`: {(r.get('error') or '').splitlines()[0]}"
                                        for r in failed] + [""]
    tex_tables = tables.latex_table(ACCURACY_HEADERS, rows, title + ": accuracy", "tab:accuracy")
    return _write(out, md, title, tex_tables, [f for _, f in figures])


def _examples(p, class_names: list[str], method: str, n: int = 5) -> list[list[str]]:
    refs = p.extra.get("reference") or [""] * len(p.sample_ids)
    rows = []
    for i in [i for i, t in enumerate(p.texts) if t][:n]:
        rows.append([method, p.sample_ids[i], class_names[p.labels[i]],
                     class_names[int(p.scores[i].argmax())], p.texts[i], refs[i] or "-"])
    return rows


def _diagnostics_md(results: list[dict]) -> list[str]:
    keys = ("vst_test_utilisation", "vst_test_perplexity", "vst_test_flip_rate",
            "vst_test_tokens_per_clip")
    rows = [[r["spec"]["method"], r["spec"]["profile"], str(r["spec"]["seed"])]
            + [tables.fmt_num(r["metrics"].get(k)) for k in keys]
            for r in results if any(k in r["metrics"] for k in keys)]
    if not rows:
        return []
    return ["## Semantic-token diagnostics", "",
            "Measured on the test clips' windows; flip rate after the flicker penalty.", "",
            tables.markdown_table(["Method", "Profile", "Seed", "Codebook utilisation",
                                   "Perplexity", "Token flip rate", "Tokens per clip"], rows), ""]


def ablation_report(store: Store, ablation, suite, results: list[dict], synthetic: bool) -> Path:
    """Metric against knob value: a table and a plot."""
    from bench.reporting.figures import ablation_figure

    if not results:
        raise BenchError(f"no finished runs for ablation {ablation.name} under {store.out}")
    manifest = _check_one_manifest(results)
    out = store.out / "reports" / ablation.name
    (out / "figures").mkdir(parents=True, exist_ok=True)
    by_value = defaultdict(list)
    for r in results:
        by_value[_knob_value(r["spec"]["config"], ablation.config_key)].append(r)
    values = sorted(by_value, key=lambda v: (isinstance(v, str), v))
    headers = [ablation.name] + [h for _, h in _METRIC_COLUMNS] + ["ROUGE-L", "Runs"]
    rows, series = [], {h: [] for k, h in _METRIC_COLUMNS if k != "top5"}
    for v in values:
        done = [r for r in by_value[v] if r["status"] == "done"]
        rows.append([str(v)] + [tables.fmt_pct(_mean(done, k)) for k, _ in _METRIC_COLUMNS]
                    + [tables.fmt_num(_mean(done, "rouge_l")), f"{len(done)}/{len(by_value[v])}"])
        for k, h in _METRIC_COLUMNS:
            if h in series:
                series[h].append(_mean(done, k) if done else float("nan"))
    title = _title("Ablation", f"{ablation.name} on {suite.name}", synthetic)
    ablation_figure(ablation.name, values, series, title, out / "figures" / "ablation.png")
    md = [f"# {title}", "", f"{ablation.description}; method `{ablation.method}`, split manifest "
          f"`{manifest[:12]}`. Accuracies are measured here.", "",
          tables.markdown_table(headers, rows), "", "![ablation](figures/ablation.png)", ""]
    md += _diagnostics_md(sorted(results, key=lambda r: str(_knob_value(r["spec"]["config"], ablation.config_key))))
    tex = tables.latex_table(headers, rows, title, "tab:ablation")
    return _write(out, md, title, tex, ["ablation.png"])


def _knob_value(config: dict, key: str):
    if key in config:
        return config[key]
    node = config
    for part in key.split("."):
        node = node[part]
    return node


def _write(out: Path, md: list[str], title: str, tex_body: str, figures: list[str]) -> Path:
    (out / "report.md").write_text("\n".join(md))
    figs = "".join(f"\\begin{{figure}}[t]\\centering\\includegraphics[width=\\linewidth]"
                   f"{{figures/{f}}}\\end{{figure}}\n" for f in figures)
    (out / "report.tex").write_text(
        "\\documentclass{article}\n\\usepackage{booktabs}\n\\usepackage{graphicx}\n"
        "\\usepackage[margin=2cm]{geometry}\n\\begin{document}\n"
        f"\\section*{{{tables.latex_escape(title)}}}\n{tex_body}{figs}\\end{{document}}\n")
    return out / "report.md"


def published_rows(suite_name: str) -> list[list[str]]:
    """Reported numbers for this suite from baselines/published.toml."""
    import tomllib

    from bench.paths import content_dir

    table = tomllib.loads((content_dir("baselines") / "published.toml").read_text())
    return [[r["method"], r["source"], f"{r[suite_name]:.1f}", "reported"]
            for r in table["result"] if suite_name in r]
