"""report.tex compiles with a real LaTeX engine (Debian's texlive; skipped without pdflatex)."""
import shutil
import subprocess

import numpy as np
import pytest
from toys import store_toy_run

from bench.reporting.ablation import ablation_report
from bench.reporting.report import suite_report
from bench.store import Store
from bench.suites import SUITES

pytestmark = pytest.mark.skipif(shutil.which("pdflatex") is None,
                                reason="pdflatex not installed (apt-get install texlive-latex-base "
                                       "texlive-latex-recommended texlive-fonts-recommended)")


def _compile(tex_dir):
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "report.tex"],
                         cwd=tex_dir, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-3000:]
    pdf = tex_dir / "report.pdf"
    assert pdf.read_bytes()[:5] == b"%PDF-"
    return run.stdout


def test_suite_report_tex_compiles_with_awkward_text(tmp_path):
    store = Store(tmp_path)
    rng = np.random.default_rng(0)
    labels = np.arange(60) % 12
    names = [f"class_{i} & 50% <odd> #{i}" for i in range(12)]
    texts = ["right hand rises ± 5° — then {waves} $x_1$ ~ ^ \\ | “quoted” 手"] * 60
    lvlm = rng.normal(size=(60, 12)) + np.eye(12)[labels]
    results = [store_toy_run(store, "lvlm_var", labels, lvlm,
                             texts=texts, extra={"reference": ["the right hand rises"] * 60}),
               store_toy_run(store, "stgcn", labels, rng.normal(size=(60, 12)))]
    path = suite_report(store, SUITES.get("mini-xsub"), results, names, synthetic=True,
                        resamples=20)
    log = _compile(path.parent)
    assert "Output written on report.pdf" in log


def test_ablation_report_tex_compiles(tmp_path):
    from bench.ablations import load_ablations

    store = Store(tmp_path)
    labels = np.arange(12) % 3
    results = [store_toy_run(store, "lvlm_var", labels, np.eye(3)[labels] * (k > 8),
                             config={"vst.codebook": k}) for k in (8, 16)]
    path = ablation_report(store, load_ablations().get("vst.codebook"), SUITES.get("mini-xsub"),
                           results, synthetic=True, resamples=20)
    _compile(path.parent)
