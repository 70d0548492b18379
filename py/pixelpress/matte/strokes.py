"""Touch-up strokes: the `hints` option of the ops that cut out, and where they lie on a picture.

A stroke is `{"keep": true|false, "points": [[x, y], ...], "radius": r}` in
the source photo's pixels (x right, y down; pixel (i, j) covers
[i, i+1) x [j, j+1)). It covers every pixel whose centre lies within `radius`
of the polyline through its points: keep strokes mark subject, remove strokes
backdrop, and a later stroke wins where two overlap (the user painted over).
`matte.touchup` solves the cut-out again with them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import InvalidOption
from ..options import items

MAX_STROKES = 64
MAX_POINTS = 500
RADIUS = (0.5, 1000.0)
COORD = 100_000.0  # a point may lie off the picture (a stroke dragged past its side), not absurdly far
MAX_COVER = 20  # the strokes' ink, in pictures' worth

STROKE_ITEM = {"kind": "object", "fields": [
    {"name": "keep", "kind": "bool", "doc": "true: these pixels are subject; false: backdrop."},
    {"name": "points", "kind": "list", "item": {"kind": "point"}, "min_items": 1, "max_items": MAX_POINTS,
     "doc": "The stroke's path, [x, y] in the source photo's pixels."},
    {"name": "radius", "kind": "float", "min": RADIUS[0], "max": RADIUS[1],
     "doc": "The brush radius in the source photo's pixels."}]}

KEEP, REMOVE = 1, 2  # labels of `paint`


@dataclass(frozen=True)
class Stroke:
    keep: bool
    points: tuple[tuple[float, float], ...]
    radius: float


def hints_option():
    # Painted in the studio, not typed into a form.
    return items(STROKE_ITEM, MAX_STROKES, "Touch-up strokes: keep (subject) and remove (backdrop) brushes over "
                 "the photo, in its pixels; the cut-out is solved again with them.", form=False)


def parse_hints(raw, field: str = "hints") -> tuple[Stroke, ...]:
    """The option's value checked item by item (InvalidOption names e.g. `hints[2].points[5]`)."""
    if raw is None:
        return ()
    if isinstance(raw, (str, bytes)) or not isinstance(raw, Sequence):
        raise InvalidOption(f"{field} must be a list of {{keep, points, radius}} strokes", field=field)
    if len(raw) > MAX_STROKES:
        raise InvalidOption(f"{field}: at most {MAX_STROKES} strokes, got {len(raw)}", field=field)
    return tuple(_stroke(s, f"{field}[{i}]") for i, s in enumerate(raw))


def _stroke(raw, where: str) -> Stroke:
    if isinstance(raw, Stroke):
        return raw
    if not isinstance(raw, Mapping):
        raise InvalidOption(f"{where} must be an object with keep, points and radius, got {raw!r:.60}", field=where)
    unknown = sorted(set(raw) - {"keep", "points", "radius"})
    if unknown:
        raise InvalidOption(f"{where} has an unknown key {unknown[0]!r}", field=f"{where}.{unknown[0]}")
    keep = raw.get("keep")
    if not isinstance(keep, bool):
        raise InvalidOption(f"{where}.keep must be true or false, got {keep!r:.30}", field=f"{where}.keep")
    radius = raw.get("radius")
    lo, hi = RADIUS
    if isinstance(radius, bool) or not isinstance(radius, (int, float)) or not math.isfinite(radius) \
            or not lo <= radius <= hi:
        raise InvalidOption(f"{where}.radius must be a number from {lo} to {hi}, got {radius!r:.30}",
                            field=f"{where}.radius")
    points = raw.get("points")
    if isinstance(points, (str, bytes)) or not isinstance(points, Sequence) or not points:
        raise InvalidOption(f"{where}.points must be a list of [x, y] points", field=f"{where}.points")
    if len(points) > MAX_POINTS:
        raise InvalidOption(f"{where}.points: at most {MAX_POINTS} points, got {len(points)}", field=f"{where}.points")
    return Stroke(keep, tuple(_point(p, f"{where}.points[{j}]") for j, p in enumerate(points)), float(radius))


def _point(raw, where: str) -> tuple[float, float]:
    ok = (not isinstance(raw, (str, bytes)) and isinstance(raw, Sequence) and len(raw) == 2
          and all(not isinstance(v, bool) and isinstance(v, (int, float)) and math.isfinite(v) and abs(v) <= COORD
                  for v in raw))
    if not ok:
        raise InvalidOption(f"{where} must be [x, y], two numbers within ±{COORD:g}, got {raw!r:.40}", field=where)
    return float(raw[0]), float(raw[1])


def check_cover(strokes: Sequence[Stroke], size: tuple[int, int]) -> None:
    """InvalidOption when the strokes' ink exceeds MAX_COVER pictures of `size` (w, h), the source photo's.

    Drawing costs what it covers: 64 strokes of 500 points zigzagging over a
    12 MP photo with a 1000 px brush would take minutes, at each of the sizes
    they are drawn at, so they are refused before any is drawn.
    """
    w, h = size
    ink = sum((float(np.hypot(*np.diff(np.array(s.points), axis=0).T).sum()) + 2 * s.radius) * 2 * s.radius
              for s in strokes)
    if ink > MAX_COVER * max(w * h, 250_000):
        raise InvalidOption(f"hints: the strokes cover the photo more than {MAX_COVER} times over; "
                            "use fewer or thinner strokes", field="hints")


SHIFT = 4  # OpenCV draws at 1/16 px


def paint(strokes: Sequence[Stroke], size: tuple[int, int], scale: tuple[float, float] = (1.0, 1.0)) -> np.ndarray:
    """The strokes as a uint8 label picture of `size` (w, h): 0 untouched, KEEP, REMOVE; later strokes on top.

    `scale` maps source pixels to this picture's (a reduced copy's), and a
    brush never shrinks below one of its pixels, so a stroke always marks something.
    """
    import cv2

    w, h = size
    labels = np.zeros((h, w), np.uint8)
    sx, sy = scale
    one = 1 << SHIFT
    for s in strokes:
        # Pixel centres sit at i + 0.5: a point at (x, y) is at (x - 0.5, y - 0.5) in OpenCV's drawing grid.
        xy = np.array(s.points) * (sx, sy) - 0.5
        r = max(0.5, s.radius * (sx * sy) ** 0.5)
        pts = np.clip(np.round(xy * one), -(2 ** 26), 2 ** 26).astype(np.int32)
        value = KEEP if s.keep else REMOVE
        if len(pts) > 1:  # thickness is a whole diameter; OpenCV's thick lines have round caps and joins
            cv2.polylines(labels, [pts.reshape(-1, 1, 2)], False, value, thickness=max(1, round(2 * r)),
                          lineType=cv2.LINE_8, shift=SHIFT)
        else:
            cv2.circle(labels, (int(pts[0, 0]), int(pts[0, 1])), round(r * one), value, thickness=-1,
                       lineType=cv2.LINE_8, shift=SHIFT)
    return labels
