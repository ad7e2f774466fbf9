"""Splitting images + labels by ratios: sizes, determinism, background kept, source never moved."""

import os
from pathlib import Path

import pytest
from source_tree import unchanged

from lrsdetr.data.split import split_dataset, split_sizes
from lrsdetr.utils.errors import DataError


def write_flat(root: Path, count: int = 20, unlabelled: int = 3) -> tuple[Path, Path]:
    (root / "images").mkdir(parents=True)
    (root / "labels").mkdir()
    for i in range(count):
        (root / "images" / f"{i:03d}.jpg").write_bytes(b"jpeg %d" % i)  # content is never decoded
        if i >= unlabelled:
            (root / "labels" / f"{i:03d}.txt").write_text(f"0 0.5 0.5 0.1 0.{i % 9 + 1}\n")
    return root / "images", root / "labels"


def listing(out: Path) -> dict[str, list[str]]:
    return {f"{kind}/{split}": sorted(p.name for p in (out / kind / split).iterdir()) for kind in ("images", "labels") for split in ("train", "val", "test") if (out / kind / split).is_dir()}


@pytest.mark.parametrize(
    "count, ratios, sizes",
    [(20, (0.8, 0.1, 0.1), (16, 2, 2)), (10, (0.7, 0.2, 0.1), (7, 2, 1)), (7, (0.5, 0.25, 0.25), (3, 2, 2)), (3, (1, 0, 0), (3, 0, 0)), (0, (0.8, 0.1, 0.1), (0, 0, 0))],
)
def test_sizes_add_up(count, ratios, sizes):
    assert split_sizes(count, ratios) == sizes


@pytest.mark.parametrize("ratios", [(0.8, 0.1), (0.8, 0.3, 0.1), (1.1, -0.1, 0.0), (float("nan"), 0.5, 0.5), ("a", 0.5, 0.5)])
def test_bad_ratios(ratios):
    with pytest.raises(DataError, match="expected 3 non-negative numbers"):
        split_sizes(10, ratios)


def test_split_is_complete_disjoint_deterministic_and_keeps_background(tmp_path):
    images, labels = write_flat(tmp_path / "src")
    with unchanged(tmp_path / "src"):  # nothing moved or written
        report = split_dataset(images, labels, tmp_path / "one", (0.6, 0.2, 0.2), seed=3)
        split_dataset(images, labels, tmp_path / "two", (0.6, 0.2, 0.2), seed=3)
        split_dataset(images, labels, tmp_path / "one", (0.6, 0.2, 0.2), seed=3)  # re-run into the same folder
        other = split_dataset(images, labels, tmp_path / "three", (0.6, 0.2, 0.2), seed=4)

    one = listing(tmp_path / "one")
    assert one == listing(tmp_path / "two")
    assert one != listing(tmp_path / "three")
    assert report.sizes == other.sizes == {"train": 12, "val": 4, "test": 4}
    everything = one["images/train"] + one["images/val"] + one["images/test"]
    assert sorted(everything) == [f"{i:03d}.jpg" for i in range(20)]
    assert report.background == 3
    for split in ("train", "val", "test"):
        stems = {Path(n).stem for n in one[f"images/{split}"]}
        assert {Path(n).stem for n in one[f"labels/{split}"]} == stems - {"000", "001", "002"}
    image = tmp_path / "one" / "images" / "train" / one["images/train"][0]
    assert os.path.samefile(image, images / image.name)


def test_copy_mode_and_zero_ratio(tmp_path):
    images, labels = write_flat(tmp_path / "src", count=5)
    with unchanged(tmp_path / "src"):
        report = split_dataset(images, labels, tmp_path / "out", (0.6, 0.4, 0.0), seed=0, link=False)
    assert report.sizes == {"train": 3, "val": 2}
    assert not (tmp_path / "out" / "images" / "test").exists()
    copied = next((tmp_path / "out" / "images" / "train").iterdir())
    assert not os.path.samefile(copied, images / copied.name) and copied.read_bytes() == (images / copied.name).read_bytes()


def test_an_earlier_different_split_is_not_mixed_in(tmp_path):
    images, labels = write_flat(tmp_path / "src")
    split_dataset(images, labels, tmp_path / "out", seed=0)
    with unchanged(tmp_path / "src", tmp_path / "out"), pytest.raises(DataError, match="from an earlier run; expected an empty or identically split out folder"):
        split_dataset(images, labels, tmp_path / "out", seed=1)


def test_output_inside_source_and_bad_seed(tmp_path, capsys):
    from lrsdetr.data.scripts import SPLIT

    images, labels = write_flat(tmp_path / "src")
    assert SPLIT.run_with({**SPLIT.defaults, "image_path": str(images), "label_path": str(labels), "out": str(images)}) == 2
    assert "lies inside the input image_path" in capsys.readouterr().err
    with pytest.raises(DataError, match="seed 'x': expected an integer"):
        split_dataset(images, labels, tmp_path / "out", seed="x")


def test_two_images_with_one_stem_are_refused(tmp_path):
    images, labels = write_flat(tmp_path / "src")
    first = sorted(images.iterdir())[0]
    (images / f"{first.stem}.png").write_bytes(first.read_bytes())
    with unchanged(tmp_path / "src"), pytest.raises(DataError, match=f"would share the label file {first.stem}.txt"):
        split_dataset(images, labels, tmp_path / "out")
    assert not (tmp_path / "out").exists()
