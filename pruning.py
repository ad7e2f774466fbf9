"""Prune a trained LRS-DETR-B to LRS-DETR-T (LAMP, speed-up 1.35 by default), then fine-tune it with the training recipe.

Edit param_dict below, or override it with flags; `python pruning.py --help` lists every flag, its
default and examples (the same command is `lrsdetr prune` for pip installs).
"""

from lrsdetr.commands import run_root_script

param_dict = {
    # Basic parameters
    "model": "runs/train/lrs-detr-b/weights/best.pt",
    "data": "dataset/data.yaml",
    "imgsz": 640,
    "epochs": 300,
    "batch": 8,
    "workers": 8,
    "cache": False,
    "device": "",  # '0', '0,1' (DDP for the fine-tuning), 'cpu'; '' = first GPU, else CPU
    "project": "runs/prune",
    "name": "lamp_speedup1.35",
    "warmup_iters": 2000,  # fine-tuning warm-up, in iterations
    # Pruning parameters
    "prune_method": "lamp",  # random, l1, lamp, slim, group_slim, group_norm, group_sl, growing_reg, group_hessian, group_taylor
    "global_pruning": True,  # rank channels across all layers (False: every layer loses the same share)
    "speed_up": 1.35,  # FLOPs before / FLOPs after, torch-pruning's counter at imgsz
    "reg": 0.0005,  # regulariser strength of the sparse-learning methods (slim, group_slim, group_sl, growing_reg)
    "sl_epochs": 500,  # sparse-learning epochs before pruning (those methods only; 0 skips it)
    "sl_hyp": "hyp.scratch.sl.yaml",  # sparse-learning train arguments: a YAML path, or a file in lrsdetr/cfg
    "iterative_steps": 50,  # steps that cut channels (a step that cuts nothing is not counted), each at most 1/50 of them
    "scope": "paper",  # paper: what the authors pruned (DPRA, SPDConv, SME, DEF modules kept whole); blocks: finer
    "trust_checkpoint": False,  # True: load checkpoints from elsewhere unrestricted (their code may run)
}

if __name__ == "__main__":
    raise SystemExit(run_root_script("prune", param_dict))
