"""Output channels of every conv and linear layer before and after pruning, as a table and a bar chart.

Layers are matched by name: pruning keeps the module tree and changes only widths, so a base checkpoint and its
pruned version name the same layers. The chart shows where the pruning method took channels.
"""

from __future__ import annotations

import io
from pathlib import Path

import torch.nn as nn
from ultralytics.nn.tasks import load_checkpoint

from ..models.outputs import PRUNED_WEIGHTS, TRAINED_WEIGHTS
from ..utils.atomic import write_bytes_atomic
from ..utils.command import Command
from ..utils.errors import DataError
from ..utils.guard import CommandPaths

CHANNELS_DOC = """Output channels per layer of a base model and its pruned version, as a bar chart (PNG) and a list of the
layers that changed.

Example: python plot_channel_image.py --base-weights runs/train/lrs-detr-b/weights/best.pt              --prune-weights runs/prune/lamp_speedup1.35/weights/best.pt
"""

CHANNELS_DEFAULTS = {"base_weights": TRAINED_WEIGHTS, "prune_weights": PRUNED_WEIGHTS, "save": "channels.png", "trust_checkpoint": False}


def layer_channels(model: nn.Module) -> dict[str, int]:
    """{layer name: output channels} of the model's convs and linears, in module order. Of the decoder (the last
    layer) only the input projections count: pruning keeps the rest of it whole."""
    decoder = f"model.{len(model.model) - 1}."
    return {
        name: module.out_channels if isinstance(module, nn.Conv2d) else module.out_features
        for name, module in model.named_modules()
        if isinstance(module, (nn.Conv2d, nn.Linear)) and (not name.startswith(decoder) or ".input_proj." in name)
    }


def compare_channels(base: nn.Module, pruned: nn.Module) -> list[tuple[str, int, int]]:
    """(layer, channels before, channels after) for every layer of `base`, in order."""
    before, after = layer_channels(base), layer_channels(pruned)
    if before.keys() != after.keys():
        missing = sorted(before.keys() ^ after.keys())[:3]
        raise DataError(f"the two models do not have the same layers (e.g. {', '.join(missing)}): is one pruned from the other?")
    return [(name, before[name], after[name]) for name in before]


def plot_channels(rows: list[tuple[str, int, int]], path: Path, title: str = "") -> Path:
    """Grouped bars per layer (before, after), written to `path` as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    positions = range(len(rows))
    figure, axis = plt.subplots(figsize=(max(12.0, 0.12 * len(rows)), 6))
    axis.bar([x - 0.2 for x in positions], [r[1] for r in rows], width=0.4, label="base", color="#9ab")
    axis.bar([x + 0.2 for x in positions], [r[2] for r in rows], width=0.4, label="pruned", color="#d62")
    axis.set_xticks(list(positions), [r[0].removeprefix("model.") for r in rows], rotation=90, fontsize=5)
    axis.set_xlim(-1, len(rows))
    axis.set_ylabel("output channels")
    axis.set_title(title)
    axis.legend()
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=150)
    plt.close(figure)
    write_bytes_atomic(path, buffer.getvalue())
    return path


def main(params: dict) -> Path:
    """plot_channel_image.py: load both checkpoints, print the layers that changed, save the chart."""
    models = []
    for key in ("base_weights", "prune_weights"):
        if not Path(params[key]).is_file():
            raise DataError(f"--{key.replace('_', '-')} {params[key]}: no such checkpoint")
        models.append(load_checkpoint(params[key])[0])
    rows = compare_channels(*models)
    kept = sum(r[2] for r in rows) / max(sum(r[1] for r in rows), 1)
    for name, before, after in rows:
        if after != before:
            print(f"{name:<50} {before:>6} -> {after:<6}")
    path = plot_channels(rows, Path(params["save"]), f"{Path(params['prune_weights']).name}: {kept:.1%} of the channels kept")
    print(f"{sum(r[1] != r[2] for r in rows)} of {len(rows)} layers pruned, {kept:.1%} of the channels kept; chart: {path}")
    return path


def channels_paths(params: dict) -> CommandPaths:
    """Reads both checkpoints; writes the chart."""
    return (CommandPaths(params).reads("--base-weights", params["base_weights"]).reads("--prune-weights", params["prune_weights"])
            .writes("--save", params["save"]))


COMMAND = Command("channels", "channels per layer before and after pruning, as a chart", CHANNELS_DOC, CHANNELS_DEFAULTS,
                  channels_paths, main, script="plot_channel_image.py")
