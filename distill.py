"""Distil a pruned LRS-DETR (the student, from pruning.py) from the unpruned LRS-DETR-B (the teacher): MLSSD
(logical), feature distillation, or both, trained with the LRS-DETR recipe.

Example: python distill.py --model runs/prune/lamp_speedup1.35/weights/best.pt \
             --teacher_weights runs/train/lrs-detr-b/weights/best.pt --data dataset/data.yaml --device 0
The student's and teacher's checkpoints hold their architectures (the seed's `teacher_cfg` and `prune_model` are
not needed). The result, runs/distill/<name>/weights/best.pt, is the student alone (LRS-DETR-T).
Mismatched layer lists, a teacher with other classes, or (logical) another decoder depth stop before training.
Other Ultralytics train arguments go on as name=value (python distill.py lr0=5e-4 nbs=4) or into param_dict.
"""

from lrsdetr.compress.distill import distill
from lrsdetr.data.files import run_script
from lrsdetr.engine.recipe import WARMUP_ITERATIONS
from lrsdetr.utils.cli import parse_overrides

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
    "warmup_iters": WARMUP_ITERATIONS,
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
}

if __name__ == "__main__":
    raise SystemExit(run_script(distill, parse_overrides(param_dict, __doc__, passthrough=True)))
