"""Convert a checkpoint saved by the authors' LRS-DETR repository into one of this package.

    python -m lrsdetr.compat convert their_best.pt ours.pt

The new file holds our LRS-DETR-B with their weights (FP16, as Ultralytics saves models), their class names and
image size: `RTDETR('ours.pt')` loads it like any checkpoint of ours, and so do Ultralytics' own classes wherever
lrsdetr is installed. (`RTDETR('their_best.pt')` also works, importing the weights on every load.)
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import torch

from ..data.files import write_bytes_atomic
from ..utils.errors import DataError, run_script
from .original import ORIGINAL_MODULE, is_original_checkpoint, original_to_ultralytics_checkpoint


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lrsdetr.compat", description=__doc__.split("\n\n")[0], allow_abbrev=False)
    commands = parser.add_subparsers(dest="command", required=True)
    converter = commands.add_parser("convert", help="the authors' best.pt -> a checkpoint of this package", allow_abbrev=False)
    converter.add_argument("source", type=Path, help="best.pt saved by the authors' repository")
    converter.add_argument("output", type=Path, help="new .pt file to write")
    args = parser.parse_args(argv)
    return run_script(convert, args.source, args.output)


if __name__ == "__main__":
    raise SystemExit(main())
