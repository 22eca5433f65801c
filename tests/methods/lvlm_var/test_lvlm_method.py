"""LVLM-VAR end to end on the smoke profile: fit, predict, class scoring, LoRA placement, config."""
from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from toys import lvlm_method, named_motion_bundle

from bench.errors import BenchError


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    torch.set_num_threads(1)
    bundle = named_motion_bundle(num_classes=6, train_per_class=16, test_per_class=6)
    method = lvlm_method(tmp_path_factory.mktemp("lvlm"))
    method.fit(bundle)
    return method, bundle, method.predict(bundle.test, bundle)


def test_smoke_fit_predict_beats_chance_and_explains(fitted):
    method, bundle, pred = fitted
    n = len(bundle.test)
    assert pred.scores.shape == (n, bundle.num_classes) and np.isfinite(pred.scores).all()
    assert (pred.scores <= 0).all()  # log-likelihoods
    top1 = float((pred.scores.argmax(1) == pred.labels).mean())
    assert top1 > 2.0 / bundle.num_classes
    assert len(pred.texts) == n and all(isinstance(t, str) for t in pred.texts)
    assert sum(bool(t) for t in pred.texts) >= n // 2
    for answer, text, scores in zip(pred.extra["answer"], pred.texts, pred.scores):
        lead = f"Action: {bundle.class_names[int(scores.argmax())]}. Explanation: "
        assert answer.startswith(lead) and answer[len(lead):].strip() == text
    assert len(pred.extra["tokens"]) == n
    assert all(0 <= t < method.vst.size for seq in pred.extra["tokens"] for t in seq)
    # prompt.token_narration: what the tokens read as, in each clip's prompt before "Action:"
    said = pred.extra["token_narration"]
    assert len(said) == n and all(isinstance(t, str) and t for t in said)
    assert said == method._narrate(pred.extra["tokens"])
    plain = method.prompts.sample_prefix(pred.extra["tokens"][0])
    told = method.prompts.sample_prefix(pred.extra["tokens"][0], said[0])
    assert told[:len(pred.extra["tokens"][0])] == plain[:len(pred.extra["tokens"][0])]
    assert told[-len(plain) + len(pred.extra["tokens"][0]):] == plain[len(pred.extra["tokens"][0]):]
    assert len(told) > len(plain)
    diag = method.diagnostics()
    for key in ("vst_train_utilisation", "vst_train_perplexity", "vst_test_flip_rate",
                "lvlm_train_s", "lvlm_score_s"):
        assert key in diag and np.isfinite(diag[key])
    assert (method.workdir / "lvlm" / "projector.pt").is_file()


def test_prefix_cached_scores_equal_full_forward_passes(fitted):
    from bench.methods.lvlm_var.scoring import (
        ClassTrie, full_forward_scores, score_classes, shared_prefix,
    )

    method, bundle, _ = fitted
    tokens, _ = method.tokenize(bundle.test, bundle)
    order = np.argsort([len(t) for t in tokens])
    pick = [int(order[0]), int(order[len(order) // 2]), int(order[-1])]  # unequal lengths: padding
    prompts = method.prompts
    prefixes = [prompts.prefix(tokens[i]) for i in pick]
    classes = prompts.scored_continuations(bundle.class_names)
    shared = shared_prefix(method.bb, prompts.shared())
    vectors = method._vectors([tokens[i] for i in pick])
    tries = {"sum": method.trie, "mean": method.trie,
             "constrained": ClassTrie.build(classes, constrained=True)}
    assert len(tries["constrained"].tokens) < len(method.trie.tokens)
    for norm, trie in tries.items():
        # the shared prompt part cached once, and no shared cache at all: both equal full passes
        with_shared, _, _ = score_classes(method.bb, trie, shared,
                                          [prompts.sample_prefix(tokens[i]) for i in pick], vectors, norm)
        without, _, _ = score_classes(method.bb, trie, None, prefixes, vectors, norm)
        for row, i in enumerate(pick):
            full = full_forward_scores(method.bb, prefixes[row], method._vectors([tokens[i]]),
                                       classes, norm)
            np.testing.assert_allclose(with_shared[row].numpy(), full, rtol=1e-4, atol=1e-4)
            np.testing.assert_allclose(without[row].numpy(), full, rtol=1e-4, atol=1e-4)
        if norm == "constrained":  # a distribution over the classes
            np.testing.assert_allclose(with_shared.exp().sum(1).numpy(), 1.0, rtol=1e-4)


def test_training_with_the_shared_prefix_cache_equals_full_sequences(fitted):
    from bench.methods.lvlm_var.inputs import pad
    from bench.methods.lvlm_var.tuning import answer_loss

    method, bundle, _ = fitted
    bb, prompts = method.bb, method.prompts
    tokens, _ = method.tokenize(bundle.train, bundle)
    rows = [prompts.training_example(tokens[i], bundle.class_names[int(bundle.train.labels[i])],
                                     "right hand rises", 2.0) for i in (0, 40, 90)]
    ids, mask = pad([r[0] for r in rows], int(bb.tokenizer.pad_token_id), "right")
    weights, _ = pad([r[1] for r in rows], 0.0, "right")
    lora = next(p for n, p in bb.peft_model.named_parameters() if "lora_A" in n)
    out = []
    bb.peft_model.unmerge_adapter()  # predict() merged LoRA into the weights
    try:
        for full in (False, True):  # bb.checkpointing selects the no-cache path
            bb.checkpointing = full
            bb.peft_model.zero_grad()
            loss = answer_loss(bb, prompts.shared(), ids, mask, weights,
                               method._vectors([tokens[i] for i in (0, 40, 90)]))
            loss.backward()
            out.append((loss.item(), lora.grad.clone()))
    finally:
        bb.checkpointing = False
        bb.peft_model.zero_grad()
        bb.peft_model.merge_adapter()
    assert out[0][0] == pytest.approx(out[1][0], rel=1e-4)
    torch.testing.assert_close(out[0][1], out[1][1], rtol=1e-3, atol=1e-6)


def test_scored_continuations_end_with_a_full_stop_only_when_needed(fitted):
    prompts = fitted[0].prompts
    free = prompts.scored_continuations(["right hand up", "left leg forward"])
    assert free == [prompts._ids(" right hand up"), prompts._ids(" left leg forward")]
    nested = prompts.scored_continuations(["hand", "hand up"])
    assert all(seq[-len(prompts._ids(".")):] == prompts._ids(".") for seq in nested)


def test_class_trie_shares_prefixes():
    from bench.methods.lvlm_var.scoring import ClassTrie

    trie = ClassTrie.build([[5, 6, 9], [5, 7, 9], [8, 9]])
    # inner nodes: (5), (5,6), (5,7), (8): the last token of each class is never fed
    assert sorted(trie.tokens.tolist()) == [5, 6, 7, 8]
    assert trie.valid.sum().item() == 8
    node_56 = trie.src[0, 2].item() - 1
    assert trie.ancestors[node_56].sum().item() == 2  # itself and the (5) node


def test_constrained_trie_feeds_only_branches_and_renormalises_there():
    from bench.methods.lvlm_var.scoring import ClassTrie

    # classes: 5 6 9 | 5 7 9 | 8 9: branches at the root (5 or 8) and after 5 (6 or 7)
    trie = ClassTrie.build([[5, 6, 9], [5, 7, 9], [8, 9]], constrained=True)
    assert trie.tokens.tolist() == [5]  # only the (5) node; (5,6), (5,7), (8) decide nothing
    assert sorted(zip(trie.branch_node.tolist(), trie.branch_tok.tolist())) == [
        (0, 5), (0, 8), (1, 6), (1, 7)]
    assert trie.path.sum(1).tolist() == [2.0, 2.0, 1.0]


def test_lora_touches_the_language_model_only(fitted, tmp_path):
    from bench.methods.lvlm_var.lm import add_lora, build_backbone

    method, _, _ = fitted
    names = [n for n, _ in method.bb.model.named_modules() if n.endswith("lora_A")]
    assert names and all(".language_model." in n for n in names)
    assert any("vision_tower" in n and n.endswith("q_proj") for n, _ in method.bb.model.named_modules())
    trainable = [n for n, p in method.bb.peft_model.named_parameters() if p.requires_grad]
    # LoRA, the projector, and (vocab injection, the default) the code tokens' embedding rows
    assert all("lora_" in n or "multi_modal_projector" in n or "trainable_tokens" in n
               for n in trainable)
    codes = [n for n in trainable if "trainable_tokens" in n]
    assert all("language_model.embed_tokens" in n for n in codes)
    assert not any("vision_tower" in n for n in trainable)
    cfg = {**method.config, "lora.targets": r".*\.(q_proj|v_proj)"}  # would hit the CLIP tower
    bb = build_backbone(cfg, corpus=["a b"], num_codes=4, seed=0)
    with pytest.raises(BenchError, match="outside the language model"):
        add_lora(bb, cfg)


def test_vocab_injection_runs(tmp_path):
    bundle = named_motion_bundle(num_classes=4, train_per_class=8, test_per_class=3)
    method = lvlm_method(tmp_path, **{"lvlm.injection": "vocab", "lvlm.epochs": 2.0,
                                      "lvlm.explain_max": 2, "vst.epochs": 5, "vst.vq_epochs": 2})
    method.fit(bundle)
    pred = method.predict(bundle.test, bundle)
    assert method.bb.code_token_ids and len(method.bb.code_token_ids) == method.vst.size
    prefix = method.prompts.sample_prefix([0, 1])
    assert method.bb.code_token_ids[1] in prefix and method.bb.placeholder_id not in prefix
    assert pred.scores.shape == (len(bundle.test), 4)
    assert [bool(t) or bool(a) for t, a in zip(pred.texts, pred.extra["answer"])][:2] == [True, True]
    assert pred.extra["answer"][2:] == [""] * (len(bundle.test) - 2)


def test_config_profiles_and_errors(tmp_path, monkeypatch):
    from bench.methods.lvlm_var.config import PROFILES, default_config

    for profile in PROFILES:
        cfg = default_config(profile)
        for key in ("vst.codebook", "vst.token_rate", "lora.rank", "lvlm.injection"):
            assert key in cfg
    with pytest.raises(BenchError, match="unknown keys"):
        lvlm_method(tmp_path, **{"vst.codebok": 3})
    with pytest.raises(BenchError, match="lvlm.injection"):
        lvlm_method(tmp_path, **{"lvlm.injection": "pixels"})
    with pytest.raises(BenchError, match="vst.aug_warp must be < 1"):
        lvlm_method(tmp_path, **{"vst.aug_warp": 1.0})
    with pytest.raises(BenchError, match="vst.aug_scale must be >= 0"):
        lvlm_method(tmp_path, **{"vst.aug_scale": -0.1})
    with pytest.raises(BenchError, match=r"lvlm.token_noise must be in \[0, 1\]"):
        lvlm_method(tmp_path, **{"lvlm.token_noise": 1.5})
    monkeypatch.delenv("BENCH_LLAVA_PATH", raising=False)
    paper = lvlm_method(tmp_path, profile="paper")
    with pytest.raises(BenchError, match="BENCH_LLAVA_PATH"):
        paper.fit(named_motion_bundle(num_classes=2, train_per_class=2, test_per_class=1))


@pytest.mark.skipif(not os.environ.get("BENCH_SLOW_TESTS"), reason="set BENCH_SLOW_TESTS=1 (~1 min)")
def test_smollm2_converts_once_from_the_wheel_gguf(tmp_path):
    from bench.methods.lvlm_var.config import default_config
    from bench.methods.lvlm_var.lm import smollm2_dir

    cfg = default_config("cpu")
    path = smollm2_dir(cfg)
    assert (path / "config.json").is_file() and (path / "model.safetensors").is_file()
    assert smollm2_dir(cfg) == path


def test_repeated_ngram_ends_lists_what_would_repeat():
    from bench.methods.lvlm_var.scoring import repeated_ngram_ends

    assert repeated_ngram_ends([1, 2, 3, 1, 2], 3) == [3]
    assert repeated_ngram_ends([1, 2, 1, 2, 1], 3) == [2]
    assert repeated_ngram_ends([5, 5, 5], 2) == [5]
    assert repeated_ngram_ends([1, 2, 3, 1, 2], 0) == [] and repeated_ngram_ends([1, 2], 3) == []


def test_longest_repeat_and_the_automatic_no_repeat_length(fitted):
    from bench.methods.lvlm_var.scoring import longest_repeat

    assert longest_repeat([1, 2, 3, 1, 2, 4]) == 2 and longest_repeat([1, 2, 3]) == 0
    assert longest_repeat([7, 7, 7]) == 2 and longest_repeat([]) == 0
    method, _, _ = fitted
    # lvlm.no_repeat_ngram=-1: never blocks an n-gram that a train target repeats
    assert method.config["lvlm.no_repeat_ngram"] == -1
    targets = [t for texts in method.context["train_texts"].values() for t in texts]
    longest = max(longest_repeat(method.prompts.explanation_ids(t)[:-1]) for t in targets)
    assert method.no_repeat >= longest + 1
    assert method.diagnostics()["lvlm_no_repeat_ngram"] == method.no_repeat


def test_generation_repeats_no_ngram(fitted):
    from bench.methods.lvlm_var.scoring import greedy_continue

    method, bundle, _ = fitted
    tokens, _ = method.tokenize(bundle.test, bundle)
    prompts = method.prompts
    lead = prompts.class_ids(bundle.class_names[0]) + prompts.explanation_lead()
    for n in (1, 2):
        _, cache, mask = method._score(tokens[:6])
        out = greedy_continue(method.bb, cache, mask, [lead] * 6, 12, prompts.end_id, [], n)
        for gen in out:
            grams = [tuple(gen[k:k + n]) for k in range(len(gen) - n + 1)]
            assert len(grams) == len(set(grams))
    assert any(len(gen) >= 3 for gen in out)  # it did generate


def test_fit_on_train_and_val_trains_on_both(tmp_path, monkeypatch):
    from bench.methods.lvlm_var import tuning

    seen = {}
    monkeypatch.setattr(tuning, "finetune", lambda bb, prompts, examples, *a, **k:
                        seen.update(n=len(examples)) or {"steps": 0.0})
    monkeypatch.setattr("bench.methods.lvlm_var.method.LvlmVar._save_adapter", lambda self: None)
    bundle = named_motion_bundle(num_classes=3, train_per_class=3, test_per_class=1)
    from bench.methods.lvlm_var.config import default_config
    assert default_config("cpu")["fit_on"] == "train+val"
    method = lvlm_method(tmp_path, **{"fit_on": "train+val", "vst.epochs": 2, "vst.vq_epochs": 1})
    method.fit(bundle)
    assert seen["n"] == len(bundle.train) + len(bundle.val)


def test_idf_class_words_separate_names_that_share_most_tokens():
    import torch

    from bench.methods.lvlm_var.lm import class_word_embeddings

    emb = torch.randn(10, 16, generator=torch.Generator().manual_seed(0))
    names = [[1, 2, 3, 4], [1, 2, 3, 5], [6, 2, 7]]  # "... to the left" / "... to the right"
    mean = class_word_embeddings(emb, names, "mean")
    idf = class_word_embeddings(emb, names, "idf")
    torch.testing.assert_close(mean[0], emb[[1, 2, 3, 4]].mean(0))
    assert torch.dist(idf[0], idf[1]) > 1.2 * torch.dist(mean[0], mean[1])
    # a name's own tokens only: its embedding lies in their span, weights summing to one
    w = torch.linalg.lstsq(emb[[6, 2, 7]].T, idf[2][:, None]).solution.flatten()
    torch.testing.assert_close(w.sum(), torch.tensor(1.0))
    assert w[1] < w[0]  # token 2, in every name, weighs least


@pytest.mark.parametrize("injection", ["projector", "vocab"])
def test_token_noise_replaces_train_tokens_and_keeps_the_answer(tmp_path, monkeypatch, injection):
    import torch

    from bench.methods.lvlm_var import tuning

    real = tuning.answer_loss
    bundle = named_motion_bundle(num_classes=3, train_per_class=6, test_per_class=1)

    def first_batch(noise):
        seen = []

        def spy(bb, shared, ids, mask, weights, vectors, **kw):
            seen.append((ids.clone(), weights.clone(), vectors))
            return real(bb, shared, ids, mask, weights, vectors, **kw)

        monkeypatch.setattr(tuning, "answer_loss", spy)
        method = lvlm_method(tmp_path, **{"lvlm.injection": injection, "lvlm.steps": 1,
                                          "lvlm.token_noise": noise, "vst.epochs": 3,
                                          "vst.vq_epochs": 1})
        method.fit(bundle)  # same seed: the same first batch; the VST comes from the cache
        ids, weights, vectors = seen[0]
        if vectors is None:  # vocab injection: the code tokens are in the ids
            codes = {t: c for c, t in enumerate(method.bb.code_token_ids)}
            return ids, weights, [codes[t] for t in ids.flatten().tolist() if t in codes]
        equal = (vectors[:, None] == method.vst.code_vectors[None]).all(-1)
        assert bool(equal.any(1).all())  # every injected vector is a code
        return ids, weights, equal.float().argmax(1).tolist()

    ids0, w0, codes0 = first_batch(0.0)
    ids1, w1, codes1 = first_batch(1.0)
    torch.testing.assert_close(w1, w0)  # the answer and its loss weights are unchanged
    assert len(codes1) == len(codes0)  # tokens are replaced, none added or dropped
    assert np.mean(np.array(codes1) != np.array(codes0)) > 0.5
    if injection == "projector":
        assert torch.equal(ids1, ids0)  # placeholders whatever the code
    else:  # only code-token positions differ
        assert int((ids1 != ids0).sum()) == int((np.array(codes1) != np.array(codes0)).sum())
