"""Class scores from class-name likelihoods with one prefix pass per sample, and explanations.

For a batch of prompts, the prefix (everything up to "Action:") runs once, left-padded, and its
KV cache is kept. All class names then run in ONE pass against that cache: their token sequences
form a trie, the trie's inner nodes are packed into a single continuation whose 4-D attention mask
lets each node see the prefix and its own ancestors only (tree attention), with position ids
prefix length + depth. A class's log-likelihood is the sum over its tokens of the log-probability
given the node before it, exactly what a full forward pass of prompt + class name gives.
With `lvlm.score_norm=constrained` a class's score is instead the log-probability of writing its
name when decoding may only continue class names: at each branching node of the trie, the
chosen token's probability renormalised over the tokens that continue some class. Only the
branching nodes (and their ancestors) are fed, and only the allowed tokens' logits computed:
NTU60's 60 names need 9 of the trie's 159 inner nodes.
Explanations are then generated greedily from the same cache after " <predicted class>.
Explanation:".
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from bench.methods.lvlm_var.inputs import (
    context_mask, embed_inputs, expand_cache, pad, positions, shared_cache,
)
from bench.methods.lvlm_var.kv_cache import cache_kw, cache_of
from bench.methods.lvlm_var.lm import Backbone


@dataclass
class ClassTrie:
    tokens: torch.Tensor  # (F,) token of each fed (inner) node
    depth: torch.Tensor  # (F,)
    ancestors: torch.Tensor  # (F, F) bool: node i may attend to node j (j ancestor of i, or i)
    src: torch.Tensor  # (C, L) logit source of each class token: 0 = prefix end, 1 + f = fed node f
    tgt: torch.Tensor  # (C, L) token ids
    valid: torch.Tensor  # (C, L) bool
    # constrained scoring only: the choices at the branching nodes, E of them
    branch_src: torch.Tensor | None = None  # (E,) logit source of each choice (as src)
    branch_tok: torch.Tensor | None = None  # (E,) the token it chooses
    branch_node: torch.Tensor | None = None  # (E,) which branching node it belongs to
    path: torch.Tensor | None = None  # (C, E) 1.0 where class c's name makes choice e

    @classmethod
    def build(cls, sequences: list[list[int]], constrained: bool = False) -> "ClassTrie":
        nexts = next_tokens(sequences)
        branching = sorted((key for key, toks in nexts.items() if len(toks) > 1), key=len)
        # constrained: feed only the branching nodes and their ancestors
        needed = {key[:d] for key in branching for d in range(1, len(key) + 1)}
        node_of: dict[tuple, int] = {}  # prefix tuple -> fed node index
        fed_tok, fed_depth, fed_parent = [], [], []
        length = max(len(s) for s in sequences)
        src = torch.zeros(len(sequences), length, dtype=torch.long)
        tgt = torch.zeros(len(sequences), length, dtype=torch.long)
        valid = torch.zeros(len(sequences), length, dtype=torch.bool)
        for c, seq in enumerate(sequences):
            for k, tok in enumerate(seq):
                if k == 0:
                    tgt[c, k], valid[c, k] = tok, True
                    continue
                key = tuple(seq[:k])  # the node that predicts token k
                if constrained and key not in needed:
                    break  # no branch below: the rest of the name is determined
                tgt[c, k], valid[c, k] = tok, True
                if key not in node_of:
                    node_of[key] = len(fed_tok)
                    fed_tok.append(seq[k - 1])
                    fed_depth.append(k - 1)
                    fed_parent.append(node_of.get(tuple(seq[:k - 1]), -1))
                src[c, k] = 1 + node_of[key]
        n = len(fed_tok)
        anc = torch.eye(n, dtype=torch.bool)
        for i in range(n):
            j = fed_parent[i]
            while j >= 0:
                anc[i, j] = True
                j = fed_parent[j]
        trie = cls(torch.tensor(fed_tok, dtype=torch.long),
                   torch.tensor(fed_depth, dtype=torch.long), anc, src, tgt, valid)
        if constrained:
            choices = [(key, tok) for key in branching for tok in nexts[key]]
            node_index = {key: i for i, key in enumerate(branching)}
            trie.branch_src = torch.tensor([node_of[key] + 1 if key else 0 for key, _ in choices],
                                           dtype=torch.long)
            trie.branch_tok = torch.tensor([tok for _, tok in choices], dtype=torch.long)
            trie.branch_node = torch.tensor([node_index[key] for key, _ in choices],
                                            dtype=torch.long)
            trie.path = torch.tensor([[float(seq[:len(key) + 1] == [*key, tok])
                                       for key, tok in choices] for seq in sequences])
        return trie


def next_tokens(sequences: list[list[int]]) -> dict[tuple, list[int]]:
    """Each prefix of the sequences (a tuple, () included) -> the tokens that may follow it."""
    nexts: dict[tuple, list[int]] = {}
    for seq in sequences:
        for k, tok in enumerate(seq):
            if tok not in nexts.setdefault(tuple(seq[:k]), []):
                nexts[tuple(seq[:k])].append(tok)
    return nexts


def prefix_pass(bb: Backbone, shared, prefixes: list[list[int]], vectors: torch.Tensor | None):
    """Run the left-padded sample prefixes once after the shared prompt part (its cache, or
    None: then `prefixes` are whole prompts): (last hidden (B, H), cache, 2-D context mask)."""
    ids, mask = pad(prefixes, int(bb.tokenizer.pad_token_id), "left")
    mask = mask.to(bb.device)
    shared_len = 0 if shared is None else shared.get_seq_length()
    cache = expand_cache(shared, len(prefixes), copy_first=True)
    ctx = context_mask(shared_len, mask)
    emb = embed_inputs(bb, ids, vectors)
    out = bb.model.model(inputs_embeds=emb, attention_mask=ctx,
                         position_ids=positions(ctx)[:, shared_len:], use_cache=True,
                         **cache_kw(bb.model.model, cache))
    return out.last_hidden_state[:, -1], cache_of(out), ctx


@torch.no_grad()
def shared_prefix(bb: Backbone, shared_ids: list[int]):
    """The shared prompt part's cache, computed once for all scoring batches."""
    with bb.autocast():
        return shared_cache(bb, shared_ids)


def _log_probs(bb: Backbone, hidden: torch.Tensor) -> torch.Tensor:
    return torch.log_softmax(bb.model.lm_head(hidden).float(), dim=-1)


@torch.no_grad()
def score_classes(bb: Backbone, trie: ClassTrie, shared, prefixes: list[list[int]],
                  vectors: torch.Tensor | None, norm: str):
    """(B, C) class scores; also returns (cache, mask) of the prefix for generation."""
    with bb.autocast():
        last, cache, mask = prefix_pass(bb, shared, prefixes, vectors)
        b, p_len = mask.shape
        f = len(trie.tokens)
        tree_out = None
        if f:
            dtype = last.dtype if bb.dtype != "autocast-bfloat16" else torch.float32
            allowed = torch.cat([mask[:, None, None, :].bool().expand(b, 1, f, p_len),
                                 trie.ancestors.to(bb.device)[None, None].expand(b, 1, f, f)], dim=-1)
            mask4 = torch.zeros(allowed.shape, dtype=dtype, device=bb.device)
            mask4.masked_fill_(~allowed, torch.finfo(dtype).min)
            pos = mask.sum(1, keepdim=True) + trie.depth.to(bb.device)[None]
            tree_out = bb.model.model(input_ids=trie.tokens.to(bb.device)[None].expand(b, f),
                                      attention_mask=mask4, position_ids=pos, use_cache=True,
                                      **cache_kw(bb.model.model, cache)).last_hidden_state
        if trie.path is not None:
            scores = _constrained_scores(bb, trie, last, tree_out)
            drop_last(cache, f)
            return scores, cache, mask
        scores = torch.empty(b, trie.src.shape[0])
        src, tgt, valid = (t.to(bb.device) for t in (trie.src, trie.tgt, trie.valid))
        for i in range(b):
            hidden = last[i:i + 1] if tree_out is None else torch.cat([last[i:i + 1], tree_out[i]])
            logp = _log_probs(bb, hidden)[src, tgt] * valid
            total = logp.sum(1)
            scores[i] = (total / valid.sum(1) if norm == "mean" else total).float().cpu()
    drop_last(cache, f)
    return scores, cache, mask


def _constrained_scores(bb: Backbone, trie: ClassTrie, last: torch.Tensor,
                        tree_out: torch.Tensor | None) -> torch.Tensor:
    """(B, C) log-probabilities of each class name under decoding constrained to class names:
    only the allowed tokens' logits at each branching node, renormalised among themselves."""
    if trie.path.shape[1] == 0:  # a single class
        return torch.zeros(last.shape[0], trie.path.shape[0])
    dev = last.device
    hidden = last[:, None] if tree_out is None else torch.cat([last[:, None], tree_out], 1)
    head = bb.model.lm_head
    tok = trie.branch_tok.to(dev)
    logits = torch.einsum("beh,eh->be", hidden[:, trie.branch_src.to(dev)].float(),
                          head.weight[tok].float())
    if getattr(head, "bias", None) is not None:
        logits = logits + head.bias[tok].float()
    node = trie.branch_node.to(dev)
    member = node[None] == torch.arange(int(node.max()) + 1, device=dev)[:, None]  # (S, E)
    lse = torch.logsumexp(logits[:, None].masked_fill(~member[None], -torch.inf), -1)  # (B, S)
    return ((logits - lse[:, node]) @ trie.path.to(dev).T).cpu()


def drop_last(cache, n: int) -> None:
    """Remove the last n positions of a KV cache (the scored class trie)."""
    if n > 0:
        cache.crop(-n)


@torch.no_grad()
def greedy_continue(bb: Backbone, cache, mask: torch.Tensor, suffixes: list[list[int]],
                    max_new_tokens: int, end_id: int, banned: list[int],
                    no_repeat_ngram: int = 0) -> list[list[int]]:
    """Greedy decoding after the cached prefix: feed each row's suffix, then up to max_new_tokens
    tokens until `end_id`. Suffixes are left-padded inside their block (mask 0 there). With
    no_repeat_ngram = n > 0 no n-gram occurs twice in a row's generated tokens."""
    suf, suf_mask = pad(suffixes, int(bb.tokenizer.pad_token_id), "left")
    suf, suf_mask = suf.to(bb.device), suf_mask.to(bb.device)
    full = torch.cat([mask, suf_mask], dim=1)
    pos = positions(full)[:, mask.shape[1]:]
    out: list[list[int]] = [[] for _ in suffixes]
    done = torch.zeros(len(suffixes), dtype=torch.bool)
    step_ids, step_pos = suf, pos
    banned_t = torch.tensor(banned, dtype=torch.long, device=bb.device) if banned else None
    with bb.autocast():
        for _ in range(max_new_tokens):
            step = bb.model.model(input_ids=step_ids, attention_mask=full, position_ids=step_pos,
                                  use_cache=True, **cache_kw(bb.model.model, cache))
            h = step.last_hidden_state[:, -1]
            logits = bb.model.lm_head(h).float()
            if banned_t is not None:
                logits[:, banned_t] = -torch.inf
            for i, gen in enumerate(out):
                repeats = repeated_ngram_ends(gen, no_repeat_ngram)
                if repeats and not done[i]:
                    logits[i, repeats] = -torch.inf
            nxt = logits.argmax(-1).cpu()
            for i in range(len(out)):
                if not done[i]:
                    if int(nxt[i]) == end_id:
                        done[i] = True
                    else:
                        out[i].append(int(nxt[i]))
            if bool(done.all()):
                break
            step_ids = nxt[:, None].to(bb.device)
            step_pos = step_pos[:, -1:] + 1
            full = torch.cat([full, torch.ones(len(out), 1, dtype=full.dtype, device=bb.device)], 1)
    return out


def longest_repeat(tokens: list[int]) -> int:
    """The length of the longest n-gram that occurs at least twice in `tokens` (0: none)."""
    n = 0
    while n < len(tokens):
        grams = [tuple(tokens[k:k + n + 1]) for k in range(len(tokens) - n)]
        if len(set(grams)) == len(grams):
            break
        n += 1
    return n


def repeated_ngram_ends(tokens: list[int], n: int) -> list[int]:
    """The tokens that would complete an n-gram already in `tokens` (HF's no_repeat_ngram_size)."""
    if n <= 0 or len(tokens) < n:
        return []
    tail = tokens[len(tokens) - n + 1:]
    return sorted({tokens[k + n - 1] for k in range(len(tokens) - n + 1)
                   if tokens[k:k + n - 1] == tail})


def full_forward_scores(bb: Backbone, prefix: list[int], vectors: torch.Tensor | None,
                        class_seqs: list[list[int]], norm: str) -> np.ndarray:
    """Reference: one full forward pass of prompt + class name per class (for tests/benchmarks)."""
    nexts = next_tokens(class_seqs)  # norm=constrained: the tokens allowed after each prefix
    out = []
    with torch.no_grad(), bb.autocast():
        for seq in class_seqs:
            ids = torch.tensor([prefix + seq])
            emb = embed_inputs(bb, ids, vectors)
            h = bb.model.model(inputs_embeds=emb, use_cache=False).last_hidden_state[0]
            logp = _log_probs(bb, h[len(prefix) - 1:-1])
            if norm == "constrained":
                total = sum(logp[k, tok] - torch.logsumexp(logp[k, nexts[tuple(seq[:k])]], 0)
                            for k, tok in enumerate(seq) if len(nexts[tuple(seq[:k])]) > 1)
                out.append(float(total))
                continue
            total = logp[torch.arange(len(seq)), torch.tensor(seq)].sum()
            out.append(float(total / len(seq) if norm == "mean" else total))
    return np.array(out)
