"""Synthetic drone video: VisDrone-MOT sequences in which the synthetic objects move, drawn offline from a seed.

A slowly panning camera looks down on one large scene drawn as the still images are (lrsdetr.data.synth:
ground, roads, lots, roofs, trees, ignored regions). Vehicles drive along the road lanes (a slower one ahead
holds up the one behind), some stand parked, people walk on the pavement; every object keeps its look and its ID
for as long as it lives. Speeds and headings drift smoothly with noise; objects drive in through the borders,
drive out, walk in and out of view as the camera pans; they cross one another at road crossings and on the
pavement and pass under tree crowns and behind each other. The ground truth is VisDrone-MOT's: for each
`sequences/<name>/` of numbered JPEGs (0000001.jpg, ...), `annotations/<name>.txt` with lines
`frame,id,x,y,w,h,score,class,truncation,occlusion` (frames from 1; the full box, which may run past the border;
an object is annotated while at least half of it is in the frame), and the ignored regions in view as class 0
lines (id 0, score 0) in every frame. The same seed gives the same bytes.

    lrsdetr synth --video True --out DIR --sequences N --frames F --width W --height H --seed S
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from ..utils.errors import DataError
from .files import refuse_leftovers, write_bytes_atomic, write_text_atomic
from .synth import (BLOCKED, CATEGORY_WEIGHTS, LOOKS, PARKING, WALK, Placed, Scene, composite, draw_ground, draw_trees, finish,
                    road_centre, visibility)
from .synth_objects import ObjectLook
from .visdrone import JPEG_QUALITY

SEQUENCES_DIR, ANNOTATIONS_DIR = "sequences", "annotations"
FRAME_DIGITS = 7  # VisDrone-MOT's frame names: 0000001.jpg
PIXELS_PER_OBJECT = 4000  # objects in view: one per this many pixels of frame, on average (half the stills' density)
VEHICLE_SPEED = (0.8, 2.4)  # pixels per frame at scale 1
PERSON_SPEED = (0.2, 0.6)
PARKED_SHARE = 0.3  # cars and vans placed in a lot stay there
PAN_SPEED = (0.2, 0.7)  # camera, pixels per frame
MARGIN = 48  # scene pixels around the camera's path, where objects wait before they come into view
FOLLOW_GAP = 4  # pixels (at scale 1) a vehicle keeps behind the one ahead in its lane
MIN_IN_VIEW = 0.5  # share of an object's pixels in the frame for it to be annotated


@dataclass
class Mover:
    """An object of the scene: its look and sprite, its centre and velocity in scene pixels, its ID, and how it moves
    ('lane' along a road lane, 'walk' on pavement, 'parked')."""

    id: int
    look: ObjectLook
    placed: Placed
    cx: float
    cy: float
    vx: float
    vy: float
    how: str
    lane: tuple[int, float] = (-1, 0.0)  # (road index, lane offset at scale 1) of a 'lane' mover
    drift: float = 0.0  # lateral offset of a 'lane' mover, an AR(1) process

    def place(self) -> None:
        h, w = self.placed.sprite.alpha.shape
        self.placed = Placed(self.look, self.placed.sprite, round(self.cx - w / 2), round(self.cy - h / 2))


class Traffic:
    """The objects of one sequence: spawned, moved one frame at a time, removed once they leave the scene."""

    def __init__(self, scene: Scene, lots: list[tuple[int, int, int, int]], target: int) -> None:
        self.scene, self.lots, self.target, self.rng = scene, lots, target, scene.rng
        self.walk = np.flatnonzero(scene.zones == WALK)
        self.movers: list[Mover] = []
        self.next_id = 1

    def spawn(self, entering: bool) -> None:
        """One new object of a class drawn by CATEGORY_WEIGHTS; `entering`: a vehicle starts at the scene's edge."""
        category = int(self.rng.choice(np.arange(1, 12), p=CATEGORY_WEIGHTS / CATEGORY_WEIGHTS.sum()))
        look = LOOKS[category]
        if look.category in PARKING and self.lots and self.rng.random() < PARKED_SHARE:
            x, y, w, h = self.lots[int(self.rng.integers(len(self.lots)))]
            self._add(look, self.rng.uniform(x, x + w), self.rng.uniform(y, y + h), 0.0, 0.0, "parked", 1)
        elif look.habitat == "road" and self.scene.roads:
            self._drive(look, entering)
        elif len(self.walk):
            index = int(self.walk[self.rng.integers(len(self.walk))])
            speed, heading = self.rng.uniform(*PERSON_SPEED), self.rng.uniform(0, 2 * math.pi)
            turns = 0 if look.upright else int(self.rng.integers(4))
            self._add(look, index % self.scene.width, index // self.scene.width, speed * math.cos(heading), speed * math.sin(heading), "walk", turns)

    def _drive(self, look: ObjectLook, entering: bool) -> None:
        """A vehicle on a lane of a random road, driving on the right, at the scene's edge or anywhere along it."""
        scene, rng = self.scene, self.rng
        road = int(rng.integers(len(scene.roads)))
        vertical, position, half = scene.roads[road]
        forward = bool(rng.random() < 0.5)
        lane = (0.5 if forward else -0.5) * half * (-1 if vertical else 1)  # right-hand traffic
        speed = rng.uniform(*VEHICLE_SPEED) * (1 if forward else -1)
        length = scene.height if vertical else scene.width
        along = (0.0 if forward else float(length)) if entering else rng.uniform(0, length)
        if vertical:
            self._add(look, road_centre(scene, position, along) + lane * scene.scale(along), along, 0.0, speed, "lane", 3 if forward else 1, (road, lane))
        else:
            self._add(look, along, position + lane * scene.scale(position), speed, 0.0, "lane", 0 if forward else 2, (road, lane))

    def _add(self, look: ObjectLook, cx: float, cy: float, vx: float, vy: float, how: str, turns: int, lane: tuple[int, float] = (-1, 0.0)) -> None:
        sprite = look.sprite(self.scene.scale(cy), self.rng).rotated(turns)
        h, w = sprite.alpha.shape
        scale = self.scene.scale(cy)
        mover = Mover(self.next_id, look, Placed(look, sprite, round(cx - w / 2), round(cy - h / 2)), cx, cy, vx * scale, vy * scale, how, lane)
        x, y, bw, bh = mover.placed.box
        under = self.scene.zones[max(y, 0) : max(y + bh, 0), max(x, 0) : max(x + bw, 0)]
        if under.size and (under == BLOCKED).mean() > 0.2:
            return  # never on a roof or in an ignored region
        if any(_overlap(mover.placed.box, other.placed.box) > 0.3 for other in self.movers):
            return
        self.movers.append(mover)
        self.next_id += 1

    def step(self) -> None:
        """Move every object one frame, drop those that left the scene, and spawn new ones to keep the density."""
        self._follow()
        for mover in self.movers:
            if mover.how == "walk":
                self._walk(mover)
            elif mover.how == "lane":
                self._lane(mover)
            mover.place()
        width, height = self.scene.width, self.scene.height
        self.movers = [m for m in self.movers if -MARGIN < m.cx < width + MARGIN and -MARGIN < m.cy < height + MARGIN]
        while len(self.movers) < self.target and self.rng.random() < 0.5:
            self.spawn(entering=True)

    def _walk(self, mover: Mover) -> None:
        """Heading and speed drift; a walker that would leave the pavement turns back."""
        heading = math.atan2(mover.vy, mover.vx) + self.rng.normal(0, 0.15)
        speed = float(np.clip(math.hypot(mover.vx, mover.vy) * (1 + self.rng.normal(0, 0.05)), 0.05, 1.0))
        x, y = mover.cx + speed * math.cos(heading), mover.cy + speed * math.sin(heading)
        inside = 0 <= x < self.scene.width and 0 <= y < self.scene.height
        if inside and self.scene.zones[int(y), int(x)] != WALK:
            heading += math.pi
            x, y = mover.cx + speed * math.cos(heading), mover.cy + speed * math.sin(heading)
        mover.vx, mover.vy, mover.cx, mover.cy = speed * math.cos(heading), speed * math.sin(heading), x, y

    def _lane(self, mover: Mover) -> None:
        """Along the lane with a speed drift and a small lateral sway; vertical roads converge toward the top."""
        road, lane = mover.lane
        vertical, position, _ = self.scene.roads[road]
        mover.drift = 0.8 * mover.drift + self.rng.normal(0, 0.15)
        if vertical:
            mover.vy *= 1 + self.rng.normal(0, 0.01)
            mover.cy += mover.vy
            mover.cx = road_centre(self.scene, position, mover.cy) + lane * self.scene.scale(mover.cy) + mover.drift
        else:
            mover.vx *= 1 + self.rng.normal(0, 0.01)
            mover.cx += mover.vx
            mover.cy = position + lane * self.scene.scale(position) + mover.drift

    def _follow(self) -> None:
        """A vehicle closer than its length and a gap to the one ahead in its lane takes on that one's speed."""
        lanes: dict[tuple[int, float], list[Mover]] = {}
        for mover in self.movers:
            if mover.how == "lane":
                lanes.setdefault(mover.lane, []).append(mover)
        for movers in lanes.values():
            vertical = self.scene.roads[movers[0].lane[0]][0]
            along = (lambda m: m.cy) if vertical else (lambda m: m.cx)
            speed = (lambda m: m.vy) if vertical else (lambda m: m.vx)
            sign = 1 if speed(movers[0]) > 0 else -1
            ordered = sorted(movers, key=lambda m: -sign * along(m))  # the front vehicle first
            for ahead, behind in zip(ordered, ordered[1:]):
                length = max(behind.placed.sprite.alpha.shape) / 2 + max(ahead.placed.sprite.alpha.shape) / 2
                if abs(along(ahead) - along(behind)) < length + FOLLOW_GAP and abs(speed(behind)) > abs(speed(ahead)):
                    if vertical:
                        behind.vy = ahead.vy
                    else:
                        behind.vx = ahead.vx


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """Intersection of two (left, top, width, height) boxes as a share of the smaller one."""
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return max(w, 0) * max(h, 0) / max(min(a[2] * a[3], b[2] * b[3]), 1)


@dataclass(frozen=True)
class Camera:
    """The frame's top-left corner in scene pixels: a slow straight pan with a little smooth jitter."""

    x0: float
    y0: float
    vx: float
    vy: float

    def corner(self, frame: int) -> tuple[int, int]:
        jitter = 0.6 * math.sin(frame / 7.0)
        return round(self.x0 + self.vx * frame + jitter), round(self.y0 + self.vy * frame)


def sequence_name(seed: int, index: int) -> str:
    return f"synth_s{seed}_v{index:03d}"


def frame_name(frame: int) -> str:
    return f"{frame:0{FRAME_DIGITS}d}.jpg"


def _world(width: int, height: int, frames: int, rng: np.random.Generator) -> tuple[Scene, list, Camera]:
    """The scene under the camera's whole path (with a margin), its lots, and the camera."""
    speed, angle = rng.uniform(*PAN_SPEED), rng.uniform(0, 2 * math.pi)
    vx, vy = speed * math.cos(angle), 0.5 * speed * math.sin(angle)  # mostly sideways, as along a road
    pan_x, pan_y = math.ceil(abs(vx) * frames) + 2, math.ceil(abs(vy) * frames) + 2
    scene = Scene(width + pan_x + 2 * MARGIN, height + pan_y + 2 * MARGIN, rng)
    lots = draw_ground(scene)
    camera = Camera(MARGIN + (pan_x if vx < 0 else 0), MARGIN + (pan_y if vy < 0 else 0), vx, vy)
    return scene, lots, camera


def draw_sequence(width: int, height: int, frames: int, rng: np.random.Generator):
    """Yield (frame image uint8 BGR, its ground-truth lines without the frame number) for frames 1..`frames`."""
    scene, lots, camera = _world(width, height, frames, rng)
    trees = np.full((scene.height, scene.width), -1, np.int32)
    draw_trees(scene, trees)
    crowns, ground = trees == -2, scene.image.copy()
    traffic = Traffic(scene, lots, max(1, round(scene.width * scene.height / PIXELS_PER_OBJECT)))
    for _ in range(traffic.target * 3):  # the scene starts populated
        if len(traffic.movers) >= traffic.target:
            break
        traffic.spawn(entering=False)
    for frame in range(frames):
        if frame:
            traffic.step()
        x0, y0 = camera.corner(frame)
        window = (slice(y0, y0 + height), slice(x0, x0 + width))
        image, owner = ground[window].copy(), np.full((height, width), -1, np.int32)
        movers = sorted(traffic.movers, key=lambda m: m.placed.box[1] + m.placed.box[3])
        objects = [Placed(m.look, m.placed.sprite, m.placed.x - x0, m.placed.y - y0) for m in movers]
        composite(image, objects, scene.sun, owner)
        owner[crowns[window]] = -2
        image[crowns[window]] = ground[window][crowns[window]]  # tree crowns cover what passes under them
        lines = [f"0,{x},{y},{w},{h},0,0,0,0" for x, y, w, h in _regions_in_view(scene.ignored, x0, y0, width, height)]
        for index, (mover, obj) in enumerate(zip(movers, objects)):
            if _share_in_view(obj, width, height) < MIN_IN_VIEW:
                continue
            truncation, occlusion = visibility(obj, owner, index)
            x, y, w, h = obj.box
            lines.append(f"{mover.id},{x},{y},{w},{h},1,{mover.look.category},{truncation},{occlusion}")
        yield finish(image, rng), lines


def _share_in_view(obj: Placed, width: int, height: int) -> float:
    shape = obj.sprite.alpha > 0.5
    inside = shape[max(0, -obj.y) : height - obj.y, max(0, -obj.x) : width - obj.x].sum()
    return float(inside) / max(int(shape.sum()), 1)


def _regions_in_view(regions: list[tuple[int, int, int, int]], x0: int, y0: int, width: int, height: int):
    """The ignored regions in frame pixels, cut to the frame."""
    for x, y, w, h in regions:
        left, top = max(x - x0, 0), max(y - y0, 0)
        right, bottom = min(x - x0 + w, width), min(y - y0 + h, height)
        if right > left and bottom > top:
            yield left, top, right - left, bottom - top


def generate_mot(out: Path, sequences: int, frames: int, size: tuple[int, int], seed: int = 0) -> list[Path]:
    """Write `out/sequences/<name>/<frame>.jpg` and `out/annotations/<name>.txt` (a VisDrone-MOT folder) for
    `sequences` sequences of `frames` frames; returns the sequence folders."""
    width, height = size
    if sequences < 1 or frames < 1 or width < 64 or height < 64:
        raise DataError(f"sequences {sequences}, frames {frames}, size {width}x{height}: expected at least 1 sequence of at least 1 frame of at least 64x64 px")
    out, names = Path(out), [sequence_name(seed, index) for index in range(sequences)]
    refuse_leftovers(out / SEQUENCES_DIR, set(names), "--out", "an empty folder or one made with the same arguments")
    refuse_leftovers(out / ANNOTATIONS_DIR, {f"{name}.txt" for name in names}, "--out", "an empty folder or one made with the same arguments")
    for name in names:
        refuse_leftovers(out / SEQUENCES_DIR / name, {frame_name(f) for f in range(1, frames + 1)}, "--out", "an empty folder or one made with the same arguments")
    folders = []
    for index, name in enumerate(names):
        folder, lines = out / SEQUENCES_DIR / name, []
        drawn = draw_sequence(width, height, frames, np.random.default_rng([seed, index]))
        for frame, (image, frame_lines) in enumerate(tqdm(drawn, total=frames, desc=f"synth {name}", unit="frame"), 1):
            ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
            if not ok:
                raise RuntimeError("OpenCV could not encode a JPEG")
            write_bytes_atomic(folder / frame_name(frame), encoded.tobytes())
            lines += [f"{frame},{line}\n" for line in frame_lines]
        write_text_atomic(out / ANNOTATIONS_DIR / f"{name}.txt", "".join(lines))
        folders.append(folder)
    return folders
