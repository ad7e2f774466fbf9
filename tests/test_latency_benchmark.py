"""benchmarks/latency.py's per-layer profile: every layer of the model is in it (torch's profiler once renamed two
ranges, and their layers went missing from the table), the layers' FLOPs add up to the model's, and the decoder
split adds up to the whole."""

import importlib
from unittest import mock

import pytest
import torch
from ultralytics.nn.modules.transformer import MSDeformAttn

from lrsdetr import build_model


@pytest.fixture(scope="module")
def latency():
    return importlib.import_module("lrsdetr.bench.latency")


@pytest.fixture(scope="module")
def models(latency):
    return {latency.OURS: build_model("lrs-detr-b.yaml", nc=3).eval().fuse(),
            latency.R18: build_model("rtdetr-r18.yaml", nc=3).eval().fuse()}


@pytest.fixture(scope="module")
def profiles(latency, models):
    return {name: latency.profile_layers(model, imgsz=64, runs=1) for name, model in models.items()}


def test_each_layer_is_profiled_and_its_flops_add_up_to_the_model(latency, models, profiles):
    for name, model in models.items():
        profile = profiles[name]
        assert set(profile.ms) == set(profile.flops) and len(profile.ms) == len(model.model)
        assert all(ms > 0 for ms in profile.ms.values())
        total = latency.aten_flops(model, 64).get_total_flops()
        assert sum(profile.flops.values()) == pytest.approx(total, rel=1e-9)
        assert profile.aten_ms and all(op.startswith("aten::") for op in profile.aten_ms)


def test_the_decoder_split_is_the_decoder_layer_and_everything_else(latency, profiles, capsys):
    profile = profiles[latency.OURS]
    (decoder_ms, decoder_flops), (rest_ms, rest_flops) = latency.decoder_split(profile)
    last = max(profile.ms)
    assert last.endswith(" RTDETRDecoder") and (decoder_ms, decoder_flops) == (profile.ms[last], profile.flops[last])
    assert rest_ms == pytest.approx(sum(profile.ms.values()) - decoder_ms)
    assert rest_flops == pytest.approx(sum(profile.flops.values()) - decoder_flops) and decoder_flops > 0
    latency.print_decoder_split(profiles)
    (r18_decoder_ms, _), (r18_rest_ms, _) = latency.decoder_split(profiles[latency.R18])
    assert f"the rest: LRS-DETR-B / RT-DETR-R18 = {rest_ms / r18_rest_ms:.2f} in time" in capsys.readouterr().out
    without = latency.LayerProfile({k: v for k, v in profile.ms.items() if k != last}, profile.flops, profile.aten_ms)
    with pytest.raises(ValueError, match="expected one RTDETRDecoder layer, found none"):
        latency.decoder_split(without)


def test_the_processor_line_names_its_vector_and_matrix_units():
    from lrsdetr.tools.precision import processor_units

    xeon = {"fpu", "avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_bf16", "amx_int8"}
    assert processor_units(xeon) == "vector: avx2, fma, avx512f, avx512_vnni, avx512_bf16; matrix: amx_tile, amx_bf16, amx_int8"
    epyc = {"fpu", "avx", "avx2", "fma", "sha_ni"}
    assert processor_units(epyc) == "vector: avx2, fma; matrix: none (no amx_tile, amx_bf16, amx_int8, amx_fp16)"
    assert "unknown" in processor_units(None)


def test_the_bf16_peak_is_a_bf16_product(latency):
    call, flops = latency.matmul_call(48, "mm_bf16")
    product = call()
    assert product.dtype == torch.bfloat16 and product.shape == (48, 48) and flops == 2 * 48**3
    fp32, _ = latency.matmul_call(48, "mm")
    assert fp32().dtype == torch.float32


def test_the_sampling_section_times_each_models_own_decoder_inputs_both_ways(latency, models, capsys):
    """Both ways are given the same recorded inputs and agree; the table names every model's decoder layers."""
    from ultralytics.nn.tasks import RTDETRDetectionModel

    from lrsdetr.nn import deformable_sampling

    every = {**models, latency.REFERENCE: RTDETRDetectionModel("rtdetr-l.yaml", nc=3, verbose=False).eval()}
    calls = latency.sampling_calls(every, imgsz=64)
    assert set(calls) == {(name, way) for name in every for way in ("grid_sample", "gather")}
    for name in every:
        theirs, ours = calls[(name, "grid_sample")](), calls[(name, "gather")]()
        assert ours.shape == (1, 64 + 16 + 4, 256)  # at 64 px a query for each position of the 8, 4 and 2 px maps
        torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-5)
    medians, load = latency.time_in_rounds(calls, iterations=1, warmup=0, sync=lambda: None)
    latency.print_sampling(every, medians, load, {"imgsz": 64, "iterations": 1})
    rows = capsys.readouterr().out.splitlines()
    assert [row.split("  ")[0] for row in rows[-3:]] == [latency.OURS, latency.R18, latency.REFERENCE]
    assert [row[28:35].strip() for row in rows[-3:]] == ["3", "3", "6"]  # decoder layers: B, R18, l
    # the baseline's forward pass samples Ultralytics' way, the others by the gather
    spy = mock.patch.object(deformable_sampling, "gather_sampling", wraps=deformable_sampling.gather_sampling)
    with spy as gather, torch.inference_mode():  # as time_in_rounds runs them
        images = torch.rand(1, 3, 64, 64)
        latency.forward_call(latency.BASELINE, models[latency.OURS], images)()
        assert gather.call_count == 0
        latency.forward_call(latency.OURS, models[latency.OURS], images)()
        assert gather.call_count == sum(isinstance(m, MSDeformAttn) for m in models[latency.OURS].modules()) > 0
