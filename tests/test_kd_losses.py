"""Distillation losses: MLSSD / plain logical, feature losses, the decay schedule and build_kd_loss."""

from __future__ import annotations

import copy
import math

import pytest
import torch
from torch import nn

from lrsdetr.compress.kd_feature import FEATURE_LOSS_TYPES, FeatureKDLoss
from lrsdetr.compress.kd_logical import MLSSDLoss, PlainLogicalLoss, giou_confidence_weight, matching_query_levels
from lrsdetr.compress.kd_losses import build_kd_loss
from lrsdetr.compress.kd_schedule import KD_LOSS_DECAYS, kd_weight

# ---------------------------------------------------------------- hand-built decoder outputs


def decoder_output(boxes, logits, num_dn=0, dn_boxes=None, dn_logits=None):
    """An RTDETRDecoder training output from per-level matching boxes (levels, B, K, 4) and logits; level 0 is the
    encoder top-k, the rest decoder layers. Denoising queries (random unless given) are put in front."""
    levels, bs, _, nc = logits.shape
    dn_boxes = torch.rand(levels - 1, bs, num_dn, 4) if dn_boxes is None else dn_boxes
    dn_logits = torch.randn(levels - 1, bs, num_dn, nc) if dn_logits is None else dn_logits
    dn_meta = {"dn_num_split": [num_dn, boxes.shape[2]]} if num_dn else None
    return (
        torch.cat([dn_boxes, boxes[1:]], 2),
        torch.cat([dn_logits, logits[1:]], 2),
        boxes[0],
        logits[0],
        dn_meta,
    )


def random_levels(levels=4, bs=2, nq=5, nc=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    centre = torch.rand(levels, bs, nq, 2, generator=g) * 0.6 + 0.2
    size = torch.rand(levels, bs, nq, 2, generator=g) * 0.2 + 0.05
    return torch.cat([centre, size], -1), torch.randn(levels, bs, nq, nc, generator=g)


BOX_S = torch.tensor([0.5, 0.5, 0.2, 0.2])
BOX_T = torch.tensor([0.6, 0.5, 0.2, 0.2])  # IoU 1/3, enclosing box = union, so GIoU = 1/3


def one_query_pair(teacher_confidence: float, levels: int = 4):
    """Student box BOX_S with logit 0, teacher box BOX_T with confidence s, same at every level, 1 image, 1 query."""
    s_boxes = BOX_S.expand(levels, 1, 1, 4).clone()
    t_boxes = BOX_T.expand(levels, 1, 1, 4).clone()
    s_logits = torch.zeros(levels, 1, 1, 1)
    t_logits = torch.full((levels, 1, 1, 1), math.log(teacher_confidence / (1 - teacher_confidence)))
    return decoder_output(s_boxes, s_logits), decoder_output(t_boxes, t_logits)


def test_mlssd_hand_computed_value():
    student, teacher = one_query_pair(0.75)
    loss, parts = MLSSDLoss()(student, teacher, num_gts=2)
    level_sum, num_gts = 0.2 + 0.5 + 0.5 + 1.0, 2
    l1 = 0.1 * 0.75  # |0.5 - 0.6| times s
    bce = -(0.75 * math.log(0.5) + 0.25 * math.log(0.5))  # sigmoid(0) = 0.5 against target 0.75
    giou = (1 - 1 / 3) * math.sqrt(0.75)  # p(s) = sqrt(s) for s >= 0.5
    assert parts["l1"].item() == pytest.approx(l1 * level_sum / num_gts, rel=1e-5)
    assert parts["bce"].item() == pytest.approx(bce * level_sum / num_gts, rel=1e-5)
    assert parts["giou"].item() == pytest.approx(giou * level_sum / num_gts, rel=1e-5)
    assert loss.item() == pytest.approx(sum(p.item() for p in parts.values()), rel=1e-6)


@pytest.mark.parametrize("confidence, expected_weight", [(0.3, 0.09), (0.5, math.sqrt(0.5)), (0.81, 0.9)])
def test_giou_weight_on_both_sides_of_one_half(confidence, expected_weight):
    assert giou_confidence_weight(torch.tensor(confidence)).item() == pytest.approx(expected_weight, rel=1e-5)
    student, teacher = one_query_pair(confidence, levels=2)  # 2 levels: mean over levels
    _, parts = MLSSDLoss()(student, teacher, num_gts=1)
    assert parts["giou"].item() == pytest.approx((1 - 1 / 3) * expected_weight, rel=1e-5)
    assert parts["l1"].item() == pytest.approx(0.1 * confidence, rel=1e-5)


def test_mlssd_level_weights():
    s_boxes, s_logits = random_levels()
    s_logits = s_logits[:1].repeat(4, 1, 1, 1)  # the same teacher confidences at every level
    t_boxes, t_logits = s_boxes.clone(), s_logits.clone()
    loss = MLSSDLoss()

    def l1_with_difference_at(level):
        shifted = t_boxes.clone()
        shifted[level, ..., 0] += 0.05
        return loss(decoder_output(s_boxes, s_logits), decoder_output(shifted, t_logits), 1)[1]["l1"].item()

    first, last = l1_with_difference_at(0), l1_with_difference_at(3)
    assert first > 0 and last / first == pytest.approx(1.0 / 0.2, rel=1e-4)
    assert l1_with_difference_at(1) / first == pytest.approx(0.5 / 0.2, rel=1e-4)


def test_equal_outputs_give_the_minimum():
    boxes, logits = random_levels()
    student_boxes, student_logits = boxes.clone().requires_grad_(), logits.clone().requires_grad_()
    for loss_fn in (MLSSDLoss(), PlainLogicalLoss()):
        loss, parts = loss_fn(decoder_output(student_boxes, student_logits), decoder_output(boxes, logits), 3)
        assert parts["l1"].item() == 0.0
        assert parts["giou"].item() == pytest.approx(0.0, abs=1e-4)  # bbox_iou's eps leaves ~1e-5 per box
        assert parts["bce"].item() > 0  # the teacher's entropy: BCE's minimum over the student logits
        (grad,) = torch.autograd.grad(loss, student_logits)
        assert grad.abs().max().item() < 1e-6


@pytest.mark.parametrize("loss_fn", [MLSSDLoss(), PlainLogicalLoss()], ids=["mlssd", "logical"])
def test_logical_sgd_step_reduces_loss(loss_fn):
    s_boxes, s_logits = random_levels(seed=1)
    t_boxes, t_logits = random_levels(seed=2)
    teacher = decoder_output(t_boxes, t_logits)
    s_boxes.requires_grad_(), s_logits.requires_grad_()
    before, parts = loss_fn(decoder_output(s_boxes, s_logits), teacher, 4)
    assert before.item() > 0 and all(p.item() > 0 for p in parts.values())
    before.backward()
    with torch.no_grad():
        s_boxes -= 1e-3 * s_boxes.grad
        s_logits -= 1e-2 * s_logits.grad
    after, _ = loss_fn(decoder_output(s_boxes, s_logits), teacher, 4)
    assert after.item() < before.item()


def test_plain_logical_uses_last_level_without_confidence():
    student, teacher = one_query_pair(0.2)
    _, parts = PlainLogicalLoss()(student, teacher, num_gts=1)
    assert parts["l1"].item() == pytest.approx(0.1, rel=1e-5)  # not weighted by s, one level
    assert parts["giou"].item() == pytest.approx(2 / 3, rel=1e-5)
    s_boxes, s_logits = random_levels()
    t_boxes, t_logits = random_levels(seed=3)
    t_boxes[-1], t_logits[-1] = s_boxes[-1], s_logits[-1]  # only the earlier levels differ
    _, parts = PlainLogicalLoss()(decoder_output(s_boxes, s_logits), decoder_output(t_boxes, t_logits), 1)
    assert parts["l1"].item() == 0.0


def test_denoising_queries_are_dropped():
    s_boxes, s_logits = random_levels(seed=1)
    t_boxes, t_logits = random_levels(seed=2)
    without_dn = MLSSDLoss()(decoder_output(s_boxes, s_logits), decoder_output(t_boxes, t_logits), 2)[0]
    torch.manual_seed(0)
    for student_dn, teacher_dn in [(6, 6), (6, 4), (0, 8)]:  # the two models' dn counts may differ
        student = decoder_output(s_boxes, s_logits, num_dn=student_dn)
        teacher = decoder_output(t_boxes, t_logits, num_dn=teacher_dn)
        assert MLSSDLoss()(student, teacher, 2)[0].item() == pytest.approx(without_dn.item(), rel=1e-6)
    boxes, logits = matching_query_levels(decoder_output(s_boxes, s_logits, num_dn=6))
    assert torch.equal(boxes, s_boxes) and torch.equal(logits, s_logits)


def test_logical_rejects_mismatched_or_inference_outputs():
    s_boxes, s_logits = random_levels(nq=5)
    t_boxes, t_logits = random_levels(nq=4)
    with pytest.raises(ValueError, match="does not match"):
        MLSSDLoss()(decoder_output(s_boxes, s_logits), decoder_output(t_boxes, t_logits), 1)
    with pytest.raises(ValueError, match="training-mode"):
        MLSSDLoss()((s_boxes, decoder_output(s_boxes, s_logits)), decoder_output(s_boxes, s_logits), 1)


# ---------------------------------------------------------------- feature losses

CHANNELS = [4, 6]


def feature_maps(channels=CHANNELS, seed=0, n=2, size=(4, 5)):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(n, c, *size, generator=g) for c in channels]


@pytest.mark.parametrize("loss_type", [t for t in FEATURE_LOSS_TYPES if t != "mgd"])
def test_feature_loss_zero_when_equal_positive_otherwise(loss_type):
    loss = FeatureKDLoss(CHANNELS, CHANNELS, loss_type)
    teacher = feature_maps()
    assert loss(teacher, teacher).item() == pytest.approx(0.0, abs=1e-6)
    assert loss(feature_maps(seed=1), teacher).item() > 0


@pytest.mark.parametrize("loss_type", list(FEATURE_LOSS_TYPES))
def test_feature_sgd_step_reduces_loss(loss_type):
    torch.manual_seed(0)
    loss = FeatureKDLoss([3, 6], CHANNELS, loss_type)  # level 0 goes through an adapter (except for sp)
    teacher = feature_maps()
    student = [f.requires_grad_() for f in feature_maps([3, 6], seed=1)]
    torch.manual_seed(1)  # same MGD mask before and after the step
    before = loss(student, teacher)
    assert before.item() > 0
    before.backward()
    with torch.no_grad():
        for f in student:
            f -= 10.0 * f.grad
    torch.manual_seed(1)
    assert loss(student, teacher).item() < before.item()


def test_cwd_hand_computed_value():
    student = [torch.tensor([[[[0.0, 0.0]], [[1.0, 2.0]]]])]  # N=1, C=2, H=1, W=2
    teacher = [torch.tensor([[[[0.0, math.log(3.0)]], [[1.0, 2.0]]]])]  # channel 0: p = (0.25, 0.75) vs (0.5, 0.5)
    kl = 0.25 * math.log(0.25 / 0.5) + 0.75 * math.log(0.75 / 0.5)
    assert FeatureKDLoss([2], [2], "cwd")(student, teacher).item() == pytest.approx(kl / 2, rel=1e-5)


def test_adapters_only_where_channels_differ():
    loss = FeatureKDLoss([4, 8, 16], [4, 12, 16], "cwd")
    assert [type(a) for a in loss.adapters] == [nn.Identity, nn.Conv2d, nn.Identity]
    adapter = loss.adapters[1]
    assert (adapter.in_channels, adapter.out_channels, adapter.kernel_size) == (8, 12, (1, 1))
    assert len(list(FeatureKDLoss([4, 8], [4, 8], "mimic").parameters())) == 0
    assert all(isinstance(a, nn.Identity) for a in FeatureKDLoss([4, 8], [6, 12], "sp").adapters)  # N x N Gram
    mgd = FeatureKDLoss([4, 8], [4, 12], "mgd")
    assert len(mgd.level_losses[1].generation) == 3 and mgd.level_losses[1].generation[0].in_channels == 12
    loss([torch.randn(1, c, 3, 3) for c in (4, 8, 16)], [torch.randn(1, c, 3, 3) for c in (4, 12, 16)]).backward()
    assert loss.adapters[1].weight.grad is not None


def test_feature_loss_detaches_teacher_and_checks_levels():
    loss = FeatureKDLoss(CHANNELS, CHANNELS, "mimic")
    teacher = [f.requires_grad_() for f in feature_maps()]
    student = [f.requires_grad_() for f in feature_maps(seed=1)]
    loss(student, teacher).backward()
    assert all(f.grad is None for f in teacher) and all(f.grad is not None for f in student)
    with pytest.raises(ValueError, match="levels"):
        loss(student[:1], teacher[:1])
    with pytest.raises(ValueError, match="cwd, mgd, mimic, chsim, sp"):
        FeatureKDLoss(CHANNELS, CHANNELS, "kl")


# ---------------------------------------------------------------- schedule


@pytest.mark.parametrize("kind", KD_LOSS_DECAYS)
@pytest.mark.parametrize("kd_loss_epoch", [1.0, 0.5])
def test_kd_weight_monotone_and_bounded(kind, kd_loss_epoch):
    epochs, steps_per_epoch = 10, 7
    total = epochs * steps_per_epoch
    weights = [kd_weight(kind, step, total, step // steps_per_epoch, epochs, kd_loss_epoch) for step in range(total)]
    assert weights[0] == 1.0
    assert all(0.0 <= w <= 1.0 for w in weights)
    assert all(a >= b for a, b in zip(weights, weights[1:]))
    cut = int(kd_loss_epoch * epochs) * steps_per_epoch
    assert all(w == 0.0 for w in weights[cut:])
    if kind != "constant":
        assert weights[cut - 1] < 0.5


def test_kd_weight_rejects_unknown_options():
    with pytest.raises(ValueError, match="constant, cosine, linear, cosine_epoch, linear_epoch"):
        kd_weight("exp", 0, 10, 0, 1)
    with pytest.raises(ValueError, match="kd_loss_epoch"):
        kd_weight("linear", 0, 10, 0, 1, kd_loss_epoch=0.0)


# ---------------------------------------------------------------- build_kd_loss


def test_build_kd_loss_combines_with_ratios():
    s_boxes, s_logits = random_levels(seed=1)
    t_boxes, t_logits = random_levels(seed=2)
    outs = decoder_output(s_boxes, s_logits), decoder_output(t_boxes, t_logits)
    feats = feature_maps([3, 6], seed=1), feature_maps()
    logical = build_kd_loss("logical", "mlssd", "cwd", 0.5, 0.1)
    feature = build_kd_loss("feature", "mlssd", "cwd", 0.5, 0.1, [3, 6], CHANNELS)
    both = build_kd_loss("all", "mlssd", "cwd", 0.5, 0.1, [3, 6], CHANNELS)
    both.feature.load_state_dict(feature.feature.state_dict())

    logical_total, logical_parts = logical(*outs, None, None, 4)
    feature_total, _ = feature(None, None, *feats, 4)
    total, parts = both(*outs, *feats, 4)
    assert logical_total.item() == pytest.approx(0.5 * MLSSDLoss()(*outs, 4)[0].item(), rel=1e-6)
    assert feature_total.item() == pytest.approx(0.1 * feature.feature(*feats).item(), rel=1e-6)
    assert total.item() == pytest.approx(logical_total.item() + feature_total.item(), rel=1e-6)
    assert set(parts) == {"logical", "feature", "logical_l1", "logical_giou", "logical_bce"}
    assert parts["logical"].item() + parts["feature"].item() == pytest.approx(total.item(), rel=1e-6)
    assert logical.feature is None and feature.logical is None
    assert isinstance(build_kd_loss("logical", "logical", "sp", 1.0, 1.0).logical, PlainLogicalLoss)


@pytest.mark.parametrize(
    "options, valid",
    [
        (("features", "mlssd", "cwd"), "logical, feature, all"),
        (("all", "mlsd", "cwd"), "mlssd, logical"),
        (("all", "mlssd", "cws"), "cwd, mgd, mimic, chsim, sp"),
    ],
)
def test_build_kd_loss_rejects_unknown_options(options, valid):
    with pytest.raises(ValueError, match=valid):
        build_kd_loss(*options, 1.0, 1.0, CHANNELS, CHANNELS)


def test_build_kd_loss_feature_needs_channels():
    with pytest.raises(ValueError, match="channels"):
        build_kd_loss("feature", "mlssd", "cwd", 1.0, 1.0)


# ---------------------------------------------------------------- a real Ultralytics RT-DETR

TINY_RTDETR_YAML = """
nc: 3
backbone:
  - [-1, 1, Conv, [8, 3, 2]]   # 0  /2
  - [-1, 1, Conv, [16, 3, 2]]  # 1  /4
  - [-1, 1, Conv, [16, 3, 2]]  # 2  /8  (distilled, decoder input)
  - [-1, 1, Conv, [16, 3, 2]]  # 3  /16 (distilled, decoder input)
head:
  - [[2, 3], 1, RTDETRDecoder, [nc, 32, 10, 2, 2, 2, 64, 0.0, null, -1, 12]]  # hd 32, 10 queries, 2 layers, 12 dn
"""


def test_mlssd_on_real_rtdetr_training_outputs(tmp_path):
    from ultralytics.nn.tasks import RTDETRDetectionModel

    cfg = tmp_path / "tiny-rtdetr.yaml"
    cfg.write_text(TINY_RTDETR_YAML)
    torch.manual_seed(0)
    student = RTDETRDetectionModel(str(cfg), ch=3, nc=3, verbose=False).train()
    teacher = copy.deepcopy(student)
    with torch.no_grad():
        for p in teacher.parameters():
            p.add_(0.05 * torch.randn_like(p))

    batch = {  # as Ultralytics' data loader gives it
        "img": torch.rand(2, 3, 64, 64),
        "batch_idx": torch.tensor([0.0, 0.0, 1.0]),
        "cls": torch.tensor([[0.0], [2.0], [1.0]]),
        "bboxes": torch.tensor([[0.3, 0.3, 0.2, 0.2], [0.6, 0.5, 0.1, 0.3], [0.5, 0.5, 0.4, 0.4]]),
    }
    targets = {  # as RTDETRDetectionModel.loss hands them to the decoder
        "cls": batch["cls"].long().view(-1),
        "bboxes": batch["bboxes"],
        "batch_idx": batch["batch_idx"].long(),
        "gt_groups": [int((batch["batch_idx"] == i).sum()) for i in range(2)],
    }
    features: dict[nn.Module, list[torch.Tensor]] = {student: [], teacher: []}
    for model in features:
        for i in (2, 3):
            model.model[i].register_forward_hook(lambda m, args, out, store=features[model]: store.append(out))
    student_out = student.predict(batch["img"], batch=targets)
    teacher_out = teacher.predict(batch["img"], batch=targets)

    dec_bboxes, dec_scores, enc_bboxes, enc_scores, dn_meta = student_out
    num_dn, num_queries = dn_meta["dn_num_split"]
    assert dec_bboxes.shape == (2, 2, num_dn + num_queries, 4) and dec_scores.shape == (2, 2, num_dn + num_queries, 3)
    assert enc_bboxes.shape == (2, num_queries, 4) and enc_scores.shape == (2, num_queries, 3)
    assert num_dn == 2 * 12  # nd=12: a positive and a negative query per denoised box and group
    assert set(dn_meta) == {"dn_pos_idx", "dn_gt_idx", "dn_num_group", "dn_num_split"}

    kd = build_kd_loss("all", "mlssd", "cwd", 1.0, 1.0, [16, 16], [16, 16])
    loss, parts = kd(student_out, teacher_out, features[student], features[teacher], len(batch["bboxes"]))
    assert torch.isfinite(loss) and loss.item() > 0 and parts["logical"].item() > 0 and parts["feature"].item() > 0
    loss.backward()
    student_grads = [p.grad for p in student.parameters() if p.grad is not None]
    assert student_grads and any(g.abs().sum() > 0 for g in student_grads)
    assert student.model[-1].dec_score_head[0].weight.grad is not None
    assert student.model[0].conv.weight.grad is not None  # reaches the backbone
    assert all(p.grad is None for p in teacher.parameters())
