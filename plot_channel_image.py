"""Output channels per layer of a base model and its pruned version, as a bar chart (PNG) and a list of the
layers that changed.

Example: python plot_channel_image.py --base-weights runs/train/lrs-detr-b/weights/best.pt \
             --prune-weights runs/prune/lamp_speedup1.35/weights/best.pt
"""

from lrsdetr.data.files import run_script
from lrsdetr.tools.channels import main
from lrsdetr.utils.cli import parse_overrides

param_dict = {
    "base_weights": "runs/train/lrs-detr-b/weights/best.pt",
    "prune_weights": "runs/prune/lamp_speedup1.35/weights/best.pt",
    "save": "channels.png",  # where the chart goes
}

if __name__ == "__main__":
    raise SystemExit(run_script(main, parse_overrides(param_dict, __doc__)))
