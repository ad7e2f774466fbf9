"""Train LRS-DETR-B with the authors' recipe (AdamW, lr 1e-4, 2000 warm-up iterations, no AMP, no mosaic), or resume.

Edit param_dict below, or override it with flags; `python train.py --help` lists every flag, its
default and examples (the same command is `lrsdetr train` for pip installs).
"""

from lrsdetr.commands import run_root_script

param_dict = {
    "model": "lrs-detr-b.yaml",  # packaged config name (lrs-detr-b.yaml, rtdetr-r18.yaml), a YAML path, or a .pt
    "pretrained": "",  # optional .pt whose matching layers initialise the model
    "data": "dataset/data.yaml",
    # The authors' recipe (lrsdetr/models/recipe.py)
    "epochs": 300,
    "batch": 8,
    "imgsz": 640,
    "optimizer": "AdamW",
    "lr0": 1e-4,
    "lrf": 1.0,  # constant learning rate after warm-up
    "momentum": 0.9,  # AdamW beta1
    "weight_decay": 1e-4,
    "amp": False,  # AMP can give NaNs in RT-DETR's bipartite matching
    "mosaic": 0.0,
    "close_mosaic": 0,
    "patience": 0,  # 0: no early stop, train every epoch
    "warmup_iters": 2000,  # warm-up in iterations (batches)
    "workers": 8,
    "cache": False,
    "device": "",  # '0', '0,1,2,3' (DDP), 'cpu'; '' = first GPU, else CPU (under torchrun: one GPU per process)
    "project": "runs/train",
    "name": "lrs-detr-b",
    "exist_ok": False,
    "seed": 0,
    "plots": True,
    "resume": "",  # path to an interrupted run's weights/last.pt; the run goes on with its own arguments
    "trust_checkpoint": False,  # True: load checkpoints from elsewhere unrestricted (their code may run)
}

if __name__ == "__main__":
    raise SystemExit(run_root_script("train", param_dict))
