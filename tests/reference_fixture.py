"""The authors' layer-by-layer outputs, read the same way from the full fixture or its compact copy.

The full fixture (../shared/reference) stores every value; the compact one (tests/fixtures/reference, derived by
tests/fixtures/make_compact_reference.py) stores some maps whole and 4096 sampled values of the others. Tests
compare ours with `max_abs_difference`, which looks at every stored value, so they run unchanged on either.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from reference_weights import reference_input

FULL_NAME = "features-seed0-256x256.npz"
COMPACT_NAME = "features-seed0-256x256-sampled.npz"


class ReferenceFeatures:
    def __init__(self, directory: Path):
        full = directory / FULL_NAME
        self._data = np.load(full if full.exists() else directory / COMPACT_NAME)
        self.input = reference_input(0, 256, 256)
        if "input" in self._data.files and not np.array_equal(self._data["input"], self.input.numpy()):
            raise AssertionError(f"{full}: its input is not the recipe's reference_input(0, 256, 256)")

    def whole(self, name: str) -> torch.Tensor:
        """A map stored whole (every map in the full fixture; layer08 and detections in the compact one)."""
        return torch.from_numpy(self._data[name])

    def max_abs_difference(self, name: str, ours: torch.Tensor) -> float:
        """Largest |ours - theirs| over the values the fixture holds for `name`."""
        if name in self._data.files:
            theirs = self._data[name]
            assert tuple(ours.shape) == theirs.shape, (name, tuple(ours.shape), theirs.shape)
            return (ours - torch.from_numpy(theirs)).abs().max().item()
        assert tuple(ours.shape) == tuple(self._data[f"{name}.shape"]), (name, tuple(ours.shape))
        index = torch.from_numpy(self._data[f"{name}.index"].astype(np.int64))
        return (ours.reshape(-1)[index] - torch.from_numpy(self._data[f"{name}.value"])).abs().max().item()
