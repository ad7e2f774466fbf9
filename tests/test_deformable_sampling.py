"""The decoder's deformable sampling by one gather (lrsdetr/nn/deformable_sampling.py) against Ultralytics' grid_sample."""

from unittest import mock

import pytest
import torch
from ultralytics.nn.modules.transformer import MSDeformAttn
from ultralytics.nn.tasks import RTDETRDetectionModel

from lrsdetr import build_model
from lrsdetr.nn import deformable_sampling
from lrsdetr.nn.deformable_sampling import ULTRALYTICS_SAMPLING, gather_sampling, multi_scale_deformable_sampling

SHAPES = [(12, 20), (6, 10), (3, 5)]  # non-square levels, as a 160x96 input gives


def sampling_inputs(dtype=torch.float64, bs=2, queries=30, heads=4, dims=8, points=4, seed=0):
    """value, shapes, locations, weights as MSDeformAttn passes them; locations reach outside the maps on all sides
    and include exact pixel centres and borders, where a corner falls on a map's edge."""
    generator = torch.Generator().manual_seed(seed)
    keys = sum(h * w for h, w in SHAPES)
    value = torch.randn(bs, keys, heads, dims, generator=generator, dtype=dtype)
    locations = torch.rand(bs, queries, heads, len(SHAPES) * points, 2, generator=generator, dtype=dtype) * 1.4 - 0.2
    locations[0, 0, 0, :3] = torch.tensor([[0.0, 0.0], [1.0, 1.0], [0.5 / 20, 0.5 / 12]], dtype=dtype)
    weights = torch.rand(bs, queries, heads, len(SHAPES) * points, generator=generator, dtype=dtype).softmax(-1)
    return value, SHAPES, locations, weights


def test_the_gather_equals_grid_sample_and_so_do_its_gradients():
    value, shapes, locations, weights = (t.requires_grad_() if torch.is_tensor(t) else t for t in sampling_inputs())
    results = {}
    for how in (ULTRALYTICS_SAMPLING, gather_sampling):
        out = how(value, shapes, locations, weights)
        grads = torch.autograd.grad((out * torch.linspace(-1, 1, out.numel(), dtype=out.dtype).view_as(out)).sum(), (value, locations, weights))
        results[how] = (out, *grads)
    for name, ours, theirs in zip(("output", "d value", "d locations", "d weights"), results[gather_sampling], results[ULTRALYTICS_SAMPLING]):
        assert ours.shape == theirs.shape
        torch.testing.assert_close(ours, theirs, rtol=1e-9, atol=1e-9, msg=name)
    assert results[gather_sampling][0].abs().max() > 0.1  # the inputs sample something


def test_in_fp32_and_under_bf16_autocast_it_stays_within_rounding():
    value, shapes, locations, weights = sampling_inputs(torch.float32)
    torch.testing.assert_close(gather_sampling(value, shapes, locations, weights), ULTRALYTICS_SAMPLING(value, shapes, locations, weights),
                               rtol=1e-5, atol=1e-5)
    projection = torch.nn.Linear(8, 8)
    with torch.autocast("cpu", torch.bfloat16):
        value_bf16 = projection(value)  # bf16, as MSDeformAttn's value_proj gives under autocast
        ours, theirs = (how(value_bf16, shapes, locations, weights) for how in (gather_sampling, ULTRALYTICS_SAMPLING))
    assert ours.dtype == theirs.dtype == torch.float32
    torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", ["lrs-detr-b", "rtdetr-r18", "rtdetr-l"])
def test_whole_models_give_the_same_detections_either_way(name):
    """After `import lrsdetr` every RT-DETR decoder on the CPU goes through the gather, ours and Ultralytics' own."""
    torch.manual_seed(0)
    model = (RTDETRDetectionModel(f"{name}.yaml", nc=3, verbose=False) if name == "rtdetr-l" else build_model(f"{name}.yaml", nc=3)).eval()
    images = torch.rand(2, 3, 96, 160)
    with torch.no_grad(), mock.patch.object(deformable_sampling, "gather_sampling", wraps=gather_sampling) as spy:
        ours = model(images)[1][:2]  # the decoder's boxes and class logits, queries in the encoder's order
        calls = spy.call_count
        with deformable_sampling.ultralytics_sampling():
            theirs = model(images)[1][:2]
    layers = sum(isinstance(m, MSDeformAttn) for m in model.modules())
    assert calls == layers > 0 and spy.call_count == layers  # every decoder layer sampled by the gather, then none
    assert ours[1].shape == (1, 2, 300, 3)  # in eval mode the last layer only
    torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-5)


def test_tracing_and_other_devices_keep_ultralytics_grid_sample():
    """An exported graph stays the one Ultralytics writes (ONNX GridSample); a GPU (here the meta device) is unmeasured."""
    value, shapes, locations, weights = sampling_inputs(torch.float32)
    with mock.patch.object(deformable_sampling, "ULTRALYTICS_SAMPLING", wraps=ULTRALYTICS_SAMPLING) as theirs:
        torch.jit.trace(lambda v, loc, w: multi_scale_deformable_sampling(v, shapes, loc, w), (value, locations, weights), check_trace=False)
        assert theirs.call_count == 1
        multi_scale_deformable_sampling(*(t.to("meta") if torch.is_tensor(t) else t for t in (value, shapes, locations, weights)))
        assert theirs.call_count == 2
        multi_scale_deformable_sampling(value, shapes, locations, weights)
        assert theirs.call_count == 2
