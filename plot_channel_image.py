"""Output channels per layer of a base model and its pruned version: a bar chart (PNG) and the layers that changed.

Edit param_dict below, or override it with flags; `python plot_channel_image.py --help` lists every flag, its
default and examples (the same command is `lrsdetr channels` for pip installs).
"""

from lrsdetr.commands import run_root_script

param_dict = {
    "base_weights": "runs/train/lrs-detr-b/weights/best.pt",
    "prune_weights": "runs/prune/lamp_speedup1.35/weights/best.pt",
    "save": "channels.png",  # where the chart goes
    "trust_checkpoint": False,  # True: load checkpoints from elsewhere unrestricted (their code may run)
}

if __name__ == "__main__":
    raise SystemExit(run_root_script("channels", param_dict))
