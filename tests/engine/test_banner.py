"""Roster banner: text stays inside, never overlaps, adapts to 1-40 players; bad rosters."""

from __future__ import annotations

import io
from pathlib import Path

import logos
import numpy as np
import pytest
from PIL import Image
from pixelpress import fonts
from pixelpress.errors import InvalidOption, UnsupportedFormat
from pixelpress.ops.logo_cleanup import clean
from pixelpress.ops.roster_banner import SIZES, render_banner, render_card, roster_banner
from pixelpress.team import Player, team_palette

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
NAMES = ["Alex Morgan", "Sam Kerr", "Jordan Lee", "Taylor Brooks", "Chris Evans", "Pat Kim", "Riley Cooper",
         "Casey Jones", "Drew Patel", "Jamie Fox", "Morgan Diaz", "Avery Stone", "Quinn Harper", "Rowan Ellis"]
LONG = "Maximilian Alexander Featherstonehaugh-Sm"[:40]


def roster(n, long=False):
    return [Player((i * 7 + 3) % 100, LONG if long and i % 3 == 0 else NAMES[i % len(NAMES)]) for i in range(n)]


@pytest.fixture(scope="module")
def logo():
    return clean(logos.shield()).image


def _overlap(a, b):
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


CASES = [(1, False), (12, False), (40, False), (40, True), (12, True)]


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("n,long", CASES)
def test_text_inside_and_not_overlapping(logo, size, n, long):
    w, h = SIZES[size]
    name = "Northern Lights Athletic Football Club" if long else "Riverside United"
    im, boxes, mask, _cut = render_banner(logo, name, "Football", roster(n, long), team_palette(["#0b3d91", "#ffc72c"]),
                                    (w, h))
    assert im.size == (w, h)
    margin = max(16, round(h * 0.06)) - 2  # the layout margin, less a 2 px antialiasing allowance
    for b in boxes:
        x0, y0, x1, y1 = b.box
        assert x0 >= margin and y0 >= margin and x1 <= w - margin and y1 <= h - margin, (b, (w, h))
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not _overlap(a.box, b.box), (a, b)
    # every player is on it, numbers whole
    numbers = sorted(int(b.text) for b in boxes if b.role == "number")
    assert numbers == sorted(p.number for p in roster(n, long))
    names = [b.text for b in boxes if b.role == "name"]
    assert len(names) == n
    if long and n == 40:
        assert any(t.endswith("…") for t in names)  # shrunk, then cut with an ellipsis
    # pixel-wise: no text ink in the margin band
    m = np.asarray(mask)
    band = max(16, round(h * 0.06)) - 2
    assert m[:band].max() == 0 and m[-band:].max() == 0 and m[:, :band].max() == 0 and m[:, -band:].max() == 0
    if not long and size == "1500x500":
        ARTIFACTS.mkdir(exist_ok=True)
        im.save(ARTIFACTS / f"banner-{n}-players.png")


def test_type_size_adapts_to_player_count(logo):
    pal = team_palette(["#0b3d91", "#ffc72c"])
    heights = {}
    for n in (1, 12, 40):
        _im, boxes, _m, _cut = render_banner(logo, "Riverside United", "Football", roster(n), pal, (1500, 500))
        nb = [b for b in boxes if b.role == "number"]
        heights[n] = np.mean([b.box[3] - b.box[1] for b in nb])
    assert heights[1] > heights[12] > heights[40] >= 8


def test_cards_inside(logo):
    pal = team_palette(["#1b7f3b", "#f47a20"])
    for size in ((1200, 630), (1080, 1080)):
        im, boxes, mask, _cut = render_card(logo, "A Very Long Team Name For Testing Purposes", "Ultimate Frisbee",
                                      pal, size)
        w, h = size
        for b in boxes:
            assert 0 < b.box[0] and b.box[2] < w and 0 < b.box[1] and b.box[3] < h, b
        for i, a in enumerate(boxes):
            for b in boxes[i + 1:]:
                assert not _overlap(a.box, b.box), (a, b)


def test_op(logo):
    players = [{"number": p.number, "name": p.name} for p in roster(12)]
    r = roster_banner(logos.png(logos.shield()), {"team_name": "Riverside United", "sport": "Football",
                                                  "players": players, "size": "1200x630"})
    im = Image.open(io.BytesIO(r.data))
    assert im.size == (1200, 630) and r.mime == "image/png"
    assert r.meta["colors"][0] == "#0b3d91"  # team colours default to the logo's
    assert len(r.meta["text_boxes"]) >= 12 * 2 + 1


def test_font_fallback_warns(monkeypatch):
    monkeypatch.setattr(fonts, "_font_bytes", lambda weight: None)
    fonts.font.cache_clear()
    try:
        r = roster_banner(logos.png(logos.shield(120)), {"team_name": "X", "players": [{"number": 1, "name": "A"}]})
        assert any("built-in font" in w for w in r.meta["warnings"])
    finally:
        fonts.font.cache_clear()


def test_shipped_font_is_used():
    assert fonts.available("bold") and fonts.available("medium"), "run build_scripts/fetch_fonts.py"
    assert fonts.font(20).getname()[0] == "Oswald"


def _players(n):
    return [{"number": i % 100, "name": f"Player {i}"} for i in range(n)]


@pytest.mark.parametrize("opts,field", [
    ({"players": _players(3)}, "team_name"),
    ({"team_name": "  ", "players": _players(3)}, "team_name"),
    ({"team_name": "X", "players": _players(3) + [{"number": 100, "name": "Z"}]}, "players[3].number"),
    ({"team_name": "X", "players": [{"number": -1, "name": "Z"}]}, "players[0].number"),
    ({"team_name": "X", "players": [{"number": "ten", "name": "Z"}]}, "players[0].number"),
    ({"team_name": "X", "players": [{"number": 1, "name": "x" * 41}]}, "players[0].name"),
    ({"team_name": "X", "players": [{"number": 1, "name": ""}]}, "players[0].name"),
    ({"team_name": "X", "players": [{"number": 1}]}, "players[0].name"),
    ({"team_name": "X", "players": ["Bob"]}, "players[0]"),
    ({"team_name": "X", "players": _players(2), "colors": ["#0b3d91", "gold"]}, "colors[1]"),
])
def test_bad_input(opts, field):
    with pytest.raises(InvalidOption) as e:
        roster_banner(logos.png(logos.shield(64)), opts)
    assert e.value.field == field


def test_not_an_image():
    with pytest.raises(UnsupportedFormat):
        roster_banner(b"GIF00 nope", {"team_name": "X", "players": _players(1)})


def test_the_result_says_which_names_were_shortened():
    players = [{"number": 1, "name": "Ana"}, {"number": 2, "name": LONG}, {"number": 3, "name": "Jo Park"}]
    r = roster_banner(logos.png(logos.shield(160)), {"team_name": "Riverside United", "players": players * 10})
    drawn = [b["text"] for b in r.meta["text_boxes"] if b["role"] == "name"]
    assert any(t.endswith("…") for t in drawn)  # 30 players: the long name cannot fit its cell
    assert r.meta["shortened"] == [LONG] * 10
    assert any(w.startswith("Shortened to fit the banner: “Maximilian") for w in r.meta["warnings"])
    short = roster_banner(logos.png(logos.shield(160)), {"team_name": "Riverside United", "players": players[:1]})
    assert short.meta["shortened"] == [] and not any("Shortened" in w for w in short.meta["warnings"])
