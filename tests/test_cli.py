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
    """A usage error like a bad flag: one line on stderr, exit status 2."""
    with pytest.raises(SystemExit) as exit_info:
        parse_overrides(DEFAULTS, argv=argv, passthrough=passthrough)
    assert exit_info.value.code == 2 and message in capsys.readouterr().err


def test_help_keeps_the_docstring_lines(capsys):
    with pytest.raises(SystemExit):
        parse_overrides(DEFAULTS, "Examples:\n  python x.py --epochs 5\n  python x.py epochs=5", argv=["--help"])
    assert "Examples:\n  python x.py --epochs 5\n  python x.py epochs=5" in capsys.readouterr().out


def usage_error_line(capsys, argv: list[str], param_dict: dict = DEFAULTS, passthrough: bool = False) -> str:
    """The one line a usage error prints (and that it exits 2)."""
    with pytest.raises(SystemExit) as exit_info:
        parse_overrides(param_dict, argv=argv, passthrough=passthrough)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and err.count("\n") == 1 and err.startswith("error: "), err
    return err


@pytest.mark.parametrize("passthrough", [False, True])
def test_a_flag_prefix_is_not_another_flag(capsys, passthrough):
    """argparse's prefix matching made `--epoch 5` set epochs (and `--lr 1` set lr0)."""
    assert "unrecognized arguments: --epoch 5" in usage_error_line(capsys, ["--epoch", "5"], passthrough=passthrough)
    assert "unrecognized arguments: --lr 1" in usage_error_line(capsys, ["--lr", "1"], passthrough=passthrough)


def test_every_usage_error_is_one_line_with_exit_status_2(capsys):
    for argv in (["--no-such-flag"], ["--epochs"], ["--cache", "maybe"], ["nbs=4"], ["stray"]):
        usage_error_line(capsys, argv)


SCRIPT_DEFAULTS = {"imgsz": 640, "conf": 0.25, "slice_size": 640, "slice_overlap": 0.2, "slice_merge": "NMS", "slice_match": "IOU", "slice_batch": 4}


@pytest.mark.parametrize(("argv", "message"), [
    (["--imgsz", "0"], "--imgsz 0: expected a positive whole number of pixels"),
    (["--imgsz", "-1"], "--imgsz -1: expected a positive whole number of pixels"),
    (["--imgsz", "abc"], "--imgsz 'abc': expected a positive whole number of pixels"),
    (["--slice_size", "0"], "--slice_size 0: expected a positive whole number of pixels"),
    (["--slice_overlap", "1.0"], "--slice_overlap 1.0: expected a share of a tile, at least 0 and below 1"),
    (["--slice_merge", "FOO"], "--slice_merge 'FOO': expected one of NMS, NMM, GREEDYNMM, LSNMS"),
    (["--slice_match", "iou"], "--slice_match 'iou': expected one of IOU, IOS"),
    (["--slice_batch", "0"], "--slice_batch 0: expected a positive whole number of tiles per forward pass"),
    (["--slice_batch", "-2"], "--slice_batch -2: expected a positive whole number of tiles per forward pass"),
    (["--slice_batch", "2.5"], "--slice_batch 2.5: expected a positive whole number of tiles per forward pass"),
    (["--slice_batch", "four"], "--slice_batch 'four': expected a positive whole number of tiles per forward pass"),
    (["--conf", "1.5"], "--conf 1.5: expected a score threshold from 0 to 1"),
    (["conf=-0.1"], "--conf -0.1: expected a score threshold from 0 to 1"),
])
def test_bad_values_are_usage_errors_before_anything_runs(capsys, argv, message):
    assert message in usage_error_line(capsys, argv, SCRIPT_DEFAULTS)


def test_a_bad_value_edited_into_param_dict_is_caught_too(capsys):
    assert "--imgsz 0: expected a positive whole number" in usage_error_line(capsys, [], {**SCRIPT_DEFAULTS, "imgsz": 0})


def test_passthrough_values_are_checked(capsys):
    assert "--imgsz 'big': expected a positive whole number" in usage_error_line(capsys, ["imgsz=big"], {"epochs": 1}, passthrough=True)
