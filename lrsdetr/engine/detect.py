"""detect.py's logic: detections on images, folders and videos, whole-frame or sliced (SAHI), saved drawn,
as YOLO txt labels and as one COCO-format predictions.json.

Both modes go through the same loop and the same writer, so their outputs compare file for file;
predictions.json pairs with dataset/yolo2coco.py's ground truth, so get_COCO_metrics.py can score
sliced against whole-frame inference on a test set.
"""

from __future__ import annotations

import json
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
from ultralytics.utils.files import increment_path

from ..data.coco import coco_category_id, coco_image_id
from ..data.files import refuse_inside, require_writable
from ..eval.visdrone_results import RESULTS_DIR, VisDroneResults
from ..models import RTDETR
from ..tools.formats import require_weights
from ..tools.sliced import Slicing, sahi_detector, sliced_predict
from ..utils.errors import DataError

VIDEO_FPS_FALLBACK = 30.0


class DetectionWriter:
    """Saves each frame's `Results`: drawn image (or video frame), labels/<name>.txt, and predictions.json at the end."""

    def __init__(self, save_dir: Path, save: bool, save_txt: bool, save_conf: bool, save_json: bool, line_width: int | None) -> None:
        self.save_dir, self.save, self.save_txt, self.save_conf, self.save_json = save_dir, save, save_txt, save_conf, save_json
        self.line_width = line_width
        self.records: list[dict] = []
        self.videos: dict[str, cv2.VideoWriter] = {}
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
            elif not cv2.imwrite(str(self.save_dir / path.name), drawn):
                raise DataError(f"{self.save_dir / path.name}: OpenCV cannot write it; expected a writable folder and an image suffix it knows")
        if self.save_txt:
            result.save_txt(self.save_dir / "labels" / f"{stem}.txt", save_conf=self.save_conf)
        if self.save_json:
            image_id = stem if video else coco_image_id(path)
            for (x1, y1, x2, y2), score, cls in zip(result.boxes.xyxy.tolist(), result.boxes.conf.tolist(), result.boxes.cls.tolist()):
                bbox = [round(v, 3) for v in (x1, y1, x2 - x1, y2 - y1)]
                self.records.append({"image_id": image_id, "file_name": path.name, "category_id": coco_category_id(int(cls)), "bbox": bbox, "score": round(score, 5)})

    def _video(self, source: str, frame: np.ndarray) -> cv2.VideoWriter:
        if source not in self.videos:
            fps = cv2.VideoCapture(source).get(cv2.CAP_PROP_FPS)
            fps = fps if 0 < fps < 1000 else VIDEO_FPS_FALLBACK
            out = self.save_dir / f"{Path(source).stem}.mp4"
            self.videos[source] = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), fps, (frame.shape[1], frame.shape[0]))
        return self.videos[source]

    def close(self, unreadable: list[str]) -> str:
        """Finish the videos and predictions.json; return a summary line (naming the `unreadable` images skipped)."""
        for video in self.videos.values():
            video.release()
        if self.save_json:
            (self.save_dir / "predictions.json").write_text(json.dumps(self.records))
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


def output_folder(params: dict, source: str) -> Path:
    """The new (or, with exist_ok, reused) run folder, created only once it is known not to overlap the source."""
    save_dir = increment_path(Path(params["project"]) / params["name"], exist_ok=params["exist_ok"])
    refuse_inside((save_dir,), source_paths(source), "--project/--name")
    require_writable(save_dir, "--project/--name")
    save_dir.mkdir(parents=True, exist_ok=True)
    return save_dir


def frame_predictor(model: RTDETR, params: dict) -> Callable[[np.ndarray, str], Results]:
    """A function (BGR frame, its path) -> Results: whole-frame at `imgsz`, or tiles of `slice_size` each at `imgsz`."""
    if params["slice"]:
        detector = sahi_detector(model, params["conf"], params["imgsz"], params["device"])
        slicing = Slicing(params["slice_size"], params["slice_overlap"], params["slice_full_frame"], params["slice_merge"], params["slice_match"])
        return lambda image, path: sliced_predict(detector, image, slicing, path, model.names)
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


def detect(params: dict) -> Path:
    """Run detection as `params` say (see detect.py); returns the output folder."""
    weights = require_weights(params["weights"])
    source = require_source(params["source"])
    try:
        frames = load_inference_source(source, vid_stride=params["vid_stride"])
    except FileNotFoundError:
        raise DataError(f"--source {source}: no image or video files (expected .jpg, .png, .mp4 and the like)") from None
    batches = read_ahead(frames)
    if batches is None:
        raise DataError(f"--source {source}: no image or video frame could be read ({len(unread_images(frames, set()))} unreadable image(s)); expected images OpenCV can decode")
    save_dir = output_folder(params, source)
    model = RTDETR(weights)
    predict = frame_predictor(model, params)
    writer = DetectionWriter(save_dir, params["save"], params["save_txt"], params["save_conf"], params["save_json"], params["line_width"])
    visdrone = VisDroneResults(save_dir / RESULTS_DIR) if params.get("save_visdrone") else None
    for paths, images, _ in tqdm(batches, total=len(frames), desc="detect", unit="frame"):
        for path, image in zip(paths, images):
            result = predict(image, path)
            writer.write(result)
            if visdrone is not None:
                visdrone.add(result)
    unreadable = unread_images(frames, set(writer.frames))
    print(writer.close(unreadable))
    if visdrone is not None:
        print(visdrone.close())
    return save_dir


def unread_images(frames: object, read: set[str]) -> list[str]:
    """Names of the image files a loader listed but could not decode (Ultralytics only logs a warning for each)."""
    listed = zip(getattr(frames, "files", []), getattr(frames, "video_flag", []))
    return [Path(path).name for path, video in listed if not video and path not in read]
