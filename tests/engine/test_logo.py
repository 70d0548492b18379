"""Logo clean-up on logos drawn by tests/logos.py (flat and JPEG-noisy backgrounds)."""

from __future__ import annotations

import io

import logos
import numpy as np
import pytest
from PIL import Image
from pixelpress.errors import EmptyImage, InvalidOption, UnsupportedFormat
from pixelpress.ops.logo_cleanup import logo_cleanup
from pixelpress.options import parse_colour

TOL = 20  # RGB distance


def _open(r):
    im = Image.open(io.BytesIO(r.data))
    im.load()
    return im


def _dist(a, b):
    return float(np.sqrt(sum((int(a[i]) - int(b[i])) ** 2 for i in range(3))))


def _assert_colours_found(found_hex, drawn, top=4):
    found = [parse_colour(h) for h in found_hex[:top]]
    for c in drawn:
        best = min(_dist(c, f) for f in found)
        assert best <= TOL, f"colour {c} not among {found_hex} (nearest {best:.1f})"


@pytest.fixture(scope="module")
def shield_white():
    return logo_cleanup(logos.png(logos.shield()))


def test_meta_contract(shield_white):
    m = shield_white.meta
    for key in ("width", "height", "format", "bytes", "timings_ms", "warnings", "colors"):
        assert key in m
    assert shield_white.mime == "image/png" and m["bytes"] == len(shield_white.data)
    im = _open(shield_white)
    assert im.mode == "RGBA" and im.size == (m["width"], m["height"])


def test_white_background_removed_trimmed_and_colours(shield_white):
    im = _open(shield_white)
    a = np.asarray(im)
    assert im.width < 480 and im.height < 480  # trimmed
    assert a[-1, 0, 3] == 0 and a[-1, -1, 3] == 0  # the lower corners of a shield are empty
    assert a[a.shape[0] // 2, a.shape[1] // 2, 3] == 255
    # trimmed tightly: every border row/column has something visible
    vis = a[..., 3] >= 8
    assert vis[0].any() and vis[-1].any() and vis[:, 0].any() and vis[:, -1].any()
    _assert_colours_found(shield_white.meta["colors"], logos.COLOURS["shield"])
    assert shield_white.meta["colors"][0] == "#0b3d91"  # navy covers most of the shield
    assert shield_white.meta["background_removed"] == "#ffffff"


def test_white_text_inside_the_shield_stays(shield_white):
    im = _open(shield_white)
    a = np.asarray(im).astype(int)
    x0, y0, _x1, _y1 = shield_white.meta["crop_box"]
    # the white "UNITED" sits around (240, 245) in the 480 px drawing
    region = a[245 - y0 - 12:245 - y0 + 12, 200 - x0:280 - x0]
    white = (region[..., :3].min(axis=2) > 230) & (region[..., 3] == 255)
    assert white.sum() > 30


def test_global_connectivity_removes_enclosed_background_too():
    r = logo_cleanup(logos.png(logos.shield()), {"connectivity": "global"})
    a = np.asarray(_open(r)).astype(int)
    x0, y0, _x1, _y1 = r.meta["crop_box"]
    region = a[245 - y0 - 12:245 - y0 + 12, 200 - x0:280 - x0]
    assert ((region[..., :3].min(axis=2) > 230) & (region[..., 3] == 255)).sum() == 0


def test_edges_are_antialiased_and_decontaminated(shield_white):
    a = np.asarray(_open(shield_white)).astype(int)
    edge = (a[..., 3] > 25) & (a[..., 3] < 230)
    assert edge.sum() > 100  # soft edges, not a hard cut-out
    gold = np.array(logos.GOLD)
    # the outer rim is gold: its semi-transparent pixels must be gold, not gold mixed with white
    cols = a[edge][:, :3]
    d_gold = np.sqrt(((cols - gold) ** 2).sum(axis=1))
    assert np.median(d_gold) < 25


@pytest.mark.parametrize("name,bg", [("shield", logos.OFF_WHITE), ("circle", logos.OFF_WHITE)])
def test_noisy_jpeg_background(name, bg):
    draw = getattr(logos, name)
    r = logo_cleanup(logos.noisy_jpeg(draw(background=bg)))
    _assert_colours_found(r.meta["colors"], logos.COLOURS[name])
    assert _dist(parse_colour(r.meta["background_removed"]), bg) < 6
    a = np.asarray(_open(r))
    assert a[-1, 0, 3] == 0 and a[-1, -1, 3] == 0
    # no noise specks left in the removed background: the cut-out is one solid piece plus its edge
    assert a.shape[0] < 400 and a.shape[1] < 400


def test_specks_are_removed():
    im = logos.shield()
    from PIL import ImageDraw
    d = ImageDraw.Draw(im)
    for x, y in ((20, 20), (450, 30), (30, 460), (460, 455)):
        d.rectangle([x, y, x + 1, y + 1], fill=(0, 0, 0))
    r = logo_cleanup(logos.png(im))
    clean = logo_cleanup(logos.png(logos.shield()))
    assert (r.meta["width"], r.meta["height"]) == (clean.meta["width"], clean.meta["height"])
    kept = logo_cleanup(logos.png(im), {"speck_area": 0})
    assert kept.meta["width"] > clean.meta["width"]


def test_palette_reduction():
    r = logo_cleanup(logos.noisy_jpeg(logos.circle()), {"palette": 3})
    a = np.asarray(_open(r))
    vis = a[..., 3] > 0
    assert len(np.unique(a[vis][:, :3], axis=0)) <= 3
    _assert_colours_found(r.meta["colors"], logos.COLOURS["circle"])


def test_transparent_input_is_kept_and_trimmed():
    base = Image.new("RGBA", (300, 200), (0, 0, 0, 0))
    sh = logos.shield(120).convert("RGBA")
    mask = Image.new("L", sh.size, 0)
    from PIL import ImageDraw
    ImageDraw.Draw(mask).ellipse([10, 10, 110, 110], fill=255)
    sh.putalpha(mask)
    base.paste(sh, (50, 40))
    r = logo_cleanup(logos.png(base))
    a = np.asarray(_open(r))
    src = np.asarray(base)[40 + 10:40 + 111, 50 + 10:50 + 111]
    assert r.meta["source_had_alpha"] is True
    assert a.shape[:2] == src.shape[:2]
    assert np.array_equal(a, src)
    assert any("transparency" in w for w in r.meta["warnings"])


def test_keep_background_gives_opaque_trimmed_copy():
    r = logo_cleanup(logos.png(logos.shield()), {"background": "keep"})
    assert (r.meta["width"], r.meta["height"]) == (480, 480)
    assert np.asarray(_open(r))[..., 3].min() == 255


def test_padding():
    r = logo_cleanup(logos.png(logos.shield()), {"padding": 10})
    a = np.asarray(_open(r))
    assert a[:10, :, 3].max() == 0 and a[:, -10:, 3].max() == 0


def test_a_one_colour_palette_is_refused():
    # Inside the bounds 0-16, but k-means into one colour would erase the logo; the rest: test_op_contract.
    with pytest.raises(InvalidOption) as e:
        logo_cleanup(logos.png(logos.shield(64)), {"palette": 1})
    assert e.value.field == "palette"


def test_not_an_image():
    with pytest.raises(UnsupportedFormat):
        logo_cleanup(b"%PDF-1.4 not a logo")


def test_blank_image_is_empty():
    with pytest.raises(EmptyImage):
        logo_cleanup(logos.png(Image.new("RGB", (100, 100), (255, 255, 255))))
