"""The pruning view: the model as Torch-Pruning (tp) must see it, and tp's arguments for it.

tp finds coupled channels by walking the autograd graph of one forward pass. Three things in our model defeat that
walk, and each has its module:

- A channel split whose pieces feed several consumers: the block is swapped for a twin whose split is two
  convolutions (`prune_twins`).
- Ops tp cannot follow (LFA's attention, FGM's spectra): each is pruned as one unit by a custom pruner
  (`prune_pruners`) and is a single op to the tracer (here).
- Widths that must stay fixed, by the pruning scope (`prune_scopes`).

`pruning_view(model)` applies all three for the length of a `with` block.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import torch
import torch.nn as nn
from ultralytics.nn.modules import RTDETRDecoder

from .prune_pruners import LEAF_PRUNERS
from .prune_scopes import scope_rules
from .prune_twins import Twin, from_pruning_view, to_pruning_view

__all__ = ("PruningSetup", "pruning_setup", "pruning_view", "trace_to_decoder_inputs")

# The graph is traced on a small input: channel couplings do not depend on the image size.
TRACE_IMGSZ = 64


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


def in_view(model: nn.Module, layers: Sequence[nn.Module]) -> list[nn.Module]:
    """A caller's layers to keep, as the pruning view holds them: a block swapped for its twin is kept as the twin,
    its split conv (C2f's cv1, SME's cv1, ConvGLU's fc1) as the twin's two halves."""
    stand_ins: dict[int, list[nn.Module]] = {}
    for twin in (m for m in model.modules() if isinstance(m, Twin)):
        stand_ins.update(twin.stand_ins())
    present = {id(m) for m in model.modules()}
    found = []
    for layer in layers:
        if id(layer) not in stand_ins and id(layer) not in present:
            raise ValueError(f"ignored layer {type(layer).__name__} is not a module of the model being pruned")
        found += stand_ins.get(id(layer), [layer])
    return found


def pruning_setup(model: nn.Module, scope: str, ignored_layers: Sequence[nn.Module] = ()) -> PruningSetup:
    """tp arguments for a model in the pruning view, for a pruning `scope`; `ignored_layers` adds the caller's own
    fixed layers (modules of this very model, before or in the view) to those of the scope."""
    rules = scope_rules(model, scope)
    if not isinstance(model.model[-1], RTDETRDecoder):
        raise TypeError(f"pruning needs an RT-DETR decoder as the last layer, got {type(model.model[-1]).__name__}")
    parameter = next(model.parameters())
    return PruningSetup(
        example_inputs=torch.zeros(1, 3, TRACE_IMGSZ, TRACE_IMGSZ, device=parameter.device, dtype=parameter.dtype),
        forward_fn=functools.partial(trace_to_decoder_inputs, leaf_types=tuple(rules.pruners)),
        ignored_layers=rules.fixed + in_view(model, ignored_layers),
        customized_pruners=rules.pruners,
        round_to=rules.round_to,
        root_module_types=rules.root_module_types,
    )


@contextlib.contextmanager
def pruning_view(model: nn.Module, scope: str, ignored_layers: Sequence[nn.Module] = ()) -> Iterator[PruningSetup]:
    """Put `model` in the pruning view, yield tp's arguments for it, and merge the twins back on exit."""
    to_pruning_view(model)
    try:
        yield pruning_setup(model, scope, ignored_layers)
    finally:
        from_pruning_view(model)
