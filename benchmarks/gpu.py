"""GPU figures in one short run: inference latency/FPS of LRS-DETR-B, RT-DETR-R18 and RT-DETR-l in fp32, fp16

Edit param_dict below, or override it with flags; `python benchmarks/gpu.py --help` says what it measures and lists
every flag (the same command is `lrsdetr bench gpu`; the logic is lrsdetr/bench/gpu.py).
"""

from lrsdetr.bench.gpu import COMMAND

param_dict = {
    "imgsz": 640,
    "batches": "1,8",  # batch sizes timed for inference
    "dtypes": "fp32,fp16,bf16",
    "iterations": 30,  # timed rounds per batch size
    "warmup": 5,
    "nc": 10,
    "train_iters": 100,  # AMP training iterations of LRS-DETR-B (0: none)
    "train_batch": 8,
    "train_imgsz": 640,
    "boxes": 20,  # random boxes per training image
}

if __name__ == "__main__":
    raise SystemExit(COMMAND.execute(param_dict, COMMAND.doc))
