"""The synthetic generator: VisDrone-like statistics, determinism, and a data set Ultralytics accepts."""

import time
from pathlib import Path

import numpy as np
import pytest

from lrsdetr.data.files import BadLines
from lrsdetr.data.stats import dataset_stats
from lrsdetr.data.synth import generate_visdrone, make_yolo_dataset
from lrsdetr.data.visdrone import IGNORED_REGION, OTHERS, VISDRONE_NAMES, convert_visdrone, read_visdrone_annotation


@pytest.fixture(scope="module")
def fifty(tmp_path_factory) -> Path:
    """50 synthetic images of 256 x 256, converted to YOLO under the returned root."""
    root = tmp_path_factory.mktemp("synth50")
    generate_visdrone(root / "native", 50, (256, 256), seed=0)
    convert_visdrone(root / "native", root, "train")
    return root


def native_boxes(root: Path) -> list:
    return [box for path in sorted((root / "native" / "annotations").glob("*.txt")) for box in read_visdrone_annotation(path, BadLines())]


def test_fifty_images_have_all_classes_and_mostly_small_objects(fifty):
    stats = dataset_stats(fifty / "images" / "train")
    counts = stats.counts()
    assert all(sum(counts[name].values()) > 0 for name in VISDRONE_NAMES), counts
    assert stats.share("small") > 0.5
    assert np.mean(stats.objects_per_image) >= 20


def test_truncated_occluded_ignored_and_others_occur(fifty):
    boxes = native_boxes(fifty)
    objects = [b for b in boxes if 1 <= b.category <= 10]
    assert sum(b.category == IGNORED_REGION for b in boxes) >= 5
    assert sum(b.category == OTHERS for b in boxes) >= 5
    assert sum(b.truncation > 0 for b in objects) >= 10
    assert sum(b.occlusion > 0 for b in objects) >= 10
    assert any(b.left < 0 or b.top < 0 or b.left + b.width > 256 or b.top + b.height > 256 for b in objects)  # exercises clipping


def test_objects_shrink_toward_the_top(fifty):
    cars = [b for b in native_boxes(fifty) if b.category == 4]
    top = [max(b.width, b.height) for b in cars if b.top + b.height / 2 < 85]
    bottom = [max(b.width, b.height) for b in cars if b.top + b.height / 2 > 171]
    assert np.mean(top) < 0.85 * np.mean(bottom)


def test_same_seed_same_bytes_other_seed_other_images(tmp_path):
    def files(folder: Path) -> dict:
        return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}

    generate_visdrone(tmp_path / "a", 3, (128, 96), seed=5)
    generate_visdrone(tmp_path / "b", 3, (128, 96), seed=5)
    generate_visdrone(tmp_path / "c", 3, (128, 96), seed=6)
    generate_visdrone(tmp_path / "d", 1, (128, 96), seed=5, first_index=2)  # image 2 alone: same as in the run of 3
    assert files(tmp_path / "a") == files(tmp_path / "b")
    assert files(tmp_path / "a").values() != files(tmp_path / "c").values()
    assert set(files(tmp_path / "d").items()) <= set(files(tmp_path / "a").items())


def test_make_yolo_dataset_is_fast_and_ultralytics_accepts_it(tmp_path):
    from ultralytics.data.dataset import YOLODataset
    from ultralytics.data.utils import check_det_dataset

    start = time.perf_counter()
    data_yaml = make_yolo_dataset(tmp_path / "synth", n_train=64, n_val=8, size=256, seed=0)
    seconds = time.perf_counter() - start
    assert seconds < 20, f"64 + 8 images took {seconds:.1f} s"
    data = check_det_dataset(str(data_yaml))
    assert data["nc"] == 10 and data["names"][8] == "bus"
    assert Path(data["val"]) == tmp_path / "synth" / "images" / "val"
    dataset = YOLODataset(img_path=data["train"], data=data, imgsz=256, augment=False, task="detect")
    assert len(dataset.labels) == 64 and all(len(label["cls"]) for label in dataset.labels)
    assert (tmp_path / "synth" / "visdrone" / "val" / "annotations" / "synth_s0_000064.txt").is_file()  # val follows train


def test_make_yolo_dataset_reruns_but_does_not_mix_generations(tmp_path):
    from lrsdetr.utils.errors import DataError

    first = make_yolo_dataset(tmp_path, n_train=3, n_val=1, size=96, seed=1).read_bytes()
    assert make_yolo_dataset(tmp_path, n_train=3, n_val=1, size=96, seed=1).read_bytes() == first
    with pytest.raises(DataError, match="from an earlier run"):
        make_yolo_dataset(tmp_path, n_train=2, n_val=1, size=96, seed=1)
