"""The distillation loss of LRS-DETR-T, built from the seed's options (`kd_loss_type`, `logical_loss_type`,
`feature_loss_type` and their ratios): logical (MLSSD) and/or feature distillation, each times its ratio."""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from .kd_feature import FEATURE_LOSS_TYPES, FeatureKDLoss
from .kd_logical import MLSSD_PAPER_LEVEL_WEIGHTS, DecoderTrainOutput, MLSSDLoss, PlainLogicalLoss, QueryDistillationLoss

__all__ = ("build_kd_loss", "KDLoss", "MLSSD_PAPER_LEVEL_WEIGHTS", "KD_LOSS_TYPES", "LOGICAL_LOSS_TYPES", "FEATURE_LOSS_TYPES")

KD_LOSS_TYPES = ("logical", "feature", "all")
LOGICAL_LOSS_TYPES: dict[str, type[QueryDistillationLoss]] = {"mlssd": MLSSDLoss, "logical": PlainLogicalLoss}


def _check_option(option: str, value: str, valid: Sequence[str]) -> None:
    if value not in valid:
        raise ValueError(f"unknown {option} {value!r}; valid: {', '.join(valid)}")


class KDLoss(nn.Module):
    """Ratio-weighted sum of a logical and/or a feature distillation loss. The feature part holds learnable
    parameters (adapters, MGD generators) that the trainer must add to the student's optimizer."""

    def __init__(
        self,
        logical: QueryDistillationLoss | None,
        feature: FeatureKDLoss | None,
        logical_loss_ratio: float,
        feature_loss_ratio: float,
    ):
        super().__init__()
        self.logical = logical
        self.feature = feature
        self.logical_loss_ratio = logical_loss_ratio
        self.feature_loss_ratio = feature_loss_ratio

    def forward(
        self,
        student_out: DecoderTrainOutput | None,
        teacher_out: DecoderTrainOutput | None,
        student_feats: Sequence[torch.Tensor] | None,
        teacher_feats: Sequence[torch.Tensor] | None,
        num_gts: int | torch.Tensor,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Return the total and its detached parts: "logical" and "feature" (ratios applied, they sum to the total)
        and the logical loss's own terms "logical_l1", "logical_giou", "logical_bce" (before the ratio).
        Inputs of a kind this loss does not use may be None."""
        total, parts = 0.0, {}
        if self.logical is not None:
            logical, terms = self.logical(student_out, teacher_out, num_gts)
            logical = logical * self.logical_loss_ratio
            total = total + logical
            parts["logical"] = logical.detach()
            parts.update({f"logical_{name}": value for name, value in terms.items()})
        if self.feature is not None:
            feature = self.feature(student_feats, teacher_feats) * self.feature_loss_ratio
            total = total + feature
            parts["feature"] = feature.detach()
        return total, parts


def build_kd_loss(
    kd_loss_type: str,
    logical_loss_type: str,
    feature_loss_type: str,
    logical_loss_ratio: float,
    feature_loss_ratio: float,
    student_channels: Sequence[int] | None = None,
    teacher_channels: Sequence[int] | None = None,
    mlssd_level_weights: Sequence[float] | None = None,
) -> KDLoss:
    """The distillation loss for the seed's options. All option names are checked, used or not, so that a typo
    fails at start-up; the channel lists (of the distilled neck levels) are needed for feature distillation only.
    `mlssd_level_weights`: None for equal levels (what the authors' code ran), or one weight per level, e.g.
    `MLSSD_PAPER_LEVEL_WEIGHTS` (the paper's 0.2, 0.5, 0.5, 1.0)."""
    _check_option("kd_loss_type", kd_loss_type, KD_LOSS_TYPES)
    _check_option("logical_loss_type", logical_loss_type, tuple(LOGICAL_LOSS_TYPES))
    _check_option("feature_loss_type", feature_loss_type, tuple(FEATURE_LOSS_TYPES))
    logical = None
    if kd_loss_type in ("logical", "all"):
        logical = MLSSDLoss(mlssd_level_weights) if logical_loss_type == "mlssd" else PlainLogicalLoss()
    feature = None
    if kd_loss_type in ("feature", "all"):
        if student_channels is None or teacher_channels is None:
            raise ValueError("feature distillation needs student_channels and teacher_channels")
        feature = FeatureKDLoss(student_channels, teacher_channels, feature_loss_type)
    return KDLoss(logical, feature, logical_loss_ratio, feature_loss_ratio)
