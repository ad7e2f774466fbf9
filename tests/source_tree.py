"""Checksums of a script's input, so a test can assert that the script left it byte for byte as it was."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def tree_checksums(*roots: Path) -> dict[str, str]:
    """SHA-256 of every file under each root (a root that is a file stands for itself), keyed by path."""
    files = [p for root in map(Path, roots) for p in ([root] if root.is_file() else sorted(root.rglob("*"))) if p.is_file()]
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


@contextmanager
def unchanged(*roots: Path) -> Iterator[None]:
    """Assert that the files under `roots` are the same, with the same bytes, after the block as before it."""
    before = tree_checksums(*roots)
    assert before, f"nothing to checksum under {roots}"
    yield
    after = tree_checksums(*roots)
    changed = sorted(path for path in before.keys() | after.keys() if before.get(path) != after.get(path))
    assert not changed, f"the source changed: {changed[:5]}"
