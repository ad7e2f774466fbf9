"""Batch-1 latency of LRS-DETR-B beside Ultralytics' RT-DETR-l and our RT-DETR-R18: PyTorch eager and ONNX Runtime.

Edit param_dict below, or override it with flags; `python benchmarks/latency.py --help` says what it measures and lists
every flag (the same command is `lrsdetr bench latency`; the logic is lrsdetr/bench/latency.py).
"""

from lrsdetr.bench.latency import COMMAND

param_dict = {
    "imgsz": 640,
    "iterations": 20,  # timed rounds; the median of each entry is reported
    "warmup": 3,  # untimed rounds first
    "threads": 2,  # torch.set_num_threads and ONNX Runtime's intra_op_num_threads
    "nc": 10,  # classes of every model
    "baseline": True,  # also time LRS-DETR-B without the speed work
    "onnx": True,  # also export to ONNX and time ONNX Runtime
    "peak_size": 2048,  # n of the n x n fp32 matmul that measures the peak (2 n^3 FLOPs)
    "profile": True,  # per-layer profile of LRS-DETR-B (and the decoder split against RT-DETR-R18)
    "keep_freed_memory": True,  # as val.py, detect.py and get_FPS.py run (lrsdetr.utils.memory); False: glibc's default
}

if __name__ == "__main__":
    raise SystemExit(COMMAND.execute(param_dict, COMMAND.doc))
