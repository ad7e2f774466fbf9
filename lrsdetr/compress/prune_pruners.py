"""Custom Torch-Pruning pruners for the layers it cannot trace, each pruned as one unit.

LFA's attention (q, k, v split from one flattened, transposed projection) and FGM's spectra defeat Torch-Pruning's
(tp) autograd walk: `LEAF_PRUNERS` prunes each as one unit, and the tracer sees it as a single op (`prune_view`).
The paper scope also prunes a RepConv as one unit (`RepConvPruner`), as the authors' set-up does.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch.nn as nn
import torch_pruning as tp
from ultralytics.nn.modules import RepConv

from ..nn.modules import FrequencyGatingModule, LocalFeatureAggregation

__all__ = ("LEAF_PRUNERS", "FGMPruner", "LFAPruner", "RepConvPruner")


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
