"""Quick start: synthetic drone data -> LRS-DETR-B trained on CPU -> validation -> COCO metrics, TIDE, plots.

Runs in about ten minutes on two CPU cores, offline. With --data dataset/data.yaml it runs on real VisDrone
(the same short schedule; use train.py for the full 300-epoch recipe).
"""

from lrsdetr.data.files import run_script
from lrsdetr.engine.quickstart import QUICK_SCHEDULE, QUICK_WARMUP_ITERATIONS, quickstart
from lrsdetr.utils.cli import parse_overrides

param_dict = {
    "data": "",  # '' = draw the synthetic data set; or a data.yaml (e.g. dataset/data.yaml)
    "model": "lrs-detr-b.yaml",
    "workdir": "runs/quickstart",  # synthetic data, training run and validation run go here
    "n_train": 128,  # synthetic images
    "n_val": 32,
    "imgsz": QUICK_SCHEDULE["imgsz"],  # synthetic images are drawn at this size, so objects keep their pixels
    "epochs": QUICK_SCHEDULE["epochs"],
    "batch": QUICK_SCHEDULE["batch"],
    "lr0": QUICK_SCHEDULE["lr0"],
    "warmup_iters": QUICK_WARMUP_ITERATIONS,
    "workers": 0,
    "device": "",  # '' = first GPU, else CPU
    "max_dets": 100,  # COCO's 100 detections per image; VisDrone's protocol uses 500
    "seed": 0,
}

if __name__ == "__main__":
    raise SystemExit(run_script(quickstart, parse_overrides(param_dict, __doc__)))
