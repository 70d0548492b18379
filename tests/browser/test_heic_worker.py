"""HEIC in the worker (issue 27): iPhone photos convert in the browser as they do natively.

Pyodide has no HEIC reader, so the worker decodes HEIC itself
(web/worker/codecs.js decodeHeic): with the browser's own decoder where a
probe HEIC comes out right (Safari), elsewhere with libheif + libde265 in
wasm (npm libheif-js, vendor/heif/), loaded with the first HEIC. Natively
pi-heif decodes (libheif too). Both give the primary image upright (irot and
imir applied); the engine reads the EXIF and the colour profile from the
file's boxes and converts to sRGB as for every format.

The test files are pi-heif's own (.cache/heic-tests, fetched by the setup
step from its sdist): an iPhone photo with a Display P3 profile, a portrait
iPhone photo, a 32 MP picture stored on its side with `irot`, a Nokia file
whose primary image is the third of three, and damaged ones.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pixelpress.ops.convert import convert
from skimage.metrics import structural_similarity

HEIC = Path(__file__).resolve().parents[2] / ".cache" / "heic-tests"

pytestmark = pytest.mark.skipif(not HEIC.is_dir(), reason="HEIC test files not fetched (build_scripts/fetch_test_images.py)")


def heic(name: str) -> bytes:
    return (HEIC / name).read_bytes()


def rgb(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def worker(browser_engine, data: bytes, opts: dict):
    res = browser_engine.run("convert", data, opts)
    assert res["ok"], res
    return res["outputs"][0]["data"], res["meta"]


@pytest.mark.parametrize("name", [
    "heif_other/pug.heic",  # iPhone, landscape 4032x3024, Display P3
    "heif_other/arrow.heic",  # iPhone, portrait 3024x4032
    "heif_special/guitar_cw90.hif",  # 32 MP stored 7008x4672, turned by irot to 4672x7008
    "heif_other/nokia/alpha.heic",  # three images; the primary is the last
])
def test_a_heic_converts_to_jpeg_with_the_size_orientation_and_colours_of_native(browser_engine, name):
    data = heic(name)
    opts = {"format": "jpeg", "quality": 90, "max_width": 800, "max_height": 800}
    native = convert(data, opts)
    out, meta = worker(browser_engine, data, opts)
    assert meta["format"] == "jpeg" and Image.open(io.BytesIO(out)).format == "JPEG"
    assert meta["codec"]["decode"] == "browser"
    assert (meta["input_width"], meta["input_height"]) == (native.meta["input_width"], native.meta["input_height"])
    assert (meta["width"], meta["height"]) == (native.meta["width"], native.meta["height"])
    assert meta.get("colour") == native.meta.get("colour")
    # The same picture, the same way up: a picture turned or flipped, or left in P3, scores far lower.
    assert structural_similarity(rgb(out), rgb(native.data), channel_axis=2) >= 0.98
    assert np.abs(rgb(out).astype(int) - rgb(native.data).astype(int)).mean() < 2


def test_a_turned_heic_is_not_the_same_picture_the_other_way_up(browser_engine):
    """The check above can fail: the worker's picture against native's turned by 180 degrees scores low."""
    data = heic("heif_other/arrow.heic")
    opts = {"format": "jpeg", "max_width": 400, "max_height": 400}
    out, _ = worker(browser_engine, data, opts)
    turned = np.rot90(rgb(convert(data, opts).data), 2)
    assert structural_similarity(rgb(out), turned, channel_axis=2) < 0.9


@pytest.mark.parametrize("name", [
    "heif_corrupted/corrupted.heic",  # corrupt_image
    "heif_corrupted/empty.heic",
    "heif_truncated/truncated.heic",  # cut short after its primary image: natively 16x16, with a warning
    "heif_special/200MP.heic",  # decompression_bomb, from its ispe, before any decoder runs
])
def test_a_damaged_or_huge_heic_gets_what_native_gives(browser_engine, name):
    from pixelpress.errors import PixelpressError

    data = heic(name)
    try:
        native = convert(data, {"format": "png"})
        expected = {"ok": True, "size": (native.meta["width"], native.meta["height"])}
    except PixelpressError as e:
        expected = {"ok": False, "code": e.code}
    res = browser_engine.run("convert", data, {"format": "png"})
    got = ({"ok": True, "size": (res["meta"]["width"], res["meta"]["height"])} if res["ok"]
           else {"ok": False, "code": res["error"]["code"]})
    assert got == expected, res.get("error")


def test_heic_output_is_refused_in_words(browser_engine):
    res = browser_engine.run("convert", heic("heif_other/pug.heic"), {"format": "heic"})
    assert not res["ok"] and res["error"]["code"] == "invalid_option" and res["error"]["field"] == "format"


def test_libheif_is_fetched_with_the_first_heic_only_and_is_the_pinned_file(browser, site_url):
    """A page that never opens a HEIC never downloads the decoder (2 MB); a 200 MP HEIC is refused from its
    header before the decoder is fetched; the first HEIC fetches it once. The offline cache lists it with
    the pinned sha256, its licence beside it."""
    import json
    import sys

    from browser_harness import DIST, BrowserEngine

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "build_scripts"))
    from pins import HEIF_FILES

    manifest = json.loads((DIST / "asset-manifest.json").read_text())
    for _src, (dist, sha) in HEIF_FILES.items():
        assert manifest["files"][dist]["sha256"] == sha, dist
    assert "LGPL" in (DIST / "vendor" / "heif" / "README").read_text()  # what it is, where its source is
    context = browser.new_context()
    fetched = []
    context.on("request", lambda r: fetched.append(r.url) if "vendor/heif/" in r.url else None)
    try:
        page = context.new_page()
        page.goto(site_url)
        engine = BrowserEngine(page)
        engine.wait_ready()
        jpeg = io.BytesIO()
        Image.linear_gradient("L").convert("RGB").save(jpeg, "JPEG")
        assert engine.run("convert", jpeg.getvalue(), {"format": "png"})["ok"]
        bomb = engine.run("convert", heic("heif_special/200MP.heic"), {"format": "jpeg"})
        assert bomb["error"]["code"] == "decompression_bomb"
        assert fetched == []
        for _ in range(2):
            assert engine.run("convert", heic("heif/RGB_8__29x100.heif"), {"format": "png"})["ok"]
        # Once per worker (the pool may have given the two jobs to two), and nothing else from vendor/heif/.
        assert {u.rsplit("/", 1)[1] for u in fetched} == {"libheif.mjs"}
    finally:
        context.close()


def test_an_iphone_photo_dropped_on_the_studio_comes_back_a_jpeg_upright(context, site_url):
    """What a person does: drops a portrait iPhone HEIC on Convert, asks for JPEG, downloads it."""
    from test_studio_support import download, file_payload, open_studio, row, stage, start, view, wait_rows

    page = open_studio(context, f"{site_url}?nosw#convert")
    view(page, "convert")
    assert ".heic" in page.locator("#view-convert .dropzone input[type=file]").get_attribute("accept")
    assert "HEIC" in page.locator("#view-convert .drop-hint").inner_text()
    page.select_option("#view-convert select[name=format]", "jpeg")
    stage(page, "convert", [file_payload("IMG_0042.HEIC", heic("heif_other/arrow.heic"), "image/heic")])
    start(page, "convert")
    wait_rows(page, "convert", 1, timeout=120_000)
    r = row(page, "convert", "IMG_0042.HEIC")
    assert r.get_attribute("data-status") == "done", r.inner_text()
    name, data = download(page, lambda: r.get_by_role("button", name="Download IMG_0042.HEIC").click())
    assert name == "IMG_0042.jpg"
    out = Image.open(io.BytesIO(data))
    assert (out.format, out.size) == ("JPEG", (3024, 4032))  # portrait, as the phone showed it
    # Its thumbnail too, made by the engine (Chromium cannot decode HEIC itself).
    page.wait_for_function("(el) => el.querySelector('.thumb img')?.naturalWidth === 96", arg=r.element_handle(),
                           timeout=60_000)


# A stand-in for Safari, whose createImageBitmap reads HEIC (Chromium's does not): the worker's codecs module
# gets a createImageBitmap that draws image/heic blobs itself, right (libheif's own pixels) or wrong (grey).
SAFARI_LIKE = """
const realBitmap = self.createImageBitmap;
self.__heicBitmaps = 0;
self.createImageBitmap = async (source, ...rest) => {
  if (!(source instanceof Blob && source.type === 'image/heic')) return realBitmap(source, ...rest);
  self.__heicBitmaps += 1;
  const libheif = await (await import(new URL('../vendor/heif/libheif.mjs', import.meta.url).href)).default();
  const decoder = new libheif.HeifDecoder();
  const images = decoder.decode(new Uint8Array(await source.arrayBuffer()));
  const image = images.find((i) => i.is_primary()) ?? images[0];
  if (!image) throw new DOMException('The source image could not be decoded.', 'InvalidStateError');
  const [width, height] = [image.get_width(), image.get_height()];
  const pixels = new Uint8ClampedArray(width * height * 4);
  await new Promise((resolve) => { image.display({ data: pixels, width, height }, resolve); });
  if (MODE === 'wrong') for (let i = 0; i < pixels.length; i++) pixels[i] = i % 4 === 3 ? 255 : 128;
  return realBitmap(new ImageData(pixels, width, height), ...rest);
};
"""


@pytest.mark.parametrize("mode", ["right", "wrong"])
def test_the_browsers_own_heic_decoder_is_used_only_when_its_probe_comes_out_right(browser, mode):
    from browser_harness import DIST, BrowserEngine, serve_static

    codecs_js = (DIST / "worker" / "codecs.js").read_bytes()
    tamper = {"worker/codecs.js": f"const MODE = '{mode}';\n{SAFARI_LIKE}\n".encode() + codecs_js}
    data = heic("heif_other/pug.heic")
    opts = {"format": "png", "max_width": 600}
    with serve_static(DIST, prefix="/studio/", tamper=tamper) as url:
        context = browser.new_context()
        try:
            page = context.new_page()
            page.goto(url)
            engine = BrowserEngine(page)
            engine.wait_ready()
            out, meta = worker(engine, data, opts)
            calls = sum(w.evaluate("() => self.__heicBitmaps ?? 0") for w in page.workers)
        finally:
            context.close()
    # Right: the probe passes and the browser's decoder reads the file too (2 calls); wrong: only the probe
    # asked it, and libheif in wasm decoded the file. Either way the picture is native's.
    assert calls == (2 if mode == "right" else 1)
    assert meta["codec"]["decode"] == "browser"
    native = rgb(convert(data, opts).data)
    assert rgb(out).shape == native.shape and np.abs(rgb(out).astype(int) - native.astype(int)).mean() < 1
