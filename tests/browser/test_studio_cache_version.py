"""The result cache is keyed by the engine version: after a deploy the studio
makes a result again instead of serving what an older engine made, for up to
the 24 hours results are kept. What the user sees is the row's badge and
status ("Processed on this device", "Done in ...", not "From cache") and the
file they download."""

from __future__ import annotations

import hashlib
import json

import pytest
from samples import photo_bytes
from test_studio_support import decode, download, file_payload, open_studio, row, stage, start, studio_context, wait_rows

STALE = 64  # a planted result is a 64x64 WebP: the real one is 512x512, so a download tells them apart


@pytest.fixture
def context(browser):
    ctx = studio_context(browser)
    yield ctx
    ctx.close()


def convert(page, name: str, data: bytes, n_rows: int):
    stage(page, "convert", [file_payload(name, data)])
    start(page, "convert")
    wait_rows(page, "convert", n_rows)
    r = row(page, "convert", name)
    assert r.get_attribute("data-status") == "done", r.inner_text()
    return r


def reload(page):
    page.reload()
    page.wait_for_function("() => window.pixelpress !== undefined && window.pixelpressStudio !== undefined")
    page.evaluate("() => window.pixelpress.ready()")
    page.evaluate("() => window.pixelpressStudio.restored")


def made_on_this_device(r):
    badge = r.locator(".badge.path")
    assert badge.get_attribute("data-path") == "device", badge.inner_text()
    assert badge.inner_text() == "Processed on this device"
    assert r.locator(".job-status").inner_text().startswith("Done in ")


def served_from_cache(r):
    badge = r.locator(".badge.path")
    assert badge.get_attribute("data-path") == "cache", badge.inner_text()
    assert badge.inner_text().startswith("From cache")


def test_a_deploy_with_another_engine_makes_results_again(context, site_url):
    photo = photo_bytes("astronaut.png", "JPEG", quality=61)
    page = open_studio(context, f"{site_url}?nosw#convert")
    made_on_this_device(convert(page, "first.jpg", photo, 1))

    # Same engine after a reload: served from the stored result, as before.
    reload(page)
    served_from_cache(convert(page, "again.jpg", photo, 2))

    # A deploy: the lock now names another engine build (the wheel's bytes are
    # untouched, so the worker still installs and verifies it).
    def new_engine(route):
        lock = json.loads(route.fetch().text())
        lock["packages"]["pixelpress"]["version"] = "0.1.0+next"
        route.fulfill(status=200, content_type="application/json", body=json.dumps(lock))

    context.route("**/pyodide/pyodide-lock.json", new_engine)
    reload(page)
    assert row(page, "convert", "first.jpg").get_attribute("data-status") == "done"  # history stays
    after = convert(page, "after.jpg", photo, 3)
    made_on_this_device(after)
    _, data = download(page, lambda: after.get_by_role("button", name="Download after.jpg").click())
    im = decode(data)
    assert im.format == "WEBP" and im.size == (512, 512)

    # and the new engine's own result is served from then on
    reload(page)
    served_from_cache(convert(page, "later.jpg", photo, 4))


def test_results_stored_under_an_older_key_are_not_served(context, site_url):
    """Plant a result the user would spot (64x64) under the key format that
    had no engine version and under another engine's key, and the same result
    under the current key for a second photo as the control."""
    page = open_studio(context, f"{site_url}?nosw#convert")
    convert(page, "probe.jpg", photo_bytes("astronaut.png", "JPEG", quality=62), 1)
    legacy = photo_bytes("astronaut.png", "JPEG", quality=63)
    control = photo_bytes("astronaut.png", "JPEG", quality=64)
    page.evaluate("""async ([legacyHash, controlHash, size]) => {
        const { cacheKey, resultKey } = await import(new URL('ui/cache.js', document.baseURI));
        const { stableStringify, now } = await import(new URL('ui/util.js', document.baseURI));
        const probe = window.pixelpressStudio.views[0].queue.jobs[0];
        const c = new OffscreenCanvas(size, size);
        c.getContext('2d').fillRect(0, 0, size, size);
        const blob = await c.convertToBlob({ type: 'image/webp' });
        const meta = { ...probe.meta, width: size, height: size, bytes: blob.size };
        const entry = (key) => ({ key, outputs: [{ name: 'main', meta, blob }], meta, path: 'device', createdAt: now() });
        const { store } = window.pixelpressStudio;
        await store.putResult(entry(`convert:${legacyHash}:${stableStringify(probe.options)}`));
        await store.putResult(entry(cacheKey(legacyHash, 'convert', probe.options, 'an-older-engine')));
        await store.putResult(entry(await resultKey(controlHash, 'convert', probe.options)));
    }""", [hashlib.sha256(legacy).hexdigest(), hashlib.sha256(control).hexdigest(), STALE])
    reload(page)  # nothing left in memory: what is served comes from IndexedDB, as after a deploy

    planted = convert(page, "control.jpg", control, 2)
    served_from_cache(planted)
    _, data = download(page, lambda: planted.get_by_role("button", name="Download control.jpg").click())
    assert decode(data).size == (STALE, STALE)  # the planting reaches what the page reads

    fresh = convert(page, "legacy.jpg", legacy, 3)
    made_on_this_device(fresh)
    _, data = download(page, lambda: fresh.get_by_role("button", name="Download legacy.jpg").click())
    im = decode(data)
    assert im.format == "WEBP" and im.size == (512, 512)
