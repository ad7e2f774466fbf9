"""Label fonts for Ultralytics' plots when it is offline.

Ultralytics draws labels with Arial, and `check_font` downloads Arial.ttf on first use (every dataset check
calls it). Offline that is a network attempt per call and, failing it, PIL's tiny bitmap font. `install()`
makes it use a font already on disk instead: the one in Ultralytics' config folder if present, else DejaVu
Sans, which matplotlib (an Ultralytics dependency) ships. Online, Ultralytics' own function runs unchanged.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import matplotlib
import ultralytics.utils
import ultralytics.utils.checks

from .ultralytics_private import CHECK_FONT_CALLERS

MATPLOTLIB_FONT = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
ULTRALYTICS_CHECK_FONT = ultralytics.utils.checks.check_font
# Modules that call check_font through their own imported name (the contract test keeps this list whole).
_CALLERS = tuple(importlib.import_module(name) for name in CHECK_FONT_CALLERS)


def check_font(font: str = "Arial.ttf") -> Path | str | None:
    """Ultralytics' `check_font`, except that offline a font not in its config folder becomes DejaVu Sans."""
    if ultralytics.utils.ONLINE:
        return ULTRALYTICS_CHECK_FONT(font)
    downloaded = ultralytics.utils.USER_CONFIG_DIR / Path(font).name
    return downloaded if downloaded.exists() else MATPLOTLIB_FONT


def install() -> None:
    """Route Ultralytics' font look-ups through `check_font` (idempotent)."""
    for module in _CALLERS:
        module.check_font = check_font
