"""`prune(model, PruneSettings(...))`: structured pruning of an LRS-DETR detection model to a FLOPs speed-up (paper
section 3.4, LRS-DETR-B -> LRS-DETR-T with LAMP at 1.35).

Pruning runs in iterative steps on Torch-Pruning's dependency graph, each removing at most 1/iterative_steps of the
prunable channels (globally ranked by default), and stops at the first step whose FLOPs speed-up, FLOPs(before) /
FLOPs(after) by torch-pruning's counter at `imgsz`, reaches `speed_up`. Near the target the steps shrink, steered
by the speed-ups measured so far, so the result overshoots it by about 1%. With widths rounded to a multiple, a
layer loses a whole multiple at once, so the share of channels pruned runs ahead of the share asked for; a step
asking for less than has gone cuts nothing and does not count against iterative_steps. The result has real,
smaller layers (no masks) and records what was done under `model.yaml["pruned"]`; trainers read that key to keep
the pruned architecture instead of rebuilding the model from its YAML.

What may be cut is the `scope` (see `prune_scopes`): "paper", the default, keeps whole what the authors kept whole
(DPRA, SPDConv, SME, every DEF module, the decoder, the two lateral convs) and rounds to 8 channels: LAMP 1.35 on
LRS-DETR-B then gives the paper's 11.0M parameters. "blocks" also cuts inside DEF, SME, FGM and LFA.
"""

from __future__ import annotations

from collections.abc import Sequence
from copy import deepcopy
from dataclasses import dataclass, fields

import torch
import torch.nn as nn
import torch_pruning as tp
from ultralytics.utils import LOGGER

from ..models.recipe import TRAIN_RECIPE
from ..nn.detection_model import PRUNED_KEY, is_pruned  # re-exported (__all__)
from ..tools.checks import require_number
from ..utils.errors import DataError
from .prune_methods import DEFAULT_REG, accumulate_gradients, build_pruner, get_method
from .prune_scopes import PAPER_SCOPE, check_scope
from .prune_view import pruning_view

__all__ = ("PRUNED_KEY", "PruneSettings", "count_flops", "is_pruned", "prune")

# pruning.py's defaults (the seed's), once: PruneSettings uses them, and so may anything that shows them.
DEFAULT_PRUNE_METHOD = "lamp"  # the paper's LAMP
DEFAULT_SPEED_UP = 1.35  # LRS-DETR-B -> LRS-DETR-T in the paper
DEFAULT_ITERATIVE_STEPS = 50
DEFAULT_SL_EPOCHS = 500  # sparse-learning epochs before pruning, for the methods that have it
DEFAULT_SL_HYP = "hyp.scratch.sl.yaml"  # sparse learning's train arguments, packaged in lrsdetr/cfg

AIM_ABOVE_TARGET = 1.015  # steps near the end aim 1.5% past the target speed-up: the last one lands just above it
SMALLEST_STEP = 1 / 16  # of the largest step (1/iterative_steps): a step always removes some channels
NEAR_GOAL = 0.97  # coarse pruning takes only the smallest steps from this share of the goal on


@dataclass(frozen=True)
class PruneSettings:
    """pruning.py's pruning options (the seed's names and meanings), checked once: a bad one is a one-line
    `DataError`, raised before any work."""

    prune_method: str = DEFAULT_PRUNE_METHOD  # one of prune_methods.PRUNE_METHODS
    speed_up: float = DEFAULT_SPEED_UP  # FLOPs before / FLOPs after, by torch-pruning's counter at imgsz x imgsz
    imgsz: int = TRAIN_RECIPE["imgsz"]  # where FLOPs are counted (pruning.py fine-tunes at the same size)
    global_pruning: bool = True  # rank channels across all layers (False: every layer loses the same share)
    iterative_steps: int = DEFAULT_ITERATIVE_STEPS  # steps that cut channels, each at most 1/iterative_steps of them
    reg: float = DEFAULT_REG  # regulariser strength of the sparse-learning methods
    scope: str = PAPER_SCOPE  # what may be cut: see prune_scopes
    sl_epochs: int = DEFAULT_SL_EPOCHS  # 0 skips sparse learning
    sl_hyp: str = DEFAULT_SL_HYP  # a YAML path, or the name of a file in lrsdetr/cfg

    def __post_init__(self):
        get_method(self.prune_method)
        check_scope(self.scope)
        require_number("speed_up", self.speed_up, 1, above=True)
        require_number("imgsz", self.imgsz, 1, whole=True)
        require_number("iterative_steps", self.iterative_steps, 1, whole=True)
        require_number("reg", self.reg, 0)
        require_number("sl_epochs", self.sl_epochs, 0, whole=True)
        if not isinstance(self.global_pruning, bool):
            raise DataError(f"global_pruning must be True or False, got {self.global_pruning!r}")

    @classmethod
    def from_args(cls, args: dict) -> PruneSettings:
        """From pruning.py's parameters (other keys are ignored; missing ones take the defaults)."""
        return cls(**{f.name: args[f.name] for f in fields(cls) if f.name in args})



def count_flops(model: nn.Module, imgsz: int) -> tuple[float, float]:
    """(FLOPs, parameters) of one imgsz x imgsz image by torch-pruning's counter (multiply-accumulates)."""
    parameter = next(model.parameters())
    image = torch.zeros(1, 3, imgsz, imgsz, device=parameter.device, dtype=parameter.dtype)
    flops, params = tp.utils.count_ops_and_params(model, image)
    return float(flops), float(params)


def next_pruning_ratio(
    ratios: Sequence[float], speed_ups: Sequence[float], goal: float, largest_step: float, coarse: bool = False
) -> float:
    """The pruned share of channels to ask for next: `largest_step` more, or half the way to `goal` at the steepest
    speed-up per ratio seen so far (steepest and halved: the speed-up grows in jumps, where a step empties a
    costly layer or, in local pruning, where many layers round down to one channel less at once).

    `coarse`: widths go in multiples (round_to), so one step can cut many layers by a whole multiple at once; within
    3% of the goal every step is the smallest, so that the last one lands near the goal, not far past it (rounding
    swallows some of those steps: they cost steps, not accuracy)."""
    if coarse and speed_ups[-1] >= goal * NEAR_GOAL:
        return min(ratios[-1] + largest_step * SMALLEST_STEP, 1.0)
    slopes = [(s1 - s0) / (r1 - r0) for r0, r1, s0, s1 in zip(ratios, ratios[1:], speed_ups, speed_ups[1:]) if s1 > s0]
    step = largest_step
    if slopes:
        step = min(step, max((goal - speed_ups[-1]) / max(slopes) / 2, largest_step * SMALLEST_STEP))
    return min(ratios[-1] + step, 1.0)


def on_copy(model: nn.Module, copy: nn.Module, layers: Sequence[nn.Module | str]) -> list[nn.Module]:
    """The copy's modules matching `layers` of `model` (given as modules or by name)."""
    names = {id(m): name for name, m in model.named_modules()}
    found = []
    for i, layer in enumerate(layers):
        name = layer if isinstance(layer, str) else names.get(id(layer))
        if name is None:
            raise DataError(f"ignored_layers[{i}] ({type(layer).__name__}) is not a module of the model")
        try:
            found.append(copy.get_submodule(name))
        except AttributeError:
            raise DataError(f"ignored_layers[{i}] {name!r} names no module of the model") from None
    return found


def steps_to_speed_up(
    pruner: tp.pruner.BasePruner, model: nn.Module, settings: PruneSettings, coarse: bool, example_inputs: dict | None,
    flops_before: float,
) -> tuple[float, float, float]:
    """Prune step by step until the FLOPs speed-up reaches `settings.speed_up`; (FLOPs, parameters, speed-up) at the
    end. A step that cuts nothing (the FLOPs stay) is not one of the `iterative_steps` allowed."""
    target, imgsz, method = settings.speed_up, settings.imgsz, settings.prune_method
    ratios, speed_ups, cutting_steps = [0.0], [1.0], 0
    while speed_ups[-1] < target:
        if cutting_steps == settings.iterative_steps or ratios[-1] >= 1:
            why = "no channel the scope lets it cut is left: ask for less" if ratios[-1] >= 1 else "allow more iterative_steps"
            raise DataError(f"{method} pruning reached a speed-up of {speed_ups[-1]:.4f} < {target} at imgsz {imgsz} in "
                            f"{cutting_steps} steps that cut channels; {why}")
        step = pruner.current_step + 1
        pruner.per_step_pruning_ratio[step] = next_pruning_ratio(
            ratios, speed_ups, target * AIM_ABOVE_TARGET, 1 / settings.iterative_steps, coarse=coarse
        )
        accumulate_gradients(method, pruner, model, example_inputs)
        pruner.step()
        flops, params = count_flops(model, imgsz)
        ratios.append(pruner.per_step_pruning_ratio[step])
        speed_ups.append(flops_before / flops)
        cutting_steps += speed_ups[-1] != speed_ups[-2]
        swallowed = "" if speed_ups[-1] != speed_ups[-2] else " (cut nothing: rounding had already pruned that share)"
        LOGGER.info(f"prune step {step}: {ratios[-1]:.4f} of channels, speed-up {speed_ups[-1]:.4f}, "
                    f"{params / 1e6:.2f}M params{swallowed}")
    return flops, params, speed_ups[-1]


def prune(
    model: nn.Module,
    settings: PruneSettings = PruneSettings(),
    ignored_layers: Sequence[nn.Module | str] = (),
    example_inputs: dict | None = None,
) -> nn.Module:
    """A pruned copy of `model` (an LRS-DETR detection model; the argument is left as it is), pruned as `settings`
    say: method, speed-up (counted at settings.imgsz), scope, steps. Sparse-learning methods expect a model already
    trained with their regulariser (`finetune.sparse_learning`); here they only rank and cut.

    ignored_layers: more modules of `model` whose output channels must stay, besides the scope's; as modules of
        `model` or by name ("model.3"), blocks included. They are kept in the pruned copy.
    example_inputs: a training batch (dict of img, cls, bboxes, batch_idx, as Ultralytics' trainer feeds the
        model) for group_taylor and group_hessian, whose importance is the gradient of the detection loss on it.
    """
    copy = deepcopy(model).float().eval()
    ignored = on_copy(model, copy, ignored_layers)
    model = copy
    for parameter in model.parameters():
        parameter.requires_grad_(True)  # tp traces autograd; checkpoints come frozen
    flops_before, params_before = count_flops(model, settings.imgsz)
    with pruning_view(model, settings.scope, ignored) as setup:
        # Steps that cut nothing do not count: each asks for at least the smallest step more, so the pruner never
        # needs more than this many in all before its share reaches 1.
        pruner = build_pruner(settings.prune_method, setup, model, global_pruning=settings.global_pruning, reg=settings.reg,
                              iterative_steps=settings.iterative_steps * (round(1 / SMALLEST_STEP) + 1))
        flops, params, achieved = steps_to_speed_up(
            pruner, model, settings, setup.round_to is not None, example_inputs, flops_before
        )
    model.zero_grad(set_to_none=True)
    model.yaml = {**model.yaml, PRUNED_KEY: {
        "method": settings.prune_method, "scope": settings.scope, "speed_up": settings.speed_up,
        "achieved_speed_up": round(achieved, 4), "steps": pruner.current_step, "imgsz": settings.imgsz,
        "flops_before": flops_before, "flops_after": flops, "params_before": params_before, "params_after": params,
    }}
    return model
