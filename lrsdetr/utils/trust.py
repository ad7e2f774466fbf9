"""Whether the user trusts the checkpoints this process loads: only then may unpickling one run its code.

Checkpoints load with torch's weights_only unpickler and an allow-list (lrsdetr/models/checkpoints.py) unless
LRSDETR_TRUST_CHECKPOINTS is set: by the user, by `trusted_checkpoints()`, or by a command's `--trust_checkpoint
True`. An environment variable, so that the processes a run starts (DDP workers) inherit it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

TRUST_VARIABLE = "LRSDETR_TRUST_CHECKPOINTS"
TRUST_FLAG = "trust_checkpoint"  # the commands' flag


def checkpoints_trusted() -> bool:
    """True while LRSDETR_TRUST_CHECKPOINTS is set to 1/true/yes/on (by the user, or by `trusted_checkpoints`)."""
    return os.environ.get(TRUST_VARIABLE, "").strip().lower() in ("1", "true", "yes", "on")


@contextlib.contextmanager
def trusted_checkpoints(trust: bool = True) -> Iterator[None]:
    """Checkpoints load unrestricted (their code may run) inside the block, in this process and in those it starts
    (DDP workers): it sets LRSDETR_TRUST_CHECKPOINTS=1 and restores it after. `trust=False` changes nothing, for
    callers that pass a flag through (`--trust_checkpoint`)."""
    if not trust:
        yield
        return
    before = os.environ.get(TRUST_VARIABLE)
    os.environ[TRUST_VARIABLE] = "1"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(TRUST_VARIABLE, None)
        else:
            os.environ[TRUST_VARIABLE] = before
