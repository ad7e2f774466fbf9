"""The Omni-Kernel's merged depthwise conv by FFT (lrsdetr/nn/fft_depthwise.py) against oneDNN's direct convolution."""

import copy
import io
import pickle
from unittest import mock

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
import torch.nn.functional as F

from lrsdetr.nn import fft_depthwise
from lrsdetr.nn.fft_depthwise import FFTDepthwiseConv2d, direct_depthwise, fast_fft_length
from lrsdetr.nn.modules import SMEModule


def conv_with_weights(channels, kernel, seed=0):
    torch.manual_seed(seed)
    conv = FFTDepthwiseConv2d(channels, kernel).eval()
    torch.nn.init.normal_(conv.weight, std=0.05)
    torch.nn.init.normal_(conv.bias, std=0.5)
    return conv


def direct(conv, x):
    return F.conv2d(x, conv.weight, conv.bias, padding=conv.padding, groups=conv.groups)


def count_transforms():
    """Patch the transform the FFT path starts with, counting its calls."""
    return mock.patch.object(torch.fft, "rfft2", wraps=torch.fft.rfft2)


@pytest.mark.parametrize("shape, kernel, layout", [
    ((2, 6, 80, 80), 31, torch.channels_last),  # B's map at 640 px, batched
    ((1, 4, 17, 12), 31, torch.contiguous_format),  # a map smaller than the kernel, rectangular, NCHW
    ((1, 3, 5, 9), 7, torch.channels_last),
])
def test_fft_path_equals_the_direct_convolution(shape, kernel, layout):
    conv = conv_with_weights(shape[1], kernel)
    x = torch.randn(shape).contiguous(memory_format=layout)
    with torch.no_grad(), count_transforms() as rfft2:
        got = conv(x)
        expected = direct(conv, x)
    assert rfft2.call_count == 2  # the map's transform and the kernel's (first call at this size)
    torch.testing.assert_close(got, expected, atol=2e-5, rtol=1e-5)
    assert got.is_contiguous(memory_format=layout)


def test_spectrum_is_kept_per_size_and_follows_the_weights():
    conv = conv_with_weights(4, 31)
    x, y = torch.randn(1, 4, 20, 20), torch.randn(1, 4, 24, 16)
    with torch.no_grad(), count_transforms() as rfft2:
        conv(x), conv(x)
        assert rfft2.call_count == 3  # the kernel's spectrum once for the two calls
        conv(y)
        assert rfft2.call_count == 5  # a new size: a new spectrum
        conv.weight.mul_(2)  # weights changed in place: the kept spectrum is stale
        torch.testing.assert_close(conv(y), direct(conv, y), atol=2e-5, rtol=1e-5)


def test_a_layer_made_under_inference_mode_runs_and_keeps_its_spectrum():
    """Ultralytics' predictor fuses inside inference_mode: the weights are inference tensors (no version counter)."""
    with torch.inference_mode():
        conv = conv_with_weights(4, 7)
        assert conv.weight.is_inference()
        x = torch.randn(1, 4, 12, 12)
        with count_transforms() as rfft2:
            first, second = conv(x), conv(x)
        assert rfft2.call_count == 3
        torch.testing.assert_close(second, direct(conv, x), atol=2e-5, rtol=1e-5)
        torch.testing.assert_close(first, second)


def test_copies_and_pickles_leave_the_spectrum_behind():
    conv = conv_with_weights(4, 7)
    x = torch.randn(1, 4, 12, 12)
    with torch.no_grad():
        expected = conv(x)
        assert hasattr(conv, "_spectrum")
        for twin in (copy.deepcopy(conv), pickle.loads(pickle.dumps(conv))):
            assert not hasattr(twin, "_spectrum")
            torch.testing.assert_close(twin(x), expected)
        buffer = io.BytesIO()
        torch.save(conv.state_dict(), buffer)
        assert set(torch.load(io.BytesIO(buffer.getvalue()))) == {"weight", "bias"}


def test_gradients_and_the_switch_take_the_direct_convolution():
    conv = conv_with_weights(4, 7)
    x = torch.randn(1, 4, 12, 12, requires_grad=True)
    with count_transforms() as rfft2:
        conv(x).square().sum().backward()
        with torch.no_grad(), direct_depthwise():
            conv(x)
        assert rfft2.call_count == 0
    gradient = x.grad.clone()
    x.grad = None
    direct(conv, x).square().sum().backward()
    torch.testing.assert_close(gradient, x.grad)
    assert fft_depthwise._by_fft  # the switch restored


def test_bf16_input_is_computed_in_fp32_and_returned_in_bf16():
    conv = conv_with_weights(4, 31)
    x = torch.randn(1, 4, 20, 20)
    with torch.no_grad():
        got = conv(x.bfloat16())
    assert got.dtype == torch.bfloat16
    torch.testing.assert_close(got.float(), direct(conv, x.bfloat16().float()), atol=0.05, rtol=0.02)


def test_an_exported_sme_holds_the_convolution_and_runs_as_pytorch_does():
    torch.manual_seed(0)
    sme = SMEModule(32, kernel=7).eval()
    sme.m.merge_depthwise()
    assert isinstance(sme.m.dw_merged, FFTDepthwiseConv2d)
    buffer = io.BytesIO()
    torch.onnx.export(sme, torch.randn(1, 32, 16, 16), buffer, dynamo=False, opset_version=17,
                      input_names=["x"], output_names=["y"], dynamic_axes={"x": {2: "h", 3: "w"}})
    ops = [node.op_type for node in onnx.load_from_string(buffer.getvalue()).graph.node]
    assert "DFT" not in ops and any(op == "Conv" for op in ops)
    x = torch.randn(1, 32, 20, 24)
    with torch.no_grad(), count_transforms() as rfft2:
        expected = sme(x).numpy()
    assert rfft2.call_count > 0  # PyTorch ran the FFT form
    got = ort.InferenceSession(buffer.getvalue(), providers=["CPUExecutionProvider"]).run(None, {"x": x.numpy()})[0]
    np.testing.assert_allclose(got, expected, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("n, fast", [(1, 1), (31, 32), (95, 96), (97, 100), (110, 120), (125, 125)])
def test_fast_fft_length(n, fast):
    assert fast_fft_length(n) == fast


def test_even_kernels_are_refused():
    with pytest.raises(ValueError, match="odd kernel"):
        FFTDepthwiseConv2d(4, 30)
