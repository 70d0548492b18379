"""Convert's rough edges, as a new user meets them: clashing names in the ZIP, Retry where it
cannot help, where focus lands, URLs that are not web addresses."""

from __future__ import annotations

import numpy as np
import pytest
from samples import photo_bytes
from test_studio_support import (
    decode,
    download,
    file_payload,
    open_studio,
    row,
    stage,
    start,
    unzip,
    view,
    wait_rows,
)


@pytest.fixture(scope="module")
def page(context, site_url):
    p = open_studio(context, f"{site_url}?nosw#convert")
    yield p
    p.close()


def test_same_stem_different_sources_stay_traceable_in_the_zip(page):
    view(page, "convert")
    page.select_option("#view-convert select[name=format]", "jpeg")
    stage(page, "convert", [file_payload("coffee.png", photo_bytes("coffee.png", "PNG"), "image/png"),
                            file_payload("coffee.webp", photo_bytes("coffee.png", "WEBP"), "image/webp"),
                            file_payload("chelsea.png", photo_bytes("chelsea.png", "PNG"), "image/png")])
    start(page, "convert")
    # focus goes to the results, not to <body>
    assert page.evaluate("() => document.activeElement.textContent") == "Results"
    wait_rows(page, "convert", 3, timeout=90_000)
    _, data = download(page, lambda: page.click("#view-convert .queue-actions >> text=Download all (.zip)"))
    files = unzip(data)
    assert set(files) == {"coffee-png.jpg", "coffee-webp.jpg", "chelsea.jpg"}  # no coffee-2.jpg to puzzle over
    assert all(decode(b).format == "JPEG" for b in files.values())


def test_no_retry_for_files_that_would_fail_again(page):
    view(page, "convert")
    corrupt = photo_bytes("astronaut.png", "JPEG")[:300] + bytes(2000)
    stage(page, "convert", [file_payload("broken.jpg", corrupt),
                            file_payload("notes.txt", b"not pixels\n" * 20, "text/plain")])
    before = page.locator("#view-convert .job[data-status=failed]").count()
    start(page, "convert")
    page.wait_for_function("(n) => document.querySelectorAll('#view-convert .job[data-status=failed]').length >= n",
                           arg=before + 2, timeout=60_000)
    for name in ("broken.jpg", "notes.txt"):
        r = row(page, "convert", name)
        assert r.get_attribute("data-code") in ("corrupt_image", "unsupported_format")
        assert r.get_by_role("button", name=f"Retry {name}").count() == 0
        assert r.locator(".job-msg").inner_text()  # the message says what happened instead
    assert page.locator("#view-convert .queue-actions >> text=Retry failed").is_hidden()


@pytest.mark.parametrize("url", ["ftp://example.com/a.jpg", "file:///etc/passwd", "javascript:alert(1)"])
def test_non_web_urls_are_refused_where_they_are_typed(page, url):
    view(page, "convert")
    staged = page.locator("#view-convert .staged li").count()
    page.fill("#view-convert .url-form input", url)
    page.click("#view-convert .url-form button[type=submit]")
    problem = page.locator("#view-convert .url-form .field-error")
    assert "Only web addresses" in problem.inner_text() and url in problem.inner_text()
    assert page.locator("#view-convert .staged li").count() == staged  # nothing staged, nothing to fail later
    assert page.evaluate("() => document.activeElement.type") == "url"


def test_an_image_imported_by_url_gets_a_preview_and_a_thumbnail(page):
    view(page, "convert")
    photo = photo_bytes("chelsea.png", "JPEG")
    page.route("https://pictures.example/**", lambda route: route.fulfill(
        status=200, body=photo, headers={"content-type": "image/jpeg", "access-control-allow-origin": "*"}))
    page.fill("#view-convert .url-form input", "https://pictures.example/cat.jpg")
    page.click("#view-convert .url-form button[type=submit]")
    # fetched when staged: the chip names the file and its size, and the preview shows it
    page.wait_for_selector("#view-convert .staged li:has-text('cat.jpg ·')", timeout=15_000)
    page.wait_for_function("() => document.querySelector('#view-convert .cmp-after')?.getAttribute('src')",
                           timeout=30_000)
    before = page.locator("#view-convert .job").count()
    start(page, "convert")
    wait_rows(page, "convert", before + 1, timeout=60_000)
    r = row(page, "convert", "cat.jpg")
    assert r.get_attribute("data-status") == "done" and r.locator(".thumb img").count() == 1
    page.unroute("https://pictures.example/**")


def test_a_tiff_gets_a_thumbnail(page):
    view(page, "convert")
    stage(page, "convert", [file_payload("scan.tif", photo_bytes("coffee.png", "TIFF"), "image/tiff")])
    before = page.locator("#view-convert .job").count()
    start(page, "convert")
    wait_rows(page, "convert", before + 1, timeout=60_000)
    r = row(page, "convert", "scan.tif")
    assert r.get_attribute("data-status") == "done"
    page.wait_for_function("(el) => el.querySelector('.thumb img')?.naturalWidth === 96", arg=r.element_handle(),
                           timeout=15_000)


def test_the_team_logo_is_previewed_cleaned_before_the_pack_is_built(page):
    from logos import OFF_WHITE, png, shield

    view(page, "team-assets")
    stage(page, "team-assets", [file_payload("crest.png", png(shield(background=OFF_WHITE)), "image/png")])
    status = page.locator("#view-team-assets .cmp-status")
    page.wait_for_function("(el) => el.textContent.includes('Cleaned logo')", arg=status.element_handle(),
                           timeout=60_000)
    assert "#0b3d91" in status.inner_text()  # the shield's navy, found by the clean-up
    assert page.locator("#view-team-assets .job").count() == 0  # nothing built yet
    src = page.locator("#view-team-assets .cmp-after").get_attribute("src")
    after = decode(bytes(page.evaluate("async (u) => Array.from(new Uint8Array(await (await fetch(u)).arrayBuffer()))", src)))
    a = np.asarray(after)
    assert after.mode == "RGBA" and (a[..., 3] == 0).mean() > 0.05  # transparent around the shield's shape
    square = (np.abs(a[..., :3].astype(int) - OFF_WHITE).max(axis=2) < 6) & (a[..., 3] > 200)
    assert square.mean() < 0.01, "the off-white square is gone"


def test_a_target_size_is_met_and_said(page):
    from samples import encode, large_photo

    view(page, "convert")
    page.select_option("#view-convert select[name=format]", "jpeg")
    page.fill("#view-convert input[name=max_kb]", "100")
    stage(page, "convert", [file_payload("big.png", encode(large_photo(1600, 1200), "PNG"), "image/png")])
    before = page.locator("#view-convert .job").count()
    start(page, "convert")
    wait_rows(page, "convert", before + 1, timeout=60_000)
    r = row(page, "convert", "big.png")
    assert "under 100 kB at quality" in r.inner_text()
    _, data = download(page, lambda: r.get_by_role("button", name="Download big.png").click())
    assert len(data) <= 100_000 and decode(data).size == (1600, 1200)
    page.select_option("#view-convert select[name=format]", "png")
    assert page.locator("#view-convert input[name=max_kb]").is_hidden()  # PNG has no quality to lower
    page.select_option("#view-convert select[name=format]", "jpeg")
    page.fill("#view-convert input[name=max_kb]", "")
