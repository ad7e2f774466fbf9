"""TIDE error analysis (Bolya et al., ECCV 2020) with the `tidecv` package: how much AP50 each error type costs.

tidecv 1.0.1 needs these workarounds, all made here rather than in site-packages:
- its COCO loader reads `segmentation` and `iscrowd` from every GT annotation (KeyError on box-only GT from a YOLO->COCO
  conversion) and caps detections at 100, so we fill its `Data` from our checked pair, boxes only,
  `iscrowd` boxes as ignore regions, with our maxDets;
- it raises ZeroDivisionError without detections or without GT objects (a mean AP over no class), and
  its plot does when no main error costs any AP (a perfect run): we skip the analysis or the plot, with a warning;
- it never fills its own cache of dAP values, so `plot()` would recompute them (the slowest step): we fill it;
- its plotter stages images in a shared per-user folder that it empties first, and sets seaborn and
  matplotlib styles globally: we give it a private scratch folder and restore the rc settings after;
- with current seaborn / matplotlib / OpenCV it warns on every plot (palette without hue, fixed tick labels,
  float image written as 8-bit) and its x-axis ticks overlap: we silence those warnings and size the
  tick labels before the axes are drawn so that fewer ticks are placed.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator
from unittest import mock

from ..utils.atomic import write_bytes_atomic
from .coco_metrics import COCO_MAX_DETS
from .inputs import LOGGER, CocoPair

MAIN_ERRORS = ("Cls", "Loc", "Both", "Dupe", "Bkg", "Miss")
SPECIAL_ERRORS = ("FalsePos", "FalseNeg")
PLOT_PARTS = ("summary", "pie", "hbar", "vbar")
TICK_LABEL_SIZE = 28  # the size tidecv sets on the tick labels after drawing


@dataclass(frozen=True)
class TideResult:
    """TIDE's AP50 and, per error type, the AP50 points gained by fixing it (dAP, 0-100) and how many errors there were.

    The counts are tidecv's: a detection inside a crowd region counts as background there, yet costs no AP.
    tidecv keeps the `max_dets` highest-scoring detections of each image (pycocotools: of each class in each image).
    """

    max_dets: int
    ap50: float
    delta_ap: dict[str, float]
    counts: dict[str, int]
    plots: list[Path] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"max_dets": self.max_dets, "AP50": self.ap50, "dAP": self.delta_ap, "counts": self.counts, "plots": [str(p) for p in self.plots]}


def tide_analysis(pair: CocoPair, max_dets: int = COCO_MAX_DETS, plot_dir: Path | None = None) -> TideResult | None:
    """Run TIDE on box predictions (IoU 0.5 positive, 0.1 background); None, with a warning, without detections or objects.

    With `plot_dir`, tidecv's summary figure and its three parts are written there as tide_<part>_maxDets<N>.png.
    """
    n_objects = sum(not ann["iscrowd"] for ann in pair.annotations)
    if not pair.predictions or not n_objects:  # tidecv would divide by zero
        LOGGER.warning(f"WARNING: TIDE skipped: it needs detections and objects, and there are {len(pair.predictions)} detections, {n_objects} objects")
        return None
    if plot_dir is not None:
        Path(plot_dir).mkdir(parents=True, exist_ok=True)
    name = pair.pred_path.parent.name or pair.pred_path.stem  # the run folder ('exp'), as the plot's title
    with tempfile.TemporaryDirectory(prefix="tide-") as scratch, _tidecv_sandbox(scratch):
        from tidecv import TIDE

        tide = TIDE()
        run = tide.evaluate(*_tide_data(pair, max_dets), mode=TIDE.BOX, name=name)
        tide.run_main_errors[name], tide.run_special_errors[name] = tide.get_main_errors()[name], tide.get_special_errors()[name]
        delta_ap = {**tide.run_main_errors[name], **tide.run_special_errors[name]}
        counts = {error.short_name: n for error, n in run.count_errors().items()}
        plots = _save_plots(tide, name, Path(scratch), Path(plot_dir), max_dets) if plot_dir is not None else []
    return TideResult(max_dets, float(run.ap), {k: float(delta_ap[k]) for k in MAIN_ERRORS + SPECIAL_ERRORS}, {k: counts[k] for k in MAIN_ERRORS}, plots)


def _tide_data(pair: CocoPair, max_dets: int) -> tuple:
    """tidecv's ground-truth and prediction `Data`, boxes only (tidecv takes maxDets from the GT side)."""
    from tidecv import Data

    gt, preds = Data("ground truth", max_dets=max_dets), Data("predictions", max_dets=max_dets)
    for image in pair.images:
        gt.add_image(image["id"], str(image.get("file_name", image["id"])))
    for category_id, name in pair.categories.items():
        gt.add_class(category_id, name)
    for ann in pair.annotations:
        add = gt.add_ignore_region if ann["iscrowd"] else gt.add_ground_truth
        add(ann["image_id"], ann["category_id"], ann["bbox"], None)
    for det in pair.predictions:
        preds.add_detection(det["image_id"], det["category_id"], det["score"], det["bbox"], None)
    return gt, preds


@contextlib.contextmanager
def _tidecv_sandbox(scratch: str) -> Iterator[None]:
    """Keep tidecv's side effects in here: its staging folder, its global plot styles and its library warnings."""
    import cv2
    import matplotlib

    opencv_level = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    try:
        with mock.patch.dict(os.environ, {"TIDE_PATH": scratch}), matplotlib.rc_context(), warnings.catch_warnings():
            warnings.filterwarnings("ignore", module=r"tidecv\.")
            yield
    finally:
        cv2.utils.logging.setLogLevel(opencv_level)


def plot_path(plot_dir: Path, part: str, max_dets: int) -> Path:
    """Where one of TIDE's plots is saved (the parts side by side for each maxDets)."""
    return plot_dir / f"tide_{part}_maxDets{max_dets}.png"


def _save_plots(tide, name: str, scratch: Path, plot_dir: Path, max_dets: int) -> list[Path]:
    """Draw in the scratch folder (tidecv writes its own files there), then write each plot whole into `plot_dir`."""
    import matplotlib

    if not any(tide.run_main_errors[name].values()):
        LOGGER.warning("WARNING: TIDE plot skipped: no main error costs any AP (tidecv cannot draw an all-zero pie)")
        return []
    matplotlib.rcParams.update({"xtick.labelsize": TICK_LABEL_SIZE, "ytick.labelsize": TICK_LABEL_SIZE})
    tide.plot(str(scratch))
    drawn = {"summary": scratch / f"{name}_bbox_summary.png", **{part: scratch / "_tmp" / f"{name}_bbox_{part}.png" for part in PLOT_PARTS[1:]}}
    saved = []
    for part in PLOT_PARTS:
        target = plot_path(plot_dir, part, max_dets)
        write_bytes_atomic(target, drawn[part].read_bytes())
        saved.append(target)
    return saved
