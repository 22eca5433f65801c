"""Confusion-matrix figures stay readable at NTU120's 120 classes."""
import numpy as np

from bench.reporting.figures import confusion_figure, label_fontsize


def test_confusion_figure_readable_at_120_classes(tmp_path):
    from PIL import Image

    from bench.data.ntu.classes import class_names
    from bench.reporting.confusion import grouping_order

    names = class_names("ntu120")
    assert len(names) == 120
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 120, 3000)
    pred = np.where(rng.random(3000) < 0.7, labels, (labels + 1) % 120)
    cm = np.zeros((120, 120), dtype=int)
    np.add.at(cm, (labels, pred), 1)
    png, pdf = confusion_figure(cm, names, "ntu120", tmp_path / "cm", order=grouping_order(cm))
    with Image.open(png) as im:
        width, height = im.size
    # 150 dpi: a class row is >= 20 px (the 4.5 pt labels are ~9 px), every name fits beside it
    assert min(width, height) >= 120 * 20
    assert label_fontsize(120) >= 4.5 and label_fontsize(60) >= 6
    assert pdf.read_bytes()[:5] == b"%PDF-"
    text = pdf.read_bytes()
    assert text.count(b"/Type /Page") - text.count(b"/Type /Pages") == 1
