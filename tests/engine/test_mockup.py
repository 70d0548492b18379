"""T-shirt mockups: sizes, the print on the chest, name/number on the back, options."""

from __future__ import annotations

import io
from pathlib import Path

import logos
import numpy as np
import pytest
from PIL import Image
from pixelpress.errors import UnsupportedFormat
from pixelpress.ops.tshirt_mockup import back_colours, tshirt_mockup

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _open(r):
    im = Image.open(io.BytesIO(r.data))
    im.load()
    return im.convert("RGB")


@pytest.fixture(scope="module")
def logo():
    return logos.png(logos.shield())


def _near(a, c, tol):
    return np.sqrt(((a.astype(float) - c) ** 2).sum(axis=-1)) < tol


def test_front_prints_the_logo_on_the_chest(logo):
    r = tshirt_mockup(logo, {"view": "front", "shirt_color": "#ffffff", "size": 800})
    im = _open(r)
    ARTIFACTS.mkdir(exist_ok=True)
    im.save(ARTIFACTS / "tshirt-front-white.jpg", quality=90)
    assert im.size == (800, 800) and r.mime == "image/jpeg"
    a = np.asarray(im)
    chest = a[int(0.30 * 800):int(0.55 * 800), int(0.38 * 800):int(0.62 * 800)]
    assert _near(chest, logos.NAVY, 40).mean() > 0.25  # the navy shield is printed there
    belly = a[int(0.75 * 800):int(0.80 * 800), int(0.45 * 800):int(0.55 * 800)]
    assert belly.mean() > 200  # white fabric, shaded
    assert belly.std() > 1.0  # with texture, not a flat fill


def test_print_follows_the_fabric_shading(logo):
    a = np.asarray(_open(tshirt_mockup(logo, {"view": "front", "size": 800}))).astype(float)
    chest = a[int(0.30 * 800):int(0.55 * 800), int(0.38 * 800):int(0.62 * 800)]
    navy = chest[_near(chest, logos.NAVY, 40)]
    assert navy.std(axis=0).max() > 1.0  # not a flat paste: folds and grain modulate the ink


def test_back_shows_name_and_number_in_team_colours(logo):
    r = tshirt_mockup(logo, {"view": "back", "shirt_color": "#c8102e", "name": "Morgan", "number": 10,
                             "colors": ["#0b3d91", "#ffc72c"], "size": 800})
    im = _open(r)
    im.save(ARTIFACTS / "tshirt-back-red.jpg", quality=90)
    a = np.asarray(im)
    back = a[int(0.25 * 800):int(0.65 * 800), int(0.33 * 800):int(0.67 * 800)]
    fill, edge = back_colours(["#0b3d91", "#ffc72c"], (200, 16, 46))
    assert _near(back, fill, 45).mean() > 0.05
    assert _near(back, edge, 45).mean() > 0.005


def test_dark_and_any_shirt_colour(logo):
    for col in ("#111111", "#14213d", "#2e7d32"):
        a = np.asarray(_open(tshirt_mockup(logo, {"view": "front", "shirt_color": col, "size": 400})))
        hem = a[int(0.80 * 400), int(0.5 * 400)].astype(float)
        want = np.array([int(col[i:i + 2], 16) for i in (1, 3, 5)], float)
        assert np.abs(hem - want).max() < 60


def test_deterministic(logo):
    a = tshirt_mockup(logo, {"view": "back", "name": "A", "number": 1, "size": 320, "format": "png"}).data
    b = tshirt_mockup(logo, {"view": "back", "name": "A", "number": 1, "size": 320, "format": "png"}).data
    assert a == b


def test_not_an_image():
    with pytest.raises(UnsupportedFormat):
        tshirt_mockup(b"hello", {})


def test_a_name_cut_on_the_back_is_named():
    name = "Maximilian Alexander Featherstonehaugh"
    r = tshirt_mockup(logos.png(logos.shield(160)), {"view": "back", "name": name, "number": 9})
    assert r.meta["shortened"] == [name] and any(name in w for w in r.meta["warnings"])
    assert tshirt_mockup(logos.png(logos.shield(160)), {"view": "back", "name": "Kerr"}).meta["shortened"] == []
