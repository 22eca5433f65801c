#!/usr/bin/env bash
# The checks of one short GPU session, in order of importance, each under its own time limit:
# 1. LoRA-train / prefill / decode tokens/s and MFU at LLaMA-7B and -13B geometry;
# 2. the `paper` profile end to end (fit + predict on synthetic NTU60 X-Sub) on a random LLaVA-1.5
#    directory of the 7B geometry: train / inference samples/s and the prefix-cached scoring
#    speed-up. The VST is trained shorter than the paper profile (20 + 5 epochs) and the LoRA stage
#    for 40 steps: random weights make accuracy meaningless, the speed is what is measured.
# Where more than one GPU is visible (N), also the data-parallel LoRA path of `--gpus-per-run N`:
# 3. LoRA training at 7B geometry on N processes (torchrun, nccl), 8 rows per GPU: global
#    tokens/s, the gradient all-reduce's time and the scaling against step 1's one GPU;
# 4. the `paper` profile of step 2 through `bench run --gpus-per-run N` (one run, N ranks, the VST
#    trained once by rank 0, the same global batch 8 and 40 steps as step 2): its metrics.
# With one GPU, steps 3-4 are skipped (a line in dp.txt says so).
# Results land in $OUT (default /tmp/gpu_check).   Usage: bash benchmarks/gpu_check.sh
set -u
OUT=${OUT:-/tmp/gpu_check}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 BENCH_CACHE=${BENCH_CACHE:-/tmp/bench-cache} TOKENIZERS_PARALLELISM=false
PY=${PYTHON:-python3}
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
  $PY -c "import sys, torch, transformers, peft, numpy; print(sys.version.split()[0], 'torch',
torch.__version__, 'transformers', transformers.__version__, 'peft', peft.__version__, 'numpy',
numpy.__version__)"; } 2>&1 | tee "$OUT/env.txt"
NGPU=$($PY -c "import torch; print(torch.cuda.device_count())" 2>/dev/null || echo 0)
timeout "${T_GEOMETRY:-200}" $PY benchmarks/lvlm_gpu.py --iters 3 --out "$OUT/lvlm_gpu.json" 2>&1 \
  | grep -v -i warn | tee "$OUT/lvlm_gpu.log"
timeout "${T_WRITE:-120}" $PY benchmarks/random_llava.py /tmp/llava-7b --geometry 7b 2>&1 \
  | tail -n 3 | tee "$OUT/paper.log"
BENCH_LLAVA_PATH=/tmp/llava-7b timeout "${T_PAPER:-240}" $PY benchmarks/lvlm_speed.py \
  --profiles paper --suite ntu60-xsub --set vst.epochs=20 --set vst.vq_epochs=5 \
  --set lvlm.steps=40 --out "$OUT/paper.json" 2>&1 | grep -v -i "warn\|it/s\]" | tee -a "$OUT/paper.log"
if [ "${NGPU:-0}" -le 1 ]; then
  echo "$NGPU GPU visible: the data-parallel LoRA checks (3, 4) need 2 or more" | tee "$OUT/dp.txt"
  exit 0
fi
timeout "${T_DP:-150}" $PY -m torch.distributed.run --standalone --nproc-per-node="$NGPU" \
  benchmarks/lvlm_gpu.py --data-parallel --geometry 7b --seq-lens 160 --batch 8 --iters 3 \
  --single "$OUT/lvlm_gpu.json" --out "$OUT/lvlm_gpu_dp.json" 2>&1 | grep -v -i warn \
  | tee "$OUT/lvlm_gpu_dp.log"
RUNS=/tmp/gpu_check_runs  # the run folders are too deep to come back from $OUT
rm -rf "$RUNS"
BENCH_LLAVA_PATH=/tmp/llava-7b timeout "${T_PAPER_DP:-300}" $PY -m bench run --methods lvlm_var \
  --profile paper --suite ntu60-xsub --data synthetic --seeds 0 --gpus-per-run "$NGPU" \
  --workers 1 --set vst.epochs=20 --set vst.vq_epochs=5 --set lvlm.steps=40 --out "$RUNS" 2>&1 \
  | grep -v -i "warn\|it/s\]" | tail -n 20 | tee "$OUT/paper_dp.log"
$PY - "$RUNS" "$OUT/paper_dp.json" <<'PY' 2>&1 | tee -a "$OUT/paper_dp.log"
import glob, json, sys
keep = ("lvlm_train_procs", "lvlm_train_samples_per_s", "lvlm_train_s", "lvlm_steps",
        "lvlm_predict_samples_per_s", "vst_fit_s", "vst_cache_hit", "top1")
runs = []
for path in glob.glob(f"{sys.argv[1]}/runs/*/result.json"):
    r = json.load(open(path))
    runs.append({"run_id": r["run_id"], "status": r["status"], **r.get("timings", {}),
                 **{k: v for k, v in r.get("metrics", {}).items() if k in keep},
                 "error": (r.get("error") or "")[-2000:]})
json.dump(runs, open(sys.argv[2], "w"), indent=1)
print(json.dumps(runs, indent=1) if runs else "no run result: see paper_dp.log")
PY
