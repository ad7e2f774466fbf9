"""File handling shared by the dataset converters: link-or-copy, image listing, path checks.

Every converter writes through these helpers and lrsdetr.utils.atomic's, so that an interrupted run never leaves
a half-written file under a final name, a re-run gives the same bytes, and a hard-linked output is replaced, never
written through (writing through a link would change the user's source file).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from PIL import Image, UnidentifiedImageError
from ultralytics.data.utils import exif_size

from ..utils.atomic import replace_atomically, write_bytes_atomic, write_text_atomic  # noqa: F401 - the writers: re-exported
from ..utils.errors import DataError, run_script  # noqa: F401 - run_script: re-exported, lrsdetr.data.files.run_script

# Still-image formats both PIL (sizes) and OpenCV (Ultralytics' loader) read without plugins.
IMAGE_SUFFIXES = frozenset({".bmp", ".jpeg", ".jpg", ".png", ".tif", ".tiff", ".webp"})
JPEG_START, JPEG_END = b"\xff\xd8", b"\xff\xd9"
Parsed = TypeVar("Parsed")


def link_or_copy(source: Path, path: Path, link: bool = True) -> None:
    """Place `source` at `path` as a hard link (when `link` and the file system allows) or a copy, atomically.

    A truncated JPEG is always copied: lrsdetr's training leaves it as it is (data/dataset.py), but Ultralytics' own
    tools, which may train on the converted set too, re-save one in place when they first read the labels, which
    through a link would rewrite the user's source image.
    """
    link = link and not truncated_jpeg(source)
    if link and path.exists() and os.path.samefile(source, path):
        return
    replace_atomically(path, lambda temporary: _place(source, temporary, link))


def _place(source: Path, path: Path, link: bool) -> None:
    """Hard-link `source` at `path`; copy it instead when asked to, or when the file system cannot link."""
    if link:
        try:
            os.link(source, path)
            return
        except OSError:  # another file system, or links not supported
            pass
    shutil.copyfile(source, path)


def list_images(folder: Path) -> list[Path]:
    """The image files directly in `folder`, sorted by name (the order every converter processes them in)."""
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def refuse_shared_stems(images: list[Path], argument: str) -> None:
    """Labels are found by file stem: `a.jpg` and `a.png` would share one `a.txt`, normalised to only one of them."""
    owner: dict[str, Path] = {}
    for image in images:
        if image.stem in owner:
            raise DataError(f"{argument} {image.parent}: {owner[image.stem].name} and {image.name} would share the label file {image.stem}.txt; rename one")
        owner[image.stem] = image


def texts_without_image(folder: Path, images: list[Path]) -> list[str]:
    """Names of the .txt files (labels, annotations) in `folder` that belong to none of `images`, by stem."""
    stems = {image.stem for image in images}
    return sorted(p.name for p in folder.glob("*.txt") if p.stem not in stems)


def image_size(path: Path) -> tuple[int, int] | None:
    """(width, height) as displayed, or None when the image is missing or unreadable.

    A photo whose EXIF orientation turns it by 90 degrees is read upright by Ultralytics (and by annotation tools),
    so its labels are normalised to the displayed size, as Ultralytics' own `exif_size` gives it.
    """
    try:
        with Image.open(path) as image:
            return exif_size(image)
    # ImportError: once ultralytics is imported, its patched Image.open reaches for an optional HEIF plugin
    # on any file PIL cannot identify.
    except (OSError, UnidentifiedImageError, ImportError):
        return None


def truncated_jpeg(path: Path) -> bool:
    """A JPEG that does not end with its end marker: cut short (an interrupted copy or download), or with bytes
    after it. Ultralytics' own test for a corrupt JPEG, the one after which it re-saves the file in place."""
    try:
        with open(path, "rb") as file:
            if file.read(2) != JPEG_START:
                return False
            file.seek(0, os.SEEK_END)
            file.seek(max(file.tell() - 2, 0))
            return file.read() != JPEG_END
    except OSError:  # unreadable: reported where the image is read
        return False


def truncated_warnings(names: list[str]) -> list[str]:
    """The report lines for JPEGs that do not end with their end marker, one per image, naming it."""
    return [f"warning: JPEG truncated or with bytes after its end (training reads it as decoded and leaves the file as it is, "
            f"or leaves it out if it does not decode; Ultralytics' own tools re-save it in place): {name}" for name in names]


def require_folder(path: Path, argument: str, expected: str) -> Path:
    """`path` as an existing folder, or a DataError naming the argument and what it should hold."""
    if not path.is_dir():
        raise DataError(f"{argument} {path}: no such folder (expected {expected})")
    return path


def require_writable(path: Path, argument: str, is_file: bool = False) -> None:
    """`path` is, or can be made, a folder (with `is_file`: a file in one) this process may write in: checked
    before anything is written, and without creating anything, so a refused run leaves no trace."""
    existing = Path(path).absolute().parent if is_file else Path(path).absolute()
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise DataError(f"{argument} {path}: {existing} is a file; expected a folder (or a path where one can be made)")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise DataError(f"{argument} {path}: no permission to write in {existing}; expected a folder you can write to")


def refuse_leftovers(folder: Path, expected: set[str], argument: str, wanted: str) -> None:
    """Refuse to add to a folder holding files this run would not write: mixing runs silently changes a data set."""
    if folder.is_dir():
        stale = sorted(p.name for p in folder.iterdir() if p.name not in expected and not p.name.startswith("."))
        if stale:
            raise DataError(f"{argument} {folder}: holds {stale[0]} (and {len(stale) - 1} more) from an earlier run; expected {wanted}")


class BadLines:
    """Malformed annotation lines: the first one is a DataError, or with `skip` each is kept as a warning."""

    def __init__(self, skip: bool = False) -> None:
        self.skip = skip
        self.messages: list[str] = []

    def report(self, where: str, problem: str) -> None:
        """`where` is 'file:line' (or 'file: object n' for XML); `problem` says what was expected."""
        message = f"{where}: {problem}"
        if not self.skip:
            raise DataError(message)
        self.messages.append(message)

    def summary(self) -> str:
        """The warnings and their count, for the end of a run ('' when every line was good)."""
        if not self.messages:
            return ""
        return "\n".join([*(f"warning: skipped {m}" for m in self.messages), f"warning: {len(self.messages)} malformed line(s) skipped"])


def parse_lines(path: Path, parse: Callable[[str], Parsed], bad: BadLines) -> list[Parsed]:
    """`parse` applied to each non-blank line of a text annotation file; its ValueError is reported as file:line.

    A UTF-8 byte-order mark (Windows editors write one) is dropped, as Ultralytics' label reader drops it.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise DataError(f"{path}: expected a UTF-8 text annotation file") from None
    parsed = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            parsed.append(parse(line))
        except ValueError as problem:
            bad.report(f"{path}:{number}", str(problem))
    return parsed
