"""Listing variants: exact sizes, aspect kept to the pixel, centring, no blurry upscale, no fringes, bounds."""

from __future__ import annotations

import numpy as np
import pytest
import samples
from PIL import Image
from pixelpress.errors import InvalidOption
from pixelpress.ops.listing_variants import listing_variants

png = samples.png_of
rgba_of = samples.rgba_of


def outputs(r) -> dict[str, np.ndarray]:
    out = {"detail": rgba_of(r.data)}
    out.update({x.name: rgba_of(x.data) for x in r.extras})
    return out


def content_box(a: np.ndarray) -> tuple[int, int, int, int]:
    rows = np.flatnonzero((a[..., 3] > 0).any(1))
    cols = np.flatnonzero((a[..., 3] > 0).any(0))
    return int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1)


def photo(w: int, h: int) -> np.ndarray:
    return np.asarray(samples.image("astronaut.png").convert("RGB").resize((w, h), Image.Resampling.LANCZOS))


def test_panorama_fits_with_transparent_bands():
    r = listing_variants(samples.encode(Image.fromarray(photo(3000, 1000)), "JPEG", quality=92), {})
    outs = outputs(r)
    assert r.mime == "image/png" and r.meta["name"] == "detail" and [x.name for x in r.extras] == ["grid"]
    assert outs["grid"].shape == (400, 600, 4) and outs["detail"].shape == (800, 1200, 4)
    assert content_box(outs["grid"]) == (0, 100, 600, 200)
    assert content_box(outs["detail"]) == (0, 200, 1200, 400)
    assert (outs["grid"][:100, :, 3] == 0).all() and (outs["grid"][300:, :, 3] == 0).all()
    assert r.meta["variants"]["grid"]["content"] == [0, 100, 600, 200]
    assert r.extras[0].meta["width"] == 600 and r.extras[0].meta["height"] == 400


@pytest.mark.parametrize("w,h", [(1000, 3000), (1234, 777), (4000, 3000), (801, 800), (1200, 801)])
def test_aspect_kept_within_one_pixel_and_centred(w, h):
    r = listing_variants(png(photo(w, h)), {})
    for a in outputs(r).values():
        bh, bw = a.shape[:2]
        x, y, cw, ch = content_box(a)
        assert cw == bw or ch == bh  # fits the box on one axis
        assert abs(cw - ch * w / h) <= 1 and abs(ch - cw * h / w) <= 1
        assert abs(x - (bw - cw - x)) <= 1 and abs(y - (bh - ch - y)) <= 1  # centred


def test_small_source_is_not_upscaled_and_says_so():
    src = photo(300, 200)
    r = listing_variants(png(src), {})
    outs = outputs(r)
    assert content_box(outs["grid"]) == (150, 100, 300, 200)
    assert content_box(outs["detail"]) == (450, 300, 300, 200)
    assert np.array_equal(outs["grid"][100:300, 150:450, :3], src)  # pixel-exact, no resampling
    assert sum("smaller than" in w for w in r.meta["warnings"]) == 2
    assert r.meta["variants"]["grid"]["upscaled"] is False


def test_upscale_option_fills_the_box():
    r = listing_variants(png(photo(300, 200)), {"upscale": True})
    outs = outputs(r)
    assert content_box(outs["grid"]) == (0, 0, 600, 400)
    assert content_box(outs["detail"]) == (0, 0, 1200, 800)
    assert r.meta["variants"]["detail"]["upscaled"] is True


def test_high_quality_downscale_matches_lanczos():
    src = photo(2400, 1600)
    a = outputs(listing_variants(png(src), {}))["grid"][..., :3].astype(int)
    ref = np.asarray(Image.fromarray(src).resize((600, 400), Image.Resampling.LANCZOS)).astype(int)
    assert np.abs(a - ref).mean() < 3.0


def test_no_dark_fringe_on_transparent_edges():
    rgba = np.zeros((1000, 1500, 4), np.uint8)
    rgba[..., :3] = (250, 40, 30)
    yy, xx = np.mgrid[0:1000, 0:1500]
    rgba[..., 3] = np.clip((400 - np.hypot(xx - 750, yy - 500)) * 0.8, 0, 255).astype(np.uint8)  # soft disc
    rgba[rgba[..., 3] == 0, :3] = 0  # black under transparency, the classic fringe trap
    g = outputs(listing_variants(png(rgba), {}))["grid"]
    edge = (g[..., 3] > 10) & (g[..., 3] < 200)
    assert edge.sum() > 100
    assert g[edge][:, 0].min() >= 240  # red stays red on the soft edge, not darkened


def test_grid_larger_than_detail_is_refused():
    with pytest.raises(InvalidOption) as e:
        listing_variants(png(photo(64, 48)), {"grid_width": 2000, "grid_height": 2000})
    assert e.value.field == "grid_width"


def test_custom_sizes_and_one_pixel():
    r = listing_variants(png(photo(640, 480)), {"grid_width": 320, "grid_height": 320,
                                                 "detail_width": 1000, "detail_height": 1000})
    outs = outputs(r)
    assert outs["grid"].shape[:2] == (320, 320) and content_box(outs["grid"]) == (0, 40, 320, 240)
    one = listing_variants(samples.encode(Image.new("RGB", (1, 1), (9, 9, 9)), "PNG"), {})
    assert content_box(outputs(one)["grid"]) == (299, 199, 1, 1)  # (600 - 1) // 2


@pytest.mark.slow
def test_12_megapixel():
    r = listing_variants(samples.encode(samples.large_photo(), "JPEG", quality=90), {})
    outs = outputs(r)
    assert content_box(outs["grid"]) == (33, 0, 533, 400)  # 4000x3000 * 400/3000, (600 - 533) // 2
    assert content_box(outs["detail"]) == (66, 0, 1067, 800)
