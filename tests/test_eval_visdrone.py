"""VisDrone-DET toolkit protocol: tiny hand-built sets, each expected number worked out by hand in the comment."""

import logging
from pathlib import Path

import pytest
from PIL import Image

from lrsdetr.eval.visdrone import METRIC_KEYS, evaluate
from lrsdetr.utils.errors import DataError


def write_set(root: Path, annotations: dict[str, list[str]], results: dict[str, list[str]], size=(100, 100), newline="\n") -> tuple[Path, Path, Path]:
    """A VisDrone-native set: images/<stem>.jpg of `size`, annotations/<stem>.txt, results/<stem>.txt."""
    folders = [root / name for name in ("annotations", "results", "images")]
    for folder in folders:
        folder.mkdir(parents=True)
    for stem, lines in annotations.items():
        Image.new("RGB", size).save(root / "images" / f"{stem}.jpg")
        (root / "annotations" / f"{stem}.txt").write_bytes("".join(f"{line}{newline}" for line in lines).encode())
    for stem, lines in results.items():
        (root / "results" / f"{stem}.txt").write_bytes("".join(f"{line}{newline}" for line in lines).encode())
    return tuple(folders)


def metrics(root: Path, annotations, results, **kwargs) -> dict:
    return evaluate(*write_set(root, annotations, results, **kwargs), verbose=False)


def assert_metrics(result: dict, **expected: float) -> None:
    for key, value in expected.items():
        assert result[key] == pytest.approx(value, abs=1e-9), key


def test_perfect_detection_scores_100_and_lands_in_the_small_bucket(tmp_path):
    result = metrics(tmp_path, {"a": ["10,10,20,20,1,1,0,0"]}, {"a": ["10,10,20,20,0.9,1,-1,-1"]})
    assert_metrics(result, **{key: 100.0 for key in METRIC_KEYS}, AP_small=100.0)  # 20x20 = 400 px < 32^2
    assert result["AP_medium"] != result["AP_medium"]  # nan: no medium object anywhere


def test_classes_weighted_by_images_holding_them_and_maxdets_in_file_order(tmp_path):
    # Class 1 in images a and b, class 4 (never detected) only in a.
    # Class 1 ranking: 0.95 false (b), 0.9 hit (a), 0.5 hit (b); 2 objects -> recall 0, 1/2, 1; precision 0, 1/2, 2/3.
    # VOC AP = 1/2 * 2/3 + 1/2 * 2/3 = 2/3 at every IoU (the hits are exact). Class 4: AP 0, AR 0.
    # calcAccuracy.m lists class 1 twice and class 4 once: AP = (2 * 66.67 + 0) / 3 = 44.44 (not COCO's 33.33).
    # b's file lists the 0.5 hit first, so at maxDets 1 both images hit: class 1 AR1 = 100 -> (2 * 100) / 3.
    annotations = {"a": ["0,0,10,10,1,1,0,0", "50,50,10,10,1,4,0,0"], "b": ["0,0,10,10,1,1,0,0"]}
    results = {"a": ["0,0,10,10,0.9,1,-1,-1"], "b": ["0,0,10,10,0.5,1,-1,-1", "80,80,10,10,0.95,1,-1,-1"]}
    result = metrics(tmp_path, annotations, results)
    assert_metrics(result, AP=400 / 9, AP50=400 / 9, AP75=400 / 9, AR1=200 / 3, AR10=200 / 3, AR100=200 / 3, AR500=200 / 3)


def test_ignored_regions_drop_objects_and_detections_by_the_toolkits_pixel_rule(tmp_path):
    # The region 0,0,50,50 becomes x,y >= 1 and covers rows and columns 1..51 (1-based, inclusive).
    # A box counts the pixels of rows y+1..y+h, columns x+1..x+w (the integral image's corners):
    # - object 10,10,20,20 (class 1): 400/400 inside -> dropped; so is the 0.99 detection 5,5,10,10 on it;
    # - object 0,31,40,40 (class 2): x -> 1, rows 32..71, 20 of 40 rows inside -> exactly half -> dropped
    #   (by plain geometry only 19 of 40 rows are inside: it would stay, undetected, and pull the mean down);
    # - object 0,32,40,40 (class 3): 19 of 40 rows -> kept, and detected;
    # - object 60,60,20,20 (class 1): outside, detected.
    # Left: one hit per class (1 and 3), nothing false -> 100, except at maxDets 1: the drop comes first, so the
    # file's first row left is class 3's and class 1 sees nothing -> AR1 = (0 + 100) / 2.
    annotations = {"a": ["0,0,50,50,0,0,0,0", "10,10,20,20,1,1,0,0", "0,31,40,40,1,2,0,0", "0,32,40,40,1,3,0,0", "60,60,20,20,1,1,0,0"]}
    results = {"a": ["5,5,10,10,0.99,1,-1,-1", "0,32,40,40,0.7,3,-1,-1", "60,60,20,20,0.8,1,-1,-1"]}
    assert_metrics(metrics(tmp_path, annotations, results), **{key: 100.0 for key in METRIC_KEYS if key != "AR1"}, AR1=50.0)


def test_score_0_objects_are_ignore_boxes_that_still_count_as_objects(tmp_path):
    # The 0.9 detection lies inside the score-0 box (intersection / its own area = 1): neither hit nor false.
    # Objects: 2 (the toolkit counts the ignore-box). Ranking: ignore, hit -> recall 0, 1/2; precision 0, 1.
    # VOC AP = 1/2 * 1 = 50; AR = 50; at maxDets 1 only the ignore match is seen -> AR1 = 0.
    annotations = {"a": ["10,10,20,20,0,1,0,0", "50,50,20,20,1,1,0,0"]}
    results = {"a": ["12,12,10,10,0.9,1,-1,-1", "50,50,20,20,0.8,1,-1,-1"]}
    assert_metrics(metrics(tmp_path, annotations, results), AP=50.0, AP50=50.0, AP75=50.0, AR1=0.0, AR10=50.0, AR500=50.0)


def test_others_are_never_scored_but_take_their_place_in_maxdets(tmp_path):
    # The 'others' detection misses its object (scored, class 11 would have AP 50 mean); it is the file's first
    # row, so at maxDets 1 class 1 sees no detection: AR1 = 0. Class 1 alone: 100 everywhere else.
    annotations = {"a": ["0,0,10,10,1,1,0,0", "50,50,10,10,1,11,0,0"]}
    results = {"a": ["80,80,10,10,0.99,11,-1,-1", "0,0,10,10,0.9,1,-1,-1"]}
    assert_metrics(metrics(tmp_path, annotations, results), AP=100.0, AR1=0.0, AR10=100.0, AR500=100.0)


def test_only_the_first_500_rows_count_even_when_a_later_one_scores_higher(tmp_path):
    # 500 misses at 0.9, then the exact hit at 0.99 as row 501: cut, so every number is 0.
    misses = ["80,80,5,5,0.9,1,-1,-1"] * 500
    result = metrics(tmp_path, {"a": ["0,0,10,10,1,1,0,0"]}, {"a": [*misses, "0,0,10,10,0.99,1,-1,-1"]})
    assert_metrics(result, **{key: 0.0 for key in METRIC_KEYS})


def test_truncated_boxes_are_not_clipped_and_crlf_files_read(tmp_path):
    # The object runs past the 100x100 image (90,90,20,20). The 0.9 detection is its clipped part, IoU 100/400:
    # false; the 0.5 detection is the full box: hit. Recall 0, 1; precision 0, 1/2 -> AP = 50, AR = 100.
    annotations = {"a": ["90,90,20,20,1,1,2,0"]}
    results = {"a": ["90,90,10,10,0.9,1,-1,-1", "90,90,20,20,0.5,1,-1,-1"]}
    assert_metrics(metrics(tmp_path, annotations, results, newline="\r\n"), AP=50.0, AP50=50.0, AR500=100.0)


def test_ap_averages_the_ten_iou_thresholds(tmp_path):
    # IoU 64/100: a hit at 0.50, 0.55, 0.60, a miss from 0.65 up -> AP = AR = 3/10 of 100; AP50 100, AP75 0.
    result = metrics(tmp_path, {"a": ["0,0,10,10,1,1,0,0"]}, {"a": ["0,0,10,6.4,0.9,1,-1,-1"]})
    assert_metrics(result, AP=30.0, AP50=100.0, AP75=0.0, AR500=30.0)


def test_a_missing_result_file_scores_as_no_detections_with_one_warning(tmp_path, caplog):
    # a: hit; b, c: no result file, their objects missed -> recall 1/3, precision 1 -> AP = 33.33.
    annotations = {"a": ["0,0,10,10,1,1,0,0"], "b": ["0,0,10,10,1,1,0,0"], "c": ["0,0,10,10,1,1,0,0"]}
    with caplog.at_level(logging.WARNING, logger="lrsdetr.eval"):
        result = metrics(tmp_path, annotations, {"a": ["0,0,10,10,0.9,1,-1,-1"]})
    assert_metrics(result, AP=100 / 3, AR500=100 / 3)
    warnings = [r.getMessage() for r in caplog.records if "no result file" in r.getMessage()]
    assert len(warnings) == 1 and "2 image(s)" in warnings[0]


@pytest.mark.parametrize(
    "where, line, expected",
    [
        ("results", "1,2,3,x,0.5,1,-1,-1", "results/a.txt:2: expected numbers"),
        ("results", "1,2,3", "results/a.txt:2: expected at least 6 numbers"),
        ("results", "1,2,3,4,0.5,12,-1,-1", "results/a.txt:2: expected a category 0..11"),
        ("annotations", "1,2,-3,4,1,1,0,0", "annotations/a.txt:2: expected a width and height >= 0"),
        ("annotations", "1,2,3,4,2,1,0,0", "annotations/a.txt:2: expected a score of 0 (ignore) or 1"),
    ],
)
def test_bad_lines_are_one_line_errors_naming_file_and_line(tmp_path, where, line, expected):
    annotations = {"a": ["0,0,10,10,1,1,0,0"]}
    results = {"a": ["0,0,10,10,0.9,1,-1,-1"]}
    (annotations if where == "annotations" else results)["a"].append(line)
    with pytest.raises(DataError, match=expected.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")) as error:
        metrics(tmp_path, annotations, results)
    assert "\n" not in str(error.value)


def test_size_buckets_count_hits_by_their_object_and_false_detections_by_their_own_size(tmp_path):
    # Objects: 10x10 (small, found at 0.9) and 40x40 = 1600 px (medium, missed); a false 40x40 detection at 0.8.
    # All sizes: recall 1/2, 1/2; precision 1, 1/2 -> AP 50. Small: the hit alone, 1 object -> 100.
    # Medium: the false detection alone, 1 object -> 0. No large object: no number.
    annotations = {"a": ["0,0,10,10,1,1,0,0", "50,50,40,40,1,1,0,0"]}
    results = {"a": ["0,0,10,10,0.9,1,-1,-1", "0,60,40,40,0.8,1,-1,-1"]}
    result = metrics(tmp_path, annotations, results)
    assert_metrics(result, AP=50.0, AP_small=100.0, AP_medium=0.0)
    assert result["AP_large"] != result["AP_large"]


def test_ignored_regions_need_the_image_size(tmp_path):
    anno, res, _ = write_set(tmp_path, {"a": ["0,0,50,50,0,0,0,0", "60,60,20,20,1,1,0,0"]}, {"a": ["60,60,20,20,0.8,1,-1,-1"]})
    with pytest.raises(DataError, match="has ignored regions, whose pixel map needs the image size: give --img_dir"):
        evaluate(anno, res, None, verbose=False)
