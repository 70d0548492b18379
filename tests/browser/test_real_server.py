"""The studio against the real pixelpress-server, not mocks: embedded default and a server that dies.

Without partner keys the server's background removal answers 503
`not_configured`, so the page must fall back to this device and say why;
uploads go to the server's local folder and come back from it. When the
server disappears mid-session, the next job falls back too.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

import composites
from browser_harness import DIST, ROOT
from test_studio_support import file_payload, open_studio, stage, start, wait_rows


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(tmp_path, cors_origin: str = ""):
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "py"), "PIXELPRESS_UPLOAD_DIR": str(tmp_path / "uploads"),
           "PIXELPRESS_CORS_ORIGINS": cors_origin}
    for key in [k for k in env if k.startswith("PIXELPRESS_") and k.endswith(("_KEY", "_URL"))]:
        env.pop(key)  # the embedded default: no partners, whatever the developer's shell has
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
                raise RuntimeError("pixelpress-server exited at start")
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


def test_same_origin_embedded_default_falls_back_and_uploads_locally(browser, tmp_path, car_jpg):
    proc, base = start_server(tmp_path)
    context = browser.new_context()
    try:
        page = open_studio(context, f"{base}/?nosw#car-listing")
        page.wait_for_selector("#server-badge[data-path=server]")
        job = run_car_listing(page, car_jpg)
        assert job.get_attribute("data-status") == "done"
        assert job.locator(".badge.path").get_attribute("data-path") == "device"
        assert "not configured" in job.locator(".job-msg").inner_text().lower()
        job.locator(".upload button").click()
        link = page.wait_for_selector("#view-car-listing .upload-out a")
        url = link.get_attribute("href")
        body = urllib.request.urlopen(url, timeout=10).read()
        assert body[:8] == b"\x89PNG\r\n\x1a\n"
        assert any(p.suffix == ".png" for p in (tmp_path / "uploads").rglob("*"))
    finally:
        context.close()
        proc.kill()
        proc.wait()


def test_a_server_that_goes_down_mid_session(browser, site_url, tmp_path, car_jpg):
    origin = site_url.split("/studio/")[0]
    proc, base = start_server(tmp_path, cors_origin=origin)
    context = browser.new_context()
    try:
        page = open_studio(context, f"{site_url}?nosw&server={base}#car-listing")
        page.wait_for_selector("#server-badge[data-path=server]")
        proc.kill()
        proc.wait()
        job = run_car_listing(page, car_jpg)
        assert job.get_attribute("data-status") == "done"
        assert job.locator(".badge.path").get_attribute("data-path") == "device"
        assert "server background removal unavailable" in job.locator(".job-msg").inner_text()
    finally:
        context.close()
        if proc.poll() is None:
            proc.kill()
