"""train.py's logic: train an LRS-DETR (or RT-DETR) model with the authors' recipe, or resume a run.

Every key of train.py's `param_dict` except the few below is an Ultralytics train argument, passed on as is:
`model` (config name, YAML path or .pt), `pretrained` (a .pt whose matching layers initialise the model),
`resume` (an interrupted run's last.pt: it goes on with that run's own arguments), `warmup_iters`
(models/recipe.py WarmupIterations). `RTDETR.train` applies the warm-up and files a relative `project` under the working
directory, for train.py and Python callers alike.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..models import RTDETR
from ..models.outputs import describe_outputs, pinned_run_folder
from ..models.recipe import TRAIN_RECIPE, WARMUP_ITERATIONS
from ..tools.checks import (
    dataset_inputs,
    require_checkpoint,
    require_data,
    require_model,
)
from ..utils.command import Command
from ..utils.guard import CommandPaths
from .ddp import is_main_process, torchrun_device

OWN_KEYS = ("model", "pretrained", "resume", "warmup_iters")

TRAIN_DOC = """Train LRS-DETR-B with the authors' recipe (AdamW, lr 1e-4 constant, 2000 warm-up iterations, no AMP, no mosaic,
300 epochs, batch 8, 640 px), or resume an interrupted run.

Examples:
  python train.py --data dataset/data.yaml
  python train.py --data dataset/data.yaml --device 0,1,2,3 --batch 32          # Ultralytics launches 4 GPU workers
  python -m torch.distributed.run --nproc_per_node 4 train.py --batch 32         # the same, launched by torchrun
  python train.py --resume runs/train/lrs-detr-b/weights/last.pt
Any other Ultralytics train argument can be added to param_dict or given as name=value (cos_lr=True), passed on as is.
"""

TRAIN_DEFAULTS = {
    "model": "lrs-detr-b.yaml",
    "pretrained": "",
    "data": "dataset/data.yaml",
    **TRAIN_RECIPE,
    "warmup_iters": WARMUP_ITERATIONS,
    "workers": 8,
    "cache": False,
    "device": "",
    "project": "runs/train",
    "name": "lrs-detr-b",
    "exist_ok": False,
    "seed": 0,
    "plots": True,
    "resume": "",
    "trust_checkpoint": False,
}

# What pruning.py's fine-tuning and distill.py's training share with train.py: the recipe's length and size.
RETRAINING_DEFAULTS = {key: TRAIN_DEFAULTS[key] for key in ("data", "imgsz", "epochs", "batch", "workers", "cache", "device")}


def train(params: dict, callbacks: dict[str, list[Callable]] | None = None) -> Path:
    """Train (or resume) as `params` say; returns the run folder. `callbacks`: extra Ultralytics callbacks by event."""
    train_args = {key: value for key, value in params.items() if key not in OWN_KEYS}
    train_args["device"] = torchrun_device(train_args.get("device"))
    if params.get("resume"):  # the checkpoint holds the run's arguments, its warm-up already in epochs
        model = RTDETR(require_checkpoint(params["resume"], "--resume"))
        train_args = {"resume": True, **({"device": train_args["device"]} if train_args["device"] else {})}
    else:
        config = require_model(params["model"])
        require_data(train_args.get("data"))
        model = RTDETR(config)
        if params.get("pretrained"):
            train_args["pretrained"] = require_checkpoint(params["pretrained"], "--pretrained")
        train_args["warmup_iters"] = params["warmup_iters"]
    for event, functions in (callbacks or {}).items():
        for function in functions:
            model.add_callback(event, function)
    model.train(**train_args)
    save_dir = Path(model.trainer.save_dir)
    if is_main_process():
        print(describe_outputs(save_dir))
    return save_dir


def resumed_run(checkpoint: str) -> tuple[Path, str]:
    """(run folder, data.yaml) an interrupted run's last.pt goes on with: the checkpoint's own arguments, which
    Ultralytics' resume reads too."""
    from ultralytics.nn.tasks import torch_safe_load

    args = torch_safe_load(checkpoint)[0].get("train_args") or {}
    return Path(args.get("save_dir") or Path(checkpoint).parent.parent), str(args.get("data") or "")


def train_paths(params: dict) -> CommandPaths:
    """Reads the model (a .pt), the pretrained weights and the data set; writes the run folder (pinned). A resumed
    run writes into its own folder, where its last.pt is: that checkpoint is the run's, not an input."""
    if params.get("resume"):
        folder, data = resumed_run(require_checkpoint(params["resume"], "--resume"))
        return CommandPaths(params).reads("--data", *(dataset_inputs(data) if data else [])).writes("--resume", folder)
    folder, pinned = pinned_run_folder(params)
    model = require_model(params["model"])
    return (CommandPaths(pinned)
            .reads("--model", model if model.endswith(".pt") else None)
            .reads("--pretrained", params["pretrained"] and require_checkpoint(params["pretrained"], "--pretrained"))
            .reads("--data", *dataset_inputs(params["data"]))
            .writes("--project/--name", folder))


def resume_hint(params: dict) -> str:
    last = Path(params["resume"]) if params.get("resume") else Path(params["project"]) / params["name"] / "weights" / "last.pt"
    return f"go on from the last finished epoch with: python train.py --resume {last}" if last.is_file() else "no epoch had finished"


COMMAND = Command("train", "train LRS-DETR-B (or RT-DETR) with the authors' recipe, or resume", TRAIN_DOC, TRAIN_DEFAULTS,
                  train_paths, train, script="train.py", passthrough=True, interrupted=resume_hint)
