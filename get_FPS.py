"""Latency (mean +/- std per batch) and FPS of a fused model's forward pass, on CPU or CUDA (synchronised timing).

Edit param_dict below, or override it with flags; `python get_FPS.py --help` lists every flag, its
default and examples (the same command is `lrsdetr fps` for pip installs).
"""

from lrsdetr.commands import run_root_script

param_dict = {
    "weights": "runs/train/lrs-detr-b/weights/best.pt",  # a .pt, or a config name (lrs-detr-b.yaml) for random weights
    "imgsz": 640,
    "batch": 1,
    "half": False,  # 16-bit floats: fp16 on CUDA, bf16 on CPU (emulated and slow without bf16 units); False: fp32
    "compile": False,  # True: torch.compile the PyTorch model (the first pass compiles, a minute or more)
    "device": "",  # '0' or 'cpu'; '' = first GPU, else CPU
    "warmup": 50,  # untimed passes first (cuDNN autotuning, caches, clocks)
    "iterations": 200,  # timed passes
    "threads": 0,  # CPU threads; 0 = every core
    "trust_checkpoint": False,  # True: load checkpoints from elsewhere unrestricted (their code may run)
}

if __name__ == "__main__":
    raise SystemExit(run_root_script("fps", param_dict))
