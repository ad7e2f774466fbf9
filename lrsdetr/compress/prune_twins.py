"""Twins: how a block that splits one conv's output among several consumers is pruned.

The chunk in C2f / DEFBlock, SMEModule's Omni-Kernel quarter and ConvGLU's gate and value split one conv's output
channels. Torch-Pruning (tp) pairs a split's outputs with its consumers in graph order, not output order, and never
updates split offsets after a step. While pruning, each such block is swapped for a *twin* whose split is two
convolutions holding the same weights (the pruning view, `to_pruning_view`); the twins merge back into the
original blocks (`from_pruning_view`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from copy import deepcopy

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch_pruning as tp
from ultralytics.nn.modules import C2f, Conv

from ..nn.modules import ConvGLU, SMEModule

__all__ = ("TWINS", "Twin", "concatenate_out_channels", "from_pruning_view", "split_out_channels", "to_pruning_view")

# Attributes Ultralytics' layer loop reads on each top-level layer; a twin standing in for a layer carries them.
LAYER_ATTRIBUTES = ("i", "f", "type", "np")


def _out_channels(module: nn.Module) -> int:
    return (module.conv if isinstance(module, Conv) else module).out_channels


def split_out_channels(module: Conv | nn.Conv2d, sizes: Sequence[int]) -> list[Conv | nn.Conv2d]:
    """Copies of a conv (Ultralytics Conv or nn.Conv2d), each keeping one consecutive run of its output channels."""
    total, parts, start = _out_channels(module), [], 0
    for size in sizes:
        part = deepcopy(module)
        dropped = [i for i in range(total) if not start <= i < start + size]
        if isinstance(part, Conv):
            tp.prune_conv_out_channels(part.conv, dropped)
            tp.prune_batchnorm_out_channels(part.bn, dropped)
        else:
            tp.prune_conv_out_channels(part, dropped)
        parts.append(part)
        start += size
    return parts


def _concatenate_into(whole: nn.Module, parts: Sequence[nn.Module]) -> None:
    """Set `whole`'s per-output-channel tensors (weight, bias, BN statistics) to those of `parts`, stacked."""
    for name, tensor in list(whole.named_parameters(recurse=False)) + list(whole.named_buffers(recurse=False)):
        if tensor.dim() == 0:  # BN's num_batches_tracked
            continue
        stacked = torch.cat([getattr(part, name).data for part in parts])
        setattr(whole, name, nn.Parameter(stacked, tensor.requires_grad) if isinstance(tensor, nn.Parameter) else stacked)
    if isinstance(whole, nn.BatchNorm2d):
        whole.num_features = whole.weight.shape[0]
    else:
        whole.out_channels = whole.weight.shape[0]


def concatenate_out_channels(parts: Sequence[Conv | nn.Conv2d]) -> Conv | nn.Conv2d:
    """The inverse of `split_out_channels`: one conv whose output channels are the parts' in order."""
    whole = deepcopy(parts[0])
    if isinstance(whole, Conv):
        _concatenate_into(whole.conv, [p.conv for p in parts])
        _concatenate_into(whole.bn, [p.bn for p in parts])
    else:
        _concatenate_into(whole, parts)
    return whole


class Twin(nn.Module):
    """A block while it is being pruned: the same layers and function, its channel split done by two convs.

    The original block is kept out of the module tree (tp must not trace its stale split conv) and gets the
    pruned layers back in `restore()`. A subclass names the block's split conv (`split`) and its own two convs
    that stand for it (`halves`).
    """

    split: str
    halves: tuple[str, str]

    def __init__(self, block: nn.Module):
        super().__init__()
        self.__dict__["block"] = block

    def parts(self) -> list[Conv | nn.Conv2d]:
        return [getattr(self, half) for half in self.halves]

    def stand_ins(self) -> dict[int, list[nn.Module]]:
        """What stands for the block and for each module of its split conv in the pruning view, by their ids: a
        caller's layer to keep is kept through them."""
        found = {id(self.block): [self]}
        for name, module in getattr(self.block, self.split).named_modules():
            found[id(module)] = [part.get_submodule(name) for part in self.parts()]
        return found

    def restore(self) -> nn.Module:
        setattr(self.block, self.split, concatenate_out_channels(self.parts()))
        return self.block


class C2fTwin(Twin):
    """C2f / DEFBlock: `cv1` as `first` and `second` half. C2f splits cv1's output with chunk(2), which needs equal
    halves, so the trace ties channel i of both halves together (`+ 0 * first`: same values, one pruning group)."""

    split, halves = "cv1", ("first", "second")

    def __init__(self, block: C2f):
        super().__init__(block)
        self.first, self.second = split_out_channels(block.cv1, [block.c, block.c])
        self.m, self.cv2 = block.m, block.cv2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        first = self.first(x)
        y = [first, self.second(x) + 0 * first]
        y.extend(m(y[-1]) for m in self.m)
        return self.cv2(torch.cat(y, 1))

    def restore(self) -> C2f:
        block = super().restore()
        block.c = _out_channels(self.first)  # C2f.forward_split (ONNX export) splits at c
        return block


class SMETwin(Twin):
    """SMEModule: `cv1` as the Omni-Kernel quarter and the rest (any widths: SME reads the split from its layers)."""

    split, halves = "cv1", ("okm_in", "rest_in")

    def __init__(self, block: SMEModule):
        super().__init__(block)
        quarter = block.m.in_proj.in_channels
        self.okm_in, self.rest_in = split_out_channels(block.cv1, [quarter, _out_channels(block.cv1) - quarter])
        self.m, self.cv2 = block.m, block.cv2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.cv2(torch.cat((self.m(self.okm_in(x)), self.rest_in(x)), 1))


class ConvGLUTwin(Twin):
    """ConvGLU: `fc1` as gate and value (the product ties their channels, so chunk(2) stays even)."""

    split, halves = "fc1", ("gate", "value")

    def __init__(self, block: ConvGLU):
        super().__init__(block)
        hidden = block.dwconv.in_channels
        self.gate, self.value = split_out_channels(block.fc1, [hidden, hidden])
        self.dwconv, self.fc2 = block.dwconv, block.fc2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.fc2(F.gelu(self.dwconv(self.gate(x))) * self.value(x))


TWINS: dict[type[nn.Module], type[Twin]] = {C2f: C2fTwin, SMEModule: SMETwin, ConvGLU: ConvGLUTwin}


def _swap(module: nn.Module, convert: Callable[[nn.Module], nn.Module]) -> None:
    """Replace, top down, every descendant `child` of `module` by `convert(child)`."""
    for name, child in list(module.named_children()):
        new = convert(child)
        if new is not child:
            for attribute in LAYER_ATTRIBUTES:
                if attribute in vars(child):  # a top-level layer's own; nn.Module.type, a method, stays put
                    setattr(new, attribute, vars(child)[attribute])
            setattr(module, name, new)
        _swap(new, convert)


def _to_twin(module: nn.Module) -> nn.Module:
    twin = next((twin for block, twin in TWINS.items() if isinstance(module, block)), None)
    return twin(module) if twin else module


def to_pruning_view(model: nn.Module) -> nn.Module:
    """Swap every split block for its twin, in place (idempotent); returns the model."""
    _swap(model, _to_twin)
    return model


def from_pruning_view(model: nn.Module) -> nn.Module:
    """Merge every twin back into its block, in place; returns the model."""
    _swap(model, lambda module: module.restore() if isinstance(module, Twin) else module)
    return model
