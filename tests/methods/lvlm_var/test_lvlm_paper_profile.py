"""The `paper` profile's code path (LLaVA-1.5 from a local HF directory, bf16, gradient
checkpointing, LoRA on the language model) on a tiny random LLaVA written to disk."""
from __future__ import annotations


import numpy as np
import torch
from toys import named_motion_bundle


SMALL_VST = {"vst.codebook": 16, "vst.dim": 16, "vst.hidden": 32, "vst.epochs": 3,
             "vst.vq_epochs": 2, "vst.aug_copies": 0, "lvlm.steps": 4, "lvlm.max_new_tokens": 6,
             "eval.faithfulness_samples": 0,
             "vst.gcn_channels": 8, "vst.clip_frames": 24}  # the paper's graph encoder, narrow


def test_paper_profile_loads_the_directory_and_trains_lora_in_bf16(llava_dir, tmp_path, monkeypatch):
    from safetensors.torch import load_file

    from bench.methods.lvlm_var.method import LvlmVar

    torch.set_num_threads(1)
    monkeypatch.setenv("BENCH_LLAVA_PATH", str(llava_dir))
    cfg = {**LvlmVar.default_config("paper"), **SMALL_VST}
    method = LvlmVar(cfg, profile="paper", seed=0, workdir=tmp_path / "work",
                     cache_dir=tmp_path / "cache")
    bundle = named_motion_bundle(num_classes=3, train_per_class=6, test_per_class=2)
    method.fit(bundle)
    bb = method.bb
    assert type(bb.model).__name__ == "LlavaForConditionalGeneration"
    lm = bb.model.model.language_model
    assert bb.checkpointing and lm.gradient_checkpointing
    assert next(lm.parameters()).dtype == torch.bfloat16
    # The weights are the ones on disk, not a fresh random init.
    saved = load_file(str(llava_dir / "model.safetensors"))
    head = next(v for k, v in saved.items() if k.endswith("lm_head.weight"))
    # (vocab injection appends the code tokens' rows after the saved ones)
    assert torch.equal(bb.model.lm_head.weight.detach().cpu()[:len(head)], head)
    lora = [n for n, _ in bb.model.named_modules() if n.endswith("lora_A")]
    assert lora and all("language_model" in n for n in lora)

    pred = method.predict(bundle.test, bundle)
    assert pred.scores.shape == (len(bundle.test), 3) and np.isfinite(pred.scores).all()
    assert all(a.startswith("Action: ") for a in pred.extra["answer"])
