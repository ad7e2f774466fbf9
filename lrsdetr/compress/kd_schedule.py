"""Decay of the distillation weight over training (the seed's `kd_loss_decay` and `kd_loss_epoch`).

The teacher's guidance matters most early, while the pruned student recovers; later the student should be free to
fit the ground truth on its own, so the weight starts at 1.0 and decays.

`kd_loss_epoch` is the fraction of the epochs over which distillation applies: from epoch
`kd_loss_epoch * epochs` on, the weight is 0. The decaying kinds reach 0 at the end of that window:
- constant: 1.0 throughout the window;
- cosine / linear: cosine (0.5 * (1 + cos(pi * t))) or linear (1 - t) decay in the training step,
  t = step / (kd_loss_epoch * total_steps);
- cosine_epoch / linear_epoch: the same in the epoch, t = epoch / (kd_loss_epoch * epochs), so the weight is
  constant within an epoch.
"""

from __future__ import annotations

import math

KD_LOSS_DECAYS = ("constant", "cosine", "linear", "cosine_epoch", "linear_epoch")


def kd_weight(kind: str, step: int, total_steps: int, epoch: int, epochs: int, kd_loss_epoch: float = 1.0) -> float:
    """Weight in [0, 1] of the distillation loss at optimizer step `step` of `total_steps` (whole run) and
    0-based epoch `epoch` of `epochs`; non-increasing as training goes on."""
    if kind not in KD_LOSS_DECAYS:
        raise ValueError(f"unknown kd_loss_decay {kind!r}; valid: {', '.join(KD_LOSS_DECAYS)}")
    if not 0.0 < kd_loss_epoch <= 1.0:
        raise ValueError(f"kd_loss_epoch must be in (0, 1], got {kd_loss_epoch}")
    if epoch >= kd_loss_epoch * epochs:
        return 0.0
    if kind == "constant":
        return 1.0
    if kind.endswith("_epoch"):
        progress = epoch / (kd_loss_epoch * epochs)
    else:
        progress = step / (kd_loss_epoch * max(total_steps, 1))
    progress = min(max(progress, 0.0), 1.0)
    if kind.startswith("cosine"):
        return 0.5 * (1.0 + math.cos(math.pi * progress))
    return 1.0 - progress
