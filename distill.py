"""Distil a pruned LRS-DETR (the student) from the unpruned LRS-DETR-B (the teacher): MLSSD, features, or both.

Edit param_dict below, or override it with flags; `python distill.py --help` lists every flag, its
default and examples (the same command is `lrsdetr distill` for pip installs).
"""

from lrsdetr.commands import run_root_script

param_dict = {
    # Basic parameters
    "model": "runs/prune/lamp_speedup1.35/weights/best.pt",  # the student
    "data": "dataset/data.yaml",
    "imgsz": 640,
    "epochs": 300,
    "batch": 8,
    "workers": 8,
    "cache": False,
    "device": "",  # '0', '0,1' (DDP), 'cpu'; '' = first GPU, else CPU
    "project": "runs/distill",
    "name": "lamp1.35_logical_mlssd_0.0001",
    "warmup_iters": 2000,
    # Distillation parameters
    "teacher_weights": "runs/train/lrs-detr-b/weights/best.pt",
    "kd_loss_type": "logical",  # logical, feature, all
    "kd_loss_decay": "constant",  # constant, cosine, linear, cosine_epoch, linear_epoch
    "kd_loss_epoch": 1.0,  # distil during this share of the epochs
    # Logical distillation parameters
    "logical_loss_type": "mlssd",  # mlssd, logical
    "logical_loss_ratio": 0.0001,
    "mlssd_level_weights": "",  # '' = levels weigh equally (what the authors ran); "0.2, 0.5, 0.5, 1.0" = the paper's
    # Feature distillation parameters
    "teacher_kd_layers": "21, 24, 27",
    "student_kd_layers": "21, 24, 27",
    "feature_loss_type": "cwd",  # cwd, mgd, mimic, chsim, sp
    "feature_loss_ratio": 0.05,
    "trust_checkpoint": False,  # True: load checkpoints from elsewhere unrestricted (their code may run)
}

if __name__ == "__main__":
    raise SystemExit(run_root_script("distill", param_dict))
