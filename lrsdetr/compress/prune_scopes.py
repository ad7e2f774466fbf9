"""Pruning scopes: which widths stay fixed, and how Torch-Pruning (tp) groups and rounds channels, as each block
declares in its registration (nn/registry.py, `whole_in_paper_scope` and `fixed_in_blocks_scope`).

- "paper" (default, what the authors ran): every DPRA, SPDConv, SMEModule and DEFModule, the decoder, and the
  lateral 1x1 convs before each upsample (layers 11 and 16 of LRS-DETR-B) stay whole; channel counts are rounded
  to multiples of 8; a RepConv is one unit (`RepConvPruner`, a group root of its own) whose weights do not count
  in the channel ranking, as in the authors' set-up. What is left to cut: the stem and C2f convs, the DEFBlocks'
  outer convs, the neck's other convs and RepC3 blocks.
- "blocks" (finer): only DPRA's attention and FRFN and the decoder stay whole; the channels inside DEF, SME (its
  Omni-Kernel quarter), FGM and LFA are cut too, through twins and custom pruners, unrounded.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch.nn as nn
import torch_pruning as tp
from ultralytics.nn.modules import Conv, RepConv

from ..nn.registry import spec_of
from ..utils.errors import DataError
from .prune_pruners import LEAF_PRUNERS, RepConvPruner
from .prune_twins import Twin

__all__ = ("BLOCKS_SCOPE", "PAPER_SCOPE", "PRUNING_SCOPES", "check_scope", "fixed_width_layers", "paper_fixed_layers",
           "scope_rules")

PAPER_SCOPE = "paper"
BLOCKS_SCOPE = "blocks"
PRUNING_SCOPES = (PAPER_SCOPE, BLOCKS_SCOPE)  # the first is the default
PAPER_ROUND_TO = 8  # the authors' round_to: pruned channel counts are multiples of 8
TP_ROOT_TYPES = [tp.ops.TORCH_CONV, tp.ops.TORCH_LINEAR, tp.ops.TORCH_LSTM]  # tp's default group roots


def check_scope(scope: str) -> None:
    if scope not in PRUNING_SCOPES:
        raise DataError(f"unknown pruning scope {scope!r}; valid: {', '.join(PRUNING_SCOPES)}")


def fixed_width_layers(model: nn.Module) -> list[nn.Module | nn.Parameter]:
    """The "blocks" scope's fixed layers and parameters, for tp's `ignored_layers`: what each block's registered
    `fixed_in_blocks_scope` names (DPRA's attention and FRFN, the whole decoder)."""
    fixed: list[nn.Module | nn.Parameter] = []
    for module in model.modules():
        rule = getattr(spec_of(module), "fixed_in_blocks_scope", None)
        if rule is not None:
            fixed += rule(module)
    return fixed


def _whole_in_paper_scope(module: nn.Module) -> bool:
    """The block's registered rule, seeing through a twin to the block it stands for."""
    spec = spec_of(module.block if isinstance(module, Twin) else module)
    return spec is not None and spec.whole_in_paper_scope


def paper_fixed_layers(model: nn.Module) -> list[nn.Module]:
    """The authors' `ignored_layers`: every block registered whole in the paper scope (DPRA, SPDConv, SMEModule,
    DEFModule, the decoder), and the lateral 1x1 convs that feed an upsample (Y5 and Y4: layers 11 and 16 of
    LRS-DETR-B, which their code names by index)."""
    fixed = [m for m in model.modules() if _whole_in_paper_scope(m)]
    layers = model.model
    fixed += [layer for layer, after in zip(layers, layers[1:])
              if isinstance(layer, Conv) and isinstance(after, nn.Upsample) and after.f == -1]
    return fixed


@dataclass(frozen=True)
class ScopeRules:
    """What a scope gives tp for a model in the pruning view: its fixed layers, custom pruners, rounding, roots."""

    fixed: list
    pruners: dict
    round_to: int | None
    root_module_types: list


def scope_rules(model: nn.Module, scope: str) -> ScopeRules:
    check_scope(scope)
    if scope == BLOCKS_SCOPE:
        return ScopeRules(fixed_width_layers(model), dict(LEAF_PRUNERS), None, TP_ROOT_TYPES)
    if any(isinstance(m, RepConv) and m.bn is not None for m in model.modules()):
        raise ValueError("the paper scope prunes RepConv as one unit, which needs RepConv without its identity BN")
    return ScopeRules(paper_fixed_layers(model), {**LEAF_PRUNERS, RepConv: RepConvPruner()}, PAPER_ROUND_TO,
                      TP_ROOT_TYPES + [RepConv])
