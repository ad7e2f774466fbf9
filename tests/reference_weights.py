"""The reference fixture's deterministic weights and input (recipe in ../shared/reference/README.md).

The authors' model was run on weights drawn from a per-tensor seed, so any test can rebuild exactly
the state dict they used from `keys.json` alone, and feed it the same input image.
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import numpy as np
import torch

__all__ = ("recipe_tensor", "recipe_state_dict", "reference_input")


def recipe_tensor(name: str, shape: list[int], role: str, seed: int = 0) -> torch.Tensor:
    """One tensor of the recipe: a standard normal draw seeded by `seed ^ crc32(name)`, scaled by role and shape."""
    z = np.random.default_rng(seed ^ zlib.crc32(name.encode())).standard_normal(shape).astype(np.float32)
    if role == "bn_var":
        value = 0.5 + 0.5 * np.abs(z)
    elif role == "bn_mean":
        value = 0.1 * z
    elif role == "bn_weight" or (len(shape) == 1 and name.endswith(".weight")):
        value = 1 + 0.1 * z
    elif len(shape) >= 2:
        value = z / np.sqrt(np.prod(shape[1:]))
    else:
        value = 0.1 * z
    return torch.from_numpy(np.asarray(value, dtype=np.float32))


def recipe_state_dict(keys_json_path: str | Path, seed: int = 0) -> dict[str, torch.Tensor]:
    """The authors' state dict as the fixture was made: every entry of keys.json whose role is not `skip`."""
    entries = json.loads(Path(keys_json_path).read_text())
    return {e["name"]: recipe_tensor(e["name"], e["shape"], e["role"], seed) for e in entries if e["role"] != "skip"}


def reference_input(seed: int, h: int, w: int) -> torch.Tensor:
    """The fixture's input image batch (1, 3, h, w), uniform in [0, 1)."""
    return torch.from_numpy(np.random.default_rng(seed).random((1, 3, h, w), dtype=np.float32))
