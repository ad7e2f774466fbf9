"""VisDrone-DET to YOLO: numbers, what is left out and why, masking, errors, and never touching the source."""

import os
from pathlib import Path

import cv2
import numpy as np
import pytest
from source_tree import unchanged

from lrsdetr.data.files import BadLines
from lrsdetr.data.visdrone import VisDroneBox, convert_visdrone, read_visdrone_annotation
from lrsdetr.utils.errors import DataError

W, H = 100, 80
# Image "a": every kind of line the converter must handle (in order: car, ignored region, others, box running
# off the bottom-right, box running off the top-left, box entirely right of the image, zero-width box, van
# written with a trailing comma as some VisDrone files are).
A_LINES = [
    "10,20,30,40,1,4,0,0",
    "0,0,20,10,0,0,0,0",
    "50,50,10,10,1,11,0,0",
    "90,70,20,20,1,1,1,0",
    "-5,-5,10,10,1,10,1,0",
    "100,10,5,5,1,2,0,0",
    "30,30,0,10,1,3,0,0",
    "60,10,10,10,1,5,0,0,",
]
A_EXPECTED = [
    "3 0.250000 0.500000 0.300000 0.500000",
    "0 0.950000 0.937500 0.100000 0.125000",
    "9 0.025000 0.031250 0.050000 0.062500",
    "4 0.650000 0.187500 0.100000 0.125000",
]


def write_sample(root: Path) -> Path:
    """A VisDrone-DET folder: a (PNG, lossless) with every case, b with a malformed line, c without annotation,
    d an annotation without image, e an unreadable image."""
    rng = np.random.default_rng(0)
    (root / "images").mkdir(parents=True)
    (root / "annotations").mkdir()
    cv2.imwrite(str(root / "images" / "a.png"), rng.integers(0, 255, (H, W, 3), dtype=np.uint8))
    (root / "annotations" / "a.txt").write_text("\n".join(A_LINES) + "\n")
    cv2.imwrite(str(root / "images" / "b.jpg"), rng.integers(0, 255, (40, 60, 3), dtype=np.uint8))
    (root / "annotations" / "b.txt").write_text("0,0,30,20,1,4,0,0\n1,2,3\n\n30,20,30,20,1,1,0,0\n")
    cv2.imwrite(str(root / "images" / "c.jpg"), rng.integers(0, 255, (40, 60, 3), dtype=np.uint8))
    (root / "annotations" / "d.txt").write_text("0,0,5,5,1,1,0,0\n")
    (root / "images" / "e.jpg").write_bytes(b"not an image")
    (root / "annotations" / "e.txt").write_text("0,0,5,5,1,1,0,0\n")
    return root


@pytest.fixture
def sample(tmp_path):
    return write_sample(tmp_path / "VisDrone2019-DET-sample")


def test_labels_are_exact_and_everything_left_out_is_counted(sample, tmp_path):
    out = tmp_path / "yolo"
    with unchanged(sample):
        report = convert_visdrone(sample, out, "train", skip_bad=True)
    assert (out / "labels" / "train" / "a.txt").read_text().splitlines() == A_EXPECTED
    assert (out / "labels" / "train" / "b.txt").read_text().splitlines() == [
        "3 0.250000 0.250000 0.500000 0.500000",
        "0 0.750000 0.750000 0.500000 0.500000",
    ]
    assert (report.images, report.labels) == (2, 6)
    assert (report.ignored_regions, report.others, report.degenerate, report.masked_out) == (1, 1, 2, 0)
    assert report.missing_images == ["d.txt"]
    assert report.unreadable_images == ["e.jpg"]
    assert report.missing_annotations == ["c.jpg"]
    assert len(report.bad_lines.messages) == 1 and "b.txt:2:" in report.bad_lines.messages[0]
    assert "1 malformed line(s) skipped" in report.summary()
    assert sorted(p.name for p in (out / "images" / "train").iterdir()) == ["a.png", "b.jpg"]


def test_malformed_line_stops_before_anything_is_written(sample, tmp_path):
    with pytest.raises(DataError, match=r"b\.txt:2: expected 8 comma-separated fields"):
        convert_visdrone(sample, tmp_path / "yolo", "train")
    assert not (tmp_path / "yolo").exists()


@pytest.mark.parametrize(
    "line, problem",
    [
        ("1,2,3,4,1,1,0", "expected 8 comma-separated fields"),
        ("1,2,x,4,1,1,0,0", "expected 4 numbers and 4 integers"),
        ("1,2,-3,4,1,1,0,0", "expected a width and height >= 0"),
        ("1,2,3,4,1,12,0,0", "expected a category 0..11"),
        ("1,2,nan,4,1,1,0,0", "expected finite coordinates"),
    ],
)
def test_each_kind_of_malformed_line_names_file_line_and_expectation(tmp_path, line, problem):
    path = tmp_path / "x.txt"
    path.write_text(f"0,0,1,1,1,1,0,0\n{line}\n")
    with pytest.raises(DataError) as error:
        read_visdrone_annotation(path, BadLines())
    assert str(error.value).startswith(f"{path}:2: {problem}")
    assert "\n" not in str(error.value)


def test_native_line_round_trips(tmp_path):
    box = VisDroneBox(-3.0, 5.0, 10.0, 12.5, 1, 4, 1, 2)
    assert box.line() == "-3,5,10,12.5,1,4,1,2"
    path = tmp_path / "x.txt"
    path.write_text(box.line() + "\n")
    assert read_visdrone_annotation(path, BadLines()) == [box]


def test_mask_ignored_paints_the_region_with_the_image_mean_and_drops_hidden_labels(sample, tmp_path):
    out = tmp_path / "yolo"
    with unchanged(sample):
        report = convert_visdrone(sample, out, "train", mask_ignored=True, skip_bad=True)
    original = cv2.imread(str(sample / "images" / "a.png"))
    painted = cv2.imread(str(out / "images" / "train" / "a.png"))
    mean = np.round(original.reshape(-1, 3).mean(axis=0))
    assert (painted[0:10, 0:20] == mean).all()
    assert (painted[10:, :] == original[10:, :]).all() and (painted[:, 20:] == original[:, 20:]).all()
    assert report.masked_out == 1  # the motor at (0,0)-(5,5) lies inside the ignored region
    assert (out / "labels" / "train" / "a.txt").read_text().splitlines() == [A_EXPECTED[i] for i in (0, 1, 3)]
    assert not os.path.samefile(sample / "images" / "a.png", out / "images" / "train" / "a.png")
    assert os.path.samefile(sample / "images" / "b.jpg", out / "images" / "train" / "b.jpg")  # nothing to paint: linked


def test_source_is_never_written_and_reruns_give_the_same_bytes(sample, tmp_path):
    out = tmp_path / "yolo"
    with unchanged(sample):
        convert_visdrone(sample, out, "val", skip_bad=True)
        first = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
        convert_visdrone(sample, out, "val", mask_ignored=True, skip_bad=True)  # replaces the link, not its target
        convert_visdrone(sample, out, "val", skip_bad=True)
        second = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert first == second
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]


def test_copies_when_asked(sample, tmp_path):
    with unchanged(sample):
        convert_visdrone(sample, tmp_path / "yolo", "train", skip_bad=True, link=False)
    assert not os.path.samefile(sample / "images" / "b.jpg", tmp_path / "yolo" / "images" / "train" / "b.jpg")


@pytest.mark.parametrize("split", ["", "..", "a/b"])
def test_bad_split_name(sample, tmp_path, split):
    with pytest.raises(DataError, match="expected a plain folder name"):
        convert_visdrone(sample, tmp_path / "yolo", split)


def test_output_inside_the_source_is_refused(sample, capsys):
    from lrsdetr.data.scripts import VISDRONE2YOLO

    with unchanged(sample):
        assert VISDRONE2YOLO.run_with({**VISDRONE2YOLO.defaults, "src": str(sample), "out": str(sample)}) == 2
    assert "lies inside the input src" in capsys.readouterr().err


def test_two_images_with_one_stem_are_refused(sample, tmp_path):
    cv2.imwrite(str(sample / "images" / "a.jpg"), np.zeros((10, 20, 3), np.uint8))  # beside a.png: which one is a.txt for?
    with unchanged(sample), pytest.raises(DataError, match=r"src .*images: a.jpg and a.png would share the label file a.txt; rename one"):
        convert_visdrone(sample, tmp_path / "yolo", "train", skip_bad=True)
    assert not (tmp_path / "yolo").exists()


def test_missing_source_folder(tmp_path):
    with pytest.raises(DataError, match="no such folder.*VisDrone-DET folder"):
        convert_visdrone(tmp_path / "nowhere", tmp_path / "yolo", "train")


def test_rerun_after_images_left_the_source_is_refused_not_mixed(sample, tmp_path):
    out = tmp_path / "yolo"
    convert_visdrone(sample, out, "train", skip_bad=True)
    (sample / "images" / "c.jpg").unlink()
    (sample / "images" / "a.png").unlink()  # its image and label from the first run must not linger unseen
    with unchanged(sample, out), pytest.raises(DataError, match=r"out .*images/train: holds a.png \(and 0 more\) from an earlier run; expected an empty folder or one converted from the same source"):
        convert_visdrone(sample, out, "train", skip_bad=True)
    convert_visdrone(sample, tmp_path / "fresh", "train", skip_bad=True)  # a new folder is fine
