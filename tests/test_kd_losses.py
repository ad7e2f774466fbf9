"""Distillation losses: MLSSD / plain logical, feature losses, the decay schedule and build_kd_loss."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from lrsdetr.compress.kd_feature import FEATURE_LOSS_TYPES, FeatureKDLoss
from lrsdetr.compress.kd_logical import MLSSDLoss, PlainLogicalLoss, giou_confidence_weight, matching_query_levels
from lrsdetr.compress.kd_losses import MLSSD_PAPER_LEVEL_WEIGHTS, build_kd_loss
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


# The authors' formulas, worked out element by element in plain Python (no code of the package): per query, with the
# teacher's confidence c (its highest class probability), 5 * c * L1 + 2 * p(c) * (1 - GIoU) + BCE over classes.


def hand_giou(a, b):
    """GIoU of two (cx, cy, w, h) boxes."""
    ax1, ay1, ax2, ay2 = a[0] - a[2] / 2, a[1] - a[3] / 2, a[0] + a[2] / 2, a[1] + a[3] / 2
    bx1, by1, bx2, by2 = b[0] - b[2] / 2, b[1] - b[3] / 2, b[0] + b[2] / 2, b[1] + b[3] / 2
    inter = max(0.0, min(ax2, bx2) - max(ax1, bx1)) * max(0.0, min(ay2, by2) - max(ay1, by1))
    union = a[2] * a[3] + b[2] * b[3] - inter
    hull = (max(ax2, bx2) - min(ax1, bx1)) * (max(ay2, by2) - min(ay1, by1))
    return inter / union - (hull - union) / hull


def hand_query_terms(s_box, s_logit, t_box, t_logit):
    """(5 c L1, 2 p(c) (1 - GIoU), BCE) of one query pair, from Python lists."""
    sigmoid = lambda x: 1 / (1 + math.exp(-x))
    probs = [sigmoid(x) for x in t_logit]
    c = max(probs)
    l1 = 5 * c * sum(abs(u - v) for u, v in zip(s_box, t_box))
    giou = 2 * (c**2 if c < 0.5 else math.sqrt(c)) * (1 - hand_giou(s_box, t_box))
    bce = -sum(p * math.log(sigmoid(x)) + (1 - p) * math.log(1 - sigmoid(x)) for x, p in zip(s_logit, probs))
    return l1, giou, bce


def hand_level_image_sums(student_levels, teacher_levels):
    """{level: {image: the three terms summed over queries}} from (boxes, logits) level tensors."""
    (s_boxes, s_logits), (t_boxes, t_logits) = student_levels, teacher_levels
    sums = {}
    for level in range(s_boxes.shape[0]):
        for image in range(s_boxes.shape[1]):
            terms = [hand_query_terms(s_boxes[level, image, q].tolist(), s_logits[level, image, q].tolist(),
                                      t_boxes[level, image, q].tolist(), t_logits[level, image, q].tolist())
                     for q in range(s_boxes.shape[2])]
            sums.setdefault(level, {})[image] = [sum(t[i] for t in terms) for i in range(3)]
    return sums


@pytest.fixture
def random_pair():
    """Student and teacher training outputs: 4 levels, 2 images, 3 queries, 2 classes, denoising queries in front."""
    student, teacher = random_levels(bs=2, nq=3, nc=2, seed=4), random_levels(bs=2, nq=3, nc=2, seed=5)
    torch.manual_seed(0)
    return student, teacher, decoder_output(*student, num_dn=4), decoder_output(*teacher, num_dn=2)


def test_mlssd_equals_the_authors_formula(random_pair):
    """As their code ran with batch 8: every level, each term over the number of boxes, mean over images, sum over
    levels."""
    student, teacher, student_out, teacher_out = random_pair
    sums, num_gts, images = hand_level_image_sums(student, teacher), 5, 2
    expected = [sum(sums[level][image][i] for level in sums for image in range(images)) / num_gts / images for i in range(3)]
    total, parts = build_kd_loss("logical", "mlssd", "cwd", 1.0, 1.0)(student_out, teacher_out, None, None, num_gts)
    assert [parts["logical_l1"].item(), parts["logical_giou"].item(), parts["logical_bce"].item()] == pytest.approx(expected, rel=1e-4)
    assert total.item() == pytest.approx(sum(expected), rel=1e-4)


def test_mlssd_with_the_papers_level_weights(random_pair):
    student, teacher, student_out, teacher_out = random_pair
    sums, weights = hand_level_image_sums(student, teacher), (0.2, 0.5, 0.5, 1.0)
    expected = sum(weights[level] * sum(sums[level][image]) for level in sums for image in range(2)) / 5 / 2
    loss = build_kd_loss("logical", "mlssd", "cwd", 1.0, 1.0, mlssd_level_weights=MLSSD_PAPER_LEVEL_WEIGHTS)
    assert loss(student_out, teacher_out, None, None, 5)[0].item() == pytest.approx(expected, rel=1e-4)
    with pytest.raises(ValueError, match="3 MLSSD level weights for 4 levels"):
        MLSSDLoss((1.0, 1.0, 1.0))(student_out, teacher_out, 5)


def test_plain_logical_equals_the_authors_formula(random_pair):
    """Their plain logical loss: the last decoder layer only, summed over images (no mean)."""
    student, teacher, student_out, teacher_out = random_pair
    last = hand_level_image_sums(student, teacher)[3]
    expected = sum(sum(last[image]) for image in range(2)) / 5
    total, _ = build_kd_loss("logical", "logical", "cwd", 1.0, 1.0)(student_out, teacher_out, None, None, 5)
    assert total.item() == pytest.approx(expected, rel=1e-4)


def test_a_batch_without_boxes_gives_no_logical_loss(random_pair):
    _, _, student_out, teacher_out = random_pair
    assert MLSSDLoss()(student_out, teacher_out, 0)[0].item() == 0.0


@pytest.mark.parametrize("confidence, expected_weight", [(0.3, 0.09), (0.5, math.sqrt(0.5)), (0.81, 0.9)])
def test_giou_weight_on_both_sides_of_one_half(confidence, expected_weight):
    assert giou_confidence_weight(torch.tensor(confidence)).item() == pytest.approx(expected_weight, rel=1e-5)
    student, teacher = one_query_pair(confidence)  # 4 levels, 1 image, 1 query
    _, parts = MLSSDLoss()(student, teacher, num_gts=2)
    assert parts["giou"].item() == pytest.approx(4 * 2 * (1 - 1 / 3) * expected_weight / 2, rel=1e-5)
    assert parts["l1"].item() == pytest.approx(4 * 5 * 0.1 * confidence / 2, rel=1e-5)


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
    loss = FeatureKDLoss([3, 6], CHANNELS, loss_type)  # level 0 goes through an adapter
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


# The authors' feature losses worked out with NumPy: both maps standardised per channel over the batch (BatchNorm
# without affine parameters, batch statistics, eps 1e-5), then the loss, summed over levels.


def standardised(x: np.ndarray) -> np.ndarray:
    mean = x.mean(axis=(0, 2, 3), keepdims=True)
    return (x - mean) / np.sqrt(x.var(axis=(0, 2, 3), keepdims=True) + 1e-5)


def log_softmax(x: np.ndarray) -> np.ndarray:
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def row_normalised_gram(rows: np.ndarray) -> np.ndarray:
    gram = rows @ rows.T
    return gram / np.linalg.norm(gram, axis=1, keepdims=True)


def hand_cwd(s, t):
    n, c = s.shape[:2]
    log_p_s, log_p_t = log_softmax(s.reshape(n * c, -1)), log_softmax(t.reshape(n * c, -1))
    return (np.exp(log_p_t) * (log_p_t - log_p_s)).sum() / (c * n)


def hand_mimic(s, t):
    return ((s - t) ** 2).mean()


def hand_chsim(s, t):
    n, c = s.shape[:2]
    return sum(((row_normalised_gram(s[i].reshape(c, -1)) - row_normalised_gram(t[i].reshape(c, -1))) ** 2).sum()
               for i in range(n)) / (c * n**3)


def hand_sp(s, t):
    """The authors' expression, literally: F.normalize's second positional parameter is p, so their Gram rows are
    divided by their L1 norm."""
    def matmul_and_normalize(z):
        z = torch.flatten(torch.from_numpy(z), 1)
        return F.normalize(torch.matmul(z, torch.t(z)), 1)

    return (torch.norm(matmul_and_normalize(t) - matmul_and_normalize(s)) ** 2).item() / s.shape[0]


def hand_sp_l2(s, t):
    """The SP paper's row normalisation (L2), on the same / N scale."""
    n = s.shape[0]
    return ((row_normalised_gram(s.reshape(n, -1)) - row_normalised_gram(t.reshape(n, -1))) ** 2).sum() / n


HAND_FEATURE_LOSSES = {"cwd": hand_cwd, "mimic": hand_mimic, "chsim": hand_chsim, "sp": hand_sp, "sp_l2": hand_sp_l2}


@pytest.mark.parametrize("loss_type", list(HAND_FEATURE_LOSSES))
def test_feature_loss_equals_the_authors_formula(loss_type):
    """Two levels; the first with fewer student channels, through the loss's 1x1 adapter (applied here by hand)."""
    student, teacher = feature_maps([2, 3], seed=6, size=(2, 3)), feature_maps([3, 3], seed=7, size=(2, 3))
    loss = build_kd_loss("feature", "mlssd", loss_type, 1.0, 1.0, [2, 3], [3, 3])
    adapter = loss.feature.adapters[0]
    weight, bias = adapter.weight.detach().numpy()[:, :, 0, 0], adapter.bias.detach().numpy()
    adapted = np.einsum("oc,nchw->nohw", weight, student[0].numpy()) + bias[None, :, None, None]
    expected = sum(HAND_FEATURE_LOSSES[loss_type](standardised(s), standardised(t.numpy()))
                   for s, t in ((adapted, teacher[0]), (student[1].numpy(), teacher[1])))
    total, parts = loss(None, None, student, teacher, 3)
    assert total.item() == pytest.approx(float(expected), rel=1e-4) and parts["feature"].item() == pytest.approx(total.item())


def test_sp_rows_l1_normalised_not_l2():
    """`sp` is what the authors ran, not the paper's L2 rows: on the same maps the two must differ."""
    student, teacher = feature_maps([3], seed=6), feature_maps([3], seed=7)
    maps = [standardised(student[0].numpy()), standardised(teacher[0].numpy())]
    sp = FeatureKDLoss([3], [3], "sp")(student, teacher).item()
    assert abs(sp - hand_sp_l2(*maps)) > 0.1 * sp


def test_mgd_equals_the_authors_formula():
    """MGD: a random share lambda = 0.65 of the positions masked (the authors' draw: a position stays where
    rand <= 1 - lambda), the teacher regenerated by conv3x3-ReLU-conv3x3, alpha * squared error summed / N."""
    student, teacher = feature_maps([3], seed=8, size=(4, 4)), feature_maps([3], seed=9, size=(4, 4))
    loss = build_kd_loss("feature", "mlssd", "mgd", 1.0, 1.0, [3], [3])
    torch.manual_seed(0)
    actual = loss(None, None, student, teacher, 3)[0].item()
    torch.manual_seed(0)
    keep = (torch.rand(2, 1, 4, 4) <= 0.35).float()
    first, _, second = loss.feature.level_losses[0].generation
    s = torch.from_numpy(standardised(student[0].numpy())).float()
    generated = F.conv2d(F.conv2d(s * keep, first.weight, first.bias, padding=1).clamp(min=0), second.weight, second.bias, padding=1)
    expected = 2e-5 * ((generated.detach().numpy() - standardised(teacher[0].numpy())) ** 2).sum() / 2
    assert 0 < keep.mean() < 1 and actual == pytest.approx(float(expected), rel=1e-4)


def test_adapters_only_where_channels_differ():
    loss = FeatureKDLoss([4, 8, 16], [4, 12, 16], "cwd")
    assert [type(a) for a in loss.adapters] == [nn.Identity, nn.Conv2d, nn.Identity]
    adapter = loss.adapters[1]
    assert (adapter.in_channels, adapter.out_channels, adapter.kernel_size) == (8, 12, (1, 1))
    assert len(list(FeatureKDLoss([4, 8], [4, 8], "mimic").parameters())) == 0
    assert all(isinstance(a, nn.Conv2d) for a in FeatureKDLoss([4, 8], [6, 12], "sp").adapters)  # as the authors'
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
