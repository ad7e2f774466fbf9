"""ResNet-18/34 basic-block backbone (ResNet-D variant), for the paper's RT-DETR-R18 baseline.

Ultralytics ships only the bottleneck ResNet (`ResNetLayer`, ResNet-50/101). RT-DETR's R18 uses
PResNet: a three-conv stem, and downsampling shortcuts that average-pool before their 1x1 conv
(the "D" tweak, Bag of Tricks, He et al. 2019).
"""

from __future__ import annotations

import torch
import torch.nn as nn
from ultralytics.nn.modules import Conv

__all__ = ("ResNetStem", "BasicBlock", "BasicStage")


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


class BasicBlock(nn.Module):
    """Two 3x3 convs with an identity (or pooled 1x1 projection) shortcut, ReLU after the sum."""

    def __init__(self, c1: int, c2: int, s: int = 1):
        super().__init__()
        self.cv1 = Conv(c1, c2, 3, s, act=nn.ReLU())
        self.cv2 = Conv(c2, c2, 3, 1, act=False)
        if s == 1 and c1 == c2:
            self.shortcut = nn.Identity()
        elif s == 1:
            self.shortcut = Conv(c1, c2, 1, 1, act=False)
        else:
            self.shortcut = nn.Sequential(nn.AvgPool2d(s, s, ceil_mode=True), Conv(c1, c2, 1, 1, act=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.cv2(self.cv1(x)) + self.shortcut(x))


class BasicStage(nn.Sequential):
    """n basic blocks; the first one changes width and stride."""

    def __init__(self, c1: int, c2: int, n: int = 2, s: int = 1):
        super().__init__(*(BasicBlock(c1 if i == 0 else c2, c2, s if i == 0 else 1) for i in range(n)))
