"""Write a randomly initialised LLaVA-1.5-shaped HF directory, so the `paper` profile's code path
(`LlavaForConditionalGeneration.from_pretrained`, bf16, gradient checkpointing, LoRA) can be run
and timed where the real weights are not at hand.

    python benchmarks/random_llava.py OUT_DIR [--geometry tiny|7b|13b]
    BENCH_LLAVA_PATH=OUT_DIR bench run --suite mini-xsub --methods lvlm_var --profile paper

7b/13b: Vicuna-7B/13B geometry (LLaMA, vocab 32064) and the CLIP ViT-L/14-336 tower of
LLaVA-1.5; the weights are random, so accuracy means nothing, speed does. The tokenizer is a small
byte-fallback BPE trained on the NTU class names (LLaMA's own tokenizer cannot be downloaded
here): prompts come out somewhat shorter than with LLaMA's 32k vocabulary.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from lvlm_gpu import GEOMETRY  # noqa: E402

# CLIP ViT-L/14 at 336 px: LLaVA-1.5's vision tower (the tiny geometry takes lm.TINY_VISION).
CLIP_L_336 = dict(hidden_size=1024, intermediate_size=4096, num_hidden_layers=24,
                  num_attention_heads=16, image_size=336, patch_size=14, projection_dim=768)
LLAVA_VOCAB = 32064  # LLaMA's 32000 + <image> + <pad>, padded to a multiple of 64


def tokenizer_corpus() -> list[str]:
    from bench.data.ntu.classes import class_names

    names = class_names("ntu120")
    return names + [f"Action: {n}. Explanation: the right hand moves up." for n in names]


def write_random_llava(out: Path, geometry: str = "tiny", vocab: int = 800) -> Path:
    """The directory `out` (written atomically) holding config, bf16 safetensors and tokenizer."""
    import torch
    from transformers import (CLIPVisionConfig, LlamaConfig, LlavaConfig,
                              LlavaForConditionalGeneration)

    from bench.methods.lvlm_var.lm import PLACEHOLDER, TINY_VISION, tiny_tokenizer

    tokenizer = tiny_tokenizer(tokenizer_corpus(), vocab)
    hidden, inter, layers, heads = GEOMETRY[geometry]
    text = LlamaConfig(hidden_size=hidden, intermediate_size=inter, num_hidden_layers=layers,
                       num_attention_heads=heads, num_key_value_heads=heads,
                       vocab_size=len(tokenizer) if geometry == "tiny" else LLAVA_VOCAB,
                       max_position_embeddings=4096, bos_token_id=tokenizer.bos_token_id,
                       eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    vision = CLIPVisionConfig(**(TINY_VISION if geometry == "tiny" else CLIP_L_336))
    config = LlavaConfig(vision_config=vision, text_config=text,
                         image_token_index=tokenizer.convert_tokens_to_ids(PLACEHOLDER))
    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.manual_seed(0)
    with torch.device(device):  # a 7B/13B model is initialised on the GPU in seconds
        model = LlavaForConditionalGeneration(config).to(torch.bfloat16)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        tmp.chmod(0o755)  # mkdtemp's 0700 would hide the weights from other users
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--geometry", default="tiny", choices=sorted(GEOMETRY))
    args = parser.parse_args(argv)
    path = write_random_llava(args.out, args.geometry)
    size = sum(f.stat().st_size for f in path.iterdir()) / 2**30
    print(f"wrote {path} ({args.geometry}, {size:.2f} GiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
