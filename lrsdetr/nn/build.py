"""Build a model's layers from an Ultralytics-style YAML, with each block's channel rule from the registry.

Ultralytics' `parse_model` keeps its channel rules in local sets, so a block it does not know gets no
input-channel argument. Rather than patch it, we build YAMLs that use our blocks here: each block's registered
rule (nn/registry.py) says how the YAML arguments become constructor arguments and what the output width is.
YAMLs made only of Ultralytics blocks (rtdetr-l, lrs-detr-b-plain, ...) still go through Ultralytics' own builder.
"""

from __future__ import annotations

import ast
from pathlib import Path

import torch.nn as nn
import ultralytics.nn.modules as ul
from ultralytics.utils import LOGGER
from ultralytics.utils.ops import make_divisible

from . import modules  # noqa: F401  (registers our blocks)
from .registry import BLOCKS, spec_of


def custom_blocks() -> dict[str, type[nn.Module]]:
    """Our registered blocks that YAML rows can name, by class name (Ultralytics' and torch's are found in them)."""
    return {block.__name__: block for block, spec in BLOCKS.items()
            if spec.channels and not block.__module__.startswith(("ultralytics.", "torch."))}


def uses_custom_blocks(yaml_dict: dict) -> bool:
    """True if any layer of the YAML is one of our blocks (so our builder must build it)."""
    ours = custom_blocks()
    return any(row[2] in ours for row in yaml_dict["backbone"] + yaml_dict["head"])


def resolve_block(name: str) -> type[nn.Module]:
    """'nn.Upsample' -> torch.nn.Upsample, 'DEFBlock' -> ours, 'Conv' -> Ultralytics' Conv."""
    if name.startswith("nn."):
        return getattr(nn, name[3:])
    ours = custom_blocks()
    if name in ours:
        return ours[name]
    block = getattr(ul, name, None)
    if block is None:
        raise KeyError(f"unknown block '{name}' in model YAML: not one of ours ({', '.join(ours)}) nor Ultralytics'")
    return block


def _literal(arg, yaml_dict: dict):
    """YAML args may name a YAML key ('nc') or hold a Python literal as text ('None')."""
    if not isinstance(arg, str):
        return arg
    if arg in yaml_dict:
        return yaml_dict[arg]
    try:
        return ast.literal_eval(arg)
    except (ValueError, SyntaxError):
        return arg


def _scale_gains(yaml_dict: dict) -> tuple[float, float, float]:
    """(depth, width, max_channels) from `scales` (first scale if none chosen), else the multiples."""
    scales = yaml_dict.get("scales")
    if scales:
        scale = yaml_dict.get("scale") or next(iter(scales))
        return tuple(scales[scale])
    return yaml_dict.get("depth_multiple", 1.0), yaml_dict.get("width_multiple", 1.0), float("inf")


def build_layers(yaml_dict: dict, ch: int = 3, verbose: bool = True) -> tuple[nn.Sequential, list[int]]:
    """Return (layers, save list) for a YAML dict, in the form Ultralytics' BaseModel runs."""
    depth, width_gain, max_channels = _scale_gains(yaml_dict)

    def width(c: int) -> int:
        return make_divisible(min(c, max_channels) * width_gain, 8)

    source = Path(yaml_dict.get("yaml_file", "model.yaml")).name
    if verbose:
        LOGGER.info(f"\n{'':>3}{'from':>20}{'n':>3}{'params':>10}  {'module':<45}{'arguments':<30}")
    channels, layers, save = [ch], [], []
    for i, (f, n, name, args) in enumerate(yaml_dict["backbone"] + yaml_dict["head"]):
        block = resolve_block(name)
        rule = getattr(spec_of(block), "channels", None)
        if rule is None:
            known = ", ".join(b.__name__ for b, spec in BLOCKS.items() if spec.channels)
            raise KeyError(f"{source} layer {i}: no channel rule for block '{name}' (known: {known}); see nn/registry.py")
        args = [_literal(a, yaml_dict) for a in args]
        n_yaml = n = max(round(n * depth), 1) if n > 1 else n
        c_in = [channels[j] for j in f] if isinstance(f, list) else channels[f]
        args, c2, n = rule(c_in, args, n, width)
        layer = nn.Sequential(*(block(*args) for _ in range(n))) if n > 1 else block(*args)
        layer.i, layer.f, layer.type = i, f, f"{block.__module__}.{block.__qualname__}"
        layer.np = sum(p.numel() for p in layer.parameters())
        if verbose:
            shown = [a if not isinstance(a, list) or len(a) < 6 else "..." for a in args]
            LOGGER.info(f"{i:>3}{f!s:>20}{n_yaml:>3}{layer.np:10.0f}  {layer.type:<45}{shown!s:<30}")
        save.extend(x % i for x in ([f] if isinstance(f, int) else f) if x != -1)
        layers.append(layer)
        if i == 0:
            channels = []
        channels.append(c2)
    return nn.Sequential(*layers), sorted(save)
