"""Root-script flags: typed from the param_dict defaults, bare boolean flags mean true."""

import pytest

from lrsdetr.utils.cli import parse_overrides

DEFAULTS = {"epochs": 300, "lr0": 1e-4, "data": "dataset/data.yaml", "cache": False, "device": None, "base-weights": "a.pt"}


def test_defaults_stay_without_flags():
    assert parse_overrides(DEFAULTS, argv=[]) == DEFAULTS


def test_flags_override_with_types():
    args = parse_overrides(DEFAULTS, argv=["--epochs", "5", "--lr0", "0.001", "--device", "0,1", "--base_weights", "x.pt"])
    assert args["epochs"] == 5 and args["lr0"] == 0.001 and args["device"] == "0,1" and args["base-weights"] == "x.pt"


@pytest.mark.parametrize(("argv", "expected"), [(["--cache"], True), (["--cache", "true"], True), (["--cache", "no"], False)])
def test_boolean_flags(argv, expected):
    assert parse_overrides(DEFAULTS, argv=argv)["cache"] is expected


def test_bad_boolean_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        parse_overrides(DEFAULTS, argv=["--cache", "maybe"])
    assert exit_info.value.code == 2 and "expected true/false" in capsys.readouterr().err


def test_ultralytics_style_assignments():
    args = parse_overrides(DEFAULTS, argv=["epochs=5", "base_weights=y.pt", "--cache"])
    assert args["epochs"] == 5 and args["base-weights"] == "y.pt" and args["cache"] is True


def test_a_flag_value_with_an_equals_sign_stays_a_value():
    args = parse_overrides(DEFAULTS, argv=["--data", "runs/lr=1e-4/data.yaml", "--cache", "epochs=5"])
    assert args["data"] == "runs/lr=1e-4/data.yaml" and args["cache"] is True and args["epochs"] == 5


def test_passthrough_takes_other_ultralytics_arguments_typed():
    args = parse_overrides(DEFAULTS, argv=["nbs=4", "cos_lr=true", "optimizer=SGD"], passthrough=True)
    assert args["nbs"] == 4 and args["cos_lr"] is True and args["optimizer"] == "SGD" and args["epochs"] == 300


@pytest.mark.parametrize(("argv", "passthrough", "message"), [
    (["nbs=4"], False, "'nbs' is not one of this script's flags"),
    (["lr_zero=1"], True, "'lr_zero' is not one of this script's flags or an Ultralytics train argument"),
    (["cos_lr=maybe"], True, "'cos_lr=maybe': expected true/false"),
])
def test_unknown_or_bad_assignment_names_the_word(argv, passthrough, message, capsys):
    """A usage error like a bad flag: usage and the message on stderr, exit status 2."""
    with pytest.raises(SystemExit) as exit_info:
        parse_overrides(DEFAULTS, argv=argv, passthrough=passthrough)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and err.startswith("usage: ") and ": error: " in err and message in err


def test_help_keeps_the_docstring_lines(capsys):
    with pytest.raises(SystemExit):
        parse_overrides(DEFAULTS, "Examples:\n  python x.py --epochs 5\n  python x.py epochs=5", argv=["--help"])
    assert "Examples:\n  python x.py --epochs 5\n  python x.py epochs=5" in capsys.readouterr().out
