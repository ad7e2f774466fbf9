"""Pascal VOC XML to YOLO: the numbers survive the round trip (VOC -> YOLO -> COCO); errors name file and class."""

from pathlib import Path

import cv2
import numpy as np
import pytest
from source_tree import unchanged

from lrsdetr.data.coco import yolo_to_coco
from lrsdetr.data.voc import convert_voc
from lrsdetr.data.yolo import read_class_names
from lrsdetr.utils.errors import DataError

NAMES = ["pedestrian", "car", "bus"]
OBJECTS = [("car", 10, 20, 50, 60), ("bus", 0, 5, 100, 30), ("pedestrian", 90, 70, 130, 95)]  # the last runs off


def voc_xml(filename: str, width: int, height: int, objects) -> str:
    """What an annotation tool (labelImg, CVAT) writes."""
    items = "".join(
        f"<object><name>{name}</name><difficult>0</difficult><bndbox><xmin>{x1}</xmin><ymin>{y1}</ymin><xmax>{x2}</xmax><ymax>{y2}</ymax></bndbox></object>"
        for name, x1, y1, x2, y2 in objects
    )
    return f"<annotation><filename>{filename}</filename><size><width>{width}</width><height>{height}</height><depth>3</depth></size>{items}</annotation>"


@pytest.fixture
def voc(tmp_path) -> Path:
    (tmp_path / "xml").mkdir()
    (tmp_path / "xml" / "scene.xml").write_text(voc_xml("scene.jpg", 120, 80, OBJECTS))
    (tmp_path / "data.yaml").write_text("path:\ntrain: images\nval: images\nnames:\n  0: pedestrian\n  1: car\n  2: bus\n")
    return tmp_path


def test_round_trip_voc_yolo_coco(voc):
    names = read_class_names(voc / "data.yaml")
    assert names == NAMES
    with unchanged(voc / "xml", voc / "data.yaml"):
        report = convert_voc(voc / "xml", voc / "labels", names)
    assert (report.files, report.labels, report.degenerate) == (1, 3, 0)
    assert (voc / "labels" / "scene.txt").read_text().splitlines() == [
        "1 0.250000 0.500000 0.333333 0.500000",
        "2 0.416667 0.218750 0.833333 0.312500",
        "0 0.875000 0.937500 0.250000 0.125000",
    ]
    (voc / "images").mkdir()
    cv2.imwrite(str(voc / "images" / "scene.jpg"), np.zeros((80, 120, 3), np.uint8))
    with unchanged(voc / "images", voc / "labels"):
        coco, _ = yolo_to_coco(voc / "images", voc / "labels", names)
    clipped = [(n, x1, y1, min(x2, 120), min(y2, 80)) for n, x1, y1, x2, y2 in OBJECTS]
    for ann, (name, x1, y1, x2, y2) in zip(coco["annotations"], clipped):
        assert ann["category_id"] == NAMES.index(name) + 1
        assert ann["bbox"] == pytest.approx([x1, y1, x2 - x1, y2 - y1], abs=0.05)


def test_unknown_class_names_file_and_class(voc):
    (voc / "xml" / "other.xml").write_text(voc_xml("other.jpg", 50, 50, [("tractor", 1, 1, 10, 10)]))
    with pytest.raises(DataError, match=r"other\.xml: unknown class 'tractor' \(expected one of the data.yaml names: pedestrian, car, bus\)"):
        convert_voc(voc / "xml", voc / "labels", NAMES)
    assert not (voc / "labels").exists()  # checked before anything is written


def test_malformed_objects_and_files(voc):
    xml = voc / "xml" / "scene.xml"
    xml.write_text(voc_xml("scene.jpg", 120, 80, OBJECTS).replace("<xmax>50</xmax>", "<xmax>fifty</xmax>"))
    with pytest.raises(DataError, match=r"scene\.xml: object 1: expected a finite number in <xmax>, got 'fifty'"):
        convert_voc(voc / "xml", voc / "labels", NAMES)
    report = convert_voc(voc / "xml", voc / "labels", NAMES, skip_bad=True)
    assert report.labels == 2 and len(report.bad_lines.messages) == 1
    xml.write_text("<annotation><size><width>10</width>")
    with pytest.raises(DataError, match=r"scene\.xml:1: not well-formed XML"):
        convert_voc(voc / "xml", voc / "labels", NAMES)
    xml.write_text("<annotation><object><name>car</name></object></annotation>")
    with pytest.raises(DataError, match=r"scene\.xml: expected <size> with a positive <width> and <height>"):
        convert_voc(voc / "xml", voc / "labels", NAMES)


def test_class_names_from_a_list_and_bad_yaml(tmp_path):
    (tmp_path / "a.yaml").write_text("names: ['x', 'y']\n")
    assert read_class_names(tmp_path / "a.yaml") == ["x", "y"]
    (tmp_path / "b.yaml").write_text("nc: 2\n")
    with pytest.raises(DataError, match="expected a 'names' list"):
        read_class_names(tmp_path / "b.yaml")
    with pytest.raises(DataError, match="cannot read"):
        read_class_names(tmp_path / "missing.yaml")


def test_rerun_after_annotations_left_the_source_is_refused_not_mixed(voc):
    (voc / "xml" / "street.xml").write_text(voc_xml("street.jpg", 120, 80, OBJECTS[:1]))
    convert_voc(voc / "xml", voc / "labels", NAMES)
    (voc / "xml" / "street.xml").unlink()  # its label from the first run must not linger unseen
    with unchanged(voc / "xml", voc / "labels"), pytest.raises(DataError, match=r"holds street.txt \(and 0 more\) from an earlier run"):
        convert_voc(voc / "xml", voc / "labels", NAMES)
