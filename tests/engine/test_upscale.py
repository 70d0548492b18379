"""Upscale: crisp edges on line art (measured), no halos, the pixel cap, photos."""

from __future__ import annotations

import io

import logos
import numpy as np
import pytest
import samples
from PIL import Image, ImageDraw
from pixelpress.decode import Limits
from pixelpress.errors import TooLarge
from pixelpress.ops.upscale import is_flat_art, upscale, upscale_image


def _open(r):
    im = Image.open(io.BytesIO(r.data))
    im.load()
    return im


def rise_distance(profile) -> float:
    """10-90 % rise distance (px, sub-pixel) of one falling edge in a 1-D profile."""
    p = np.asarray(profile, float)
    q = (p.max() - p) / (p.max() - p.min())

    def cross(level):
        i = int(np.argmax(q >= level))
        return i - 1 + (level - q[i - 1]) / (q[i] - q[i - 1]) if i else 0.0

    return cross(0.9) - cross(0.1)


def edge_width(im: Image.Image, f: int) -> float:
    a = np.asarray(im.convert("L"), float)
    x = int(0.2 * 200 * f)  # the left edge of the black rectangle
    return float(np.mean([rise_distance(a[row * f, x - 4 * f:x + 4 * f]) for row in range(60, 140, 10)]))


@pytest.mark.parametrize("factor", [2, 3, 4])
def test_line_art_edges_stay_sharp(factor):
    src = logos.line_art(200)
    r = upscale(logos.png(src), {"factor": factor})
    out = _open(r)
    assert out.size == (200 * factor, 200 * factor)
    assert r.meta["detected"] == "art" and r.meta["format"] == "png"
    ours = edge_width(out, factor)
    bicubic = edge_width(src.resize(out.size, Image.Resampling.BICUBIC), factor)
    assert ours <= 0.6 * factor + 1.0, (ours, bicubic)
    assert ours < 0.6 * bicubic, (ours, bicubic)


def _grey_art():
    """Mid-grey shapes on a light grey ground: any overshoot (halo) is measurable."""
    s = 4 * 160
    im = Image.new("RGB", (s, s), (200, 200, 200))
    d = ImageDraw.Draw(im)
    d.rectangle([90, 90, 330, 500], fill=(60, 60, 60))
    d.ellipse([360, 120, 600, 360], fill=(60, 60, 60))
    d.line([(40, 600), (600, 560)], fill=(60, 60, 60), width=10)
    return im.resize((160, 160), Image.Resampling.BOX)


@pytest.mark.parametrize("factor", [2, 4])
def test_no_halos(factor):
    src = _grey_art()
    out = np.asarray(_open(upscale(logos.png(src), {"factor": factor})).convert("L")).astype(int)
    assert out.min() >= 59 and out.max() <= 201  # nothing outside the two flat colours
    # the plain bicubic baseline does overshoot, so the check above means something
    bic = np.asarray(src.resize((160 * factor,) * 2, Image.Resampling.BICUBIC).convert("L")).astype(int)
    assert bic.min() < 55 or bic.max() > 205


def test_photo_path_and_detection():
    data = samples.photo_bytes("chelsea.png")
    r = upscale(data, {"factor": 2})
    out = _open(r)
    assert r.meta["detected"] == "photo" and r.meta["format"] == "jpeg" and r.mime == "image/jpeg"
    assert out.size == (451 * 2, 300 * 2)
    assert not is_flat_art(samples.image("chelsea.png"))
    assert is_flat_art(logos.shield())


def test_photo_sharpening_is_clamped():
    src = samples.image("astronaut.png").convert("RGB").resize((128, 128), Image.Resampling.LANCZOS)
    out = np.asarray(upscale_image(src, 2, art=False, sharpen=2.0)).astype(int)
    a = np.asarray(src).astype(int)
    assert out.min() >= a.min() and out.max() <= a.max()


def test_transparent_logo_has_no_dark_fringe():
    im = Image.new("RGBA", (80, 80), (0, 0, 0, 0))
    ImageDraw.Draw(im).ellipse([10, 10, 70, 70], fill=(255, 199, 44, 255))
    out = np.asarray(upscale_image(im, 3, art=True)).astype(int)
    edge = (out[..., 3] > 40) & (out[..., 3] < 215)
    assert edge.sum() > 50
    assert np.abs(out[edge][:, :3] - [255, 199, 44]).max() <= 12


def test_pixel_cap():
    small_cap = Limits(max_pixels=1_000_000)
    data = logos.png(Image.new("RGB", (600, 600), (10, 20, 30)))
    with pytest.raises(TooLarge) as e:
        upscale(data, {"factor": 2}, limits=small_cap)  # 1200x1200 > 1 MP
    assert e.value.field == "factor"
    assert _open(upscale(data, {"factor": 2})).size == (1200, 1200)


def test_default_cap_is_50_megapixels():
    data = logos.png(Image.new("RGB", (4000, 4000), (10, 20, 30)))  # 64 MP after 2x
    with pytest.raises(TooLarge, match="50 MP"):
        upscale(data, {"factor": 2})


def test_no_new_hues_at_colour_junctions():
    """Every upscaled pixel is a mix of two of the logo's flat colours (no invented colours)."""
    src = logos.shield(160)
    out = np.asarray(upscale_image(src, 4, art=True)).reshape(-1, 3).astype(np.float32)
    flat = np.array([(255, 255, 255), logos.NAVY, logos.GOLD, logos.RED], np.float32)
    best = np.full(len(out), np.inf, np.float32)
    for i in range(len(flat)):
        for j in range(i + 1, len(flat)):
            a, b = flat[i], flat[j]
            ab = b - a
            t = np.clip(((out - a) @ ab) / (ab @ ab), 0, 1)
            d = np.sqrt((((a + t[:, None] * ab) - out) ** 2).sum(axis=1))
            best = np.minimum(best, d)
    assert np.percentile(best, 99.9) < 12 and best.max() < 60
