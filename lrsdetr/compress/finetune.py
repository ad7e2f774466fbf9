"""pruning.py's logic: (sparse learning), pruning, then fine-tuning with the training recipe.

Run layout, for `project/name`: the fine-tuning run is Ultralytics' own `project/name` (weights/best.pt is the
pruned, fine-tuned model); the pruning's own outputs go beside it in `project/name-pruning/`: `pruned.pt` (the
model right after pruning) and, for sparse-learning methods, the `sparse_learning/` training run. They stay out of
the run folder because Ultralytics' DDP launch empties that folder before training.
"""

from __future__ import annotations

from copy import deepcopy
from dataclasses import fields
from datetime import datetime
from pathlib import Path

import torch
import torch.nn as nn
from ultralytics import __version__ as ultralytics_version
from ultralytics.cfg import get_cfg
from ultralytics.data import build_dataloader
from ultralytics.data.utils import check_det_dataset
from ultralytics.nn.tasks import load_checkpoint
from ultralytics.utils import YAML
from ultralytics.utils.files import increment_path
from ultralytics.utils.torch_utils import select_device, unwrap_model

from ..cfg import CFG_DIR
from ..data.dataset import LRSDETRDataset
from ..engine.train import RETRAINING_DEFAULTS, train
from ..models import RTDETR, LRSDETRTrainer
from ..models.outputs import (
    PRUNED_WEIGHTS,
    TRAINED_WEIGHTS,
    pinned_run_folder,
    project_folder,
)
from ..models.recipe import TRAIN_RECIPE, WARMUP_ITERATIONS
from ..tools.checks import dataset_inputs, require_checkpoint, require_data
from ..utils.command import Command
from ..utils.errors import DataError
from ..utils.guard import CommandPaths
from .prune import PruneSettings, prune
from .prune_methods import DEFAULT_REG, build_pruner, get_method
from .prune_scopes import PAPER_SCOPE
from .prune_twins import from_pruning_view, to_pruning_view
from .prune_view import pruning_setup

# pruning.py's keys that are not Ultralytics train arguments: the pruning settings (imgsz, the size pruning counts
# FLOPs at, is also the fine-tuning's), the model to prune, and the fine-tuning's warm-up (`train` converts it)
NOT_TRAIN_ARGUMENTS = (*(f.name for f in fields(PruneSettings) if f.name != "imgsz"), "model", "warmup_iters")


class SparseLearningTrainer(LRSDETRTrainer):
    """Training with a pruning method's regulariser added to the gradients before each optimizer step (slim: L1 on
    BN scales; group_slim, group_sl, growing_reg: group lasso over tp's coupled channels), so that the channels the
    method will cut fade out first. The model trains in the pruning view, where tp's channel groups are right.

    The penalty is added to the raw gradients, so AMP (scaled gradients) is refused; growing_reg's penalty grows
    once per epoch.
    """

    extra_args = {"prune_method": "slim", "reg": DEFAULT_REG, "scope": PAPER_SCOPE}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.settings = PruneSettings(**{name: getattr(self.args, name) for name in self.extra_args})
        if not get_method(self.settings.prune_method).sparse_learning:
            raise DataError(f"prune_method {self.settings.prune_method!r} has no sparse learning")
        if self.args.amp:
            raise DataError("sparse learning regularises unscaled gradients: train with amp=False")
        self.regularised_epoch = None
        self.add_callback_once("on_pretrain_routine_end", build_regularizer)

    def setup_model(self):
        checkpoint = super().setup_model()
        to_pruning_view(self.model)
        return checkpoint

    def optimizer_step(self):
        if hasattr(self.regularizer, "update_reg") and self.regularised_epoch != self.epoch:
            self.regularizer.update_reg()
        self.regularised_epoch = self.epoch
        self.regularizer.regularize(unwrap_model(self.model))
        super().optimizer_step()


def build_regularizer(trainer: SparseLearningTrainer) -> None:
    """The pruner whose regulariser the steps apply, once the model is set up for training (its EMA and DDP wrapper
    exist): a callback at the end of Ultralytics' training set-up."""
    model, settings = unwrap_model(trainer.model), trainer.settings
    trainer.regularizer = build_pruner(settings.prune_method, pruning_setup(model, settings.scope), model, reg=settings.reg)


def sparse_learning(model: nn.Module, settings: PruneSettings, train_args: dict) -> nn.Module:
    """`model` trained with the regulariser of `settings.prune_method` (strength `reg`, in its `scope`; `train_args`:
    Ultralytics arguments, e.g. the sl_hyp file's and epochs); returns the run's best weights, out of the pruning
    view."""
    sparse = {name: getattr(settings, name) for name in SparseLearningTrainer.extra_args}
    trainer = SparseLearningTrainer(overrides={**train_args, **sparse})
    trainer.model = to_pruning_view(deepcopy(model))
    trainer.train()
    best, _ = load_checkpoint(trainer.best)
    return from_pruning_view(best)


def training_batch(data: str, imgsz: int, batch: int, device: torch.device) -> dict:
    """One batch of training images and labels, as the trainer feeds the model (images in [0, 1], no augmentation)."""
    info = check_det_dataset(data)
    dataset = LRSDETRDataset(img_path=info["train"], imgsz=imgsz, batch_size=batch, augment=False,
                             hyp=get_cfg(overrides={"imgsz": imgsz}), rect=False, data=info)
    loaded = next(iter(build_dataloader(dataset, batch, workers=0, shuffle=False)))
    loaded = {key: value.to(device) if isinstance(value, torch.Tensor) else value for key, value in loaded.items()}
    loaded["img"] = loaded["img"].float() / 255
    return loaded


def save_checkpoint(model: nn.Module, path: Path, train_args: dict) -> Path:
    """An Ultralytics checkpoint of `model`, which `RTDETR(path)` loads, trains, validates and exports."""
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"model": deepcopy(model).half(), "train_args": train_args, "date": datetime.now().isoformat(),
                "version": ultralytics_version}, path)
    return path


def sl_hyp_file(sl_hyp: str) -> Path:
    """The sparse-learning hyper-parameter file: a path, or a file shipped in lrsdetr/cfg by its name (the seed's
    'ultralytics/cfg/hyp.scratch.sl.yaml' is the packaged hyp.scratch.sl.yaml)."""
    for path in (Path(sl_hyp), CFG_DIR / Path(sl_hyp).name):
        if path.is_file():
            return path
    raise DataError(f"sl_hyp {sl_hyp}: no such file (give a YAML path, or the name of one in {CFG_DIR})")


def prune_and_finetune(params: dict) -> Path:
    """pruning.py: prune `params['model']` as its param_dict says, fine-tune it; returns the fine-tuning run folder.
    The settings are checked first; the seed's param_dict runs as it is (keys it lacks take the defaults)."""
    settings = PruneSettings.from_args(params)
    method = get_method(settings.prune_method)
    hyp_file = sl_hyp_file(settings.sl_hyp) if method.sparse_learning and settings.sl_epochs > 0 else None
    params = {"warmup_iters": WARMUP_ITERATIONS, **params}
    train_args = {key: value for key, value in params.items() if key not in NOT_TRAIN_ARGUMENTS}
    run = increment_path(Path(project_folder(params["project"])) / params["name"], exist_ok=params.get("exist_ok", False))
    outputs = run.with_name(f"{run.name}-pruning")
    device = select_device(params.get("device", ""), verbose=False)
    require_data(params["data"])
    model = RTDETR(require_checkpoint(params["model"], "--model")).model.to(device)

    if hyp_file:
        hyp = {**YAML.load(hyp_file), **train_args, "epochs": settings.sl_epochs, "model": params["model"],
               "project": str(outputs), "name": "sparse_learning", "exist_ok": True}
        model = sparse_learning(model, settings, hyp).to(device)
    batch = training_batch(params["data"], settings.imgsz, params["batch"], device) if method.gradients else None
    pruned = prune(model, settings, example_inputs=batch)
    checkpoint = save_checkpoint(pruned, outputs / "pruned.pt", {**train_args, "model": params["model"]})
    print(describe_pruning(pruned))

    return train({**TRAIN_RECIPE, **train_args, "model": str(checkpoint), "warmup_iters": params["warmup_iters"],
                  "project": str(run.parent), "name": run.name, "exist_ok": True})


def describe_pruning(model: nn.Module) -> str:
    """One line: method, speed-up and the FLOPs/parameters before and after, from the model's pruning record."""
    record = model.yaml["pruned"]
    return (f"{record['method']} ({record.get('scope', 'blocks')} scope): speed-up {record['achieved_speed_up']:.4f} (asked {record['speed_up']}) in "
            f"{record['steps']} steps; {record['flops_before'] / 1e9:.2f} -> {record['flops_after'] / 1e9:.2f} GMACs "
            f"at {record['imgsz']} (torch-pruning), {record['params_before'] / 1e6:.2f}M -> {record['params_after'] / 1e6:.2f}M parameters")


PRUNE_DOC = """Prune a trained LRS-DETR-B to LRS-DETR-T (LAMP, speed-up 1.35 by default), then fine-tune it with the training
recipe (AdamW, lr 1e-4 constant, no AMP, no mosaic, 2000 warm-up iterations).

Example: python pruning.py --model runs/train/lrs-detr-b/weights/best.pt --data dataset/data.yaml --device 0
Outputs: runs/prune/<name>/weights/best.pt (pruned and fine-tuned; distill.py's student), and beside the run,
runs/prune/<name>-pruning/pruned.pt (right after pruning) and, for sparse-learning methods, sparse_learning/.
Other Ultralytics train arguments go on as name=value (python pruning.py lr0=5e-4 nbs=4) or into param_dict.
"""

PRUNE_DEFAULTS = {
    "model": TRAINED_WEIGHTS,
    **RETRAINING_DEFAULTS,
    "project": "runs/prune",
    "name": Path(PRUNED_WEIGHTS).parts[2],
    "warmup_iters": WARMUP_ITERATIONS,
    **{key: getattr(PruneSettings(), key) for key in (
        "prune_method", "global_pruning", "speed_up", "reg", "sl_epochs", "sl_hyp", "iterative_steps", "scope")},
    "trust_checkpoint": False,
}


def prune_paths(params: dict) -> CommandPaths:
    """Checks the pruning settings; reads the model and the data set; writes the fine-tuning run and, beside it, the
    pruning's own folder."""
    PruneSettings.from_args(params)
    folder, pinned = pinned_run_folder(params)
    return (CommandPaths(pinned)
            .reads("--model", require_checkpoint(params["model"], "--model"))
            .reads("--data", *dataset_inputs(params["data"]))
            .writes("--project/--name", folder, folder.with_name(f"{folder.name}-pruning")))


COMMAND = Command("prune", "prune LRS-DETR-B (LAMP, ...), then fine-tune it", PRUNE_DOC, PRUNE_DEFAULTS, prune_paths,
                  prune_and_finetune, script="pruning.py", passthrough=True)
