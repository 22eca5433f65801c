"""Figures (matplotlib/seaborn, headless): confusion matrices and ablation curves."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def confusion_figure(cm: np.ndarray, class_names: list[str], title: str, path: Path) -> Path:
    """Row-normalised confusion matrix; labels stay readable up to 120 classes."""
    import seaborn as sns

    plt = _pyplot()
    n = len(class_names)
    norm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    size = max(6.0, 0.16 * n + 3)
    fig, ax = plt.subplots(figsize=(size, size * 0.9))
    sns.heatmap(norm, ax=ax, cmap="viridis", vmin=0, vmax=1, square=True,
                xticklabels=class_names, yticklabels=class_names,
                cbar_kws={"label": "fraction of true class", "shrink": 0.6})
    fontsize = 8 if n <= 30 else max(3.5, 9 - n / 20)
    ax.tick_params(labelsize=fontsize)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)
    return path


def ablation_figure(knob: str, values: list, series: dict[str, list[float]], title: str,
                    path: Path) -> Path:
    """Metric against knob value; categorical x axis so 64..2048 are evenly spaced."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.5))
    xs = np.arange(len(values))
    for name, ys in series.items():
        ax.plot(xs, 100 * np.asarray(ys, dtype=float), marker="o", label=name)
    ax.set_xticks(xs, [str(v) for v in values])
    ax.set_xlabel(knob)
    ax.set_ylabel("accuracy (%)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)
    return path
