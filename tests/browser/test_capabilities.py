"""What this browser can do, as an embedding app and a studio user meet it (issue 25).

The client's capability report (`capabilities()`, `px.capabilities()`) in a
window and in a worker; the studio's footer line; the forms when this
browser cannot write AVIF (the AVIF encoder missing from the copy, as on a
host that left vendor/avif/ out): Web sizes shows AVIF as unavailable and the
job makes WebP and JPEG, Convert marks AVIF. The pool on a device with
little memory is in test_low_memory.py.
"""

from __future__ import annotations

import pytest
from samples import photo_bytes
from test_studio_support import file_payload, open_studio, shot, stage, start, studio_context, view, wait_rows

CAPS_READY = "() => document.documentElement.dataset.capabilities === 'ready'"

IN_A_WORKER = """async () => {
  const src = `import { capabilities } from '${new URL('client/pixelpress.js', location.href).href}';
    capabilities().then((c) => postMessage(c), (e) => postMessage({ error: String(e) }));`;
  const worker = new Worker(URL.createObjectURL(new Blob([src], { type: 'text/javascript' })), { type: 'module' });
  try {
    return await new Promise((resolve) => {
      worker.onmessage = (e) => resolve(e.data);
      worker.onerror = (e) => resolve({ error: e.message });
    });
  } finally {
    worker.terminate();
  }
}"""


@pytest.fixture(scope="module")
def no_avif_encoder(browser):
    """A studio whose copy lacks the AVIF encoder (vendor/avif/avif_enc.wasm answers 404)."""
    ctx = studio_context(browser)
    ctx.route("**/vendor/avif/avif_enc.wasm", lambda route: route.fulfill(status=404, body="not here"))
    yield ctx
    ctx.close()


def test_the_report_in_a_window_and_in_a_worker(context, site_url):
    page = open_studio(context, f"{site_url}?nosw#convert")
    caps = page.evaluate("() => window.pixelpress.capabilities()")
    # The engine's own formats everywhere; Chromium adds AVIF both ways (its ImageDecoder, the wasm encoder).
    assert set(caps["read"]) == {"jpeg", "png", "webp", "gif", "bmp", "tiff", "avif", "heic"}
    assert set(caps["write"]) == {"jpeg", "png", "webp", "avif"}
    # HEIC is read, never written: here by libheif in wasm (Chromium has no HEIC decoder of its own).
    assert caps["formats"]["heic"] == {"read": True, "write": False, "readWith": "wasm", "writeWith": None}
    assert caps["formats"]["avif"] == {"read": True, "write": True, "readWith": "ImageDecoder", "writeWith": "wasm"}
    assert caps["formats"]["gif"]["write"] is False
    # Served without COOP/COEP: no SharedArrayBuffer threads. Chromium has SIMD, JSPI and ImageDecoder;
    # headless with --disable-gpu has no WebGPU adapter.
    assert (caps["threads"], caps["simd"], caps["jspi"], caps["imageDecoder"], caps["webgpu"]) == (
        False, True, True, True, False)
    assert caps["summary"] == "reads AVIF · writes AVIF · SIMD · no threads"

    # The same answer from a worker importing the client (no window, no document).
    in_worker = page.evaluate(IN_A_WORKER)
    assert "error" not in in_worker, in_worker
    assert {k: in_worker[k] for k in ("read", "write", "formats", "threads", "simd", "summary")} == {
        k: caps[k] for k in ("read", "write", "formats", "threads", "simd", "summary")}

    # Asked once: a second call answers without fetching the encoder again.
    fetched = []
    page.on("request", lambda r: fetched.append(r.url) if "avif_enc.wasm" in r.url else None)
    page.evaluate("() => window.pixelpress.capabilities()")
    assert not fetched

    # The footer says it in short.
    page.wait_for_function(CAPS_READY)
    assert page.inner_text("#browser-caps") == "This browser: reads AVIF · writes AVIF · SIMD · no threads"
    page.close()


def test_web_sizes_without_an_avif_encoder_makes_webp_and_jpeg(no_avif_encoder, site_url):
    page = open_studio(no_avif_encoder, f"{site_url}?nosw#web-sizes")
    page.wait_for_function(CAPS_READY)
    caps = page.evaluate("() => window.pixelpress.capabilities()")
    assert caps["formats"]["avif"]["write"] is False and "avif" not in caps["write"]
    assert "HTTP 404" in caps["formats"]["avif"]["why"]
    assert "cannot write AVIF" in page.inner_text("#browser-caps")

    panel = view(page, "web-sizes")
    box = panel.locator("input[name=avif]")
    # Unavailable before anything starts: off, disabled, and the reason beside it.
    assert box.is_disabled() and not box.is_checked()
    field = panel.locator(".field[data-field=avif]")
    assert "This browser cannot write AVIF here, so WebP and JPEG are made." in field.inner_text()
    assert panel.locator(".field[data-field=avif_quality]").is_hidden()
    shot(page, "web-sizes-no-avif-encoder")

    stage(page, "web-sizes", [file_payload("lot.jpg", photo_bytes("coffee.png"))])
    start(page, "web-sizes")
    wait_rows(page, "web-sizes", 1)
    result = panel.locator(".job").first
    assert result.get_attribute("data-status") == "done", result.inner_text()
    assert "WebP + JPEG" in result.inner_text() and "AVIF" not in result.inner_text()
    page.close()


def test_convert_marks_a_format_this_browser_cannot_write(no_avif_encoder, site_url):
    page = open_studio(no_avif_encoder, f"{site_url}?nosw#convert")
    # Someone chose AVIF on an earlier visit; this time the encoder is missing.
    page.evaluate("() => localStorage.setItem('pixelpress.options.convert', JSON.stringify({ format: 'avif' }))")
    page.reload()
    page.wait_for_function(CAPS_READY)
    select = page.locator("#view-convert select[name=format]")
    avif = select.locator("option[value=avif]")
    assert avif.is_disabled()
    assert avif.inner_text() == "AVIF · not in this browser"
    assert select.input_value() == "webp"  # moved to the studio's default, and said so
    note = page.locator("#view-convert .field[data-field=format] .field-unavailable").inner_text()
    assert "This browser cannot write AVIF here." in note and "WebP is chosen instead." in note
    assert not select.locator("option[value=jpeg]").is_disabled()
    shot(page, "convert-no-avif-encoder")
    page.close()


def test_without_imagedecoder_avif_is_read_with_the_wasm_decoder(browser, site_url):
    """As in Safari and WebKit, which have no WebCodecs ImageDecoder: the worker reads AVIF with libavif in wasm."""
    ctx = browser.new_context()
    ctx.add_init_script("delete globalThis.ImageDecoder;")
    try:
        page = ctx.new_page()
        page.goto(f"{site_url}asset-manifest.json")  # the site's origin, no client of its own
        caps = page.evaluate("""async () => {
            const { capabilities } = await import(new URL('client/pixelpress.js', location.href).href);
            return capabilities();
        }""")
        assert caps["imageDecoder"] is False
        assert caps["formats"]["avif"] == {"read": True, "write": True, "readWith": "wasm", "writeWith": "wasm"}
    finally:
        ctx.close()
