"""lrsdetr.utils.memory: after keep_freed_memory() glibc serves a 64 MiB block from its heap and keeps it there once
freed (without it: a fresh mmap, unmapped on free); the inference commands call it, the training ones do not."""

import dataclasses
import json
import subprocess
import sys

import pytest

from lrsdetr.commands import COMMANDS
from lrsdetr.utils import command as command_module
from lrsdetr.utils.errors import DataError
from lrsdetr.utils.guard import CommandPaths

MALLINFO = """
import ctypes, json, sys, torch
from lrsdetr.utils.memory import keep_freed_memory
class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]
libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = MallInfo2
took = keep_freed_memory() if sys.argv[1] == "keep" else None
block = torch.ones(64 << 20, dtype=torch.uint8)
mapped = libc.mallinfo2().hblkhd
del block
print(json.dumps({"took": took, "mapped": mapped, "heap_free": libc.mallinfo2().fordblks}))
"""


def allocation(mode: str) -> dict:
    out = subprocess.run([sys.executable, "-c", MALLINFO, mode], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")
def test_a_freed_block_stays_in_the_heap_only_when_asked():
    block = 64 << 20
    plain, kept = allocation("plain"), allocation("keep")
    assert plain["mapped"] >= block and plain["heap_free"] < block  # its own mmap, given back on free
    assert kept["took"] is True
    assert kept["mapped"] < block and kept["heap_free"] >= block  # from the heap, kept there for the next one


@pytest.mark.parametrize("name, keeps", [("val", True), ("detect", True), ("track", True), ("fps", True), ("train", False), ("prune", False)])
def test_inference_commands_keep_freed_memory_before_they_run(name, keeps, monkeypatch):
    calls = []
    monkeypatch.setattr(command_module, "keep_freed_memory", lambda: calls.append(name))

    def logic(params):
        calls.append("logic")
        raise DataError("stop here")

    command = dataclasses.replace(COMMANDS[name], paths=CommandPaths, run=logic)  # no files needed to get there
    assert command([]) == 2
    assert calls == ([name, "logic"] if keeps else ["logic"])
