"""bf16 layer by layer (lrsdetr/models/autocast.py): what `--half` keeps in fp32, and the scan that chose it."""

import csv

import pytest
import torch
from script_runs import run_main_output
from test_export import lively_checkpoint
from tiny_data import write_tiny_dataset
from torch import nn
from ultralytics.nn.modules import RTDETRDecoder

from lrsdetr import RTDETR
from lrsdetr.models import autocast
from lrsdetr.models.autocast import KEEP_FP32, layer_precisions, mixed_bf16

IMGSZ = 64


def output_dtypes(modules: list[nn.Module]) -> list:
    """A list that each module's forward appends its output dtype to."""
    seen = []
    for index, module in enumerate(modules):
        module.register_forward_hook(lambda m, a, out, index=index: seen.append((index, out.dtype)))
    return seen


def test_each_layer_runs_at_its_precision_and_nothing_is_left_behind():
    torch.manual_seed(0)
    layers = nn.Sequential(*(nn.Sequential(nn.Linear(8, 8)) for _ in range(3)))
    seen = output_dtypes([layer[0] for layer in layers])  # what each layer computes in
    x = torch.rand(2, 8)
    with layer_precisions({layers[1]: True}):  # one layer alone in bf16: its output leaves in fp32
        out = layers(x)
    assert seen == [(0, torch.float32), (1, torch.bfloat16), (2, torch.float32)] and out.dtype == torch.float32
    seen.clear()
    with layer_precisions({layers: True, layers[1]: False}):  # bf16 but one layer kept in fp32
        out = layers(x)
    assert seen == [(0, torch.bfloat16), (1, torch.float32), (2, torch.bfloat16)] and out.dtype == torch.float32
    assert all("forward" not in vars(m) for m in layers.modules()) and [len(m[0]._forward_hooks) for m in layers] == [1, 1, 1]
    seen.clear()
    assert torch.equal(layers(x), layers(x)) and seen[-1] == (2, torch.float32)  # fp32 again


def test_a_failing_layer_leaves_autocast_off_and_no_hooks():
    layers = nn.Sequential(nn.Linear(8, 8), nn.Linear(4, 8))  # the second cannot take the first's output
    with pytest.raises(RuntimeError), layer_precisions({layers: True, layers[1]: False}):
        layers(torch.rand(2, 8))
    assert not torch.is_autocast_enabled("cpu")
    assert all("forward" not in vars(m) for m in layers.modules())


@pytest.fixture(scope="module")
def lively(tmp_path_factory):
    return lively_checkpoint(tmp_path_factory.mktemp("mixed"))


def spied(model: nn.Module) -> list:
    """Spies on a backbone convolution (index 0) and on the decoder's last score head (index 1)."""
    decoder = next(m for m in model.modules() if isinstance(m, RTDETRDecoder))
    first_conv = next(m for m in model.modules() if isinstance(m, nn.Conv2d))
    return output_dtypes([first_conv, decoder.dec_score_head[-1]])


def test_half_keeps_the_listed_layers_in_fp32_in_every_path(lively, tmp_path, monkeypatch):
    """Direct (get_FPS), predict (detect, track) and val honour KEEP_FP32: with the decoder listed, the backbone runs
    in bf16 and the decoder's heads in fp32."""
    monkeypatch.setattr(autocast, "KEEP_FP32", (RTDETRDecoder,))
    model = RTDETR(str(lively))
    model.model.fuse(verbose=False)
    seen = spied(model.model)
    with torch.inference_mode(), mixed_bf16(model.model):
        model.model(torch.rand(1, 3, IMGSZ, IMGSZ))
    assert set(seen) == {(0, torch.bfloat16), (1, torch.float32)}
    seen.clear()
    model.predict(torch.rand(IMGSZ, IMGSZ, 3).mul(255).byte().numpy(), imgsz=IMGSZ, device="cpu", verbose=False, quantize=16)
    assert set(seen) == {(0, torch.bfloat16), (1, torch.float32)}
    seen.clear()
    data = write_tiny_dataset(tmp_path / "data", n_train=1, n_val=2, size=IMGSZ, nc=10)
    model.val(data=str(data), imgsz=IMGSZ, batch=2, device="cpu", plots=False, verbose=False, quantize=16, project=str(tmp_path / "runs"))
    assert set(seen) == {(0, torch.bfloat16), (1, torch.float32)}
    seen.clear()
    model.predict(torch.rand(IMGSZ, IMGSZ, 3).mul(255).byte().numpy(), imgsz=IMGSZ, device="cpu", verbose=False)
    assert set(seen) == {(0, torch.float32), (1, torch.float32)}  # and fp32 when not asked


def anchor_dtypes(model: nn.Module) -> list:
    """A list that the decoder appends the dtype of its anchors to after each call (copies of the model too)."""
    seen = []
    decoder = next(m for m in model.modules() if isinstance(m, RTDETRDecoder))
    decoder.register_forward_hook(lambda m, a, out: seen.append(m.anchors.dtype))
    return seen


def test_half_makes_the_decoders_anchors_in_fp32_in_every_path(lively, tmp_path):
    """Ultralytics' decoder makes its anchors in its features' dtype and keeps them: under plain bf16 autocast they
    are bf16 (box centres rounded to 8 bits, -0.5 AP50 on the quick-start model); --half makes them in fp32, also
    after a bf16 call left bf16 ones, in the direct call, predict and val."""
    model = RTDETR(str(lively))
    model.model.fuse(verbose=False)
    seen = anchor_dtypes(model.model)
    images = torch.rand(1, 3, IMGSZ, IMGSZ)
    with torch.inference_mode(), autocast.cpu_bf16():
        model.model(images)
    with torch.inference_mode(), mixed_bf16(model.model):
        model.model(images)
    assert seen == [torch.bfloat16, torch.float32]
    assert "_generate_anchors" not in vars(model.model.model[-1])  # nothing left behind
    fresh = RTDETR(str(lively))  # as val.py and detect.py load it: unfused, no anchors yet
    seen = anchor_dtypes(fresh.model)
    fresh.predict(torch.rand(IMGSZ, IMGSZ, 3).mul(255).byte().numpy(), imgsz=IMGSZ, device="cpu", verbose=False, quantize=16)
    data = write_tiny_dataset(tmp_path / "data", n_train=1, n_val=2, size=IMGSZ, nc=10)
    fresh.val(data=str(data), imgsz=IMGSZ, batch=2, device="cpu", plots=False, verbose=False, quantize=16, project=str(tmp_path / "runs"))
    assert seen and set(seen) == {torch.float32}


def test_by_default_half_keeps_nothing_in_fp32(lively):
    """What the scan found (docs/speed.md#bf16-layer-by-layer): no layer's bf16 costs AP, so none is kept."""
    assert KEEP_FP32 == ()
    model = RTDETR(str(lively)).model.fuse(verbose=False)
    seen = spied(model)
    with torch.inference_mode(), mixed_bf16(model):
        model(torch.rand(1, 3, IMGSZ, IMGSZ))
    assert set(seen) == {(0, torch.bfloat16), (1, torch.bfloat16)}


def test_the_scan_scores_every_layer_and_decoder_part_that_runs(lively, tmp_path, capsys, monkeypatch):
    data = write_tiny_dataset(tmp_path / "data", n_train=1, n_val=2, size=IMGSZ, nc=10)
    status, out, err = run_main_output(capsys, monkeypatch, "benchmarks/bf16_scan.py", "--weights", lively, "--data", data,
                                       "--imgsz", IMGSZ, "--batch", 2, "--save_dir", tmp_path / "scan")
    assert status == 0, err
    with open(tmp_path / "scan" / "bf16_scan.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    names = [row["setting"] for row in rows]
    assert names[:3] == ["fp32", "bf16 everywhere", "--half (bf16, no layer kept in fp32; anchors in fp32)"]
    assert float(rows[0]["ap50_change"]) == 0 and all(float(r["ap50_change"]) == round(float(r["ap50"]) - float(rows[0]["ap50"]), 2) for r in rows)
    model = RTDETR(str(lively)).model
    with_weights = [f"layer {i} {type(layer).__name__}" for i, layer in enumerate(model.model) if any(True for _ in layer.parameters())]
    assert [n for n in names if n.startswith("layer") and "decoder:" not in n] == with_weights
    parts = {n.split("decoder: ")[1] for n in names if "decoder: " in n}
    assert {"input_proj", "decoder", "enc_bbox_head", "enc_score_head", "dec_bbox_head", "dec_score_head"} <= parts
    assert "denoising_class_embed" not in parts  # used in training only
    # each setting ran in bf16, as the scores show; but the box heads, which RT-DETR initialises to zero (untrained here)
    assert float(rows[0]["score_change"]) == 0 and all(float(r["score_change"]) > 0 for r in rows[1:] if not r["setting"].endswith("bbox_head"))
    assert (tmp_path / "scan" / "bf16_scan.png").stat().st_size > 0
    assert "Class     Images" not in out + err  # Ultralytics' per-run tables are turned down
