"""LVLM-VAR at `paper` shapes on a GPU: LoRA training and inference tokens/s and model-FLOPs
utilisation (MFU) for LLaMA-7B and -13B geometry (the language model of LLaVA-1.5), random init.

    python benchmarks/lvlm_gpu.py [--geometry 7b,13b] [--seq-lens 160,640] [--batch 8]
                                  [--peak-tflops 989] [--out FILE.json]

Random weights are enough: speed depends on the shapes, not the values, and no weights are
downloaded. Sequence lengths: 160 is an LVLM-VAR prompt (system + instruction + 24 semantic
tokens + answer); 640 is LLaVA-1.5's training shape (576 visual tokens + text).

MFU counts model FLOPs only (no recomputation from gradient checkpointing), per token:
  forward 2N + 4*L*d*s (attention scores QK^T and A.V, counted in full as PaLM's MFU does);
  LoRA training: forward + the activation gradients (2x forward); the frozen weights get no
  weight gradients, so 3x forward, not the usual 6N of full fine-tuning.
`--geometry tiny` runs the same code on the CPU in seconds (a check of the script, not a number).

Data-parallel LoRA training (what `--gpus-per-run N` does for LVLM-VAR), one process per GPU:

    torchrun --standalone --nproc-per-node N benchmarks/lvlm_gpu.py --data-parallel [...]

Each rank trains on `--batch` rows (global batch N x batch) and the gradients are summed with
LVLM-VAR's own reducer (bench/methods/lvlm_var/distributed.py, one all-reduce per step); rank 0
reports the global LoRA-training tokens/s, the time of the gradient all-reduce, and (with
`--single FILE.json`, this script's one-GPU output) the scaling efficiency against one GPU.
On CPUs it runs over gloo (`--geometry tiny`: a check of the script).
"""
from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # runs from a bare checkout too (a GPU box without `pip install`)

from bench.methods.lvlm_var.kv_cache import cache_kw, cache_of  # noqa: E402

# hidden, intermediate, layers, heads (LLaMA-1/2 geometry used by LLaVA-1.5's Vicuna)
GEOMETRY = {
    "tiny": (64, 172, 2, 4),
    "7b": (4096, 11008, 32, 32),
    "13b": (5120, 13824, 40, 40),
}
VOCAB = 32000
# Dense bf16 tensor-core peak by device name (no sparsity).
PEAK_TFLOPS = {"H100": 989.4, "H200": 989.4, "A100": 312.0, "L40S": 362.0, "A10": 125.0}


def build_model(geometry: str, device: str, dtype):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    hidden, inter, layers, heads = GEOMETRY[geometry]
    config = LlamaConfig(hidden_size=hidden, intermediate_size=inter, num_hidden_layers=layers,
                         num_attention_heads=heads, num_key_value_heads=heads, vocab_size=VOCAB,
                         max_position_embeddings=4096)
    with torch.device(device):
        model = LlamaForCausalLM(config).to(dtype)
    return model, config


def flops_per_token(config, seq_len: int) -> tuple[float, int]:
    """Forward model FLOPs per token and the parameter count of the matmuls."""
    d, layers = config.hidden_size, config.num_hidden_layers
    per_layer = 4 * d * d + 3 * d * config.intermediate_size  # q,k,v,o + gate,up,down
    n = layers * per_layer + d * config.vocab_size  # + lm_head (embedding lookups are free)
    return 2.0 * n + 4.0 * layers * d * seq_len, n


def _sync(device: str) -> None:
    import torch

    if device == "cuda":
        torch.cuda.synchronize()


def time_it(fn, device: str, warmup: int, iters: int) -> float:
    for _ in range(warmup):
        fn()
    _sync(device)
    started = time.perf_counter()
    for _ in range(iters):
        fn()
    _sync(device)
    return (time.perf_counter() - started) / iters


def bench_one(geometry: str, seq_len: int, batch: int, device: str, peak: float | None,
              iters: int, rank: int, group=None) -> dict:
    """One shape. With a data-parallel `group` (this process is one of its ranks, `batch` rows
    each) only LoRA training is measured, with the gradients summed over the ranks."""
    import torch

    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    if group is not None:
        torch.manual_seed(0)  # the same frozen weights and rows on every rank
    model, config = build_model(geometry, device, dtype)
    fwd_flops, n_params = flops_per_token(config, seq_len)
    ids = torch.randint(0, VOCAB, (batch, seq_len), device=device)
    procs = group.size if group is not None else 1
    tokens = batch * seq_len * procs
    result = {"geometry": geometry, "seq_len": seq_len, "batch": batch * procs, "device": device,
              "matmul_params": n_params, "lora_rank": rank}
    if group is not None:
        result["procs"] = procs
        return _train(model, ids, device, iters, rank, tokens, fwd_flops, peak, result, group)

    model.eval()
    with torch.no_grad():
        prefill = time_it(lambda: model(input_ids=ids, use_cache=False), device, 1, iters)
    result["prefill_tokens_per_s"] = tokens / prefill

    # Greedy decoding of 24 tokens after the prompt (the explanation), KV cache on.
    def decode():
        with torch.no_grad():
            out = model(input_ids=ids, use_cache=True)
            cache, nxt = cache_of(out), out.logits[:, -1:].argmax(-1)
            for _ in range(24):
                out = model(input_ids=nxt, use_cache=True, **cache_kw(model, cache))
                cache, nxt = cache_of(out), out.logits[:, -1:].argmax(-1)
    full = time_it(decode, device, 1, max(1, iters // 2))
    result["decode_tokens_per_s"] = batch * 24 / max(full - prefill, 1e-9)

    return _train(model, ids, device, iters, rank, tokens, fwd_flops, peak, result)


def _train(model, ids, device, iters, rank, tokens, fwd_flops, peak, result, group=None) -> dict:
    """LoRA training steps/s; with a group, each step's gradients are summed over its ranks."""
    import torch
    from peft import LoraConfig, get_peft_model

    lora = LoraConfig(r=rank, lora_alpha=2 * rank, lora_dropout=0.05, bias="none",
                      target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj",
                                      "up_proj", "down_proj"])
    peft_model = get_peft_model(model, lora)
    if device == "cuda":  # as the paper profile trains: recomputation is not counted in MFU
        peft_model.gradient_checkpointing_enable()
    peft_model.enable_input_require_grads()
    peft_model.train()
    params = [p for p in peft_model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-4)
    if group is not None:
        group.broadcast(params)

    def step():
        loss = peft_model(input_ids=ids, labels=ids, use_cache=False).loss
        loss.backward()
        if group is not None:
            group.sum_gradients(params, loss)
        opt.step()
        opt.zero_grad(set_to_none=True)
    train = time_it(step, device, 1, iters)
    result["train_tokens_per_s"] = tokens / train
    result["train_samples_per_s"] = result["batch"] / train
    if group is not None:  # the all-reduce alone, on gradients of the real sizes
        loss = peft_model(input_ids=ids, labels=ids, use_cache=False).loss
        loss.backward()
        reduce_s = time_it(lambda: group.sum_gradients(params, loss.detach()), device, 1, iters)
        result["allreduce_ms"] = 1e3 * reduce_s
        result["trainable_params"] = sum(p.numel() for p in params)
    if device == "cuda":
        result["max_memory_gib"] = torch.cuda.max_memory_allocated() / 2**30
    if peak:
        procs = result.get("procs", 1)
        if "prefill_tokens_per_s" in result:
            result["prefill_mfu"] = result["prefill_tokens_per_s"] * fwd_flops / (peak * 1e12)
        result["train_mfu"] = (result["train_tokens_per_s"] * 3 * fwd_flops
                               / (procs * peak * 1e12))  # per GPU
    return result


def device_peak(device: str, given: float | None) -> float | None:
    import torch

    if given:
        return given
    if device != "cuda":
        return None
    name = torch.cuda.get_device_name()
    return next((v for k, v in PEAK_TFLOPS.items() if k in name), None)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--geometry", default="7b,13b")
    parser.add_argument("--seq-lens", default="160,640")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--rank", type=int, default=8, help="LoRA rank")
    parser.add_argument("--iters", type=int, default=5)
    parser.add_argument("--peak-tflops", type=float, help="dense bf16 peak (default: by GPU name)")
    parser.add_argument("--out", help="also write the results as JSON here")
    parser.add_argument("--data-parallel", action="store_true",
                        help="under torchrun: LoRA training only, --batch rows per process, "
                        "gradients summed over the processes")
    parser.add_argument("--single", help="with --data-parallel: this script's one-GPU JSON "
                        "output, for the scaling efficiency")
    args = parser.parse_args(argv)
    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu" and args.geometry != "tiny":
        print("no GPU: only `--geometry tiny` runs on the CPU (a check of the script)",
              file=sys.stderr)
        return 2
    if args.data_parallel:
        return data_parallel(args, device)
    peak = device_peak(device, args.peak_tflops)
    name = torch.cuda.get_device_name() if device == "cuda" else "cpu"
    results = []
    for geometry in args.geometry.split(","):
        for seq_len in (int(s) for s in args.seq_lens.split(",")):
            r = bench_one(geometry, seq_len, args.batch, device, peak, args.iters, args.rank)
            if device == "cuda":  # the last model is garbage now: measure the next one alone
                gc.collect()
                torch.cuda.empty_cache()
                torch.cuda.reset_peak_memory_stats()
            r["device_name"] = name
            results.append(r)
            mfu = (f" | MFU prefill {r['prefill_mfu']:.1%}, LoRA train {r['train_mfu']:.1%}"
                   if peak else "")
            print(f"[{name}] {geometry} seq {seq_len} batch {args.batch}: prefill "
                  f"{r['prefill_tokens_per_s']:.0f} tok/s, decode {r['decode_tokens_per_s']:.0f} "
                  f"tok/s, LoRA train {r['train_tokens_per_s']:.0f} tok/s "
                  f"({r['train_samples_per_s']:.2f} samples/s){mfu}", flush=True)
            if args.out:  # after every shape: a run cut short keeps what it measured
                Path(args.out).write_text(json.dumps(results, indent=1))
    return 0


def data_parallel(args, device: str) -> int:
    """LoRA training on every torchrun rank; rank 0 prints and writes the results."""
    import torch

    from bench.methods.lvlm_var.distributed import join

    group = join()
    if group is None:
        print("--data-parallel runs under torchrun with 2 or more processes: torchrun "
              "--standalone --nproc-per-node N benchmarks/lvlm_gpu.py --data-parallel",
              file=sys.stderr)
        return 2
    single = json.loads(Path(args.single).read_text()) if args.single else []
    peak = device_peak(device, args.peak_tflops)
    name = torch.cuda.get_device_name() if device == "cuda" else "cpu"
    results = []
    try:
        for geometry in args.geometry.split(","):
            for seq_len in (int(s) for s in args.seq_lens.split(",")):
                r = bench_one(geometry, seq_len, args.batch, device, peak, args.iters,
                              args.rank, group)
                if device == "cuda":
                    gc.collect()
                    torch.cuda.empty_cache()
                    torch.cuda.reset_peak_memory_stats()
                if not group.is_main:
                    continue
                r["device_name"] = name
                one = next((x for x in single if x["geometry"] == geometry
                            and x["seq_len"] == seq_len and x["batch"] == args.batch), None)
                if one:  # weak scaling: the same rows per GPU as the one-GPU run
                    r["scaling_efficiency"] = (r["train_tokens_per_s"]
                                               / (r["procs"] * one["train_tokens_per_s"]))
                results.append(r)
                extra = (f", {r['scaling_efficiency']:.0%} of {r['procs']} x one GPU"
                         if one else "") + (f", MFU {r['train_mfu']:.1%} per GPU" if peak else "")
                print(f"[{name} x {r['procs']}] {geometry} seq {seq_len} batch {args.batch} per "
                      f"process: LoRA train {r['train_tokens_per_s']:.0f} tok/s "
                      f"({r['train_samples_per_s']:.2f} samples/s), gradient all-reduce "
                      f"{r['allreduce_ms']:.1f} ms for {r['trainable_params'] / 1e6:.2f}M "
                      f"weights{extra}", flush=True)
                if args.out:
                    Path(args.out).write_text(json.dumps(results, indent=1))
    finally:
        group.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
