"""The Omni-Kernel's merged 31x31 depthwise convolution, computed by FFT on the CPU in inference.

oneDNN runs a 31x31 depthwise convolution far below the processor's peak: on B's 128 x 80 x 80 map at 640 px it
took 36 ms of B's 480 on two AVX2 cores, 47 GFLOP/s against 189 for a matrix product. A depthwise convolution is
a product per channel in the frequency domain: zero-pad the map to n >= side + kernel // 2 (so the circular wrap
only brings in padding), multiply its real FFT by the kernel's, transform back and crop. With n a fast FFT length
(96 for an 80-pixel side: 95, a multiple of 19, takes 2.5x as long) the same layer takes 5 ms and equals the direct
convolution within fp32 rounding (tests/test_fft_depthwise.py). The kernel's spectrum depends only on the weights
and n, so it is computed once per map size and kept.

Only where it pays and is safe: on the CPU, without gradients (training and Grad-CAM keep oneDNN's convolution, and
their weight gradients), never in an exported graph (ONNX has no FFT that runtimes run well). `direct_depthwise()`
turns it off meanwhile (FLOPs counts, the latency benchmark's before/after).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
import torch.nn as nn
import torch.nn.functional as F

from .graph_capture import capturing_graph

__all__ = ("FFTDepthwiseConv2d", "direct_depthwise")

_by_fft = True


def fast_fft_length(n: int) -> int:
    """The smallest length >= n with no prime factor above 5, which FFTs take fastest (scipy's next_fast_len, in
    Python so that torch.compile traces it)."""
    while True:
        rest = n
        for prime in (2, 3, 5):
            while rest % prime == 0:
                rest //= prime
        if rest == 1:
            return n
        n += 1


@contextlib.contextmanager
def direct_depthwise() -> Iterator[None]:
    """Run every FFTDepthwiseConv2d as oneDNN's direct convolution meanwhile."""
    global _by_fft
    previous, _by_fft = _by_fft, False
    try:
        yield
    finally:
        _by_fft = previous


class FFTDepthwiseConv2d(nn.Conv2d):
    """A 'same'-padded depthwise k x k convolution (k odd, stride 1) whose CPU inference runs by FFT.

    An nn.Conv2d in every other respect: the same parameters and state-dict keys, and the direct convolution on a
    GPU, with gradients and in exported graphs.
    """

    def __init__(self, channels: int, kernel: int):
        if kernel % 2 == 0:
            raise ValueError(f"FFTDepthwiseConv2d needs an odd kernel, got {kernel}")
        super().__init__(channels, channels, kernel, padding=kernel // 2, groups=channels)

    def __getstate__(self):
        """Pickled and deep-copied without the cached spectrum (it is rebuilt on the first call)."""
        state = self.__dict__.copy()
        state.pop("_spectrum", None)
        return state

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        needs_grad = torch.is_grad_enabled() and (x.requires_grad or self.weight.requires_grad)
        if not _by_fft or x.device.type != "cpu" or needs_grad or capturing_graph():
            return super().forward(x)
        layout = torch.channels_last if x.is_contiguous(memory_format=torch.channels_last) else torch.contiguous_format
        size = tuple(fast_fft_length(side + self.padding[0]) for side in x.shape[-2:])
        spectrum = torch.fft.rfft2(x.float().contiguous(), s=size) * self.kernel_spectrum(size)
        out = torch.fft.irfft2(spectrum, s=size)[..., : x.shape[-2], : x.shape[-1]]
        if self.bias is not None:
            out = out + self.bias.float().view(-1, 1, 1)
        return out.to(x.dtype).contiguous(memory_format=layout)

    def kernel_spectrum(self, size: tuple[int, int]) -> torch.Tensor:
        """rfft2 of the kernel flipped and centred on the origin of an n x n grid: the circular equivalent of the
        cross-correlation conv2d computes. Kept for the last size and weights (recomputed when either changes)."""
        # compiled: in the graph, every call (inductor's freezing does not fold FFTs: 2.7 ms at 640 px)
        if torch.compiler.is_compiling():
            return self.transformed_kernel(size)
        # A weight made under inference_mode (a model fused there, as Ultralytics' predictor does) has no version
        # counter; such a tensor can only change inside inference_mode, which nothing here does.
        version = None if self.weight.is_inference() else self.weight._version
        key = (size, self.weight.data_ptr(), version)
        cached = getattr(self, "_spectrum", None)
        if cached is None or cached[0] != key:
            self._spectrum = cached = (key, self.transformed_kernel(size))
        return cached[1]

    def transformed_kernel(self, size: tuple[int, int]) -> torch.Tensor:
        kernel = self.weight.detach().float()[:, 0].flip(-2, -1)
        half = self.padding[0]
        grid = F.pad(kernel, (0, size[1] - kernel.shape[-1], 0, size[0] - kernel.shape[-2]))
        return torch.fft.rfft2(torch.roll(grid, (-half, -half), (-2, -1)))
