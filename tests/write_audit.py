"""Every write of a command run in-process, checked against the outputs it declared (lrsdetr/utils/guard.py).

`audited()` records the paths a command declares (by wrapping the guard's check) and every file-system write the
process makes while it runs (Python's audit events: `open` for writing, rename, remove, mkdir, ...). A write under
the test session's temporary root, where the tests keep their data and outputs, must lie under a declared output
(an atomic writer's temporary sibling of one counts as it); writes elsewhere (Ultralytics' settings, lrsdetr's
cache folder, system temporaries) are the tools' own. A command that writes where it did not declare fails the test, named.
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
_recording: list[list] = []  # the writes of the run in progress (a stack: one list per audited run)


def _hook(event: str, args: tuple) -> None:
    if _recording:
        _recording[-1].extend((event, path) for path in guard._written_paths(event, args))


sys.addaudithook(_hook)


def _target(path: Path) -> Path:
    """The file an atomic writer's temporary stands for (itself for any other path)."""
    match = ATOMIC_TEMPORARY.match(path.name)
    return path.with_name(match["name"]) if match else path


def undeclared(writes: list[tuple[str, str]], outputs: list[Path], root: Path) -> list[str]:
    """The writes under `root` that lie under none of `outputs` (all paths resolved); making a folder on the way
    to an output is part of writing it."""
    root = Path(os.path.realpath(root))
    real_outputs = [Path(os.path.realpath(output)) for output in outputs]
    found = []
    for event, written in dict.fromkeys(writes):
        real = _target(Path(os.path.realpath(written)))
        on_the_way = event == "os.mkdir" and any(output.is_relative_to(real) for output in real_outputs)
        if real.is_relative_to(root) and not on_the_way and not any(real.is_relative_to(output) for output in real_outputs):
            found.append(f"{event} {written}")
    return found


@contextmanager
def audited(root: Path) -> Iterator[list]:
    """While open, commands' declarations are kept (yielded list) and their writes checked when the block ends."""
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
        writes = _recording.pop()
        command_module.refuse_overlaps = check
    outputs = [output.path for paths in declared for output in paths.outputs]
    stray = undeclared(writes, [*outputs, cache_dir()], root)
    assert not stray, f"the command wrote where it declared no output: {stray[:5]} (declared: {[str(o) for o in outputs]})"
