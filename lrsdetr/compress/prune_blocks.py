"""What Torch-Pruning needs to know about LRS-DETR's blocks: how to trace them, what it must not cut.

Torch-Pruning (tp) finds coupled channels by walking the autograd graph of one forward pass. Three things in our
model defeat that walk, and each has its rule here:

- A channel split whose pieces feed several consumers (the chunk in C2f / DEFBlock, SMEModule's Omni-Kernel
  quarter, ConvGLU's gate and value): tp pairs a split's outputs with its consumers in graph order, not output
  order, and never updates split offsets after a step. While pruning, each such block is swapped for a *twin*
  whose split is two convolutions holding the same weights; the twins merge back into the original blocks.
- Ops tp cannot follow: LFA's attention (q, k, v split from one flattened, transposed projection) and FGM's
  spectra. Both are pruned as one unit by a custom pruner (`LEAF_PRUNERS`) and are opaque to the tracer.
- Widths that must stay fixed, by the pruning scope (`PRUNING_SCOPES`), as each block declares in its registration
  (nn/registry.py, `whole_in_paper_scope` and `fixed_in_blocks_scope`):
  - "paper" (default, what the authors ran): every DPRA, SPDConv, SMEModule and DEFModule, the decoder, and the
    lateral 1x1 convs before each upsample (layers 11 and 16 of LRS-DETR-B) stay whole; channel counts are
    rounded to multiples of 8; a RepConv is one unit (`RepConvPruner`, a group root of its own) whose weights do
    not count in the channel ranking, as in the authors' set-up. What is left to cut: the stem and C2f convs, the
    DEFBlocks' outer convs, the neck's other convs and RepC3 blocks.
  - "blocks" (finer): only DPRA's attention and FRFN and the decoder stay whole; the
    channels inside DEF, SME (its Omni-Kernel quarter), FGM and LFA are cut too, by the rules above, unrounded.

`pruning_view(model)` applies all three for the length of a `with` block.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator, Sequence
from copy import deepcopy
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch_pruning as tp
from ultralytics.nn.modules import C2f, Conv, RepConv, RTDETRDecoder

from ..nn.modules import ConvGLU, FrequencyGatingModule, LocalFeatureAggregation, SMEModule
from ..nn.registry import spec_of

__all__ = (
    "pruning_view", "to_pruning_view", "from_pruning_view", "PruningSetup", "PRUNING_SCOPES", "fixed_width_layers",
    "paper_fixed_layers", "LEAF_PRUNERS",
)

# The graph is traced on a small input: channel couplings do not depend on the image size.
TRACE_IMGSZ = 64
PRUNING_SCOPES = ("paper", "blocks")  # what stays whole: see the module docstring
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
    pruned layers back in `restore()`.
    """

    def __init__(self, block: nn.Module):
        super().__init__()
        self.__dict__["block"] = block

    def restore(self) -> nn.Module:
        raise NotImplementedError


class C2fTwin(Twin):
    """C2f / DEFBlock: `cv1` as `first` and `second` half. C2f splits cv1's output with chunk(2), which needs equal
    halves, so the trace ties channel i of both halves together (`+ 0 * first`: same values, one pruning group)."""

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
        self.block.cv1 = concatenate_out_channels([self.first, self.second])
        self.block.c = _out_channels(self.first)  # C2f.forward_split (ONNX export) splits at c
        return self.block


class SMETwin(Twin):
    """SMEModule: `cv1` as the Omni-Kernel quarter and the rest (any widths: SME reads the split from its layers)."""

    def __init__(self, block: SMEModule):
        super().__init__(block)
        quarter = block.m.in_proj.in_channels
        self.okm_in, self.rest_in = split_out_channels(block.cv1, [quarter, _out_channels(block.cv1) - quarter])
        self.m, self.cv2 = block.m, block.cv2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.cv2(torch.cat((self.m(self.okm_in(x)), self.rest_in(x)), 1))

    def restore(self) -> SMEModule:
        self.block.cv1 = concatenate_out_channels([self.okm_in, self.rest_in])
        return self.block


class ConvGLUTwin(Twin):
    """ConvGLU: `fc1` as gate and value (the product ties their channels, so chunk(2) stays even)."""

    def __init__(self, block: ConvGLU):
        super().__init__(block)
        hidden = block.dwconv.in_channels
        self.gate, self.value = split_out_channels(block.fc1, [hidden, hidden])
        self.dwconv, self.fc2 = block.dwconv, block.fc2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.fc2(F.gelu(self.dwconv(self.gate(x))) * self.value(x))

    def restore(self) -> ConvGLU:
        self.block.fc1 = concatenate_out_channels([self.gate, self.value])
        return self.block


TWINS: dict[type[nn.Module], type[Twin]] = {C2f: C2fTwin, SMEModule: SMETwin, ConvGLU: ConvGLUTwin}


class LFAPruner(tp.pruner.BasePruningFunc):
    """LFA as one unit. Its input channel i < pdim is attended: it also goes through the GroupNorm, the qkv conv's
    input and the v slice of its output; the rest only reach `proj`. `pdim` is read from the norm at run time."""

    def prune_out_channels(self, layer: LocalFeatureAggregation, idxs: Sequence[int]) -> LocalFeatureAggregation:
        tp.prune_conv_out_channels(layer.proj.conv, idxs)
        tp.prune_batchnorm_out_channels(layer.proj.bn, idxs)
        return layer

    def prune_in_channels(self, layer: LocalFeatureAggregation, idxs: Sequence[int]) -> LocalFeatureAggregation:
        pdim = layer.norm.num_channels
        attended = [i for i in idxs if i < pdim]
        if len(attended) == pdim:
            raise ValueError(f"pruning would remove all {pdim} attended channels of an LFA; prune less")
        if attended:
            tp.prune_groupnorm_out_channels(layer.norm, attended)
            tp.prune_conv_in_channels(layer.qkv.conv, attended)
            values = [2 * layer.qk_dim + i for i in attended]  # qkv's output is q (qk_dim), k (qk_dim), v (pdim)
            tp.prune_conv_out_channels(layer.qkv.conv, values)
            tp.prune_batchnorm_out_channels(layer.qkv.bn, values)
        tp.prune_conv_in_channels(layer.proj.conv, idxs)
        return layer

    def get_out_channels(self, layer: LocalFeatureAggregation) -> int:
        return layer.proj.conv.out_channels

    def get_in_channels(self, layer: LocalFeatureAggregation) -> int:
        return layer.proj.conv.in_channels


def _keep_rows(parameter: nn.Parameter, dropped: Sequence[int]) -> nn.Parameter:
    kept = [i for i in range(parameter.shape[0]) if i not in set(dropped)]
    return nn.Parameter(parameter.data[kept].clone(), parameter.requires_grad)


class FGMPruner(tp.pruner.BasePruningFunc):
    """FGM as one unit: every width in it (both 1x1 convs, the per-channel alpha and beta) is its input width."""

    def prune_out_channels(self, layer: FrequencyGatingModule, idxs: Sequence[int]) -> FrequencyGatingModule:
        for conv in (layer.modulator, layer.signal):
            tp.prune_conv_out_channels(conv, idxs)
            tp.prune_conv_in_channels(conv, idxs)
        layer.alpha, layer.beta = _keep_rows(layer.alpha, idxs), _keep_rows(layer.beta, idxs)
        return layer

    prune_in_channels = prune_out_channels  # input and output channels are one and the same

    def get_out_channels(self, layer: FrequencyGatingModule) -> int:
        return layer.alpha.shape[0]

    get_in_channels = get_out_channels


class RepConvPruner(tp.pruner.BasePruningFunc):
    """RepConv (3x3 and 1x1 branches added) as one unit, the authors' paper-scope rule: both branches lose the same
    output (and input) channels. Only RepConv without the identity BN branch (RepC3's) is supported."""

    def prune_out_channels(self, layer: RepConv, idxs: Sequence[int]) -> RepConv:
        for branch in (layer.conv1, layer.conv2):
            tp.prune_conv_out_channels(branch.conv, idxs)
            tp.prune_batchnorm_out_channels(branch.bn, idxs)
        layer.c2 = layer.conv1.conv.out_channels
        return layer

    def prune_in_channels(self, layer: RepConv, idxs: Sequence[int]) -> RepConv:
        for branch in (layer.conv1, layer.conv2):
            tp.prune_conv_in_channels(branch.conv, idxs)
        layer.c1 = layer.conv1.conv.in_channels
        return layer

    def get_out_channels(self, layer: RepConv) -> int:
        return layer.conv1.conv.out_channels

    def get_in_channels(self, layer: RepConv) -> int:
        return layer.conv1.conv.in_channels


LEAF_PRUNERS: dict[type[nn.Module], tp.pruner.BasePruningFunc] = {
    LocalFeatureAggregation: LFAPruner(),
    FrequencyGatingModule: FGMPruner(),
}


def fixed_width_layers(model: nn.Module) -> list[nn.Module | nn.Parameter]:
    """The "blocks" scope's fixed layers and parameters, for tp's `ignored_layers`: what each block's registered
    `fixed_in_blocks_scope` names (DPRA's attention and FRFN, the whole decoder)."""
    fixed: list[nn.Module | nn.Parameter] = []
    for module in model.modules():
        rule = getattr(spec_of(module), "fixed_in_blocks_scope", None)
        if rule is not None:
            fixed += rule(module)
    return fixed


TP_ROOT_TYPES = [tp.ops.TORCH_CONV, tp.ops.TORCH_LINEAR, tp.ops.TORCH_LSTM]  # tp's default group roots
PAPER_ROUND_TO = 8  # the authors' round_to: pruned channel counts are multiples of 8


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


class _Opaque(torch.autograd.Function):
    """Runs a layer so that autograd sees one op from its input to its output (tp then treats it as a leaf)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, layer: nn.Module) -> torch.Tensor:
        return layer(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        return grad, None  # never called: the graph is only walked


@contextlib.contextmanager
def _opaque_leaves(model: nn.Module, leaf_types: tuple[type[nn.Module], ...]) -> Iterator[None]:
    leaves = [m for m in model.modules() if isinstance(m, leaf_types)]
    for leaf in leaves:
        leaf.forward = lambda x, run=leaf.forward: _Opaque.apply(x, run)
    try:
        yield
    finally:
        for leaf in leaves:
            del leaf.forward


def trace_to_decoder_inputs(
    model: nn.Module, x: torch.Tensor, leaf_types: tuple[type[nn.Module], ...] = tuple(LEAF_PRUNERS)
) -> list[torch.Tensor]:
    """tp's forward: backbone and neck, then only the decoder's input projections (the rest of the decoder is
    fixed, and its token-level concatenations would read to tp as channel concatenations). Layers of
    `leaf_types` (those with their own pruner) are single ops to the tracer."""
    head = model.model[-1]
    head.forward = lambda feats, batch=None: [projection(f) for projection, f in zip(head.input_proj, feats)]
    try:
        with _opaque_leaves(model, leaf_types):
            return model.predict(x)  # Ultralytics' own layer walk; the head gets its input maps
    finally:
        del head.forward


@dataclass
class PruningSetup:
    """Everything tp's pruners take about our model besides the method: pass as keyword arguments."""

    example_inputs: torch.Tensor
    forward_fn: Callable
    ignored_layers: list
    customized_pruners: dict
    round_to: int | None
    root_module_types: list

    def kwargs(self) -> dict:
        return vars(self).copy()


def check_scope(scope: str) -> None:
    if scope not in PRUNING_SCOPES:
        raise ValueError(f"unknown pruning scope {scope!r}; valid: {', '.join(PRUNING_SCOPES)}")


def _check_in_view(model: nn.Module, ignored_layers: Sequence[nn.Module]) -> None:
    """A caller's fixed layer must be in the pruning view: a split conv (C2f's cv1, SME's cv1, ConvGLU's fc1) is
    replaced by two halves there, and tp would silently not keep it."""
    present = {id(m) for m in model.modules()}
    for layer in ignored_layers:
        if id(layer) not in present:
            raise ValueError(f"ignored layer {type(layer).__name__} is split in two while pruning (a channel split's "
                             "conv); ignore the block that holds it instead")


def pruning_setup(model: nn.Module, ignored_layers: Sequence[nn.Module] = (), scope: str = "paper") -> PruningSetup:
    """tp arguments for a model in the pruning view; `ignored_layers` adds the caller's own fixed layers (modules
    of this very model) to those of the `scope`."""
    check_scope(scope)
    if not isinstance(model.model[-1], RTDETRDecoder):
        raise TypeError(f"pruning needs an RT-DETR decoder as the last layer, got {type(model.model[-1]).__name__}")
    _check_in_view(model, ignored_layers)
    parameter = next(model.parameters())
    paper = scope == "paper"
    if paper and any(isinstance(m, RepConv) and m.bn is not None for m in model.modules()):
        raise ValueError("the paper scope prunes RepConv as one unit, which needs RepConv without its identity BN")
    pruners = {**LEAF_PRUNERS, RepConv: RepConvPruner()} if paper else dict(LEAF_PRUNERS)
    return PruningSetup(
        example_inputs=torch.zeros(1, 3, TRACE_IMGSZ, TRACE_IMGSZ, device=parameter.device, dtype=parameter.dtype),
        forward_fn=functools.partial(trace_to_decoder_inputs, leaf_types=tuple(pruners)),
        ignored_layers=(paper_fixed_layers(model) if paper else fixed_width_layers(model)) + list(ignored_layers),
        customized_pruners=pruners,
        round_to=PAPER_ROUND_TO if paper else None,
        root_module_types=TP_ROOT_TYPES + [RepConv] if paper else TP_ROOT_TYPES,
    )


@contextlib.contextmanager
def pruning_view(
    model: nn.Module, ignored_layers: Sequence[nn.Module] = (), scope: str = "paper"
) -> Iterator[PruningSetup]:
    """Put `model` in the pruning view, yield tp's arguments for it, and merge the twins back on exit."""
    to_pruning_view(model)
    try:
        yield pruning_setup(model, ignored_layers, scope)
    finally:
        from_pruning_view(model)
