"""Convert a checkpoint saved by the authors' LRS-DETR repository into one of this package.

    lrsdetr convert --source their_best.pt --output ours.pt   (also: python -m lrsdetr.compat convert their_best.pt ours.pt)

The new file holds our LRS-DETR-B with their weights (FP16, as Ultralytics saves models), their class names and
image size: `RTDETR('ours.pt')` loads it like any checkpoint of ours, and so do Ultralytics' own classes wherever
lrsdetr is installed. (`RTDETR('their_best.pt')` also works, importing the weights on every load.)
"""

from __future__ import annotations

import io
from pathlib import Path

import torch

from ..data.files import write_bytes_atomic
from ..utils.command import Command
from ..utils.errors import DataError
from ..utils.guard import CommandPaths
from .original import (
    ORIGINAL_MODULE,
    is_original_checkpoint,
    original_to_ultralytics_checkpoint,
)


def convert(source: Path, output: Path) -> None:
    """Write `source` (the authors' best.pt) to the new path `output` as a checkpoint of this package."""
    if not source.is_file():
        raise DataError(f"{source}: no such file (expected a best.pt saved by the authors' repository)")
    if not is_original_checkpoint(source):
        raise DataError(f"{source}: names no class of {ORIGINAL_MODULE}, so it was not saved by the authors' repository; "
                        "checkpoints of Ultralytics or of this package load as they are")
    if output.exists():
        raise DataError(f"{output}: already exists; give a new path for the converted checkpoint")
    checkpoint = original_to_ultralytics_checkpoint(source)
    checkpoint["model"] = checkpoint["model"].half()
    buffer = io.BytesIO()
    torch.save(checkpoint, buffer)
    write_bytes_atomic(output, buffer.getvalue())
    print(f"{output}: LRS-DETR-B with {len(checkpoint['model'].names)} classes from {source}; load it with RTDETR('{output}')")


CONVERT_DOC = """Convert a best.pt saved by the authors' LRS-DETR repository into a checkpoint of this package (FP16, with their
class names and image size), which RTDETR('ours.pt') and every command load like any checkpoint of ours.

Example: lrsdetr convert --source their_best.pt --output ours.pt
"""

CONVERT_DEFAULTS = {"source": "", "output": ""}


def convert_paths(params: dict) -> CommandPaths:
    """Reads the authors' checkpoint; writes the new one (never over an existing file)."""
    if not params["source"] or not params["output"]:
        raise DataError("give --source (the authors' best.pt) and --output (the new checkpoint to write)")
    return CommandPaths(params).reads("--source", params["source"]).writes("--output", params["output"])


COMMAND = Command("convert", "convert a checkpoint of the authors' repository into one of ours", CONVERT_DOC,
                  CONVERT_DEFAULTS, convert_paths, lambda params: convert(Path(params["source"]), Path(params["output"])))
