"""The team asset pack: every file opens at the size the manifest gives; bad input."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import logos
import numpy as np
import pytest
from PIL import Image
from pixelpress import bridge
from pixelpress.errors import EmptyInput, InvalidOption, UnsupportedFormat
from pixelpress.ops.asset_pack import asset_pack
from pixelpress.options import parse_colour
from pixelpress.registry import OPS, spec

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
NAMES = ["Alex Morgan", "Sam Kerr", "Jordan Lee", "Taylor Brooks", "Chris Evans", "Pat Kim", "Riley Cooper",
         "Casey Jones", "Drew Patel", "Jamie Fox", "Morgan Diaz", "Avery Stone"]
PLAYERS = [{"number": i * 3 + 1, "name": n} for i, n in enumerate(NAMES)]

EXPECTED = {
    "logo/logo-64.png", "logo/logo-128.png", "logo/logo-256.png", "logo/logo-512.png", "logo/logo-1024.png",
    "favicon.ico", "shirt/tshirt-front.jpg", "shirt/tshirt-back.jpg",
    "banners/roster-1500x500.png", "banners/roster-1200x630.png",
    "social/og-1200x630.png", "social/post-1080x1080.png",
    "web/hero-320.webp", "web/hero-320.jpg", "web/hero-640.webp", "web/hero-640.jpg",
    "web/hero-960.webp", "web/hero-960.jpg", "web/hero-1280.webp", "web/hero-1280.jpg",
    "web/hero-1500.webp", "web/hero-1500.jpg", "web/picture.html",  # the banner at its own width too
}


@pytest.fixture(scope="module")
def pack():
    events = []
    r = asset_pack(logos.noisy_jpeg(logos.shield(background=logos.OFF_WHITE)),
                   {"team_name": "Riverside United", "sport": "Football", "players": PLAYERS,
                    "featured_player": 10, "shirt_color": "#ffffff"}, progress=events.append)
    return r, events


def test_every_file_matches_the_manifest(pack):
    r, _ = pack
    z = zipfile.ZipFile(io.BytesIO(r.data))
    assert z.testzip() is None
    names = set(z.namelist())
    manifest = json.loads(z.read("manifest.json"))
    listed = {f["path"] for f in manifest["files"]}
    assert listed == EXPECTED and names == EXPECTED | {"manifest.json"}
    out = ARTIFACTS / "asset-pack"
    out.mkdir(parents=True, exist_ok=True)
    for f in manifest["files"]:
        blob = z.read(f["path"])
        assert len(blob) == f["bytes"] and hashlib.sha256(blob).hexdigest() == f["sha256"]
        (out / f["path"]).parent.mkdir(parents=True, exist_ok=True)
        (out / f["path"]).write_bytes(blob)
        if f["mime"].startswith("image/"):
            im = Image.open(io.BytesIO(blob))
            im.load()
            assert im.size == (f["width"], f["height"]), f["path"]
    (out / "manifest.json").write_bytes(z.read("manifest.json"))
    for s in (64, 128, 256, 512, 1024):
        im = Image.open(io.BytesIO(z.read(f"logo/logo-{s}.png")))
        assert im.mode == "RGBA" and im.getpixel((0, 0))[3] == 0
    ico = Image.open(io.BytesIO(z.read("favicon.ico")))
    assert sorted(ico.info["sizes"]) == [(16, 16), (32, 32), (48, 48)]
    html = z.read("web/picture.html").decode()
    assert "web/hero-1280.webp 1280w" in html
    assert z.getinfo("manifest.json").compress_type == zipfile.ZIP_DEFLATED
    assert z.getinfo("logo/logo-1024.png").compress_type == zipfile.ZIP_DEFLATED


def test_meta_progress_and_colours(pack):
    r, events = pack
    assert r.mime == "application/zip" and r.meta["bytes"] == len(r.data)
    # The step runner's one event shape: before each step, how many are done and which runs now.
    assert [e["done"] for e in events] == list(range(len(events))) and {e["total"] for e in events} == {len(events)}
    assert [e["step"] for e in events][:3] == ["decode", "logo_cleanup", "logo_sizes"]
    assert events[-1]["step"] == "manifest" and set(r.meta["timings_ms"]) == {e["step"] for e in events}
    found = [parse_colour(c) for c in r.meta["colors"][:3]]
    for c in logos.COLOURS["shield"]:
        assert min(np.linalg.norm(np.subtract(c, f)) for f in found) < 20
    assert r.meta["manifest"]["team"]["featured_player"] == 10


def test_explicit_colours_and_no_players():
    r = asset_pack(logos.png(logos.circle()), {"team_name": "Tigers", "colors": ["#1b7f3b", "#f47a20"]})
    z = zipfile.ZipFile(io.BytesIO(r.data))
    m = json.loads(z.read("manifest.json"))
    assert m["team"]["colors"] == ["#1b7f3b", "#f47a20"]
    im = Image.open(io.BytesIO(z.read("banners/roster-1500x500.png"))).convert("RGB")
    # the banner background is drawn in the primary colour (green)
    px = np.asarray(im)[250, 1300].astype(int)
    assert px[1] > px[0] and px[1] > px[2]


def test_through_the_bridge_with_progress():
    assert spec("asset_pack").progress is True
    seen = []
    out = bridge.run("asset_pack", logos.png(logos.shield(160)),
                     json.dumps({"team_name": "A", "players": [{"number": 9, "name": "B"}]}), seen.append)
    assert out["ok"], out
    assert out["outputs"][0]["mime"] == "application/zip"
    assert seen[-1] == {"done": seen[-1]["total"] - 1, "total": seen[-1]["total"], "step": "manifest"}
    for op in ("logo_cleanup", "upscale", "tshirt_mockup", "roster_banner", "web_sizes", "asset_pack"):
        assert op in OPS


def _p(n):
    return [{"number": i % 100, "name": f"P{i}"} for i in range(n)]


@pytest.mark.parametrize("opts,field", [
    ({"players": _p(2)}, "team_name"),
    ({"team_name": "X", "players": _p(5) + [{"number": 120, "name": "Q"}]}, "players[5].number"),
    ({"team_name": "X", "players": [{"number": 1, "name": "n" * 41}]}, "players[0].name"),
    ({"team_name": "X", "colors": ["#12345"]}, "colors[0]"),
    ({"team_name": "X", "players": _p(3), "featured_player": 50}, "featured_player"),
])
def test_bad_input(opts, field):
    with pytest.raises(InvalidOption) as e:
        asset_pack(logos.png(logos.shield(64)), opts)
    assert e.value.field == field


def test_missing_logo():
    with pytest.raises(EmptyInput) as e:
        asset_pack(b"", {"team_name": "X"})
    assert "logo" in e.value.message.lower() and e.value.field == "logo"


def test_logo_not_an_image():
    with pytest.raises(UnsupportedFormat) as e:
        asset_pack(b"PK\x03\x04 a zip, not a logo", {"team_name": "X"})
    assert "logo" in e.value.message.lower() and e.value.code == "unsupported_format"
    out = bridge.run("asset_pack", b"not an image", json.dumps({"team_name": "X"}))
    assert out["ok"] is False and out["error"]["code"] == "unsupported_format"
