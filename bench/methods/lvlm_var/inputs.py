"""Batches of prompt ids -> padded tensors -> input embeddings with the projected tokens in place."""
from __future__ import annotations

import copy

import torch

from bench.methods.lvlm_var.kv_cache import cache_of
from bench.methods.lvlm_var.lm import Backbone


def pad(seqs: list[list], value, side: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, L) tensor and attention mask, padded on the `left` or `right`."""
    length = max(len(s) for s in seqs)
    dtype = torch.long if isinstance(value, int) else torch.float
    out = torch.full((len(seqs), length), value, dtype=dtype)
    mask = torch.zeros(len(seqs), length, dtype=torch.long)
    for i, s in enumerate(seqs):
        sl = slice(length - len(s), length) if side == "left" else slice(0, len(s))
        out[i, sl] = torch.tensor(s, dtype=out.dtype)
        mask[i, sl] = 1
    return out, mask


def positions(mask: torch.Tensor, start: torch.Tensor | None = None) -> torch.Tensor:
    """Position ids that count only real tokens (so left padding does not shift them)."""
    pos = (mask.cumsum(1) - 1).clamp(min=0)
    return pos if start is None else pos + start[:, None]


def embed_inputs(bb: Backbone, ids: torch.Tensor, code_vectors: torch.Tensor | None) -> torch.Tensor:
    """Token embeddings; with projector injection, placeholder positions get projected code
    vectors (code_vectors: (number of placeholders in the batch, dim), in reading order)."""
    emb = bb.model.get_input_embeddings()(ids.to(bb.device))
    if bb.code_token_ids is not None or code_vectors is None:
        return emb
    mask = ids.to(bb.device) == bb.placeholder_id
    if int(mask.sum()) != len(code_vectors):
        raise ValueError(f"{int(mask.sum())} placeholders but {len(code_vectors)} token vectors")
    dtype = next(bb.projector.parameters()).dtype
    feats = bb.projector(code_vectors.to(bb.device, dtype)).to(emb.dtype)
    return emb.masked_scatter(mask[..., None], feats)


def shared_cache(bb: Backbone, shared_ids: list[int]):
    """KV cache (batch 1) of the prompt part every sample shares; differentiable when grads are on."""
    if not shared_ids:
        return None
    ids = torch.tensor([shared_ids], device=bb.device)
    return cache_of(bb.model.model(input_ids=ids, use_cache=True))


def expand_cache(cache, batch: int, copy_first: bool):
    """The shared cache repeated for a batch (copied first when it is reused afterwards)."""
    if cache is None:
        return None
    out = copy.deepcopy(cache) if copy_first else cache
    out.batch_repeat_interleave(batch)
    return out


def context_mask(shared_len: int, mask: torch.Tensor) -> torch.Tensor:
    """2-D mask over [shared part, this batch's (padded) tokens]."""
    ones = torch.ones(mask.shape[0], shared_len, dtype=mask.dtype, device=mask.device)
    return torch.cat([ones, mask], dim=1)
