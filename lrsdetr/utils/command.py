"""One declaration per command: `lrsdetr NAME`, its root script, help, defaults, the paths it reads and writes, and
the function that does the work, declared in the module that does it and listed in lrsdetr/commands.py.

Every command runs the same way (`Command.execute`): flags over the defaults (utils/cli.py), then the command's
`paths` declaration, then the one check between inputs and outputs (utils/guard.py) before anything is written,
then the work with the inputs write-protected. A problem the user can fix is one line and exit status 2; Ctrl-C
is one line and exit status 130, after the command's run folder dropped what the run had written.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass

from .cli import parse_overrides
from .errors import DataError
from .guard import CommandPaths, inputs_protected, refuse_overlaps
from .memory import keep_freed_memory
from .trust import TRUST_FLAG, trusted_checkpoints

EXIT_USAGE, EXIT_INTERRUPTED = 2, 130


@dataclass(frozen=True)
class Command:
    """`name`: the `lrsdetr` subcommand; `script`: the root script (path from the repository root) that runs it
    with its own literal param_dict, '' for none; `summary`: one line for `lrsdetr --help`; `doc`: the help text,
    examples written for the script; `defaults`: every flag and its default; `paths`: the declaration of what
    the command reads and writes for given parameters (raising DataError for a bad input); `run`: the work.
    `passthrough`: other Ultralytics train arguments are taken as name=value. `inference`: a run of forward
    passes, whose process keeps the memory it frees (utils/memory.py). `interrupted`: what to tell a user who
    pressed Ctrl-C (e.g. how to resume), given the parameters. A command that loads checkpoints has the flag
    `trust_checkpoint` in its defaults (utils/trust.py): it is taken here, never passed to the work."""

    name: str
    summary: str
    doc: str
    defaults: dict
    paths: Callable[[dict], CommandPaths]
    run: Callable[[dict], object]
    script: str = ""
    passthrough: bool = False
    inference: bool = False
    interrupted: Callable[[dict], str] | None = None

    def help_text(self) -> str:
        """The help, its examples written as `lrsdetr <name>` commands."""
        return self.doc.replace(f"python {self.script}", f"lrsdetr {self.name}") if self.script else self.doc

    def __call__(self, argv: list[str]) -> int:
        """`lrsdetr NAME argv...`: the exit status."""
        return self.execute(self.defaults, self.help_text(), argv, prog=f"lrsdetr {self.name}")

    def execute(self, defaults: dict, doc: str, argv: list[str] | None = None, prog: str | None = None) -> int:
        """Parse `argv` over `defaults` (a root script's own param_dict, or the command's), check the paths, run;
        the exit status (2 for a usage or data error, 130 for Ctrl-C)."""
        return self.run_with(parse_overrides(defaults, doc, argv, self.passthrough, prog=prog))

    def run_with(self, params: dict) -> int:
        """Declare the paths, refuse overlaps, run with the inputs write-protected (checkpoints trusted, so their
        code may run, only with `trust_checkpoint`); the exit status."""
        paths = None
        trust = bool(params.get(TRUST_FLAG))
        params = {key: value for key, value in params.items() if key != TRUST_FLAG}
        try:
            with trusted_checkpoints(trust):
                paths = self.paths(params)
                refuse_overlaps(paths)
                if self.inference:
                    keep_freed_memory()
                with inputs_protected(paths.inputs):
                    self.run(paths.params)
        except DataError as error:
            print(f"error: {error}", file=sys.stderr)
            return EXIT_USAGE
        except KeyboardInterrupt:
            hint = self.interrupted(paths.params) if self.interrupted and paths else ""
            print(f"\n{self.name}: interrupted{'; ' + hint if hint else ''}", file=sys.stderr)
            return EXIT_INTERRUPTED
        return 0
