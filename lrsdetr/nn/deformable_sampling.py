"""RT-DETR's multi-scale deformable sampling on the CPU as one weighted gather instead of a grid_sample per level.

Each decoder layer samples, for every query and head, 4 points on each of 3 levels bilinearly and sums them with
attention weights. Ultralytics runs one `F.grid_sample` per level, concatenates the samples and weights the sum;
on the CPU most of that time goes to grid_sample's per-point work and the copies. Here the bilinear corner weights
and the attention weights fold into one weight per corner (zero for a corner outside its map, as grid_sample's
zero padding), and `F.embedding_bag` gathers the 48 corner rows of each query and head and sums them in one pass.
Outputs and gradients equal Ultralytics' within fp32 rounding (tests/test_deformable_sampling.py); `lrsdetr bench
latency` times both on each model's own decoder inputs.

`import lrsdetr` rebinds the name Ultralytics' `MSDeformAttn.forward` calls (utils/ultralytics_private.py lists it),
so every RT-DETR decoder in the process, ours and stock, samples this way on the CPU. A GPU, tracing and export
(ONNX GridSample, OpenVINO, TorchScript) keep Ultralytics' grid_sample: unmeasured there, and an exported graph
should stay the one Ultralytics writes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
import torch.nn.functional as F
from ultralytics.nn.modules import transformer
from ultralytics.nn.modules.utils import multi_scale_deformable_attn_pytorch as ULTRALYTICS_SAMPLING

from .graph_capture import capturing_graph

_gather_on_cpu = True


def gather_sampling(value: torch.Tensor, shapes: list, locations: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Ultralytics' `multi_scale_deformable_attn_pytorch` as a gather: the same arguments and result.

    value (bs, keys, heads, dims): every level's map flattened row by row, level after level, as `shapes` [(h, w)]
    lists them; locations (bs, queries, heads, levels x points, 2): x, y in [0, 1] of the map (align_corners=False);
    weights (bs, queries, heads, levels x points). Returns (bs, queries, heads x dims).
    """
    bs, keys, heads, dims = value.shape
    queries, points = locations.shape[1], locations.shape[3]
    per_level = points // len(shapes)
    device = locations.device
    size = torch.tensor(shapes, device=device).repeat_interleave(per_level, 0)  # (points, 2): h, w
    height, width = size[:, 0], size[:, 1]
    start = torch.tensor([0] + [h * w for h, w in shapes][:-1], device=device).cumsum(0).repeat_interleave(per_level)
    x = locations[..., 0] * width - 0.5  # pixel centres at integers, as grid_sample with align_corners=False
    y = locations[..., 1] * height - 0.5
    left, top = x.floor(), y.floor()
    right_share, bottom_share = x - left, y - top
    # bilinear share of each corner, zero where the corner lies outside its map (grid_sample's zero padding)
    share_left = (1 - right_share) * ((left >= 0) & (left < width))
    share_right = right_share * ((left >= -1) & (left < width - 1))
    share_top = (1 - bottom_share) * ((top >= 0) & (top < height)) * weights
    share_bottom = bottom_share * ((top >= -1) & (top < height - 1)) * weights
    corner_weights = torch.stack((share_top * share_left, share_top * share_right,
                                  share_bottom * share_left, share_bottom * share_right), -1)
    # row of each corner in value viewed as (bs * keys * heads, dims); a corner outside is clamped in (weight 0)
    left, top = left.long(), top.long()
    column_left, column_right = left.clamp(min=0).minimum(width - 1), (left + 1).clamp(min=0).minimum(width - 1)
    row_top, row_bottom = top.clamp(min=0).minimum(height - 1) * width, (top + 1).clamp(min=0).minimum(height - 1) * width
    first = (torch.arange(bs, device=device).view(bs, 1, 1, 1) * keys + start) * heads + torch.arange(heads, device=device).view(1, 1, heads, 1)
    rows = torch.stack((row_top + column_left, row_top + column_right, row_bottom + column_left, row_bottom + column_right), -1)
    rows = rows * heads + first.unsqueeze(-1)
    dtype = torch.promote_types(value.dtype, corner_weights.dtype)  # bf16 values sum in fp32, as grid_sample's
    sampled = F.embedding_bag(rows.view(-1, points * 4), value.reshape(-1, dims).to(dtype),
                              per_sample_weights=corner_weights.reshape(-1, points * 4).to(dtype), mode="sum")
    return sampled.view(bs, queries, heads * dims)


def multi_scale_deformable_sampling(value: torch.Tensor, shapes: list, locations: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """What MSDeformAttn calls after `import lrsdetr`: the gather on the CPU, Ultralytics' grid_sample elsewhere."""
    if _gather_on_cpu and value.device.type == "cpu" and not capturing_graph():
        return gather_sampling(value, shapes, locations, weights)
    return ULTRALYTICS_SAMPLING(value, shapes, locations, weights)


@contextlib.contextmanager
def ultralytics_sampling() -> Iterator[None]:
    """Sample with Ultralytics' grid_sample meanwhile, on the CPU too (the latency baseline, comparisons)."""
    global _gather_on_cpu
    previous, _gather_on_cpu = _gather_on_cpu, False
    try:
        yield
    finally:
        _gather_on_cpu = previous


def install() -> None:
    """Rebind the name MSDeformAttn.forward calls (idempotent)."""
    transformer.multi_scale_deformable_attn_pytorch = multi_scale_deformable_sampling
