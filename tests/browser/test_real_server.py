"""The studio against the real pixelpress-server, not mocks: embedded default and a server that dies.

Without partner keys the server's health says API4.ai is not configured, so
the page cuts photos out on this device without sending them to the server
at all; uploads go to the server's local folder and come back from it. When a
server with API4.ai disappears mid-session, the next job falls back and says why.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.request

import composites
import pytest
from browser_harness import DIST, ROOT
from test_studio_support import file_payload, open_studio, stage, start, wait_rows


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(tmp_path, cors_origin: str = "", **partners):
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "py"), "PIXELPRESS_UPLOAD_DIR": str(tmp_path / "uploads"),
           "PIXELPRESS_CORS_ORIGINS": cors_origin}
    for key in [k for k in env if k.startswith("PIXELPRESS_") and k.endswith(("_KEY", "_URL"))]:
        env.pop(key)  # the embedded default: no partners, whatever the developer's shell has
    env.update({f"PIXELPRESS_{k.upper()}": v for k, v in partners.items()})
    proc = subprocess.Popen([sys.executable, "-m", "pixelpress_server", "--host", "127.0.0.1", "--port", str(port),
                             "--static", str(DIST)], env=env, cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{base}/health", timeout=1)
            return proc, base
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError("pixelpress-server exited at start") from None
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("pixelpress-server did not answer /health")


@pytest.fixture
def car_jpg():
    return composites.make(5).data


def run_car_listing(page, data: bytes):
    stage(page, "car-listing", [file_payload("car.jpg", data)])
    start(page, "car-listing")
    wait_rows(page, "car-listing", 1, timeout=120_000)
    job = page.locator("#view-car-listing .job").first
    return job


def test_same_origin_embedded_default_cuts_out_here_and_uploads_locally(browser, tmp_path, car_jpg):
    proc, base = start_server(tmp_path)
    context = browser.new_context()
    try:
        page = open_studio(context, f"{base}/?nosw#car-listing")
        asked = []
        page.on("request", lambda r: asked.append(r.url) if "remove-background" in r.url else None)
        page.wait_for_selector("#server-badge[data-path=server]")
        job = run_car_listing(page, car_jpg)
        assert job.get_attribute("data-status") == "done"
        assert job.locator(".badge.path").get_attribute("data-path") == "device"
        # Health said API4.ai is not configured: no doomed request, no fallback note.
        assert asked == []
        assert "unavailable" not in job.locator(".job-msg").inner_text()
        job.locator(".upload button").click()
        link = page.wait_for_selector("#view-car-listing .upload-out a")
        url = link.get_attribute("href")
        body = urllib.request.urlopen(url, timeout=10).read()
        assert body[:8] == b"\x89PNG\r\n\x1a\n"
        assert any(p.suffix == ".png" for p in (tmp_path / "uploads").rglob("*"))
        # The same photo again, same name, same day: a folder of its own, and the row says which.
        again = run_car_listing(page, car_jpg)
        again.locator(".upload button").click()
        page.wait_for_function("(el) => el.querySelector('.upload-out a')", arg=again.element_handle(), timeout=30_000)
        said = [page.locator("#view-car-listing .upload-out").nth(i).inner_text() for i in range(2)]
        folders = {t.split("Uploaded to ")[1].split("/: ")[0] for t in said}
        assert len(folders) == 2 and all(f.startswith("car-listing/") for f in folders), said
        for f in folders:
            assert sorted(x.name for x in (tmp_path / "uploads" / f).iterdir()) == \
                ["car-detail.png", "car-grid.png", "car-processed.png"]
    finally:
        context.close()
        proc.kill()
        proc.wait()


def test_a_server_that_goes_down_mid_session(browser, site_url, tmp_path, car_jpg):
    origin = site_url.split("/studio/")[0]
    # API4.ai configured (at an address nothing answers), so the page means to use the server.
    proc, base = start_server(tmp_path, cors_origin=origin, api4ai_url=f"http://127.0.0.1:{free_port()}",
                              api4ai_key="test-key")
    context = browser.new_context()
    try:
        page = open_studio(context, f"{site_url}?nosw&server={base}#car-listing")
        page.wait_for_selector("#server-badge[data-path=server]")
        proc.kill()
        proc.wait()
        job = run_car_listing(page, car_jpg)
        assert job.get_attribute("data-status") == "done"
        assert job.locator(".badge.path").get_attribute("data-path") == "device"
        assert "the server’s cut-out failed" in job.locator(".job-msg").inner_text()
        assert "server background removal unavailable" in job.locator(".job-why").text_content()
    finally:
        context.close()
        if proc.poll() is None:
            proc.kill()
