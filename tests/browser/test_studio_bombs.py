"""A 100-megapixel picture is refused by the studio before the browser decodes it, whatever its format (issue 27).

The studio shows the original while it makes a preview, and makes a row's
thumbnail with `createImageBitmap`; a 100 MP file would have the tab decode
400 MB of pixels for a 96-pixel thumbnail before the engine refused it. The
page reads each format's size from its header (web/ui/image-header.js), so
AVIF, BMP and TIFF bombs (files that claim 10,000 x 10,000 pixels and hold
almost none) get neither an <img> nor a bitmap: the preview says the picture
is over the limit (too_large), and the job fails with the engine's
decompression_bomb, without a Retry.
"""

from __future__ import annotations

import io

import pytest
from PIL import Image
from test_image_header import bmp_claiming, bomb_tiff, with_ispe
from test_studio_support import file_payload, open_studio, row, stage, start, studio_context, view, wait_rows

# Every Blob the page hands the browser to decode: to createImageBitmap, or as an object URL (an <img>'s src).
RECORD = """
window.__decoded = [];
const note = (what, blob) => { if (blob instanceof Blob) window.__decoded.push([what, blob.size]); };
const bitmap = window.createImageBitmap;
window.createImageBitmap = function (source, ...rest) { note('bitmap', source); return bitmap.call(this, source, ...rest); };
const objectUrl = URL.createObjectURL;
URL.createObjectURL = function (blob) { note('url', blob); return objectUrl.call(this, blob); };
"""


def avif_bomb() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 40)).save(buf, "AVIF", quality=60)
    return with_ispe(buf.getvalue(), 10_000, 10_000)


BOMBS = {
    "huge.avif": (avif_bomb, "image/avif"),
    "huge.bmp": (lambda: bmp_claiming(10_000, 10_000), "image/bmp"),
    "huge.tif": (bomb_tiff, "image/tiff"),
}


@pytest.fixture(scope="module")
def page(browser, site_url):
    ctx = studio_context(browser)
    ctx.add_init_script(RECORD)
    yield open_studio(ctx, f"{site_url}?nosw#convert")
    ctx.close()


@pytest.mark.parametrize("name", list(BOMBS))
def test_a_100_megapixel_file_is_refused_before_the_browser_decodes_it(page, name):
    make, mime = BOMBS[name]
    data = make()
    assert len(data) < 100_000  # a bomb: small file, huge claim
    v = view(page, "convert")
    page.evaluate("() => { window.__decoded = []; }")
    stage(page, "convert", [file_payload(name, data, mime)])
    status = v.locator(".cmp-status")
    page.wait_for_function("(el) => el.dataset.tone === 'error'", arg=status.element_handle(), timeout=30_000)
    assert "10000×10000" in status.inner_text() and "megapixel limit" in status.inner_text()
    before = page.locator("#view-convert .job").count()
    start(page, "convert")
    wait_rows(page, "convert", before + 1, timeout=60_000)
    r = row(page, "convert", name)
    assert r.get_attribute("data-status") == "failed"
    assert r.get_attribute("data-code") == "decompression_bomb"
    assert r.get_by_role("button", name=f"Retry {name}").count() == 0
    assert r.locator(".thumb img").count() == 0
    # Nothing of the file's size went to the browser's decoders (the worker refused it from its header too).
    assert [d for d in page.evaluate("() => window.__decoded") if d[1] == len(data)] == []


def test_the_same_formats_within_the_cap_are_previewed_by_the_browser(page):
    """The check above can fail: a small PNG of the same page is handed to the browser's decoder."""
    buf = io.BytesIO()
    Image.new("RGB", (300, 200), (20, 120, 200)).save(buf, "PNG")
    data = buf.getvalue()
    view(page, "convert")
    page.evaluate("() => { window.__decoded = []; }")
    stage(page, "convert", [file_payload("small.png", data, "image/png")])
    page.wait_for_function("(n) => window.__decoded.some((d) => d[1] === n)", arg=len(data), timeout=30_000)
