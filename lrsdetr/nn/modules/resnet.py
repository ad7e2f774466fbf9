"""ResNet-vd backbones as RT-DETR builds them (PResNet), for the paper's RT-DETR-R18/34/50/101 baselines.

Ultralytics ships only a bottleneck ResNet (`ResNetLayer`) that is not RT-DETR's: a 7x7 stem and strided
1x1 shortcuts. RT-DETR's PResNet is the "vd" variant (Bag of Tricks, He et al. 2019): a three-conv stem,
the stride on the 3x3 conv, and downsampling shortcuts that average-pool before their 1x1 conv. As in
PResNet, the first block of every stage has a projection shortcut, even where widths already match.
"""

from __future__ import annotations

import torch
import torch.nn as nn
from ultralytics.nn.modules import Conv

from ..registry import register_block, repeats_inside, sets_channels

__all__ = ("ResNetStem", "BasicBlock", "BasicStage", "BottleneckBlock", "BottleneckStage")


class ResNetStem(nn.Module):
    """Three 3x3 convs (stride 2, 1, 1; widths c2/2, c2/2, c2) and a 3x3 stride-2 max-pool: stride 4 in all."""

    def __init__(self, c1: int, c2: int):
        super().__init__()
        relu = nn.ReLU()
        self.convs = nn.Sequential(
            Conv(c1, c2 // 2, 3, 2, act=relu), Conv(c2 // 2, c2 // 2, 3, 1, act=relu), Conv(c2 // 2, c2, 3, 1, act=relu)
        )
        self.pool = nn.MaxPool2d(3, 2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.convs(x))


def shortcut(c1: int, c2: int, s: int, project: bool) -> nn.Module:
    """Identity, a 1x1 conv+BN, or (stride 2, the "d" tweak) a 2x2 average pool then the 1x1 conv+BN."""
    if not project:
        return nn.Identity()
    conv = Conv(c1, c2, 1, 1, act=False)
    return nn.Sequential(nn.AvgPool2d(s, s, ceil_mode=True), conv) if s > 1 else conv


class BasicBlock(nn.Module):
    """Two 3x3 convs (ResNet-18/34) with a shortcut, ReLU after the sum."""

    def __init__(self, c1: int, c2: int, s: int = 1, project: bool = False):
        super().__init__()
        self.cv1 = Conv(c1, c2, 3, s, act=nn.ReLU())
        self.cv2 = Conv(c2, c2, 3, 1, act=False)
        self.shortcut = shortcut(c1, c2, s, project)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.cv2(self.cv1(x)) + self.shortcut(x))


class BottleneckBlock(nn.Module):
    """1x1 down to c2/4, 3x3 (carries the stride), 1x1 up to c2 (ResNet-50/101), with a shortcut, ReLU after the sum."""

    expansion = 4

    def __init__(self, c1: int, c2: int, s: int = 1, project: bool = False):
        super().__init__()
        c_ = c2 // self.expansion
        self.cv1 = Conv(c1, c_, 1, 1, act=nn.ReLU())
        self.cv2 = Conv(c_, c_, 3, s, act=nn.ReLU())
        self.cv3 = Conv(c_, c2, 1, 1, act=False)
        self.shortcut = shortcut(c1, c2, s, project)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.cv3(self.cv2(self.cv1(x))) + self.shortcut(x))


class BasicStage(nn.Sequential):
    """n basic blocks to c2 channels; the first one projects its shortcut and carries the stride."""

    block = BasicBlock

    def __init__(self, c1: int, c2: int, n: int = 2, s: int = 1):
        super().__init__(*(self.block(c1 if i == 0 else c2, c2, s if i == 0 else 1, project=i == 0) for i in range(n)))


class BottleneckStage(BasicStage):
    """n bottleneck blocks to c2 channels (4x the inner width, e.g. 256 for ResNet-50's first stage)."""

    block = BottleneckBlock


register_block(ResNetStem, channels=sets_channels)
register_block(BasicStage, channels=repeats_inside)
register_block(BottleneckStage, channels=repeats_inside)
