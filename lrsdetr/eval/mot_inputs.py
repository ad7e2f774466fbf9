"""VisDrone-MOT files read and checked before anything is scored: one line per box, bad input named in one line.

Ground truth (`annotations/<sequence>.txt`) and results (`<results>/<sequence>.txt`) share the format
`frame,id,x,y,w,h,score,class,truncation,occlusion` (results write -1,-1 in the last two). The toolkit reads
them with MATLAB's dlmread, which pads short lines with zeros, reads a blank field as 0 and keeps NaN: each of
those would score silently wrong, so a line with another count of numbers, a NaN, a frame that is not a whole
number from 1, a negative size, a class outside 0..11, or a (frame, id) pair twice is refused, naming the file
and line. Sequences are the folders of `--seq_dir` (VisDrone-MOT's `sequences/`, numbered frames): the first frame
gives the size the ignored regions are mapped at, the frame count bounds the results.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..data.files import image_size, list_images, require_folder
from ..utils.errors import DataError

COLUMNS = ("frame", "id", "x", "y", "w", "h", "score", "class", "truncation", "occlusion")
FRAME, ID, X, Y, W, H, SCORE, CLASS = range(8)
IGNORED_REGION, OTHERS = 0, 11


@dataclass(frozen=True)
class Sequence:
    """One sequence to score: its name, the size of its frames (width, height), how many frames it has, and its
    ground-truth and result rows as read (frame, id, x, y, w, h, score, class, truncation, occlusion)."""

    name: str
    size: tuple[int, int]
    frames: int
    gt: np.ndarray
    res: np.ndarray


def read_mot(path: Path, what: str) -> np.ndarray:
    """The rows of a MOT text file (commas and/or spaces, CRLF or LF; blank lines skipped), checked: (n, 10)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise DataError(f"{path}: expected a UTF-8 text file of VisDrone-MOT {what} lines") from None
    numbered = [(n, line.replace(",", " ").split()) for n, line in enumerate(text.splitlines(), 1)]
    numbered = [(n, fields) for n, fields in numbered if fields]
    for number, fields in numbered:
        if len(fields) != len(COLUMNS):
            raise DataError(f"{path}:{number}: expected {len(COLUMNS)} numbers {','.join(COLUMNS)}, got {len(fields)}")
    try:
        rows = np.array([[float(v) for v in fields] for _, fields in numbered], dtype=np.float64).reshape(-1, len(COLUMNS))
    except ValueError:
        number, fields = next((n, f) for n, f in numbered if not _numbers(f))
        raise DataError(f"{path}:{number}: expected numbers {','.join(COLUMNS)}, got {','.join(fields)!r}") from None
    _check(rows, path, what, [n for n, _ in numbered])
    return rows


def _numbers(fields: list[str]) -> bool:
    try:
        [float(v) for v in fields]
    except ValueError:
        return False
    return True


def _check(rows: np.ndarray, path: Path, what: str, numbers: list[int]) -> None:
    whole = lambda column: rows[:, column] == np.round(rows[:, column])  # noqa: E731
    problems = (
        (~np.isfinite(rows).all(1), "expected finite numbers (no NaN or inf)"),
        (~whole(FRAME) | (rows[:, FRAME] < 1), "expected a whole frame number from 1"),
        (~whole(ID), "expected a whole track id"),
        ((rows[:, W] < 0) | (rows[:, H] < 0), "expected a width and height >= 0"),
        (~whole(CLASS) | (rows[:, CLASS] < IGNORED_REGION) | (rows[:, CLASS] > OTHERS), "expected a class 0..11"),
    )
    for bad, problem in problems:
        if bad.any():
            index = int(np.argmax(bad))
            raise DataError(f"{path}:{numbers[index]}: {problem}, got {','.join(f'{v:g}' for v in rows[index])}")
    tracked = rows[:, CLASS] != IGNORED_REGION if what == "ground truth" else np.ones(len(rows), bool)  # regions share id 0
    pairs = rows[tracked][:, [FRAME, ID]]
    _, first, counts = np.unique(pairs, axis=0, return_index=True, return_counts=True)
    if (counts > 1).any():
        twice = pairs[first[np.argmax(counts > 1)]]
        lines = [numbers[i] for i in np.flatnonzero(tracked)[(pairs == twice).all(1)]]
        raise DataError(f"{path}:{lines[1]}: frame {twice[0]:g} has track id {twice[1]:g} twice (also line {lines[0]}); expected one box per track and frame")


def load_sequences(anno_dir: Path, res_dir: Path, seq_dir: Path) -> list[Sequence]:
    """Every sequence folder of `seq_dir` (sorted by name, as the toolkit lists them), with its ground truth and
    results; a missing file, a result file of no sequence, or results past the last frame is a DataError."""
    seq_dir = require_folder(Path(seq_dir), "--seq_dir", "VisDrone-MOT's sequences/: one folder of numbered frames per sequence")
    anno_dir = require_folder(Path(anno_dir), "--anno_dir", "VisDrone-MOT's annotations/: <sequence>.txt")
    res_dir = require_folder(Path(res_dir), "--res_dir", "tracking results, <sequence>.txt each")
    folders = sorted(p for p in seq_dir.iterdir() if p.is_dir())
    if not folders:
        raise DataError(f"--seq_dir {seq_dir}: no sequence folders (expected VisDrone-MOT's sequences/<name>/0000001.jpg ...)")
    names = {folder.name for folder in folders}
    unknown = sorted(p.name for p in res_dir.glob("*.txt") if p.stem not in names)
    if unknown:
        raise DataError(f"--res_dir {res_dir}: {unknown[0]} is the result of no sequence in --seq_dir {seq_dir} ({len(unknown)} such file(s)); expected <sequence>.txt for its folders")
    missing = [folder.name for folder in folders if not (res_dir / f"{folder.name}.txt").is_file()]
    if missing:
        raise DataError(f"--res_dir {res_dir}: the results cover {len(folders) - len(missing)} of {len(folders)} sequences; "
                        f"no {missing[0]}.txt ({len(missing)} missing). Score only the sequences tracked (a --seq_dir holding just them)")
    return [_sequence(folder, anno_dir, res_dir) for folder in folders]


def _sequence(folder: Path, anno_dir: Path, res_dir: Path) -> Sequence:
    frames = list_images(folder)
    if not frames:
        raise DataError(f"--seq_dir {folder}: no frames (expected numbered images, 0000001.jpg ...)")
    size = image_size(frames[0])
    if size is None:
        raise DataError(f"--seq_dir {frames[0]}: cannot read this frame; expected an image its size can be read from")
    gt_file = anno_dir / f"{folder.name}.txt"
    if not gt_file.is_file():
        raise DataError(f"--anno_dir {anno_dir}: no {gt_file.name}, the ground truth of sequence {folder.name}")
    gt, res = read_mot(gt_file, "ground truth"), read_mot(res_dir / f"{folder.name}.txt", "result")
    if len(res) and res[:, FRAME].max() > len(frames):
        row = res[int(np.argmax(res[:, FRAME]))]
        raise DataError(f"{res_dir / (folder.name + '.txt')}: frame {row[FRAME]:g}, but sequence {folder.name} has {len(frames)} frames; results of another sequence?")
    return Sequence(folder.name, size, len(frames), gt, res)
