"""The whole compression chain on the synthetic drone set, side by side, in one command:

Edit param_dict below, or override it with flags; `python benchmarks/compression.py --help` says what it measures and lists
every flag (the same command is `lrsdetr bench compression`; the logic is lrsdetr/bench/compression.py).
"""

from lrsdetr.bench.compression import COMMAND

param_dict = {
    "out": "runs/compression",
    "quick": False,  # 1 epoch of everything, 8 + 4 images of 96 px, one seed: checks the chain end to end
    "n_train": 128,  # synthetic images (the quick start's set)
    "n_val": 32,
    "imgsz": 160,  # training and validation
    "teacher_epochs": 60,  # to its plateau: its mAP50-95 was still rising 0.015 per epoch at 30
    "student_epochs": 3,
    "seeds": "0, 1, 2",  # student runs
    "kinds": "fine-tune, MLSSD, cwd, MLSSD+cwd",  # student kinds (KINDS below)
    "scopes": "paper, blocks",  # pruning scopes
    "speed_up": 1.35,
    "measure_imgsz": 640,  # pruning's FLOPs, GFLOPs and latency, as in the paper
    "batch": 4,
    "workers": 2,
    "warmup_iters": 30,
    "latency_iterations": 20,
}

if __name__ == "__main__":
    raise SystemExit(COMMAND.execute(param_dict, COMMAND.doc))
