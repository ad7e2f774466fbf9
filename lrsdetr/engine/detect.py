"""detect.py's logic: detections on images, folders and videos, whole-frame or sliced (SAHI), saved drawn,
as YOLO txt labels and as one COCO-format predictions.json.

Both modes go through the same loop and the same writer, so their outputs compare file for file;
predictions.json pairs with dataset/yolo2coco.py's ground truth, so get_COCO_metrics.py can score
sliced against whole-frame inference on a test set.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator
from glob import glob
from itertools import chain
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm
from ultralytics.data.build import load_inference_source
from ultralytics.data.utils import IMG_FORMATS
from ultralytics.engine.results import Results

from ..cfg import COMPILE, DETECTION_CONF, HALF, IMGSZ, MAX_DET
from ..data.coco import coco_category_id, coco_image_id
from ..eval.visdrone_results import RESULTS_DIR, VisDroneResults
from ..models import RTDETR
from ..models.outputs import TRAINED_WEIGHTS, pinned_run_folder
from ..tools.compiled import COMPILE_HELP, compile_request, compiled_runs
from ..tools.formats import require_weights
from ..tools.precision import HALF_HELP, inference_precision, torch_device
from ..tools.sliced import SLICING_FLAGS, Slicing, sahi_detector, sliced_predict
from ..utils.atomic import write_bytes_atomic, write_text_atomic
from ..utils.command import Command
from ..utils.errors import DataError
from ..utils.guard import CommandPaths
from ..utils.run_folder import run_folder

VIDEO_FPS_FALLBACK = 30.0


DETECT_DOC = """Detect objects in images, folders and videos; save drawn results, YOLO txt labels and a COCO predictions.json.

Examples:
  python detect.py --weights runs/train/lrs-detr-b/weights/best.pt --source dataset/images/test
  python detect.py --weights best.pt --source frame.jpg --slice True --slice_size 640   # sliced (SAHI), large frames
With --slice, each frame is cut into overlapping slice_size tiles, each run at imgsz, and the boxes merged:
small objects keep their pixels instead of vanishing when a 2000x1500 frame is shrunk to 640. --max_det caps the
boxes of a whole frame, after the tiles are merged. --slice_batch tiles go through the model per forward pass (1: one
at a time); the boxes are the same.
--save_visdrone True writes one VisDrone challenge-format file per image (for get_VisDrone_metrics.py --res_dir).
A re-run into the same folder (--exist_ok True) replaces the earlier run's results; an interrupted run keeps none.
""" + HALF_HELP + COMPILE_HELP

DETECT_DEFAULTS = {
    "weights": TRAINED_WEIGHTS,
    "source": "dataset/images/test",
    "imgsz": IMGSZ,
    "conf": DETECTION_CONF,
    "max_det": MAX_DET,
    "device": "",
    "half": HALF,
    "compile": COMPILE,
    **SLICING_FLAGS,
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
    "trust_checkpoint": False,
}


def label_lines(result: Results, save_conf: bool) -> str:
    """YOLO label lines of one frame (`class x y w h [score]`, normalised, as Ultralytics' save_txt spells them)."""
    rows = zip(result.boxes.cls.tolist(), result.boxes.xywhn.tolist(), result.boxes.conf.tolist())
    return "".join(" ".join(f"{v:g}" for v in (int(cls), *xywh, *([score] if save_conf else []))) + "\n" for cls, xywh, score in rows)


class DetectionWriter:
    """Saves each frame's `Results`: drawn image (or video frame), labels/<name>.txt, and predictions.json at the end.
    Every file is written whole (a video under a temporary name until it is finished)."""

    def __init__(self, save_dir: Path, save: bool, save_txt: bool, save_conf: bool, save_json: bool, line_width: int | None) -> None:
        self.save_dir, self.save, self.save_txt, self.save_conf, self.save_json = save_dir, save, save_txt, save_conf, save_json
        self.line_width = line_width
        self.records: list[dict] = []
        self.videos: dict[str, tuple[cv2.VideoWriter, Path]] = {}
        self.frames: dict[str, int] = {}
        self.count = 0

    def write(self, result: Results) -> None:
        path = Path(result.path)
        video = path.suffix.lower().lstrip(".") not in IMG_FORMATS
        self.frames[result.path] = frame = self.frames.get(result.path, 0) + 1
        stem = f"{path.stem}_{frame}" if video else path.stem
        self.count += len(result.boxes)
        if self.save:
            drawn = result.plot(line_width=self.line_width)
            if video:
                self._video(result.path, drawn).write(drawn)
            else:
                self._image(self.save_dir / path.name, drawn)
        if self.save_txt and len(result.boxes):
            write_text_atomic(self.save_dir / "labels" / f"{stem}.txt", label_lines(result, self.save_conf))
        if self.save_json:
            image_id = stem if video else coco_image_id(path)
            for (x1, y1, x2, y2), score, cls in zip(result.boxes.xyxy.tolist(), result.boxes.conf.tolist(), result.boxes.cls.tolist()):
                bbox = [round(v, 3) for v in (x1, y1, x2 - x1, y2 - y1)]
                self.records.append({"image_id": image_id, "file_name": path.name, "category_id": coco_category_id(int(cls)), "bbox": bbox, "score": round(score, 5)})

    @staticmethod
    def _image(path: Path, drawn: np.ndarray) -> None:
        ok, encoded = cv2.imencode(path.suffix or ".jpg", drawn)
        if not ok:
            raise DataError(f"{path}: OpenCV cannot encode an image with this suffix; expected an image suffix it knows")
        write_bytes_atomic(path, encoded.tobytes())

    def _video(self, source: str, frame: np.ndarray) -> cv2.VideoWriter:
        if source not in self.videos:
            fps = cv2.VideoCapture(source).get(cv2.CAP_PROP_FPS)
            fps = fps if 0 < fps < 1000 else VIDEO_FPS_FALLBACK
            out = self.save_dir / f"{Path(source).stem}.mp4"
            partial = out.with_name(f".{out.name}.partial.mp4")
            writer = cv2.VideoWriter(str(partial), cv2.VideoWriter_fourcc(*"mp4v"), fps, (frame.shape[1], frame.shape[0]))
            self.videos[source] = (writer, out)
        return self.videos[source][0]

    def close(self, unreadable: list[str]) -> str:
        """Finish the videos and predictions.json; return a summary line (naming the `unreadable` images skipped)."""
        for writer, out in self.videos.values():
            writer.release()
            os.replace(out.with_name(f".{out.name}.partial.mp4"), out)
        if self.save_json:
            write_text_atomic(self.save_dir / "predictions.json", json.dumps(self.records))
        frames = sum(self.frames.values())
        skipped = f"; {len(unreadable)} unreadable image(s) skipped: {', '.join(unreadable)}" if unreadable else ""
        return f"{self.count} detections in {frames} image(s)/frame(s){skipped}; results in {self.save_dir}"


def require_source(source: str) -> str:
    """An existing image, video, folder or glob (streams and URLs pass through)."""
    if "://" in str(source) or str(source).isnumeric() or Path(source).exists() or glob(str(source)):
        return str(source)
    raise DataError(f"--source {source}: no such file or folder (expected an image, a video, a folder of them, or a glob)")


def source_paths(source: str) -> list[Path]:
    """The files or folder detection reads (none for a stream or URL): what its outputs must never touch."""
    if "://" in source or source.isnumeric():
        return []
    return [Path(source)] if Path(source).exists() else [Path(p) for p in glob(source)]


def frame_predictor(model: RTDETR, params: dict) -> Callable[[np.ndarray, str], Results]:
    """A function (BGR frame, its path) -> Results: whole-frame at `imgsz`, or tiles of `slice_size` each at `imgsz`."""
    if params["slice"]:
        detector = sahi_detector(model, params["conf"], params["imgsz"], params["device"])
        slicing = Slicing(params["slice_size"], params["slice_overlap"], params["slice_full_frame"], params["slice_merge"], params["slice_match"],
                          batch=params["slice_batch"])
        return lambda image, path: sliced_predict(detector, image, slicing, path, model.names, params["max_det"])
    options = {k: params[k] for k in ("imgsz", "conf", "max_det", "device")}

    def whole_frame(image: np.ndarray, path: str) -> Results:
        result = model.predict(image, verbose=False, **options)[0]
        result.path = path
        return result

    return whole_frame


def read_ahead(frames: Iterable) -> Iterator | None:
    """The loader's batches, or None if it can read none (it skips images it cannot decode), known before anything is
    written. The loader restarts whenever iter() is called on it, so the batches after the first come from next()."""
    first = next(iter(frames), None)
    return None if first is None else chain([first], iter(frames.__next__, None))


def detect_paths(params: dict) -> CommandPaths:
    """Reads the weights and the source files; writes the run folder (pinned: `exp-2` stays `exp-2`)."""
    folder, pinned = pinned_run_folder(params)
    return (CommandPaths(pinned)
            .reads("--weights", require_weights(params["weights"]))
            .reads("--source", *source_paths(require_source(params["source"])))
            .writes("--project/--name", folder, folder / "labels", folder / RESULTS_DIR, folder / "predictions.json"))


def detect(params: dict) -> Path:
    """Run detection as `params` say (see detect.py), first saying what precision runs where; returns the output
    folder. What a re-run into the folder finds of an earlier run is replaced; a run that stops early leaves nothing
    of its own (utils/run_folder.py)."""
    precision = inference_precision(params["weights"], params["half"], params["device"])
    print(precision)
    if line := compile_request(params["weights"], params["compile"], params["device"]):
        print(line)
    source, save_dir = str(params["source"]), Path(params["project"]) / params["name"]
    try:
        frames = load_inference_source(source, vid_stride=params["vid_stride"])
    except FileNotFoundError:
        raise DataError(f"--source {source}: no image or video files (expected .jpg, .png, .mp4 and the like)") from None
    batches = read_ahead(frames)
    if batches is None:
        raise DataError(f"--source {source}: no image or video frame could be read ({len(unread_images(frames, set()))} unreadable image(s)); expected images OpenCV can decode")
    model = RTDETR(params["weights"])
    predict = frame_predictor(model, params)
    with run_folder(save_dir, "detect"), precision.applied(model), compiled_runs(model, params["compile"], torch_device(params["device"])):
        writer = DetectionWriter(save_dir, params["save"], params["save_txt"], params["save_conf"], params["save_json"], params["line_width"])
        visdrone = VisDroneResults(save_dir / RESULTS_DIR) if params.get("save_visdrone") else None
        for paths, images, _ in tqdm(batches, total=len(frames), desc="detect", unit="frame"):
            for path, image in zip(paths, images):
                result = predict(image, path)
                writer.write(result)
                if visdrone is not None:
                    visdrone.add(result)
        print(writer.close(unread_images(frames, set(writer.frames))))
        if visdrone is not None:
            print(visdrone.close())
    return save_dir


def unread_images(frames: object, read: set[str]) -> list[str]:
    """Names of the image files a loader listed but could not decode (Ultralytics only logs a warning for each)."""
    listed = zip(getattr(frames, "files", []), getattr(frames, "video_flag", []))
    return [Path(path).name for path, video in listed if not video and path not in read]


COMMAND = Command("detect", "detect objects in images and videos, sliced if asked", DETECT_DOC, DETECT_DEFAULTS,
                  detect_paths, detect, script="detect.py", inference=True,
                  interrupted=lambda params: "what this run had written was removed")
