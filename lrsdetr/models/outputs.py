"""Where runs go and what they left there: run folders relative to the working directory, listed per kind."""

from __future__ import annotations

from pathlib import Path

from ultralytics.utils.files import increment_path

from ..data.files import require_writable

# Where train.py and pruning.py put their results by default: every later command's default input.
TRAINED_WEIGHTS = "runs/train/lrs-detr-b/weights/best.pt"
PRUNED_WEIGHTS = "runs/prune/lamp_speedup1.35/weights/best.pt"
KINDS = {"weights": ("weights/*.pt",), "tables": ("*.csv", "*.json"), "plots": ("*.png", "*.jpg")}


def describe_outputs(folder: Path) -> str:
    """'  plots: confusion_matrix.png, results.png, ...' lines for the files `folder` holds (paths relative to it)."""
    lines = [f"Results in {folder}:"]
    for kind, patterns in KINDS.items():
        names = sorted(str(path.relative_to(folder)) for pattern in patterns for path in folder.glob(pattern))
        if names:
            lines.append(f"  {kind}: {', '.join(names)}")
    return "\n".join(lines)


def project_folder(project: str | Path) -> str:
    """`project` made absolute against the working directory.

    Ultralytics 8.4 files a relative project under its settings' runs_dir and the task
    (runs/detect/runs/train/<name>); the seed's scripts and README expect runs/train/<name> where they run.
    Checked writable first: Ultralytics would stop on it with a traceback, after loading the model.
    """
    require_writable(Path(project), "--project")
    return str(Path(project).resolve())


def pinned_run_folder(params: dict) -> tuple[Path, dict]:
    """The run folder `project/name` will be (`name-2`, ... unless `exist_ok`), and `params` pinned to it
    (`exist_ok` then true): the run writes exactly where the command's checks looked."""
    folder = increment_path(Path(project_folder(params["project"])) / params["name"], exist_ok=params.get("exist_ok", False))
    return folder, {**params, "project": str(folder.parent), "name": folder.name, "exist_ok": True}
