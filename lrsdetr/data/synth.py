"""Synthetic VisDrone-like data: procedurally drawn oblique drone views with annotated small objects.

The README's main job and the tests need a data set that is always there, quick to make and quick to learn.
Scenes have grass, fields, roads with sidewalks converging toward the top, parking lots, plazas, roofs and
trees with shadows, and a distance haze. Objects of the ten VisDrone classes (plus 'others') shrink toward
the top of the frame as in an oblique view, so most are small by the COCO definition (< 32 x 32 px); some
are truncated by the border or partly hidden by trees and neighbours, and a few crowded far-off patches are
marked as ignored regions. Annotations are written in the VisDrone-native format, so the conversion path a
real user takes (lrsdetr.data.visdrone) is exercised too. Everything is drawn from `seed`: the same seed
gives the same bytes.

    lrsdetr synth --out DIR --images N --width W --height H --seed S   (also: python -m lrsdetr.data.synth ... --size W H)
    lrsdetr synth --video True ...: moving objects in VisDrone-MOT sequences instead (lrsdetr.data.synth_video)
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from lrsdetr.data.files import refuse_leftovers, write_bytes_atomic, write_text_atomic
from lrsdetr.data.synth_objects import LOOKS, ObjectLook, Sprite
from lrsdetr.data.visdrone import (
    IGNORED_REGION,
    JPEG_QUALITY,
    VISDRONE_NAMES,
    VisDroneBox,
    convert_visdrone,
)
from lrsdetr.utils.command import Command
from lrsdetr.utils.errors import DataError
from lrsdetr.utils.guard import CommandPaths

# Share of each category among placed objects (1..10, then 11 'others'): VisDrone's order of frequency,
# flattened so that the rare classes still appear a few times in every small batch of images.
CATEGORY_WEIGHTS = np.array([0.15, 0.08, 0.06, 0.23, 0.09, 0.07, 0.05, 0.05, 0.06, 0.13, 0.03])
PIXELS_PER_OBJECT = 2000  # object density: one object per this many pixels of image, on average
TOP_SCALE = 0.6  # object size at the top of the frame relative to the bottom (oblique view)
ROAD_HALF_WIDTH, SIDEWALK_WIDTH = 20, 7  # pixels at scale 1
PARKING = (4, 5)  # cars and vans are also found parked in lots
MAX_HIDDEN_BY_OTHERS = 0.3  # a new object may cover at most this share of an earlier one's box, and vice versa

# Zones of the ground map: where objects may go (nothing goes on roofs or into ignored regions).
GRASS, ROAD, WALK, LOT, BLOCKED = 0, 1, 2, 3, 4


@dataclass
class Placed:
    """An object in the scene: its look, sprite and top-left position (may lie partly outside the frame)."""

    look: ObjectLook
    sprite: Sprite
    x: int
    y: int
    box: tuple[int, int, int, int] = field(init=False)  # tight (left, top, width, height) in image pixels

    def __post_init__(self) -> None:
        rows, cols = np.nonzero(self.sprite.alpha > 0.25)
        self.box = self.x + int(cols.min()), self.y + int(rows.min()), int(cols.max() - cols.min() + 1), int(rows.max() - rows.min() + 1)

    def window(self, width: int, height: int, dx: int = 0, dy: int = 0) -> tuple[tuple[slice, slice], tuple[slice, slice]] | None:
        """(image slices, sprite slices) of the sprite moved by (dx, dy), clipped to the frame; None if all outside."""
        h, w = self.sprite.alpha.shape
        x0, y0 = self.x + dx, self.y + dy
        x1, y1, x2, y2 = max(x0, 0), max(y0, 0), min(x0 + w, width), min(y0 + h, height)
        if x1 >= x2 or y1 >= y2:
            return None
        return (slice(y1, y2), slice(x1, x2)), (slice(y1 - y0, y2 - y0), slice(x1 - x0, x2 - x0))


class Scene:
    """One image being drawn: the picture, the ground zones, and what has been placed on it."""

    def __init__(self, width: int, height: int, rng: np.random.Generator) -> None:
        self.width, self.height, self.rng = width, height, rng
        self.bottom_scale = rng.uniform(0.9, 1.4)  # flying height
        self.image = np.zeros((height, width, 3), np.float32)
        self.grain = self.noise(2, 1.0)  # fine texture shared by every painted surface
        self.zones = np.full((height, width), GRASS, np.uint8)
        self.sun = rng.uniform(-1, 1, 2) * np.array([1.0, 0.6])  # shadow direction and length per unit height
        self.roads: list[tuple[bool, float, float]] = []  # (vertical, position at the bottom, half width at scale 1)
        self.objects: list[Placed] = []
        self.boxes = np.zeros((0, 4))  # the objects' boxes, for fast overlap tests
        self.ignored: list[tuple[int, int, int, int]] = []

    def scale(self, y: float | np.ndarray) -> float | np.ndarray:
        """Object scale at image row `y`: objects shrink toward the top of the frame."""
        return self.bottom_scale * (TOP_SCALE + (1 - TOP_SCALE) * np.clip(y / self.height, 0.0, 1.0))

    def noise(self, cell: int, amplitude: float) -> np.ndarray:
        """Smooth random field (one value per `cell` pixels, interpolated), zero mean, for texture."""
        grid = self.rng.normal(0, amplitude, (self.height // cell + 2, self.width // cell + 2)).astype(np.float32)
        return cv2.resize(grid, (self.width + 2 * cell, self.height + 2 * cell), interpolation=cv2.INTER_CUBIC)[cell : cell + self.height, cell : cell + self.width]

    def fill(self, mask: np.ndarray, rgb: tuple[int, int, int], texture: float = 6.0, zone: int | None = None) -> None:
        """Paint `mask` in `rgb` with `texture` times the fine grain; mark it as `zone` on the ground map."""
        self.image[mask] = np.array(rgb[::-1], np.float32) + texture * self.grain[mask][:, None]
        if zone is not None:
            self.zones[mask] = zone

    def box_mask(self, x1: int, y1: int, x2: int, y2: int) -> np.ndarray:
        """Pixels of the box [x1, x2) x [y1, y2), clipped to the frame."""
        mask = np.zeros((self.height, self.width), bool)
        mask[max(y1, 0) : max(y2, 0), max(x1, 0) : max(x2, 0)] = True
        return mask

    def polygon_mask(self, corners: np.ndarray) -> np.ndarray:
        canvas = np.zeros((self.height, self.width), np.uint8)
        return cv2.fillPoly(canvas, [corners.astype(np.int32)], 1) > 0

    def disc_mask(self, x: int, y: int, radius: int) -> np.ndarray:
        canvas = np.zeros((self.height, self.width), np.uint8)
        return cv2.circle(canvas, (x, y), radius, 1, -1) > 0


def _ground(scene: Scene) -> None:
    rng = scene.rng
    grass = np.array([78, 112, 58]) * rng.uniform(0.85, 1.15)
    scene.image[:] = grass[::-1] + scene.noise(24, 10)[..., None] + scene.noise(3, 5)[..., None]
    for _ in range(rng.integers(0, 3)):  # ploughed fields
        x, y = rng.integers(0, scene.width), rng.integers(0, scene.height)
        w, h = rng.integers(scene.width // 6, scene.width // 2), rng.integers(scene.height // 8, scene.height // 3)
        plot = scene.box_mask(int(x), int(y), int(x + w), int(y + h))
        scene.fill(plot, tuple(int(v) for v in np.array([140, 118, 78]) * rng.uniform(0.85, 1.1)), texture=8)
        furrows = np.arange(scene.height)[:, None] % max(3, round(6 * scene.scale(y))) == 0
        scene.image[plot & furrows] *= 0.85


def road_centre(scene: Scene, bottom_x: float, y: np.ndarray | float) -> np.ndarray | float:
    """Vertical roads converge toward the middle of the top edge, as parallel lines do in an oblique view."""
    return scene.width / 2 + (bottom_x - scene.width / 2) * scene.scale(y) / scene.scale(scene.height)


def _roads(scene: Scene) -> None:
    rng = scene.rng
    horizontal = [rng.uniform(0.15, 0.9) * scene.height for _ in range(rng.integers(1, 3))]
    vertical = [rng.uniform(0.1, 0.9) * scene.width for _ in range(rng.integers(1, 3))]
    asphalt = tuple(int(v) for v in np.array([82, 84, 88]) * rng.uniform(0.85, 1.1))
    for walk_pass in (True, False):  # all sidewalks first, so crossings stay asphalt
        for y0 in horizontal:
            half = (ROAD_HALF_WIDTH + SIDEWALK_WIDTH * walk_pass) * scene.scale(y0)
            band = scene.box_mask(0, round(y0 - half), scene.width, round(y0 + half))
            scene.fill(band, (176, 172, 162) if walk_pass else asphalt, zone=WALK if walk_pass else ROAD)
        for x0 in vertical:
            ys = np.array([0.0, scene.height])
            xs = road_centre(scene, x0, ys)
            halves = (ROAD_HALF_WIDTH + SIDEWALK_WIDTH * walk_pass) * scene.scale(ys)
            corners = np.array([[xs[0] - halves[0], 0], [xs[0] + halves[0], 0], [xs[1] + halves[1], scene.height], [xs[1] - halves[1], scene.height]])
            scene.fill(scene.polygon_mask(corners), (176, 172, 162) if walk_pass else asphalt, zone=WALK if walk_pass else ROAD)
    for y0 in horizontal:  # dashed centre lines
        for x in range(0, scene.width, 24):
            cv2.line(scene.image, (x, round(y0)), (x + 11, round(y0)), (225, 225, 225), 1)
        scene.roads.append((False, y0, ROAD_HALF_WIDTH))
    for x0 in vertical:
        for y in range(0, scene.height, 24):
            cv2.line(scene.image, (round(road_centre(scene, x0, y)), y), (round(road_centre(scene, x0, y + 11)), y + 11), (225, 225, 225), 1)
        scene.roads.append((True, x0, ROAD_HALF_WIDTH))


def _free_rectangle(scene: Scene, w: int, h: int, tries: int = 20) -> tuple[int, int] | None:
    """Top-left of a `w` x `h` patch of plain grass, or None."""
    for _ in range(tries):
        x, y = int(scene.rng.integers(0, max(1, scene.width - w))), int(scene.rng.integers(0, max(1, scene.height - h)))
        if (scene.zones[y : y + h, x : x + w] == GRASS).all():
            return x, y
    return None


def _lots_and_plazas(scene: Scene) -> list[tuple[int, int, int, int]]:
    """Paved plazas (pedestrians) and parking lots (cars and vans in stalls); returns the parking lots."""
    lots = []
    for _ in range(scene.rng.integers(1, 4)):
        s = scene.scale(scene.rng.uniform(0, scene.height))
        w, h = round(scene.rng.uniform(50, 90) * s), round(scene.rng.uniform(28, 50) * s)
        spot = _free_rectangle(scene, w, h)
        if spot is None:
            continue
        x, y = spot
        area = scene.box_mask(x, y, x + w, y + h)
        if scene.rng.random() < 0.5:
            scene.fill(area, (150, 150, 148), texture=4, zone=LOT)
            stall = max(6, round(12 * scene.scale(y + h)))
            for sx in range(x, x + w, stall):
                cv2.line(scene.image, (sx, y), (sx, y + h - 1), (230, 230, 230), 1)
            lots.append((x, y, w, h))
        else:
            scene.fill(area, (196, 186, 168), texture=9, zone=WALK)
    return lots


def _buildings(scene: Scene) -> None:
    """Roofs with a ridge and a cast shadow; nothing is placed on them."""
    for _ in range(round(scene.width * scene.height / 30000 * scene.rng.uniform(0.5, 1.5)) + 1):
        s = scene.scale(scene.rng.uniform(0, scene.height))
        w, h = round(scene.rng.uniform(40, 80) * s), round(scene.rng.uniform(30, 60) * s)
        spot = _free_rectangle(scene, w + 6, h + 6)
        if spot is None:
            continue
        x, y = spot
        roof = [(172, 82, 62), (108, 108, 114), (192, 190, 184), (72, 110, 150)][int(scene.rng.integers(4))]
        dx, dy = (round(v * 8 * s) for v in scene.sun)
        shadow = scene.box_mask(x + dx, y + dy, x + dx + w, y + dy + h)
        scene.image[shadow] *= 0.55
        roof_mask = scene.box_mask(x, y, x + w, y + h)
        scene.fill(roof_mask, roof, texture=4, zone=BLOCKED)
        half = scene.box_mask(x, y, x + w, y + h // 2)
        scene.image[half] *= 0.85  # the ridge: one roof face catches less light


def _ignored_regions(scene: Scene) -> None:
    """Far-off crowded patches nobody would label one by one: dense specks, annotated as ignored regions."""
    for _ in range(scene.rng.integers(0, 3)):
        w, h = round(scene.width * scene.rng.uniform(0.1, 0.25)), round(scene.height * scene.rng.uniform(0.06, 0.14))
        x, y = int(scene.rng.integers(0, scene.width - w)), int(scene.rng.integers(0, scene.height // 2))
        region = scene.box_mask(x, y, x + w, y + h)
        scene.fill(region, (160, 156, 150), texture=10, zone=BLOCKED)
        for _ in range(w * h // 12):
            px, py = int(scene.rng.integers(x, x + w)), int(scene.rng.integers(y, y + h))
            colour = [(215, 35, 55), (245, 200, 45), (238, 238, 236), (40, 90, 195), (36, 34, 40)][int(scene.rng.integers(5))]
            cv2.rectangle(scene.image, (px, py), (px + int(scene.rng.integers(0, 3)), py + 1), colour[::-1], -1)
        scene.ignored.append((x, y, w, h))


def _overlaps(box: tuple[int, int, int, int], boxes: np.ndarray) -> np.ndarray:
    """Intersection of `box` with each of `boxes` (all left, top, width, height) as a share of the smaller one."""
    x, y, w, h = box
    inter_w = np.minimum(x + w, boxes[:, 0] + boxes[:, 2]) - np.maximum(x, boxes[:, 0])
    inter_h = np.minimum(y + h, boxes[:, 1] + boxes[:, 3]) - np.maximum(y, boxes[:, 1])
    return np.clip(inter_w, 0, None) * np.clip(inter_h, 0, None) / np.minimum(w * h, boxes[:, 2] * boxes[:, 3])


def _position(scene: Scene, look: ObjectLook, lots: list[tuple[int, int, int, int]], walk: np.ndarray) -> tuple[float, float, int]:
    """Centre and quarter turns for a new object: vehicles on a road lane (or in a lot), people on pavement
    (`walk`: flat indices of the pavement pixels)."""
    rng = scene.rng
    if look.category in PARKING and lots and rng.random() < 0.35:
        x, y, w, h = lots[int(rng.integers(len(lots)))]
        return rng.uniform(x, x + w), rng.uniform(y, y + h), 1  # parked across the stalls
    if look.habitat == "road" and scene.roads:
        vertical, position, half = scene.roads[int(rng.integers(len(scene.roads)))]
        lane = rng.choice([-0.5, 0.5]) * half
        if vertical:
            y = rng.uniform(0, scene.height)
            return road_centre(scene, position, y) + lane * scene.scale(y), y, int(rng.choice([1, 3]))
        return rng.uniform(0, scene.width), position + lane * scene.scale(position), int(rng.choice([0, 2]))
    if len(walk) and rng.random() < 0.8:
        index = int(walk[rng.integers(len(walk))])
        return index % scene.width, index // scene.width, 0 if look.upright else int(rng.integers(4))
    return rng.uniform(0, scene.width), rng.uniform(0, scene.height), 0 if look.upright else int(rng.integers(4))


def _try_place(scene: Scene, look: ObjectLook, cx: float, cy: float, turns: int) -> bool:
    """Place `look` centred at (cx, cy) unless it would sit on a roof or ignored region, be more than half
    outside the frame, or hide (or be hidden by) earlier objects too much."""
    sprite = look.sprite(scene.scale(cy), scene.rng).rotated(turns)
    h, w = sprite.alpha.shape
    placed = Placed(look, sprite, round(cx - w / 2), round(cy - h / 2))
    box = placed.box
    x1, y1 = max(box[0], 0), max(box[1], 0)
    x2, y2 = min(box[0] + box[2], scene.width), min(box[1] + box[3], scene.height)
    if max(x2 - x1, 0) * max(y2 - y1, 0) < 0.5 * box[2] * box[3]:
        return False
    if (scene.zones[y1:y2, x1:x2] == BLOCKED).mean() > 0.2:
        return False
    if (_overlaps(box, scene.boxes) > MAX_HIDDEN_BY_OTHERS).any():
        return False
    scene.objects.append(placed)
    scene.boxes = np.vstack([scene.boxes, box])
    return True


def _objects(scene: Scene, lots: list[tuple[int, int, int, int]]) -> None:
    """Choose classes by CATEGORY_WEIGHTS and place each where it belongs (a few tries; crowded scenes get fewer)."""
    rng = scene.rng
    count = round(scene.width * scene.height / PIXELS_PER_OBJECT * rng.uniform(0.7, 1.3))
    categories = rng.choice(np.arange(1, 12), size=count, p=CATEGORY_WEIGHTS / CATEGORY_WEIGHTS.sum())
    walk = np.flatnonzero(scene.zones == WALK)
    for category in categories:
        look = LOOKS[int(category)]
        for _ in range(10):
            cx, cy, turns = _position(scene, look, lots, walk)
            if _try_place(scene, look, cx, cy, turns):
                break
        if look.upright and rng.random() < 0.4:  # people come in small groups
            for _ in range(rng.integers(1, 4)):
                s = scene.scale(cy)
                _try_place(scene, look, cx + rng.normal(0, 6 * s), cy + rng.normal(0, 4 * s), 0)


def composite(image: np.ndarray, objects: list[Placed], sun: np.ndarray, owner: np.ndarray) -> None:
    """Draw shadows and sprites far to near (near objects cover far ones, so `objects` is sorted so); `owner`
    records who shows where (the index in `objects`)."""
    height, width = owner.shape
    objects.sort(key=lambda o: o.box[1] + o.box[3])
    for index, obj in enumerate(objects):
        lift = (1.4 if obj.look.upright else 0.35) * obj.sprite.alpha.shape[0]  # taller things cast longer shadows
        shadow = obj.window(width, height, round(sun[0] * lift), round(sun[1] * lift))
        if shadow is not None:
            image[shadow[0]] *= 1 - 0.45 * obj.sprite.alpha[shadow[1]][..., None]
        body = obj.window(width, height)
        if body is not None:
            alpha = obj.sprite.alpha[body[1]]
            image[body[0]] = image[body[0]] * (1 - alpha[..., None]) + obj.sprite.colour[body[1]]
            owner[body[0]][alpha > 0.5] = index


def draw_trees(scene: Scene, owner: np.ndarray) -> None:
    """Tree crowns with shadows, on grass and overhanging pavement: they partly hide some objects."""
    for _ in range(round(scene.width * scene.height / 6000 * scene.rng.uniform(0.5, 1.5))):
        x, y = int(scene.rng.integers(0, scene.width)), int(scene.rng.integers(0, scene.height))
        if scene.zones[y, x] != GRASS:
            continue
        r = max(3, round(scene.rng.uniform(7, 13) * scene.scale(y)))
        dx, dy = (round(v * 2 * r) for v in scene.sun)
        scene.image[scene.disc_mask(x + dx, y + dy, r)] *= 0.55
        crown = scene.disc_mask(x, y, r)
        scene.fill(crown, tuple(int(v) for v in np.array([46, 88, 40]) * scene.rng.uniform(0.8, 1.2)), texture=14)
        scene.image[scene.disc_mask(x - r // 3, y - r // 3, r // 2)] *= 1.12  # sunlit side of the crown
        owner[crown] = -2


def visibility(obj: Placed, owner: np.ndarray, index: int) -> tuple[int, int]:
    """VisDrone's truncation (0 none, 1 partly outside the frame) and occlusion (0 none, 1 up to half, 2 more
    hidden) levels of `obj`, the `index`th object drawn into `owner`."""
    height, width = owner.shape
    shape = obj.sprite.alpha > 0.5
    total = max(int(shape.sum()), 1)
    visible = int((owner == index).sum())
    inside = shape[max(0, -obj.y) : height - obj.y, max(0, -obj.x) : width - obj.x].sum()
    hidden = 1 - visible / max(int(inside), 1)
    return int(inside < total), 0 if hidden < 0.01 else 1 if hidden <= 0.5 else 2


def _annotations(scene: Scene, owner: np.ndarray) -> list[VisDroneBox]:
    """VisDrone lines: the full object box (may run past the border), with truncation and occlusion levels."""
    boxes = [VisDroneBox(float(x), float(y), float(w), float(h), 0, IGNORED_REGION, 0, 0) for x, y, w, h in scene.ignored]
    for index, obj in enumerate(scene.objects):
        x, y, w, h = obj.box
        truncation, occlusion = visibility(obj, owner, index)
        boxes.append(VisDroneBox(float(x), float(y), float(w), float(h), 1, obj.look.category, truncation, occlusion))
    return boxes


def draw_ground(scene: Scene) -> list[tuple[int, int, int, int]]:
    """Everything under the objects: ground, roads, lots and plazas, roofs, ignored regions; returns the lots."""
    _ground(scene)
    _roads(scene)
    lots = _lots_and_plazas(scene)
    _buildings(scene)
    _ignored_regions(scene)
    return lots


def finish(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Distance haze toward the top, a slight blur and sensor noise; uint8 BGR."""
    height = image.shape[0]
    haze = (1 - np.arange(height, dtype=np.float32) / height)[:, None, None] * rng.uniform(0.08, 0.2)
    image = image * (1 - haze) + np.array([205, 195, 185], np.float32) * haze
    image = cv2.GaussianBlur(image, (3, 3), 0.6) + rng.normal(0, 2.5, image.shape).astype(np.float32)
    return np.clip(np.round(image), 0, 255).astype(np.uint8)


def draw_scene(width: int, height: int, rng: np.random.Generator) -> tuple[np.ndarray, list[VisDroneBox]]:
    """One synthetic image (uint8 BGR) and its VisDrone annotation."""
    scene = Scene(width, height, rng)
    lots = draw_ground(scene)
    _objects(scene, lots)
    owner = np.full((height, width), -1, np.int32)
    composite(scene.image, scene.objects, scene.sun, owner)
    draw_trees(scene, owner)
    return finish(scene.image, rng), _annotations(scene, owner)


def image_stem(seed: int, index: int) -> str:
    return f"synth_s{seed}_{index:06d}"


def generate_visdrone(out: Path, images: int, size: tuple[int, int], seed: int = 0, first_index: int = 0) -> list[Path]:
    """Write `out/images/*.jpg` and `out/annotations/*.txt` (a VisDrone-DET folder) for images
    `first_index .. first_index + images - 1` of the stream drawn from `seed`; returns the image paths."""
    width, height = size
    if images < 1 or width < 64 or height < 64:
        raise DataError(f"images {images}, size {width}x{height}: expected at least 1 image of at least 64x64 px")
    out, written = Path(out), []
    for index in tqdm(range(first_index, first_index + images), desc="synth", unit="image"):
        image, boxes = draw_scene(width, height, np.random.default_rng([seed, index]))
        ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        if not ok:
            raise RuntimeError("OpenCV could not encode a JPEG")
        stem = image_stem(seed, index)
        write_bytes_atomic(out / "images" / f"{stem}.jpg", encoded.tobytes())
        write_text_atomic(out / "annotations" / f"{stem}.txt", "".join(f"{box.line()}\n" for box in boxes))
        written.append(out / "images" / f"{stem}.jpg")
    return written


def make_yolo_dataset(root: Path, n_train: int = 64, n_val: int = 16, size: int | tuple[int, int] = 256, seed: int = 0, mask_ignored: bool = True) -> Path:
    """Generate VisDrone-native train/val splits under `root/visdrone`, convert them with the VisDrone converter
    into `root/images|labels/<split>`, and write `root/data.yaml` (absolute path); returns the data.yaml path."""
    root = Path(root).resolve()
    size = (size, size) if isinstance(size, int) else tuple(size)
    splits = {"train": range(0, n_train), "val": range(n_train, n_train + n_val)}  # one image stream, cut in two
    for split, indices in splits.items():
        stems = [image_stem(seed, i) for i in indices]
        for folder, suffix in ((f"visdrone/{split}/images", ".jpg"), (f"visdrone/{split}/annotations", ".txt"), (f"images/{split}", ".jpg"), (f"labels/{split}", ".txt")):
            refuse_leftovers(root / folder, {stem + suffix for stem in stems}, "root", "an empty folder or one made with the same arguments")
    for split, indices in splits.items():
        generate_visdrone(root / "visdrone" / split, len(indices), size, seed, first_index=indices.start)
        convert_visdrone(root / "visdrone" / split, root, split, mask_ignored=mask_ignored)
    names = "".join(f"  {cls}: {name}\n" for cls, name in enumerate(VISDRONE_NAMES))
    data_yaml = root / "data.yaml"
    write_text_atomic(data_yaml, f"# synthetic VisDrone-like data (lrsdetr.data.synth, seed {seed})\npath: {root}\ntrain: images/train\nval: images/val\nnames:\n{names}")
    return data_yaml


SYNTH_DOC = """Draw a synthetic VisDrone-like data set, offline: still images (VisDrone-DET layout: images/ and
annotations/), or with --video True drone video (VisDrone-MOT layout: sequences/<name>/0000001.jpg ... and
annotations/<name>.txt, objects that move and keep their IDs).

Examples:
  lrsdetr synth --out datasets/synthetic --images 50 --width 640 --height 512 --seed 0
  lrsdetr synth --video True --out datasets/synthetic-mot --sequences 3 --frames 60 --width 640 --height 384
The same seed gives the same bytes. The quick start draws (and converts) a still set by itself.
"""

SYNTH_DEFAULTS = {"out": "datasets/synthetic", "images": 50, "width": 640, "height": 512, "seed": 0, "video": False,
                  "sequences": 2, "frames": 60}


def synth(params: dict) -> None:
    size = (params["width"], params["height"])
    if params["video"]:
        from .synth_video import generate_mot  # the video draws its scenes with this module's pieces

        folders = generate_mot(Path(params["out"]), params["sequences"], params["frames"], size, params["seed"])
        print(f"wrote {len(folders)} sequences of {params['frames']} frames to {params['out']}")
        return
    written = generate_visdrone(Path(params["out"]), params["images"], size, params["seed"])
    print(f"wrote {len(written)} images to {params['out']}")


COMMAND = Command("synth", "draw a synthetic VisDrone-like data set (still images, or video with --video)", SYNTH_DOC, SYNTH_DEFAULTS,
                  lambda params: CommandPaths(params).writes("--out", params["out"]), synth)


def main(argv: list[str] | None = None) -> int:
    """`python -m lrsdetr.data.synth ... --size W H`: the older spelling of `lrsdetr synth ... --width W --height H`."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--size" in argv and len(argv) > argv.index("--size") + 2:
        at = argv.index("--size")
        argv[at:at + 3] = ["--width", argv[at + 1], "--height", argv[at + 2]]
    return COMMAND(argv)


if __name__ == "__main__":
    raise SystemExit(main())
