"""Figures (matplotlib/seaborn, headless), each saved as PNG and PDF: confusion matrices, ablation
curves with confidence bands, two-axis ablation heatmaps."""
from __future__ import annotations

from pathlib import Path

import numpy as np

FORMATS = ("png", "pdf")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, stem: Path) -> list[Path]:
    """stem.png and stem.pdf, each written to a temp name then renamed."""
    import os

    plt = _pyplot()
    paths = []
    for fmt in FORMATS:
        final = stem.with_suffix("." + fmt)
        tmp = final.with_name(final.stem + ".tmp." + fmt)
        fig.savefig(tmp, dpi=150 if fmt == "png" else None, format=fmt)
        os.replace(tmp, final)
        paths.append(final)
    plt.close(fig)
    return paths


def label_fontsize(n: int) -> float:
    """Tick-label size that keeps one label per cell apart: cells are 0.16 inch (11.5 pt) tall."""
    return 8.0 if n <= 30 else 6.0 if n <= 60 else 4.5


def _short(name: str, width: int = 28) -> str:
    return name if len(name) <= width else name[: width - 1] + "…"


def confusion_figure(cm: np.ndarray, class_names: list[str], title: str, stem: Path,
                     order: np.ndarray | None = None) -> list[Path]:
    """Row-normalised confusion matrix in `order` (default: class index order); every class is
    labelled "<number> <name>" on both axes, readable at 60 and 120 classes."""
    import seaborn as sns

    from bench.reporting.confusion import row_normalised

    plt = _pyplot()
    n = len(class_names)
    grouped = order is not None
    order = np.arange(n) if order is None else np.asarray(order)
    norm = row_normalised(cm)[np.ix_(order, order)]
    labels = [f"{i + 1} {_short(class_names[i])}" for i in order]
    size = max(6.0, 0.16 * n + 3.5)
    fig, ax = plt.subplots(figsize=(size, size * 0.92))
    sns.heatmap(norm, ax=ax, cmap="viridis", vmin=0, vmax=1, square=True,
                xticklabels=labels, yticklabels=labels, rasterized=True,  # 14,400 cells at
                cbar_kws={"label": "fraction of the true class", "shrink": 0.5})  # 120: one image
    ax.tick_params(labelsize=label_fontsize(n), length=1.5)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title + (" (classes grouped by confusion)" if grouped else ""))
    fig.tight_layout()
    return _save(fig, stem)


def ablation_curve(knob: str, values: list, series: dict[str, list[tuple]], title: str,
                   stem: Path) -> list[Path]:
    """Metric against knob value with its 95% CI band; series: name -> [(value, low, high)]
    (fractions). Categorical x axis so 64..2048 are evenly spaced."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    xs = np.arange(len(values))
    for name, points in series.items():
        arr = 100 * np.array([[np.nan] * 3 if p is None else p for p in points], dtype=float)
        line = ax.plot(xs, arr[:, 0], marker="o", label=name)[0]
        ax.fill_between(xs, arr[:, 1], arr[:, 2], color=line.get_color(), alpha=0.2, linewidth=0)
    ax.set_xticks(xs, [str(v) for v in values])
    ax.set_xlabel(knob)
    ax.set_ylabel("% (band: bootstrap 95% CI)")
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return _save(fig, stem)


def ablation_heatmap(axes: tuple[str, str], rows: list, cols: list, grid: np.ndarray,
                     title: str, stem: Path, metric: str = "Top-1 (%)") -> list[Path]:
    """A metric (fractions, NaN where not run) over a two-knob grid, annotated in %."""
    import seaborn as sns

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(1.0 * len(cols) + 3, 0.6 * len(rows) + 2.5))
    sns.heatmap(100 * grid, ax=ax, annot=True, fmt=".1f", cmap="viridis",
                xticklabels=[str(c) for c in cols], yticklabels=[str(r) for r in rows],
                cbar_kws={"label": metric})
    ax.set_xlabel(axes[1])
    ax.set_ylabel(axes[0])
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return _save(fig, stem)
