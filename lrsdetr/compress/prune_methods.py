"""The pruning methods of the seed's `prune_method`: one short strategy each, on Torch-Pruning's importances.

A method is an importance criterion and the tp pruner that ranks with it. The sparse-learning methods (slim,
group_slim, group_sl, growing_reg) first train with their pruner's regulariser (`reg`, see `finetune.py`); the
gradient methods (group_taylor, group_hessian) score channels with gradients of the detection loss on a batch.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import torch
import torch.nn as nn
import torch_pruning as tp

from ..utils.errors import DataError
from .prune_view import PruningSetup


@dataclass(frozen=True)
class PruneMethod:
    importance: Callable[[], tp.importance.Importance]
    pruner: type[tp.pruner.BasePruner] = tp.pruner.MetaPruner
    pruner_kwargs: dict = field(default_factory=dict)
    sparse_learning: bool = False  # trains with the pruner's regulariser before pruning
    gradients: str | None = None  # None, "batch" (one backward) or "per_image" (squared gradients per image)


PRUNE_METHODS: dict[str, PruneMethod] = {
    "random": PruneMethod(tp.importance.RandomImportance),
    "l1": PruneMethod(lambda: tp.importance.MagnitudeImportance(p=1)),
    "lamp": PruneMethod(lambda: tp.importance.LAMPImportance(p=2)),
    "slim": PruneMethod(tp.importance.BNScaleImportance, tp.pruner.BNScalePruner, sparse_learning=True),
    "group_slim": PruneMethod(
        tp.importance.BNScaleImportance, tp.pruner.BNScalePruner, {"group_lasso": True}, sparse_learning=True
    ),
    "group_norm": PruneMethod(lambda: tp.importance.GroupMagnitudeImportance(p=2), tp.pruner.GroupNormPruner),
    "group_sl": PruneMethod(
        lambda: tp.importance.GroupMagnitudeImportance(p=2, normalizer="max"), tp.pruner.GroupNormPruner,
        sparse_learning=True,
    ),
    "growing_reg": PruneMethod(
        lambda: tp.importance.GroupMagnitudeImportance(p=2), tp.pruner.GrowingRegPruner, sparse_learning=True
    ),
    "group_hessian": PruneMethod(lambda: tp.importance.GroupHessianImportance(group_reduction="mean"), gradients="per_image"),
    "group_taylor": PruneMethod(lambda: tp.importance.GroupTaylorImportance(group_reduction="mean"), gradients="batch"),
}

DEFAULT_REG = 5e-4  # regulariser strength of the sparse-learning pruners (the seed's `reg`)


def get_method(name: str) -> PruneMethod:
    if name not in PRUNE_METHODS:
        raise DataError(f"unknown prune_method {name!r}; valid: {', '.join(PRUNE_METHODS)}")
    return PRUNE_METHODS[name]


def build_pruner(
    method: str, setup: PruningSetup, model: nn.Module, *, global_pruning: bool = True, iterative_steps: int = 1,
    reg: float = DEFAULT_REG,
) -> tp.pruner.BasePruner:
    """tp's pruner for `method` on a model in the pruning view. Its per-step ratios start as a linear ramp to 1.0
    over `iterative_steps`; `prune()` steers them. `reg` only matters to the regularising pruners."""
    strategy = get_method(method)
    kwargs = dict(strategy.pruner_kwargs)
    if strategy.pruner is not tp.pruner.MetaPruner:
        kwargs["reg"] = reg
    with warnings.catch_warnings():
        # tp warns of parameters outside its known layers; ours (DPRA's position table and path weights) are
        # in ignored_layers, so tp keeps them whole.
        warnings.filterwarnings("ignore", "Unwrapped parameters detected", UserWarning)
        return strategy.pruner(
            model, importance=strategy.importance(), global_pruning=global_pruning, pruning_ratio=1.0,
            iterative_steps=iterative_steps, **setup.kwargs(), **kwargs,
        )


def _single_images(batch: dict) -> Iterator[dict]:
    """One batch per image, its labels renumbered to image 0."""
    for i in range(batch["img"].shape[0]):
        mine = batch["batch_idx"] == i
        yield {"img": batch["img"][i : i + 1], "cls": batch["cls"][mine], "bboxes": batch["bboxes"][mine],
               "batch_idx": torch.zeros_like(batch["batch_idx"][mine])}


def _detection_loss(model: nn.Module, batch: dict) -> torch.Tensor:
    """RT-DETR's training loss on `batch`, the model in eval mode (BN statistics stay as they are)."""
    if getattr(model, "criterion", None) is None:
        model.nc = model.model[-1].nc  # the loss reads nc from the model, as Ultralytics' trainer sets it
    return model.loss(batch)[0]


def accumulate_gradients(method: str, pruner: tp.pruner.BasePruner, model: nn.Module, batch: dict | None) -> None:
    """Before a step of a gradient method: fresh gradients of the detection loss on `batch` (Taylor: the batch's
    loss; Hessian: each image's squared gradients, accumulated in the importance)."""
    mode = get_method(method).gradients
    if mode is None:
        return
    if batch is None:
        raise ValueError(f"prune_method {method!r} scores channels with loss gradients: pass a training batch as example_inputs")
    model.eval()
    if mode == "batch":
        model.zero_grad(set_to_none=True)
        _detection_loss(model, batch).backward()
    else:
        pruner.importance.zero_grad()
        for image in _single_images(batch):
            model.zero_grad(set_to_none=True)
            _detection_loss(model, image).backward()
            pruner.importance.accumulate_grad(model)
    model.criterion = None
