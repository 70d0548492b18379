"""docs/embedding.md's plain page, as it is in the doc, on a second origin (issue 26, item 9).

`import … from 'pixelpress'` is a bare specifier: a page without a bundler
needs an import map. The doc's whole page is taken out of docs/embedding.md
(only the example host `https://static.example.com/pixelpress/` is replaced
by a real one), served by one HTTP server on 127.0.0.1, while a second
server on localhost (another origin) serves dist/ under /pixelpress/ with the
CORS header the doc asks for. Chromium picks a photo in the page's file
input; the page converts it in the workers started from the other origin.
"""

from __future__ import annotations

import io
import re

from browser_harness import CORS_HEADERS, DIST, ROOT, serve_static
from PIL import Image
from samples import photo_bytes

EXAMPLE_HOST = "https://static.example.com/pixelpress/"


def doc_page() -> str:
    text = (ROOT / "docs" / "embedding.md").read_text()
    (page,) = re.findall(r"```html\n(.*?)```", text, re.S)
    return page


def test_the_documented_page_imports_pixelpress_by_its_import_map_and_converts(browser, tmp_path):
    page_html = doc_page()
    assert '<script type="importmap">' in page_html and "from 'pixelpress'" in page_html
    assert page_html.count(EXAMPLE_HOST) == 1, "the page names the pixelpress host once, in its import map"
    photo = photo_bytes("chelsea.png", fmt="JPEG")
    width = Image.open(io.BytesIO(photo)).width
    log: list = []
    with serve_static(DIST, prefix="/pixelpress/", host="localhost", headers=CORS_HEADERS, log=log) as pixelpress:
        (tmp_path / "index.html").write_text(page_html.replace(EXAMPLE_HOST, pixelpress))
        with serve_static(tmp_path) as app:
            context = browser.new_context()
            errors: list = []
            try:
                page = context.new_page()
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
                        if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
                page.goto(app)
                page.set_input_files("#pick", files=[{"name": "cat.jpg", "mimeType": "image/jpeg", "buffer": photo}])
                page.wait_for_function("() => document.querySelector('#out').complete"
                                       " && document.querySelector('#out').naturalWidth > 0", timeout=180_000)
                out = page.evaluate("""async () => {
                    const img = document.querySelector('#out');
                    const blob = await (await fetch(img.src)).blob();
                    return { src: img.src, width: img.naturalWidth, type: blob.type };
                }""")
            finally:
                context.close()
    assert not errors, errors
    assert out["src"].startswith("blob:") and out["type"] == "image/webp" and out["width"] == width, out
    # The client, its workers and the runtime came from the other origin, asked for by this page's origin.
    fetched = {path.removeprefix("/pixelpress/"): origin for _, path, origin in log}
    for f in ("client/pixelpress.js", "worker/engine-worker.js", "pyodide/pyodide.asm.wasm", "asset-manifest.json"):
        assert fetched.get(f) == app.rstrip("/"), (f, sorted(fetched)[:20])
