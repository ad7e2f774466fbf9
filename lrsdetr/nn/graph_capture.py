"""Whether a graph is being captured for export, so that layers with a CPU-only fast path write their plain form."""

from __future__ import annotations

import torch

__all__ = ("capturing_graph",)


def capturing_graph() -> bool:
    """True while ONNX export, TorchScript tracing or scripting, or torch.export records the model."""
    return (torch.onnx.is_in_onnx_export() or torch.jit.is_tracing() or torch.jit.is_scripting()
            or torch.compiler.is_exporting())
