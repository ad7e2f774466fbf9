"""The package's layers: each folder (or top-level module) of lrsdetr/ imports only from itself and the layers
below it, so that a folder's name says what it holds and nothing low depends on something high (docs/architecture.md,
Project Structure). Every import counts, those inside functions too."""

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = "lrsdetr"
ROOT_MODULE = "__init__"  # lrsdetr/__init__.py: the public face (RTDETR, build_model, __version__)
# Bottom to top. utils: errors, cli, Ultralytics internals, fonts; models: RTDETR, trainer, recipe, run folders;
# tools: user-input checks and the pieces scripts share; engine: the root scripts' logic; compress: pruning and
# distillation, whose pruning.py/distill.py flows train through engine; bench: the benchmarks, which use all of
# these; commands: the console command.
LAYERS = ("utils", "cfg", "nn", "data", "eval", "compat", "models", ROOT_MODULE, "tools", "engine", "compress", "bench", "commands", "__main__")


def layer_of(module: str) -> str:
    """'lrsdetr.tools.checks' -> 'tools'; 'lrsdetr' (the package itself) -> '__init__'."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] != "__init__" else ROOT_MODULE


def module_name(path: Path, root: Path) -> str:
    return ".".join(path.relative_to(root).with_suffix("").parts)


def imported_modules(path: Path, root: Path) -> list[tuple[int, str, str]]:
    """(line, module, as written) for every import of the package in `path`, relative ones resolved. For
    `from lrsdetr import x` with x a subpackage or module, the module is lrsdetr.x."""
    name = module_name(path, root)
    package = name.removesuffix(".__init__") if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, f"import {alias.name}") for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            written = f"from {'.' * node.level}{node.module or ''} import {', '.join(alias.name for alias in node.names)}"
            for alias in node.names:
                submodule = root.joinpath(*module.split("."), alias.name)
                is_submodule = submodule.is_dir() or submodule.with_suffix(".py").is_file()
                found.append((node.lineno, f"{module}.{alias.name}" if is_submodule else module, written))
    return [entry for entry in dict.fromkeys(found) if entry[1].split(".")[0] == PACKAGE]  # once per line and module


def upward_imports(root: Path) -> list[str]:
    """'file:line: layer imports higher layer: the import' for every import against the layer order."""
    problems = []
    for path in sorted((root / PACKAGE).rglob("*.py")):
        own = layer_of(module_name(path, root))
        if own not in LAYERS:
            problems.append(f"{path.relative_to(root)}: its folder '{own}' has no place in LAYERS; add it where it belongs")
            continue
        for line, module, written in imported_modules(path, root):
            target = layer_of(module)
            if target not in LAYERS or LAYERS.index(target) > LAYERS.index(own):
                problems.append(f"{path.relative_to(root)}:{line}: {own} imports the higher layer {target}: {written}")
    return problems


def test_imports_flow_from_higher_layers_to_lower_ones():
    problems = upward_imports(REPO)
    assert not problems, "imports against the layer order " + " -> ".join(LAYERS) + ":\n" + "\n".join(problems)


def test_the_documented_diagram_lists_the_layers_in_order():
    """docs/architecture.md, Project Structure: the package's parts, lowest layer first, each one that exists."""
    page = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    package = re.search(r"^├── lrsdetr/.*?\n((?:│ .*\n)+)", page, re.MULTILINE).group(1)
    entries = re.findall(r"^│   [├└]── (\S+?)\s", package, re.MULTILINE)
    assert all((REPO / PACKAGE / entry).exists() for entry in entries), entries
    parts = list(dict.fromkeys(entry.split("/")[0].removesuffix(".py") for entry in entries))
    assert parts == [layer for layer in LAYERS if layer not in (ROOT_MODULE, "__main__")]


def test_an_upward_import_inside_a_function_is_named(tmp_path):
    """The check reads imports wherever they are, relative ones included, and names file, line and import."""
    (tmp_path / PACKAGE / "nn").mkdir(parents=True)
    (tmp_path / PACKAGE / "engine").mkdir()
    (tmp_path / PACKAGE / "__init__.py").write_text("")
    (tmp_path / PACKAGE / "engine" / "__init__.py").write_text("")
    (tmp_path / PACKAGE / "nn" / "blocks.py").write_text("import os\n\n\ndef block():\n    from ..engine import train\n")
    assert upward_imports(tmp_path) == [f"{Path(PACKAGE, 'nn', 'blocks.py')}:5: nn imports the higher layer engine: from ..engine import train"]


def test_moved_names_are_still_importable_from_their_documented_paths():
    from lrsdetr.compress.prune import PRUNED_KEY, is_pruned
    from lrsdetr.data.files import DataError, run_script
    from lrsdetr.nn import detection_model
    from lrsdetr.utils import errors

    assert (DataError, run_script) == (errors.DataError, errors.run_script)
    assert (is_pruned, PRUNED_KEY) == (detection_model.is_pruned, detection_model.PRUNED_KEY)


def test_the_trainer_loads_without_torch_pruning():
    """Training an unpruned model needs no pruning library: importing the trainer (and so the package) leaves
    torch-pruning unloaded."""
    code = "import sys, lrsdetr.models.trainer; print('torch_pruning' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-1] == "False", "importing lrsdetr.models.trainer loaded torch_pruning"
