"""Feature distillation between the teacher's and the student's neck outputs (one feature map per level).

Each level loss takes a student map already brought to the teacher's channel count (by a learnable 1x1 adapter,
when the counts differ and the loss compares channels one to one) and the teacher map of the same spatial size.
"""

from __future__ import annotations

from typing import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn


class LevelFeatureLoss(nn.Module):
    """A distillation loss between one student and one teacher feature map, both (N, C, H, W)."""

    needs_matching_channels = True  # False where the loss is defined for any pair of channel counts


class ChannelWiseDistillation(LevelFeatureLoss):
    """CWD (Shu et al., ICCV 2021): each channel as a distribution over spatial positions (softmax at temperature
    tau), KL(teacher || student), times tau^2, divided by N * C. Makes the student attend where the teacher does."""

    def __init__(self, tau: float = 1.0):
        super().__init__()
        self.tau = tau

    def forward(self, student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
        n, c = student.shape[:2]
        log_p_student = F.log_softmax(student.flatten(2) / self.tau, dim=-1)
        log_p_teacher = F.log_softmax(teacher.flatten(2) / self.tau, dim=-1)
        kl = F.kl_div(log_p_student, log_p_teacher, reduction="sum", log_target=True)
        return kl * self.tau**2 / (n * c)


class MaskedGenerativeDistillation(LevelFeatureLoss):
    """MGD (Yang et al., ECCV 2022): mask random spatial positions of the student map, regenerate the teacher's full
    map from the rest with a conv3x3-ReLU-conv3x3 block, and penalise the squared error (summed, divided by N).
    Defaults are the paper's detection settings: alpha 2e-5, mask ratio 0.65."""

    def __init__(self, channels: int, alpha: float = 2e-5, mask_ratio: float = 0.65):
        super().__init__()
        self.alpha = alpha
        self.mask_ratio = mask_ratio
        self.generation = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, 3, padding=1),
        )

    def forward(self, student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
        n, _, h, w = student.shape
        keep = torch.rand(n, 1, h, w, device=student.device) >= self.mask_ratio
        generated = self.generation(student * keep)
        return self.alpha * F.mse_loss(generated, teacher, reduction="sum") / n


class FeatureMimic(LevelFeatureLoss):
    """Mimicking (Romero et al., FitNets 2015; Li et al., CVPR 2017): mean squared error between the maps."""

    def forward(self, student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(student, teacher)


def _channel_similarity(x: torch.Tensor) -> torch.Tensor:
    """(N, C, C) cosine similarity between the channels' flattened spatial maps."""
    channels = F.normalize(x.flatten(2), dim=2)
    return channels @ channels.transpose(1, 2)


class ChannelSimilarity(LevelFeatureLoss):
    """Channel-similarity distillation: mean squared error between the student's and teacher's channel-by-channel
    cosine-similarity (Gram) matrices, so the student keeps the teacher's inter-channel correlations."""

    def forward(self, student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(_channel_similarity(student), _channel_similarity(teacher))


def _batch_similarity(x: torch.Tensor) -> torch.Tensor:
    """(N, N) Gram matrix of the flattened samples, each row L2-normalised."""
    samples = x.flatten(1)
    return F.normalize(samples @ samples.T, dim=1)


class SimilarityPreserving(LevelFeatureLoss):
    """SP (Tung & Mori, ICCV 2019): samples that the teacher finds similar should be similar for the student;
    ||G_s - G_t||_F^2 / N^2 between the row-normalised batch Gram matrices. Works for any channel counts."""

    needs_matching_channels = False

    def forward(self, student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(_batch_similarity(student), _batch_similarity(teacher))


FEATURE_LOSS_TYPES: dict[str, Callable[[int], LevelFeatureLoss]] = {
    "cwd": lambda channels: ChannelWiseDistillation(),
    "mgd": MaskedGenerativeDistillation,
    "mimic": lambda channels: FeatureMimic(),
    "chsim": lambda channels: ChannelSimilarity(),
    "sp": lambda channels: SimilarityPreserving(),
}
"""Each feature loss by its seed option name, built from the teacher's channel count at one level."""


class FeatureKDLoss(nn.Module):
    """Sum over levels of one feature-distillation loss, with learnable 1x1 conv adapters (student -> teacher
    channels) where the channel counts differ. Its parameters (adapters, MGD's generation blocks) belong in the
    student's optimizer."""

    def __init__(self, student_channels: Sequence[int], teacher_channels: Sequence[int], loss_type: str):
        super().__init__()
        if loss_type not in FEATURE_LOSS_TYPES:
            raise ValueError(f"unknown feature_loss_type {loss_type!r}; valid: {', '.join(FEATURE_LOSS_TYPES)}")
        if len(student_channels) != len(teacher_channels):
            raise ValueError(f"{len(student_channels)} student levels but {len(teacher_channels)} teacher levels")
        self.level_losses = nn.ModuleList(FEATURE_LOSS_TYPES[loss_type](c) for c in teacher_channels)
        self.adapters = nn.ModuleList(
            nn.Conv2d(cs, ct, 1) if cs != ct and loss.needs_matching_channels else nn.Identity()
            for cs, ct, loss in zip(student_channels, teacher_channels, self.level_losses)
        )

    def forward(self, student_feats: Sequence[torch.Tensor], teacher_feats: Sequence[torch.Tensor]) -> torch.Tensor:
        """Student and teacher maps level by level; teacher maps are detached."""
        if not len(student_feats) == len(teacher_feats) == len(self.level_losses):
            raise ValueError(
                f"expected {len(self.level_losses)} levels, got {len(student_feats)} student "
                f"and {len(teacher_feats)} teacher feature maps"
            )
        return sum(
            loss(adapter(s).float(), t.detach().float())
            for loss, adapter, s, t in zip(self.level_losses, self.adapters, student_feats, teacher_feats)
        )
