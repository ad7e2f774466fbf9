"""Logical (output-level) distillation between two Ultralytics RTDETRDecoder heads.

The input to these losses is what `RTDETRDecoder.forward` returns in training mode (ultralytics 8.4.190), a tuple
`(dec_bboxes, dec_scores, enc_bboxes, enc_scores, dn_meta)`:

- dec_bboxes (L, B, D + K, 4): sigmoid boxes (cx, cy, w, h) of every decoder layer; the first D queries are the
  contrastive-denoising queries, the last K the matching (top-k) queries;
- dec_scores (L, B, D + K, nc): class logits for the same queries;
- enc_bboxes (B, K, 4), enc_scores (B, K, nc): the encoder's top-k boxes and logits (no denoising queries);
- dn_meta: None when there is no denoising (no ground truth, or `nd=0`), else a dict with "dn_pos_idx",
  "dn_gt_idx", "dn_num_group" and "dn_num_split" == [D, K].

Denoising queries reconstruct noised ground truth and have no counterpart in the other model, so they are dropped;
the teacher and student each use their own `dn_meta`. Queries are compared position by position: query i of the
student with query i of the teacher (both heads order their top-k queries by encoder confidence).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Sequence

import torch
import torch.nn.functional as F
from torch import nn
from ultralytics.utils.metrics import bbox_iou

DecoderTrainOutput = Sequence[Any]  # (dec_bboxes, dec_scores, enc_bboxes, enc_scores, dn_meta)

L1_GAIN, GIOU_GAIN = 5.0, 2.0  # the authors' gains on the box terms (RT-DETR's own L1 and GIoU gains)
# The paper's MLSSD level weights (encoder top-k, decoder layers 1..3). The authors' code applies them only when the
# batch holds 4 images (it compares the batch size, not the level count, with 4, and then weights images); with
# their batch of 8 every level weighed 1. `MLSSDLoss` therefore defaults to equal weights, what ran.
MLSSD_PAPER_LEVEL_WEIGHTS = (0.2, 0.5, 0.5, 1.0)


def matching_query_levels(out: DecoderTrainOutput) -> tuple[torch.Tensor, torch.Tensor]:
    """Boxes (levels, B, K, 4) and logits (levels, B, K, nc) of the matching queries, denoising queries dropped.

    Level 0 is the encoder's top-k selection, level i > 0 is decoder layer i.
    """
    if not isinstance(out, (tuple, list)) or len(out) != 5:
        raise ValueError(
            "expected RTDETRDecoder training-mode output (dec_bboxes, dec_scores, enc_bboxes, enc_scores, dn_meta); "
            "run the model in train() mode with the batch targets"
        )
    dec_bboxes, dec_scores, enc_bboxes, enc_scores, dn_meta = out
    num_dn, num_match = dn_meta["dn_num_split"] if dn_meta is not None else (0, dec_bboxes.shape[2])
    if dec_bboxes.shape[2] != num_dn + num_match or enc_bboxes.shape[1] != num_match:
        raise ValueError(
            f"dn_num_split {[num_dn, num_match]} does not fit decoder queries {dec_bboxes.shape[2]} "
            f"and encoder top-k {enc_bboxes.shape[1]}"
        )
    boxes = torch.cat([enc_bboxes.unsqueeze(0), dec_bboxes[:, :, num_dn:]])
    logits = torch.cat([enc_scores.unsqueeze(0), dec_scores[:, :, num_dn:]])
    return boxes, logits


def giou_confidence_weight(confidence: torch.Tensor) -> torch.Tensor:
    """MLSSD's GIoU weight p(s): s^2 below 0.5 (damps unsure teacher boxes), sqrt(s) from 0.5 (lifts sure ones)."""
    return torch.where(confidence < 0.5, confidence.square(), confidence.sqrt())


class QueryDistillationLoss(nn.Module, ABC):
    """The authors' per-query terms between student and teacher predictions, query i against query i: with the
    teacher's confidence s (its highest class probability), 5 * L1 * s + 2 * (1 - GIoU) * p(s) + BCE against the
    teacher's probabilities (every class), each summed over queries and divided by the number of ground-truth boxes
    in the batch. A batch without boxes gives 0 (the authors skip the loss there).

    Subclasses choose the levels compared and how levels and images add up.
    """

    @abstractmethod
    def select_levels(self, boxes: torch.Tensor, logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The levels (first dimension) this loss compares."""

    @abstractmethod
    def reduce(self, per_image: torch.Tensor) -> torch.Tensor:
        """One number from a term's (levels, B) sums over queries."""

    def forward(
        self, student_out: DecoderTrainOutput, teacher_out: DecoderTrainOutput, num_gts: int | torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Return the loss and its detached parts {"l1", "giou", "bce"} (gains, reduction and normalisation applied)."""
        s_boxes, s_logits = self.select_levels(*matching_query_levels(student_out))
        t_boxes, t_logits = self.select_levels(*matching_query_levels(teacher_out))
        if s_logits.shape != t_logits.shape:
            raise ValueError(
                f"student (levels, batch, queries, classes) {tuple(s_logits.shape)} does not match "
                f"teacher {tuple(t_logits.shape)}"
            )
        s_boxes, s_logits = s_boxes.float(), s_logits.float()
        t_boxes, t_logits = t_boxes.detach().float(), t_logits.detach().float()

        t_probs = t_logits.sigmoid()
        confidence = t_probs.amax(-1)  # (levels, B, K)
        l1 = L1_GAIN * (s_boxes - t_boxes).abs().sum(-1) * confidence
        giou = GIOU_GAIN * (1.0 - bbox_iou(s_boxes, t_boxes, xywh=True, GIoU=True).squeeze(-1)) * giou_confidence_weight(confidence)
        bce = F.binary_cross_entropy_with_logits(s_logits, t_probs, reduction="none").sum(-1)

        per_box = 1.0 / float(num_gts) if float(num_gts) > 0 else 0.0
        parts = {name: self.reduce(term.sum(-1)) * per_box for name, term in (("l1", l1), ("giou", giou), ("bce", bce))}
        loss = sum(parts.values())
        return loss, {name: value.detach() for name, value in parts.items()}


class MLSSDLoss(QueryDistillationLoss):
    """Multi-level supervised self-distillation (LRS-DETR): every level (encoder top-k and each decoder layer) is
    distilled; the sum over levels of the mean over the batch's images, as the authors' code ran. `level_weights`
    (one per level, e.g. `MLSSD_PAPER_LEVEL_WEIGHTS`) weighs the levels as the paper describes instead.
    """

    def __init__(self, level_weights: Sequence[float] | None = None):
        super().__init__()
        self.level_weights = tuple(level_weights) if level_weights else None

    def select_levels(self, boxes: torch.Tensor, logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return boxes, logits

    def reduce(self, per_image: torch.Tensor) -> torch.Tensor:
        per_level = per_image.mean(1)
        if self.level_weights is None:
            return per_level.sum()
        if len(self.level_weights) != len(per_level):
            raise ValueError(f"{len(self.level_weights)} MLSSD level weights for {len(per_level)} levels "
                             "(the encoder's top-k and each decoder layer)")
        return (per_level * per_level.new_tensor(self.level_weights)).sum()


class PlainLogicalLoss(QueryDistillationLoss):
    """The seed's `logical_loss_type='logical'`: the same confidence-weighted terms on the last decoder layer only,
    summed over the batch's images (not averaged, as the authors' code does)."""

    def select_levels(self, boxes: torch.Tensor, logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return boxes[-1:], logits[-1:]

    def reduce(self, per_image: torch.Tensor) -> torch.Tensor:
        return per_image.sum()
