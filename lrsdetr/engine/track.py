"""track.py's logic: objects tracked across the frames of drone videos and VisDrone-MOT sequences, whole-frame or
sliced, with Ultralytics' ByteTrack or BoT-SORT; VisDrone-MOT result files, drawn videos, counts and a summary.

Each frame goes through detect.py's predictor (whole frame at imgsz, or SAHI tiles: lrsdetr.engine.detect's
frame_predictor), then through a tracker of our own loop (lrsdetr.engine.trackers), one fresh tracker per
sequence. Outputs go to a new run folder, never beside the source: `mot/<sequence>.txt` (get_VisDrone_MOT_metrics.py
scores them), `<sequence>.mp4`, `summary.json`. A sequence's files are written when it is done, so a folder of
sequences that is interrupted keeps the finished ones: `--resume True` (with the same --name) tracks the rest,
the half-done one again.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from tqdm import tqdm

from ..cfg import COMPILE, HALF, IMGSZ, MAX_DET, TRACKING_CONF
from ..models import RTDETR
from ..models.outputs import TRAINED_WEIGHTS, pinned_run_folder, project_folder
from ..tools.compiled import COMPILE_HELP, compile_request, compiled_runs
from ..tools.formats import require_weights
from ..tools.precision import HALF_HELP, inference_precision, torch_device
from ..tools.sliced import SLICING_FLAGS
from ..utils.atomic import write_text_atomic
from ..utils.command import Command
from ..utils.errors import DataError
from ..utils.guard import CommandPaths
from .detect import frame_predictor
from .track_outputs import (
    DrawnVideo,
    LineCounter,
    SequenceTracks,
    parse_classes,
    parse_line,
    summarise,
)
from .track_sources import SourceSequence, find_sequences, source_paths
from .trackers import new_tracker, tracker_config, tracker_file, update

MOT_DIR, SUMMARY, STATE = "mot", "summary.json", "track.json"
SETTINGS = ("weights", "source", "tracker", "imgsz", "conf", "classes", "max_det", "half", "slice", "slice_size", "slice_overlap",
            "slice_full_frame", "slice_merge", "slice_match", "fps", "line")  # what a resumed run must share with the first
# (not slice_batch: how many tiles go through the model at once changes no detection)

TRACK_DOC = """Track objects across the frames of videos and VisDrone-MOT sequences (whole-frame or sliced detection, then
ByteTrack or BoT-SORT); write VisDrone-MOT result files, drawn videos with IDs and trails, a per-class summary, and
counts across a line.

Examples:
  python track.py --weights runs/train/lrs-detr-b/weights/best.pt --source clip.mp4
  python track.py --weights best.pt --source VisDrone2019-MOT-val/sequences --slice True --slice_size 640 --tracker botsort
  python track.py --weights best.pt --source clip.mp4 --line 0,540,1920,540 --classes 3,4,5
--source: a video, a folder of frames (a VisDrone-MOT sequence: 0000001.jpg ...), a folder of those, or a glob.
--tracker: bytetrack or botsort (Ultralytics' settings), or a tracker YAML of your own. --conf is the detection
threshold (low, 0.1 as Ultralytics' track mode: ByteTrack also uses weak boxes); --classes keeps those model
classes. --slice cuts each frame into tiles as detect.py does, so tiny objects in large frames are tracked too.
Outputs in runs/track/<name>: mot/<sequence>.txt (frame,id,x,y,w,h,score,class,-1,-1; class = model class + 1,
one class per track), <sequence>.mp4 (with --save), summary.json (per class: tracks, mean track length, objects
seen in >= 5 frames; with --line x1,y1,x2,y2, tracks crossing it in and out per class). An interrupted run keeps
the finished sequences: run it again with --resume True --name <its name> to track the rest.
Score the results: python get_VisDrone_MOT_metrics.py --data <VisDrone-MOT folder> --res_dir runs/track/<name>/mot
""" + HALF_HELP + COMPILE_HELP

TRACK_DEFAULTS = {
    "weights": TRAINED_WEIGHTS,
    "source": "dataset/sequences",
    "tracker": "bytetrack",
    "imgsz": IMGSZ,
    "conf": TRACKING_CONF,
    "classes": None,
    "max_det": MAX_DET,
    "device": "",
    "half": HALF,
    "compile": COMPILE,
    **SLICING_FLAGS,
    "fps": None,
    "line": None,
    "save": True,
    "trail": 30,
    "line_width": None,
    "project": "runs/track",
    "name": "exp",
    "exist_ok": False,
    "resume": False,
    "trust_checkpoint": False,
}


def run_folder_of(params: dict) -> tuple[Path, dict]:
    """The run folder and the parameters pinned to it; --resume continues exactly --project/--name."""
    if not params["resume"]:
        return pinned_run_folder(params)
    folder = Path(project_folder(params["project"])) / params["name"]
    if not (folder / STATE).is_file():
        raise DataError(f"--resume: {folder} holds no earlier track run ({STATE}); give the --name of the run to continue")
    return folder, {**params, "project": str(folder.parent), "exist_ok": True}


def track_paths(params: dict) -> CommandPaths:
    """Reads the weights, the sources and a tracker YAML of one's own; writes the run folder."""
    folder, pinned = run_folder_of(params)
    sequences = find_sequences(str(params["source"]), params["fps"])
    tracker_config(params["tracker"])
    parse_line(params["line"])
    parse_classes(params["classes"])
    if not isinstance(params["trail"], int) or params["trail"] < 0:
        raise DataError(f"--trail {params['trail']}: expected a whole number of frames >= 0 (0: no trails)")
    return (CommandPaths(pinned).reads("--weights", require_weights(params["weights"])).reads("--source", *source_paths(sequences))
            .reads("--tracker", tracker_file(params["tracker"])).writes("--project/--name", folder))


def settings_of(params: dict) -> dict:
    return {key: str(Path(params[key]).resolve()) if key in ("weights", "source") and Path(str(params[key])).exists() else params[key] for key in SETTINGS}


def _start(folder: Path, params: dict) -> dict:
    """The run's state: resumed (the same settings; finished sequences kept) or new (an earlier run's outputs in the
    folder removed first)."""
    state_file = folder / STATE
    earlier = json.loads(state_file.read_text(encoding="utf-8")) if state_file.is_file() else None
    settings = settings_of(params)
    if params["resume"]:
        before = TRACK_DEFAULTS | earlier["settings"]  # a setting added since that run: it ran with the default
        changed = [key for key in SETTINGS if before[key] != settings[key]]
        if changed:
            raise DataError(f"--resume: {folder} was tracked with --{changed[0]} {before[changed[0]]!r}, now {settings[changed[0]]!r}; "
                            "resume with the same settings, or start a new run")
        finished = {name: done for name, done in earlier["finished"].items() if (folder / MOT_DIR / f"{name}.txt").is_file()}
        return {"settings": settings, "finished": finished}
    if earlier is not None:
        for name in earlier.get("finished", {}):
            (folder / MOT_DIR / f"{name}.txt").unlink(missing_ok=True)
            (folder / f"{name}.mp4").unlink(missing_ok=True)
        (folder / SUMMARY).unlink(missing_ok=True)
        state_file.unlink()
    return {"settings": settings, "finished": {}}


def track_sequence(sequence: SourceSequence, predict, config, params: dict, names: dict, folder: Path | None) -> tuple[SequenceTracks, dict]:
    """Track one sequence; the tracks and {frames, detect_seconds, track_seconds, seconds, counts}. With `folder`
    and --save, its drawn video is written there (renamed into place only when the sequence is done)."""
    tracker, tracks, classes = new_tracker(config), SequenceTracks(), parse_classes(params["classes"])
    line = parse_line(params["line"])
    counter = LineCounter(line) if line else None
    video = DrawnVideo(folder / f"{sequence.name}.mp4", sequence.fps, sequence.size, params["trail"], line, names, params["line_width"]) if folder and params["save"] else None
    current: dict[int, str] = {}
    timing = {"frames": 0, "detect_seconds": 0.0, "track_seconds": 0.0}
    start = time.perf_counter()
    try:
        for number, frame in enumerate(tqdm(sequence.read(), total=sequence.count, desc=f"track {sequence.name}", unit="frame"), 1):
            if frame.shape[1::-1] != tuple(sequence.size):
                raise DataError(f"--source {sequence.path}: frame {number} is {frame.shape[1]}x{frame.shape[0]} px, the first {sequence.size[0]}x{sequence.size[1]}; expected one size")
            t0 = time.perf_counter()
            result = predict(frame, str(sequence.path))
            if classes is not None:
                result = result[sum(result.boxes.cls == c for c in classes) > 0]
            t1 = time.perf_counter()
            rows = update(tracker, result)
            timing["detect_seconds"] += t1 - t0
            timing["track_seconds"] += time.perf_counter() - t1
            timing["frames"] = number
            tracks.add(number, rows)
            current.update({int(r[4]): names.get(int(r[6]), str(int(r[6]))) for r in rows})
            if counter:
                counter.update(rows)
            if video:
                video.write(frame, rows, counter.counts(current) if counter else None)
    except BaseException:
        if video:
            video.abandon()
        raise
    if video:
        video.finish()
    timing["seconds"] = time.perf_counter() - start
    table = tracks.table()
    timing["counts"] = counter.counts({t: names.get(c, str(c)) for t, c in SequenceTracks.classes(table).items()}) if counter else None
    return tracks, timing


def track(params: dict) -> Path:
    """Run tracking as `params` say (see track.py), first saying what precision runs where; returns the run folder."""
    precision = inference_precision(params["weights"], params["half"], params["device"])
    print(precision)
    if line := compile_request(params["weights"], params["compile"], params["device"]):
        print(line)
    folder = Path(params["project"]) / params["name"]
    sequences = find_sequences(str(params["source"]), params["fps"])
    config = tracker_config(params["tracker"])
    state = _start(folder, params)
    todo = [s for s in sequences if s.name not in state["finished"]]
    if len(todo) < len(sequences):
        print(f"resuming {folder}: {len(sequences) - len(todo)} sequence(s) done, {len(todo)} to track")
    model = RTDETR(params["weights"])
    predict, names = frame_predictor(model, params), model.names
    made = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    try:
        with precision.applied(model), compiled_runs(model, params["compile"], torch_device(params["device"])):
            for sequence in todo:
                tracks, timing = track_sequence(sequence, predict, config, params, names, folder)
                table = tracks.table()
                write_text_atomic(folder / MOT_DIR / f"{sequence.name}.txt", SequenceTracks.mot_text(table))
                state["finished"][sequence.name] = {"summary": summarise(table, names), **timing}
                write_text_atomic(folder / STATE, json.dumps(state, indent=1))
                print(f"{sequence.name}: {timing['frames']} frames, {state['finished'][sequence.name]['summary']['all']['tracks']} tracks, "
                      f"{timing['frames'] / timing['seconds']:.1f} frames/s")
    except BaseException:
        if made and not state["finished"]:
            shutil.rmtree(folder)  # nothing finished: no empty run folder is left behind
        raise
    report = {name: state["finished"][name] for name in (s.name for s in sequences)}
    write_text_atomic(folder / SUMMARY, json.dumps(report, indent=1))
    print(format_summary(report))
    print(f"results in {folder}: {MOT_DIR}/<sequence>.txt (VisDrone-MOT), {SUMMARY}{', <sequence>.mp4' if params['save'] else ''}")
    return folder


def format_summary(report: dict) -> str:
    """Per class over all sequences: tracks, mean track length, objects; and the line counts when there are any."""
    totals: dict[str, list] = {}
    counts: dict[str, dict[str, int]] = {}
    for done in report.values():
        for name, entry in done["summary"].items():
            total = totals.setdefault(name, [0, 0.0, 0])
            total[0] += entry["tracks"]
            total[1] += entry["mean_length"] * entry["tracks"]
            total[2] += entry["objects"]
        for name, way in (done.get("counts") or {}).items():
            for key, value in way.items():
                counts.setdefault(name, {"in": 0, "out": 0})[key] += value
    lines = [f"{'class':<16}{'tracks':>8}{'mean length':>13}{'objects':>9}"]
    ordered = [name for name in totals if name != "all"] + ["all"]
    lines += [f"{name:<16}{totals[name][0]:>8}{(totals[name][1] / totals[name][0] if totals[name][0] else 0):>13.1f}{totals[name][2]:>9}" for name in ordered]
    if any(done.get("counts") is not None for done in report.values()):
        lines += ["line crossings:"] + [f"  {name:<14} in {c['in']:>5}  out {c['out']:>5}" for name, c in sorted(counts.items())]
    return "\n".join(lines)


COMMAND = Command("track", "track objects across video frames (whole-frame or sliced), write VisDrone-MOT results", TRACK_DOC,
                  TRACK_DEFAULTS, track_paths, track, script="track.py", inference=True,
                  interrupted=lambda params: f"finished sequences are kept in {Path(params['project']) / params['name']}; "
                                             f"run again with --resume True --name {params['name']} to track the rest")
