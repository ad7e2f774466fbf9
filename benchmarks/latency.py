"""Batch-1 latency of LRS-DETR-B beside Ultralytics' RT-DETR-l and our RT-DETR-R18: PyTorch eager and ONNX Runtime.

    python benchmarks/latency.py                                  # 640x640, 2 threads, 20 timed rounds
    python benchmarks/latency.py --iterations 50 --imgsz 320 --onnx False

Every model is fused, in eval mode, with the same number of classes (`nc`, VisDrone's 10). PyTorch runs twice:
on NCHW tensors as `model(x)` does, and with channels_last weights, which is how Ultralytics' AutoBackend (so
`predict` and `val`) prepares a PyTorch model on x86 CPUs. `--baseline` adds LRS-DETR-B with our speed work
off (Omni-Kernel in NCHW, its four depthwise convs unmerged, Ultralytics' plain fuse()), timed in the same rounds,
so the speed-up is a ratio measured under the same conditions. ONNX Runtime runs the graph Ultralytics' exporter writes.

Each round runs every entry once, in turn, and each entry reports the median over rounds: load from other
processes then hits all entries alike, and the ratios stay meaningful on a busy machine (the absolute times
do not: the table says how much CPU other processes took while timing). With CUDA, PyTorch fp32/fp16 and a
TensorRT fp16 engine are timed too.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager
from copy import deepcopy
from pathlib import Path

import torch
from ultralytics.engine.exporter import Exporter
from ultralytics.nn.tasks import RTDETRDetectionModel
from ultralytics.utils import LOGGER
from ultralytics.utils.torch_utils import get_flops

from lrsdetr import build_model
from lrsdetr.nn.modules import OmniKernel
from lrsdetr.utils.cli import parse_overrides

param_dict = {
    "imgsz": 640,
    "iterations": 20,  # timed rounds; the median of each entry is reported
    "warmup": 3,  # untimed rounds first
    "threads": 2,  # torch.set_num_threads and ONNX Runtime's intra_op_num_threads
    "nc": 10,  # classes of every model
    "baseline": True,  # also time LRS-DETR-B without the speed work
    "onnx": True,  # also export to ONNX and time ONNX Runtime
}

MODELS = {"LRS-DETR-B": "lrs-detr-b.yaml", "RT-DETR-l (Ultralytics)": "rtdetr-l.yaml", "RT-DETR-R18": "rtdetr-r18.yaml"}
OURS, REFERENCE, BASELINE = "LRS-DETR-B", "RT-DETR-l (Ultralytics)", "LRS-DETR-B, no speed work"
TORCH_NCHW, TORCH_CL, ORT = "PyTorch NCHW", "PyTorch channels_last", "ONNX Runtime"


def without_speed_work(model: RTDETRDetectionModel) -> RTDETRDetectionModel:
    """A fused copy of an unfused LRS-DETR model with the Omni-Kernel as the authors run it: NCHW, four depthwise convs."""
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
    level = LOGGER.level
    LOGGER.setLevel("WARNING")
    try:
        with working_folder(folder):
            return folder / Exporter(overrides={"batch": 1, "verbose": False, "mode": "export", **options})(model=model)
    finally:
        LOGGER.setLevel(level)


def onnx_call(model: torch.nn.Module, imgsz: int, threads: int, folder: Path) -> Callable[[], object]:
    import onnxruntime as ort

    path = export(model, folder, format="onnx", imgsz=imgsz, simplify=True)
    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # idle threads would slow PyTorch's turns
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    feed = {session.get_inputs()[0].name: torch.rand(1, 3, imgsz, imgsz).numpy()}
    return lambda: session.run(None, feed)


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


def cpu_calls(models: dict, params: dict, folder: Path) -> dict[tuple[str, str], Callable[[], object]]:
    images = torch.rand(1, 3, params["imgsz"], params["imgsz"])
    images_cl = images.contiguous(memory_format=torch.channels_last)
    calls = {}
    for name, model in models.items():
        model_cl = deepcopy(model).to(memory_format=torch.channels_last)
        calls[(name, TORCH_NCHW)] = lambda m=model: m(images)
        calls[(name, TORCH_CL)] = lambda m=model_cl: m(images_cl)
        if params["onnx"] and name != BASELINE:
            calls[(name, ORT)] = onnx_call(model, params["imgsz"], params["threads"], folder)
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


def print_table(models: dict, medians: dict, load: float, params: dict) -> None:
    columns = list(dict.fromkeys(column for _, column in medians))
    print(f"\nbatch 1, {params['imgsz']}x{params['imgsz']}, fused, nc={params['nc']}, {params['threads']} threads, "
          f"median of {params['iterations']} interleaved rounds; other processes used {load:.2f} CPU cores meanwhile")
    print(f"{'model':<28}{'params':>9}{'GFLOPs':>8}" + "".join(f"{c:>24}" for c in columns))
    for name, model in models.items():
        params_m = sum(p.numel() for p in model.parameters()) / 1e6
        row = "".join(f"{medians[(name, c)]:>21.1f} ms" if (name, c) in medians else f"{'-':>24}" for c in columns)
        print(f"{name:<28}{params_m:>8.2f}M{get_flops(model, params['imgsz']):>8.1f}{row}")
    for column in columns:
        ratio = medians[(OURS, column)] / medians[(REFERENCE, column)]
        line = f"{column}: LRS-DETR-B / RT-DETR-l = {ratio:.2f}"
        if (BASELINE, column) in medians:
            line += f"; speed work: {medians[(BASELINE, column)] / medians[(OURS, column)]:.2f}x faster than without it"
        print(line)


def build(name: str, nc: int) -> torch.nn.Module:
    """Ours through `build_model` (our fuse() adds the depthwise merge and the inference layout); the reference
    with Ultralytics' own class, exactly as stock Ultralytics builds and fuses it."""
    if name == REFERENCE:
        return RTDETRDetectionModel(MODELS[name], nc=nc, verbose=False).eval()
    return build_model(MODELS[name], nc=nc).eval()


def main(params: dict) -> None:
    unfused = {name: build(name, params["nc"]) for name in MODELS}
    models = {name: deepcopy(model).fuse(verbose=False) for name, model in unfused.items()}
    if params["baseline"]:
        models = {OURS: models.pop(OURS), BASELINE: without_speed_work(unfused[OURS]), **models}
    with tempfile.TemporaryDirectory() as folder:
        calls = cpu_calls(models, params, Path(folder))
        # after `import ultralytics` (OMP_NUM_THREADS=1 if unset) and the exporter (torch threads = cores - 1)
        torch.set_num_threads(params["threads"])
        medians, load = time_in_rounds(calls, params["iterations"], params["warmup"], lambda: None)
        print_table(models, medians, load, params)
        if torch.cuda.is_available():
            calls = cuda_calls(models, params, Path(folder))
            medians, load = time_in_rounds(calls, params["iterations"], params["warmup"], torch.cuda.synchronize)
            print_table(models, medians, load, params)


if __name__ == "__main__":
    main(parse_overrides(param_dict, __doc__))
