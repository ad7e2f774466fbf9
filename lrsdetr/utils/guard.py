"""The one check between what a command reads and what it writes, for every command.

Each command declares its inputs (checkpoints, sources, annotation and label folders, the folders a data.yaml
names) and its outputs (the run folder and every file or folder it writes) as `CommandPaths`. Before anything is
written, `refuse_overlaps` resolves them all, symlinks included, and refuses in one line an output that is, holds,
lies inside or links into an input. While the command runs, `inputs_protected` refuses any write of this process
into an input (a second line of defence against a library that writes where it should not, such as a JPEG
"restored" in place): a refused write raises `DataError` at the call that tried it.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .errors import DataError


@dataclass(frozen=True)
class Declared:
    """A path a command reads or writes, with the argument that named it (for the error line)."""

    argument: str
    path: Path

    @property
    def real(self) -> Path:
        """Absolute, with every symlink (and `..`) resolved, also for a path that does not exist yet."""
        return Path(os.path.realpath(self.path))


@dataclass
class CommandPaths:
    """A command's inputs and outputs, built by its declaration: `CommandPaths().reads(...).writes(...)`.

    `params` are the parameters the command then runs with: a declaration may pin what it resolved (the run
    folder `exp-3` that increment_path chose), so the run writes exactly where the check looked.
    """

    params: dict
    inputs: list[Declared] = field(default_factory=list)
    outputs: list[Declared] = field(default_factory=list)

    def reads(self, argument: str, *paths: str | Path | None) -> CommandPaths:
        self.inputs += [Declared(argument, Path(path)) for path in paths if path]
        return self

    def writes(self, argument: str, *paths: str | Path | None) -> CommandPaths:
        self.outputs += [Declared(argument, Path(path)) for path in paths if path]
        return self


def refuse_overlaps(paths: CommandPaths) -> None:
    """A DataError for the first output that is an input, lies inside one, holds one, or holds a symlink into one."""
    inputs = [(source, source.real) for source in paths.inputs]
    for output in paths.outputs:
        real = output.real
        for source, source_real in inputs:
            where = _overlap(real, source_real)
            if where:
                _refuse(output, where, source)
        if real.is_dir():
            for link, target in _links_under(real):
                for source, source_real in inputs:
                    if _overlap(target, source_real):
                        _refuse(output, f"holds {link}, a link into", source)


def require_results_apart(res_dir: str | Path, anno_dir: str | Path) -> None:
    """Results scored against annotations must be another folder: the same one would score the annotations against
    themselves, and the report written beside the results would land in the data set."""
    if Path(os.path.realpath(res_dir)) == Path(os.path.realpath(anno_dir)):
        raise DataError(f"--res_dir {res_dir} is --anno_dir: expected the folder of result files, apart from the annotations it is scored against")


def _overlap(output: Path, source: Path) -> str:
    if output == source:
        return "is"
    if output.is_relative_to(source):
        return "lies inside"
    if source.is_relative_to(output):
        return "holds"
    return ""


def _refuse(output: Declared, where: str, source: Declared) -> None:
    spelt = f" ({output.real})" if output.real != Path(os.path.abspath(output.path)) else ""
    raise DataError(f"{output.argument} {output.path}{spelt} {where} the input {source.argument} {source.path}; "
                    "choose an output elsewhere (inputs are never written)")


def _links_under(folder: Path) -> Iterator[tuple[Path, Path]]:
    """(link, its resolved target) for every symlink under `folder`, not following links into other trees."""
    for root, folders, files in os.walk(folder):
        for name in folders + files:
            path = Path(root, name)
            if path.is_symlink():
                yield path, Path(os.path.realpath(path))


# --- the runtime guard -------------------------------------------------------------------------------------------

# Audit events (Python's sys.audit) that change the file or folder named by the argument at that index.
_WRITE_EVENTS = {"os.remove": (0,), "os.rmdir": (0,), "os.mkdir": (0,), "os.rename": (0, 1), "os.link": (1,),
                 "os.symlink": (1,), "os.truncate": (0,), "os.chmod": (0,), "os.utime": (0,), "shutil.rmtree": (0,),
                 "shutil.copyfile": (1,), "shutil.move": (0, 1)}
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_protected: list[tuple[Declared, Path]] = []  # (input, its resolved path)
_hook_installed = False


def _written_paths(event: str, args: tuple) -> Iterator[str]:
    """The paths an audited call writes: `open` in a writing mode, or one of `_WRITE_EVENTS`."""
    if event == "open":
        path, mode, flags = args
        writing = any(c in mode for c in "wax+") if isinstance(mode, str) else bool((flags or 0) & _WRITE_FLAGS)
        if writing and isinstance(path, (str, bytes, os.PathLike)):
            yield os.fsdecode(path)
        return
    for index in _WRITE_EVENTS.get(event, ()):
        if index < len(args) and isinstance(args[index], (str, bytes, os.PathLike)):
            yield os.fsdecode(args[index])


def _audit(event: str, args: tuple) -> None:
    if not _protected or (event != "open" and event not in _WRITE_EVENTS):
        return
    for written in _written_paths(event, args):
        real = Path(os.path.realpath(written))
        for source, source_real in _protected:
            if real.is_relative_to(source_real):
                raise DataError(f"refused to write {written}: it is in the input {source.argument} {source.path} "
                                "(inputs are never written)")


@contextlib.contextmanager
def inputs_protected(inputs: Iterable[Declared]) -> Iterator[None]:
    """While open, this process cannot write into `inputs` through Python's file calls (writes in C, such as
    OpenCV's, are outside Python's audit events: our own outputs go through Python's)."""
    global _hook_installed
    if not _hook_installed:
        sys.addaudithook(_audit)  # an audit hook cannot be removed: it is installed once and idles when nothing is protected
        _hook_installed = True
    added = [(source, source.real) for source in inputs]
    _protected.extend(added)
    try:
        yield
    finally:
        for entry in added:
            _protected.remove(entry)
