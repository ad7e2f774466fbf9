"""The data set training and validation read: Ultralytics' RT-DETR dataset, writing nothing into the user's folder.

Ultralytics writes into a data set twice when it first scans the labels: it re-encodes in place a JPEG that does not
end with its end marker ("corrupt JPEG restored and saved"), and it saves its label cache as `labels/<split>.cache`
beside the labels. `LRSDETRDataset` verifies such a JPEG through a throwaway copy and reads the original as OpenCV
decodes it (the decoder stops at the end marker), naming the file in the log; the label cache goes to the lrsdetr
cache folder (`$LRSDETR_CACHE_DIR`, default ~/.cache/lrsdetr), one file per label folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path

from ultralytics.data.utils import get_split_fraction
from ultralytics.models.rtdetr.val import RTDETRDataset
from ultralytics.utils import colorstr

from lrsdetr.data.files import truncated_jpeg

CACHE_DIR_VARIABLE = "LRSDETR_CACHE_DIR"
READ_AS_DECODED = "JPEG truncated or with bytes after its end; read as decoded, the file is left as it is"
ULTRALYTICS_RESAVED = "corrupt JPEG restored and saved"  # check_image's message after re-encoding in place


def cache_dir() -> Path:
    """Where lrsdetr keeps what outlives a run but belongs to no run folder: $LRSDETR_CACHE_DIR, else ~/.cache/lrsdetr."""
    return Path(os.environ.get(CACHE_DIR_VARIABLE) or Path.home() / ".cache" / "lrsdetr").expanduser()


def label_cache_path(ultralytics_path: Path) -> Path:
    """Our place for the label cache Ultralytics would save at `ultralytics_path` (labels/<split>.cache): in the cache
    folder, named by the split and a digest of the label folder's resolved path, so each data set keeps its own."""
    path = Path(ultralytics_path)
    key = hashlib.sha256(str(path.parent.resolve() / path.name).encode()).hexdigest()[:16]
    return cache_dir() / "labels" / f"{path.stem}-{key}.cache"


def verify_leaving_file(verify: Callable, prefix: str, args: tuple) -> tuple | list:
    """`verify` (Ultralytics' verify_image_label) on `args`, except that a JPEG not ending with its end marker is
    verified through a throwaway copy, which Ultralytics may re-encode, and keeps its own path: the data set reads the
    original. One Ultralytics cannot decode (cut short) is left out of the data set, as Ultralytics leaves it out."""
    image = args[0]
    if not truncated_jpeg(Path(image)):
        return verify(args)
    with tempfile.TemporaryDirectory(prefix="lrsdetr-verify-") as scratch:
        stand_in = str(Path(scratch) / Path(image).name)
        shutil.copyfile(image, stand_in)
        verified, *counts, message = verify((stand_in, *args[1:]))
    message = message.replace(stand_in, image)
    if verified is None:
        return [None, *counts, message]
    other = [] if not message or message.endswith(ULTRALYTICS_RESAVED) else [message]  # e.g. duplicate labels removed
    return (image, *counts, "\n".join([f"{prefix}{image}: {READ_AS_DECODED}", *other]))


class LRSDETRDataset(RTDETRDataset):
    """Ultralytics' RT-DETR dataset, leaving the user's images and label folder as they are (module docstring)."""

    def verify_args(self) -> tuple:
        verify, arguments = super().verify_args()
        return partial(verify_leaving_file, verify, self.prefix), arguments

    def _load_or_scan_cache(self, cache_path: Path, cache_hash: str) -> tuple[dict, bool]:
        path = label_cache_path(cache_path)
        with contextlib.suppress(OSError):  # not writable: Ultralytics says so and scans without saving
            path.parent.mkdir(parents=True, exist_ok=True)
        return super()._load_or_scan_cache(path, cache_hash)


def rtdetr_dataset(img_path: str, args, data: dict, mode: str = "val", batch: int | None = None) -> LRSDETRDataset:
    """What RTDETRTrainer.build_dataset (`mode` train or val) and RTDETRValidator.build_dataset build from their
    `args` and `data`, as an LRSDETRDataset: augmented for training only, never rectangular."""
    split = "train" if mode == "train" else args.split or "val"
    return LRSDETRDataset(
        img_path=img_path, imgsz=args.imgsz, batch_size=batch, augment=mode == "train", hyp=args, rect=False,
        cache=args.cache or None, single_cls=args.single_cls or False, prefix=colorstr(f"{mode}: "),
        classes=args.classes, data=data, fraction=1.0 if data.get("complete") else get_split_fraction(args.fraction, split),
    )
