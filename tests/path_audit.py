"""Every file a command run in-process reads or writes, checked against the paths it declared (lrsdetr/utils/guard.py).

`audited()` keeps the paths a command declares (by wrapping the guard's check) and records the process's file-system
calls while it runs (Python's audit events: `open`, rename, remove, mkdir, listing a folder, ...). Under the test
session's temporary root, where the tests keep their data and outputs, a write must lie under a declared output (an
atomic writer's temporary sibling of one counts as it; making a folder on the way to one is part of writing it),
and a read under a declared input or output (listing a folder that holds an input is part of finding it). Elsewhere (Ultralytics' settings, lrsdetr's cache folder, system
temporaries) the files are the tools' own. A command that reads or writes what it did not declare fails the test,
named: its guard would not have seen that path.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lrsdetr.data.dataset import cache_dir
from lrsdetr.utils import command as command_module
from lrsdetr.utils import guard

ATOMIC_TEMPORARY = re.compile(r"^\.(?P<name>.+?)(\.\d+\.\d+\.tmp|\.partial(\.\w+)?)$")  # utils/atomic.py, detect's videos
READ_EVENTS = ("open", "os.listdir", "os.scandir")
_recording: list[list] = []  # the calls of the run in progress, as (event, path, wrote)


def _hook(event: str, args: tuple) -> None:
    if not _recording:
        return
    written = list(guard._written_paths(event, args))
    _recording[-1].extend((event, path, True) for path in written)
    if not written and event in READ_EVENTS and args and isinstance(args[0], (str, bytes, os.PathLike)):
        _recording[-1].append((event, os.fsdecode(args[0]), False))


sys.addaudithook(_hook)


def _target(path: Path) -> Path:
    """The file an atomic writer's temporary stands for (itself for any other path)."""
    match = ATOMIC_TEMPORARY.match(path.name)
    return path.with_name(match["name"]) if match else path


def _real(path: str | Path) -> Path:
    return Path(os.path.realpath(path))


def undeclared(calls: list[tuple[str, str, bool]], inputs: list[Path], outputs: list[Path], root: Path) -> list[str]:
    """The calls under `root` that touch no declared path: writes outside `outputs`, reads outside both."""
    root, inputs, outputs = _real(root), [_real(p) for p in inputs], [_real(p) for p in outputs]
    found = []
    for event, path, wrote in dict.fromkeys(calls):
        real = _target(_real(path))
        if not wrote and not real.exists():  # a lookup that found nothing (the import system probes such paths)
            continue
        if not real.is_relative_to(root) or any(real.is_relative_to(output) for output in outputs):
            continue
        on_the_way = event == "os.mkdir" and any(output.is_relative_to(real) for output in outputs)
        listing = event in ("os.listdir", "os.scandir") and any(source.is_relative_to(real) for source in inputs)  # a glob's folder
        read = not wrote and (listing or any(real.is_relative_to(source) for source in inputs))
        if not (on_the_way or read):
            found.append(f"{'wrote' if wrote else 'read'} {path} ({event})")
    return found


@contextmanager
def audited(root: Path) -> Iterator[list]:
    """While open, commands' declarations are kept (the yielded list); their file calls are checked at the end."""
    declared: list = []
    check = command_module.refuse_overlaps

    def recording_check(paths):
        declared.append(paths)
        return check(paths)

    command_module.refuse_overlaps = recording_check
    _recording.append([])
    try:
        yield declared
    finally:
        calls = _recording.pop()
        command_module.refuse_overlaps = check
    inputs = [source.path for paths in declared for source in paths.inputs]
    outputs = [output.path for paths in declared for output in paths.outputs]
    if not declared:  # stopped before its declaration was complete (a usage error), or never declared: no writes then
        calls = [call for call in calls if call[2]]
    stray = undeclared(calls, inputs, [*outputs, cache_dir()], root)
    assert not stray, (f"the command touched what it did not declare: {stray[:5]} "
                       f"(inputs: {[str(p) for p in inputs]}, outputs: {[str(p) for p in outputs]})")
