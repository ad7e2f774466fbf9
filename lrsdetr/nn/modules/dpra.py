"""DPRA, the dual-path recalibration attention encoder of LRS-DETR (layer 10, on the stride-32 map).

DPRA takes the place of RT-DETR's AIFI encoder layer. Its attention is one ASSA transformer block
(adaptive sparse self-attention with the FRFN feed-forward, from "Adapt or Perish: Adaptive Sparse
Transformer with Attentive Feature Refinement for Image Restoration", Zhou et al., CVPR 2024): shifted
4x4 windows whose logits feed a dense softmax path and a sparse ReLU^2 path mixed by learned weights,
so that weak, noisy token pairs can drop out entirely. SimAM ("SimAM: A Simple, Parameter-Free
Attention Module", Yang et al., ICML 2021) then recalibrates each neuron by how much it stands out
from its channel, and an AIFI-style post-norm FFN closes the layer.

Unlike the authors' version, which needs a square map whose side is a multiple of the window, ours
pads to whole windows around the windowed attention only and masks the padding out, so any map size
works (including maps smaller than one window), and the whole block exports to ONNX with dynamic H/W.
Internally everything runs channels-last (B, H, W, C): LayerNorms and Linears then act on the last
dimension without transposes, and the 1x1/3x3 convs see channels_last memory.
"""

from __future__ import annotations

import re
from typing import Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..registry import keeps_channels, register_block

__all__ = ("DPRA", "AdaptiveSparseWindowAttention", "FeatureRefinementFFN", "AdaptiveSparseTransformerBlock", "simam")

# Logit offset between tokens that must not attend to each other (Swin's value; finite, so fp16-safe).
MASKED_LOGIT = -100.0
# Mask label of padded positions: Swin's shifted-window regions use labels 0..8.
PADDING_LABEL = 9
# A map size: a Python int in eager mode, a 0-dim tensor while an ONNX export traces the model.
Size = Union[int, torch.Tensor]  # Union, not `|`: evaluated at import, also on Python 3.9

# The authors' state-dict names (after `model.<i>.`) -> ours, every learned tensor of the layer.
ORIGINAL_KEYS = {
    "assa.norm1.weight": "assa.norm1.weight",
    "assa.norm1.bias": "assa.norm1.bias",
    "assa.attn.relative_position_bias_table": "assa.attn.rel_pos_bias",
    "assa.attn.w": "assa.attn.path_logits",
    "assa.attn.qkv.to_q.weight": "assa.attn.q.weight",
    "assa.attn.qkv.to_q.bias": "assa.attn.q.bias",
    "assa.attn.qkv.to_kv.weight": "assa.attn.kv.weight",
    "assa.attn.qkv.to_kv.bias": "assa.attn.kv.bias",
    "assa.attn.proj.weight": "assa.attn.proj.weight",
    "assa.attn.proj.bias": "assa.attn.proj.bias",
    "assa.norm2.weight": "assa.norm2.weight",
    "assa.norm2.bias": "assa.norm2.bias",
    "assa.mlp.partial_conv3.weight": "assa.ffn.partial_conv.weight",
    "assa.mlp.linear1.0.weight": "assa.ffn.fc1.weight",
    "assa.mlp.linear1.0.bias": "assa.ffn.fc1.bias",
    "assa.mlp.dwconv.0.weight": "assa.ffn.dwconv.weight",
    "assa.mlp.dwconv.0.bias": "assa.ffn.dwconv.bias",
    "assa.mlp.linear2.0.weight": "assa.ffn.fc2.weight",
    "assa.mlp.linear2.0.bias": "assa.ffn.fc2.bias",
    "fc1.weight": "fc1.weight",
    "fc1.bias": "fc1.bias",
    "fc2.weight": "fc2.weight",
    "fc2.bias": "fc2.bias",
    "norm1.weight": "norm1.weight",
    "norm1.bias": "norm1.bias",
    "norm2.weight": "norm2.weight",
    "norm2.bias": "norm2.bias",
}


def relative_position_index(window: int) -> torch.Tensor:
    """Swin's (N, N) index into the ((2w-1)^2, heads) bias table for every pair of the N = w*w tokens of a window."""
    coords = torch.stack(torch.meshgrid(torch.arange(window), torch.arange(window), indexing="ij")).flatten(1)
    offsets = (coords[:, :, None] - coords[:, None, :]) + (window - 1)  # (2, N, N), each in [0, 2w-2]
    return offsets[0] * (2 * window - 1) + offsets[1]


def window_partition(x: torch.Tensor, window: int) -> torch.Tensor:
    """(B, H, W, C) with H, W multiples of `window` -> (B * windows, window*window, C), row-major windows."""
    b, h, w, c = x.shape
    x = x.view(b, h // window, window, w // window, window, c).transpose(2, 3)
    return x.reshape(-1, window * window, c)


def window_merge(windows: torch.Tensor, window: int, batch: Size, height: Size, width: Size) -> torch.Tensor:
    """Inverse of `window_partition`: (B * windows, window*window, C) -> (B, height, width, C)."""
    x = windows.view(batch, height // window, width // window, window, window, -1).transpose(2, 3)
    return x.reshape(batch, height, width, -1)


def _rolled_axis_labels(
    length: Size, padded_length: Size, window: int, shift: int, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """Along one axis of the padded map rolled by -shift: Swin's region (0, 1, 2) and whether it is padding.

    Swin cuts the rolled axis at `-window` and `-shift`, so that tokens brought together by the cyclic roll
    from opposite borders never attend to each other. Rolled position p holds original position
    (p + shift) mod padded_length, which is padding when it is at or past the real `length`.
    """
    position = torch.arange(padded_length, device=device)
    region = (position >= padded_length - window).long() + (position >= padded_length - shift).long()
    is_padding = (position + shift) % padded_length >= length
    return region, is_padding


def shifted_window_mask(
    height: Size, width: Size, padded_height: Size, padded_width: Size, window: int, shift: int,
    dtype: torch.dtype, device: torch.device,
) -> torch.Tensor:
    """(windows, N, N) additive mask: MASKED_LOGIT between tokens with different region labels, else 0.

    On an unpadded map this is exactly Swin's shifted-window mask. Padded positions get a label of their
    own, so real tokens never attend to padding (and padding only to padding). Built from tensor ops on
    the sizes so that ONNX export keeps H and W dynamic.
    """
    row_region, row_padding = _rolled_axis_labels(height, padded_height, window, shift, device)
    col_region, col_padding = _rolled_axis_labels(width, padded_width, window, shift, device)
    labels = 3 * row_region[:, None] + col_region[None, :]
    labels = labels.masked_fill(torch.logical_or(row_padding[:, None], col_padding[None, :]), PADDING_LABEL)
    labels = window_partition(labels[None, :, :, None], window).squeeze(-1)  # (windows, N)
    differs = labels[:, :, None] != labels[:, None, :]
    return torch.zeros_like(differs, dtype=dtype).masked_fill(differs, MASKED_LOGIT)


class AdaptiveSparseWindowAttention(nn.Module):
    """ASSA's window attention (AST, CVPR 2024): a dense and a sparse path on the same logits.

    The dense path softmax(A) keeps every interaction; the sparse path ReLU(A)^2 zeroes negative logits,
    dropping the irrelevant token pairs that softmax would still weight. The two are mixed by
    softmax(path_logits), learned, so each layer picks its own degree of sparsity.
    """

    def __init__(self, dim: int, heads: int, window: int):
        super().__init__()
        if dim % heads:
            raise ValueError(f"ASSA needs dim divisible by heads, got dim={dim}, heads={heads}")
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(dim, 2 * dim)
        self.proj = nn.Linear(dim, dim)
        self.rel_pos_bias = nn.Parameter(torch.empty((2 * window - 1) ** 2, heads))
        nn.init.trunc_normal_(self.rel_pos_bias, std=0.02)
        self.path_logits = nn.Parameter(torch.ones(2))  # (dense, sparse)
        self.register_buffer("rel_pos_index", relative_position_index(window), persistent=False)

    def logits(self, q: torch.Tensor, k: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(B*windows, heads, N, N) scaled q k^T + relative position bias + the per-window mask."""
        bw, heads, n, _ = q.shape
        bias = self.rel_pos_bias[self.rel_pos_index].permute(2, 0, 1)  # (heads, N, N)
        logits = (q * self.scale) @ k.transpose(-2, -1) + bias
        return (logits.view(-1, mask.shape[0], heads, n, n) + mask[:, None]).view(bw, heads, n, n)

    def forward(self, windows: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """windows (B*windows, N, C), mask (windows, N, N) -> (B*windows, N, C)."""
        bw, n, c = windows.shape
        q = self.q(windows).view(bw, n, self.heads, -1).transpose(1, 2)
        k, v = self.kv(windows).view(bw, n, 2, self.heads, -1).permute(2, 0, 3, 1, 4).unbind(0)
        logits = self.logits(q, k, mask)
        dense, sparse = self.path_logits.softmax(0).unbind(0)
        attn = dense * logits.softmax(-1) + sparse * F.relu(logits).square()
        return self.proj((attn @ v).transpose(1, 2).reshape(bw, n, c))


class FeatureRefinementFFN(nn.Module):
    """FRFN (AST, CVPR 2024), on channels-last (B, H, W, C) maps.

    A partial 3x3 conv on the first quarter of the channels enhances spatial detail cheaply (the rest pass
    untouched, after FasterNet's PConv); a gated branch (depthwise 3x3 on one half of the expanded
    features, multiplied by the other half) then suppresses redundant channels.
    """

    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.conv_channels = dim // 4
        self.partial_conv = nn.Conv2d(self.conv_channels, self.conv_channels, 3, 1, 1, bias=False)
        self.fc1 = nn.Linear(dim, 2 * hidden)
        self.dwconv = nn.Conv2d(hidden, hidden, 3, 1, 1, groups=hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        spatial, untouched = x.split((self.conv_channels, x.shape[-1] - self.conv_channels), dim=-1)
        spatial = self.partial_conv(spatial.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
        gate, value = F.gelu(self.fc1(torch.cat((spatial, untouched), -1))).chunk(2, dim=-1)
        gate = F.gelu(self.dwconv(gate.permute(0, 3, 1, 2))).permute(0, 2, 3, 1)
        return self.fc2(gate * value)


class AdaptiveSparseTransformerBlock(nn.Module):
    """AST's transformer block: pre-norm shifted-window ASSA and pre-norm FRFN, each with a residual.

    Works on channels-last (B, H, W, C) maps of any size: the normalised map is zero-padded to whole
    windows for the attention (padding is masked out, see `shifted_window_mask`) and cropped back before
    the residual, so FRFN and everything after see only the real positions.
    """

    def __init__(self, dim: int, heads: int, window: int, shift: int, ffn_ratio: int = 4):
        super().__init__()
        if not 0 <= shift < window:
            raise ValueError(f"shift must be in [0, window), got shift={shift}, window={window}")
        self.window = window
        self.shift = shift
        self.norm1 = nn.LayerNorm(dim)
        self.attn = AdaptiveSparseWindowAttention(dim, heads, window)
        self.norm2 = nn.LayerNorm(dim)
        self.ffn = FeatureRefinementFFN(dim, ffn_ratio * dim)

    def shifted_window_attention(self, padded: torch.Tensor, height: Size, width: Size) -> torch.Tensor:
        """Attention on a (B, Hp, Wp, C) map padded to whole windows whose real part is height x width."""
        b, hp, wp, _ = padded.shape
        shifted = torch.roll(padded, (-self.shift, -self.shift), (1, 2)) if self.shift else padded
        mask = shifted_window_mask(height, width, hp, wp, self.window, self.shift, padded.dtype, padded.device)
        out = window_merge(self.attn(window_partition(shifted, self.window), mask), self.window, b, hp, wp)
        return torch.roll(out, (self.shift, self.shift), (1, 2)) if self.shift else out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[1:3]
        padded = F.pad(self.norm1(x), (0, 0, 0, (-w) % self.window, 0, (-h) % self.window))
        x = x + self.shifted_window_attention(padded, h, w)[:, :h, :w]
        return x + self.ffn(self.norm2(x))


def simam(x: torch.Tensor, lam: float = 1e-4) -> torch.Tensor:
    """SimAM (ICML 2021) on a channels-last (B, H, W, C) map: scale each neuron by sigmoid of its inverse energy.

    A neuron far from its channel's spatial mean (relative to the channel's variance) has low energy, so it
    is more distinctive and is kept; the others are damped. A 1x1 map has no variance: counting it as zero
    (instead of 0/0) gives every neuron sigmoid(0.5).
    """
    deviation = (x - x.mean(dim=(1, 2), keepdim=True)).square()
    # H*W - 1 as a tensor computed from x, so that an ONNX trace keeps it dynamic (not a constant).
    samples = (torch.ones_like(x[:1, :, :, :1], dtype=torch.float32).sum() - 1).clamp(min=1)
    energy_inverse = deviation / (4 * (deviation.sum(dim=(1, 2), keepdim=True) / samples + lam)) + 0.5
    return x * torch.sigmoid(energy_inverse)


class DPRA(nn.Module):
    """Dual-path recalibration attention (LRS-DETR layer 10): ASSA block, SimAM, then AIFI's post-norm FFN.

    x = LN(x + SimAM(ASSA(x))); x = LN(x + fc2(GELU(fc1(x)))). The first residual adds the layer input
    itself, on top of the residuals inside the ASSA block (that is what the authors' model computes).

    Input and output are (B, c1, H, W) for any H, W. `hidden` is the width of the closing FFN (fc1/fc2,
    1x1 convs); ASSA's FRFN uses 4*c1 as in AST. Built by Ultralytics' YAML row `[-1, 1, DPRA, [1024, 8]]`.
    """

    def __init__(self, c1: int, hidden: int = 1024, heads: int = 8, window: int = 4, shift: int = 2):
        super().__init__()
        self.assa = AdaptiveSparseTransformerBlock(c1, heads, window, shift)
        self.fc1 = nn.Conv2d(c1, hidden, 1)
        self.fc2 = nn.Conv2d(hidden, c1, 1)
        self.norm1 = nn.LayerNorm(c1, eps=1e-6)
        self.norm2 = nn.LayerNorm(c1, eps=1e-6)

    def ffn(self, x: torch.Tensor) -> torch.Tensor:
        """fc2(GELU(fc1(x))) on a channels-last map (1x1 convs on a channels_last-memory view)."""
        return self.fc2(F.gelu(self.fc1(x.permute(0, 3, 1, 2)))).permute(0, 2, 3, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.permute(0, 2, 3, 1)
        # The layer's own input (not the ASSA output) takes the residual, as the authors' fixture shows.
        x = self.norm1(x + simam(self.assa(x)))
        x = self.norm2(x + self.ffn(x))
        return x.permute(0, 3, 1, 2).contiguous()


def fixed_in_blocks_scope(dpra: DPRA) -> list[nn.Module | nn.Parameter]:
    """What the finer pruning scope must not narrow. The attention width (8 heads of width/8, a relative-position
    table per head) ties all of DPRA's residual stream (norms, FRFN's input split at a width stored at construction);
    FRFN's hidden width is split by a channels-last chunk, which Torch-Pruning's index mapping (dim 1) cannot follow."""
    attention = dpra.assa.attn
    return [attention.q, attention.kv, attention.proj, attention.rel_pos_bias, attention.path_logits, dpra.assa.ffn.fc1]


register_block(
    DPRA,
    channels=keeps_channels,
    whole_in_paper_scope=True,
    fixed_in_blocks_scope=fixed_in_blocks_scope,
    original_names=tuple((f"^{re.escape(theirs)}$", ours) for theirs, ours in ORIGINAL_KEYS.items()),
)
