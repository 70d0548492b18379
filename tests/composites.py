"""Deterministic studio composites with exact alpha, for matte quality tests and the bench.

Each composite is a product-like object (a photographic texture from the
scikit-image samples cut by a known mask, or a rendered car) placed on a
generated studio background (wall-to-floor gradient, vignette, sensor noise,
a soft floor shadow under the object). The truth alpha is known exactly, so
`remove_background` can be scored by IoU.

    for c in composites(30):
        c.data   # JPEG bytes of the composite (what a user would upload)
        c.alpha  # HxW uint8 truth alpha
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass

import cv2
import numpy as np
import samples
from PIL import Image

TEXTURES = ("astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png",
            "hubble_deep_field.jpg")
SHAPES = ("car", "ellipse", "bottle", "shoe", "box", "mug", "rendered_car")
SS = 4  # supersampling factor for anti-aliased mask edges


@dataclass
class Composite:
    index: int
    name: str
    data: bytes  # JPEG q92 bytes of the RGB composite
    rgb: np.ndarray  # HxWx3 uint8 (decoded data)
    alpha: np.ndarray  # HxW uint8 truth


@functools.cache
def _texture(name: str) -> np.ndarray:
    return np.asarray(samples.image(name).convert("RGB"))


def _poly(mask: np.ndarray, pts, scale: int = SS) -> None:
    cv2.fillPoly(mask, [np.round(np.asarray(pts) * scale).astype(np.int32)], 255, cv2.LINE_8)


def _ellipse(mask, cx, cy, ax, ay, angle=0.0, value=255, scale=SS):
    cv2.ellipse(mask, (round(cx * scale), round(cy * scale)), (max(1, round(ax * scale)), max(1, round(ay * scale))),
                angle, 0, 360, value, -1, cv2.LINE_8)


def _car_mask(w: int, h: int, rng: np.random.Generator) -> np.ndarray:
    """A side-view car silhouette (body, cabin, wheels) filling a w x h box, supersampled."""
    m = np.zeros((h * SS, w * SS), np.uint8)
    wheel_r = h * rng.uniform(0.2, 0.24)
    body_top = h * rng.uniform(0.4, 0.5)
    body_bot = h - wheel_r * 0.9
    roof = h * rng.uniform(0.02, 0.08)
    c0, c1 = w * rng.uniform(0.22, 0.32), w * rng.uniform(0.62, 0.75)
    body = [(0.02 * w, body_bot), (0.0, body_top + 0.15 * h), (0.05 * w, body_top), (c0 - 0.05 * w, body_top - 0.02 * h),
            (c0 + 0.06 * w, roof), (c1 - 0.04 * w, roof), (c1 + 0.1 * w, body_top - 0.01 * h),
            (0.95 * w, body_top + 0.03 * h), (w, body_top + 0.18 * h), (0.98 * w, body_bot)]
    _poly(m, body)
    wheels = (rng.uniform(0.17, 0.22), rng.uniform(0.78, 0.83))
    for fx in wheels:
        _ellipse(m, fx * w, h - wheel_r, wheel_r, wheel_r)
    _WHEELS[(w, h)] = (wheels, wheel_r)  # the renderer puts tyres exactly where the mask has them
    return m


_WHEELS: dict = {}


def _shape_mask(shape: str, w: int, h: int, rng: np.random.Generator) -> np.ndarray:
    m = np.zeros((h * SS, w * SS), np.uint8)
    if shape in ("car", "rendered_car"):
        return _car_mask(w, h, rng)
    if shape == "ellipse":
        _ellipse(m, w / 2, h / 2, w / 2 - 1, h / 2 - 1)
    elif shape == "bottle":
        neck = w * 0.18
        _poly(m, [(0, h * 0.35), (w * 0.5 - neck, h * 0.18), (w * 0.5 - neck, 0), (w * 0.5 + neck, 0),
                  (w * 0.5 + neck, h * 0.18), (w, h * 0.35), (w, h), (0, h)])
    elif shape == "shoe":
        _ellipse(m, w * 0.55, h * 0.72, w * 0.45, h * 0.28)
        _ellipse(m, w * 0.25, h * 0.45, w * 0.22, h * 0.45)
        _poly(m, [(w * 0.1, h * 0.7), (w * 0.95, h * 0.75), (w * 0.95, h), (w * 0.12, h)])
    elif shape == "box":
        r = min(w, h) * 0.08
        cv2.rectangle(m, (round(r * SS), 0), (round((w - r) * SS), h * SS), 255, -1)
        cv2.rectangle(m, (0, round(r * SS)), (w * SS, round((h - r) * SS)), 255, -1)
        for cx, cy in ((r, r), (w - r, r), (r, h - r), (w - r, h - r)):
            _ellipse(m, cx, cy, r, r)
    elif shape == "mug":  # a body plus a ring handle: the handle's hole is background
        _poly(m, [(0, 0), (w * 0.72, 0), (w * 0.72, h), (0, h)])
        _ellipse(m, w * 0.72, h * 0.45, w * 0.27, h * 0.28)
        _ellipse(m, w * 0.72, h * 0.45, w * 0.15, h * 0.17, value=0)
        _poly(m, [(0, 0), (w * 0.72, 0), (w * 0.72, h), (0, h)])
    return m


def _render_car(mask: np.ndarray, w: int, h: int, rng: np.random.Generator) -> np.ndarray:
    """Shaded body colour, dark windows, black tyres with grey rims: a 3D-looking toy car."""
    hue = rng.choice([(200, 30, 30), (30, 60, 160), (235, 235, 240), (40, 40, 45), (200, 160, 20), (120, 125, 130)])
    y = np.linspace(0, 1, h)[:, None, None]
    shade = 1.15 - 0.55 * y + 0.25 * np.exp(-((y - 0.45) / 0.05) ** 2)  # top light, a specular crease
    img = np.clip(np.asarray(hue, np.float32)[None, None, :] * shade * np.ones((1, w, 1)), 0, 255)
    win = np.zeros((h, w), np.uint8)
    cv2.fillPoly(win, [np.int32([(w * 0.3, h * 0.4), (w * 0.37, h * 0.12), (w * 0.64, h * 0.12), (w * 0.72, h * 0.4)])], 255)
    img[win > 0] = (35, 45, 60)
    img[win > 0] += np.linspace(0, 40, w)[None, :, None].repeat(h, 0)[win > 0]
    m = cv2.resize(mask, (w, h), interpolation=cv2.INTER_AREA)
    wheels, wheel_r = _WHEELS.pop((w, h))
    for fx in wheels:
        cx, cy = int(round(fx * w)), int(round(h - wheel_r))
        wheel_r = int(round(wheel_r))
        cv2.circle(img, (cx, cy), wheel_r, (20, 20, 22), -1, cv2.LINE_AA)
        cv2.circle(img, (cx, cy), int(wheel_r * 0.55), (150, 155, 160), -1, cv2.LINE_AA)
        cv2.circle(img, (cx, cy), int(wheel_r * 0.15), (60, 60, 60), -1, cv2.LINE_AA)
    cv2.line(img, (int(w * 0.05), int(h * 0.55)), (int(w * 0.95), int(h * 0.57)), (0, 0, 0), max(1, h // 80))
    del m
    return np.clip(img, 0, 255)


def _background(w: int, h: int, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """Studio backdrop: wall-to-floor gradient with a soft horizon, vignette, noise. Returns (rgb float, horizon y)."""
    dark = rng.random() < 0.2
    if dark:
        base = rng.uniform(40, 90) * np.array([1.0, 1.0, rng.uniform(1.0, 1.15)])
    else:
        tint = rng.choice([(1, 1, 1), (1.0, 0.98, 0.93), (0.94, 0.97, 1.0), (1.0, 0.96, 0.96), (0.97, 1.0, 0.97)])
        base = rng.uniform(185, 245) * np.asarray(tint)
    horizon = rng.uniform(0.45, 0.7) * h
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    wall = 1.0 - rng.uniform(0.0, 0.15) * (1 - yy / h)  # slightly darker towards the top
    floor_gain = rng.uniform(0.85, 1.08)
    t = 1 / (1 + np.exp(-(yy - horizon) / rng.uniform(10, 60)))  # soft cyclorama bend
    g = wall * (1 - t) + floor_gain * t
    r2 = ((xx - w / 2) / (w / 2)) ** 2 + ((yy - h / 2) / (h / 2)) ** 2
    g = g * (1 - rng.uniform(0.0, 0.22) * r2 / 2)  # vignette
    bg = base[None, None, :] * g[..., None]
    bg += rng.normal(0, rng.uniform(1.0, 4.0), bg.shape)
    return bg, horizon


def make(index: int, width: int | None = None, height: int | None = None) -> Composite:
    rng = np.random.default_rng(1000 + index)
    w = width or int(rng.choice([800, 900, 720]))
    h = height or int(w * rng.choice([0.66, 0.75]))
    shape = SHAPES[index % len(SHAPES)]
    bg, horizon = _background(w, h, rng)

    # object box
    if shape in ("car", "rendered_car"):
        ow = int(w * rng.uniform(0.55, 0.8))
        oh = int(ow * rng.uniform(0.33, 0.42))
    else:
        oh = int(h * rng.uniform(0.4, 0.7))
        ow = int(oh * {"ellipse": rng.uniform(0.6, 1.3), "bottle": 0.4, "shoe": 1.6, "box": rng.uniform(0.7, 1.3),
                       "mug": 1.2}[shape])
        ow = min(ow, int(w * 0.8))
    ox = int(rng.uniform(0.1, 0.9) * (w - ow))
    bottom = min(h - 4, int(max(horizon + 0.3 * (h - horizon), h * rng.uniform(0.75, 0.95))))
    if index % 9 == 4:
        bottom = h + int(oh * 0.05)  # subject touches / runs off the bottom edge
    oy = bottom - oh

    mask_ss = _shape_mask(shape, ow, oh, rng)
    a_obj = cv2.resize(mask_ss, (ow, oh), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    if shape == "rendered_car":
        obj = _render_car(mask_ss, ow, oh, rng)
    else:
        tex = _texture(TEXTURES[(index // len(SHAPES) + index) % len(TEXTURES)])
        th, tw = tex.shape[:2]
        s = max(ow / tw, oh / th) * rng.uniform(1.0, 1.6)
        big = cv2.resize(tex, (max(ow, round(tw * s)), max(oh, round(th * s))), interpolation=cv2.INTER_AREA)
        x0 = int(rng.integers(0, big.shape[1] - ow + 1))
        y0 = int(rng.integers(0, big.shape[0] - oh + 1))
        obj = big[y0:y0 + oh, x0:x0 + ow].astype(np.float32)
        obj = obj * np.linspace(1.05, 0.85, oh)[:, None, None]  # studio key light from above

    # floor shadow: a soft dark ellipse under the object (multiplied into the floor)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    sc_x, sc_y = ox + ow / 2, bottom - 2
    sx, sy = ow * rng.uniform(0.5, 0.62), max(6.0, oh * rng.uniform(0.06, 0.14))
    d = ((xx - sc_x) / sx) ** 2 + ((yy - sc_y) / sy) ** 2
    shadow = np.exp(-d * 1.6) * rng.uniform(0.35, 0.65)
    bg = bg * (1 - shadow[..., None])

    canvas = bg.copy()
    alpha = np.zeros((h, w), np.float32)
    y1, y2 = max(0, oy), min(h, oy + oh)
    x1, x2 = ox, ox + ow
    sub_a = a_obj[y1 - oy:y2 - oy]
    sub_o = obj[y1 - oy:y2 - oy]
    alpha[y1:y2, x1:x2] = sub_a
    canvas[y1:y2, x1:x2] = sub_o * sub_a[..., None] + canvas[y1:y2, x1:x2] * (1 - sub_a[..., None])
    rgb = np.clip(canvas + 0.5, 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=92)
    data = buf.getvalue()
    decoded = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    a8 = np.clip(alpha * 255 + 0.5, 0, 255).astype(np.uint8)
    return Composite(index, f"{index:02d}-{shape}", data, decoded, a8)


def composites(n: int = 32, start: int = 0) -> list[Composite]:
    return [make(i) for i in range(start, start + n)]


def iou(pred_alpha: np.ndarray, true_alpha: np.ndarray) -> float:
    p, t = pred_alpha > 127, true_alpha > 127
    union = np.logical_or(p, t).sum()
    return float(np.logical_and(p, t).sum() / union) if union else 1.0
