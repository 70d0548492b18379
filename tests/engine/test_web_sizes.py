"""Web-ready sizes: widths, formats, never upscaled, the <picture> snippet."""

from __future__ import annotations

import io

import pytest
import samples
from PIL import Image
from pixelpress.errors import InvalidOption, UnsupportedFormat
from pixelpress.ops.web_sizes import web_sizes


def _all(r):
    files = [("main", r.mime, r.data)] + [(x.name, x.mime, x.data) for x in r.extras]
    return {f["name"]: f for f in r.meta["files"]}, files


def test_large_photo_gets_every_width():
    data = samples.encode(samples.large_photo(2400, 1600), "JPEG", quality=90)
    r = web_sizes(data, {"base_name": "hero", "url_prefix": "/img/", "alt": "Team \"photo\""})
    meta, files = _all(r)
    assert r.meta["widths"] == [320, 640, 960, 1280, 1920]
    assert r.mime == "image/webp" and r.meta["name"] == "hero-1920.webp"
    assert len(r.extras) == 14  # AVIF, WebP and JPEG at each of the five widths, the main file being one
    seen = {r.meta["name"]: r.data} | {x.name: x.data for x in r.extras}
    for name, blob in seen.items():
        im = Image.open(io.BytesIO(blob))
        w = int(name.split("-")[1].split(".")[0])
        assert im.size == (w, round(1600 * w / 2400))
        assert im.format == {"webp": "WEBP", "jpg": "JPEG", "avif": "AVIF"}[name.rsplit(".", 1)[1]]
        assert meta[name]["bytes"] == len(blob)
    html = r.meta["picture_html"]
    assert html.startswith("<picture>") and html.endswith("</picture>")
    assert html.index('type="image/avif"') < html.index('type="image/webp"') and "/img/hero-1920.avif 1920w" in html
    assert "/img/hero-1920.webp 1920w" in html and "/img/hero-320.jpg 320w" in html
    assert 'alt="Team &quot;photo&quot;"' in html


def test_never_upscaled():
    im = samples.image("chelsea.png")  # 451 px wide
    r = web_sizes(samples.encode(im, "PNG"))
    assert r.meta["widths"] == [320, 451]  # the source's own width is one of the sizes
    small = im.resize((200, 133))
    r2 = web_sizes(samples.encode(small, "PNG"))
    assert r2.meta["widths"] == [200] and r2.meta["width"] == 200


def test_transparency_webp_keeps_it_jpeg_flattens():
    im = Image.new("RGBA", (700, 300), (0, 0, 0, 0))
    im.paste((200, 30, 30, 255), (100, 50, 600, 250))
    r = web_sizes(samples.encode(im, "PNG"), {"background": "#00ff00"})
    files = {r.meta["name"]: r.data} | {x.name: x.data for x in r.extras}
    webp = Image.open(io.BytesIO(files["image-640.webp"]))
    jpg = Image.open(io.BytesIO(files["image-640.jpg"])).convert("RGB")
    assert webp.mode == "RGBA" and webp.getpixel((2, 2))[3] == 0
    r_, g, b = jpg.getpixel((2, 2))
    assert g > 200 and r_ < 60


@pytest.mark.parametrize("opts,field", [({"base_name": "../x"}, "base_name"), ({"base_name": ""}, "base_name"),
                                        ({"url_prefix": "\"><script>"}, "url_prefix")])
def test_bad_options(opts, field):
    with pytest.raises(InvalidOption) as e:
        web_sizes(samples.photo_bytes("chelsea.png"), opts)
    assert e.value.field == field


def test_not_an_image():
    with pytest.raises(UnsupportedFormat):
        web_sizes(b"<svg></svg>")


@pytest.mark.parametrize("width", [500, 512])
def test_the_source_width_is_one_of_the_sizes(width):
    im = samples.image("astronaut.png").resize((width, width))
    r = web_sizes(samples.encode(im, "PNG"))
    assert r.meta["widths"] == [320, width] and r.meta["width"] == width
    assert {f["name"] for f in r.meta["files"]} == {f"image-{w}.{x}" for w in (320, width) for x in ("avif", "webp", "jpg")}


def test_chosen_widths():
    im = samples.image("astronaut.png")  # 512 px
    r = web_sizes(samples.encode(im, "PNG"), {"widths": [400, 200, 400]})
    assert r.meta["widths"] == [200, 400]  # sorted, once each; 512 is over the largest chosen, so not added
    # AVIF, WebP, JPEG at each width; the largest WebP is the main file
    assert [samples.decode(x.data).width for x in r.extras] == [200, 200, 200, 400, 400]
    with pytest.raises(InvalidOption) as e:
        web_sizes(samples.encode(im, "PNG"), {"widths": [320, 5000]})
    assert e.value.field == "widths[1]"


def test_without_an_avif_encoder_the_other_sizes_are_made_and_a_warning_says_so(monkeypatch):
    """AVIF is optional: a build or browser that cannot write it loses only the AVIF files, never the job."""
    from pixelpress import pillow_plugins

    monkeypatch.setattr(pillow_plugins, "AVIF", False)
    data = samples.encode(samples.large_photo(1400, 900), "JPEG", quality=90)
    r = web_sizes(data, {})
    names = [r.meta["name"]] + [x.name for x in r.extras]
    assert sorted(n.rsplit(".", 1)[1] for n in names) == ["jpg"] * 5 + ["webp"] * 5
    assert r.meta["widths"] == [320, 640, 960, 1280, 1400]
    assert 'type="image/avif"' not in r.meta["picture_html"] and 'type="image/webp"' in r.meta["picture_html"]
    assert any(w.startswith("AVIF was left out") for w in r.meta["warnings"])
    for x in r.extras:
        assert Image.open(io.BytesIO(x.data)).format in ("WEBP", "JPEG")
