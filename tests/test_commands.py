"""The `lrsdetr` console command (lrsdetr/commands.py) and the root scripts it mirrors: each script's literal
param_dict and docstring equal the package's defaults and help, key by key; the command runs, helps and fails
as the scripts do, also as `python -m lrsdetr`; pyproject's entry point resolves to it."""

import importlib
import importlib.util
import json
import os
import subprocess
import sys
import tomllib
from dataclasses import asdict
from pathlib import Path

import pytest
from ultralytics.utils import YAML

from lrsdetr.cfg import CFG_DIR
from lrsdetr.commands import COMMANDS, main
from lrsdetr.models.recipe import TRAIN_RECIPE


REPO = Path(__file__).resolve().parents[1]


def load_script(script: str):
    """A root script imported by path (its `__main__` guard keeps it from running)."""
    spec = importlib.util.spec_from_file_location(f"root_{Path(script).stem}", REPO / script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def mismatches(where: str, mirrored: dict, source: dict, source_name: str) -> list[str]:
    """One line per key whose value differs, or that only one side has."""
    lines = [f"{where}: {key!r} is {mirrored[key]!r}, {source_name} has {source[key]!r}"
             for key in mirrored.keys() & source.keys() if mirrored[key] != source[key] or type(mirrored[key]) is not type(source[key])]
    lines += [f"{where}: {key!r} is not in {source_name}" for key in mirrored.keys() - source.keys()]
    lines += [f"{where}: misses {key!r} (= {source[key]!r}) of {source_name}" for key in source.keys() - mirrored.keys()]
    return sorted(lines)


SCRIPTED = [name for name, command in COMMANDS.items() if command.script]


@pytest.mark.parametrize("name", SCRIPTED)
def test_root_script_param_dict_equals_the_package_defaults(name):
    command = COMMANDS[name]
    script = load_script(command.script)
    problems = mismatches(f"{command.script} param_dict", script.param_dict, command.defaults, f"lrsdetr.commands ({name})")
    assert not problems, "\n".join(problems)
    assert list(script.param_dict) == list(command.defaults), f"{command.script} lists its keys in another order than --help"


@pytest.mark.parametrize("name", SCRIPTED)
def test_root_script_runs_its_command_with_its_own_param_dict(name, monkeypatch):
    """`python SCRIPT` is `lrsdetr NAME` over the script's param_dict as the user left it (edits included)."""
    command, seen = COMMANDS[name], []
    script = load_script(command.script)
    monkeypatch.setattr(type(command), "execute", lambda self, defaults, doc, argv=None, prog=None: seen.append((self, defaults, doc)) or 0)
    script.param_dict["edited"] = True
    assert script.run_root_script(name, script.param_dict) == 0
    assert seen == [(command, script.param_dict, command.doc)]


def test_sparse_learning_hyp_file_follows_the_training_recipe():
    """Every recipe argument but the run's length and size (pruning.py's own epochs, batch, imgsz)."""
    recipe = {key: value for key, value in TRAIN_RECIPE.items() if key not in ("epochs", "batch", "imgsz")}
    hyp = YAML.load(CFG_DIR / "hyp.scratch.sl.yaml")
    problems = mismatches("hyp.scratch.sl.yaml", {k: v for k, v in hyp.items() if k in TRAIN_RECIPE}, recipe,
                          "models/recipe.py TRAIN_RECIPE")
    assert not problems, "\n".join(problems)


def test_a_drifted_value_or_key_is_named_with_both_values():
    drifted = {**COMMANDS["prune"].defaults, "reg": 1e-3, "new_key": 1}
    del drifted["speed_up"]
    assert mismatches("pruning.py param_dict", drifted, COMMANDS["prune"].defaults, "lrsdetr.commands (prune)") == [
        "pruning.py param_dict: 'new_key' is not in lrsdetr.commands (prune)",
        "pruning.py param_dict: 'reg' is 0.001, lrsdetr.commands (prune) has 0.0005",
        "pruning.py param_dict: misses 'speed_up' (= 1.35) of lrsdetr.commands (prune)",
    ]
    assert mismatches("x", {"epochs": 300.0}, {"epochs": 300}, "y") == ["x: 'epochs' is 300.0, y has 300"]  # float flags


def test_package_defaults_come_from_the_package_sources_of_truth():
    from lrsdetr.compress.distill import LRSDETRDistillTrainer
    from lrsdetr.compress.finetune import SparseLearningTrainer
    from lrsdetr.compress.prune import PruneSettings
    from lrsdetr.engine.quickstart import QUICK_SCHEDULE

    train, prune, distill, quick = (COMMANDS[n].defaults for n in ("train", "prune", "distill", "quickstart"))
    assert {key: train[key] for key in TRAIN_RECIPE} == TRAIN_RECIPE
    assert prune["reg"] == SparseLearningTrainer.extra_args["reg"]
    pruning = asdict(PruneSettings())
    assert {key: prune[key] for key in pruning} == pruning
    settings = {key: value for key, value in LRSDETRDistillTrainer.extra_args.items() if key != "teacher_weights"}
    assert not settings.keys() - distill.keys(), f"distill misses the settings {sorted(settings.keys() - distill.keys())}"
    assert {key: distill[key] for key in settings} == settings
    assert all(quick[key] == QUICK_SCHEDULE[key] for key in ("imgsz", "epochs", "batch", "lr0"))


# Each is a fresh interpreter per side: fast runs check train, slow runs the others too.
@pytest.mark.parametrize("name", ["train", pytest.param("distill", marks=pytest.mark.slow), pytest.param("channels", marks=pytest.mark.slow)])
def test_command_help_is_the_script_help(name):
    """The same flags, defaults and text; the examples say `lrsdetr NAME` for `python SCRIPT`."""
    command = COMMANDS[name]
    script_help = subprocess.run([sys.executable, command.script, "--help"], capture_output=True, text=True,
                                 timeout=120, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}).stdout
    command_help = run_module(name, "--help").stdout
    assert script_help.startswith(f"usage: {Path(command.script).name} [-h]") and command.doc.splitlines()[0] in script_help
    assert command_help.startswith(f"usage: lrsdetr {name} [-h]")
    assert f"lrsdetr {name} " in command_help and f"python {command.script}" not in command_help
    after_usage = script_help[script_help.index("\n\n"):].replace(f"python {command.script}", f"lrsdetr {name}")
    assert command_help[command_help.index("\n\n"):] == after_usage


@pytest.mark.parametrize(("argv", "message"), [
    ([], "usage: lrsdetr COMMAND"),
    (["trian"], "unknown command 'trian'; choose from train, val, detect"),
    (["val", "--weights", "missing.pt"], "error: --weights missing.pt: no such file"),
    (["metrics", "--pred_json", "missing.json"], "error: --anno_json data_test.json: no such JSON file"),
])
def test_errors_exit_2_with_one_line(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_bad_flag_value_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["detect", "--slice", "maybe"])
    assert exit_info.value.code == 2 and "expected true/false" in capsys.readouterr().err


def test_pyproject_entry_point_is_the_command():
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    module, function = scripts["lrsdetr"].split(":")
    assert getattr(importlib.import_module(module), function) is main


def run_module(*args, cwd=REPO) -> subprocess.CompletedProcess:
    env_path = {"PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "lrsdetr", *map(str, args)], capture_output=True, text=True,
                          timeout=300, cwd=cwd, env={**os.environ, **env_path})


def test_python_m_lrsdetr_lists_commands_and_runs_one(tmp_path):
    listing = run_module("--help")
    assert listing.returncode == 0 and all(f"\n  {name} " in listing.stdout for name in COMMANDS), listing.stderr
    fps = run_module("fps", "--weights", "rtdetr-r18.yaml", "--imgsz", 64, "--warmup", 1, "--iterations", 2,
                     "--device", "cpu", "threads=1", cwd=tmp_path)
    assert fps.returncode == 0, fps.stderr[-2000:]
    assert "batch 1, fp32, cpu, 1 thread, 2 timed iterations" in fps.stdout and "FPS" in fps.stdout
    missing = run_module("export", "--weights", "missing.pt", cwd=tmp_path)
    assert missing.returncode == 2 and missing.stderr.strip().splitlines()[-1].startswith("error: --weights missing.pt")


def test_a_dataset_converter_runs_as_a_command(tiny_data, tmp_path, capsys):
    root, out = tiny_data.parent, tmp_path / "ground_truth.json"
    argv = ["yolo2coco", "--image_path", root / "images/val", "--label_path", root / "labels/val", "--data", tiny_data,
            "--out", out]
    assert main([str(word) for word in argv]) == 0
    coco = json.loads(out.read_text())
    boxes = sum(len(path.read_text().split("\n")) - 1 for path in (root / "labels/val").glob("*.txt"))
    assert len(coco["images"]) == 4 and len(coco["annotations"]) == boxes > 0 and len(coco["categories"]) == 3
    assert f"wrote {out}" in capsys.readouterr().out


def test_an_unknown_assignment_is_a_usage_error_of_the_command(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["val", "lr0=1e-3"])  # an Ultralytics train argument, which val does not take
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and "lrsdetr val: error: 'lr0=1e-3': 'lr0' is not one of this script's flags" in err


def test_lrsdetr_bench_lists_the_benchmarks_and_runs_one(capsys):
    from lrsdetr.commands import BENCHMARKS

    assert main(["bench"]) == 0
    listing = capsys.readouterr().out
    assert all(f"\n  bench {name} " in listing for name in BENCHMARKS) and "\n  train " not in listing
    assert main(["bench", "accuracy", "--seeds", "-1"]) == 2  # the benchmark's own declaration refuses it
    assert "--seeds -1: expected" in capsys.readouterr().err
    assert main(["bench", "acuracy"]) == 2 and "unknown command 'acuracy'; choose from bench {accuracy," in capsys.readouterr().err
