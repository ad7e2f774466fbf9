"""Whole files, written atomically: under a temporary name beside the target, then renamed over it.

An interrupted run never leaves a half-written file under a final name, a reader never sees half a file, and a
link at the target (hard or symbolic) is replaced, never written through: writing through a link would change
the file it points to, perhaps a user's source.
"""

from __future__ import annotations

import contextlib
import csv
import os
import threading
from collections.abc import Callable
from pathlib import Path

from .errors import DataError


def replace_atomically(path: Path, write: Callable[[Path], object]) -> None:
    """Run `write` on a temporary sibling of `path`, then rename it over `path`; no temporary outlives the call.

    A failure (no permission, a file where a folder should be, a full disk) is a DataError naming `path`.
    """
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.unlink(missing_ok=True)
        write(temporary)
        os.replace(temporary, path)
    except OSError as error:
        raise DataError(f"{path}: cannot write it ({error.strerror or error}); expected a writable folder with no file in the way") from None
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write `data` under a temporary name, then rename (replacing, never writing through, a link at `path`)."""
    replace_atomically(path, lambda temporary: temporary.write_bytes(data))


def write_text_atomic(path: Path, text: str) -> None:
    """UTF-8, '\\n' line ends on every platform, so outputs are byte-identical everywhere."""
    write_bytes_atomic(path, text.encode("utf-8"))


def write_csv_atomic(path: Path, rows: list[dict], fields: list[str]) -> None:
    """A CSV of `rows` with the columns `fields` (keys outside them left out), written whole."""

    def write(temporary: Path) -> None:
        with temporary.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=fields, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)

    replace_atomically(path, write)


def save_figure_atomic(figure, path: Path, dpi: int = 120) -> None:
    """Lay out a matplotlib figure, write it whole to `path` (the format its suffix names) and close it."""
    import matplotlib.pyplot as plt

    figure.tight_layout()
    try:
        replace_atomically(path, lambda temporary: figure.savefig(temporary, dpi=dpi, format=Path(path).suffix[1:]))
    finally:
        plt.close(figure)
