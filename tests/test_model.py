"""LRS-DETR-B as a whole: the paper's size, any input shape, and Ultralytics' models beside it."""

import pytest
import torch
from ultralytics.utils.torch_utils import get_flops

import lrsdetr
from lrsdetr import RTDETR, build_model
from lrsdetr.nn.modules import DEFBlock, DPRA, SMEModule, SPDConv

PAPER_PARAMS = 15_607_330  # the authors' model, nc=10, after fuse (counts 2,560 of an FGM conv never called)
COUNTER_GFLOPS = 67.84  # the authors' model by Ultralytics 8.4's get_flops at 640


@pytest.fixture(scope="module")
def fused_b():
    return build_model("lrs-detr-b.yaml", nc=10).eval().fuse(verbose=False)


def test_size_matches_the_paper(fused_b):
    params = sum(p.numel() for p in fused_b.parameters())
    assert abs(params - PAPER_PARAMS) / PAPER_PARAMS < 0.005, params
    gflops = get_flops(fused_b, 640)
    assert abs(gflops - COUNTER_GFLOPS) / COUNTER_GFLOPS < 0.01, gflops


def test_layer_table():
    """The blocks sit where ARCHITECTURE.md's layer table puts them."""
    model = build_model("lrs-detr-b.yaml", nc=10)
    kinds = {i: type(m) for i, m in enumerate(model.model)}
    assert kinds[6] is DEFBlock and kinds[8] is DEFBlock and len(model.model[8].m) == 3
    assert kinds[10] is DPRA and kinds[18] is SPDConv and kinds[20] is SMEModule
    assert [model.model[i].cv2.conv.out_channels if hasattr(model.model[i], "cv2") else None for i in (21, 24, 27)] == [128, 128, 128]
    decoder = model.model[28]
    assert decoder.num_queries == 300 and len(decoder.decoder.layers) == 3 and decoder.nc == 10


@pytest.mark.parametrize("shape", [(1, 3, 96, 160)] + [pytest.param(s, marks=pytest.mark.slow) for s in [(1, 3, 480, 640), (1, 3, 672, 672), (2, 3, 320, 320)]])
def test_forward_any_shape(shape):
    """The authors' model crashes on the first three (their DPRA needs square maps, a multiple of the window).
    Fast runs take the small rectangle only."""
    model = build_model("lrs-detr-b.yaml", nc=10)
    x = torch.rand(shape)
    model.eval()
    with torch.no_grad():
        y, (boxes, scores, *_) = model(x)
    assert y.shape[0] == shape[0] and y.shape[-1] == 6 and torch.isfinite(y).all()
    assert boxes.shape[-2:] == (300, 4) and scores.shape[-2:] == (300, 10)
    model.train()
    feats = model(x)  # training mode without a batch: decoder outputs (boxes, scores, enc boxes, enc scores, dn meta)
    assert torch.isfinite(feats[0]).all()


def neck_outputs(model, x):
    """Outputs of the three layers the decoder reads (21, 24, 27): deterministic, unlike the top-k rows."""
    taps = {}
    hooks = [model.model[i].register_forward_hook(lambda m, inp, out, i=i: taps.__setitem__(i, out)) for i in (21, 24, 27)]
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    return taps


def test_fused_model_computes_the_same():
    model = build_model("lrs-detr-b.yaml", nc=10).eval()
    x = torch.rand(1, 3, 256, 256)
    before = neck_outputs(model, x)
    after = neck_outputs(model.fuse(verbose=False), x)
    assert model.is_fused()
    for i in before:
        torch.testing.assert_close(after[i], before[i], atol=1e-4, rtol=1e-4)


@pytest.mark.slow  # fuse itself is checked fast by test_fused_model_computes_the_same
def test_fused_model_runs_channels_last_with_its_own_in_place_activations():
    """fuse() lays the model out for inference; an unfused model in the same process keeps the shared activation."""
    from ultralytics.nn.modules import Conv

    from copy import deepcopy

    unfused = build_model("lrs-detr-b.yaml", nc=10).eval()
    fused = deepcopy(unfused).fuse(verbose=False)
    assert all(p.is_contiguous(memory_format=torch.channels_last) for p in fused.parameters() if p.dim() == 4)
    in_place = [m.act for m in fused.modules() if isinstance(m, Conv) and isinstance(m.act, torch.nn.SiLU)]
    assert in_place and all(act.inplace for act in in_place) and len({id(act) for act in in_place}) == len(in_place)
    assert not any(m.act.inplace for m in unfused.modules() if isinstance(m, Conv) and isinstance(m.act, torch.nn.SiLU))
    x = torch.rand(1, 3, 192, 256)  # NCHW in, as callers pass it
    with torch.no_grad():
        torch.testing.assert_close(neck_outputs(fused, x)[21], neck_outputs(unfused, x)[21], atol=1e-4, rtol=1e-4)


def test_bare_config_name_resolves_to_the_packaged_yaml():
    model = RTDETR("lrs-detr-b.yaml")
    assert isinstance(model.model.model[10], DPRA)
    assert RTDETR("lrs-detr-b").model.yaml["yaml_file"].endswith("lrs-detr-b.yaml")


def test_ultralytics_rtdetr_is_ours_after_import():
    from ultralytics import RTDETR as FromUltralytics

    assert FromUltralytics is lrsdetr.RTDETR


@pytest.mark.parametrize(("cfg", "shape"), [("rtdetr-l.yaml", (1, 300, 6)), ("yolov8n.yaml", (1, 84, 16**2 + 8**2 + 4**2))])
def test_stock_models_still_work(cfg, shape):
    """RT-DETR: 300 rows of box, score, class; YOLO: box and 80 class scores for each cell of strides 8, 16, 32."""
    from ultralytics import YOLO

    wrapper = RTDETR(cfg) if cfg.startswith("rtdetr") else YOLO(cfg)
    model = wrapper.model.eval()
    with torch.no_grad():
        y = model(torch.rand(1, 3, 128, 128))[0]
    assert y.shape == shape and torch.isfinite(y).all()
    scores = y[0, :, 4] if cfg.startswith("rtdetr") else y[0, 4:]
    assert 0 <= scores.min() and scores.max() <= 1  # sigmoid class scores


def test_rtdetr_r18_baseline_size():
    """The paper's baseline: 19.9M parameters and 57.0 GFLOPs for nc=10 (Ultralytics 8.4's counter gives 2% more)."""
    model = build_model("rtdetr-r18.yaml", nc=10).eval().fuse(verbose=False)
    params = sum(p.numel() for p in model.parameters())
    assert abs(params - 19.9e6) / 19.9e6 < 0.03, params
    gflops = get_flops(model, 640)
    print(f"rtdetr-r18 nc=10 @640: {params / 1e6:.2f}M params, {gflops:.1f} GFLOPs (Ultralytics 8.4 counter)")
    assert abs(gflops - 57.0) / 57.0 < 0.03, gflops


def test_profile_prints_every_layer_but_the_head():
    """The authors' README calls `model.profile(imgsz=[640, 640])`; ours logs one row per layer, rectangular too."""
    import logging

    from ultralytics.utils import LOGGER

    class Rows(logging.Handler):
        def __init__(self):
            super().__init__()
            self.lines = []

        def emit(self, record):
            self.lines.append(record.getMessage())

    model, rows = RTDETR("lrs-detr-b.yaml"), Rows()
    model.model.eval()
    LOGGER.addHandler(rows)
    try:
        model.profile(imgsz=[128, 192])
    finally:
        LOGGER.removeHandler(rows)
    table = [line.split() for line in rows.lines[1:]]
    assert "GFLOPs" in rows.lines[0] and len(table) == len(model.model.model) - 1
    assert [row[-1].split(".")[-1] for row in table[:2]] == ["Conv", "Conv"]
    assert [int(row[2]) for row in table] == [sum(p.numel() for p in m.parameters()) for m in model.model.model[:-1]]
