#!/usr/bin/env bash
# GPU figures in one call of at most 8 minutes: benchmarks/gpu.py (PyTorch fp32/fp16/bf16 latency and FPS of
# LRS-DETR-B, RT-DETR-R18 and RT-DETR-l at 640, batch 1 and 8; B and R18 compiled in fp16; sliced inference of a
# 2000x1500 frame, 1 and 4 tiles per pass; 100 AMP training iterations of B).
#
#   bash benchmarks/gpu.sh                      # on the GPU machine, from the repository root
#   bash benchmarks/gpu.sh --imgsz 64 --batches 1 --iterations 2 --warmup 1 --train_iters 2 --train_batch 2 --train_imgsz 64   # CPU dry run
#
# A GPU machine may have PyTorch but not Ultralytics: put the wheels (ultralytics==8.4.190 and what it needs
# beyond torch) in ./wheels and they are installed offline first. The extra arguments go to gpu.py.
# TensorRT is never timed here (benchmarks/latency.py times an engine where the tensorrt package exists).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python}
LIMIT=${GPU_BENCH_LIMIT_S:-460}  # whole run, seconds: leaves room for start-up inside an 8-minute call

if ! "$PYTHON" -c "import ultralytics" 2>/dev/null; then
    if [ -d wheels ]; then
        "$PYTHON" -m pip install --no-index --find-links wheels ultralytics==8.4.190 >/dev/null
    else
        echo "error: ultralytics is not installed and there is no ./wheels folder to install it from" >&2
        exit 2
    fi
fi
"$PYTHON" -c "import torch; print('CUDA:', torch.cuda.is_available(), torch.version.cuda)"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || echo "nvidia-smi: none (CPU dry run)"
PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" timeout "$LIMIT" "$PYTHON" benchmarks/gpu.py "$@"
