"""A command's run folder (detect, val, heatmap), kept whole across re-runs and interruptions.

Re-running into the same folder (`exist_ok`) must not mix two runs: Ultralytics appends to label files and leaves
files of the earlier run beside the new ones. So a run folder records, when a run finishes, the entries that run
wrote (`RECORD`); the next run into it first removes those, then writes its own. A run that fails or is interrupted
removes what it wrote (and the folder, if it made it and nothing else is there): no half-run passes for a whole
one. Entries the record does not name (a user's own files, runs from before records) are left alone.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from .atomic import write_text_atomic

RECORD = ".lrsdetr-run.json"


def _state(folder: Path) -> dict[str, tuple[int, int]]:
    """{entry name: (inode, modification time)} of the folder's top-level entries, links not followed."""
    if not folder.is_dir():
        return {}
    return {entry.name: (entry.inode(), entry.stat(follow_symlinks=False).st_mtime_ns) for entry in os.scandir(folder)}


def _remove(path: Path) -> None:
    """Remove an entry this package wrote: a link is unlinked (its target untouched), a folder removed whole."""
    if path.is_symlink() or not path.is_dir():
        path.unlink(missing_ok=True)
    else:
        shutil.rmtree(path)


def previous_entries(folder: Path) -> list[str]:
    """The entries the last finished run into `folder` wrote, as its record names them."""
    try:
        record = json.loads((folder / RECORD).read_text(encoding="utf-8"))
        return [name for name in record["entries"] if name and "/" not in name and name not in (".", "..")]
    except (OSError, ValueError, KeyError, TypeError):
        return []


@contextlib.contextmanager
def run_folder(folder: Path, command: str) -> Iterator[Path]:
    """`folder` emptied of the previous run's entries, for one run of `command`; recorded if the run finishes,
    cleaned of this run's entries if it does not (the exception goes on)."""
    folder = Path(folder)
    made = not folder.exists()
    for name in previous_entries(folder):
        _remove(folder / name)
    (folder / RECORD).unlink(missing_ok=True)
    folder.mkdir(parents=True, exist_ok=True)
    before = _state(folder)
    try:
        yield folder
    except BaseException:
        for name, state in _state(folder).items():
            if before.get(name) != state:
                _remove(folder / name)
        if made and not any(folder.iterdir()):
            folder.rmdir()
        raise
    written = sorted(name for name, state in _state(folder).items() if before.get(name) != state)
    write_text_atomic(folder / RECORD, json.dumps({"command": command, "entries": written}, indent=1))
