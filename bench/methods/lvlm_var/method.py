"""LVLM-VAR as a bench Method: VST tokens -> LoRA-tuned LLaVA -> class scores + explanations."""
from __future__ import annotations

import dataclasses
import logging
import time
from typing import Any

import numpy as np
import torch

from bench import cpu_share, progress
from bench.data.bundle import DataBundle, SkeletonSet
from bench.data.layouts import get_layout
from bench.methods.base import Method
from bench.methods.lvlm_var import config as C
from bench.methods.lvlm_var.features import split_windows
from bench.methods.lvlm_var.semantics import explain_tokens, vocabulary_text
from bench.methods.lvlm_var.stage import clip_windows, fit_or_load_vst, stage_seed
from bench.methods.lvlm_var.vst import VstModel, clip_tokens, code_stats, encode_clips
from bench.specs import Predictions

log = logging.getLogger("bench")
# What runs after the test predictions, in order: the live view shows it as one stage of steps
# (minutes on a CPU: each re-scores test clips with the LM or trains a classifier).
CONTROLS_LABEL = "controls"
CONTROL_STAGES = ("erasure test", "shuffled-order control", "token-only baselines")
# What runs between the VST and the first LoRA step, in order (minutes on a CPU thread).
PREPARE_STAGES = ("tokens", "token narration", "clip narratives", "language model")


def _prepare(stage: str, started: float | None = None) -> float:
    """Show the stage that starts now (and log how long the one before took); returns now."""
    i = PREPARE_STAGES.index(stage)
    if started is not None:
        log.info("lvlm prepare: %s done (%.1fs)", PREPARE_STAGES[i - 1],
                 time.perf_counter() - started)
    progress.step(i, len(PREPARE_STAGES), f"prepare: {stage}")
    return time.perf_counter()


def _control_done(stage: str, started: float) -> None:
    progress.step(CONTROL_STAGES.index(stage) + 1, len(CONTROL_STAGES), CONTROLS_LABEL)
    log.info("lvlm %s done (%.1fs)", stage, time.perf_counter() - started)


def explanation_context(targets: list[str], labels: np.ndarray, num_classes: int,
                        per_class: int = 50) -> dict:
    """The train explanations the report's controls and consistency prototypes are made of:
    the most frequent one (the constant control), the most frequent of each class (the class
    template control; the constant where a class has none) and up to `per_class` per class."""
    from collections import Counter

    constant = Counter(targets).most_common(1)[0][0] if targets else ""
    by_class: dict[int, list[str]] = {}
    for text, y in zip(targets, labels):
        by_class.setdefault(int(y), []).append(text)
    templates = [Counter(by_class[c]).most_common(1)[0][0] if c in by_class else constant
                 for c in range(num_classes)]
    return {"constant_text": constant, "class_templates": templates,
            "train_texts": {str(c): texts[:per_class] for c, texts in sorted(by_class.items())}}


class LvlmVar(Method):
    explains = True

    @classmethod
    def default_config(cls, profile: str) -> dict:
        return C.default_config(profile)

    def __init__(self, config: dict, **kwargs):
        super().__init__(C.check_config(dict(config)), **kwargs)
        self.vst: VstModel | None = None  # or a PartsVst (vst.parts)
        self.bb = None
        self.prompts = None
        self.trie = None
        self.stats: dict[str, Any] = {}
        self._merged = False
        self._shared = None  # KV cache of the prompt part all samples share (after training)
        self._video = None  # the VST's video branch (vst.video), built on first use
        self._decoding: tuple = ()  # decode.narrate_tokens's window, stride, layout, fps
        self._narrations: dict[tuple, str] = {}  # token sequence -> its narration
        self.no_repeat = 0  # generation: no n-gram this long twice (lvlm.no_repeat_ngram)
        self._train_tokens: list[list[int]] = []
        self._train_labels = np.zeros(0, dtype=np.int64)
        self.train_losses: list[float] = []
        self.context: dict[str, Any] = {}  # train explanations behind the report's controls

    # ------------------------------------------------------------------ helpers
    def _windows(self, split: SkeletonSet, data: DataBundle, augment: bool = False):
        """Windows of a split; with `augment` (VST training only) plus perturbed copies."""
        cfg = self.config
        aug = ({"copies": int(cfg["vst.aug_copies"]), "noise": float(cfg["vst.aug_noise"]),
                "tilt": float(cfg["vst.aug_tilt"]), "warp": float(cfg["vst.aug_warp"]),
                "scale": float(cfg["vst.aug_scale"]), "seed": self.seed}
               if augment and int(cfg["vst.aug_copies"]) > 0 else None)
        stride = data.fps / float(cfg["vst.token_rate"])
        windows = split_windows(split.keypoint, split.num_frames, get_layout(data.layout),
                                window=int(cfg["vst.window"]), stride=stride,
                                pose_frames=int(cfg["vst.pose_frames"]),
                                context=cfg["vst.context"], augment=aug,
                                clip_frames=(int(cfg["vst.clip_frames"])
                                             if cfg["vst.encoder"] == "stgcn" else 0),
                                clip_persons=min(2, data.train.keypoint.shape[1]))
        if cfg["vst.video"] == "none":
            return windows
        if self._video is None:
            from bench.methods.lvlm_var.video import VideoFeatures
            self._video = VideoFeatures(cfg, self.cache_dir)
        video = self._video.for_split(split, data, stride)
        copies = (len(windows.offsets) - 1) // len(split)  # perturbed copies keep their video
        return dataclasses.replace(windows, features=np.concatenate(
            [windows.features, np.tile(video, (copies, 1))], axis=1))

    def tokenize(self, split: SkeletonSet, data: DataBundle) -> tuple[list[list[int]], dict]:
        """Semantic tokens of each clip, and code statistics of the split's windows."""
        # a chunk of clips at a time: a split's window features are never all in memory
        codes, raw, windows = encode_clips(self.vst, clip_windows(self, split, data))
        stats = code_stats(codes, windows, self.vst.size)
        stats["flip_rate_unsmoothed"] = code_stats(raw, windows, self.vst.size)["flip_rate"]
        tokens = clip_tokens(codes, windows, bool(self.config["vst.merge_runs"]),
                             int(self.config["vst.max_tokens"]))
        stats["tokens_per_clip"] = float(np.mean([len(t) for t in tokens]))
        stats["windows_per_clip"] = float(np.mean(np.diff(windows.offsets)))
        return tokens, stats

    def _narrate(self, tokens: list[list[int]]) -> list[str]:
        """What each clip's tokens read as in words (decode.py), for its prompt; "" for each
        without prompt.token_narration."""
        if not self.config["prompt.token_narration"]:
            return [""] * len(tokens)
        from bench.methods.lvlm_var.decode import narrate_tokens

        new = list({tuple(t): t for t in tokens if tuple(t) not in self._narrations}.values())
        self._narrations.update(zip(map(tuple, new),
                                    narrate_tokens(new, self.vst.code_means, *self._decoding)))
        return [self._narrations[tuple(t)] for t in tokens]

    def _vectors(self, tokens: list[list[int]]) -> torch.Tensor | None:
        if self.bb.code_token_ids is not None:
            return None
        flat = torch.tensor([t for seq in tokens for t in seq], dtype=torch.long)
        return self.vst.code_vectors[flat]

    # ------------------------------------------------------------------ fit
    def fit(self, data: DataBundle) -> None:
        from bench.methods.lvlm_var.distributed import join

        group = join()  # None unless torchrun started this run's processes (--gpus-per-run N)
        try:
            self._fit(data, group)
            if group is not None:
                group.barrier()  # all ranks done before the group closes
        finally:
            if group is not None:  # prediction runs as in one process, on every rank
                group.close()

    def _fit(self, data: DataBundle, group) -> None:
        from bench.methods.lvlm_var.lm import (
            add_lora, build_backbone, check_backbone, install_projector,
        )
        from bench.methods.lvlm_var.prompts import PromptBuilder, template_text
        from bench.methods.lvlm_var.tuning import finetune

        cfg = self.config
        check_backbone(cfg)
        if cfg["fit_on"] == "train+val":
            data = data.with_val_in_train()
        t0 = time.perf_counter()
        if group is None:
            self.vst, hit = fit_or_load_vst(self, data)
        else:
            with group.rank0_first():  # rank 0 trains the stage, the others read it
                self.vst, hit = fit_or_load_vst(self, data)
        self.stats.update({"vst_cache_hit": float(hit), "vst_fit_s": time.perf_counter() - t0})
        self.stats.update({f"vst_{k}": v for k, v in self.vst.train_stats.items()})
        t0 = _prepare("tokens")
        tokens, stats = self.tokenize(data.train, data)
        self.stats.update({f"vst_train_{k}": v for k, v in stats.items()})
        self._train_tokens, self._train_labels = tokens, np.asarray(data.train.labels)
        self._decoding = (int(cfg["vst.window"]), data.fps / float(cfg["vst.token_rate"]),
                          get_layout(data.layout), data.fps)
        t0 = _prepare("token narration", t0)
        narrations = self._narrate(tokens)
        t0 = _prepare("clip narratives", t0)
        targets = self._explanation_targets(data, tokens)
        self.context = explanation_context(targets, self._train_labels, data.num_classes)
        self.stats["train_distinct_explanations"] = float(len(set(targets)))
        examples = [{"tokens": t, "class_name": data.class_names[int(y)], "explanation": e,
                     "narration": n}
                    for t, y, e, n in zip(tokens, data.train.labels, targets, narrations)]

        # The LM stage draws from its own seed, whether the VST was trained here or read from
        # the stage cache (which leaves the global generator elsewhere).
        torch.manual_seed(stage_seed(self.seed, "lvlm"))
        t0 = _prepare("language model", t0)
        corpus = (list(data.class_names) + vocabulary_text() + sorted(set(self.vst.descriptions))
                  + sorted(set(targets)) + sorted(set(narrations)) + template_text()
                  + [cfg["prompt.system"], cfg["prompt.instruction"]])
        self.bb = build_backbone(cfg, corpus=corpus, num_codes=self.vst.size, seed=self.seed)
        self.prompts = PromptBuilder(self.bb.tokenizer, cfg["lvlm.template"], cfg["prompt.system"],
                                     cfg["prompt.instruction"], self.bb.placeholder_id,
                                     self.bb.code_token_ids,
                                     list(data.class_names) if cfg["prompt.list_classes"] else None)
        names = [self.prompts._ids(" " + n) for n in data.class_names]
        install_projector(self.bb, cfg, vst_dim=self.vst.code_vectors.shape[1],
                          num_classes=data.num_classes,
                          vst_head=getattr(getattr(self.vst, "encoder", None), "head", None),
                          class_token_ids=names)
        if self.bb.code_token_ids is not None:
            self._init_code_embeddings()
        add_lora(self.bb, cfg)
        self.use_score_norm(cfg["lvlm.score_norm"], data.class_names)
        self.no_repeat = int(cfg["lvlm.no_repeat_ngram"])
        if self.no_repeat < 0:  # one longer than any n-gram a train target repeats
            from bench.methods.lvlm_var.scoring import longest_repeat
            self.no_repeat = 1 + max((longest_repeat(self.prompts.explanation_ids(t)[:-1])
                                      for t in targets), default=0)
        self.stats["lvlm_no_repeat_ngram"] = float(self.no_repeat)
        self.stats["lvlm_load_s"] = time.perf_counter() - t0
        self.stats["lvlm_bf16"] = float(self.bb.dtype != "float32")  # lvlm.dtype=auto resolved
        log.info("lvlm dtype %s (lvlm.dtype=%s)", self.bb.dtype, cfg["lvlm.dtype"])
        log.info("lvlm prepare: language model done (%.1fs)", self.stats["lvlm_load_s"])
        self.stats["lvlm_trainable_params"] = float(sum(
            p.numel() for p in self.bb.peft_model.parameters() if p.requires_grad))

        t0 = time.perf_counter()
        train = finetune(self.bb, self.prompts, examples, self.vst.code_vectors, cfg, self.seed,
                         group=group)
        self.train_losses = list(train.pop("losses", []))  # the loss of each step
        self.stats.update({f"lvlm_{k}": float(v) for k, v in train.items()})
        self.stats["lvlm_train_s"] = time.perf_counter() - t0
        if group is None or group.is_main:
            self._save_adapter()

    def _explanation_targets(self, data: DataBundle, tokens: list[list[int]]) -> list[str]:
        """What the LM learns to say about each train clip: its kinematic narrative (read from
        its skeleton, never from a dataset's descriptions), or the joined code descriptions."""
        if self.config["sem.targets"] == "codes":
            phrases = int(self.config["sem.max_phrases"])
            return [explain_tokens(t, self.vst.descriptions, phrases) for t in tokens]
        from bench.methods.lvlm_var.narrator import narrate
        t0 = time.perf_counter()
        train = data.train
        out = narrate(train.keypoint, train.num_frames, get_layout(data.layout), data.fps)
        self.stats["narrator_s"] = time.perf_counter() - t0
        return out

    @torch.no_grad()
    def _init_code_embeddings(self) -> None:
        """Vocab injection: each code token's embedding row starts as its projected code vector
        (`lvlm.code_init=projector`) or as the mean embedding of the words of its readable
        description (`description`: the LM starts from "right hand rises", learned from the
        code's train windows' kinematics, no labels)."""
        emb = self.bb.model.get_input_embeddings().weight
        if self.config["lvlm.code_init"] == "description":
            words = [self.prompts._ids(" " + d) for d in self.vst.descriptions]
            rows = torch.stack([emb[torch.tensor(ids)].mean(0) for ids in words])
        else:
            dtype = next(self.bb.projector.parameters()).dtype
            rows = self.bb.projector(self.vst.code_vectors.to(dtype))
        emb[torch.tensor(self.bb.code_token_ids)] = rows.to(emb.dtype)

    def _save_adapter(self) -> None:
        out = self.workdir / "lvlm"
        out.mkdir(parents=True, exist_ok=True)
        self.bb.peft_model.save_pretrained(out)
        torch.save(self.bb.projector.state_dict(), out / "projector.pt")

    # ------------------------------------------------------------------ predict
    def predict(self, split: SkeletonSet, data: DataBundle) -> Predictions:
        cfg = self.config
        self._inference_weights()
        tokens, stats = self.tokenize(split, data)
        self.stats.update({f"vst_test_{k}": v for k, v in stats.items()})
        n = len(split)
        limit = n if int(cfg["lvlm.explain_max"]) < 0 else min(n, int(cfg["lvlm.explain_max"]))
        scores = np.zeros((n, data.num_classes), dtype=np.float32)
        answers = [""] * n
        bs = int(cfg["lvlm.score_batch"])
        timing = {"score": 0.0, "generate": 0.0}
        for start in range(0, n, bs):
            idx = list(range(start, min(n, start + bs)))
            t0 = time.perf_counter()
            batch_scores, cache, mask = self._score([tokens[i] for i in idx])
            scores[idx] = batch_scores.numpy()
            timing["score"] += time.perf_counter() - t0
            if idx[0] >= limit:
                continue
            t0 = time.perf_counter()
            batch_answers = self._explain(cache, mask, batch_scores.argmax(1).tolist(), data)
            for j, i in enumerate(idx):
                answers[i] = batch_answers[j] if i < limit else ""
            timing["generate"] += time.perf_counter() - t0
            done = idx[-1] + 1
            progress.step(done, n, "predict")
            log.info("lvlm predict %d/%d clips (%.1fs)", done, n, sum(timing.values()))
        self.stats.update({"lvlm_score_s": timing["score"], "lvlm_generate_s": timing["generate"],
                           "lvlm_predict_samples_per_s": n / max(sum(timing.values()), 1e-9)})
        texts = [a.split("Explanation:", 1)[1].strip() if "Explanation:" in a else ""
                 for a in answers]
        phrases = int(cfg["sem.max_phrases"])
        token_text = [explain_tokens(t, self.vst.descriptions, phrases) for t in tokens]
        from bench.methods.lvlm_var.faithfulness import erasure_test
        t0 = time.perf_counter()  # ERASER: re-score a subset without / with only the cited tokens
        progress.step(0, len(CONTROL_STAGES), CONTROLS_LABEL)
        erasure = erasure_test(lambda toks: self._score(toks)[0].numpy(), tokens, texts, scores,
                               self.vst.descriptions, int(cfg["eval.faithfulness_samples"]),
                               self.seed, bs)
        self.stats["lvlm_faithfulness_s"] = time.perf_counter() - t0
        _control_done("erasure test", t0)
        self._controls(tokens, scores, split, data)
        return Predictions(list(split.sample_ids), split.labels, scores, texts,
                           extra={"tokens": tokens, "answer": answers, "token_text": token_text,
                                  "token_narration": self._narrate(tokens), "erasure": erasure},
                           context=self.context)

    def _controls(self, tokens: list[list[int]], scores: np.ndarray, split: SkeletonSet,
                  data: DataBundle) -> None:
        """What the LM adds: top-1 of two token-only classifiers trained on the same train
        tokens, and of the LM itself when each clip's token order is shuffled."""
        from bench.methods.lvlm_var.token_baselines import (
            bag_of_tokens_scores, sequence_model_scores, shuffle_tokens,
        )

        labels = np.asarray(split.labels)

        def top1(s: np.ndarray) -> float:
            return float(np.mean(np.argmax(s, axis=1) == labels))

        t0 = time.perf_counter()
        lm_shuffled = self.score_all(shuffle_tokens(tokens, self.seed))
        self.stats["lm_top1"] = top1(scores)
        self.stats["lm_shuffled_order_top1"] = top1(lm_shuffled)
        _control_done("shuffled-order control", t0)
        cpu_share.adopt_freed_cpus()
        if self.config["eval.token_baselines"]:
            args = (self._train_tokens, self._train_labels, tokens, self.vst.size,
                    data.num_classes, self.seed)
            self.stats["token_bow_top1"] = top1(bag_of_tokens_scores(*args)[0])
            self.stats["token_seq_top1"] = top1(sequence_model_scores(*args)[0])
        _control_done("token-only baselines", t0)
        self.stats["controls_s"] = time.perf_counter() - t0

    def _inference_weights(self) -> None:
        """Merge LoRA into the weights once; a model trained under bf16 autocast predicts in bf16."""
        if not self._merged:
            self.bb.peft_model.merge_adapter()
            self._merged = True
        if self.bb.dtype == "autocast-bfloat16":
            self.bb.model.to(torch.bfloat16)
            self.bb.dtype = "bfloat16"
        if self._shared is None:
            from bench.methods.lvlm_var.scoring import shared_prefix
            self._shared = shared_prefix(self.bb, self.prompts.shared())

    def use_score_norm(self, norm: str, class_names) -> None:
        """Score classes by `norm` from now on (the trie it needs is built here)."""
        from bench.methods.lvlm_var.scoring import ClassTrie

        self.config["lvlm.score_norm"] = norm
        self.trie = ClassTrie.build(self.prompts.scored_continuations(list(class_names)),
                                    constrained=norm == "constrained")

    def score_all(self, tokens: list[list[int]]) -> np.ndarray:
        """(N, C) class scores of token sequences, a scoring batch at a time (no explanations)."""
        bs = int(self.config["lvlm.score_batch"])
        return np.concatenate([self._score(tokens[i:i + bs])[0].numpy()
                               for i in range(0, len(tokens), bs)])

    def _score(self, tokens: list[list[int]]):
        from bench.methods.lvlm_var.scoring import score_classes

        cpu_share.adopt_freed_cpus()  # every scoring batch: predictions, erasure, shuffled order
        return score_classes(self.bb, self.trie, self._shared,
                             [self.prompts.sample_prefix(t, n)
                              for t, n in zip(tokens, self._narrate(tokens))],
                             self._vectors(tokens), self.config["lvlm.score_norm"])

    def _explain(self, cache, mask, preds: list[int], data: DataBundle) -> list[str]:
        """Greedy answers "Action: <class>. Explanation: <text>" for one scoring batch."""
        from bench.methods.lvlm_var.scoring import drop_last, greedy_continue

        cfg, p = self.config, self.prompts
        if cfg["lvlm.explain_given_prediction"]:
            suffixes = [p.class_ids(data.class_names[c]) + p.explanation_lead() for c in preds]
        else:  # generate the class too: re-feed the prompt's last token ("Action:")
            drop_last(cache, 1)
            last = int(p.sample_prefix([])[-1])
            suffixes, mask = [[last] for _ in preds], mask[:, :-1]
        banned = [self.bb.placeholder_id] + list(self.bb.code_token_ids or [])
        out = greedy_continue(self.bb, cache, mask, suffixes, int(cfg["lvlm.max_new_tokens"]),
                              p.end_id, banned, self.no_repeat)
        tok = self.bb.tokenizer
        answers = []
        for c, gen in zip(preds, out):
            text = tok.decode(gen, skip_special_tokens=True).strip()
            if cfg["lvlm.explain_given_prediction"]:
                # A small LM sometimes repeats the lead (". Explanation: ...") before its text.
                text = text.split("Explanation:")[-1].lstrip(" .").strip()
                answers.append(f"Action: {data.class_names[c]}. Explanation: {text}")
            else:
                answers.append(f"Action: {text}")
        return answers

    def diagnostics(self) -> dict[str, Any]:
        return {k: float(v) for k, v in self.stats.items()}
