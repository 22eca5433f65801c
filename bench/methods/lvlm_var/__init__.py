"""LVLM-VAR: Video-to-Semantic-Tokens + a LoRA-tuned LLaVA that names the action and explains it.

Modules: config (profiles), features (windows), vst (encoder, VQ, tokenisation), semantics (code
descriptions), stage (the cached VST stage), prompts, lm (backbones, projector, LoRA), inputs,
tuning (LoRA training), scoring (prefix-cached class scores, explanations), method (the Method).
Heavy imports (torch, transformers, peft) happen when these modules are imported, never from
`bench.methods`.
"""

# read by bench/methods/__init__.py without importing the package (torch, transformers)
REGISTER = {"lvlm_var": {"module": "bench.methods.lvlm_var.method", "class": "LvlmVar",
                         "tags": ["skeleton", "explains"],
                         "check": "bench.methods.lvlm_var.config:check_config"}}
