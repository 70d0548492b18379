"""Auto-crop: even margins to the pixel (also at the border), subject rules, empty images, bounds."""

from __future__ import annotations

import composites
import numpy as np
import pytest
import samples
from PIL import Image
from pixelpress.errors import EmptyImage
from pixelpress.ops.autocrop import autocrop

png = samples.png_of
rgba_of = samples.rgba_of


def margins(alpha: np.ndarray, thr: int = 10) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) distance from the subject to each canvas edge."""
    rows = np.flatnonzero((alpha > thr).any(1))
    cols = np.flatnonzero((alpha > thr).any(0))
    h, w = alpha.shape
    return int(cols[0]), int(rows[0]), int(w - 1 - cols[-1]), int(h - 1 - rows[-1])


def cut_photo(index: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """A real photographic cut-out (composite texture with its exact alpha) as RGBA."""
    c = composites.make(index)
    return np.dstack([c.rgb, c.alpha]), c.alpha


@pytest.mark.parametrize("padding", [0, 1, 50, 137])
def test_even_margins_inside_the_image(padding):
    rgba, _ = cut_photo(1)
    r = autocrop(png(rgba), {"padding": padding})
    out = rgba_of(r.data)
    assert margins(out[..., 3]) == (padding,) * 4
    x, y, w, h = r.meta["subject_box"]
    assert (r.meta["width"], r.meta["height"]) == (w + 2 * padding, h + 2 * padding)
    # the subject pixels are copied unchanged
    assert np.array_equal(out[padding:padding + h, padding:padding + w], rgba[y:y + h, x:x + w])


@pytest.mark.parametrize("where", ["left", "top", "right", "bottom", "top-left corner", "all"])
def test_even_margins_when_the_subject_touches_the_border(where):
    h, w = 300, 400
    rgba = np.zeros((h, w, 4), np.uint8)
    box = {"left": (0, 100, 150, 200), "top": (120, 0, 260, 90), "right": (300, 80, 400, 200),
           "bottom": (100, 220, 250, 300), "top-left corner": (0, 0, 90, 70), "all": (0, 0, 400, 300)}[where]
    x0, y0, x1, y1 = box
    rgba[y0:y1, x0:x1] = (200, 30, 30, 255)
    r = autocrop(png(rgba), {"padding": 50})
    out = rgba_of(r.data)
    assert margins(out[..., 3]) == (50, 50, 50, 50)
    assert out.shape[:2] == (y1 - y0 + 100, x1 - x0 + 100)
    assert any(r.meta["extended"].values())
    assert any("extended with transparency" in m for m in r.meta["warnings"])
    # the extension is transparent
    assert (out[:50, :, 3] == 0).all() and (out[-50:, :, 3] == 0).all()


def test_white_background_photo_rule():
    """No transparency: the subject is everything darker than 250 in some channel."""
    photo = np.asarray(samples.image("coffee.png").convert("RGB").resize((200, 150)))
    canvas = np.full((400, 600, 3), 255, np.uint8)
    canvas[100:250, 30:230] = photo
    r = autocrop(png(canvas), {"padding": 40})
    out = rgba_of(r.data)
    assert r.meta["subject_rule"] == "non-white"
    assert r.meta["subject_box"] == [30, 100, 200, 150]
    assert out.shape[:2] == (150 + 80, 200 + 80)
    # margins come from the white source where it exists, transparency nowhere here (30 < 40 on the left)
    assert (out[:, :10, 3] == 0).all()  # left 10 px were outside the source
    assert (out[:, 10:40, :3] == 255).all() and (out[:, 10:40, 3] == 255).all()


def test_nearly_white_noise_is_not_subject():
    canvas = np.full((100, 100, 3), 252, np.uint8)
    canvas[40:60, 45:55] = 10
    r = autocrop(png(canvas), {"padding": 5})
    assert r.meta["subject_box"] == [45, 40, 10, 20]


def test_opaque_rgba_uses_the_white_rule():
    canvas = np.full((100, 100, 4), 255, np.uint8)
    canvas[40:60, 45:55, :3] = 10
    r = autocrop(png(canvas), {"padding": 5})
    assert r.meta["subject_rule"] == "non-white" and r.meta["subject_box"] == [45, 40, 10, 20]


@pytest.mark.parametrize("im,what", [
    (Image.new("RGBA", (64, 48), (255, 0, 0, 0)), "fully transparent"),
    (Image.new("RGB", (64, 48), (255, 255, 255)), "entirely white"),
    (Image.new("RGBA", (64, 48), (0, 0, 0, 10)), "fully transparent"),  # alpha <= threshold
])
def test_empty_images(im, what):
    with pytest.raises(EmptyImage) as e:
        autocrop(samples.encode(im, "PNG"), {})
    assert what in e.value.message and e.value.code == "empty_image"


def test_one_pixel():
    r = autocrop(samples.encode(Image.new("RGB", (1, 1), (0, 0, 0)), "PNG"), {})
    out = rgba_of(r.data)
    assert out.shape == (101, 101, 4)
    assert out[50, 50, 3] == 255 and out[..., 3].sum() == 255


def test_meta_contract():
    rgba, _ = cut_photo(2)
    r = autocrop(png(rgba), None)
    assert r.mime == "image/png" and r.meta["padding"] == 50


@pytest.mark.slow
def test_12_megapixel():
    photo = np.asarray(samples.large_photo())
    rgba = np.zeros((3000, 4000, 4), np.uint8)
    rgba[..., :3] = photo
    rgba[0:2000, 10:3990, 3] = 255  # touches the top edge
    r = autocrop(png(rgba), {"padding": 60})
    out = rgba_of(r.data)
    assert margins(out[..., 3]) == (60,) * 4
    assert out.shape[:2] == (2000 + 120, 3980 + 120)
