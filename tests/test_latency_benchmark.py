"""benchmarks/latency.py: the per-layer profile has every layer (torch's profiler once renamed two ranges, and
their layers went missing from the table), its FLOPs add up to the model's and the decoder split to the whole;
the peaks are products of the precision they name; each row runs what it names (bf16 under the autocast, int8
from quantized exports, OpenVINO never f32 in a bf16 row); the table's cells and ratios; the sampling section; the
op split of B's excess, in PyTorch and by OpenVINO's node counters; the rewritten layers, old form against new."""

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


def test_the_op_split_lists_the_ops_by_their_share_of_bs_excess(latency, capsys):
    empty = {}
    profiles = {latency.OURS: latency.LayerProfile(empty, empty, {"aten::a": 10.0, "aten::b": 3.0, "aten::c": 1.0}),
                latency.R18: latency.LayerProfile(empty, empty, {"aten::a": 9.5, "aten::c": 6.0, "aten::d": 0.2})}
    latency.print_op_split(profiles, top=3)
    rows = [line.split() for line in capsys.readouterr().out.splitlines()[3:]]
    assert [row[0] for row in rows] == ["aten::c", "aten::b", "aten::a"]  # |B - R18|: 5.0, 3.0, 0.5
    assert rows[0][1:] == ["1.0", "ms", "6.0", "ms", "-5.0", "ms"] and rows[1][-2] == "+3.0"


def test_the_rewritten_layers_run_old_and_new_forms_of_bs_own_layers(latency, models, capsys):
    """B's SMEModule is found with its input; its new form runs the FFT, the old one does not, and both agree."""
    assert not latency.rewritten_layers(models[latency.R18], 64)
    calls = latency.rewrite_calls(models[latency.OURS], 64)
    assert [key for key in calls] == [("layer 20 SMEModule, depthwise conv by FFT", "new"),
                                      ("layer 20 SMEModule, depthwise conv by FFT", "old"),
                                      ("whole model", "new"), ("whole model", "old")]
    for label in ("layer 20 SMEModule, depthwise conv by FFT", "whole model"):
        for form, transforms in (("new", 1), ("old", 0)):
            with torch.inference_mode(), mock.patch.object(torch.fft, "rfft2", wraps=torch.fft.rfft2) as rfft2:
                calls[(label, form)]()
            assert rfft2.call_count >= transforms and (transforms or rfft2.call_count == 0), (label, form)
    medians = {key: 2.0 if form == "old" else 1.0 for key in calls for form in [key[1]]}
    latency.print_rewrites(calls, medians, 0.0, {"imgsz": 64, "iterations": 1})
    lines = capsys.readouterr().out.splitlines()[3:]
    assert len(lines) == 2 and all("2.0 ms" in line and "1.0 ms" in line and "2.00x" in line for line in lines)
    assert float(lines[0].split()[-1]) < 1e-4 and "100.0% of detections within 0.001" in lines[1]


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
    assert set(calls) == {(name, way) for name in every for way in ("grid_sample", "gather", "model, grid_sample", "model, gather")}
    spy = mock.patch.object(deformable_sampling, "gather_sampling", wraps=deformable_sampling.gather_sampling)
    for name in every:
        theirs, ours = calls[(name, "grid_sample")](), calls[(name, "gather")]()
        assert ours.shape == (1, 64 + 16 + 4, 256)  # at 64 px a query for each position of the 8, 4 and 2 px maps
        torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-5)
        with spy as gather, torch.inference_mode():  # the whole model: the same raw outputs, sampled each way
            whole_theirs = calls[(name, "model, grid_sample")]()[1]
            assert gather.call_count == 0
            whole_ours = calls[(name, "model, gather")]()[1]
            assert gather.call_count == sum(isinstance(m, MSDeformAttn) for m in every[name].modules())
        torch.testing.assert_close(whole_ours, whole_theirs, rtol=1e-4, atol=1e-4)
    medians, load = latency.time_in_rounds(calls, iterations=1, warmup=0, sync=lambda: None)
    latency.print_sampling(every, medians, load, {"imgsz": 64, "iterations": 1})
    rows = capsys.readouterr().out.splitlines()
    assert [row.split("  ")[0] for row in rows[-3:]] == [latency.OURS, latency.R18, latency.REFERENCE]
    assert [row[28:35].strip() for row in rows[-3:]] == ["3", "3", "6"]  # decoder layers: B, R18, l
    assert all(row.count("x") >= 2 and row.count(" ms") == 5 for row in rows[-3:])  # the layer and the whole model
    # the baseline's forward pass samples Ultralytics' way, the others by the gather
    with spy as gather, torch.inference_mode():  # as time_in_rounds runs them
        images = torch.rand(1, 3, 64, 64)
        latency.forward_call(latency.BASELINE, models[latency.OURS], images)()
        assert gather.call_count == 0
        latency.forward_call(latency.OURS, models[latency.OURS], images)()
        assert gather.call_count == sum(isinstance(m, MSDeformAttn) for m in models[latency.OURS].modules()) > 0


def test_the_int8_peak_is_an_int8_product_in_onnx_runtime(latency):
    import numpy as np

    call, flops = latency.matmul_call(32, "ort_int8")
    (product,) = call()
    a = np.random.default_rng(0).integers(0, 128, (32, 32), np.uint8)  # the operands matmul_call draws
    b = np.random.default_rng(1).integers(-64, 64, (32, 32), np.int8)
    assert product.dtype == np.int32 and flops == 2 * 32**3
    np.testing.assert_array_equal(product, a.astype(np.int32) @ b.astype(np.int32))


def test_the_export_and_int8_columns_run_what_they_name(latency, models, tmp_path):
    """ONNX Runtime and OpenVINO in fp32 and from our int8 exports (which hold quantized ops); no bf16 columns
    where bf16 is emulated."""
    import onnx
    import openvino as ov

    from lrsdetr.bench.runtimes import onnx_node_times, openvino_node_times

    params = {**latency.DEFAULTS, "imgsz": 64, "calibration_images": 2}
    calls = latency.cpu_calls({latency.OURS: models[latency.OURS]}, params, tmp_path, native_bf16=False)
    columns = {column for _, column in calls}
    assert columns == {latency.TORCH_NCHW, latency.TORCH_CL, latency.ORT, latency.ORT_INT8, latency.OPENVINO, latency.OPENVINO_INT8}
    with torch.inference_mode():  # as time_in_rounds runs them
        outputs = {column: call() for (_, column), call in calls.items()}
    fp32 = outputs[latency.TORCH_CL][0].numpy()
    for column in (latency.ORT, latency.ORT_INT8):
        assert outputs[column][0].shape == fp32.shape
    for column in (latency.OPENVINO, latency.OPENVINO_INT8):
        assert next(iter(outputs[column].values())).shape == fp32.shape
    folder = tmp_path / latency.OURS
    (int8_onnx,) = folder.glob("*_int8.onnx")
    assert any(node.op_type == "QuantizeLinear" for node in onnx.load(str(int8_onnx)).graph.node)
    (int8_xml,) = folder.glob("*_int8_openvino_model/*.xml")
    assert any(op.get_type_name() == "FakeQuantize" for op in ov.Core().read_model(str(int8_xml)).get_ordered_ops())
    # ONNX Runtime's node profile of both (bench formats --profile): int8 kernels only in the int8 export, never in
    # the decoder, which int8 keeps float
    (fp32_onnx,) = (path for path in folder.glob("*.onnx") if path != int8_onnx)
    fp32_times, int8_times = (onnx_node_times(path, 64, 1, runs=2) for path in (fp32_onnx, int8_onnx))
    assert set(fp32_times) == {("decoder", "float"), ("rest", "float")} and all(ms > 0 for ms in fp32_times.values())
    assert {("decoder", "float"), ("rest", "int8"), ("rest", "q/dq")} <= set(int8_times) and ("decoder", "int8") not in int8_times
    # OpenVINO's own per-node counters of the float export (the profile's OpenVINO split): every layer of B is
    # found in the node names, and layers and node types share out the same time
    assert latency.openvino_export(tmp_path, latency.OURS).parent == folder and latency.openvino_export(tmp_path, latency.R18) is None
    times = openvino_node_times(latency.openvino_export(tmp_path, latency.OURS), 64, 1, "f32", runs=2)
    model = models[latency.OURS]
    computing = {f"layer {i:02d}" for i, layer in enumerate(model.model) if any(True for _ in layer.parameters())}
    assert computing <= set(times.layers) and {"Convolution", "FullyConnected"} <= set(times.types)
    assert sum(times.layers.values()) == pytest.approx(sum(times.types.values())) and sum(times.types.values()) > 0


def test_the_pytorch_bf16_column_runs_under_the_half_autocast(latency, models, tmp_path):
    params = {**latency.DEFAULTS, "imgsz": 64, "onnx": False, "openvino": False}
    model = models[latency.OURS]
    calls = latency.cpu_calls({latency.OURS: model}, params, tmp_path, native_bf16=True)
    assert {column for _, column in calls} == {latency.TORCH_NCHW, latency.TORCH_CL, latency.TORCH_BF16}
    in_bf16 = {}
    for (_, column), call in calls.items():
        states = []
        hook = torch.nn.modules.module.register_module_forward_hook(
            lambda *_: states.append(torch.is_autocast_enabled("cpu") and torch.get_autocast_dtype("cpu") == torch.bfloat16))
        with torch.inference_mode():
            call()
        hook.remove()
        in_bf16[column] = (any(states), all(states))
    assert in_bf16 == {latency.TORCH_NCHW: (False, False), latency.TORCH_CL: (False, False), latency.TORCH_BF16: (True, True)}
    without = latency.cpu_calls({latency.OURS: model}, params, tmp_path, native_bf16=False)
    assert {column for _, column in without} == {latency.TORCH_NCHW, latency.TORCH_CL}


def test_openvino_refuses_to_time_bf16_it_does_not_run(tmp_path):
    """The plugin falls back to f32 where bf16 units are missing; a bf16 column must not time that quietly."""
    import numpy as np
    import openvino as ov
    from openvino import opset13 as ops

    from lrsdetr.bench.runtimes import openvino_model
    from lrsdetr.tools.precision import bf16_notice, cpu_flags

    image = ops.parameter([1, 8], np.float32)
    ov.save_model(ov.Model([ops.matmul(image, ops.constant(np.eye(8, dtype=np.float32)), False, False)], [image]), str(tmp_path / "m.xml"))
    assert openvino_model(tmp_path, 1, "f32").get_property("INFERENCE_PRECISION_HINT").get_type_name() == "f32"
    if bf16_notice(cpu_flags()):
        with pytest.raises(RuntimeError, match="at f32 where bf16 was asked"):
            openvino_model(tmp_path, 1, "bf16")
    else:
        assert openvino_model(tmp_path, 1, "bf16").get_property("INFERENCE_PRECISION_HINT").get_type_name() == "bf16"


def test_the_table_has_a_row_per_runtime_and_the_efficiency_of_its_precision(latency, capsys):
    models = {name: torch.nn.Linear(10, 10) for name in (latency.OURS, latency.R18, latency.REFERENCE)}
    flops = {latency.OURS: 4e9, latency.R18: 2e9, latency.REFERENCE: 8e9}
    medians = {(latency.OURS, latency.TORCH_CL): 100.0, (latency.R18, latency.TORCH_CL): 80.0, (latency.REFERENCE, latency.TORCH_CL): 200.0,
               (latency.OURS, latency.ORT_INT8): 25.0, (latency.R18, latency.ORT_INT8): 20.0}
    latency.print_table(models, flops, medians, 0.0, {"imgsz": 64, "nc": 3, "threads": 1, "iterations": 1}, {"fp32": 100e9, "int8": 400e9})
    rows = {row.split("  ")[0]: row for row in capsys.readouterr().out.splitlines()}
    cl, int8 = rows[latency.TORCH_CL].split(), rows[latency.ORT_INT8].split()
    # fp32 row: B 4 GFLOPs in 0.1 s at a 100 GFLOP/s peak = 40%; B/R18 1.25, B/l 0.50, B's speed-up 1.00x
    assert cl[2:] == ["fp32", "100.0", "ms", "(", "40%)", "80.0", "ms", "(", "25%)", "200.0", "ms", "(", "40%)", "1.25", "0.50", "1.00x"]
    # int8 row, against the int8 peak; no RT-DETR-l entry, so no B/l
    assert int8[3:] == ["int8", "25.0", "ms", "(", "40%)", "20.0", "ms", "(", "25%)", "-", "1.25", "-", "4.00x"]
