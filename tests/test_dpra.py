"""DPRA (layer 10): equal to the authors' implementation on the fixture, and sound on maps theirs cannot run."""

from __future__ import annotations

import io
import json

import numpy as np
import onnxruntime as ort
import pytest
import torch
import torch.nn.functional as F
from reference_fixture import ReferenceFeatures
from reference_weights import recipe_state_dict
from ultralytics.nn.modules import Conv
from ultralytics.utils.torch_utils import initialize_weights

from lrsdetr.nn.modules.dpra import DPRA, ORIGINAL_KEYS, AdaptiveSparseTransformerBlock, shifted_window_mask

# Stride-32 maps of inputs whose sides are multiples of 32: rectangular, odd, smaller than one window.
MAP_SIZES = [(15, 20), (21, 21), (2, 2), (1, 1)]


def layer_state(state: dict[str, torch.Tensor], index: int) -> dict[str, torch.Tensor]:
    prefix = f"model.{index}."
    return {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}


def small_dpra(seed: int = 0) -> DPRA:
    torch.manual_seed(seed)
    return DPRA(32, hidden=64, heads=4)


def test_matches_authors_layer10(reference_dir):
    """layer08 -> their layer 9 (Conv 1x1 + BN, no act) -> DPRA reproduces their layer10 output."""
    features = ReferenceFeatures(reference_dir)
    state = recipe_state_dict(reference_dir / "keys.json", seed=0)
    projection = Conv(384, 256, 1, 1, act=False)
    initialize_weights(projection)  # BN eps 1e-3, as in every Ultralytics model
    projection.load_state_dict(layer_state(state, 9) | {"bn.num_batches_tracked": torch.tensor(0)})
    dpra = DPRA(256, 1024, 8)
    dpra.load_state_dict({ORIGINAL_KEYS[k]: v for k, v in layer_state(state, 10).items()}, strict=True)
    projection.eval(), dpra.eval()
    with torch.no_grad():
        ours = dpra(projection(features.whole("layer08")))
    assert features.max_abs_difference("layer10", ours) <= 1e-4


def test_original_keys_cover_both_state_dicts(reference_dir):
    """Every learned tensor of their layer 10 has exactly one place in ours, of the same shape."""
    entries = json.loads((reference_dir / "keys.json").read_text())
    theirs = {e["name"][len("model.10."):]: e["shape"] for e in entries
              if e["name"].startswith("model.10.") and e["role"] != "skip"}
    ours = {k: list(v.shape) for k, v in DPRA(256, 1024, 8).state_dict().items()}
    assert set(ORIGINAL_KEYS) == set(theirs)
    assert {ORIGINAL_KEYS[k]: shape for k, shape in theirs.items()} == ours


def test_relative_position_index_stays_out_of_checkpoints():
    dpra = DPRA(32, 64, 4)
    assert "assa.attn.rel_pos_index" not in dpra.state_dict()
    assert dpra.assa.attn.rel_pos_index.shape == (16, 16)


@pytest.mark.parametrize("hw", MAP_SIZES)
def test_any_map_size_in_train_and_eval(hw):
    dpra = small_dpra()
    x = torch.randn(2, 32, *hw)
    dpra.train()
    assert dpra(x).shape == x.shape
    dpra.eval()
    with torch.no_grad():
        y = dpra(x)
    assert y.shape == x.shape and torch.isfinite(y).all()


def test_train_backward_reaches_every_parameter():
    dpra = small_dpra().train()
    dpra(torch.randn(2, 32, 5, 6)).square().mean().backward()
    for name, p in dpra.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0, name


def test_unpadded_mask_is_swins():
    """On a map of whole windows the mask is Swin's: -100 across the 3x3 regions of the rolled map, else 0."""
    window, shift, size = 4, 2, 8
    regions = torch.zeros(size, size)
    cuts = (slice(0, -window), slice(-window, -shift), slice(-shift, None))
    for label, (rows, cols) in enumerate((r, c) for r in cuts for c in cuts):
        regions[rows, cols] = label
    windows = regions.view(2, window, 2, window).transpose(1, 2).reshape(4, window * window)
    swin = (windows[:, None, :] - windows[:, :, None]).ne(0).float() * -100.0
    ours = shifted_window_mask(size, size, size, size, window, shift, torch.float32, torch.device("cpu"))
    assert torch.equal(ours, swin)


def reference_window_attention(block: AdaptiveSparseTransformerBlock, y: torch.Tensor) -> torch.Tensor:
    """ASSA's attention on the real tokens of y (1, H, W, C), one token pair at a time, straight from Swin's rules.

    After padding to whole windows and rolling by -shift, a query sees exactly the real keys in its window
    and in its region of the rolled map; no padded key takes part at all.
    """
    attn, window, shift = block.attn, block.window, block.shift
    _, h, w, c = y.shape
    hp, wp = -(-h // window) * window, -(-w // window) * window

    def rolled(i, j):
        return (i - shift) % hp, (j - shift) % wp

    def region(r, n):
        return 0 if r < n - window else 1 if r < n - shift else 2

    def group(i, j):
        ri, rj = rolled(i, j)
        return ri // window, rj // window, region(ri, hp), region(rj, wp)

    positions = [(i, j) for i in range(h) for j in range(w)]
    tokens = y.reshape(h * w, c)
    heads = attn.heads
    q = (attn.q(tokens) * attn.scale).view(h * w, heads, -1)
    k, v = attn.kv(tokens).view(h * w, 2, heads, -1).unbind(1)
    dense, sparse = attn.path_logits.softmax(0)
    rows = []
    for a, (i, j) in enumerate(positions):
        keys = [b for b, (u, t) in enumerate(positions) if group(u, t) == group(i, j)]
        ri, rj = rolled(i, j)
        bias_rows = []
        for b in keys:
            si, sj = rolled(*positions[b])
            dy, dx = ri % window - si % window + window - 1, rj % window - sj % window + window - 1
            bias_rows.append(attn.rel_pos_bias[dy * (2 * window - 1) + dx])
        logits = torch.einsum("hd,khd->hk", q[a], k[keys]) + torch.stack(bias_rows, 1)
        weights = dense * logits.softmax(-1) + sparse * F.relu(logits).square()
        rows.append(torch.einsum("hk,khd->hd", weights, v[keys]).reshape(c))
    return attn.proj(torch.stack(rows)).view(1, h, w, c)


@pytest.mark.parametrize("hw", [(8, 8), (5, 7), (2, 3), (1, 1)])
def test_windowed_attention_matches_pairwise_reference(hw):
    """Padding, roll, window partition, mask and relative bias agree with a token-by-token computation."""
    torch.manual_seed(0)
    block = AdaptiveSparseTransformerBlock(16, heads=2, window=4, shift=2)
    with torch.no_grad():
        block.attn.rel_pos_bias.normal_()  # large enough that a wrong bias index shows
        block.attn.path_logits.copy_(torch.tensor([0.3, -0.2]))
        y = torch.randn(1, *hw, 16)
        padded = F.pad(y, (0, 0, 0, (-hw[1]) % 4, 0, (-hw[0]) % 4))
        ours = block.shifted_window_attention(padded, *hw)[:, : hw[0], : hw[1]]
        torch.testing.assert_close(ours, reference_window_attention(block, y), atol=1e-5, rtol=1e-5)


def test_padding_values_never_reach_real_tokens():
    """Whatever sits in the padding, the attention output at real positions is the same."""
    torch.manual_seed(0)
    block = AdaptiveSparseTransformerBlock(16, heads=2, window=4, shift=2)
    h, w = 5, 6
    y = torch.randn(1, h, w, 16)
    zeros = F.pad(y, (0, 0, 0, 2, 0, 3))
    noise = zeros.clone()
    noise[:, h:], noise[:, :, w:] = 5 * torch.randn(1, 3, 8, 16), 5 * torch.randn(1, 8, 2, 16)
    with torch.no_grad():
        clean = block.shifted_window_attention(zeros, h, w)[:, :h, :w]
        noisy = block.shifted_window_attention(noise, h, w)[:, :h, :w]
    torch.testing.assert_close(noisy, clean, atol=1e-6, rtol=0)


def test_half_precision_stays_finite():
    dpra = small_dpra().eval()
    x = torch.randn(1, 32, 5, 7)
    with torch.no_grad():
        full, half = dpra(x), dpra.half()(x.half())
    assert torch.isfinite(half).all()
    torch.testing.assert_close(half.float(), full, atol=5e-2, rtol=0)


def test_onnx_export_with_dynamic_size():
    dpra = small_dpra().eval()
    buffer = io.BytesIO()
    torch.onnx.export(
        dpra, torch.randn(1, 32, 8, 8), buffer, dynamo=False, opset_version=17,
        input_names=["x"], output_names=["y"], dynamic_axes={"x": {2: "h", 3: "w"}, "y": {2: "h", 3: "w"}},
    )
    session = ort.InferenceSession(buffer.getvalue(), providers=["CPUExecutionProvider"])
    for hw in [(8, 8), (15, 20), (2, 3)]:
        x = torch.randn(1, 32, *hw)
        with torch.no_grad():
            expected = dpra(x).numpy()
        np.testing.assert_allclose(session.run(None, {"x": x.numpy()})[0], expected, atol=1e-4, rtol=1e-4)
