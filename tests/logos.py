"""Team logos drawn for the tests and the bench (no third-party artwork).

Each drawing is rendered 4x larger and reduced with a box filter, so edges
are anti-aliased like a real exported logo. `COLOURS` lists the flat colours
each drawing uses, for checking the colours the clean-up finds.
"""

from __future__ import annotations

import io
import math

import numpy as np
from PIL import Image, ImageDraw, ImageFont

NAVY = (11, 61, 145)
GOLD = (255, 199, 44)
RED = (200, 16, 46)
GREEN = (27, 127, 59)
ORANGE = (244, 122, 32)
OFF_WHITE = (244, 241, 234)

COLOURS = {
    "shield": (NAVY, GOLD, RED),
    "circle": (GREEN, ORANGE),
}

_SS = 4


def _star(cx, cy, r_out, r_in, n=5, rot=-math.pi / 2):
    pts = []
    for i in range(2 * n):
        r = r_out if i % 2 == 0 else r_in
        a = rot + i * math.pi / n
        pts.append((cx + r * math.cos(a), cy + r * math.sin(a)))
    return pts


def shield(size: int = 480, background=(255, 255, 255)) -> Image.Image:
    """A navy shield with a gold rim, a red star and a gold chevron, on `background`."""
    s = size * _SS
    im = Image.new("RGB", (s, s), background)
    d = ImageDraw.Draw(im)

    def shield_poly(inset):
        x0, x1 = s * 0.18 + inset, s * 0.82 - inset
        top, mid, tip = s * 0.12 + inset, s * 0.55, s * 0.90 - inset * 1.4
        pts = [(x0, top), (x1, top), (x1, mid)]
        for k in range(1, 24):  # curved lower sides to the tip
            t = k / 24
            pts.append((x1 - (x1 - s / 2) * (1 - math.cos(t * math.pi / 2)), mid + (tip - mid) * math.sin(t * math.pi / 2)))
        pts.append((s / 2, tip))
        for k in range(23, 0, -1):
            t = k / 24
            pts.append((x0 + (s / 2 - x0) * (1 - math.cos(t * math.pi / 2)), mid + (tip - mid) * math.sin(t * math.pi / 2)))
        pts.append((x0, mid))
        return pts

    d.polygon(shield_poly(0), fill=GOLD)
    d.polygon(shield_poly(s * 0.035), fill=NAVY)
    d.polygon(_star(s / 2, s * 0.36, s * 0.14, s * 0.055), fill=RED)
    cw = s * 0.05
    d.line([(s * 0.30, s * 0.70), (s / 2, s * 0.60), (s * 0.70, s * 0.70)], fill=GOLD, width=int(cw), joint="curve")
    f = ImageFont.load_default(size=int(s * 0.075))
    d.text((s / 2, s * 0.51), "UNITED", fill=(255, 255, 255), font=f, anchor="mm")
    return im.resize((size, size), Image.Resampling.BOX)


def circle(size: int = 480, background=OFF_WHITE) -> Image.Image:
    """A green ring badge with an orange disc and an orange stripe, on an off-white background."""
    s = size * _SS
    im = Image.new("RGB", (s, s), background)
    d = ImageDraw.Draw(im)
    m = s * 0.14
    d.ellipse([m, m, s - m, s - m], fill=GREEN)
    m2 = s * 0.24
    d.ellipse([m2, m2, s - m2, s - m2], fill=background)
    m3 = s * 0.31
    d.ellipse([m3, m3, s - m3, s - m3], fill=ORANGE)
    d.rectangle([s * 0.3, s * 0.47, s * 0.7, s * 0.53], fill=GREEN)
    return im.resize((size, size), Image.Resampling.BOX)


def noisy_jpeg(im: Image.Image, *, sigma: float = 3.0, quality: int = 80, seed: int = 1) -> bytes:
    """Add sensor-like noise and save as JPEG (a 'near-uniform' background)."""
    a = np.asarray(im.convert("RGB"), dtype=np.float32)
    rng = np.random.default_rng(seed)
    a = a + rng.normal(0, sigma, a.shape)
    out = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))
    buf = io.BytesIO()
    out.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def png(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def line_art(size: int = 200) -> Image.Image:
    """Black shapes on white with anti-aliased edges (for the upscale tests)."""
    s = size * _SS
    im = Image.new("RGB", (s, s), (255, 255, 255))
    d = ImageDraw.Draw(im)
    d.rectangle([s * 0.2 + 2, s * 0.2, s * 0.5 + 1, s * 0.8], fill=(0, 0, 0))  # edges off the pixel grid
    d.ellipse([s * 0.55, s * 0.3, s * 0.9, s * 0.65], fill=(20, 60, 200))
    d.line([(s * 0.1, s * 0.9), (s * 0.9, s * 0.85)], fill=(0, 0, 0), width=_SS * 3)
    return im.resize((size, size), Image.Resampling.BOX)
