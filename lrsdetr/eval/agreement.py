"""How far two runs' detections agree, order-free: an export against PyTorch, a compiled model against eager."""

from __future__ import annotations

import numpy as np


def matched_rows(candidate: np.ndarray, reference: np.ndarray, atol: float) -> float:
    """Share of `candidate`'s detection rows that have a `reference` row within `atol` on every value.

    Order-free, because top-k may order near-equal scores differently in two runtimes.
    """
    distance = np.abs(candidate[:, None, :] - reference[None, :, :]).max(-1)
    return float((distance.min(1) <= atol).mean())
