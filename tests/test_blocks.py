"""Every block we register goes through the same checks: shapes (rectangular too), train/eval, backward, ONNX."""

import io

import numpy as np
import onnxruntime as ort
import pytest
import torch

from lrsdetr.nn.build import custom_blocks
from lrsdetr.nn.modules import OmniKernel
from lrsdetr.nn.modules.dft import modulated_spectrum_magnitude_fft, modulated_spectrum_magnitude_matmul

# Small instances of each registered block: (constructor args, input channels, output channels, stride).
SMALL = {
    "DEFBlock": ((64, 64, 2), 64, 64, 1),
    "DPRA": ((64, 128, 4), 64, 64, 1),
    "SMEModule": ((64,), 64, 64, 1),
    "SPDConv": ((16, 32), 16, 32, 2),
    "ResNetStem": ((3, 32), 3, 32, 4),
    "BasicStage": ((16, 32, 2, 2), 16, 32, 2),
    "BottleneckStage": ((16, 64, 2, 2), 16, 64, 2),
}
# Feature-map sizes a stride-8..32 layer meets for inputs whose sides are multiples of 32 (square, rectangular, tiny).
MAP_SIZES = [(8, 8), (15, 20), (21, 21), (2, 3), (1, 1)]


def test_every_registered_block_is_swept():
    assert set(SMALL) == set(custom_blocks())


def make(name):
    torch.manual_seed(0)
    args, c_in, c_out, stride = SMALL[name]
    return custom_blocks()[name](*args), c_in, c_out, stride


@pytest.mark.parametrize("name", sorted(SMALL))
@pytest.mark.parametrize("hw", MAP_SIZES)
def test_shapes_train_and_eval(name, hw):
    block, c_in, c_out, stride = make(name)
    x = torch.randn(2, c_in, hw[0] * stride, hw[1] * stride)
    block.train()
    y = block(x)
    assert y.shape == (2, c_out, *hw)
    y.square().mean().backward()
    grads = [p.grad for p in block.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    block.eval()
    with torch.no_grad():
        assert torch.isfinite(block(x)).all()


@pytest.mark.parametrize("name", sorted(SMALL))
def test_onnx_export_dynamic(name):
    """Each block exports with dynamic H/W and runs in ONNX Runtime at two sizes, as PyTorch computes it."""
    block, c_in, _, _ = make(name)
    block.eval()
    buffer = io.BytesIO()
    torch.onnx.export(
        block, torch.randn(1, c_in, 16, 16), buffer, dynamo=False, opset_version=17,
        input_names=["x"], output_names=["y"], dynamic_axes={"x": {2: "h", 3: "w"}, "y": {2: "h", 3: "w"}},
    )
    session = ort.InferenceSession(buffer.getvalue(), providers=["CPUExecutionProvider"])
    ops = {node.op_type for node in __import__("onnx").load_from_string(buffer.getvalue()).graph.node}
    assert not ops & {"DFT", "STFT"}, f"{name} graph holds an FFT op"
    for h, w in [(16, 16), (24, 40)]:
        x = torch.randn(1, c_in, h, w)
        with torch.no_grad():
            expected = block(x).numpy()
        got = session.run(None, {"x": x.numpy()})[0]
        np.testing.assert_allclose(got, expected, atol=1e-4, rtol=1e-4)


def test_fft_and_matmul_spectra_agree():
    """FGM's exported (matmul) and eager (FFT) forms compute the same magnitude."""
    torch.manual_seed(0)
    for h, w in [(8, 8), (15, 20), (40, 40)]:
        a, x = torch.randn(2, 4, h, w), torch.randn(2, 4, h, w)
        reference = torch.fft.ifft2(a * torch.fft.fft2(x)).abs()
        torch.testing.assert_close(modulated_spectrum_magnitude_fft(a, x), reference)
        torch.testing.assert_close(modulated_spectrum_magnitude_matmul(a, x), reference, atol=2e-5, rtol=1e-4)


def test_omni_kernel_depthwise_merge_is_exact():
    torch.manual_seed(0)
    okm = OmniKernel(8, kernel=7).eval()
    for p in okm.parameters():
        torch.nn.init.normal_(p, std=0.2)
    x = torch.randn(1, 8, 12, 20)
    with torch.no_grad():
        before = okm(x)
        okm.merge_depthwise()
        after = okm(x)
    assert hasattr(okm, "dw_merged") and not hasattr(okm, "dw_kxk")
    torch.testing.assert_close(after, before, atol=1e-5, rtol=1e-5)
