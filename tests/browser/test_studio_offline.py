"""Offline use after the first visit, persistence across reloads, the 24-hour
purge with a controllable clock, and a full storage quota."""

from __future__ import annotations

import base64

import pytest
from samples import photo_bytes
from test_studio_support import decode, download, file_payload, open_studio, row, stage, start, studio_context, wait_rows

DAY_MS = 24 * 3600 * 1000


@pytest.fixture
def context(browser):
    ctx = studio_context(browser)
    yield ctx
    ctx.close()


def convert_one(page, name: str, data: bytes, mime: str = "image/jpeg", n_rows: int = 1):
    stage(page, "convert", [file_payload(name, data, mime)])
    start(page, "convert")
    wait_rows(page, "convert", n_rows)
    r = row(page, "convert", name)
    assert r.get_attribute("data-status") == "done", r.inner_text()
    return r


def test_works_offline_after_first_visit(context, site_url):
    # Record what the loading bar says while the runtime downloads (bytes and phase).
    context.add_init_script("""document.addEventListener('DOMContentLoaded', () => {
        window.__loading = [];
        const bar = document.getElementById('engine-progress'), text = document.getElementById('engine-text');
        new MutationObserver(() => window.__loading.push([text.textContent, bar.value, bar.max]))
          .observe(document.getElementById('engine-status'),
                   { subtree: true, childList: true, characterData: true, attributes: true });
    })""")
    page = open_studio(context, site_url)
    loading = page.evaluate("() => window.__loading")
    assert any("Downloading the image engine" in t and " of " in t and "MB" in t for t, _, _ in loading), loading[:5]
    assert any(0 < v < m for _, v, m in loading), "the bar is determinate and moves"
    assert "Engine ready" in page.inner_text("#engine-text")
    # The service worker registers once the engine is up and caches everything (hash-checked).
    version = page.evaluate("""async () => {
        const reg = await navigator.serviceWorker.ready;
        const keys = await caches.keys();
        return keys.find((k) => k.startsWith('pixelpress-'));
    }""")
    manifest = page.evaluate("() => fetch('asset-manifest.json').then((r) => r.json())")
    assert version == f"pixelpress-{manifest['version']}"
    cached = page.evaluate("""async (v) => (await (await caches.open(v)).keys()).map((r) => r.url)""", version)
    stored = {u.removeprefix(site_url) for u in cached}
    on_demand = set(manifest["on_demand"])  # the network's 22 MB WebGPU build: fetched only where used
    assert on_demand and not on_demand & stored
    assert set(manifest["files"]) - on_demand <= stored
    # ...and the page says so once everything is stored, not before
    page.wait_for_selector("#offline-state[data-state=ready]", timeout=60_000)
    assert page.inner_text("#offline-state").startswith("Ready to use offline")
    page.reload()
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")

    page.wait_for_selector("#offline-state[data-state=ready]", timeout=30_000)  # a later visit knows at once
    context.set_offline(True)
    try:
        page.reload()
        page.wait_for_function("() => window.pixelpress !== undefined")
        page.evaluate("() => window.pixelpress.ready()")
        r = convert_one(page, "offline.png", photo_bytes("coffee.png", "PNG"), "image/png")
        _, data = download(page, lambda: r.get_by_role("button", name="Download offline.png").click())
        assert decode(data).format == "WEBP"
        # OpenCV comes from the cache too
        res = page.evaluate("() => window.pixelpress.preload('oil_paint').then(() => 'ok', (e) => e.message)")
        assert res == "ok"
        # and so do the cut-out model and its runtime: the neural matte works offline
        method = page.evaluate("""async (b64) => {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const r = await window.pixelpress.run('remove_background', bytes, {});
            return r.meta.matte.method;
        }""", base64.b64encode(photo_bytes("coffee.png", "PNG")).decode())
        assert method == "neural"
        assert page.evaluate("() => navigator.onLine") is False
    finally:
        context.set_offline(False)


def test_results_survive_reload_and_are_purged_after_24_hours(context, site_url):
    base = f"{site_url}?nosw"
    page = open_studio(context, f"{base}#convert")
    convert_one(page, "kept.jpg", photo_bytes("astronaut.png", "JPEG"))
    created = page.evaluate("() => window.pixelpressStudio.views[0].queue.jobs[0].createdAt")

    page.reload()
    page.wait_for_function("() => window.pixelpressStudio !== undefined")
    page.evaluate("() => window.pixelpressStudio.restored")
    r = row(page, "convert", "kept.jpg")
    assert r.get_attribute("data-status") == "done"
    _, data = download(page, lambda: r.get_by_role("button", name="Download kept.jpg").click())
    assert decode(data).size == (512, 512)

    # 23 h later: still there. 25 h later: purged at start-up.
    page.goto(f"{base}&now={created + 23 * 3600 * 1000}#convert")
    page.wait_for_function("() => window.pixelpressStudio !== undefined")
    page.evaluate("() => window.pixelpressStudio.restored")
    assert page.locator("#view-convert .job").count() == 1
    page.goto(f"{base}&now={created + DAY_MS + 3600 * 1000}#convert")
    page.wait_for_function("() => window.pixelpressStudio !== undefined")
    page.evaluate("() => window.pixelpressStudio.restored")
    assert page.locator("#view-convert .job").count() == 0
    counts = page.evaluate("""() => new Promise((resolve) => {
        const r = indexedDB.open('pixelpress');
        r.onsuccess = () => {
          const t = r.result.transaction(['jobs', 'results']);
          const a = t.objectStore('jobs').count(), b = t.objectStore('results').count();
          t.oncomplete = () => resolve([a.result, b.result]);
        };
    })""")
    assert counts == [0, 0]


def test_periodic_purge_uses_the_injected_clock(context, site_url):
    page = open_studio(context, f"{site_url}?nosw#convert")
    convert_one(page, "old.jpg", photo_bytes("rocket.jpg", "JPEG"))
    assert page.evaluate("() => window.pixelpressStudio.purge()") == 0
    page.evaluate(f"() => {{ window.__pixelpressNow = () => Date.now() + {DAY_MS + 60_000}; }}")
    assert page.evaluate("() => window.pixelpressStudio.purge()") >= 2  # the job and its result
    assert page.locator("#view-convert .job").count() == 0


def test_full_storage_is_reported_not_silent(browser, site_url):
    ctx = browser.new_context(accept_downloads=True)
    ctx.add_init_script("""(() => {
        const real = IDBObjectStore.prototype.put;
        IDBObjectStore.prototype.put = function (...args) {
          if (window.__quotaFull !== false) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
          return real.apply(this, args);
        };
    })()""")
    try:
        page = open_studio(ctx, f"{site_url}?nosw#convert")
        r = convert_one(page, "full.jpg", photo_bytes("astronaut.png", "JPEG"))
        msg = r.locator(".job-msg").inner_text()
        assert "storage is full" in msg.lower()
        assert "storage is full" in page.inner_text("#toast").lower()
        _, data = download(page, lambda: r.get_by_role("button", name="Download full.jpg").click())
        assert decode(data).format == "WEBP"  # the result is still there to download
    finally:
        ctx.close()
