"""Team-merchandise operations in the browser worker, checked natively."""

import io
import json
import zipfile

import logos
import numpy as np
import samples
from pixelpress.ops.logo_cleanup import logo_cleanup
from pixelpress.ops.upscale import upscale

PLAYERS = [{"number": i, "name": f"Player Number{i:02d} Longname"} for i in range(1, 21)]
TEAM = {"team_name": "Riverside United", "sport": "Football", "players": PLAYERS, "featured_player": 7}


def test_asset_pack_built_in_the_worker_matches_its_manifest(browser_engine):
    logo = logos.noisy_jpeg(logos.shield(background=logos.OFF_WHITE))
    res = browser_engine.run("asset_pack", logo, TEAM)
    assert res["ok"], res
    z = zipfile.ZipFile(io.BytesIO(res["outputs"][0]["data"]))
    manifest = json.loads(z.read("manifest.json"))
    assert len(manifest["files"]) >= 20
    for f in manifest["files"]:
        blob = z.read(f["path"])
        assert len(blob) == f["bytes"], f["path"]
        if f["path"].endswith((".png", ".jpg", ".webp", ".ico")):
            assert samples.decode(blob).size == (f["width"], f["height"]), f["path"]
    # the page gets the step runner's event before each of the pack's steps, in order
    steps = [p["step"] for p in res["progress"]]
    assert steps == list(res["meta"]["timings_ms"]) and steps[0] == "decode" and steps[-1] == "manifest"
    assert [p["done"] for p in res["progress"]] == list(range(len(steps)))


def test_banner_for_40_players_and_its_typed_errors(browser_engine):
    logo = logos.noisy_jpeg(logos.shield())
    forty = [{"number": i, "name": f"Player {i}"} for i in range(40)]
    res = browser_engine.run("roster_banner", logo, {"team_name": "Forty", "sport": "Rugby", "players": forty})
    assert res["ok"], res
    assert samples.decode(res["outputs"][0]["data"]).size == (1500, 500)
    too_many = browser_engine.run("roster_banner", logo, {"team_name": "X", "players": forty + [{"number": 1, "name": "A"}]})
    assert too_many["error"] == {"code": "invalid_option", "field": "players", "message": too_many["error"]["message"]}
    bad_number = browser_engine.run("roster_banner", logo, {"team_name": "X", "players": [{"number": 100, "name": "A"}]})
    assert bad_number["error"]["field"] == "players[0].number"
    not_image = browser_engine.run("roster_banner", b"%PDF-1.4 not a logo", {"team_name": "X", "players": forty[:3]})
    assert not_image["error"]["code"] == "unsupported_format"


def test_logo_cleanup_finds_the_same_colours_as_natively(browser_engine):
    logo = logos.noisy_jpeg(logos.shield(background=logos.OFF_WHITE))
    native = logo_cleanup(logo, {})
    res = browser_engine.run("logo_cleanup", logo, {})
    assert res["ok"], res
    # the JPEG decoders differ by a level or two (README, parity), never by a colour
    from pixelpress.options import parse_colour
    for got, want in zip(res["meta"]["colors"][:3], native.meta["colors"][:3], strict=True):
        assert np.abs(np.subtract(parse_colour(got), parse_colour(want))).max() <= 3, (got, want)
    a = np.asarray(samples.decode(res["outputs"][0]["data"]), int)
    b = np.asarray(samples.decode(native.data), int)
    # the trim box may move by a pixel with the decoder; the cut-out itself must not
    assert abs(a.shape[0] - b.shape[0]) <= 2 and abs(a.shape[1] - b.shape[1]) <= 2
    coverage = lambda x: (x[..., 3] > 127).sum()  # noqa: E731
    assert abs(coverage(a) - coverage(b)) / coverage(b) < 0.01


def test_upscaled_line_art_matches_natively(browser_engine):
    art = samples.encode(logos.shield(size=200), "PNG")
    native = samples.decode(upscale(art, {"factor": 3}).data)
    res = browser_engine.run("upscale", art, {"factor": 3})
    assert res["ok"], res
    worker = samples.decode(res["outputs"][0]["data"])
    assert worker.size == native.size == (600, 600)
    assert np.abs(np.asarray(worker, int) - np.asarray(native, int)).mean() < 1.0
