"""`python -m lrsdetr.compat convert THEIRS.pt OURS.pt`: the older spelling of `lrsdetr convert --source ... --output ...`."""

from __future__ import annotations

import sys

from .convert import COMMAND


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["convert"] and len(argv) == 3 and not any(word.startswith("-") for word in argv[1:]):
        argv = ["--source", argv[1], "--output", argv[2]]
    elif argv[:1] == ["convert"]:
        argv = argv[1:]
    return COMMAND(argv)


if __name__ == "__main__":
    raise SystemExit(main())
