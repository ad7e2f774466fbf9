"""Quick start: synthetic drone data -> LRS-DETR-B trained on CPU -> validation -> COCO metrics, TIDE, plots.

Edit param_dict below, or override it with flags; `python quickstart.py --help` lists every flag, its
default and examples (the same command is `lrsdetr quickstart` for pip installs).
"""

from lrsdetr.commands import run_root_script
from lrsdetr.engine.quickstart import quickstart

param_dict = {
    "data": "",  # '' = draw the synthetic data set; or a data.yaml (e.g. dataset/data.yaml)
    "model": "lrs-detr-b.yaml",
    "workdir": "runs/quickstart",  # synthetic data, training run and validation run go here
    "n_train": 128,  # synthetic images
    "n_val": 32,
    # The short CPU schedule (lrsdetr/engine/quickstart.py)
    "imgsz": 160,  # synthetic images are drawn at this size, so objects keep their pixels
    "epochs": 10,
    "batch": 4,
    "lr0": 5e-4,
    "warmup_iters": 30,
    "workers": 0,
    "device": "",  # '' = first GPU, else CPU
    "max_dets": 100,  # COCO's 100 detections per image; VisDrone's protocol uses 500
    "seed": 0,
}

if __name__ == "__main__":
    raise SystemExit(run_root_script("quickstart", param_dict))
