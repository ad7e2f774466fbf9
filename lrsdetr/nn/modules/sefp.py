"""SEFP, the scale-aware enhanced feature pyramid of LRS-DETR (paper section 3.2).

SPDConv brings stride-4 detail down to stride 8 without throwing pixels away (space-to-depth instead
of a strided conv), and SMEModule runs the Omni-Kernel (OKNet, AAAI 2024) on a quarter of the
channels of the fused stride-8 map, where the small objects live.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from ultralytics.nn.modules import Conv

from ..fft_depthwise import FFTDepthwiseConv2d
from ..registry import keeps_channels, register_block, sets_channels
from .dft import modulated_spectrum_magnitude

__all__ = ("SPDConv", "FrequencyGatingModule", "OmniKernel", "SMEModule")


class SPDConv(nn.Module):
    """Space-to-depth (the four 2x2 sub-grids stacked on channels) followed by a stride-1 Conv."""

    def __init__(self, c1: int, c2: int, k: int = 3):
        super().__init__()
        self.conv = Conv(4 * c1, c2, k, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        subgrids = (x[..., ::2, ::2], x[..., 1::2, ::2], x[..., ::2, 1::2], x[..., 1::2, 1::2])
        return self.conv(torch.cat(subgrids, dim=1))


class FrequencyGatingModule(nn.Module):
    """FGM: one 1x1 projection modulates the spectrum of another; alpha (init 0) blends it in.

    The spectral product is computed with real matmuls (see `dft.py`) so the module exports to ONNX.
    """

    def __init__(self, dim: int):
        super().__init__()
        self.modulator = nn.Conv2d(dim, dim, 1)
        self.signal = nn.Conv2d(dim, dim, 1)
        self.alpha = nn.Parameter(torch.zeros(dim, 1, 1))
        self.beta = nn.Parameter(torch.ones(dim, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return modulated_spectrum_magnitude(self.modulator(x), self.signal(x)) * self.alpha + x * self.beta


class OmniKernel(nn.Module):
    """Omni-Kernel: global (1xk, kx1, kxk), local (1x1) depthwise branches plus a frequency branch.

    The frequency branch's FCA multiplies the spectrum by one number per channel, which is the same
    as scaling the map itself: |ifft2(a * fft2(x))| = |a * x|. We compute it that way (exact, no FFT).

    The block runs in `memory_format` (channels_last by default) and hands its map back in the layout it came
    in: oneDNN's depthwise kxk conv is ~10x faster on CPU in channels_last than in NCHW, which pays for two
    copies at the block boundary many times over (none when the model runs channels_last, as a fused one
    does). Set it to `torch.contiguous_format` to time or run it in NCHW.
    """

    memory_format: torch.memory_format = torch.channels_last

    def __init__(self, dim: int, kernel: int = 31):
        super().__init__()
        self.kernel = kernel
        self.in_proj = nn.Conv2d(dim, dim, 1)
        self.dw_1xk = nn.Conv2d(dim, dim, (1, kernel), padding=(0, kernel // 2), groups=dim)
        self.dw_kx1 = nn.Conv2d(dim, dim, (kernel, 1), padding=(kernel // 2, 0), groups=dim)
        self.dw_kxk = nn.Conv2d(dim, dim, kernel, padding=kernel // 2, groups=dim)
        self.dw_1x1 = nn.Conv2d(dim, dim, 1, groups=dim)
        self.fca_conv = nn.Conv2d(dim, dim, 1)
        self.sca_conv = nn.Conv2d(dim, dim, 1)
        self.fgm = FrequencyGatingModule(dim)
        self.out_proj = nn.Conv2d(dim, dim, 1)

    def depthwise(self, x: torch.Tensor) -> torch.Tensor:
        """Sum of the four depthwise branches (one merged kxk conv after `merge_depthwise()`)."""
        if hasattr(self, "dw_merged"):
            return self.dw_merged(x)
        return self.dw_1xk(x) + self.dw_kx1(x) + self.dw_kxk(x) + self.dw_1x1(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        layout = torch.channels_last if x.stride(1) == 1 < x.shape[1] else torch.contiguous_format  # a channel slice counts
        x = x.contiguous(memory_format=self.memory_format)
        out = F.gelu(self.in_proj(x))
        fca = (self.fca_conv(out.mean((2, 3), keepdim=True)) * out).abs()
        sca = self.sca_conv(fca.mean((2, 3), keepdim=True)) * fca
        return self.out_proj(F.relu(x + self.depthwise(out) + self.fgm(sca))).contiguous(memory_format=layout)

    @torch.no_grad()
    def merge_depthwise(self) -> None:
        """Fold the four depthwise convs (they read the same tensor) into one kxk conv, exactly; on the CPU, in
        inference, that conv runs by FFT (nn/fft_depthwise.py)."""
        if hasattr(self, "dw_merged"):
            return
        k, c = self.kernel, self.dw_kxk.out_channels
        merged = FFTDepthwiseConv2d(c, k).to(self.dw_kxk.weight)
        weight = self.dw_kxk.weight.clone()
        weight[:, :, k // 2 : k // 2 + 1, :] += self.dw_1xk.weight
        weight[:, :, :, k // 2 : k // 2 + 1] += self.dw_kx1.weight
        weight[:, :, k // 2, k // 2] += self.dw_1x1.weight[:, :, 0, 0]
        merged.weight.copy_(weight)
        merged.bias.copy_(self.dw_1xk.bias + self.dw_kx1.bias + self.dw_kxk.bias + self.dw_1x1.bias)
        self.dw_merged = merged
        for name in ("dw_1xk", "dw_kx1", "dw_kxk", "dw_1x1"):
            delattr(self, name)


class SMEModule(nn.Module):
    """SME: 1x1 Conv, Omni-Kernel on the first `e` share of channels, concat (OKM part first), 1x1 Conv."""

    def __init__(self, c1: int, c2: int | None = None, e: float = 0.25, kernel: int = 31):
        super().__init__()
        c2 = c2 or c1
        self.cv1 = Conv(c1, c1, 1)
        self.m = OmniKernel(int(c1 * e), kernel)
        self.cv2 = Conv(c1, c2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.cv1(x)
        okm_channels = self.m.in_proj.in_channels  # read from the layer, so a pruned module still splits right
        okm, rest = x.split([okm_channels, x.shape[1] - okm_channels], dim=1)
        return self.cv2(torch.cat((self.m(okm), rest), dim=1))


register_block(SPDConv, channels=sets_channels, whole_in_paper_scope=True)
register_block(
    SMEModule,
    channels=keeps_channels,
    whole_in_paper_scope=True,
    original_names=(  # the authors' names inside one SMEModule layer -> ours
        (r"^m\.in_conv\.0\.", "m.in_proj."),
        (r"^m\.out_conv\.", "m.out_proj."),
        (r"^m\.dw_13\.", "m.dw_1xk."),
        (r"^m\.dw_31\.", "m.dw_kx1."),
        (r"^m\.dw_33\.", "m.dw_kxk."),
        (r"^m\.dw_11\.", "m.dw_1x1."),
        (r"^m\.conv\.", "m.sca_conv."),
        (r"^m\.fac_conv\.", "m.fca_conv."),
        (r"^m\.fgm\.dwconv1\.", "m.fgm.modulator."),
        (r"^m\.fgm\.dwconv2\.", "m.fgm.signal."),
    ),
    # Their FGM declares a grouped 3x3 conv its forward never calls; nothing reads it, so we do not build it.
    original_unused=r"^m\.fgm\.conv\.(weight|bias)$",
)
