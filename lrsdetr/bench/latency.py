"""Batch-1 latency of LRS-DETR-B beside Ultralytics' RT-DETR-l and our RT-DETR-R18, runtime by runtime, precision by precision.

    python benchmarks/latency.py                                  # 640x640, 2 threads, 20 timed rounds
    python benchmarks/latency.py --iterations 50 --imgsz 320 --onnx False --openvino False

Every model is fused, in eval mode, with the same number of classes (`nc`, VisDrone's 10). PyTorch runs twice in
fp32: on NCHW tensors as `model(x)` does, and with channels_last weights, which is how Ultralytics' AutoBackend (so
`predict` and `val`) prepares a PyTorch model on x86 CPUs. `--baseline` adds LRS-DETR-B with our speed work
off (Omni-Kernel in NCHW, its four depthwise convs unmerged, Ultralytics' plain fuse()), timed in the same rounds,
so the speed-up is a ratio measured under the same conditions. The process keeps the memory it frees, as our
inference scripts do (`--keep_freed_memory False`: glibc's default, which maps large blocks afresh on every forward
pass).

The other columns, each model but the baseline: ONNX Runtime on the graph Ultralytics' exporter writes (`--onnx`);
OpenVINO's CPU plugin on its export at INFERENCE_PRECISION_HINT f32 (`--openvino`); int8 (`--int8`) in both, from
our int8 exports (tools/quantize: the decoder, FGM's DFT and the attention products kept float), calibrated on
`calibration_images` synthetic drone images; and where the processor has bf16 units (`--bf16`), PyTorch under the
bf16 autocast `--half True` runs and OpenVINO's bf16 hint. `--compile True` adds torch.compile in fp32 (and bf16).
A row per runtime and precision, a column per model, then B/R18, B/RT-DETR-l and B's speed-up over PyTorch
channels_last fp32.

Each round runs every entry once, in turn, and each entry reports the median over rounds: load from other
processes then hits all entries alike, and the ratios stay meaningful on a busy machine (the absolute times
do not: the table says how much CPU other processes took while timing). With CUDA, PyTorch fp32/fp16 and a
TensorRT fp16 engine are timed too.

Efficiency: each model's FLOPs are counted by torch's aten counter (torch.utils.flop_counter: convolutions,
matrix products, attention; FGM's FFT is not counted, and the Omni-Kernel's depthwise convolution counts as the
convolution it is even where it runs by FFT), and the fastest of three n x n fp32 matrix products
timed in the same rounds gives the machine's achievable peak under the same load: torch.mm (the BLAS torch
links, MKL on x86, which takes a slower path on AMD processors), the same product as a 1x1 convolution on
channels_last data (oneDNN, which the models' convolutions use) and an ONNX MatMul in ONNX Runtime (MLAS). A bf16
torch.mm (where bf16 is native) and an int8 ONNX MatMulInteger (with int8 columns) give the bf16 and int8 peaks.
Efficiency = FLOPs / (latency x the peak of the row's precision): how close a model comes to the hardware's
dense-math limit in that precision. `--profile` adds a per-layer torch.profiler
profile of LRS-DETR-B (channels_last, as Ultralytics runs it): time, FLOPs and efficiency of each layer, and
the aten ops that take the most time; and, from the same profiler on RT-DETR-R18, both models' time and FLOPs in
their decoder (the same RTDETRDecoder) and in the rest, with B/R18 ratios for each part.

The first line names the processor's vector and matrix units (AVX2, AVX-512, its bf16 and VNNI parts, AMX), and a
bf16 product timed in the same rounds as the fp32 peak says what bf16 buys on it (several times fp32 on AMX); where
bf16 is emulated (no avx512_bf16 or amx_bf16) one small product is timed once instead, as it runs far below fp32.

Compiled (`--compile True`): each model (not the baseline) also through torch.compile (inductor with freezing,
channels_last; fp32, and bf16 where native), its compile time and the share of its detections equal to eager's printed
first (tools/compiled.py).

Deformable sampling (`--sampling`): the decoder's multi-scale deformable sampling of each model, on the inputs its
first decoder layer receives, through Ultralytics' grid_sample and through our gather (lrsdetr/nn/deformable_sampling.py),
in the same rounds; the baseline row above also samples Ultralytics' way.

Rewritten layers (`--rewrites`): each layer of LRS-DETR-B that holds a module rewritten for speed on the CPU (the
Omni-Kernel's depthwise convolution by FFT, lrsdetr/nn/fft_depthwise.py), on its own input, in the new form and the
old, in the same rounds, with the largest difference between their outputs; and the whole model both ways, with the
share of its detections equal within 1e-3.

Sliced inference (`--sliced`): frames per second of LRS-DETR-B and RT-DETR-R18 on one synthetic 2000x1500 frame cut
into 640 px tiles, through detect's own sliced predictor (SAHI's tiles, merge and whole-frame pass, Ultralytics'
predictor), with one tile per forward pass against `--slice_batch`'s default, all four timed in the same rounds.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack, contextmanager
from copy import deepcopy
from pathlib import Path
from typing import NamedTuple
from unittest import mock

import numpy as np
import torch
import torch.nn as nn
from sahi.slicing import get_slice_bboxes
from torch.utils.flop_counter import FlopCounterMode
from ultralytics.engine.exporter import Exporter
from ultralytics.nn.modules import transformer
from ultralytics.nn.modules.transformer import MSDeformAttn
from ultralytics.nn.tasks import RTDETRDetectionModel

from lrsdetr import build_model
from lrsdetr.cfg import DETECTION_CONF, MAX_DET
from lrsdetr.data.synth import draw_scene, make_yolo_dataset
from lrsdetr.engine.detect import frame_predictor
from lrsdetr.eval.agreement import matched_rows
from lrsdetr.models import RTDETR
from lrsdetr.models.autocast import mixed_bf16
from lrsdetr.nn.deformable_sampling import ULTRALYTICS_SAMPLING, gather_sampling, ultralytics_sampling
from lrsdetr.nn.fft_depthwise import FFTDepthwiseConv2d, direct_depthwise
from lrsdetr.nn.modules import OmniKernel
from lrsdetr.tools.compiled import ROW_ATOL, compile_and_compare, compile_line, detections, inductor_missing
from lrsdetr.tools.precision import bf16_notice, cpu_flags, device_name, processor_units
from lrsdetr.tools.quantize import quantize_onnx, quantize_openvino
from lrsdetr.tools.sliced import SLICING_FLAGS, Slicing
from lrsdetr.utils.command import Command
from lrsdetr.utils.guard import CommandPaths
from lrsdetr.utils.logs import ultralytics_quiet
from lrsdetr.utils.memory import keep_freed_memory

from .runtimes import openvino_node_times, ort_session, runner

DEFAULTS = {
    "imgsz": 640,
    "iterations": 20,  # timed rounds; the median of each entry is reported
    "warmup": 3,  # untimed rounds first
    "threads": 2,  # torch.set_num_threads and ONNX Runtime's intra_op_num_threads
    "nc": 10,  # classes of every model
    "baseline": True,  # also time LRS-DETR-B without the speed work
    "onnx": True,  # also export to ONNX and time ONNX Runtime
    "peak_size": 2048,  # n of the n x n fp32 matmul that measures the peak (2 n^3 FLOPs)
    "profile": True,  # per-layer profile of LRS-DETR-B (and the decoder split against RT-DETR-R18)
    "keep_freed_memory": True,  # as val.py, detect.py and get_FPS.py run (lrsdetr.utils.memory); False: glibc's default
    "sliced": True,  # also frames/s of sliced inference on a 2000x1500 frame, slice_batch 1 against its default
    "sampling": True,  # also the decoder's deformable sampling, Ultralytics' grid_sample against our gather
    "rewrites": True,  # also each of B's rewritten layers before and after, on its own input
    "compile": False,  # also torch.compile columns (inductor, freezing; channels_last): minutes of compiling per model
    "bf16": True,  # also the bf16 columns, where the processor has bf16 units (emulated bf16 is skipped, with a line)
    "openvino": True,  # also OpenVINO's CPU plugin: f32, and bf16 and int8 with those
    "int8": True,  # also int8 columns: ONNX Runtime (with onnx) and OpenVINO (with openvino), from our int8 exports
    "calibration_images": 32,  # synthetic drone images, drawn at imgsz, that the int8 exports calibrate on
}

MODELS = {"LRS-DETR-B": "lrs-detr-b.yaml", "RT-DETR-l (Ultralytics)": "rtdetr-l.yaml", "RT-DETR-R18": "rtdetr-r18.yaml"}
OURS, REFERENCE, R18, BASELINE = "LRS-DETR-B", "RT-DETR-l (Ultralytics)", "RT-DETR-R18", "LRS-DETR-B, no speed work"
TORCH_NCHW, TORCH_CL, TORCH_COMPILED, ORT = "PyTorch NCHW", "PyTorch channels_last", "PyTorch compiled", "ONNX Runtime"
TORCH_BF16, TORCH_COMPILED_BF16, ORT_INT8 = "PyTorch bf16", "PyTorch compiled bf16", "ONNX Runtime int8"
OPENVINO, OPENVINO_BF16, OPENVINO_INT8 = "OpenVINO f32", "OpenVINO bf16", "OpenVINO int8"
# the precision each column computes in (fp32 where not named): its efficiency is against the peak of that precision
PRECISIONS = {TORCH_BF16: "bf16", TORCH_COMPILED_BF16: "bf16", OPENVINO_BF16: "bf16", ORT_INT8: "int8", OPENVINO_INT8: "int8",
              "CUDA PyTorch fp16": "fp16", "TensorRT fp16": "fp16"}
PEAKS = {("fp32 matmul", "torch.mm"): "mm", ("fp32 matmul", "1x1 conv"): "conv", ("fp32 matmul", "onnxruntime"): "ort"}
BF16_PEAK = ("bf16 matmul", "torch.mm")  # timed in the same rounds: what bf16 buys on this processor
INT8_PEAK = ("int8 matmul", "onnxruntime")  # uint8 x int8 MatMulInteger, with the int8 columns
EMULATED_SIZE = 256  # n of the one bf16 product timed where bf16 is emulated
SLICED_FRAME = (2000, 1500)  # width, height: VisDrone's largest frames


def aten_flops(model: torch.nn.Module, imgsz: int) -> FlopCounterMode:
    """torch's aten FLOP counter after one forward pass at `imgsz` (total and per module), the model's convolutions
    all counted as such (the FFT form of the Omni-Kernel's would count none)."""
    with torch.inference_mode(), direct_depthwise(), FlopCounterMode(display=False, depth=None) as counter:
        model(torch.rand(1, 3, imgsz, imgsz))
    return counter


def matmul_call(n: int, kind: str) -> tuple[Callable[[], object], float]:
    """A call of one n x n x n matrix product and its FLOPs (multiply-adds count two): `mm` through torch.mm in fp32
    (BLAS), `conv` as a 1x1 convolution of n channels over n pixels in channels_last (oneDNN), `ort` as an ONNX MatMul
    in ONNX Runtime (MLAS); `mm_bf16`: torch.mm in bf16 (oneDNN: the matrix units where the processor has them,
    emulated where not); `ort_int8`: an ONNX MatMulInteger of uint8 by int8 in ONNX Runtime, the kernels its int8
    convolutions use."""
    if kind in ("mm", "mm_bf16"):
        dtype = torch.bfloat16 if kind == "mm_bf16" else torch.float32
        a, b, out = (torch.rand(n, n).to(dtype) for _ in range(3))
        return lambda: torch.mm(a, b, out=out), 2.0 * n**3
    if kind in ("ort", "ort_int8"):
        from onnx import TensorProto, helper, numpy_helper

        if kind == "ort":
            a, b, node, out_type = torch.rand(n, n).numpy(), torch.rand(n, n).numpy(), "MatMul", TensorProto.FLOAT
        else:
            # half ranges: without VNNI, x86 int8 kernels add pairs of products in saturating int16 (full-range operands
            # would overflow it); the speed is the same and the product exact
            a, b = np.random.default_rng(0).integers(0, 128, (n, n), np.uint8), np.random.default_rng(1).integers(-64, 64, (n, n), np.int8)
            node, out_type = "MatMulInteger", TensorProto.INT32
        graph = helper.make_graph([helper.make_node(node, ["a", "b"], ["c"])], "matmul",
                                  [helper.make_tensor_value_info("a", helper.np_dtype_to_tensor_dtype(a.dtype), [n, n])],
                                  [helper.make_tensor_value_info("c", out_type, [n, n])], [numpy_helper.from_array(b, "b")])
        session = ort_session(helper.make_model(graph).SerializeToString(), torch.get_num_threads())
        return lambda: session.run(None, {"a": a}), 2.0 * n**3
    x = torch.rand(1, n, n // 32, 32).contiguous(memory_format=torch.channels_last)
    conv = torch.nn.Conv2d(n, n, 1, bias=False).to(memory_format=torch.channels_last).eval()
    return lambda: conv(x), 2.0 * n**3


def without_speed_work(model: RTDETRDetectionModel) -> RTDETRDetectionModel:
    """A fused copy of an unfused LRS-DETR model with the Omni-Kernel as the authors run it: NCHW, four depthwise convs
    (the timing runs it with Ultralytics' deformable sampling too: `forward_call`)."""
    copy = deepcopy(model)
    for module in copy.modules():
        if isinstance(module, OmniKernel):
            module.memory_format = torch.contiguous_format
    return RTDETRDetectionModel.fuse(copy, verbose=False)  # Ultralytics' Conv/BN fusion, not our depthwise merge


@contextmanager
def working_folder(folder: Path):
    """Ultralytics writes an export of a YAML-built model into the working folder."""
    previous = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(previous)


def export(model: torch.nn.Module, folder: Path, **options) -> Path:
    """Ultralytics' exporter on an in-memory model (as `RTDETR(...).export(**options)` runs it), quietly."""
    model.task = "detect"  # what Ultralytics' model wrapper sets before exporting
    with ultralytics_quiet(), working_folder(folder):
        return folder / Exporter(overrides={"batch": 1, "verbose": False, "mode": "export", **options})(model=model)


def foreign_cpu_seconds() -> float:
    """CPU seconds used so far by everything on this machine but this process (Linux; 0 elsewhere)."""
    stat = Path("/proc/stat")
    if not stat.exists():
        return 0.0
    fields = [int(v) for v in stat.read_text().split("\n", 1)[0].split()[1:9]]
    busy = (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")
    return busy - time.process_time()


def time_in_rounds(calls: dict[tuple[str, str], Callable[[], object]], iterations: int, warmup: int, sync: Callable[[], None]) -> tuple[dict, float]:
    """Median milliseconds per entry over `iterations` rounds of one call each; also the foreign load (cores)."""
    times = {key: [] for key in calls}
    with torch.inference_mode():
        for _ in range(warmup):
            for call in calls.values():
                call()
        sync()
        foreign, start = foreign_cpu_seconds(), time.perf_counter()
        for _ in range(iterations):
            for key, call in calls.items():
                begin = time.perf_counter()
                call()
                sync()
                times[key].append((time.perf_counter() - begin) * 1000)
        load = (foreign_cpu_seconds() - foreign) / (time.perf_counter() - start)
    return {key: statistics.median(v) for key, v in times.items()}, load


def forward_call(name: str, model: torch.nn.Module, images: torch.Tensor) -> Callable[[], object]:
    """One forward pass; the baseline's samples as Ultralytics does (grid_sample), the others by our gather."""
    if name != BASELINE:
        return lambda: model(images)

    def baseline() -> object:
        with ultralytics_sampling():
            return model(images)
    return baseline


def at_precision(model: torch.nn.Module, precision: str, call: Callable[[], object]) -> Callable[[], object]:
    """`call` as it is for fp32; for bf16 under the autocast `--half True` runs `model` in (mixed_bf16)."""
    if precision != "bf16":
        return call

    def bf16() -> object:
        with mixed_bf16(model):
            return call()
    return bf16


def compiled_calls(name: str, model_cl: torch.nn.Module, images_cl: torch.Tensor, precisions: tuple[str, ...]) -> dict:
    """`model_cl` through torch.compile at each of `precisions` (fp32, bf16), each compile time and agreement with
    eager printed."""
    calls = {}
    for precision in precisions:
        with mixed_bf16(model_cl, precision == "bf16"):
            compiled = compile_and_compare(model_cl, images_cl, precision)
        print(f"{name}, {precision}: {compiled.summary(precision)}")
        column = TORCH_COMPILED_BF16 if precision == "bf16" else TORCH_COMPILED
        calls[(name, column)] = at_precision(model_cl, precision, lambda m=compiled.module: m(images_cl))
    return calls


def calibration_set(folder: Path, params: dict) -> str:
    """A synthetic drone set of `calibration_images` val images at `imgsz` in `folder`, for the int8 exports (and one
    training image: a set has both splits)."""
    return str(make_yolo_dataset(folder / "calibration", 1, params["calibration_images"], params["imgsz"], seed=0))


def export_calls(name: str, model: torch.nn.Module, params: dict, folder: Path, data: str | None, bf16: bool) -> dict:
    """`model` exported (into its own folder) and timed in ONNX Runtime (`onnx`) and OpenVINO (`openvino`): fp32 /
    f32, OpenVINO's bf16 with `bf16`, and with calibration `data` our int8 exports of each (tools/quantize)."""
    if not (params["onnx"] or params["openvino"]):
        return {}
    folder = folder / name.replace(" ", "_")
    folder.mkdir()
    imgsz, threads = params["imgsz"], params["threads"]
    calls = {}
    if params["onnx"]:
        path = export(model, folder, format="onnx", imgsz=imgsz, simplify=True)
        calls[(name, ORT)] = runner(path, imgsz, threads)
        if data:
            calls[(name, ORT_INT8)] = runner(quantize_onnx(path, data, imgsz, count=params["calibration_images"]), imgsz, threads)
    if params["openvino"]:
        path = export(model, folder, format="openvino", imgsz=imgsz)
        calls[(name, OPENVINO)] = runner(path, imgsz, threads, "f32")
        if bf16:
            calls[(name, OPENVINO_BF16)] = runner(path, imgsz, threads, "bf16")
        if data:
            calls[(name, OPENVINO_INT8)] = runner(quantize_openvino(path, data, imgsz, count=params["calibration_images"]), imgsz, threads, "f32")
    return calls


def cpu_calls(models: dict, params: dict, folder: Path, native_bf16: bool) -> dict[tuple[str, str], Callable[[], object]]:
    """Every (model, column) call on the CPU: PyTorch fp32 in NCHW and channels_last for every model; for all but the
    baseline, the columns `params` ask for (bf16 ones only with `native_bf16`, the processor's own bf16 units)."""
    images = torch.rand(1, 3, params["imgsz"], params["imgsz"])
    images_cl = images.contiguous(memory_format=torch.channels_last)
    bf16 = params["bf16"] and native_bf16
    int8 = params["int8"] and (params["onnx"] or params["openvino"])
    data = calibration_set(folder, params) if int8 else None
    calls = {}
    for name, model in models.items():
        model_cl = deepcopy(model).to(memory_format=torch.channels_last)
        calls[(name, TORCH_NCHW)] = forward_call(name, model, images)
        calls[(name, TORCH_CL)] = forward_call(name, model_cl, images_cl)
        if name == BASELINE:
            continue
        if bf16:
            calls[(name, TORCH_BF16)] = at_precision(model_cl, "bf16", lambda m=model_cl: m(images_cl))
        if params["compile"] and not inductor_missing(images.device):
            calls.update(compiled_calls(name, model_cl, images_cl, ("fp32", "bf16") if bf16 else ("fp32",)))
        calls.update(export_calls(name, model, params, folder, data, bf16))
    return calls


def cuda_calls(models: dict, params: dict, folder: Path) -> dict[tuple[str, str], Callable[[], object]]:
    """PyTorch fp32 and fp16, and a TensorRT fp16 engine (needs the `tensorrt` package), on the first GPU."""
    from ultralytics.nn.autobackend import AutoBackend

    device = torch.device("cuda:0")
    images = torch.rand(1, 3, params["imgsz"], params["imgsz"], device=device)
    calls = {}
    for name, model in models.items():
        fp32, fp16 = deepcopy(model).to(device), deepcopy(model).to(device).half()
        calls[(name, "CUDA PyTorch fp32")] = lambda m=fp32: m(images)
        calls[(name, "CUDA PyTorch fp16")] = lambda m=fp16: m(images.half())
        if name == BASELINE:
            continue
        try:
            engine = export(model, folder, format="engine", imgsz=params["imgsz"], quantize=16, device=0)
        except Exception as error:  # no tensorrt package, or a build failure: report it, time the rest
            print(f"{name}: no TensorRT engine ({type(error).__name__}: {error})")
            continue
        backend = AutoBackend(str(engine), device=device, fp16=True, verbose=False)
        calls[(name, "TensorRT fp16")] = lambda b=backend: b(images.half())
    return calls


def sampling_calls(models: dict, imgsz: int) -> dict[tuple[str, str], Callable[[], object]]:
    """Per model, its first decoder layer's sampling inputs at `imgsz` through Ultralytics' grid_sample and our gather;
    and the whole model (channels_last, as Ultralytics runs it) sampling each way."""
    images = torch.rand(1, 3, imgsz, imgsz).contiguous(memory_format=torch.channels_last)
    calls = {}
    for name in (OURS, R18, REFERENCE):
        seen = []
        with mock.patch.object(transformer, "multi_scale_deformable_attn_pytorch", lambda *args: seen.append(args) or gather_sampling(*args)):
            with torch.inference_mode():
                models[name](torch.rand(1, 3, imgsz, imgsz))
        inputs = seen[0]
        calls[(name, "grid_sample")] = lambda inputs=inputs: ULTRALYTICS_SAMPLING(*inputs)
        calls[(name, "gather")] = lambda inputs=inputs: gather_sampling(*inputs)
        model = deepcopy(models[name]).to(memory_format=torch.channels_last)
        calls[(name, "model, gather")] = lambda m=model: m(images)
        calls[(name, "model, grid_sample")] = lambda m=model: forward_call(BASELINE, m, images)()
    return calls


def print_sampling(models: dict, medians: dict, load: float, params: dict) -> None:
    """Milliseconds of one decoder layer's sampling each way, the speed-up, and what it saves per forward pass; then
    the whole model's forward pass each way and its speed-up."""
    print(f"\ndeformable sampling, one decoder layer's inputs at {params['imgsz']}x{params['imgsz']}, and the whole model "
          f"(channels_last); median of {params['iterations']} interleaved rounds; other processes used {load:.2f} CPU cores meanwhile")
    print(f"{'model':<28}{'layers':>7}{'grid_sample':>14}{'gather':>10}{'speed-up':>10}{'saved per pass':>16}"
          f"{'model, grid_sample':>20}{'model, gather':>15}{'speed-up':>10}")
    for name in (OURS, R18, REFERENCE):
        layers = sum(isinstance(m, MSDeformAttn) for m in models[name].modules())
        theirs, ours = medians[(name, "grid_sample")], medians[(name, "gather")]
        whole_theirs, whole_ours = medians[(name, "model, grid_sample")], medians[(name, "model, gather")]
        print(f"{name:<28}{layers:>7}{f'{theirs:.2f} ms':>14}{f'{ours:.2f} ms':>10}{theirs / ours:>9.2f}x"
              f"{f'{layers * (theirs - ours):.1f} ms':>16}{f'{whole_theirs:.1f} ms':>20}{f'{whole_ours:.1f} ms':>15}"
              f"{whole_theirs / whole_ours:>9.2f}x")


# Each module rewritten for CPU speed and what turns the rewrite off (the old form) meanwhile.
REWRITES = {FFTDepthwiseConv2d: ("depthwise conv by FFT", direct_depthwise)}


def rewritten_layers(model: torch.nn.Module, imgsz: int) -> dict[str, tuple[nn.Module, torch.Tensor]]:
    """The top-level layers of `model` that hold a rewritten module, by label, with the input each receives at
    `imgsz` (channels_last, as Ultralytics runs it)."""
    found, handles = {}, []

    def record(layer: nn.Module, args: tuple) -> None:  # a pre-hook returning something would replace the arguments
        found.setdefault(labels[layer], (layer, args[0]))

    labels = {}
    for index, layer in enumerate(model.model):
        kinds = [name for kind, (name, _) in REWRITES.items() if any(isinstance(m, kind) for m in layer.modules())]
        if kinds:
            labels[layer] = f"layer {index:02d} {type(layer).__name__}, {', '.join(kinds)}"
            handles.append(layer.register_forward_pre_hook(record))
    with torch.inference_mode():
        model(torch.rand(1, 3, imgsz, imgsz).contiguous(memory_format=torch.channels_last))
    for handle in handles:
        handle.remove()
    return found


def old_form(call: Callable[[], object]) -> Callable[[], object]:
    """`call` with every rewrite turned off."""
    def old() -> object:
        with ExitStack() as stack:
            for _, turn_off in REWRITES.values():
                stack.enter_context(turn_off())
            return call()
    return old


def rewrite_calls(model: torch.nn.Module, imgsz: int) -> dict[tuple[str, str], Callable[[], object]]:
    """Each rewritten layer of `model` on its own input, new form and old; and the whole model both ways."""
    images = torch.rand(1, 3, imgsz, imgsz).contiguous(memory_format=torch.channels_last)
    calls = {}
    for label, (layer, inputs) in rewritten_layers(model, imgsz).items():
        calls[(label, "new")] = lambda layer=layer, inputs=inputs: layer(inputs)
        calls[(label, "old")] = old_form(calls[(label, "new")])
    calls[("whole model", "new")] = lambda: model(images)
    calls[("whole model", "old")] = old_form(calls[("whole model", "new")])
    return calls


def print_rewrites(calls: dict, medians: dict, load: float, params: dict) -> None:
    """Milliseconds of each rewritten layer (and the whole model) in the old form and the new, the speed-up, and how
    the outputs agree: a layer's largest difference; the whole model's share of detections equal within 1e-3,
    order-free (an untrained model's encoder scores nearly tie, so rounding can select other queries)."""
    print(f"\nLRS-DETR-B's rewritten layers, old form against new, on their own inputs at {params['imgsz']}x{params['imgsz']}"
          f" (channels_last); median of {params['iterations']} interleaved rounds; other processes used {load:.2f} CPU cores meanwhile")
    print(f"{'layer':<50}{'old':>10}{'new':>10}{'speed-up':>10}  outputs")
    for label in dict.fromkeys(label for label, _ in calls):
        with torch.inference_mode():
            new, old = calls[(label, "new")](), calls[(label, "old")]()
        if label == "whole model":
            rows = matched_rows(detections(new)[0].float().numpy(), detections(old)[0].float().numpy(), ROW_ATOL["fp32"])
            agreement = f"{rows:.1%} of detections within {ROW_ATOL['fp32']}"
        else:
            agreement = f"max |difference| {(new.float() - old.float()).abs().max().item():.1e}"
        before, after = medians[(label, "old")], medians[(label, "new")]
        print(f"{label:<50}{f'{before:.1f} ms':>10}{f'{after:.1f} ms':>10}{before / after:>9.2f}x  {agreement}")


def sliced_calls(unfused: dict, params: dict, device: str) -> dict[tuple[str, int], Callable[[], object]]:
    """One frame through detect's sliced predictor, per model (LRS-DETR-B, RT-DETR-R18) and tiles per forward pass
    (1 and `Slicing.batch`), at the detection defaults; each model unfused as a checkpoint loads, for Ultralytics'
    predictor to fuse and lay out."""
    frame, _ = draw_scene(*SLICED_FRAME, np.random.default_rng(0))
    calls = {}
    for name in (OURS, R18):
        model = RTDETR(MODELS[name])
        model.model = deepcopy(unfused[name])  # with the benchmark's `nc`
        for batch in (1, Slicing.batch):
            options = {**SLICING_FLAGS, "slice": True, "slice_batch": batch, "imgsz": params["imgsz"], "conf": DETECTION_CONF,
                       "max_det": MAX_DET, "device": device}
            predict = frame_predictor(model, options)
            calls[(name, batch)] = lambda predict=predict: predict(frame, "frame.jpg")
    return calls


def print_sliced(medians: dict, load: float, rounds: int, params: dict, device: str) -> None:
    """Frames per second per model, one tile per pass and `Slicing.batch` tiles per pass, and their ratio."""
    width, height = SLICED_FRAME
    tiles = len(get_slice_bboxes(height, width, Slicing.size, Slicing.size, overlap_height_ratio=Slicing.overlap,
                                 overlap_width_ratio=Slicing.overlap))
    batch = Slicing.batch
    print(f"\nsliced inference on {device}: one {width}x{height} frame, {tiles} tiles of {Slicing.size} px and the whole frame, "
          f"each at {params['imgsz']}, conf {DETECTION_CONF}; median of {rounds} interleaved rounds; other processes used "
          f"{load:.2f} CPU cores meanwhile")
    print(f"{'model':<28}{'1 tile per pass':>20}{f'{batch} tiles per pass':>20}{'speed-up':>10}")
    for name in (OURS, R18):
        one, many = medians[(name, 1)], medians[(name, batch)]
        print(f"{name:<28}{f'{1000 / one:.3f} frames/s':>20}{f'{1000 / many:.3f} frames/s':>20}{one / many:>9.2f}x")


def measured_peaks(medians: dict, size: int) -> dict[str, float]:
    """FLOP/s per precision from the peak products timed in the same rounds: fp32 the fastest of PEAKS, bf16 and int8
    where timed."""
    rate = {key: 2.0 * size**3 / (medians[key] / 1000) for key in (*PEAKS, BF16_PEAK, INT8_PEAK) if key in medians}
    peaks = {"fp32": max(rate[key] for key in PEAKS)}
    peaks.update({precision: rate[key] for precision, key in (("bf16", BF16_PEAK), ("int8", INT8_PEAK)) if key in rate})
    return peaks


def print_peaks(medians: dict, size: int, peaks: dict[str, float]) -> None:
    """The measured `peaks` (measured_peaks): fp32 by each of its three products, then bf16 and int8 against fp32's."""
    rates = ", ".join(f"{key[1]} {2.0 * size**3 / (medians[key] / 1000) / 1e9:.1f}" for key in PEAKS)
    line = f"achievable peak: fp32 {peaks['fp32'] / 1e9:.1f} GFLOP/s ({size}^3 product, same rounds: {rates} GFLOP/s)"
    for precision, how in (("bf16", "torch.mm"), ("int8", "onnxruntime MatMulInteger")):
        if precision in peaks:
            line += f"; {precision} {peaks[precision] / 1e9:.1f} ({how}, {peaks[precision] / peaks['fp32']:.2f}x fp32)"
    print(line)


def print_table(models: dict, flops: dict, medians: dict, load: float, params: dict, peaks: dict[str, float]) -> None:
    """Each model's size; then a row per runtime and precision, a column per model: ms and, where the peak of the
    row's precision was measured, efficiency against it (FLOPs / (latency x peak)); and LRS-DETR-B's ratios to
    RT-DETR-R18 and RT-DETR-l, and its speed-up over PyTorch channels_last fp32 (as Ultralytics runs it)."""
    print(f"\nbatch 1, {params['imgsz']}x{params['imgsz']}, fused, nc={params['nc']}, {params['threads']} threads, "
          f"median of {params['iterations']} interleaved rounds; other processes used {load:.2f} CPU cores meanwhile")
    print(f"{'model':<28}{'params':>9}{'GFLOPs':>8}")
    for name, model in models.items():
        print(f"{name:<28}{sum(p.numel() for p in model.parameters()) / 1e6:>8.2f}M{flops[name] / 1e9:>8.1f}")
    print(f"work: LRS-DETR-B / RT-DETR-R18 = {flops[OURS] / flops[R18]:.2f} in FLOPs, LRS-DETR-B / RT-DETR-l = {flops[OURS] / flops[REFERENCE]:.2f}")
    columns = list(dict.fromkeys(column for name, column in medians if name in models))
    print(f"ms per image (efficiency against the peak of the row's precision){'' if peaks else '; no peaks measured'}")
    print(f"{'runtime':<24}{'precision':>10}" + "".join(f"{name:>27}" for name in models) + f"{'B/R18':>7}{'B/l':>6}{'B speed-up':>12}")
    eager = medians.get((OURS, TORCH_CL))
    for column in columns:
        precision = PRECISIONS.get(column, "fp32")
        cells = []
        for name in models:
            ms = medians.get((name, column))
            efficiency = f" ({flops[name] / (ms / 1000 * peaks[precision]):4.0%})" if ms and precision in peaks else ""
            cells.append(f"{'-' if ms is None else f'{ms:.1f} ms{efficiency}':>27}")
        ours = medians.get((OURS, column))
        ratios = [f"{ours / medians[(other, column)]:.2f}" if ours and (other, column) in medians else "-" for other in (R18, REFERENCE)]
        speedup = f"{eager / ours:.2f}x" if ours and eager else "-"
        print(f"{column:<24}{precision:>10}{''.join(cells)}{ratios[0]:>7}{ratios[1]:>6}{speedup:>12}")
    for column in columns:
        if (BASELINE, column) in medians:
            print(f"speed work, {column}: LRS-DETR-B {medians[(BASELINE, column)] / medians[(OURS, column)]:.2f}x faster than without it")


class LayerProfile(NamedTuple):
    """Per top-level layer (labelled "layer <index> <class>"): mean ms per forward and aten FLOPs; the slowest aten ops."""

    ms: dict[str, float]
    flops: dict[str, float]
    aten_ms: dict[str, float]  # self time per forward of every aten op, slowest first


def profile_layers(model: torch.nn.Module, imgsz: int, runs: int) -> LayerProfile:
    """torch.profiler profile of a fused Ultralytics-style model (its `model` list), channels_last: each top-level
    layer runs inside a `record_function` labelled with its index and class."""
    model = deepcopy(model).to(memory_format=torch.channels_last)
    images = torch.rand(1, 3, imgsz, imgsz).contiguous(memory_format=torch.channels_last)
    # "layer " first: torch 2.14's profiler reported "04 C2f" and "05 Conv" as " C2f" and " Conv", so those layers
    # were missing from the table
    labels = {layer: f"layer {i:02d} {type(layer).__name__}" for i, layer in enumerate(model.model)}
    open_ranges = {}

    def enter(layer, args) -> None:
        open_ranges[layer] = torch.autograd.profiler.record_function(labels[layer]).__enter__()

    def leave(layer, args, output) -> None:
        open_ranges.pop(layer).__exit__(None, None, None)

    hooks = [hook for layer in labels for hook in (layer.register_forward_pre_hook(enter), layer.register_forward_hook(leave))]
    counts = aten_flops(model, imgsz).get_flop_counts()
    flops = {labels[layer]: sum(counts.get(f"{type(model).__name__}.model.{i}", {}).values()) for i, layer in enumerate(model.model)}
    with torch.inference_mode():
        model(images)  # warm-up
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as profiler:
            for _ in range(runs):
                model(images)
    for hook in hooks:
        hook.remove()
    events = profiler.key_averages()
    missing = set(flops) - {e.key for e in events}
    if missing:
        raise RuntimeError(f"the profiler lost the ranges of {sorted(missing)}")
    aten = sorted((e for e in events if e.key.startswith("aten::")), key=lambda e: -e.self_cpu_time_total)
    return LayerProfile({e.key: e.cpu_time_total / 1000 / runs for e in events if e.key in flops}, flops,
                        {e.key: e.self_cpu_time_total / 1000 / runs for e in aten})


def print_layers(profile: LayerProfile, title: str, peak: float | None, top: int = 12) -> None:
    """Time, share, FLOPs and efficiency against `peak` of each layer, slowest first; then the slowest aten ops."""
    total = sum(profile.ms.values())
    print(f"\n{title}: {total:.1f} ms")
    print(f"{'layer':<28}{'ms':>9}{'share':>7}{'GFLOPs':>8}{'GFLOP/s':>9}{'eff.':>6}")
    for label, ms in sorted(profile.ms.items(), key=lambda item: -item[1]):
        rate = profile.flops[label] / (ms / 1000) if ms else 0.0
        efficiency = f"{rate / peak:6.0%}" if peak else f"{'-':>6}"
        print(f"{label:<28}{ms:>9.2f}{ms / total:>7.1%}{profile.flops[label] / 1e9:>8.2f}{rate / 1e9:>9.1f}{efficiency}")
    print("\nslowest aten ops (self time, mean per forward): "
          + ", ".join(f"{op} {ms:.1f} ms" for op, ms in list(profile.aten_ms.items())[:top]))


def decoder_split(profile: LayerProfile) -> tuple[tuple[float, float], tuple[float, float]]:
    """(ms, FLOPs) of the RTDETRDecoder layer and of every other layer together."""
    decoder = [label for label in profile.ms if label.endswith(" RTDETRDecoder")]
    if len(decoder) != 1:
        raise ValueError(f"expected one RTDETRDecoder layer, found {decoder or 'none'}")
    rest = [label for label in profile.ms if label not in decoder]
    return ((profile.ms[decoder[0]], profile.flops[decoder[0]]),
            (sum(profile.ms[label] for label in rest), sum(profile.flops[label] for label in rest)))


def print_decoder_split(profiles: dict[str, LayerProfile]) -> None:
    """Both models end in the same RTDETRDecoder: their ratio without it says where the rest of the gap is."""
    splits = {name: decoder_split(profile) for name, profile in profiles.items()}
    print("\nthe decoder and the rest, per model (the same profiler runs):")
    for name, ((decoder_ms, decoder_flops), (rest_ms, rest_flops)) in splits.items():
        print(f"{name:<28} decoder {decoder_ms:6.1f} ms {decoder_flops / 1e9:5.2f} GFLOPs; "
              f"the rest {rest_ms:6.1f} ms {rest_flops / 1e9:5.2f} GFLOPs")
    (ours_decoder, ours_rest), (r18_decoder, r18_rest) = splits[OURS], splits[R18]
    for part, ours, r18 in (("decoder", ours_decoder, r18_decoder), ("the rest", ours_rest, r18_rest)):
        print(f"{part}: LRS-DETR-B / RT-DETR-R18 = {ours[0] / r18[0]:.2f} in time, {ours[1] / r18[1]:.2f} in FLOPs")


def print_excess(kind: str, ours: dict[str, float], r18: dict[str, float], top: int = 12) -> None:
    """The `kind`s (aten ops, node types, ...) that make up most of B's time over R18's: ms per pass of each in
    both models, largest difference first."""
    excess = sorted(set(ours) | set(r18), key=lambda key: -abs(ours.get(key, 0.0) - r18.get(key, 0.0)))[:top]
    print(f"\nwhere B's extra time goes, by {kind}: B {sum(ours.values()):.1f} ms, R18 {sum(r18.values()):.1f} ms")
    print(f"{kind:<36}{'LRS-DETR-B':>12}{'RT-DETR-R18':>13}{'B - R18':>10}")
    for key in excess:
        b, r = ours.get(key, 0.0), r18.get(key, 0.0)
        print(f"{key:<36}{f'{b:.1f} ms':>12}{f'{r:.1f} ms':>13}{f'{b - r:+.1f} ms':>10}")


def print_op_split(profiles: dict[str, LayerProfile], top: int = 12) -> None:
    """The aten ops that make up most of B's excess over R18 (self time per forward, the same profiler runs)."""
    print_excess("aten op", profiles[OURS].aten_ms, profiles[R18].aten_ms, top)


def openvino_export(folder: Path, name: str) -> Path | None:
    """The float OpenVINO export of model `name` that `export_calls` made in `folder`, if it made one."""
    return next((p for p in (folder / name.replace(" ", "_")).glob("*_openvino_model") if not p.name.endswith("_int8_openvino_model")), None)


def print_openvino_split(folder: Path, params: dict, precision: str, runs: int, top: int = 12) -> None:
    """B's and R18's OpenVINO time at `precision` by the plugin's own per-node counters: B's slowest layers, then
    B's excess over R18 by node type."""
    times = {name: openvino_node_times(openvino_export(folder, name), params["imgsz"], params["threads"], precision, runs) for name in (OURS, R18)}
    ours = times[OURS].layers
    print(f"\nOpenVINO {precision} per node (its CPU plugin's performance counters, mean of {runs} passes; counting adds overhead)")
    print("LRS-DETR-B's slowest layers: " + ", ".join(f"{layer} {ours[layer]:.1f} ms" for layer in sorted(ours, key=lambda k: -ours[k])[:top]))
    print_excess(f"OpenVINO {precision} node type", times[OURS].types, times[R18].types, top)


def build(name: str, nc: int) -> torch.nn.Module:
    """Ours through `build_model` (our fuse() adds the depthwise merge and the inference layout); the reference
    with Ultralytics' own class, exactly as stock Ultralytics builds and fuses it."""
    if name == REFERENCE:
        return RTDETRDetectionModel(MODELS[name], nc=nc, verbose=False).eval()
    return build_model(MODELS[name], nc=nc).eval()


def main(params: dict) -> None:
    flags = cpu_flags()
    print(f"processor: {device_name(torch.device('cpu'))}; {processor_units(flags)}; {bf16_notice(flags) or 'bf16 runs on its own units'}")
    if bf16_notice(flags):
        call, flops = matmul_call(EMULATED_SIZE, "mm_bf16")
        start = time.perf_counter()
        call()
        print(f"bf16 not timed in the rounds: one {EMULATED_SIZE}^3 product took {flops / (time.perf_counter() - start) / 1e9:.1f} GFLOP/s here")
    if params["keep_freed_memory"] and not keep_freed_memory():
        print("keep_freed_memory: not glibc's malloc here, nothing set")
    unfused = {name: build(name, params["nc"]) for name in MODELS}
    models = {name: deepcopy(model).fuse(verbose=False) for name, model in unfused.items()}
    if params["baseline"]:
        models = {OURS: models.pop(OURS), BASELINE: without_speed_work(unfused[OURS]), **models}
    flops = {name: aten_flops(model, params["imgsz"]).get_total_flops() for name, model in models.items()}
    native_bf16 = not bf16_notice(flags)  # emulated bf16 runs ~1 GFLOP/s: minutes a round at 2048, hours a model
    if params["bf16"] and not native_bf16:
        print("bf16 columns skipped: bf16 is emulated on this processor (--bf16 False says nothing)")
    with tempfile.TemporaryDirectory() as folder:
        if params["compile"]:
            print(compile_line(torch.device("cpu")))
        calls = cpu_calls(models, params, Path(folder), native_bf16)
        peak_kinds = {**PEAKS, **({BF16_PEAK: "mm_bf16"} if native_bf16 else {}),
                      **({INT8_PEAK: "ort_int8"} if any(PRECISIONS.get(column) == "int8" for _, column in calls) else {})}
        # after `import ultralytics` (OMP_NUM_THREADS=1 if unset) and the exporter (torch threads = cores - 1)
        torch.set_num_threads(params["threads"])
        for key, kind in peak_kinds.items():
            calls[key] = matmul_call(params["peak_size"], kind)[0]
        medians, load = time_in_rounds(calls, params["iterations"], params["warmup"], lambda: None)
        peaks = measured_peaks(medians, params["peak_size"])
        print_peaks(medians, params["peak_size"], peaks)
        print_table(models, flops, medians, load, params, peaks)
        if params["profile"]:
            runs = max(1, params["iterations"] // 4)
            profiles = {name: profile_layers(models[name], params["imgsz"], runs) for name in (OURS, R18)}
            print_layers(profiles[OURS], f"LRS-DETR-B per layer (torch.profiler, channels_last, {params['imgsz']}x"
                         f"{params['imgsz']}, mean of {runs} runs; profiling adds overhead)", peaks["fp32"])
            print_decoder_split(profiles)
            print_op_split(profiles)
            if params["openvino"]:  # in its fastest float precision here
                print_openvino_split(Path(folder), params, "bf16" if params["bf16"] and native_bf16 else "f32", runs)
        if params["sampling"]:
            medians, load = time_in_rounds(sampling_calls(models, params["imgsz"]), params["iterations"], params["warmup"], lambda: None)
            print_sampling(models, medians, load, params)
        if params["rewrites"]:
            calls = rewrite_calls(models[OURS], params["imgsz"])
            medians, load = time_in_rounds(calls, params["iterations"], params["warmup"], lambda: None)
            print_rewrites(calls, medians, load, params)
        if params["sliced"]:
            sliced_rounds = max(1, params["iterations"] // 4)  # a frame is over a dozen forward passes
            medians, load = time_in_rounds(sliced_calls(unfused, params, "cpu"), sliced_rounds, 1, lambda: None)
            print_sliced(medians, load, sliced_rounds, params, "cpu")
        if torch.cuda.is_available():
            calls = cuda_calls(models, params, Path(folder))
            medians, load = time_in_rounds(calls, params["iterations"], params["warmup"], torch.cuda.synchronize)
            print_table(models, flops, medians, load, params, {})
            if params["sliced"]:
                medians, load = time_in_rounds(sliced_calls(unfused, params, "0"), params["iterations"], params["warmup"], torch.cuda.synchronize)
                print_sliced(medians, load, params["iterations"], params, "cuda:0")


COMMAND = Command("bench latency", "CPU latency of LRS-DETR-B against RT-DETR, runtime by runtime", __doc__, DEFAULTS,
                  CommandPaths, main, script="benchmarks/latency.py")  # builds its models, exports into a temporary folder
