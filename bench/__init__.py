"""bench: benchmark and ablation toolkit for interpretable, LLM-based action recognition."""

__version__ = "0.1.0"
