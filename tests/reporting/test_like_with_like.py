"""Comparisons are like with like: the published table compares an entry only with the run it
stands for (method, the published recipe's profile, the entry's config values), McNemar pairs
runs of one profile, and the report states the suite's protocol above the accuracy table."""
import numpy as np
from toys import md_tables, store_toy_run

from bench.reporting.published import published_rows
from bench.reporting.report import suite_report
from bench.store import Store
from bench.suites import SUITES


def _row(rows, method, source):
    return next(r for r in rows if r[0] == method and r[1] == source)


def test_a_published_entry_ignores_runs_of_another_profile_or_backbone():
    cpu_only = {("stgcn", "cpu"): (0.85, {}),
                ("lvlm_var", "cpu"): (0.5, {"lvlm.backbone": "smollm2-135m-instruct"})}
    rows = published_rows("ntu60-xsub", cpu_only, synthetic=False)
    assert _row(rows, "ST-GCN (joint)", "PYSKL")[3:] == ["-", "-", "-"]
    assert _row(rows, "LVLM-VAR (LLaVA-13B)", "LVLM-VAR paper")[3:] == ["-", "-", "-"]
    small_lm = {("lvlm_var", "paper"): (0.5, {"lvlm.backbone": "tiny-llama"})}
    rows = published_rows("ntu60-xsub", small_lm, synthetic=False)
    assert _row(rows, "LVLM-VAR (LLaVA-13B)", "LVLM-VAR paper")[3] == "-"
    llava = {("lvlm_var", "paper"): (0.9, {"lvlm.backbone": "llava-1.5"})}
    rows = published_rows("ntu60-xsub", llava, synthetic=False)
    assert _row(rows, "LVLM-VAR (LLaVA-13B)", "LVLM-VAR paper")[3:] == [
        "lvlm_var (paper)", "90.0", "-4.1"]


def test_mcnemar_pairs_runs_of_one_profile_and_the_protocol_is_stated(tmp_path):
    store = Store(tmp_path)
    labels = np.arange(40) % 4
    scores = np.eye(4)[labels]
    results = [store_toy_run(store, "lvlm_var", labels, scores, profile="cpu"),
               store_toy_run(store, "knn", labels, scores, profile="smoke"),
               store_toy_run(store, "stgcn", labels, scores, profile="cpu")]
    text = suite_report(store, SUITES.get("mini-xsub"), results, list("abcd"), synthetic=True,
                        resamples=20).read_text()
    acc = {(r["Method"], r["Profile"]): r for r in md_tables(text)["Accuracy"]}
    assert acc[("knn", "smoke")]["McNemar vs lvlm_var"] == "-"  # no smoke lvlm_var to pair
    assert acc[("stgcn", "cpu")]["McNemar vs lvlm_var"].startswith("0/0")
    assert "Protocol (cpu): every method fits on the whole official train split" in text
    assert "Protocol (smoke): every method fits on the train part" in text
