"""The `lrsdetr` console command: `lrsdetr train ...`, `lrsdetr val ...`, ... for pip users without a clone.

Each subcommand mirrors a root script (train.py, val.py, ...): the same flags, `name=value` words and help, parsed
by `utils.cli.parse_overrides`, the same logic, exit status 2 on usage and data errors. Its defaults live here,
built from the package's own sources of truth (the training recipe, the distillation settings, the pruning `reg`,
the quick-start schedule); the root scripts keep literal copies for users to edit, and tests/test_commands.py
checks that the two agree key by key, and that each script's docstring (the help text) is the one below.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from dataclasses import dataclass

from . import __version__
from .compress.distill import DistillationSettings
from .compress.prune_methods import DEFAULT_REG
from .engine.quickstart import QUICK_SCHEDULE, QUICK_WARMUP_ITERATIONS
from .models.recipe import TRAIN_RECIPE, WARMUP_ITERATIONS
from .utils.cli import parse_overrides
from .utils.errors import run_script
from .utils.memory import keep_freed_memory

TRAIN_DOC = """Train LRS-DETR-B with the authors' recipe (AdamW, lr 1e-4 constant, 2000 warm-up iterations, no AMP, no mosaic,
300 epochs, batch 8, 640 px), or resume an interrupted run.

Examples:
  python train.py --data dataset/data.yaml
  python train.py --data dataset/data.yaml --device 0,1,2,3 --batch 32          # Ultralytics launches 4 GPU workers
  python -m torch.distributed.run --nproc_per_node 4 train.py --batch 32         # the same, launched by torchrun
  python train.py --resume runs/train/lrs-detr-b/weights/last.pt
Any other Ultralytics train argument can be added to param_dict or given as name=value (cos_lr=True), passed on as is.
"""

VAL_DOC = """Score a trained checkpoint on a split of a dataset and save COCO-format predictions (predictions.json).

Example: python val.py --weights runs/train/lrs-detr-b/weights/best.pt --data dataset/data.yaml --split test
It ends by printing the yolo2coco.py and get_COCO_metrics.py commands that give the COCO metrics and TIDE errors.
On VisDrone data (its ten class names) it also writes the challenge-format results (visdrone_results/, as
--save_visdrone does for any data) and prints the COCO and VisDrone-toolkit protocols side by side; give
--visdrone_anno the split's original annotations for the exact protocol (ignored regions, score-0 boxes).
"""

DETECT_DOC = """Detect objects in images, folders and videos; save drawn results, YOLO txt labels and a COCO predictions.json.

Examples:
  python detect.py --weights runs/train/lrs-detr-b/weights/best.pt --source dataset/images/test
  python detect.py --weights best.pt --source frame.jpg --slice True --slice_size 640   # sliced (SAHI), large frames
With --slice, each frame is cut into overlapping slice_size tiles, each run at imgsz, and the boxes merged:
small objects keep their pixels instead of vanishing when a 2000x1500 frame is shrunk to 640.
--save_visdrone True writes one VisDrone challenge-format file per image (for get_VisDrone_metrics.py --res_dir).
"""

EXPORT_DOC = """Export a trained LRS-DETR (or any RT-DETR) to ONNX, TensorRT, OpenVINO, CoreML, ... with Ultralytics' exporter.

Examples:
  python export.py --weights runs/train/lrs-detr-b/weights/best.pt
  python export.py --weights runs/train/lrs-detr-b/weights/best.pt --dynamic True --batch 8
  python export.py --weights runs/train/lrs-detr-b/weights/best.pt --format engine --half True --device 0
  python export.py --weights lrs-detr-b.yaml --imgsz 320   # an untrained config works too (file lands in the working folder)
  python export.py --weights runs/train/lrs-detr-b/weights/best.pt --check_map True --data dataset/data.yaml
  python export.py --weights runs/train/lrs-detr-b/weights/best.pt --int8 True --data dataset/data.yaml --format openvino
Prints where the file went; for ONNX also one line comparing ONNX Runtime's detections with PyTorch's. With
--check_map True it scores the export and the checkpoint on the val split of --data (val.py's validation and
COCO summary) and warns when the export's AP50 is more than --map_tolerance below the checkpoint's.
"""

PRUNE_DOC = """Prune a trained LRS-DETR-B to LRS-DETR-T (LAMP, speed-up 1.35 by default), then fine-tune it with the training
recipe (AdamW, lr 1e-4 constant, no AMP, no mosaic, 2000 warm-up iterations).

Example: python pruning.py --model runs/train/lrs-detr-b/weights/best.pt --data dataset/data.yaml --device 0
Outputs: runs/prune/<name>/weights/best.pt (pruned and fine-tuned; distill.py's student), and beside the run,
runs/prune/<name>-pruning/pruned.pt (right after pruning) and, for sparse-learning methods, sparse_learning/.
Other Ultralytics train arguments go on as name=value (python pruning.py lr0=5e-4 nbs=4) or into param_dict.
"""

DISTILL_DOC = """Distil a pruned LRS-DETR (the student, from pruning.py) from the unpruned LRS-DETR-B (the teacher): MLSSD
(logical), feature distillation, or both, trained with the LRS-DETR recipe.

Example: python distill.py --model runs/prune/lamp_speedup1.35/weights/best.pt              --teacher_weights runs/train/lrs-detr-b/weights/best.pt --data dataset/data.yaml --device 0
The student's and teacher's checkpoints hold their architectures (the seed's `teacher_cfg` and `prune_model` are
not needed). The result, runs/distill/<name>/weights/best.pt, is the student alone (LRS-DETR-T).
Mismatched layer lists, a teacher with other classes, or (logical) another decoder depth stop before training.
Other Ultralytics train arguments go on as name=value (python distill.py lr0=5e-4 nbs=4) or into param_dict.
"""

METRICS_DOC = """COCO box metrics (pycocotools' 12 numbers), per-class AP and TIDE error analysis of a predictions.json.

Example: python get_COCO_metrics.py --pred_json runs/val/exp/predictions.json --anno_json data_test.json --max_dets 500.
The GT json must be made from the same images (its image ids are predictions.json's image_id). --max_dets 500 is
VisDrone's protocol, 100 is COCO's. Tables are printed; a JSON of every number and TIDE's plots are saved in
--save_dir (default: <predictions folder>/coco_metrics/). A mistake in the inputs prints one line and exits 2.
"""

FPS_DOC = """Latency (mean +/- std per batch) and FPS of a fused model's forward pass, on CPU or CUDA (synchronised timing).

Examples:
  python get_FPS.py --weights runs/train/lrs-detr-b/weights/best.pt
  python get_FPS.py --weights lrs-detr-b.yaml --device 0 --half True --batch 8   # an untrained config works too
"""

HEATMAP_DOC = """Class-activation heatmaps (Grad-CAM, Grad-CAM++, XGrad-CAM, EigenCAM, ...) of a trained detector on images,
overlaid with the detections drawn. Works on CPU, offline.

Example: python heatmap.py --weights runs/train/lrs-detr-b/weights/best.pt --source dataset/images/test
Layers are indices into the model's layer list: for LRS-DETR-B 21, 24, 27 are the neck outputs the decoder
reads (strides 8, 16, 32), 20 the SME/Omni-Kernel module, 10 the DPRA encoder, 8 the last DFENet stage.
"""

QUICKSTART_DOC = """Quick start: synthetic drone data -> LRS-DETR-B trained on CPU -> validation -> COCO metrics, TIDE, plots.

Runs in about ten minutes on two CPU cores, offline. With --data dataset/data.yaml it runs on real VisDrone
(the same short schedule; use train.py for the full 300-epoch recipe).
"""

CHANNELS_DOC = """Output channels per layer of a base model and its pruned version, as a bar chart (PNG) and a list of the
layers that changed.

Example: python plot_channel_image.py --base-weights runs/train/lrs-detr-b/weights/best.pt              --prune-weights runs/prune/lamp_speedup1.35/weights/best.pt
"""

SPLIT_DOC = """Split one images + labels folder into out/images/{train,val,test} and out/labels/{...} by ratios.

Files are hard-linked or copied, never moved; images without labels stay, as background. Example:
python dataset/split_data.py --image_path all/images --label_path all/labels --out dataset --train 0.8 --val 0.1 --test 0.1
"""

VISDRONE2YOLO_DOC = """Convert a VisDrone-DET folder (images/, annotations/) into YOLO images/<split> and labels/<split>.

Example: python dataset/visdrone2yolo.py --src VisDrone2019-DET-train --out dataset --split train --mask-ignored true
"""

XML2TXT_DOC = """Convert Pascal VOC XML annotations into YOLO label files, with class names from a data.yaml.

Example: python dataset/xml2txt.py --src Annotations --out dataset/labels/train --data dataset/data.yaml
"""

YOLO2COCO_DOC = """Write the COCO ground-truth JSON of a YOLO images + labels folder, for get_COCO_metrics.py.

image_id and category_id are those Ultralytics writes into predictions.json (file stem, class index + 1),
so predictions and ground truth pair up. The default --out is get_COCO_metrics.py's default --anno_json. Example:
python dataset/yolo2coco.py --image_path dataset/images/test --label_path dataset/labels/test   # writes data_test.json
"""


VISDRONE_METRICS_DOC = """VisDrone-DET's own protocol, as the official toolkit (evalDET.m) computes it, plus AP by object size (ours).

Examples:
  python get_VisDrone_metrics.py --anno_dir VisDrone2019-DET-val/annotations --res_dir runs/val/exp/visdrone_results --img_dir VisDrone2019-DET-val/images
  python get_VisDrone_metrics.py --pred_json runs/val/exp/predictions.json --img_dir dataset/images/val --label_dir dataset/labels/val
The first scores challenge-format result files (one <image>.txt each) against the original annotations (exact:
ignored regions, score-0 boxes). The second converts val.py's predictions.json (to <its folder>/visdrone_results)
and, without --anno_dir, the YOLO labels (to visdrone_annotations beside it; they hold no ignored regions).
Prints the toolkit's seven lines and our size buckets; saves visdrone_metrics.json beside the results folder.
A mistake in the inputs prints one line and exits 2.
"""

@dataclass(frozen=True)
class Command:
    """One subcommand: the root `script` it mirrors, a one-line `summary`, its logic (`run`, 'module:function',
    imported when it runs), its defaults and help. `passthrough`: other Ultralytics train arguments are taken as
    name=value. `status`: the logic returns the exit status itself instead of raising DataError. `inference`: a
    run of forward passes, whose process keeps the memory it frees (lrsdetr.utils.memory: fewer page faults)."""

    script: str
    summary: str
    run: str
    defaults: dict
    doc: str
    passthrough: bool = False
    status: bool = False
    inference: bool = False

    def help_text(self, name: str) -> str:
        """The script's docstring, its examples written as `lrsdetr <name>` commands."""
        return self.doc.replace(f"python {self.script}", f"lrsdetr {name}")

    def __call__(self, name: str, argv: list[str]) -> int:
        return self.execute(self.defaults, self.help_text(name), argv, prog=f"lrsdetr {name}")

    def execute(self, defaults: dict, doc: str, argv: list[str] | None = None, prog: str | None = None) -> int:
        """Parse `argv` over `defaults`, run the logic; the exit status (2 for a usage or data error)."""
        params = parse_overrides(defaults, doc, argv, self.passthrough, prog=prog)
        module, function = self.run.split(":")
        logic: Callable = getattr(importlib.import_module(f"lrsdetr.{module}"), function)
        if self.inference:
            keep_freed_memory()
        return logic(params) if self.status else run_script(logic, params)


TRAIN = {
    "model": "lrs-detr-b.yaml",
    "pretrained": "",
    "data": "dataset/data.yaml",
    **TRAIN_RECIPE,
    "warmup_iters": WARMUP_ITERATIONS,
    "workers": 8,
    "cache": False,
    "device": "",
    "project": "runs/train",
    "name": "lrs-detr-b",
    "exist_ok": False,
    "seed": 0,
    "plots": True,
    "resume": "",
}

VAL = {
    "weights": "runs/train/lrs-detr-b/weights/best.pt",
    "data": "dataset/data.yaml",
    "split": "test",
    "imgsz": 640,
    "batch": 8,
    "conf": 0.001,
    "max_det": 300,
    "device": "",
    "save_json": True,
    "save_visdrone": False,
    "visdrone_anno": None,
    "plots": True,
    "project": "runs/val",
    "name": "exp",
    "exist_ok": False,
}

DETECT = {
    "weights": "runs/train/lrs-detr-b/weights/best.pt",
    "source": "dataset/images/test",
    "imgsz": 640,
    "conf": 0.25,
    "max_det": 300,
    "device": "",
    "slice": False,
    "slice_size": 640,
    "slice_overlap": 0.2,
    "slice_full_frame": True,
    "slice_merge": "NMS",
    "slice_match": "IOU",
    "save": True,
    "save_txt": True,
    "save_conf": True,
    "save_json": True,
    "save_visdrone": False,
    "line_width": None,
    "vid_stride": 1,
    "project": "runs/detect",
    "name": "exp",
    "exist_ok": False,
}

EXPORT = {
    "weights": "runs/train/lrs-detr-b/weights/best.pt",
    "format": "onnx",
    "imgsz": 640,
    "half": False,
    "int8": False,
    "keep_float": "decoder,dft,attention",
    "dynamic": False,
    "simplify": True,
    "opset": None,
    "batch": 1,
    "device": None,
    "data": "",
    "check_map": False,
    "map_tolerance": 0.01,
}

# pruning.py's fine-tuning and distill.py's training: the training recipe's length and size.
RETRAINING = {
    "data": "dataset/data.yaml",
    "imgsz": TRAIN_RECIPE["imgsz"],
    "epochs": TRAIN_RECIPE["epochs"],
    "batch": TRAIN_RECIPE["batch"],
    "workers": 8,
    "cache": False,
    "device": "",
}

PRUNE = {
    "model": "runs/train/lrs-detr-b/weights/best.pt",
    **RETRAINING,
    "project": "runs/prune",
    "name": "lamp_speedup1.35",
    "warmup_iters": WARMUP_ITERATIONS,
    "prune_method": "lamp",
    "global_pruning": True,
    "speed_up": 1.35,
    "reg": DEFAULT_REG,
    "sl_epochs": 500,
    "sl_hyp": "hyp.scratch.sl.yaml",
    "iterative_steps": 50,
    "scope": "paper",
}

SETTINGS = DistillationSettings()

# The distillation settings' defaults are the dataclass's, bar the teacher: the one train.py writes.
DISTILL = {
    "model": "runs/prune/lamp_speedup1.35/weights/best.pt",
    **RETRAINING,
    "project": "runs/distill",
    "name": "lamp1.35_logical_mlssd_0.0001",
    "warmup_iters": WARMUP_ITERATIONS,
    "teacher_weights": "runs/train/lrs-detr-b/weights/best.pt",
    "kd_loss_type": SETTINGS.kd_loss_type,
    "kd_loss_decay": SETTINGS.kd_loss_decay,
    "kd_loss_epoch": SETTINGS.kd_loss_epoch,
    "logical_loss_type": SETTINGS.logical_loss_type,
    "logical_loss_ratio": SETTINGS.logical_loss_ratio,
    "mlssd_level_weights": SETTINGS.mlssd_level_weights,
    "teacher_kd_layers": SETTINGS.teacher_kd_layers,
    "student_kd_layers": SETTINGS.student_kd_layers,
    "feature_loss_type": SETTINGS.feature_loss_type,
    "feature_loss_ratio": SETTINGS.feature_loss_ratio,
}

METRICS = {
    "pred_json": "runs/val/exp/predictions.json",
    "anno_json": "data_test.json",
    "max_dets": 100,
    "save_dir": None,
    "tide": True,
    "backend": "faster_coco_eval",
}

FPS = {
    "weights": "runs/train/lrs-detr-b/weights/best.pt",
    "imgsz": 640,
    "batch": 1,
    "half": False,
    "device": "",
    "warmup": 50,
    "iterations": 200,
    "threads": 0,
}

HEATMAP = {
    "weights": "runs/train/lrs-detr-b/weights/best.pt",
    "source": "dataset/images/test",
    "method": "GradCAMPlusPlus",
    "layers": "21,24,27",
    "target": "class",
    "conf": 0.25,
    "show_boxes": True,
    "imgsz": 640,
    "device": "",
    "project": "runs/heatmap",
    "name": "exp",
    "exist_ok": False,
}

QUICKSTART = {
    "data": "",
    "model": "lrs-detr-b.yaml",
    "workdir": "runs/quickstart",
    "n_train": 128,
    "n_val": 32,
    **{key: QUICK_SCHEDULE[key] for key in ("imgsz", "epochs", "batch", "lr0")},
    "warmup_iters": QUICK_WARMUP_ITERATIONS,
    "workers": 0,
    "device": "",
    "max_dets": 100,
    "seed": 0,
}

VISDRONE_METRICS = {
    "anno_dir": None,
    "res_dir": None,
    "img_dir": None,
    "pred_json": None,
    "label_dir": None,
}

CHANNELS = {
    "base_weights": "runs/train/lrs-detr-b/weights/best.pt",
    "prune_weights": "runs/prune/lamp_speedup1.35/weights/best.pt",
    "save": "channels.png",
}

SPLIT = {
    "image_path": "images",
    "label_path": "labels",
    "out": "dataset",
    "train": 0.8,
    "val": 0.1,
    "test": 0.1,
    "seed": 0,
    "link": True,
}

VISDRONE2YOLO = {
    "src": "VisDrone2019-DET-train",
    "out": "dataset",
    "split": "train",
    "mask_ignored": False,
    "skip_bad": False,
    "link": True,
}

XML2TXT = {
    "src": "Annotations",
    "out": "dataset/labels/train",
    "data": "dataset/data.yaml",
    "skip_bad": False,
}

YOLO2COCO = {
    "image_path": "dataset/images/test",
    "label_path": "dataset/labels/test",
    "out": "data_test.json",
    "data": "dataset/data.yaml",
    "skip_bad": False,
}

COMMANDS = {
    "train": Command("train.py", "train LRS-DETR-B (or RT-DETR) with the authors' recipe, or resume",
                     "engine.train:train", TRAIN, TRAIN_DOC, passthrough=True),
    "val": Command("val.py", "score a checkpoint on a split, save predictions.json",
                   "engine.validate:main", VAL, VAL_DOC, inference=True),
    "detect": Command("detect.py", "detect objects in images and videos, sliced if asked",
                      "engine.detect:detect", DETECT, DETECT_DOC, inference=True),
    "export": Command("export.py", "export to ONNX, TensorRT, OpenVINO, Core ML, ...",
                      "engine.export:main", EXPORT, EXPORT_DOC),
    "prune": Command("pruning.py", "prune LRS-DETR-B (LAMP, ...), then fine-tune it",
                     "compress.finetune:prune_and_finetune", PRUNE, PRUNE_DOC, passthrough=True),
    "distill": Command("distill.py", "distil a pruned student from its teacher (MLSSD, features)",
                       "compress.distill:distill", DISTILL, DISTILL_DOC, passthrough=True),
    "metrics": Command("get_COCO_metrics.py", "COCO metrics, per-class AP and TIDE of a predictions.json",
                       "eval.report:main", METRICS, METRICS_DOC, status=True),
    "visdrone-metrics": Command("get_VisDrone_metrics.py", "VisDrone toolkit's metrics of challenge-format results",
                                "eval.visdrone_report:main", VISDRONE_METRICS, VISDRONE_METRICS_DOC, status=True),
    "fps": Command("get_FPS.py", "latency and FPS of a fused model",
                   "tools.fps:main", FPS, FPS_DOC, inference=True),
    "heatmap": Command("heatmap.py", "Grad-CAM & co. heatmaps of a detector on images",
                       "tools.heatmap:make_heatmaps", HEATMAP, HEATMAP_DOC),
    "quickstart": Command("quickstart.py", "synthetic data -> training -> validation -> metrics, on CPU",
                          "engine.quickstart:quickstart", QUICKSTART, QUICKSTART_DOC),
    "channels": Command("plot_channel_image.py", "channels per layer before and after pruning, as a chart",
                        "tools.channels:main", CHANNELS, CHANNELS_DOC),
    "split": Command("dataset/split_data.py", "split an images + labels folder into train/val/test",
                     "data.scripts:split_data", SPLIT, SPLIT_DOC),
    "visdrone2yolo": Command("dataset/visdrone2yolo.py", "convert VisDrone-DET annotations to YOLO labels",
                             "data.scripts:visdrone2yolo", VISDRONE2YOLO, VISDRONE2YOLO_DOC),
    "xml2txt": Command("dataset/xml2txt.py", "convert Pascal VOC XML annotations to YOLO labels",
                       "data.scripts:xml2txt", XML2TXT, XML2TXT_DOC),
    "yolo2coco": Command("dataset/yolo2coco.py", "COCO ground-truth JSON of a YOLO images + labels folder",
                         "data.scripts:yolo2coco", YOLO2COCO, YOLO2COCO_DOC),
}


def run_root_script(name: str, param_dict: dict) -> int:
    """A root script (train.py, ...): the user's own (perhaps edited) param_dict, the command's help and logic."""
    command = COMMANDS[name]
    return command.execute(param_dict, command.doc)


def usage() -> str:
    width = max(map(len, COMMANDS))
    lines = [f"  {name:<{width}}  {command.summary} ({command.script})" for name, command in COMMANDS.items()]
    return "\n".join([
        "usage: lrsdetr COMMAND [--flag value | name=value ...]",
        "", "LRS-DETR from the command line; each command is the root script named beside it.", "", "commands:", *lines,
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
    command = COMMANDS.get(argv[0])
    if command is None:
        print(f"lrsdetr: error: unknown command {argv[0]!r}; choose from {', '.join(COMMANDS)} (see lrsdetr --help)",
              file=sys.stderr)
        return 2
    return command(argv[0], argv[1:])
