"""The GPU benchmark script's FLOP accounting and code path (tiny geometry on the CPU)."""
import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "benchmarks" / "lvlm_gpu.py"


@pytest.fixture(scope="module")
def gpu_bench():
    spec = importlib.util.spec_from_file_location("lvlm_gpu", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_flops_match_the_7b_parameter_count(gpu_bench):
    model, config = gpu_bench.build_model("tiny", "cpu", __import__("torch").float32)
    fwd, n = gpu_bench.flops_per_token(config, seq_len=100)
    linear = sum(p.numel() for name, p in model.named_parameters()
                 if p.dim() == 2 and "embed_tokens" not in name)
    assert n == linear  # every matmul weight, lm_head included, embeddings excluded
    d, layers = config.hidden_size, config.num_hidden_layers
    assert fwd == 2 * n + 4 * layers * d * 100
    # LLaMA-7B geometry: ~6.5e9 matmul weights (6.74e9 parameters minus the 131e6 embedding)
    from transformers import LlamaConfig
    h, i, l, a = gpu_bench.GEOMETRY["7b"]
    _, n7 = gpu_bench.flops_per_token(LlamaConfig(hidden_size=h, intermediate_size=i,
                                                  num_hidden_layers=l, num_attention_heads=a,
                                                  vocab_size=gpu_bench.VOCAB), 1)
    assert 6.5e9 < n7 + 32000 * 4096 + 2 * 32 * 4096 + 4096 < 6.8e9


def test_tiny_geometry_runs_train_and_inference_on_cpu(gpu_bench):
    r = gpu_bench.bench_one("tiny", seq_len=16, batch=2, device="cpu", peak=1.0, iters=1, rank=2)
    for key in ("prefill_tokens_per_s", "decode_tokens_per_s", "train_tokens_per_s"):
        assert r[key] > 0
    assert 0 < r["train_mfu"] and 0 < r["prefill_mfu"]
