"""Security headers on every answer, HEAD on health, bounded metrics labels, dependency floors."""

from __future__ import annotations

import tomllib
from pathlib import Path

import httpx
import pytest
from server_helpers import metric, raw_request, status_of

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def site(tmp_path) -> Path:
    root = tmp_path / "dist"
    root.mkdir()
    (root / "index.html").write_text("<!doctype html><title>pixelpress</title>")
    return root


def test_every_answer_carries_security_headers(make_server, client, site):
    base, _ = make_server(static_dir=site)
    answers = [client.get(base + "/"), client.get(base + "/api/health"), client.get(base + "/nope"),
               client.post(base + "/api/v1/remove-background"), client.get(base + "/metrics")]
    for r in answers:
        csp = r.headers.get("content-security-policy", "")
        assert "default-src 'self'" in csp and "'wasm-unsafe-eval'" in csp and "worker-src 'self' blob:" in csp, r.url
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
        assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["referrer-policy"] == "no-referrer"


def test_uploads_keep_their_own_sandboxing_policy(make_server, client):
    from samples import photo_bytes

    base, _ = make_server()
    url = client.post(base + "/api/v1/uploads", files={"file": ("a.png", photo_bytes("coffee.png", fmt="PNG"))},
                      data={"path": "a.png"}).json()["url"]
    r = client.get(url)
    assert r.headers["content-security-policy"] == "default-src 'none'; sandbox"
    assert r.headers.get_list("content-security-policy") == ["default-src 'none'; sandbox"]


def test_head_on_health(make_server, client):
    base, _ = make_server()
    for route in ("/health", "/api/health"):
        r = client.head(base + route)
        assert r.status_code == 200 and r.content == b""


def test_invented_methods_share_one_metrics_label(make_server, client):
    base, _ = make_server()
    host = base.removeprefix("http://")
    # Methods the HTTP parser accepts beyond the usual ones (others it refuses before the app).
    methods = ["PROPFIND", "MKCOL", "PURGE", "LOCK", "UNLOCK", "REPORT", "SEARCH", "COPY", "MOVE", "LINK"]
    for method in methods:
        answer = raw_request(base, f"{method} /api/health HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\n\r\n".encode())
        assert status_of(answer) == 405
    text = client.get(base + "/metrics").text
    assert not [m for m in methods if f'method="{m}"' in text]
    assert metric(text, "pixelpress_http_requests_total", method="other", status="405") == len(methods)


def test_dependency_floors_have_the_apis_used():
    server = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["server"]
    floors = {req.split(">=")[0].split("[")[0].strip(): req for req in server}
    # form(max_part_size=) arrived in starlette 0.40; without it every upload is a 500.
    assert "starlette>=0.40" in floors["starlette"]
    from packaging.version import Version

    assert Version(floors["python-multipart"].split(">=")[1].split(",")[0]) >= Version("0.0.27")  # DoS fixes
    import inspect

    from starlette.requests import Request

    assert "max_part_size" in inspect.signature(Request.form).parameters


def test_console_server_sends_no_server_header(tmp_path):
    from server_helpers import console_server

    with console_server(tmp_path) as (base, _):
        r = httpx.get(base + "/api/health")
    assert "server" not in r.headers and r.headers["x-frame-options"] == "DENY"
