"""Helpers shared by the studio tests (no tests here)."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"


def file_payload(name: str, data: bytes, mime: str = "image/jpeg") -> dict:
    return {"name": name, "mimeType": mime, "buffer": data}


def studio_context(browser):
    """A browser context as a person at a desktop has one: downloads allowed, a 1280x900 window."""
    return browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})


def open_studio(context, url: str, view: str = "convert", wait_ready: bool = True):
    page = context.new_page()
    page.goto(f"{url}#{view}" if "#" not in url else url)
    page.wait_for_function("() => window.pixelpress !== undefined && window.pixelpressStudio !== undefined")
    if wait_ready:
        page.evaluate("() => window.pixelpress.ready()")
        page.evaluate("() => window.pixelpressStudio.restored")
    return page


def record_previews(page):
    """Keep every `pixelpress:preview` event's detail in window.__previews, for tests that check what a preview showed."""
    page.evaluate("""() => { window.__previews = [];
        document.addEventListener('pixelpress:preview', (e) => window.__previews.push(e.detail)); }""")


def view(page, view_id: str):
    """Switch to a view through its nav link (what a user clicks)."""
    page.click(f"#nav-{view_id}")
    page.wait_for_selector(f"#view-{view_id}:not([hidden])")
    return page.locator(f"#view-{view_id}")


def stage(page, view_id: str, files: list[dict]):
    page.set_input_files(f"#view-{view_id} .dropzone input[type=file]", files=files)


def start(page, view_id: str):
    page.click(f"#view-{view_id} form.options button[type=submit]")


def wait_rows(page, view_id: str, n: int, timeout: int = 60_000):
    """Wait until `n` rows of the view's queue reached a terminal state."""
    page.wait_for_function(
        """([v, n]) => [...document.querySelectorAll(`#view-${v} .job`)]
             .filter((r) => ['done', 'failed', 'cancelled', 'interrupted'].includes(r.dataset.status)).length >= n""",
        arg=[view_id, n], timeout=timeout)


def row(page, view_id: str, name: str):
    return page.locator(f"#view-{view_id} .job", has=page.locator(".job-name", has_text=name)).first


def download(page, click) -> tuple[str, bytes]:
    with page.expect_download() as info:
        click()
    d = info.value
    return d.suggested_filename, Path(d.path()).read_bytes()


def decode(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist()}


def shot(page, name: str, full_page: bool = True):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("() => { const t = document.getElementById('toast'); if (t) t.hidden = true; window.scrollTo(0, 0); }")
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


DOCS_IMG = ROOT / "docs" / "img"

# The car listing's touch-up cut-out as the page shows it (its <img>), base64 (tests and bench/touchup_studio.py).
TOUCHUP_CUTOUT_JS = """async () => {
  const img = document.querySelector('#view-car-listing .touchup-cutout');
  const bytes = new Uint8Array(await (await fetch(img.src)).arrayBuffer());
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}"""


def doc_shot(page, name: str, max_bytes: int = 200_000):
    """A viewport screenshot for the README, palette-reduced to stay small.

    It lands in test-artifacts/ on every run; only with PIXELPRESS_DOC_SHOTS=1
    does it replace the committed picture in docs/img/, so a test run never
    edits the repository behind the developer's back.
    """
    page.evaluate("() => { const t = document.getElementById('toast'); if (t) t.hidden = true; }")
    im = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
    to_docs = os.environ.get("PIXELPRESS_DOC_SHOTS") == "1"
    out = (DOCS_IMG / f"studio-{name}.png") if to_docs else (SHOTS / f"readme-studio-{name}.png")
    out.parent.mkdir(parents=True, exist_ok=True)
    for colors in (256, 128, 64):
        im.quantize(colors=colors, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(out, optimize=True)
        if out.stat().st_size < max_bytes:
            break
    assert out.stat().st_size < max_bytes, f"{out} is {out.stat().st_size} bytes"
