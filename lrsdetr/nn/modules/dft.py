"""|ifft2(a * fft2(x))|, by FFT in PyTorch and by real matrix products in exported graphs.

ONNX has no FFT that ONNX Runtime or TensorRT run well (the authors' model fails to export on
`aten::fft_fft2`). For the feature maps we meet (at most ~160 a side) a DFT as two small matmuls per
axis is exact and exportable with dynamic shapes: the cos/sin matrices are built from the input's own
shape, so a traced graph stays valid for every input size. Eager PyTorch keeps the FFT: it is faster,
and FLOPs counters (which do not count FFTs) then read the same as for the authors' model.
"""

from __future__ import annotations

import math

import torch

from ..graph_capture import capturing_graph

__all__ = ("dft_basis", "modulated_spectrum_magnitude", "modulated_spectrum_magnitude_fft", "modulated_spectrum_magnitude_matmul")


def dft_basis(n: int | torch.Tensor, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """cos and sin of 2*pi*j*k/n over sqrt(n): the real and (negated) imaginary parts of the unitary n-point DFT.

    Unitary scaling keeps every intermediate of the matmul form at the input's magnitude (an unscaled 80x80
    spectrum can exceed fp16's range). All arithmetic is in float, on a size taken from the arange itself,
    so traced graphs keep `n` dynamic and never divide integers (Core ML refuses that).
    """
    idx = torch.arange(n, device=like.device).float()  # cast, not dtype=: Core ML ignores an arange dtype
    size = idx[-1:] + 1  # n as a float tensor
    # j*k can reach n^2: reduce before the trig to keep float32 accurate
    angle = torch.remainder(idx[:, None] * idx[None, :], size) * (2 * math.pi / size)
    scale = size.rsqrt()
    return (angle.cos() * scale).to(like.dtype), (angle.sin() * scale).to(like.dtype)


def modulated_spectrum_magnitude_matmul(modulator: torch.Tensor, signal: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """|ifft2(modulator * fft2(signal))| over the last two axes, for real inputs of shape (..., H, W).

    With F = C - iS the unitary DFT matrix (C, S symmetric), fft2(x) = sqrt(HW) F_H x F_W and
    ifft2(Y) = conj(F_H) Y conj(F_W) / sqrt(HW): the two sqrt(HW) cancel. `eps` keeps the square root's
    gradient finite where the magnitude is exactly zero.
    """
    h, w = signal.shape[-2:]
    cos_h, sin_h = dft_basis(h, signal)
    cos_w, sin_w = dft_basis(w, signal)
    # forward transform: (C_H - iS_H) x (C_W - iS_W)
    x_cw, x_sw = signal @ cos_w, signal @ sin_w
    spec_re = cos_h @ x_cw - sin_h @ x_sw
    spec_im = -(sin_h @ x_cw + cos_h @ x_sw)
    re, im = modulator * spec_re, modulator * spec_im
    # inverse transform: (C_H + iS_H) (re + i im) (C_W + iS_W)
    row_re = cos_h @ re - sin_h @ im
    row_im = sin_h @ re + cos_h @ im
    out_re = row_re @ cos_w - row_im @ sin_w
    out_im = row_re @ sin_w + row_im @ cos_w
    return torch.sqrt((out_re.square() + out_im.square()).clamp_min(eps))


def modulated_spectrum_magnitude_fft(modulator: torch.Tensor, signal: torch.Tensor) -> torch.Tensor:
    """The same quantity with torch.fft (computed in float32: cuFFT/pocketfft half support is patchy)."""
    spectrum = torch.fft.fft2(signal.float())
    return torch.fft.ifft2(modulator.float() * spectrum).abs().to(signal.dtype)


def modulated_spectrum_magnitude(modulator: torch.Tensor, signal: torch.Tensor) -> torch.Tensor:
    """|ifft2(modulator * fft2(signal))| over the last two axes: matmul form when exporting, FFT otherwise."""
    if capturing_graph():
        return modulated_spectrum_magnitude_matmul(modulator, signal)
    return modulated_spectrum_magnitude_fft(modulator, signal)
