"""DFENet, the dynamic feature enhancement backbone of LRS-DETR (paper section 3.1).

A DEFBlock is a C2f-style cross-stage stage whose inner modules are DEF modules. A DEF module mixes
three residual steps: a depthwise 3x3 conv for local detail, LFA (partial single-head self-attention
on the first `pdim` channels, after SHViT) for global context, and TransNeXt's convolutional GLU.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from ultralytics.nn.modules import C2f, Conv

from ..registry import register_block, repeats_inside

__all__ = ("ConvGLU", "LocalFeatureAggregation", "DEFModule", "DEFBlock")


def _conv_bn(c1: int, c2: int, k: int = 1, groups: int = 1, zero_init: bool = False) -> Conv:
    """Conv + BN without activation (Ultralytics' Conv, so `fuse()` folds the BN for free).

    `zero_init` starts the BN scale at 0 so that a residual branch begins as the identity.
    """
    block = Conv(c1, c2, k, 1, g=groups, act=False)
    if zero_init:
        nn.init.zeros_(block.bn.weight)
    return block


class ConvGLU(nn.Module):
    """Convolutional GLU (TransNeXt, CVPR 2024) with its own residual connection.

    The hidden width is int(2 * 2*dim / 3) so that the gated FFN costs about what a 2x MLP would.
    """

    def __init__(self, dim: int, expansion: float = 2.0):
        super().__init__()
        hidden = int(2 * int(dim * expansion) / 3)
        self.fc1 = nn.Conv2d(dim, 2 * hidden, 1)
        self.dwconv = nn.Conv2d(hidden, hidden, 3, 1, 1, groups=hidden)
        self.fc2 = nn.Conv2d(hidden, dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate, value = self.fc1(x).chunk(2, dim=1)
        return x + self.fc2(F.gelu(self.dwconv(gate)) * value)


class LocalFeatureAggregation(nn.Module):
    """LFA: single-head self-attention over all positions, on the first `pdim` channels only.

    Attending with a slice of the channels keeps the quadratic cost small (SHViT, CVPR 2024); the
    untouched channels rejoin before the output projection. Returns the branch (the caller adds it).

    Queries and keys (16 channels) are narrower than values (64): PyTorch's fused CPU attention needs
    equal widths, so on CPU `scaled_dot_product_attention` falls back to its math path plus a guard
    against fully masked rows, 1.1-1.6x the time of the plain product below on 2 cores (1.27x at 80x80
    tokens; same math, bit-identical here, same FLOPs count). On GPUs its memory-efficient kernel handles the widths and never stores the HW x HW map.
    """

    def __init__(self, dim: int, pdim: int = 64, qk_dim: int = 16):
        super().__init__()
        if not 0 < pdim <= dim:
            raise ValueError(f"LFA needs 0 < pdim <= dim, got pdim={pdim}, dim={dim}")
        self.qk_dim = qk_dim
        self.norm = nn.GroupNorm(1, pdim)
        self.qkv = _conv_bn(pdim, 2 * qk_dim + pdim)
        self.proj = _conv_bn(dim, dim, zero_init=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        pdim = self.norm.num_channels  # read from the layer, so a pruned module still splits right
        attended, untouched = x.split([pdim, c - pdim], dim=1)
        q, k, v = self.qkv(self.norm(attended)).flatten(2).transpose(1, 2).split(
            [self.qk_dim, self.qk_dim, pdim], dim=-1
        )  # each (B, HW, channels)
        if q.is_cuda:
            out = F.scaled_dot_product_attention(q.unsqueeze(1), k.unsqueeze(1), v.unsqueeze(1)).squeeze(1)
        else:
            out = ((q * self.qk_dim**-0.5) @ k.transpose(1, 2)).softmax(-1) @ v
        attended = out.transpose(1, 2).reshape(b, pdim, h, w)
        return self.proj(F.silu(torch.cat((attended, untouched), dim=1)))


class DEFModule(nn.Module):
    """DEF module: x + BN(dwconv3x3(x)), then x + LFA(x), then ConvGLU (residual inside)."""

    def __init__(self, dim: int, pdim: int = 64, qk_dim: int = 16):
        super().__init__()
        self.local_conv = _conv_bn(dim, dim, 3, groups=dim, zero_init=True)
        self.lfa = LocalFeatureAggregation(dim, pdim, qk_dim)
        self.conv_glu = ConvGLU(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.local_conv(x)
        x = x + self.lfa(x)
        return self.conv_glu(x)


class DEFBlock(C2f):
    """The DFENet stage: Ultralytics' C2f layout (cv1 -> split -> n chained modules -> concat -> cv2)
    with DEF modules in place of bottlenecks."""

    def __init__(self, c1: int, c2: int, n: int = 1, e: float = 0.5, pdim: int = 64):
        super().__init__(c1, c2, n, shortcut=False, e=e)
        self.m = nn.ModuleList(DEFModule(self.c, pdim=min(pdim, self.c)) for _ in range(n))


register_block(DEFModule, whole_in_paper_scope=True)
register_block(
    DEFBlock,
    channels=repeats_inside,
    original_names=(  # the authors' names inside one DEFBlock layer -> ours
        (r"^m\.(\d+)\.conv\.fn\.c\.", r"m.\1.local_conv.conv."),
        (r"^m\.(\d+)\.conv\.fn\.bn\.", r"m.\1.local_conv.bn."),
        (r"^m\.(\d+)\.mixer\.fn\.pre_norm\.", r"m.\1.lfa.norm."),
        (r"^m\.(\d+)\.mixer\.fn\.qkv\.c\.", r"m.\1.lfa.qkv.conv."),
        (r"^m\.(\d+)\.mixer\.fn\.qkv\.bn\.", r"m.\1.lfa.qkv.bn."),
        (r"^m\.(\d+)\.mixer\.fn\.proj\.1\.c\.", r"m.\1.lfa.proj.conv."),
        (r"^m\.(\d+)\.mixer\.fn\.proj\.1\.bn\.", r"m.\1.lfa.proj.bn."),
        (r"^m\.(\d+)\.ffn\.dwconv\.0\.", r"m.\1.conv_glu.dwconv."),
        (r"^m\.(\d+)\.ffn\.", r"m.\1.conv_glu."),
    ),
)
