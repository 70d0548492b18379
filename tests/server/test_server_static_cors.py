"""`PIXELPRESS_STATIC_CORS_ORIGINS` (`--static-cors-origins`): a page on another origin may load the
runtime from `--static` (import the client, start the worker, fetch Pyodide, wasm and models), while
the API's CORS and same-origin rule stay exactly as `CORS_ORIGINS` makes them (issue 26, item 9)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from server_helpers import console_server

OTHER = "http://other.example"
RUNTIME = ["client/pixelpress.js", "client/start-worker.js", "worker/worker.js", "pyodide/pyodide.mjs",
           "pyodide/pyodide.asm.wasm", "pyodide/pyodide-lock.json", "models/u2netp.onnx",
           "wheels/pixelpress-0.1.0-py3-none-any.whl"]
API = [("GET", "/api/health"), ("GET", "/health"), ("GET", "/metrics"), ("POST", "/api/v1/remove-background")]


@pytest.fixture
def site(tmp_path) -> Path:
    root = tmp_path / "dist"
    for name in [*RUNTIME, "index.html"]:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"export {};" if name.endswith("js") else b"\0asm\x01\0\0\0")
    return root


def test_runtime_files_carry_no_cors_header_unless_configured(make_server, client, site):
    base, _ = make_server(static_dir=site)
    for name in RUNTIME:
        r = client.get(f"{base}/{name}", headers={"Origin": OTHER})
        assert r.status_code == 200
        assert "access-control-allow-origin" not in r.headers, name


def test_configured_origins_may_load_the_runtime_and_nothing_more(make_server, client, site, tmp_path):
    base, _ = make_server(static_dir=site, static_cors_origins=f"{OTHER},https://shop.example")
    for name in RUNTIME:
        r = client.get(f"{base}/{name}", headers={"Origin": OTHER})
        assert r.status_code == 200, name
        assert r.headers["access-control-allow-origin"] == OTHER, name
        assert "origin" in r.headers["vary"].lower()
        assert "cross-origin-resource-policy" not in r.headers  # nothing that would block the load
        # A revalidation (304) keeps the header too.
        again = client.get(f"{base}/{name}", headers={"Origin": OTHER, "If-None-Match": r.headers["etag"]})
        assert again.status_code == 304 and again.headers["access-control-allow-origin"] == OTHER
    # Another origin gets nothing, and the answer says it depends on Origin (shared caches).
    r = client.get(f"{base}/client/pixelpress.js", headers={"Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in r.headers and "origin" in r.headers["vary"].lower()
    # A preflight for a site file is answered (GET, HEAD only).
    pre = client.options(f"{base}/pyodide/pyodide.asm.wasm",
                         headers={"Origin": OTHER, "Access-Control-Request-Method": "GET"})
    assert pre.status_code == 204 and pre.headers["access-control-allow-origin"] == OTHER
    assert pre.headers["access-control-allow-methods"] == "GET, HEAD"
    post = client.options(f"{base}/client/pixelpress.js",
                          headers={"Origin": OTHER, "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in post.headers
    # The API is not opened: no CORS header, its preflight is not answered, and a cross-origin
    # POST is still refused by the same-origin rule.
    for method, path in API:
        r = client.request(method, base + path, headers={"Origin": OTHER})
        assert "access-control-allow-origin" not in r.headers, path
    pre = client.options(base + "/api/v1/uploads", headers={"Origin": OTHER, "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in pre.headers
    r = client.post(base + "/api/v1/uploads", headers={"Origin": OTHER},
                    files={"file": ("a.png", b"\x89PNG\r\n\x1a\n", "image/png")}, data={"path": "x.png"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "cross_origin"
    assert not (tmp_path / "uploads").exists() or not any((tmp_path / "uploads").iterdir())


def test_any_origin_with_a_star(make_server, client, site):
    base, _ = make_server(static_dir=site, static_cors_origins="*")
    r = client.get(f"{base}/worker/worker.js", headers={"Origin": OTHER})
    assert r.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-origin" not in client.get(base + "/api/health", headers={"Origin": OTHER}).headers


def test_the_api_allowlist_is_unchanged_beside_it(make_server, client, site):
    """CORS_ORIGINS still opens the API to its own origins; a runtime-only origin is not let in."""
    base, _ = make_server(static_dir=site, static_cors_origins=OTHER, cors_origins="https://studio.example")
    r = client.get(base + "/api/health", headers={"Origin": "https://studio.example"})
    assert r.headers["access-control-allow-origin"] == "https://studio.example"
    assert "access-control-allow-origin" not in client.get(base + "/api/health", headers={"Origin": OTHER}).headers
    pre = client.options(f"{base}/models/u2netp.onnx", headers={"Origin": OTHER, "Access-Control-Request-Method": "GET"})
    assert pre.status_code == 204 and pre.headers["access-control-allow-origin"] == OTHER


def test_a_bad_origin_is_refused_at_start():
    from pixelpress_server.settings import Settings
    from pydantic import ValidationError

    for bad in ("other.example", "http://other.example/path", "ftp://other.example"):
        with pytest.raises(ValidationError, match="STATIC_CORS_ORIGINS"):
            Settings(_env_file=None, static_cors_origins=bad)


def test_the_console_flag(site, tmp_path):
    with console_server(tmp_path, "--static", str(site), "--static-cors-origins", OTHER) as (base, _):
        r = httpx.get(base + "/client/pixelpress.js", headers={"Origin": OTHER}, timeout=5)
        assert r.headers["access-control-allow-origin"] == OTHER
        assert "access-control-allow-origin" not in httpx.get(base + "/api/health", headers={"Origin": OTHER}).headers
