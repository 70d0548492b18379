"""The studio under a sub-path finds its server under that same path (issue 13).

A host serves the built site at /tools/pixelpress/ and a pixelpress server
behind /tools/pixelpress/api/ (a reverse proxy's usual layout), and answers
404 for anything at the site root. The studio must probe
/tools/pixelpress/api/health, show what that server has ("Server: uploads"), and upload there.
"""

from __future__ import annotations

import functools
import http.server
import json
import threading
from contextlib import contextmanager

import pytest
from browser_harness import DIST, _Handler
from samples import photo_bytes
from test_studio_support import file_payload, open_studio, stage, start, wait_rows

BASE = "/tools/pixelpress/"


class _SubpathHost(_Handler):
    requests: list = []

    def translate_path(self, path):
        path = path.split("?", 1)[0]
        if not path.startswith(BASE):
            return str(DIST / "__outside__")
        return http.server.SimpleHTTPRequestHandler.translate_path(self, "/" + path[len(BASE):])

    def _json(self, body: dict, status: int = 200):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.requests.append(("GET", self.path))
        if self.path.split("?")[0] == f"{BASE}api/health":
            return self._json({"status": "ok", "storage": "local", "partners": {"api4ai": {"configured": False}}})
        return super().do_GET()

    def do_POST(self):
        self.requests.append(("POST", self.path))
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path == f"{BASE}api/v1/uploads":
            host = self.headers["Host"]
            return self._json({"url": f"http://{host}{BASE}api/v1/uploads/convert/result.png"})
        return self._json({"error": {"code": "not_found", "message": "nothing here"}}, 404)


@contextmanager
def serve_under_subpath():
    handler = type("Host", (_SubpathHost,), {"requests": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(DIST)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{BASE}", handler.requests
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def host():
    with serve_under_subpath() as served:
        yield served


def test_health_probe_and_uploads_go_to_the_studios_own_base(browser, host):
    url, requests = host
    context = browser.new_context()
    try:
        page = open_studio(context, f"{url}?nosw")
        page.wait_for_selector("#server-badge[data-path=server]")
        assert page.locator("#server-badge").inner_text() == "Server: uploads"  # all its health reports

        stage(page, "convert", [file_payload("photo.jpg", photo_bytes("chelsea.png"))])
        start(page, "convert")
        wait_rows(page, "convert", 1)
        job = page.locator("#view-convert .job").first
        assert job.get_attribute("data-status") == "done"
        job.locator(".upload button").click()
        link = page.wait_for_selector("#view-convert .upload-out a")
        assert link.get_attribute("href").startswith(f"{url}api/v1/uploads/")
    finally:
        context.close()

    api = [(method, path) for method, path in requests if "/api/" in path]
    assert ("GET", f"{BASE}api/health") in api
    assert ("POST", f"{BASE}api/v1/uploads") in api
    assert all(path.startswith(f"{BASE}api/") for _, path in api), api  # nothing at the site root's /api/
