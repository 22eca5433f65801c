#!/usr/bin/env bash
# The checks of one short GPU session, in order of importance, each under its own time limit:
# 1. LoRA-train / prefill / decode tokens/s and MFU at LLaMA-7B and -13B geometry;
# 2. the `paper` profile end to end (fit + predict on synthetic NTU60 X-Sub) on a random LLaVA-1.5
#    directory of the 7B geometry: train / inference samples/s and the prefix-cached scoring
#    speed-up. The VST is trained shorter than the paper profile (20 + 5 epochs) and the LoRA stage
#    for 40 steps: random weights make accuracy meaningless, the speed is what is measured.
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
timeout "${T_GEOMETRY:-200}" $PY benchmarks/lvlm_gpu.py --iters 3 --out "$OUT/lvlm_gpu.json" 2>&1 \
  | grep -v -i warn | tee "$OUT/lvlm_gpu.log"
timeout "${T_WRITE:-120}" $PY benchmarks/random_llava.py /tmp/llava-7b --geometry 7b 2>&1 \
  | tail -n 3 | tee "$OUT/paper.log"
BENCH_LLAVA_PATH=/tmp/llava-7b timeout "${T_PAPER:-240}" $PY benchmarks/lvlm_speed.py \
  --profiles paper --suite ntu60-xsub --set vst.epochs=20 --set vst.vq_epochs=5 \
  --set lvlm.steps=40 --out "$OUT/paper.json" 2>&1 | grep -v -i "warn\|it/s\]" | tee -a "$OUT/paper.log"
