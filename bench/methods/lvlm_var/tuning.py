"""LoRA fine-tuning of the LVLM: causal-LM loss on the answer tokens only."""
from __future__ import annotations

import logging
import math
import time

import numpy as np
import torch
import torch.nn.functional as F

from bench import cpu_share, progress, tracking
from bench.errors import BenchError
from bench.methods.lvlm_var.distributed import Group
from bench.methods.lvlm_var.inputs import (
    context_mask, embed_inputs, expand_cache, pad, positions, shared_cache,
)
from bench.methods.lvlm_var.kv_cache import cache_kw
from bench.methods.lvlm_var.lm import Backbone
from bench.methods.lvlm_var.prompts import PromptBuilder

log = logging.getLogger("bench")


def answer_loss(bb: Backbone, shared: list[int], ids: torch.Tensor, mask: torch.Tensor,
                weights: torch.Tensor, vectors: torch.Tensor | None,
                total: float | None = None) -> torch.Tensor:
    """Weighted next-token cross-entropy over answer tokens; logits only where they are needed.
    The shared prompt part runs once per batch (batch 1) and its cache is expanded, unless
    gradient checkpointing is on (it needs use_cache=False): then every row runs in full.
    `total`: the weight sum to divide by (data-parallel: that of the whole global batch, so the
    ranks' losses add up to the loss of the batch); default this batch's own."""
    llava = bb.model
    mask = mask.to(bb.device)
    with bb.autocast():
        if bb.checkpointing:
            full = torch.tensor(shared, dtype=torch.long)[None].expand(len(ids), -1)
            ids = torch.cat([full, ids], 1)
            mask = context_mask(len(shared), mask)
            weights = torch.cat([torch.zeros(full.shape), weights], 1)
            emb = embed_inputs(bb, ids, vectors)
            hidden = llava.model(inputs_embeds=emb, attention_mask=mask,
                                 use_cache=False).last_hidden_state
        else:
            cache = expand_cache(shared_cache(bb, shared), len(ids), copy_first=False)
            ctx = context_mask(len(shared), mask)
            pos = len(shared) + positions(mask)
            emb = embed_inputs(bb, ids, vectors)
            hidden = llava.model(inputs_embeds=emb, attention_mask=ctx, position_ids=pos,
                                 use_cache=True, **cache_kw(llava.model, cache)).last_hidden_state
        w = weights[:, 1:].to(bb.device)
        sel = w > 0
        logits = llava.lm_head(hidden[:, :-1][sel])
    ce = F.cross_entropy(logits.float(), ids[:, 1:].to(bb.device)[sel], reduction="none")
    return (ce * w[sel]).sum() / (w[sel].sum() if total is None else total)


def _batch_loss(bb: Backbone, prompts: PromptBuilder, shared: list[int], data: list, tokens,
                batch: list[int], code_vectors: torch.Tensor, total: float) -> torch.Tensor:
    """answer_loss of these rows (their token sequences and training examples), over `total`."""
    rows = []
    for seq, i in zip(tokens, batch):
        ids_i, weights_i = data[i]
        if bb.code_token_ids is not None:  # vocab injection: the ids hold the code tokens
            ids_i = prompts.token_ids(seq) + ids_i[len(seq):]
        rows.append((ids_i, weights_i))
    ids, mask = pad([r[0] for r in rows], int(bb.tokenizer.pad_token_id), "right")
    weights, _ = pad([r[1] for r in rows], 0.0, "right")
    vectors = None
    if bb.code_token_ids is None:
        vectors = code_vectors[torch.tensor([t for seq in tokens for t in seq], dtype=torch.long)]
    return answer_loss(bb, shared, ids, mask, weights, vectors, total=total)


def weight_total(bb: Backbone, shared: list[int], weights: list[list[float]]) -> float:
    """The denominator answer_loss uses for these rows: the weights of the predicted positions
    (all but each row's first, unless checkpointing puts the shared prompt before it)."""
    skip = 0 if bb.checkpointing and shared else 1
    return float(sum(w for row in weights for w in row[skip:] if w > 0))


def _length_grouped(perm: np.ndarray, lengths: np.ndarray, bs: int, rng, group: int = 4) -> list[int]:
    """A shuffled epoch whose batches hold similar lengths (less padding): sort each run of
    `group` batches by length, then shuffle the order of the batches."""
    batches = []
    for start in range(0, len(perm), bs * group):
        chunk = perm[start:start + bs * group]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches += [chunk[i:i + bs].tolist() for i in range(0, len(chunk), bs)]
    full = [b for b in batches if len(b) == bs]
    rest = [i for b in batches if len(b) < bs for i in b]
    return [i for k in rng.permutation(len(full)) for i in full[k]] + rest


def _schedule(step: int, total: int, warmup: float) -> float:
    warm = max(1, int(round(warmup * total)))
    if step < warm:
        return (step + 1) / warm
    progress = (step - warm) / max(1, total - warm)
    return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress))


def finetune(bb: Backbone, prompts: PromptBuilder, examples: list[dict], code_vectors: torch.Tensor,
             cfg: dict, seed: int, group: Group | None = None) -> dict:
    """examples: {"tokens", "class_name", "explanation", optional "narration"}; returns
    training statistics and the loss of each step ("losses"). With a data-parallel `group`
    every rank draws the same global batches and trains on its shard of each (distributed.py)."""
    data = [prompts.training_example(e["tokens"], e["class_name"], e["explanation"],
                                     float(cfg["lvlm.class_loss_weight"]), e.get("narration", ""))
            for e in examples]
    shared = prompts.shared()
    bs = int(cfg["lvlm.batch_size"])
    micro = int(cfg["lvlm.micro_batch"])  # rows per forward/backward pass (0: the whole batch)
    steps = int(cfg["lvlm.steps"]) or max(int(cfg["lvlm.min_steps"]), 1,
                                          math.ceil(float(cfg["lvlm.epochs"]) * len(data) / bs))
    lora = [p for n, p in bb.peft_model.named_parameters()
            if p.requires_grad and "multi_modal_projector" not in n]
    groups = [{"params": lora, "lr": float(cfg["lvlm.lr"])},
              {"params": list(bb.projector.parameters()), "lr": float(cfg["lvlm.projector_lr"])}]
    opt = torch.optim.AdamW(groups, weight_decay=float(cfg["lvlm.weight_decay"]))
    base_lrs = [g["lr"] for g in groups]
    params = [p for g in groups for p in g["params"]]
    if group is not None:
        if bs < group.size:
            raise BenchError(f"lvlm.batch_size {bs} is smaller than the {group.size} "
                             f"data-parallel processes: each needs a share of every batch")
        group.check_same(([e["tokens"] for e in examples], data,
                          code_vectors.detach().cpu().numpy().tobytes()), "training examples")
        group.broadcast(params)
    rng = np.random.default_rng(seed)
    noise, num_codes = float(cfg["lvlm.token_noise"]), len(code_vectors)

    def noisy(seq: list[int]) -> list[int]:
        """Train tokens come from windows the VST has fitted; test tokens flip more. Each token
        is replaced by a random code with probability `lvlm.token_noise`, so the LM learns to
        weigh the whole sequence rather than trust one token."""
        if noise <= 0:
            return seq
        swap = rng.random(len(seq)) < noise
        return [int(rng.integers(num_codes)) if s else t for t, s in zip(seq, swap)]

    lengths = np.array([len(d[0]) for d in data])
    order: list[int] = []
    bb.peft_model.train()
    losses, started = [], time.perf_counter()
    for step in range(steps):
        if len(order) < bs:
            order += _length_grouped(rng.permutation(len(data)), lengths, bs, rng)
        batch, order = order[:bs], order[bs:]
        cpu_share.adopt_freed_cpus()  # the cores of runs that finished, once nothing waits
        tokens = [noisy(examples[i]["tokens"]) for i in batch]  # the whole batch: same draws
        # the loss of every row is divided by the weight total of the whole (global) batch, so
        # the micro-batches' and the ranks' gradients add up to the batch's gradient
        total = weight_total(bb, shared, [data[i][1] for i in batch])
        if group is not None:  # this rank's shard
            tokens, batch = group.shard(tokens), group.shard(batch)
        for g, lr in zip(opt.param_groups, base_lrs):
            g["lr"] = lr * _schedule(step, steps, float(cfg["lvlm.warmup"]))
        opt.zero_grad(set_to_none=True)
        loss = torch.zeros(())
        for lo in range(0, len(batch), micro or len(batch)):
            hi = lo + (micro or len(batch))
            part = _batch_loss(bb, prompts, shared, data, tokens[lo:hi], batch[lo:hi],
                               code_vectors, total)
            part.backward()
            loss += part.detach().cpu()
        value = loss.item() if group is None else group.sum_gradients(params, loss)
        torch.nn.utils.clip_grad_norm_(params, float(cfg["lvlm.grad_clip"]))
        opt.step()
        losses.append(value)
        tracking.scalar("lora/loss", losses[-1], step + 1)  # no-op unless --track
        progress.step(step + 1, steps, "lora")  # the sweep's per-run bar
        if step % 10 == 0 or step == steps - 1:
            log.info("lvlm step %d/%d loss %.4f (%.1fs)", step + 1, steps, losses[-1],
                     time.perf_counter() - started)
    bb.peft_model.eval()
    stats = {"steps": steps, "final_loss": float(np.mean(losses[-5:])),
             "train_samples_per_s": steps * bs / max(time.perf_counter() - started, 1e-9),
             "train_tokens_per_sample": float(np.mean([len(d[0]) for d in data]) + len(shared)),
             "losses": losses}
    if group is not None:
        stats["train_procs"] = group.size
    return stats
