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
