"""LVLM-VAR configuration: one flat dict of dotted keys, every knob a field and an ablation axis.

`default_config(profile)` gives the full config of a profile of baselines/lvlm_var.toml;
`check_config` refuses unknown or missing keys (a misspelt override must not silently do
nothing), values outside their choices and ranges, and combinations that cannot work.
"""
from __future__ import annotations

from bench import recipes
from bench.errors import BenchError

# The values live in baselines/lvlm_var.toml (every knob in [base], with why it is set so);
# this module is the schema that checks them.
RECIPE = "lvlm_var"
PROFILES = recipes.profiles(RECIPE)


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
    "lvlm.dtype": ("auto", "float32", "bfloat16", "autocast-bfloat16"),
    "lvlm.score_norm": ("sum", "mean", "constrained"),
}


def default_config(profile: str) -> dict:
    return recipes.resolve(RECIPE, profile)


def check_config(config: dict) -> dict:
    """The config, validated: exactly the known keys, each of its [base] value's type (`--set
    lvlm.lr=abc` fails here, not an hour into a run), allowed choices, sane numbers."""
    from bench.plan import check_like_defaults

    unknown = sorted(set(config) - set(recipes.base(RECIPE)))
    missing = sorted(set(recipes.base(RECIPE)) - set(config))
    if unknown or missing:
        raise BenchError(f"lvlm_var config: unknown keys {unknown}, missing keys {missing}")
    check_like_defaults(RECIPE, config, recipes.base(RECIPE), ranges=False)
    for key, allowed in CHOICES.items():
        if config[key] not in allowed:
            raise BenchError(f"lvlm_var config: {key}={config[key]!r}; expected one of {allowed}")
    for key in ("vst.window", "vst.codebook", "vst.dim", "vst.max_tokens", "lora.rank",
                "lvlm.batch_size", "vst.pose_frames", "vst.video_frames", "vst.gcn_channels",
                "vst.clip_frames"):
        if int(config[key]) < 1:
            raise BenchError(f"lvlm_var config: {key} must be >= 1, got {config[key]!r}")
    for key in ("vst.aug_copies", "vst.aug_noise", "vst.aug_tilt", "vst.aug_warp", "vst.aug_scale",
                "lvlm.min_steps", "lvlm.micro_batch"):
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
