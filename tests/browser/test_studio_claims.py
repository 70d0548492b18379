"""The page promises only what its deployment keeps (issue 26, item 6).

- Header tagline and footer: "nothing is uploaded" on a static host (no server answers), and where a
  real pixelpress-server takes uploads or cuts car photos out, what goes to it and when instead.
- The footer's storage line counts the results apart from the engine's own files: a fresh profile,
  which holds only the engine's start-up snapshot, has no results stored.
"""

from __future__ import annotations

import re

from samples import photo_bytes
from test_real_server import free_port, start_server
from test_studio_support import file_payload, open_studio, shot, stage, start, studio_context, view, wait_rows


def claims(page) -> tuple[str, str]:
    """The tagline and the footer's privacy line, once the server's health is known (the badge says so)."""
    page.wait_for_selector("#server-badge:not([title^=Checking])", timeout=10_000)
    return page.evaluate("""() => [document.querySelector('.tagline').textContent,
        document.getElementById('privacy-note')?.textContent ?? '']""")


def test_a_static_host_says_nothing_is_uploaded(browser, site_url):
    context = studio_context(browser)
    try:
        page = open_studio(context, f"{site_url}?nosw#convert")
        tagline, note = claims(page)
        assert page.locator("#server-badge").get_attribute("data-path") == "device"
        assert tagline == "Image studio in your browser · nothing is uploaded"
        assert note == "Every image is processed in this browser; nothing is uploaded."
    finally:
        context.close()


def test_a_server_with_uploads_is_not_hidden_behind_nothing_is_uploaded(browser, tmp_path):
    proc, base = start_server(tmp_path)  # the embedded default of `make run`: uploads to a local folder
    context = studio_context(browser)
    try:
        page = open_studio(context, f"{base}/?nosw#car-listing")
        tagline, note = claims(page)
        assert page.locator("#server-badge").inner_text() == "Server: uploads"
        assert "nothing is uploaded" not in tagline + note
        assert tagline == "Processed in your browser · nothing leaves this device unless you upload it"
        assert "only when you press “Upload to server”" in note
        shot(page, "claims-server-uploads", full_page=False)
        page.set_viewport_size({"width": 360, "height": 740})
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
    finally:
        context.close()
        proc.kill()
        proc.wait()


def test_a_server_that_cuts_car_photos_out_says_so(browser, tmp_path):
    # API4.ai configured (at an address nothing answers): health says the server cuts car photos out.
    proc, base = start_server(tmp_path, api4ai_url=f"http://127.0.0.1:{free_port()}", api4ai_key="test-key")
    context = studio_context(browser)
    try:
        page = open_studio(context, f"{base}/?nosw#car-listing")
        tagline, note = claims(page)
        assert "nothing is uploaded" not in tagline + note
        assert tagline == "Image studio in your browser · car photos are cut out on the server"
        assert note.startswith("Car photos are sent to this site’s server to have their background removed")
    finally:
        context.close()
        proc.kill()
        proc.wait()


def storage_line(page, results: str) -> str:
    """The footer's storage line once it counts `results` ('0' or 'some') and the engine's files, or once it
    says any figure (a page that counts them together)."""
    page.wait_for_function("""(want) => { const el = document.getElementById('storage-note');
        const d = el.dataset;
        if (/used\\)/.test(el.textContent)) return true;
        return d.results !== undefined && (want === '0' ? d.results === '0' : Number(d.results) > 0)
            && Number(d.engine) > 0; }""", arg=results, timeout=30_000)
    return page.locator("#storage-note").inner_text()


def test_a_fresh_profile_has_no_results_whatever_the_engine_stores(browser, site_url):
    context = studio_context(browser)  # a fresh profile: nothing stored but what the engine keeps
    try:
        page = open_studio(context, f"{site_url}?nosw#convert")
        line = storage_line(page, "0")
        assert "stored now: none" in line, line
        engine = re.search(r"engine cache: ([\d.]+ [kM]B)", line)
        assert engine, line
        assert not re.search(r"\d MB used", line)  # no total that reads as results
        view(page, "convert")
        stage(page, "convert", [file_payload("coffee.png", photo_bytes("coffee.png", "PNG"), "image/png")])
        start(page, "convert")
        wait_rows(page, "convert", 1)
        line = storage_line(page, "some")
        assert re.search(r"stored now: [\d.]+ [kM]B", line), line
        page.once("dialog", lambda d: d.accept())
        page.click("#clear-history")
        page.wait_for_function("() => document.getElementById('storage-note').dataset.results === '0'",
                               timeout=30_000)
        assert "stored now: none" in page.locator("#storage-note").inner_text()
    finally:
        context.close()
