"""How each synthetic object looks from a drone: one small sprite per VisDrone class (and 'others').

Each class keeps one consistent look (shape, aspect, a small colour palette) with contrast against asphalt,
pavement and grass, so that a tiny detector can learn it in minutes; real VisDrone classes differ in much the
same ways (a bus is long with window strips, an awning-tricycle has a striped canopy, a pedestrian is a thin
upright figure). Sprites are drawn at 4x and averaged down, which gives anti-aliased edges and, from the
alpha, a tight box.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

SUPERSAMPLE = 4
RGB = tuple[int, int, int]
GLASS: RGB = (30, 38, 48)
TYRE: RGB = (22, 22, 24)
HAIR: RGB = (35, 28, 22)


@dataclass
class Sprite:
    """Premultiplied colour (float32 BGR) and alpha (0..1) of one object, `height` x `width` pixels."""

    colour: np.ndarray
    alpha: np.ndarray

    def rotated(self, quarter_turns: int) -> Sprite:
        return Sprite(np.ascontiguousarray(np.rot90(self.colour, quarter_turns)), np.ascontiguousarray(np.rot90(self.alpha, quarter_turns)))


class Painter:
    """Draws on a supersampled canvas in sprite-relative coordinates: x and y run 0..1 across the sprite."""

    def __init__(self, width: int, height: int) -> None:
        self.size = (width, height)
        self.w, self.h = width * SUPERSAMPLE, height * SUPERSAMPLE
        self.colour = np.zeros((self.h, self.w, 3), np.float32)
        self.alpha = np.zeros((self.h, self.w), np.float32)

    def _point(self, x: float, y: float) -> tuple[int, int]:
        return round(x * self.w), round(y * self.h)

    def _both(self, draw: Callable[[np.ndarray, tuple], None], rgb: RGB) -> None:
        draw(self.colour, rgb[::-1])
        draw(self.alpha, 1.0)

    def rect(self, x1: float, y1: float, x2: float, y2: float, rgb: RGB) -> None:
        p1, p2 = self._point(x1, y1), self._point(x2, y2)
        self._both(lambda canvas, c: cv2.rectangle(canvas, p1, (p2[0] - 1, p2[1] - 1), c, -1), rgb)

    def rounded(self, x1: float, y1: float, x2: float, y2: float, rgb: RGB, radius: float) -> None:
        """A rectangle with corners rounded by `radius`, a fraction of its shorter side."""
        (a, b), (c, d) = self._point(x1, y1), self._point(x2, y2)
        r = max(1, round(radius * min(c - a, d - b)))

        def draw(canvas: np.ndarray, colour: tuple) -> None:
            cv2.rectangle(canvas, (a + r, b), (c - r - 1, d - 1), colour, -1)
            cv2.rectangle(canvas, (a, b + r), (c - 1, d - r - 1), colour, -1)
            for cx, cy in ((a + r, b + r), (c - r - 1, b + r), (a + r, d - r - 1), (c - r - 1, d - r - 1)):
                cv2.circle(canvas, (cx, cy), r, colour, -1)

        self._both(draw, rgb)

    def ellipse(self, cx: float, cy: float, rx: float, ry: float, rgb: RGB) -> None:
        centre, axes = self._point(cx, cy), (max(1, round(rx * self.w)), max(1, round(ry * self.h)))
        self._both(lambda canvas, c: cv2.ellipse(canvas, centre, axes, 0, 0, 360, c, -1), rgb)

    def line(self, points: list[tuple[float, float]], rgb: RGB, thickness: float) -> None:
        """A polyline `thickness` (a fraction of the sprite's shorter side) wide."""
        pts = np.array([self._point(x, y) for x, y in points], np.int32)
        t = max(1, round(thickness * min(self.w, self.h)))
        self._both(lambda canvas, c: cv2.polylines(canvas, [pts], False, c, t, cv2.LINE_8), rgb)

    def sprite(self) -> Sprite:
        colour = cv2.resize(self.colour, self.size, interpolation=cv2.INTER_AREA)
        alpha = cv2.resize(self.alpha, self.size, interpolation=cv2.INTER_AREA)
        return Sprite(colour, alpha)


def _shade(rgb: RGB, factor: float) -> RGB:
    return tuple(int(min(255, c * factor)) for c in rgb)


def _pick(rng: np.random.Generator, palette: list[RGB]) -> RGB:
    return palette[int(rng.integers(len(palette)))]


def _pedestrian(p: Painter, rng: np.random.Generator) -> None:
    """Standing or walking person: thin upright figure, red/magenta top, dark legs."""
    stride = rng.uniform(0.0, 0.15)
    p.line([(0.4, 0.6), (0.4 - stride, 1.0)], (45, 45, 70), 0.28)
    p.line([(0.6, 0.6), (0.6 + stride, 1.0)], (45, 45, 70), 0.28)
    p.rounded(0.12, 0.24, 0.88, 0.68, _pick(rng, [(215, 35, 55), (200, 40, 160), (235, 70, 90)]), 0.35)
    p.ellipse(0.5, 0.13, 0.3, 0.13, HAIR)


def _people(p: Painter, rng: np.random.Generator) -> None:
    """Person not walking (sitting, squatting, riding): a squat yellow/orange blob with a dark head."""
    p.ellipse(0.5, 0.62, 0.47, 0.36, _pick(rng, [(245, 200, 45), (240, 150, 35)]))
    p.ellipse(0.5 + rng.uniform(-0.12, 0.12), 0.24, 0.24, 0.22, HAIR)


def _bicycle(p: Painter, rng: np.random.Generator) -> None:
    """Two dark wheels joined by a cyan frame: thin and open."""
    for cx in (0.18, 0.82):
        p.ellipse(cx, 0.5, 0.17, 0.42, TYRE)
        p.ellipse(cx, 0.5, 0.08, 0.2, (150, 150, 150))
    p.line([(0.18, 0.5), (0.48, 0.32), (0.82, 0.5), (0.62, 0.55), (0.18, 0.5)], (40, 205, 215), 0.22)
    p.line([(0.78, 0.12), (0.78, 0.88)], (40, 205, 215), 0.15)


def _car(p: Painter, rng: np.random.Generator) -> None:
    """Rounded body (white, silver, red or dark blue), dark windscreen and rear window, lighter roof."""
    body = _pick(rng, [(238, 238, 236), (178, 184, 190), (205, 40, 38), (38, 62, 150)])
    p.rounded(0.0, 0.06, 1.0, 0.94, body, 0.45)
    p.rect(0.63, 0.16, 0.77, 0.84, GLASS)
    p.rect(0.12, 0.2, 0.22, 0.8, GLASS)
    p.rect(0.24, 0.18, 0.61, 0.82, _shade(body, 1.1))


def _van(p: Painter, rng: np.random.Generator) -> None:
    """Boxy cream or sky-blue body, one short windscreen at the very front, a pale roof panel."""
    body = _pick(rng, [(236, 224, 186), (118, 172, 214)])
    p.rounded(0.0, 0.03, 1.0, 0.97, body, 0.2)
    p.rect(0.8, 0.1, 0.9, 0.9, GLASS)
    p.rect(0.06, 0.2, 0.74, 0.8, _shade(body, 1.12))


def _truck(p: Painter, rng: np.random.Generator) -> None:
    """Coloured cab in front of a long ribbed cargo box."""
    cab = _pick(rng, [(40, 90, 195), (200, 55, 40), (55, 140, 70)])
    cargo = _pick(rng, [(222, 222, 216), (205, 140, 60), (150, 150, 146)])
    p.rect(0.0, 0.0, 0.74, 1.0, cargo)
    for x in np.arange(0.1, 0.74, 0.12):
        p.line([(x, 0.05), (x, 0.95)], _shade(cargo, 0.72), 0.08)
    p.rounded(0.77, 0.1, 1.0, 0.9, cab, 0.25)
    p.rect(0.9, 0.18, 0.96, 0.82, GLASS)


def _tricycle(p: Painter, rng: np.random.Generator) -> None:
    """Small enclosed green or blue cab with a narrow dark nose and front wheel."""
    p.ellipse(0.86, 0.5, 0.13, 0.2, TYRE)
    p.rounded(0.0, 0.08, 0.78, 0.92, _pick(rng, [(50, 150, 80), (48, 108, 192)]), 0.4)
    p.rect(0.56, 0.22, 0.7, 0.78, GLASS)


def _awning_tricycle(p: Painter, rng: np.random.Generator) -> None:
    """Open tricycle under a striped (red or blue on white) canopy."""
    stripe = _pick(rng, [(210, 40, 40), (40, 90, 205)])
    p.ellipse(0.88, 0.5, 0.11, 0.18, TYRE)
    p.ellipse(0.78, 0.5, 0.1, 0.22, HAIR)
    for i in range(6):
        p.rect(i * 0.12, 0.04, (i + 1) * 0.12, 0.96, stripe if i % 2 == 0 else (245, 245, 242))


def _bus(p: Painter, rng: np.random.Generator) -> None:
    """Long yellow, green or orange body with window strips along both sides and roof units."""
    body = _pick(rng, [(242, 202, 40), (60, 162, 92), (232, 112, 40)])
    p.rounded(0.0, 0.0, 1.0, 1.0, body, 0.2)
    p.rect(0.05, 0.07, 0.95, 0.22, GLASS)
    p.rect(0.05, 0.78, 0.95, 0.93, GLASS)
    for x in (0.3, 0.58):
        p.rect(x, 0.36, x + 0.14, 0.64, (200, 200, 196))


def _motor(p: Painter, rng: np.random.Generator) -> None:
    """Dark motorbike with the rider's bright helmet in the middle."""
    p.ellipse(0.5, 0.5, 0.48, 0.34, (36, 34, 40))
    p.line([(0.86, 0.08), (0.86, 0.92)], (120, 120, 124), 0.14)
    p.ellipse(0.45, 0.5, 0.17, 0.4, _pick(rng, [(250, 222, 40), (246, 246, 244)]))


def _others(p: Painter, rng: np.random.Generator) -> None:
    """'Others' (category 11): a slatted wooden cart, unlike any of the ten classes."""
    p.rect(0.0, 0.0, 1.0, 1.0, (118, 96, 70))
    for y in (0.25, 0.5, 0.75):
        p.line([(0.03, y), (0.97, y)], (80, 62, 44), 0.1)


@dataclass(frozen=True)
class ObjectLook:
    """A class's look: its sprite size in pixels (length x width, or width x height when upright) at scale 1."""

    category: int  # VisDrone category: 1..10 the classes, 11 others
    size: tuple[float, float]
    upright: bool  # people stand up in an oblique view; vehicles lie along their direction of travel
    habitat: str  # where it is placed: "road" or "walk"
    draw: Callable[[Painter, np.random.Generator], None]

    def sprite(self, scale: float, rng: np.random.Generator) -> Sprite:
        width, height = (max(3, round(s * scale * rng.uniform(0.9, 1.1))) for s in self.size)
        painter = Painter(width, height)
        self.draw(painter, rng)
        return painter.sprite()


LOOKS = {
    look.category: look
    for look in (
        ObjectLook(1, (8, 17), True, "walk", _pedestrian),
        ObjectLook(2, (13, 13), True, "walk", _people),
        ObjectLook(3, (20, 10), False, "walk", _bicycle),
        ObjectLook(4, (25, 12), False, "road", _car),
        ObjectLook(5, (30, 14), False, "road", _van),
        ObjectLook(6, (40, 16), False, "road", _truck),
        ObjectLook(7, (20, 13), False, "road", _tricycle),
        ObjectLook(8, (21, 14), False, "road", _awning_tricycle),
        ObjectLook(9, (55, 17), False, "road", _bus),
        ObjectLook(10, (16, 8), False, "road", _motor),
        ObjectLook(11, (20, 12), False, "walk", _others),
    )
}
