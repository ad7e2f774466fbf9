"""Feature distillation between the teacher's and the student's neck outputs (one feature map per level).

As the authors' code does, each student map is first brought to the teacher's channel count (by a learnable 1x1
adapter, where the counts differ), then both maps are standardised per channel over the batch (a BatchNorm without
affine parameters, always on the batch's statistics) before a level loss compares them.
"""

from __future__ import annotations

from typing import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn


class LevelFeatureLoss(nn.Module):
    """A distillation loss between one student and one teacher feature map, both (N, C, H, W)."""


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
        keep = torch.rand(n, 1, h, w, device=student.device) <= 1 - self.mask_ratio  # masks about mask_ratio
        generated = self.generation(student * keep)
        return self.alpha * F.mse_loss(generated, teacher, reduction="sum") / n


class FeatureMimic(LevelFeatureLoss):
    """Mimicking (Romero et al., FitNets 2015; Li et al., CVPR 2017): mean squared error between the maps."""

    def forward(self, student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(student, teacher)


def _row_normalised_gram(x: torch.Tensor, p: float = 2.0) -> torch.Tensor:
    """x (..., R, D) -> its (..., R, R) Gram matrix x x^T with each row divided by its L-p norm."""
    return F.normalize(x @ x.transpose(-1, -2), p=p, dim=-1)


class ChannelSimilarity(LevelFeatureLoss):
    """Inter-channel correlation (ICKD, Liu et al., ICCV 2021), as the authors normalise it: per image the C x C Gram
    matrix of the channels' flattened maps, rows L2-normalised; the squared difference summed, divided by C * N^3."""

    def forward(self, student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
        n, c = student.shape[:2]
        difference = _row_normalised_gram(student.flatten(2)) - _row_normalised_gram(teacher.flatten(2))
        return difference.square().sum() / (c * n**3)


class SimilarityPreserving(LevelFeatureLoss):
    """SP (Tung & Mori, ICCV 2019): samples that the teacher finds similar should be similar for the student;
    ||G_s - G_t||_F^2 / N between the row-normalised N x N Gram matrices of the flattened samples.

    The paper divides each Gram row by its L2 norm; the authors' code calls F.normalize(gram, 1), whose second
    positional parameter is p, so it ran with L1 rows. `row_norm_p` 1 is what ran, 2 the paper's."""

    def __init__(self, row_norm_p: float = 1.0):
        super().__init__()
        self.row_norm_p = row_norm_p

    def forward(self, student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
        p = self.row_norm_p
        difference = _row_normalised_gram(student.flatten(1), p) - _row_normalised_gram(teacher.flatten(1), p)
        return difference.square().sum() / student.shape[0]


FEATURE_LOSS_TYPES: dict[str, Callable[[int], LevelFeatureLoss]] = {
    "cwd": lambda channels: ChannelWiseDistillation(),
    "mgd": MaskedGenerativeDistillation,
    "mimic": lambda channels: FeatureMimic(),
    "chsim": lambda channels: ChannelSimilarity(),
    "sp": lambda channels: SimilarityPreserving(),
    "sp_l2": lambda channels: SimilarityPreserving(row_norm_p=2.0),
}
"""Each feature loss by its option name (the seed's, and `sp_l2`: SP with the paper's L2 rows), built from the
teacher's channel count at one level."""


def batch_standardised(x: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Each channel to zero mean and unit variance over the batch and positions (BatchNorm2d(affine=False) in train
    mode, which the authors' feature losses always ran in: their norms sat in a plain list, out of eval())."""
    return F.batch_norm(x, None, None, training=True, eps=eps)


class FeatureKDLoss(nn.Module):
    """Sum over levels of one feature-distillation loss, with learnable 1x1 conv adapters (student -> teacher
    channels) where the channel counts differ, both maps batch-standardised first. Its parameters (adapters, MGD's
    generation blocks) belong in the student's optimizer."""

    def __init__(self, student_channels: Sequence[int], teacher_channels: Sequence[int], loss_type: str):
        super().__init__()
        if loss_type not in FEATURE_LOSS_TYPES:
            raise ValueError(f"unknown feature_loss_type {loss_type!r}; valid: {', '.join(FEATURE_LOSS_TYPES)}")
        if len(student_channels) != len(teacher_channels):
            raise ValueError(f"{len(student_channels)} student levels but {len(teacher_channels)} teacher levels")
        self.level_losses = nn.ModuleList(FEATURE_LOSS_TYPES[loss_type](c) for c in teacher_channels)
        self.adapters = nn.ModuleList(
            nn.Conv2d(cs, ct, 1) if cs != ct else nn.Identity() for cs, ct in zip(student_channels, teacher_channels)
        )

    def forward(self, student_feats: Sequence[torch.Tensor], teacher_feats: Sequence[torch.Tensor]) -> torch.Tensor:
        """Student and teacher maps level by level; teacher maps are detached."""
        if not len(student_feats) == len(teacher_feats) == len(self.level_losses):
            raise ValueError(
                f"expected {len(self.level_losses)} levels, got {len(student_feats)} student "
                f"and {len(teacher_feats)} teacher feature maps"
            )
        return sum(
            loss(batch_standardised(adapter(s).float()), batch_standardised(t.detach().float()))
            for loss, adapter, s, t in zip(self.level_losses, self.adapters, student_feats, teacher_feats)
        )
