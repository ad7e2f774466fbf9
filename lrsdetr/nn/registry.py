"""One home per block: what the model builder, the pruner and the checkpoint importer know about it.

Each of our blocks is registered in its own module file, next to its code (as timm registers models):
`register_block(SMEModule, channels=keeps_channels, whole_in_paper_scope=True, original_names=...)`. The builder
(`nn/build.py`) reads `channels`, the pruner (`compress/prune_scopes.py`) reads the two pruning fields, and the
importer of the authors' checkpoints (`compat/original.py`) reads `original_names` and `original_unused`. Ultralytics'
blocks that our YAMLs use are registered at the end of this file.

Two Torch-Pruning mechanisms stay in `compress/`, keyed by block type, because they are written against
Torch-Pruning's API: the twins of blocks that split a conv's output among consumers (`prune_twins.py`), and the
custom pruners of blocks it cannot trace (`prune_pruners.py`). A new block needs them only if it does either.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch.nn as nn
import ultralytics.nn.modules as ul

__all__ = (
    "BlockSpec", "BLOCKS", "register_block", "spec_of", "ChannelRule", "sets_channels", "repeats_inside",
    "keeps_channels", "passes_through", "concatenates", "decoder_inputs",
)

# A channel rule maps (input channels, YAML args, repeats, width) to (constructor args, output channels, repeats
# left); `width` applies the model scale's width gain and channel cap to a YAML width.
ChannelRule = Callable[[list[int] | int, list, int, Callable[[int], int]], tuple[list, int, int]]


def sets_channels(c_in, args, n, width):
    """Conv-like: the first YAML arg is the output width; the input width is prepended."""
    c2 = width(args[0])
    return [c_in, c2, *args[1:]], c2, n


def repeats_inside(c_in, args, n, width):
    """Multi-block stages (C2f, RepC3, DEFBlock, ResNet stages): like Conv, and the repeat count goes inside."""
    c2 = width(args[0])
    return [c_in, c2, n, *args[1:]], c2, 1


def keeps_channels(c_in, args, n, width):
    """Blocks whose output width is their input width (DPRA, SMEModule, AIFI)."""
    return [c_in, *args], c_in, n


def passes_through(c_in, args, n, width):
    """Parameter-free shape ops (Upsample): YAML args as given, width unchanged."""
    return list(args), c_in, n


def concatenates(c_in, args, n, width):
    return list(args), sum(c_in), n


def decoder_inputs(c_in, args, n, width):
    """RT-DETR decoder: the list of input widths goes second, after nc."""
    return [args[0], list(c_in), *args[1:]], 0, n


@dataclass(frozen=True)
class BlockSpec:
    """What is known about one block type.

    channels: how a YAML row of this block is built (None: the block is only ever a part of another).
    whole_in_paper_scope: the authors' pruning keeps it whole (in their `ignored_layers`).
    fixed_in_blocks_scope: for the finer "blocks" scope, the block's parts whose output width must stay as built.
    original_names: (regex on a key inside the layer, replacement) from the authors' names to ours; first match wins.
    original_unused: regex of keys inside the layer that their checkpoints hold and our block does not build.
    """

    channels: ChannelRule | None = None
    whole_in_paper_scope: bool = False
    fixed_in_blocks_scope: Callable[[nn.Module], list[nn.Module | nn.Parameter]] | None = None
    original_names: tuple[tuple[str, str], ...] = ()
    original_unused: str | None = None


BLOCKS: dict[type[nn.Module], BlockSpec] = {}


def register_block(block: type[nn.Module], **spec) -> type[nn.Module]:
    """Record `block`'s spec (BlockSpec's fields as keywords); registering a type again replaces its spec."""
    BLOCKS[block] = BlockSpec(**spec)
    return block


def spec_of(block: type[nn.Module] | nn.Module) -> BlockSpec | None:
    """The spec of a block type or module, or of its nearest registered base class; None if none is registered."""
    kind = block if isinstance(block, type) else type(block)
    return next((BLOCKS[base] for base in kind.__mro__ if base in BLOCKS), None)


def _whole(module: nn.Module) -> list[nn.Module]:
    return [module]


register_block(ul.Conv, channels=sets_channels)
register_block(ul.C2f, channels=repeats_inside)
register_block(ul.RepC3, channels=repeats_inside)
register_block(ul.AIFI, channels=keeps_channels)
register_block(nn.Upsample, channels=passes_through)
register_block(ul.Concat, channels=concatenates)
# The decoder's hidden width is shared by its input projections, every decoder layer and the query heads: it stays
# whole in both scopes (its projections' input channels still follow the pruned neck: tp prunes ignored layers' inputs).
register_block(ul.RTDETRDecoder, channels=decoder_inputs, whole_in_paper_scope=True, fixed_in_blocks_scope=_whole)
