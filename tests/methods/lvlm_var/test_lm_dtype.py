"""lvlm.dtype=auto (the cpu profile's): bf16 autocast only where the device computes bf16 in
hardware; an AVX2-only CPU emulates it, several times slower than float32."""
import torch

from bench.methods.lvlm_var import lm
from bench.methods.lvlm_var.config import default_config

CPU = torch.device("cpu")


def test_cpu_flags_are_read_from_proc_cpuinfo():
    flags = lm.cpu_flags()
    assert not flags or "fpu" in flags  # Linux lists fpu first; elsewhere: no flags at all


def test_auto_is_float32_on_an_avx2_cpu_and_bf16_autocast_with_amx(monkeypatch):
    monkeypatch.setattr(lm, "cpu_flags", lambda: {"fpu", "sse2", "avx", "avx2", "fma"})
    assert lm.resolve_dtype("auto", CPU) == "float32"
    monkeypatch.setattr(lm, "cpu_flags", lambda: {"avx2", "avx512f", "amx_tile", "amx_bf16"})
    assert lm.resolve_dtype("auto", CPU) == "autocast-bfloat16"
    for explicit in ("float32", "bfloat16", "autocast-bfloat16"):  # explicit values are kept
        assert lm.resolve_dtype(explicit, CPU) == explicit


def test_auto_on_cuda_follows_the_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    assert lm.resolve_dtype("auto", torch.device("cuda")) == "float32"
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert lm.resolve_dtype("auto", torch.device("cuda")) == "autocast-bfloat16"


def test_the_cpu_profiles_choose_by_hardware_and_the_backbone_never_says_auto(monkeypatch):
    for profile in ("cpu", "quick"):
        assert default_config(profile)["lvlm.dtype"] == "auto"
    assert default_config("paper")["lvlm.dtype"] == "bfloat16"
    monkeypatch.setattr(lm, "cpu_flags", lambda: {"avx2"})
    cfg = dict(default_config("smoke"), **{"lvlm.dtype": "auto"})
    bb = lm.build_backbone(cfg, corpus=["a b c", "raise the right hand"], num_codes=4, seed=0)
    assert bb.dtype == "float32" and bb.autocast().__class__.__name__ == "nullcontext"
    monkeypatch.setattr(lm, "cpu_flags", lambda: {"amx_bf16"})
    bb = lm.build_backbone(cfg, corpus=["a b c", "raise the right hand"], num_codes=4, seed=0)
    assert bb.dtype == "autocast-bfloat16" and isinstance(bb.autocast(), torch.autocast)
