"""The `lrsdetr` console command: `lrsdetr train ...`, `lrsdetr val ...`, `lrsdetr bench accuracy ...`, ... (also
`python -m lrsdetr ...`).

Each command is declared once, in the module that does its work (help, defaults, the paths it reads and writes,
the function it runs: lrsdetr/utils/command.py), and listed here. A root script (train.py, ...) runs the same
command over its own literal param_dict; tests/test_commands.py keeps the two equal key by key.
"""

from __future__ import annotations

import sys

from . import __version__
from .bench import accuracy, bf16_scan, compression, formats, gpu, latency, prune_speedup, tracking, visdrone_eval
from .compat import convert
from .compress import distill, finetune
from .data import scripts, stats, synth
from .engine import detect, export, quickstart, track, train, validate
from .eval import report, visdrone_mot_report, visdrone_report
from .tools import channels, fps, heatmap
from .utils.command import Command

COMMANDS: dict[str, Command] = {command.name: command for command in (
    train.COMMAND, validate.COMMAND, detect.COMMAND, track.COMMAND, export.COMMAND, finetune.COMMAND, distill.COMMAND,
    report.COMMAND, visdrone_report.COMMAND, visdrone_mot_report.COMMAND, fps.COMMAND, heatmap.COMMAND,
    quickstart.COMMAND, channels.COMMAND, scripts.SPLIT, scripts.VISDRONE2YOLO, scripts.XML2TXT, scripts.YOLO2COCO,
    stats.COMMAND, synth.COMMAND, convert.COMMAND,
)}
# `lrsdetr bench NAME`: the benchmarks (benchmarks/NAME.py in a clone)
BENCHMARKS: dict[str, Command] = {command.name.removeprefix("bench "): command for command in (
    accuracy.COMMAND, compression.COMMAND, latency.COMMAND, bf16_scan.COMMAND, formats.COMMAND, gpu.COMMAND, prune_speedup.COMMAND,
    visdrone_eval.COMMAND, tracking.COMMAND,
)}


def run_root_script(name: str, param_dict: dict) -> int:
    """A root script (train.py, ...): the user's own (perhaps edited) param_dict, the command's help and logic."""
    command = COMMANDS[name]
    return command.execute(param_dict, command.doc)


def usage() -> str:
    commands = {**COMMANDS, **{command.name: command for command in BENCHMARKS.values()}}
    width = max(map(len, commands))
    lines = [f"  {name:<{width}}  {command.summary}{f' ({command.script})' if command.script else ''}"
             for name, command in commands.items()]
    return "\n".join([
        "usage: lrsdetr COMMAND [--flag value | name=value ...]",
        "", "LRS-DETR from the command line; a command with a script beside it in a clone is that script.", "", "commands:", *lines,
        "", "lrsdetr COMMAND --help lists a command's flags and defaults; lrsdetr --version prints the version.",
    ])


def main(argv: list[str] | None = None) -> int:
    """`lrsdetr COMMAND ...`: run the command; 0 on success, 2 on a usage or data error, as the scripts."""
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(usage(), file=sys.stdout if argv else sys.stderr)
        return 0 if argv else 2
    if argv[0] == "--version":
        print(f"lrsdetr {__version__}")
        return 0
    if argv[0] == "bench":
        if argv[1:2] in ([], ["-h"], ["--help"]):
            print("\n".join(line for line in usage().splitlines() if not line.startswith("  ") or line.startswith("  bench ")))
            return 0
        command, argv = BENCHMARKS.get(argv[1]), argv[1:]
        known = f"bench {{{', '.join(BENCHMARKS)}}}"
    else:
        command, known = COMMANDS.get(argv[0]), ", ".join([*COMMANDS, "bench"])
    if command is None:
        print(f"lrsdetr: error: unknown command {argv[0]!r}; choose from {known} (see lrsdetr --help)",
              file=sys.stderr)
        return 2
    return command(argv[1:])
