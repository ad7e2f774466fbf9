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

MLSSD_LEVEL_WEIGHTS = (0.2, 0.5, 0.5, 1.0)  # encoder top-k, then decoder layers 1..3


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
    """Per-query L1 + GIoU + soft-label BCE between student and teacher predictions, summed over queries and divided
    by the number of ground-truth boxes (at least 1), as Ultralytics' RT-DETR loss normalises its own terms.

    Subclasses choose the levels compared and whether the teacher's confidence weights the box terms.
    """

    confidence_weighted: bool

    @abstractmethod
    def select_levels(self, boxes: torch.Tensor, logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The levels (first dimension) this loss compares."""

    @abstractmethod
    def level_weights(self, num_levels: int) -> torch.Tensor:
        """Weight of each selected level in the sum."""

    def forward(
        self, student_out: DecoderTrainOutput, teacher_out: DecoderTrainOutput, num_gts: int | torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Return the loss and its detached parts {"l1", "giou", "bce"} (level-weighted and normalised)."""
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
        l1 = (s_boxes - t_boxes).abs().sum(-1)  # (levels, B, K)
        giou = 1.0 - bbox_iou(s_boxes, t_boxes, xywh=True, GIoU=True).squeeze(-1)
        if self.confidence_weighted:
            confidence = t_probs.amax(-1)
            l1 = l1 * confidence
            giou = giou * giou_confidence_weight(confidence)
        bce = F.binary_cross_entropy_with_logits(s_logits, t_probs, reduction="none").sum(-1)

        weights = self.level_weights(len(s_boxes)).to(s_boxes.device) / max(float(num_gts), 1.0)
        terms = {"l1": l1, "giou": giou, "bce": bce}  # each (levels, B, K)
        parts = {name: (term.flatten(1).sum(1) * weights).sum() for name, term in terms.items()}
        loss = sum(parts.values())
        return loss, {name: value.detach() for name, value in parts.items()}


class MLSSDLoss(QueryDistillationLoss):
    """Multi-level supervised self-distillation (LRS-DETR): every level (encoder top-k and each decoder layer) is
    distilled, weighted 0.2, 0.5, 0.5, 1.0 for the usual 4 levels (the mean over levels for any other count); the
    teacher's confidence s = max class probability weights L1 by s and GIoU by p(s), so unsure teacher queries
    teach less.
    """

    confidence_weighted = True

    def __init__(self, level_weights: Sequence[float] = MLSSD_LEVEL_WEIGHTS):
        super().__init__()
        self.weights = tuple(level_weights)

    def select_levels(self, boxes: torch.Tensor, logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return boxes, logits

    def level_weights(self, num_levels: int) -> torch.Tensor:
        if num_levels == len(self.weights):
            return torch.tensor(self.weights)
        return torch.full((num_levels,), 1.0 / num_levels)


class PlainLogicalLoss(QueryDistillationLoss):
    """The seed's `logical_loss_type='logical'`: the same three terms on the last decoder layer only, every query
    weighted equally (no teacher-confidence weighting)."""

    confidence_weighted = False

    def select_levels(self, boxes: torch.Tensor, logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return boxes[-1:], logits[-1:]

    def level_weights(self, num_levels: int) -> torch.Tensor:
        return torch.ones(num_levels)
