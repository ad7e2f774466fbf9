"""GPU figures in one short run: inference latency/FPS of LRS-DETR-B, RT-DETR-R18 and RT-DETR-l in fp32, fp16
and bf16 at batch 1 and 8, then `train_iters` training iterations of LRS-DETR-B with AMP.

    python benchmarks/gpu.py                                    # CUDA: 640 px, batch 1 and 8, 100 AMP iterations
    python benchmarks/gpu.py --imgsz 64 --batches 1 --iterations 2 --train_iters 2 --train_imgsz 64   # CPU dry run

Inference: fused, eval, weights and input cast to the dtype; each batch size times the models in interleaved
rounds (median per entry; CUDA synchronised around every call). fp16 runs on CUDA only; on CPU it is
skipped, and so are GPU memory figures. Training: random images with a few random boxes each, AdamW,
`torch.autocast` (fp16 with a GradScaler on CUDA, bf16 on CPU), reporting images/s, peak GPU memory and
whether any loss was not finite. TensorRT is not timed here: benchmarks/latency.py times an engine when
the `tensorrt` package is present, and nothing is claimed for TensorRT otherwise.
"""

from __future__ import annotations

import time

import torch

from lrsdetr.utils.command import Command
from lrsdetr.utils.guard import CommandPaths

from .latency import MODELS, OURS, build, time_in_rounds

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
    if params["train_iters"]:
        training(params, device, sync)


COMMAND = Command("bench gpu", "GPU latency by dtype and batch, and AMP training steps", __doc__, DEFAULTS, CommandPaths, main,
                  script="benchmarks/gpu.py")  # random tensors in, figures printed
