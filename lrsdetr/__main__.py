"""`python -m lrsdetr COMMAND ...`: the `lrsdetr` console command (lrsdetr/commands.py)."""

from .commands import main

if __name__ == "__main__":
    raise SystemExit(main())
