"""Tracking side by side on drone video: detectors x trackers x whole-frame / sliced, scored by VisDrone-MOT's protocol.

    python benchmarks/tracking.py                 # the default run: synthetic drone video, detectors trained here (CPU)
    python benchmarks/tracking.py --quick         # a smoke run: one short sequence, detectors trained 1 epoch
    python benchmarks/tracking.py --data VisDrone2019-MOT-val --weights lrs-detr-b=lrs.pt,rtdetr-r18=r18.pt \\
        --imgsz 640 --slice_size 640 --device 0

`detectors` (LRS-DETR-B and RT-DETR-R18 by default) are trained by the quick start's short schedule
(lrsdetr.engine.quickstart: `epochs` epochs at `imgsz` on `train_images` synthetic still images of that size), or
taken from `weights` ('name=checkpoint,...'). Each detects every frame of the sequences whole (the frame shrunk to
`imgsz`) and sliced (tiles of `slice_size` frame pixels, each at `imgsz`, merged by SAHI, as track.py --slice does);
each of `trackers` (Ultralytics' ByteTrack and BoT-SORT, default settings) then tracks those detections, exactly as
track.py does (lrsdetr.engine.track.track_sequence). The results are scored by lrsdetr.eval.visdrone_mot: MOTA and
IDF1 (Task 4B), HOTA (trackeval), trajectory AP (Task 4A's mean over the three thresholds), over VisDrone-MOT's five
classes. Frames per second are end to end on this machine (`threads` CPU threads or `device`): reading the frame,
detecting, tracking; the detections of a detector and mode are computed once, with the first tracker, and their
time counted again for the second. Without `data`, the sequences are synthetic drone video (lrsdetr.data.synth_video:
`sequences` x `frames` frames of `width` x `height`, objects at the pixel size of the training stills, so whole
frames shrink them by width/imgsz). Out: `out`/tracking.md, .csv, .json and tracking.png (MOTA, IDF1 and HOTA against
frames per second). Finished parts are reused (trained detectors, detection times, scored results), so the command
can be re-run after any stop.

Defaults sized for the 2-core CPU machine: 2 sequences of 60 frames of 480x320, two detectors trained 10 epochs on
128 images of 160 px (the quick start's schedule), whole frames shrunk to 160 px against 12 tiles of 160 px plus the
whole frame; README "Tracking" has the table, the time it took and the plot.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import torch
from ultralytics.engine.results import Results

from lrsdetr.cfg import MAX_DET, TRACKING_CONF
from lrsdetr.data.files import require_writable, write_text_atomic
from lrsdetr.data.synth import make_yolo_dataset
from lrsdetr.data.synth_video import generate_mot
from lrsdetr.engine.detect import frame_predictor
from lrsdetr.engine.quickstart import quick_schedule
from lrsdetr.engine.track import track_sequence
from lrsdetr.engine.track_outputs import SequenceTracks
from lrsdetr.engine.track_sources import find_sequences
from lrsdetr.engine.trackers import TRACKERS, tracker_config
from lrsdetr.engine.train import train
from lrsdetr.eval.visdrone_mot import evaluate_mot
from lrsdetr.models import RTDETR
from lrsdetr.tools.checks import require_checkpoint, require_model
from lrsdetr.tools.sliced import SLICING_FLAGS
from lrsdetr.utils.atomic import save_figure_atomic, write_csv_atomic
from lrsdetr.utils.cli import with_preset
from lrsdetr.utils.command import Command
from lrsdetr.utils.errors import DataError
from lrsdetr.utils.guard import CommandPaths

DEFAULTS = {
    "detectors": "lrs-detr-b,rtdetr-r18",
    "weights": "",  # 'lrs-detr-b=a.pt,rtdetr-r18=b.pt': these checkpoints instead of training (needed with --data)
    "trackers": "bytetrack,botsort",
    "modes": "whole,sliced",
    "data": "",  # a VisDrone-MOT folder (sequences/, annotations/); empty: synthetic drone video made under `out`
    "sequences": 2,  # synthetic video: sequences
    "frames": 60,  # synthetic video: frames per sequence
    "width": 480,  # synthetic video: frame size
    "height": 320,
    "train_images": 128,  # synthetic still images the detectors are trained on (and 1/4 as many to validate)
    "epochs": 10,
    "batch": 4,
    "imgsz": 160,  # detector input: training images, whole frames and tiles alike
    "slice_size": 160,  # sliced mode: tile side in frame pixels
    "conf": TRACKING_CONF,
    "device": "cpu",
    "threads": 2,  # CPU threads while detecting and tracking
    "seed": 0,
    "out": "runs/tracking",
    "quick": False,  # smoke run (QUICK: one sequence of 12 frames of 256x160, detectors trained 1 epoch on 16 images)
}

QUICK = {"sequences": 1, "frames": 12, "width": 256, "height": 160, "train_images": 16, "epochs": 1}
MODES = ("whole", "sliced")
METRICS = ("MOTA", "IDF1", "HOTA", "AP")


def names_of(text: str) -> list[str]:
    return [name.strip() for name in str(text).split(",") if name.strip()]


def given_weights(text: str) -> dict[str, str]:
    """'name=checkpoint,...' as {name: checkpoint}, each checked."""
    weights = {}
    for item in names_of(text):
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise DataError(f"--weights {text}: expected name=checkpoint pairs, e.g. lrs-detr-b=runs/train/lrs/weights/best.pt")
        weights[name.strip()] = require_checkpoint(path.strip(), "--weights")
    return weights


def plan(params: dict) -> tuple[list[str], list[str], list[str], dict[str, str]]:
    """(detectors, trackers, modes, given weights), every name checked before anything is made."""
    detectors, trackers, modes = names_of(params["detectors"]), names_of(params["trackers"]), names_of(params["modes"])
    weights = given_weights(params["weights"])
    if not detectors or not trackers or not modes:
        raise DataError("--detectors, --trackers and --modes: expected at least one name each")
    for name in detectors:
        if name not in weights:
            if params["data"]:
                raise DataError(f"--detectors {name}: with --data give its checkpoint in --weights (detectors are trained here only on synthetic data)")
            require_model(f"{name}.yaml", "--detectors")
    for name in trackers:
        if name not in TRACKERS:
            raise DataError(f"--trackers {name}: expected {', '.join(TRACKERS)}")
    for mode in modes:
        if mode not in MODES:
            raise DataError(f"--modes {mode}: expected {', '.join(MODES)}")
    return detectors, trackers, modes, weights


def video(params: dict, out: Path) -> Path:
    """The VisDrone-MOT folder scored: --data, or the synthetic video of the requested size, made once."""
    if params["data"]:
        return Path(params["data"])
    root = out / f"video-{params['sequences']}x{params['frames']}-{params['width']}x{params['height']}-seed{params['seed']}"
    if not (root / "done").is_file():
        print(f"making the synthetic drone video in {root}", flush=True)
        generate_mot(root, params["sequences"], params["frames"], (params["width"], params["height"]), params["seed"])
        write_text_atomic(root / "done", "drawn\n")
    return root


def detector(name: str, params: dict, out: Path, weights: dict[str, str]) -> str:
    """The checkpoint of detector `name`: given, or trained here by the quick schedule (once; a stopped training is
    started again)."""
    if name in weights:
        return weights[name]
    folder = out / "train" / name
    if not (folder / "done").is_file():
        stills = out / f"stills-{params['train_images']}-{params['imgsz']}px-seed{params['seed']}"
        if not (stills / "data.yaml").is_file():
            make_yolo_dataset(stills, params["train_images"], max(params["train_images"] // 4, 4), params["imgsz"], params["seed"])
        print(f"training {name} ({params['epochs']} epochs at {params['imgsz']} px)", flush=True)
        train({"model": f"{name}.yaml", "data": str(stills / "data.yaml"), **quick_schedule(params["batch"]), "imgsz": params["imgsz"],
               "epochs": params["epochs"], "workers": 0, "device": params["device"], "seed": params["seed"], "val": False, "plots": False,
               "project": str(folder.parent), "name": name, "exist_ok": True})
        write_text_atomic(folder / "done", "trained\n")
    return str(folder / "weights" / "last.pt")


class Recorded:
    """A frame predictor that keeps each frame's boxes the first time (`record`) and gives them back after."""

    def __init__(self, predict, names: dict) -> None:
        self.predict, self.names = predict, names
        self.boxes: dict[str, list[torch.Tensor]] = {}
        self.position: dict[str, int] = {}
        self.record = True

    def __call__(self, frame: np.ndarray, path: str) -> Results:
        if self.record:
            result = self.predict(frame, path)
            self.boxes.setdefault(path, []).append(result.boxes.data.cpu().clone())
            return result
        index = self.position.get(path, 0)
        self.position[path] = index + 1
        return Results(frame, path=path, names=self.names, boxes=self.boxes[path][index])


def settings(params: dict, weights: str, mode: str, tracker: str) -> dict:
    """What makes two runs of a configuration the same: a stored result is reused only if these match."""
    keys = ("data", "sequences", "frames", "width", "height", "imgsz", "slice_size", "conf", "device", "threads", "seed")
    return {"weights": str(Path(weights).resolve()), "mode": mode, "tracker": tracker, **{key: params[key] for key in keys}}


def run_detector(name: str, weights: str, params: dict, modes: list[str], trackers: list[str], root: Path, out: Path) -> list[dict]:
    """Every mode x tracker of one detector: tracked, written as MOT files, scored; finished ones reused."""
    sequences = find_sequences(str(root / "sequences"))
    rows = []
    for mode in modes:
        todo = [t for t in trackers if not _reusable(out / "results" / f"{name}-{mode}-{t}", settings(params, weights, mode, t))]
        recorded, detect_seconds = None, {}
        if todo:
            model = RTDETR(weights)
            predict = frame_predictor(model, {"imgsz": params["imgsz"], "conf": params["conf"], "max_det": MAX_DET, "device": params["device"],
                                              **SLICING_FLAGS, "slice": mode == "sliced", "slice_size": params["slice_size"]})
            recorded = Recorded(predict, model.names)
        for tracker in trackers:
            folder = out / "results" / f"{name}-{mode}-{tracker}"
            wanted = settings(params, weights, mode, tracker)
            if tracker not in todo:
                rows.append(json.loads((folder / "result.json").read_text()))
                continue
            print(f"{name}, {mode}, {tracker}", flush=True)
            frames, seconds = 0, 0.0
            for sequence in sequences:
                tracks, timing = track_sequence(sequence, recorded, tracker_config(tracker), _no_drawing(), recorded.names, None)
                write_text_atomic(folder / "mot" / f"{sequence.name}.txt", SequenceTracks.mot_text(tracks.table()))
                if recorded.record:
                    detect_seconds[sequence.name] = timing["detect_seconds"]
                frames += timing["frames"]
                seconds += timing["seconds"] - timing["detect_seconds"] + detect_seconds[sequence.name]
            recorded.record = False
            recorded.position.clear()
            scores = evaluate_mot(root / "annotations", folder / "mot", root / "sequences", verbose=False)
            row = {"detector": name, "mode": mode, "tracker": tracker, "frames": frames, "seconds": seconds, "fps": frames / seconds,
                   "MOTA": scores["overall"]["MOTA"], "IDF1": scores["overall"]["IDF1"], "HOTA": scores["hota"]["all"]["HOTA"],
                   "AP": scores["trajectory_ap"]["AP"] if scores["trajectory_ap"] else float("nan"), "settings": wanted, "scores": scores}
            write_text_atomic(folder / "result.json", json.dumps(row, indent=1))
            rows.append(row)
    return rows


def _no_drawing() -> dict:
    return {"classes": None, "line": None, "save": False, "trail": 0, "line_width": None}


def _reusable(folder: Path, wanted: dict) -> bool:
    result = folder / "result.json"
    return result.is_file() and json.loads(result.read_text()).get("settings") == wanted


def markdown_table(rows: list[dict], params: dict) -> str:
    head = ["Detector", "Tracker", "Detection", "MOTA", "IDF1", "HOTA", "Traj. AP", "FPS"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        mode = f"whole ({params['imgsz']} px)" if r["mode"] == "whole" else f"sliced ({params['slice_size']} px tiles)"
        lines.append(f"| {r['detector']} | {r['tracker']} | {mode} | " + " | ".join(f"{r[k]:.1f}" for k in METRICS) + f" | {r['fps']:.2f} |")
    lines.append(f"\nVisDrone-MOT protocol over its five classes (lrsdetr.eval.visdrone_mot), percent; Traj. AP: Task 4A's mean over "
                 f"trajectory IoU 0.25, 0.50, 0.75; FPS: end to end (read, detect, track) on {params['device']}"
                 f"{', ' + str(params['threads']) + ' threads' if params['device'] == 'cpu' else ''}, {rows[0]['frames'] if rows else 0} frames.")
    return "\n".join(lines)


CSV_FIELDS = ["detector", "tracker", "mode", *METRICS, "fps", "frames", "seconds"]


def plot(rows: list[dict], path: Path) -> None:
    """MOTA, IDF1 and HOTA against end-to-end frames per second: colour per detector, marker per tracker, filled for
    sliced and hollow for whole-frame detection."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import LogLocator, NullFormatter, ScalarFormatter

    detectors = list(dict.fromkeys(r["detector"] for r in rows))
    markers = dict(zip(dict.fromkeys(r["tracker"] for r in rows), "os^D"))
    figure, axes = plt.subplots(1, 3, figsize=(14, 4.2))
    for axis, key in zip(axes, ("MOTA", "IDF1", "HOTA")):
        for r in rows:
            colour = plt.get_cmap("tab10")(detectors.index(r["detector"]))
            axis.scatter(r["fps"], r[key], marker=markers[r["tracker"]], s=60, edgecolors=colour,
                         facecolors=colour if r["mode"] == "sliced" else "none", label=f"{r['detector']}, {r['tracker']}, {r['mode']}")
        axis.set_xscale("log")
        axis.xaxis.set_major_locator(LogLocator(subs=(1, 2, 5)))
        axis.xaxis.set_major_formatter(ScalarFormatter())
        axis.xaxis.set_minor_formatter(NullFormatter())
        axis.set(xlabel="end-to-end frames per second (log scale)", ylabel=f"{key} (%)")
        axis.grid(alpha=0.3)
    axes[-1].legend(loc="upper left", bbox_to_anchor=(1.02, 1), fontsize=8)
    save_figure_atomic(figure, path)


def resolved(params: dict) -> dict:
    """--quick's settings (flags given still win) and `out` absolute."""
    params = dict(params)
    if params["quick"]:
        params = with_preset(params, DEFAULTS, QUICK)
        params["out"] = str(Path(params["out"]) / "quick") if params["out"] == DEFAULTS["out"] else params["out"]
    for key in ("sequences", "frames", "width", "height", "train_images", "epochs", "batch", "imgsz", "slice_size", "threads"):
        if not isinstance(params[key], int) or params[key] < 1:
            raise DataError(f"--{key} {params[key]}: expected a whole number from 1")
    params["out"] = str(Path(params["out"]).resolve())
    return params


def tracking_paths(params: dict) -> CommandPaths:
    """Checks every setting before anything trains; reads --data and --weights, writes --out."""
    params = resolved(params)
    _, _, _, weights = plan(params)
    require_writable(Path(params["out"]), "--out")
    data = Path(params["data"]) if params["data"] else None
    if data is not None and not ((data / "sequences").is_dir() and (data / "annotations").is_dir()):
        raise DataError(f"--data {data}: expected a VisDrone-MOT folder with sequences/ and annotations/")
    return CommandPaths(params).reads("--data", data).reads("--weights", *weights.values()).writes("--out", params["out"])


def main(params: dict) -> None:
    """The benchmark, on parameters `resolved` (tracking_paths) made."""
    start = time.perf_counter()
    detectors, trackers, modes, weights = plan(params)
    out = Path(params["out"])
    out.mkdir(parents=True, exist_ok=True)
    root = video(params, out)
    threads = torch.get_num_threads()
    rows = []
    try:
        for name in detectors:
            checkpoint = detector(name, params, out, weights)
            torch.set_num_threads(params["threads"])
            rows += run_detector(name, checkpoint, params, modes, trackers, root, out)
            torch.set_num_threads(threads)
    finally:
        torch.set_num_threads(threads)
    table = markdown_table(rows, params)
    write_text_atomic(out / "tracking.md", table + "\n")
    write_text_atomic(out / "tracking.json", json.dumps([{k: v for k, v in r.items() if k != "scores"} for r in rows], indent=1))
    write_csv_atomic(out / "tracking.csv", rows, CSV_FIELDS)
    plot(rows, out / "tracking.png")
    print(table)
    print(f"wrote {out / 'tracking.md'}, tracking.csv, tracking.json, tracking.png in {(time.perf_counter() - start) / 60:.1f} min")


COMMAND = Command("bench tracking", "tracking side by side: detectors x trackers x whole/sliced, VisDrone-MOT protocol", __doc__,
                  DEFAULTS, tracking_paths, main, script="benchmarks/tracking.py")
