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
from ..models.outputs import describe_outputs
from ..tools.checks import require_checkpoint, require_data, require_model
from .ddp import is_main_process, torchrun_device

OWN_KEYS = ("model", "pretrained", "resume", "warmup_iters")


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
