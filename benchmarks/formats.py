"""Accuracy and CPU latency of one checkpoint in every format it exports to: docs/export.md's table of accuracy after export.

Edit param_dict below, or override it with flags; `python benchmarks/formats.py --help` says what it measures and lists
every flag (the same command is `lrsdetr bench formats`; the logic is lrsdetr/bench/formats.py).
"""

from lrsdetr.bench.formats import COMMAND

param_dict = {
    "weights": "runs/quickstart/train/weights/best.pt",
    "data": "runs/quickstart/synthetic/data.yaml",
    "imgsz": 160,  # export and validation size
    "latency_imgsz": 0,  # also time exports made at this size (0: only --imgsz)
    "workdir": "runs/formats",  # exports go here, beside a copy of the checkpoint
    "threads": 2,
    "iterations": 30,
    "warmup": 5,
    "accuracy": True,  # False: latency only (no validation)
}

if __name__ == "__main__":
    raise SystemExit(COMMAND.execute(param_dict, COMMAND.doc))
