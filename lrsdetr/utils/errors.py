"""The user-error type and how a root script reports it: `DataError` is a problem the user can fix, said in one
line; `run_script` prints it and gives exit status 2, no traceback. Every layer raises it, so it lives at the bottom."""

from __future__ import annotations

import sys
from collections.abc import Callable


class DataError(Exception):
    """A problem the user can fix (bad argument, malformed annotation): one line naming what and where."""


def run_script(main: Callable[..., object], *args: object) -> int:
    """Run a script's body: a DataError is printed as one line and gives exit status 2, no traceback."""
    try:
        main(*args)
    except DataError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0
