"""Shadows: shaped like the subject's alpha (not a rectangle), nothing clipped, floor style, bounds."""

from __future__ import annotations

import composites
import cv2
import numpy as np
import pytest
import samples
from PIL import Image
from pixelpress.errors import EmptyImage
from pixelpress.imaging import blur_large
from pixelpress.ops.drop_shadow import drop_shadow

png = samples.png_of
rgba_of = samples.rgba_of


def ring(size: int = 300, outer: int = 120, inner: int = 70) -> np.ndarray:
    """An opaque photographic ring (annulus) on transparency: a rectangle shadow would fill its hole."""
    tex = np.asarray(samples.image("chelsea.png").convert("RGB").resize((size, size)))
    a = np.zeros((size, size), np.uint8)
    cv2.circle(a, (size // 2, size // 2), outer, 255, -1)
    cv2.circle(a, (size // 2, size // 2), inner, 0, -1)
    return np.dstack([tex, a])


def test_drop_shadow_follows_the_alpha_shape():
    src = ring()  # centre (150, 150), outer radius 120, hole radius 70
    r = drop_shadow(png(src), {"offset_x": 30, "offset_y": 30, "blur_radius": 2, "opacity": 80})
    out = rgba_of(r.data)
    ox, oy = r.meta["subject_origin"]
    # On the shifted ring (centre 180, 180; 95 px out at 45 degrees) and outside the subject: shadow.
    px, py = 180 + 67, 180 + 67
    assert np.hypot(px - 150, py - 150) > 120 and 70 < np.hypot(px - 180, py - 180) < 120
    assert out[oy + py, ox + px, 3] > 150
    assert tuple(out[oy + py, ox + px, :3]) == (0, 0, 0)
    # Inside the hole of both the ring and its shifted copy: no shadow (a rectangle would be there).
    hx, hy = 165, 165
    assert np.hypot(hx - 150, hy - 150) < 70 and np.hypot(hx - 180, hy - 180) < 70
    assert out[oy + hy, ox + hx, 3] < 5
    # The same holds for the whole hole intersection, not just one pixel.
    yy, xx = np.mgrid[0:300, 0:300]
    both_holes = (np.hypot(xx - 150, yy - 150) < 60) & (np.hypot(xx - 180, yy - 180) < 60)
    assert out[oy:oy + 300, ox:ox + 300, 3][both_holes].max() < 5


def test_subject_is_kept_and_shadow_is_not_clipped():
    src = ring()
    for ox_, oy_ in ((10, 10), (-40, 25), (0, -60)):
        r = drop_shadow(png(src), {"offset_x": ox_, "offset_y": oy_, "blur_radius": 15})
        out = rgba_of(r.data)
        x, y = r.meta["subject_origin"]
        # the subject is pasted unchanged where it is opaque
        opaque = src[..., 3] == 255
        assert np.array_equal(out[y:y + 300, x:x + 300][opaque], src[opaque])
        # nothing clipped: the outermost rows and columns carry (almost) no shadow
        for edge in (out[0], out[-1], out[:, 0], out[:, -1]):
            assert edge[:, 3].max() <= 2
        # the canvas grew to hold the blur and the offset
        assert out.shape[0] > 300 + abs(oy_) and out.shape[1] > 300 + abs(ox_)


def test_default_shadow_on_real_cut_out_looks_right():
    c = composites.make(6)
    rgba = np.dstack([c.rgb, c.alpha])
    r = drop_shadow(png(rgba), None)
    out = rgba_of(r.data)
    assert r.meta["style"] == "drop" and r.mime == "image/png"
    x, y = r.meta["subject_origin"]
    shadow_only = out[..., 3].copy()
    shadow_only[y:y + rgba.shape[0], x:x + rgba.shape[1]][c.alpha > 0] = 0
    # 50 % opacity by default: the shadow never exceeds half coverage
    assert 100 <= shadow_only.max() <= 128


def test_floor_shadow_sits_under_the_subject():
    c = composites.make(6)  # a rendered car
    rgba = np.dstack([c.rgb, c.alpha])
    rows = np.flatnonzero((c.alpha > 10).any(1))
    cols = np.flatnonzero((c.alpha > 10).any(0))
    r = drop_shadow(png(rgba), {"style": "floor", "opacity": 60})
    out = rgba_of(r.data)
    x, y = r.meta["subject_origin"]
    shadow = out[..., 3].astype(int)
    placed = np.zeros_like(shadow)
    placed[y:y + rgba.shape[0], x:x + rgba.shape[1]] = c.alpha
    shadow[placed > 0] = 0
    ys, xs = np.nonzero(shadow > 20)
    bottom, top = y + rows[-1], y + rows[0]
    height = rows[-1] - rows[0]
    # all visible shadow lies near the ground line, none up at the roof
    assert ys.min() > top + 0.5 * height and ys.max() < bottom + 0.25 * height
    # it spans roughly the subject's width and is darkest right below it
    width = cols[-1] - cols[0]
    assert 0.8 * width < xs.max() - xs.min() < 1.4 * width
    below = shadow[bottom + 1: bottom + 6, x + cols[0]: x + cols[-1]]
    assert below.max() > 80
    assert r.meta["ground_y"] == bottom + 1


def test_colour_and_opacity():
    r = drop_shadow(png(ring()), {"colour": "#336699", "opacity": 100, "blur_radius": 0, "offset_x": 200})
    out = rgba_of(r.data)
    x, y = r.meta["subject_origin"]
    px = out[y + 150, x + 150 + 200 + 95]  # on the shifted ring, clear of the subject
    assert tuple(px) == (0x33, 0x66, 0x99, 255)


def test_no_transparency_warns_and_fully_transparent_is_empty():
    photo = np.asarray(samples.image("coffee.png").convert("RGB"))
    r = drop_shadow(samples.encode(Image.fromarray(photo), "JPEG"), {})
    assert any("no transparency" in w for w in r.meta["warnings"])
    with pytest.raises(EmptyImage):
        drop_shadow(samples.encode(Image.new("RGBA", (30, 30)), "PNG"), {})
    with pytest.raises(EmptyImage):
        drop_shadow(samples.encode(Image.new("RGBA", (30, 30)), "PNG"), {"style": "floor"})


def test_one_pixel():
    one = samples.encode(Image.new("RGBA", (1, 1), (255, 0, 0, 255)), "PNG")
    for style in ("drop", "floor"):
        out = rgba_of(drop_shadow(one, {"style": style}).data)
        assert out.shape[0] > 1 and out.shape[1] > 1 and (out[..., 3] == 255).sum() == 1


@pytest.mark.parametrize("sigma", [4, 15, 40])
def test_downscaled_blur_matches_a_full_blur(sigma):
    a = np.zeros((400, 600), np.float32)
    cv2.circle(a, (300, 200), 100, 1.0, -1)
    ref = cv2.GaussianBlur(a, (0, 0), sigma, borderType=cv2.BORDER_CONSTANT)
    assert np.abs(blur_large(a, sigma) - ref).max() < 0.03


@pytest.mark.slow
def test_12_megapixel():
    photo = np.asarray(samples.large_photo())
    a = np.zeros((3000, 4000), np.uint8)
    cv2.ellipse(a, (2500, 2000), (1500, 1000), 0, 0, 360, 255, -1)  # touches the right and bottom edges
    r = drop_shadow(png(np.dstack([photo, a])), {"blur_radius": 40, "offset_x": 30, "offset_y": 30})
    assert r.meta["width"] > 4000 and r.meta["height"] > 3000


def test_contact_shadow_is_darkest_where_a_wheel_touches_and_fades_smoothly():
    # A wheel touches the ground at one point and rises like d^2 / 2R beside it, so the ground
    # under it darkens most at that point and lightens gradually: no flat dark block with a cliff.
    r = 100
    wheel = np.zeros((2 * r + 11, 2 * r + 20, 4), np.uint8)
    cv2.circle(wheel, (r + 10, r + 10), r, (20, 20, 20, 255), -1, lineType=cv2.LINE_AA)
    res = drop_shadow(png(wheel), {"style": "floor"})
    out, (ox, _oy), ground = rgba_of(res.data), res.meta["subject_origin"], res.meta["ground_y"]
    beside = out[ground + 2, ox + r + 10: ox + 2 * r + 10, 3].astype(int)  # from the contact point outwards
    assert beside.argmax() <= 3 and (np.diff(beside) <= 0).all()
    assert beside[r // 5] <= 0.85 * beside.max(), "a fifth of the radius out, the shadow is already lighter"
    assert (beside[:-1] - beside[1:]).max() <= 0.03 * beside.max(), "no edge: it fades a little per pixel"
