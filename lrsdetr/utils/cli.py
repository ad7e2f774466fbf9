"""Command-line flags for the root scripts: each script's `param_dict` is the default, flags override it.

The seed's habit is to edit a `param_dict` at the top of a script; ours keeps that and adds the usual
`--name value` flags (one per key, typed from the default), so `python train.py --epochs 5` works too, as does
Ultralytics' own `epochs=5`. Training scripts also take any other Ultralytics train argument as `name=value`
(`python pruning.py lr0=5e-4 nbs=4`), checked against Ultralytics' list of arguments.

A usage error (unknown flag, bad value) is one line on stderr and exit status 2, before anything is loaded or
written. Flags are matched whole: argparse's prefix matching would let `--epoch 5` set `epochs`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from .errors import DataError

SAHI_MERGES = ("NMS", "NMM", "GREEDYNMM", "LSNMS")  # sahi's postprocess types
SAHI_MATCHES = ("IOU", "IOS")


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# What a value must be, for the keys whose bad values Ultralytics or SAHI only reject (or silently bend) deep in a run.
VALUE_RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "imgsz": (lambda v: _whole(v) and v > 0, "a positive whole number of pixels, e.g. 640"),
    "half": (lambda v: isinstance(v, bool), "True or False (True: 16-bit floats, fp16 on CUDA and bf16 on CPU)"),
    "compile": (lambda v: isinstance(v, bool), "True or False (True: torch.compile the PyTorch model)"),
    "conf": (lambda v: _number(v) and 0 <= v <= 1, "a score threshold from 0 to 1"),
    "max_det": (lambda v: _whole(v) and v > 0, "a positive whole number of boxes per image, e.g. 300"),
    "slice_size": (lambda v: _whole(v) and v > 0, "a positive whole number of pixels, e.g. 640"),
    "slice_overlap": (lambda v: _number(v) and 0 <= v < 1, "a share of a tile, at least 0 and below 1"),
    "slice_merge": (lambda v: v in SAHI_MERGES, f"one of {', '.join(SAHI_MERGES)}"),
    "slice_match": (lambda v: v in SAHI_MATCHES, f"one of {', '.join(SAHI_MATCHES)}"),
    "slice_batch": (lambda v: _whole(v) and v > 0, "a positive whole number of tiles per forward pass, e.g. 4"),
}


def usage_error(message: str, prog: str | None = None) -> None:
    """One line on stderr and exit status 2, the convention for a command used wrongly."""
    print(f"{prog + ': ' if prog else ''}error: {message} (see --help)", file=sys.stderr)
    raise SystemExit(2)


class ScriptParser(argparse.ArgumentParser):
    """argparse with whole-word flags only and one-line usage errors (exit 2); they start with the command's name
    when it has one (`lrsdetr val: error: ...`), as a root script's start with `error: `."""

    def __init__(self, *args: Any, prog: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, prog=prog, allow_abbrev=False, **kwargs)
        self.command = prog

    def error(self, message: str) -> None:
        usage_error(message, self.command)


def _str2bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "y", "on"):
        return True
    if lowered in ("0", "false", "no", "n", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true/false, got {text!r}")


def _none_or_text(text: str) -> Any:
    """Flags whose default is None take text; 'none' or '' keeps None."""
    return None if text.strip().lower() in ("", "none", "null") else _number_or_text(text)


def _number_or_text(text: str) -> Any:
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def _flag_type(default: Any):
    if isinstance(default, bool):
        return _str2bool
    if default is None:
        return _none_or_text
    if isinstance(default, (int, float)):
        return _number_or_text  # allow 1 -> 1.5 without surprising the user
    return str


class _HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """The script's docstring as written (its examples keep their lines), each flag with its default."""


def _key(name: str, param_dict: dict) -> str | None:
    """The param_dict key a flag or assignment name means (`base_weights` and `base-weights` alike)."""
    for candidate in (name, name.replace("-", "_"), name.replace("_", "-")):
        if candidate in param_dict:
            return candidate
    return None


def _awaits_value(word: str, param_dict: dict) -> bool:
    """True for `--name` (no `=value`) of a non-boolean key: the next word is its value, whatever it holds."""
    if not word.startswith("--") or "=" in word:
        return False
    key = _key(word[2:], param_dict)
    return key is not None and not isinstance(param_dict[key], bool)


def _split_assignments(argv: list[str], param_dict: dict, passthrough: bool, fail: Callable[[str], None]) -> tuple[list[str], dict]:
    """`name=value` words: param_dict keys become `--name value`; with `passthrough`, Ultralytics arguments are
    returned apart (typed like flags); anything else is a usage error naming the word."""
    from ultralytics.cfg import DEFAULT_CFG_DICT

    flags, extra = [], {}
    for word in argv:
        name, sep, value = word.partition("=")
        if not sep or word.startswith("-") or (flags and _awaits_value(flags[-1], param_dict)):
            flags.append(word)  # a flag, a plain word, or the value of the flag before it (`--name a=b`)
        elif _key(name, param_dict):
            flags += [f"--{name}", value]
        elif passthrough and name in DEFAULT_CFG_DICT:
            try:
                extra[name] = _flag_type(DEFAULT_CFG_DICT[name])(value)
            except argparse.ArgumentTypeError as error:
                fail(f"{word!r}: {error}")
        else:
            known = "this script's flags" + (" or an Ultralytics train argument" if passthrough else "")
            fail(f"{word!r}: {name!r} is not one of {known}")
    return flags, extra


def parse_overrides(param_dict: dict, description: str | None = None, argv: list[str] | None = None,
                    passthrough: bool = False, prog: str | None = None) -> dict:
    """Return a copy of `param_dict` with the command-line flags applied (`--help` lists every key); with
    `passthrough`, plus the other Ultralytics arguments given as `name=value`. `prog`: the command's name in
    usage lines (default: the script's file name)."""
    parser = ScriptParser(prog=prog, description=description, formatter_class=_HelpFormatter)
    for key, default in param_dict.items():
        names = [f"--{key}"]
        if "_" in key:
            names.append(f"--{key.replace('_', '-')}")
        if "-" in key:
            names.append(f"--{key.replace('-', '_')}")
        flag = {"nargs": "?", "const": True} if isinstance(default, bool) else {}  # bare `--flag` means true
        metavar = type(default).__name__.upper() if default is not None else "VALUE"
        parser.add_argument(*names, dest=key, type=_flag_type(default), default=default, metavar=metavar, help=f"(param_dict['{key}'])", **flag)
    flags, extra = _split_assignments(sys.argv[1:] if argv is None else argv, param_dict, passthrough, parser.error)
    params = {**vars(parser.parse_args(flags)), **extra}
    check_values(params, prog)
    return params


def check_values(params: dict, prog: str | None = None) -> None:
    """A usage error for the first value `VALUE_RULES` refuses (from a flag or from an edited param_dict)."""
    for key, value in params.items():
        if key in VALUE_RULES and not VALUE_RULES[key][0](value):
            usage_error(f"--{key} {value!r}: expected {VALUE_RULES[key][1]}", prog)


def with_preset(params: dict, defaults: dict, preset: dict) -> dict:
    """`params` with `preset`'s values (a benchmark's --quick) for the keys still at their `defaults`: a value given
    on the command line wins over the preset."""
    return {**params, **{key: value for key, value in preset.items() if params[key] == defaults[key]}}


def whole_numbers(text: str, flag: str, minimum: int = 0) -> list[int]:
    """'0, 1, 2' -> [0, 1, 2], each at least `minimum`; anything else is a DataError naming `flag` (seeds: numpy
    refuses negative ones)."""
    try:
        numbers = [int(word) for word in str(text).split(",") if word.strip()]
    except ValueError:
        numbers = []
    if not numbers or min(numbers) < minimum:
        raise DataError(f"{flag} {text}: expected a comma-separated list of whole numbers from {minimum}, such as {minimum},{minimum + 1},{minimum + 2}")
    return numbers
