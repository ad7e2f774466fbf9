"""Prune a trained LRS-DETR-B to LRS-DETR-T (LAMP, speed-up 1.35 by default), then fine-tune it with the training
recipe (AdamW, lr 1e-4 constant, no AMP, no mosaic, 2000 warm-up iterations).

Example: python pruning.py --model runs/train/lrs-detr-b/weights/best.pt --data dataset/data.yaml --device 0
Outputs: runs/prune/<name>/weights/best.pt (pruned and fine-tuned; distill.py's student), and beside the run,
runs/prune/<name>-pruning/pruned.pt (right after pruning) and, for sparse-learning methods, sparse_learning/.
Other Ultralytics train arguments go on as name=value (python pruning.py lr0=5e-4 nbs=4) or into param_dict.
"""

from lrsdetr.compress.finetune import prune_and_finetune
from lrsdetr.data.files import run_script
from lrsdetr.engine.recipe import WARMUP_ITERATIONS
from lrsdetr.utils.cli import parse_overrides

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
    "warmup_iters": WARMUP_ITERATIONS,  # fine-tuning warm-up, in iterations
    # Pruning parameters
    "prune_method": "lamp",  # random, l1, lamp, slim, group_slim, group_norm, group_sl, growing_reg, group_hessian, group_taylor
    "global_pruning": True,  # rank channels across all layers (False: every layer loses the same share)
    "speed_up": 1.35,  # FLOPs before / FLOPs after, torch-pruning's counter at imgsz
    "reg": 0.0005,  # regulariser strength of the sparse-learning methods (slim, group_slim, group_sl, growing_reg)
    "sl_epochs": 500,  # sparse-learning epochs before pruning (those methods only; 0 skips it)
    "sl_hyp": "hyp.scratch.sl.yaml",  # sparse-learning train arguments: a YAML path, or a file in lrsdetr/cfg
    "iterative_steps": 50,  # pruning steps at most; each removes at most 1/iterative_steps of the channels
    "scope": "paper",  # paper: what the authors pruned (DPRA, SPDConv, SME, DEF modules kept whole); blocks: finer
}

if __name__ == "__main__":
    raise SystemExit(run_script(prune_and_finetune, parse_overrides(param_dict, __doc__, passthrough=True)))
