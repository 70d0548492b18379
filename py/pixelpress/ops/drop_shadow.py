"""Shadows that follow the subject's alpha shape.

Styles:

- `drop`: the subject's alpha, blurred (Gaussian, sigma = `blur_radius`),
  offset by (`offset_x`, `offset_y`), tinted `colour` at `opacity`, behind
  the subject. (The old service pasted a blurred rectangle: wrong for every
  subject that is not a rectangle.)
- `floor`: a contact shadow on the ground under the subject, which suits cars
  and products: the subject's silhouette squashed to `floor_height` percent of
  its height and anchored at its bottom, blurred, plus a contact shadow that
  darkens the ground where the subject comes close to it (tyres, feet).

The canvas grows so no part of the shadow is clipped. Large blurs run on a
downscaled alpha and are scaled back (`imaging.blur_large`): a blurred
shadow has no fine detail, and the browser's OpenCV is slow at large sigmas.
Output is an RGBA PNG.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import EmptyImage
from ..imaging import blur_alpha_u8, blur_large, over
from ..operation import OPENCV, Job, OpSpec, operation
from ..options import choice, colour, integer, parse_colour
from ..result import Result


@dataclass(frozen=True)
class DropShadowOptions:
    style: str = choice("drop", ("drop", "floor"), "drop: offset silhouette; floor: contact shadow on the ground.")
    blur_radius: int = integer(15, 0, 100, "Shadow softness: Gaussian blur radius (sigma) in pixels.")
    offset_x: int = integer(10, -500, 500, "Drop shadow horizontal offset in pixels (drop style only).")
    offset_y: int = integer(10, -500, 500, "Drop shadow vertical offset in pixels (drop style only).")
    opacity: int = integer(50, 0, 100, "Shadow opacity in percent.")
    colour: str = colour("#000000", "Shadow colour.")
    floor_height: int = integer(12, 1, 100, "Floor style: shadow height as a percentage of the subject's height.")


def _layer(alpha: np.ndarray, rgb: tuple[int, int, int]) -> np.ndarray:
    out = np.empty(alpha.shape + (4,), np.uint8)
    out[..., :3] = rgb
    out[..., 3] = alpha if alpha.dtype == np.uint8 else np.clip(alpha * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return out


def _compose(rgba: np.ndarray, shadow: np.ndarray, sx: int, sy: int, rgb) -> tuple[np.ndarray, tuple[int, int]]:
    """Canvas holding the shadow (alpha at sx, sy) and the subject at (0, 0), shifted to positive coords."""
    h, w = rgba.shape[:2]
    shh, shw = shadow.shape
    minx, miny = min(0, sx), min(0, sy)
    maxx, maxy = max(w, sx + shw), max(h, sy + shh)
    canvas = np.zeros((maxy - miny, maxx - minx, 4), np.uint8)
    canvas[sy - miny:sy - miny + shh, sx - minx:sx - minx + shw] = _layer(shadow, rgb)
    # The subject over nothing is the subject itself: copy it, and composite only where the shadow lies
    # under it (a floor shadow's band; compositing the whole 12 MP frame cost ~0.3 s in the browser).
    oy0, oy1 = max(0, sy), min(h, sy + shh)
    ox0, ox1 = max(0, sx), min(w, sx + shw)
    region = canvas[-miny:-miny + h, -minx:-minx + w]
    under = region[oy0:oy1, ox0:ox1].copy()
    region[...] = rgba
    if oy1 > oy0 and ox1 > ox0:
        region[oy0:oy1, ox0:ox1] = over(under, rgba[oy0:oy1, ox0:ox1], 0, 0)
    return canvas, (-minx, -miny)


def _trim(alpha: np.ndarray) -> tuple[np.ndarray, int, int]:
    """Crop a uint8 shadow alpha to where it is visible; returns (crop, x offset, y offset)."""
    visible = alpha > 0
    rows = np.flatnonzero(visible.any(1))
    if rows.size == 0:
        return alpha[:1, :1] * 0, 0, 0
    cols = np.flatnonzero(visible[rows[0]:rows[-1] + 1].any(0))
    return alpha[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1], int(cols[0]), int(rows[0])


def drop_shadow_array(rgba: np.ndarray, blur_radius: int = 15, offset_x: int = 10, offset_y: int = 10,
                      opacity: int = 50, rgb=(0, 0, 0)) -> tuple[np.ndarray, dict]:
    ext = math.ceil(3 * blur_radius) + 1
    blurred = blur_alpha_u8(np.ascontiguousarray(rgba[..., 3]), blur_radius, ext, opacity / 100.0)
    crop, cx, cy = _trim(blurred)
    canvas, origin = _compose(rgba, crop, offset_x - ext + cx, offset_y - ext + cy, rgb)
    return canvas, {"subject_origin": list(origin)}


def floor_shadow_array(rgba: np.ndarray, blur_radius: int = 15, opacity: int = 50, rgb=(0, 0, 0),
                       floor_height: int = 12) -> tuple[np.ndarray, dict]:
    import cv2

    a8 = cv2.extractChannel(rgba, 3)
    x0, y0, bw, bh = cv2.boundingRect(cv2.threshold(a8, 10, 255, cv2.THRESH_BINARY)[1])
    if not bw:
        raise EmptyImage("The image is fully transparent; there is no subject to cast a shadow.")
    x1, y1 = x0 + bw, y0 + bh
    a = a8[y0:y1, x0:x1].astype(np.float32) * (1.0 / 255.0)
    hk = max(2, round(bh * floor_height / 100))
    ext = math.ceil(3 * blur_radius) + 2
    # The silhouette squashed onto the ground, 60 % behind the base line and 40 % in front of it.
    blob = cv2.resize(a, (bw, hk), interpolation=cv2.INTER_AREA)
    top = y1 - round(hk * 0.6)
    field_h = (top + hk + ext) - (top - ext)
    field = np.zeros((field_h, bw + 2 * ext), np.float32)
    field[ext:ext + hk, ext:ext + bw] = blob
    soft = blur_large(field, max(blur_radius, 1)) * 0.75
    # Contact (ambient occlusion): the ground darkens where the subject comes close to it. Each
    # column's gap is how far its lowest solid pixel sits above the ground line; the shadow there
    # fades with the gap and spreads with it, so a tyre, whose gap grows like d^2 / 2R from the
    # point it stands on, leaves a soft lens that is darkest and thinnest at the contact point.
    g0 = max(1.0, bh * 0.0075)
    # Rows from the bottom to each column's lowest solid pixel, looked for only in the bottom rows where
    # exp(-gap / g0) can still show (beyond 20 g0 it is under 1e-8); farther columns have no contact shadow.
    near = a[max(0, bh - math.ceil(20 * g0)):] > 0.5
    gap = np.where(near.any(0), np.argmax(near[::-1], axis=0), np.inf).astype(np.float32)
    strength = np.exp(-gap / g0)
    spread = max(1.0, bh * 0.006) + 0.5 * np.where(np.isfinite(gap), gap, 0.0)
    base = ext + round(hk * 0.6)
    rows_y = np.arange(field_h, dtype=np.float32)[:, None]
    contact = np.zeros_like(field)
    contact[:, ext:ext + bw] = strength[None, :] * np.exp(-0.5 * ((rows_y - base) / spread[None, :]) ** 2)
    contact = blur_large(contact, max(1.0, blur_radius / 6))
    shadow = np.clip(soft + 0.9 * contact, 0, 1) * (opacity / 100.0)
    crop, cx, cy = _trim(np.clip(shadow * 255.0 + 0.5, 0, 255).astype(np.uint8))
    canvas, origin = _compose(rgba, crop, x0 - ext + cx, top - ext + cy, rgb)
    return canvas, {"subject_origin": list(origin), "ground_y": y1 + origin[1]}


def shadow_array(rgba: np.ndarray, opts: DropShadowOptions) -> tuple[np.ndarray, dict]:
    rgb = parse_colour(opts.colour, "colour")
    if not (rgba[..., 3] > 10).any():
        raise EmptyImage("The image is fully transparent; there is no subject to cast a shadow.")
    if opts.style == "floor":
        return floor_shadow_array(rgba, opts.blur_radius, opts.opacity, rgb, opts.floor_height)
    return drop_shadow_array(rgba, opts.blur_radius, opts.offset_x, opts.offset_y, opts.opacity, rgb)


# 13.3 bytes per pixel drop, 18.0 floor
SPEC = OpSpec("drop_shadow", DropShadowOptions, OPENCV, label="Drop shadow", work_bytes_per_pixel=18)


@operation(SPEC)
async def drop_shadow(job: Job) -> Result:
    _src, rgba, had_alpha = await job.open_rgba()
    if not had_alpha:
        job.warnings.append("The image has no transparency, so its shadow is a rectangle; "
                            "remove the background first for a shadow shaped like the subject.")
    with job.span("shadow"):
        out_arr, info = shadow_array(rgba, job.opts)
    out = await job.encode(out_arr, "png")
    return job.finish(out, "png", out_arr.shape[1::-1], mode="RGBA", style=job.opts.style, **info)
