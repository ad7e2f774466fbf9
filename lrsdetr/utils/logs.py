"""Ultralytics' own logging, turned down where we run its machinery many times and print our own summary."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def ultralytics_quiet() -> Iterator[None]:
    """Meanwhile Ultralytics logs warnings and errors only (no banners, progress bars or per-class tables)."""
    from ultralytics.utils import LOGGER

    level = LOGGER.level
    LOGGER.setLevel("WARNING")
    try:
        yield
    finally:
        LOGGER.setLevel(level)
