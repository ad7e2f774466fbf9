"""GPU figures in one short run: inference latency/FPS of LRS-DETR-B, RT-DETR-R18 and RT-DETR-l in fp32, fp16
and bf16 at batch 1 and 8, B and R18 compiled, sliced inference, then `train_iters` training iterations of
LRS-DETR-B with AMP.

    python benchmarks/gpu.py                                    # CUDA: 640 px, batch 1 and 8, 100 AMP iterations
    python benchmarks/gpu.py --imgsz 64 --batches 1 --iterations 2 --train_iters 2 --train_imgsz 64   # CPU dry run

Inference: fused, eval, weights and input cast to the dtype; each batch size times the models in interleaved
rounds (median per entry; CUDA synchronised around every call). fp16 runs on CUDA only; on CPU it is
skipped, and so are GPU memory figures. Training: random images with a few random boxes each, AdamW,
`torch.autocast` (fp16 with a GradScaler on CUDA, bf16 on CPU), reporting images/s, peak GPU memory and
whether any loss was not finite. Compiled (`--compile`): B and R18 through torch.compile (inductor; fp16 on
CUDA, fp32 on CPU) at batch 1, eager and compiled in the same rounds, compile time and agreement with eager's
detections printed (tools/compiled.py). Sliced (`--sliced`): frames/s of detect's sliced predictor on a
2000x1500 frame, one tile per forward pass against --slice_batch's default (benchmarks/latency.py's method).
TensorRT is not timed here: benchmarks/latency.py times an engine when
the `tensorrt` package is present, and nothing is claimed for TensorRT otherwise.
"""

from __future__ import annotations

import time

import torch

from lrsdetr.tools.compiled import compile_and_compare, inductor_missing
from lrsdetr.utils.command import Command
from lrsdetr.utils.guard import CommandPaths

from .latency import MODELS, OURS, R18, build, print_sliced, sliced_calls, time_in_rounds

DEFAULTS = {
    "imgsz": 640,
    "batches": "1,8",  # batch sizes timed for inference
    "dtypes": "fp32,fp16,bf16",
    "iterations": 30,  # timed rounds per batch size
    "warmup": 5,
    "nc": 10,
    "train_iters": 100,  # AMP training iterations of LRS-DETR-B (0: none)
    "train_batch": 8,
    "train_imgsz": 640,
    "boxes": 20,  # random boxes per training image
    "compile": True,  # also LRS-DETR-B and RT-DETR-R18 through torch.compile at batch 1 (fp16 on CUDA, fp32 on CPU)
    "sliced": True,  # also frames/s of sliced inference on a 2000x1500 frame, slice_batch 1 against its default
}

DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


def device_and_sync() -> tuple[torch.device, callable]:
    if torch.cuda.is_available():
        return torch.device("cuda:0"), torch.cuda.synchronize
    return torch.device("cpu"), lambda: None


def inference(params: dict, device: torch.device, sync) -> None:
    """Latency and FPS per model, dtype and batch size."""
    dtypes = [d for d in params["dtypes"].split(",") if d]
    if device.type != "cuda" and "fp16" in dtypes:
        print("fp16 inference: CUDA only, skipped on cpu")
        dtypes.remove("fp16")
    models = {(name, dtype): build(name, params["nc"]).fuse(verbose=False).to(device, DTYPES[dtype]) for name in MODELS for dtype in dtypes}
    for batch in (int(b) for b in str(params["batches"]).split(",")):
        images = {dtype: torch.rand(batch, 3, params["imgsz"], params["imgsz"], device=device, dtype=DTYPES[dtype]) for dtype in dtypes}
        calls = {key: (lambda m=model, x=images[key[1]]: m(x)) for key, model in models.items()}
        medians, _ = time_in_rounds(calls, params["iterations"], params["warmup"], sync)
        print(f"\nbatch {batch}, {params['imgsz']}x{params['imgsz']}, {device}, median of {params['iterations']} interleaved rounds")
        print(f"{'model':<26}" + "".join(f"{d:>22}" for d in dtypes))
        for name in MODELS:
            cells = "".join(f"{f'{medians[(name, d)]:.2f} ms, {batch * 1000 / medians[(name, d)]:.0f} FPS':>22}" for d in dtypes)
            print(f"{name:<26}{cells}")


def compiled(params: dict, device: torch.device, sync) -> None:
    """LRS-DETR-B and RT-DETR-R18 eager and compiled (inductor) at batch 1, timed in the same rounds; compile time
    and agreement with eager's detections printed first (tools/compiled.py)."""
    dtype = "fp16" if device.type == "cuda" else "fp32"
    images = torch.rand(1, 3, params["imgsz"], params["imgsz"], device=device, dtype=DTYPES[dtype])
    calls = {}
    for name in (OURS, R18):
        model = build(name, params["nc"]).fuse(verbose=False).to(device, DTYPES[dtype])
        result = compile_and_compare(model, images, dtype)
        print(f"{name}, {dtype}: {result.summary(dtype)}")
        calls[(name, "eager")], calls[(name, "compiled")] = (lambda m=model: m(images)), (lambda m=result.module: m(images))
    medians, _ = time_in_rounds(calls, params["iterations"], params["warmup"], sync)
    print(f"\ncompiled, batch 1, {params['imgsz']}x{params['imgsz']}, {dtype}, {device}, median of {params['iterations']} interleaved rounds")
    print(f"{'model':<26}{'eager':>12}{'compiled':>12}{'speed-up':>10}")
    for name in (OURS, R18):
        eager, fast = medians[(name, "eager")], medians[(name, "compiled")]
        print(f"{name:<26}{f'{eager:.2f} ms':>12}{f'{fast:.2f} ms':>12}{eager / fast:>9.2f}x")
    print(f"LRS-DETR-B / RT-DETR-R18: {medians[(OURS, 'eager')] / medians[(R18, 'eager')]:.2f} eager, "
          f"{medians[(OURS, 'compiled')] / medians[(R18, 'compiled')]:.2f} compiled")


def sliced(params: dict, device: torch.device, sync) -> None:
    """detect's sliced predictor on one 2000x1500 frame, one tile per forward pass against --slice_batch's default."""
    unfused = {name: build(name, params["nc"]) for name in (OURS, R18)}
    where = "0" if device.type == "cuda" else "cpu"
    rounds = max(1, params["iterations"] // 4)  # a frame is over a dozen forward passes
    medians, load = time_in_rounds(sliced_calls(unfused, params, where), rounds, 1, sync)
    print_sliced(medians, load, rounds, params, str(device))


def random_batch(batch: int, imgsz: int, boxes: int, nc: int, device: torch.device) -> dict:
    """Random images with `boxes` random boxes each (normalised xywh), as Ultralytics' RT-DETR loss takes them."""
    centres, sizes = torch.rand(batch * boxes, 2) * 0.8 + 0.1, torch.rand(batch * boxes, 2) * 0.15 + 0.01
    return {
        "img": torch.rand(batch, 3, imgsz, imgsz, device=device),
        "batch_idx": torch.arange(batch).repeat_interleave(boxes).float(),
        "cls": torch.randint(0, nc, (batch * boxes, 1)).float(),
        "bboxes": torch.cat([centres, sizes], 1),
    }


def training(params: dict, device: torch.device, sync) -> None:
    """`train_iters` AMP iterations of LRS-DETR-B: throughput, peak memory, finite losses."""
    model = build(OURS, params["nc"]).to(device).train()
    model.nc = params["nc"]  # what Ultralytics' trainer sets; the loss reads it
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    cuda = device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=cuda)
    amp_dtype = torch.float16 if cuda else torch.bfloat16
    batch = random_batch(params["train_batch"], params["train_imgsz"], params["boxes"], params["nc"], device)
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    not_finite, start = 0, None
    for step in range(params["train_iters"] + 1):  # step 0 is warm-up, untimed
        if step == 1:
            sync()
            start = time.perf_counter()
        with torch.autocast(device.type, dtype=amp_dtype):
            loss, _ = model.loss(batch)
        loss = loss.sum()
        not_finite += int(not torch.isfinite(loss).item())
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
    sync()
    seconds = time.perf_counter() - start
    images = params["train_iters"] * params["train_batch"]
    memory = f"{torch.cuda.max_memory_allocated() / 2**30:.2f} GiB peak allocated" if cuda else "GPU memory: n/a on cpu"
    print(f"\ntraining {OURS}: {params['train_iters']} iterations, batch {params['train_batch']}, {params['train_imgsz']} px, "
          f"AMP {str(amp_dtype).removeprefix('torch.')}, {device}: {images / seconds:.1f} images/s, {seconds / params['train_iters'] * 1000:.0f} ms/iteration, "
          f"{memory}, {not_finite} non-finite losses, last loss {loss.item():.3f}")


def main(params: dict) -> None:
    device, sync = device_and_sync()
    name = torch.cuda.get_device_name(0) if device.type == "cuda" else "cpu (dry run: CUDA-only parts skipped)"
    print(f"torch {torch.__version__}, {name}")
    with torch.inference_mode():
        inference(params, device, sync)
    if params["compile"]:
        missing = inductor_missing(device)
        if missing:
            print(f"\ncompile: {missing}; not timed")
        else:
            compiled(params, device, sync)
    if params["sliced"]:
        sliced(params, device, sync)
    if params["train_iters"]:
        training(params, device, sync)


COMMAND = Command("bench gpu", "GPU latency by dtype and batch, and AMP training steps", __doc__, DEFAULTS, CommandPaths, main,
                  script="benchmarks/gpu.py")  # random tensors in, figures printed
