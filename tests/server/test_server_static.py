"""--static: the site at / on the same origin, with the MIME types and caching the page needs."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]

FILES = {
    "index.html": ("<!doctype html><title>pixelpress</title>", "text/html", "no-cache"),
    "app.js": ("export const x = 1;", "text/javascript", "no-cache"),
    "worker.mjs": ("export {};", "text/javascript", "no-cache"),
    # Names that stay the same across builds revalidate (the engine wheel was cached for an hour)...
    "pyodide/pyodide.asm.wasm": ("\0asm\x01\0\0\0", "application/wasm", "no-cache"),
    "wheels/pixelpress-0.1.0-py3-none-any.whl": ("PK", "application/octet-stream", "no-cache"),
    "pyodide/python_stdlib.zip": ("PK", "application/octet-stream", "no-cache"),
    # ...and only names that carry their content's hash are immutable.
    "wheels/pixelpress-0.1.0+3f9a1c2e7b-py3-none-any.whl": ("PK", "application/octet-stream",
                                                           "public, max-age=31536000, immutable"),
    "ui/app.5e2b9d41.js": ("export {};", "text/javascript", "public, max-age=31536000, immutable"),
    "manifest.webmanifest": ('{"name": "pixelpress"}', "application/manifest+json", "no-cache"),
}


@pytest.fixture
def site(tmp_path) -> Path:
    root = tmp_path / "dist"
    for name, (text, _, _) in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    # Files named like API routes must not shadow them.
    (root / "health").write_text("static file")
    (root / "metrics").write_text("static file")
    (root / "api").mkdir()
    (root / "api" / "health").write_text("static file")
    return root


@pytest.mark.parametrize("name", list(FILES))
def test_static_types_and_caching(make_server, client, site, name):
    base, _ = make_server(static_dir=site)
    r = client.get(f"{base}/{name}")
    _, mime, cache = FILES[name]
    assert r.status_code == 200
    assert r.headers["content-type"].split(";")[0] == mime
    assert r.headers["cache-control"] == cache


def test_api_routes_win_over_static_files(make_server, client, site):
    base, _ = make_server(static_dir=site)
    assert client.get(base + "/").text.startswith("<!doctype html>")
    assert client.get(base + "/health").json()["status"] == "ok"
    assert client.get(base + "/api/health").json()["status"] == "ok"
    assert "pixelpress_http_requests" in client.get(base + "/metrics").text
    r = client.get(base + "/nope.js")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_console_command_serves_site_and_api(site, tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIXELPRESS_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "py"), env.get("PYTHONPATH", "")])
    proc = subprocess.Popen(
        [sys.executable, "-m", "pixelpress_server", "--port", str(port), "--static", str(site), "--no-access-log"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 15
        while True:
            try:
                health = httpx.get(base + "/api/health", timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stdout.read().decode()
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.1)
        assert health.json()["storage"] == "local"
        page = httpx.get(base + "/")
        assert page.status_code == 200 and "pixelpress" in page.text
        assert httpx.get(base + "/pyodide/pyodide.asm.wasm").headers["content-type"] == "application/wasm"
    finally:
        proc.terminate()
        proc.wait(10)


def test_console_command_refuses_a_missing_static_dir(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT / "py"))
    done = subprocess.run([sys.executable, "-m", "pixelpress_server", "--static", str(tmp_path / "missing")],
                          env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode != 0 and "not a directory" in done.stderr


def test_cors_allowlist(make_server, client):
    base, _ = make_server(cors_origins="https://studio.example")
    pre = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}
    ok = client.options(base + "/api/v1/remove-background", headers={"Origin": "https://studio.example", **pre})
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == "https://studio.example"
    bad = client.options(base + "/api/v1/remove-background", headers={"Origin": "https://evil.example", **pre})
    assert "access-control-allow-origin" not in bad.headers
    r = client.post(base + "/api/v1/remove-background", headers={"Origin": "https://studio.example"})
    assert r.headers["access-control-allow-origin"] == "https://studio.example"
    assert "x-pixelpress-provider" in r.headers["access-control-expose-headers"].lower()


HIDDEN = ["/.env", "/.git/config", "/.git/HEAD", "/pyodide/.secret", "/%2eenv", "/%2Egit/config",
          "/pyodide/../.env", "/.well-known/x", "/linked-secret"]


def test_dotfiles_are_never_served(make_server, client, site):
    (site / ".env").write_text("PIXELPRESS_SUPABASE_KEY=service-role-secret")
    (site / ".git").mkdir()
    (site / ".git" / "config").write_text("[remote] url = secret")
    (site / ".git" / "HEAD").write_text("ref: refs/heads/main")
    (site / "pyodide" / ".secret").write_text("secret")
    (site / ".well-known").mkdir()
    (site / ".well-known" / "x").write_text("secret")
    (site / "linked-secret").symlink_to(site / ".env")
    # The .env is written after the start-up check, as if it appeared later.
    (site / ".env").rename(site / "env.tmp")
    base, _ = make_server(static_dir=site)
    (site / "env.tmp").rename(site / ".env")
    for path in HIDDEN:
        for method in ("GET", "HEAD"):
            r = client.request(method, base + path)
            assert r.status_code == 404, (method, path, r.status_code)
            assert b"secret" not in r.content
    assert client.get(base + "/index.html").status_code == 200


def test_a_site_folder_with_a_dotenv_is_refused(make_server, site):
    (site / ".env").write_text("PIXELPRESS_SUPABASE_KEY=service-role-secret")
    with pytest.raises(ValueError, match=r"\.env"):
        make_server(static_dir=site)


def test_a_site_folder_holding_the_uploads_is_refused(make_server, site):
    with pytest.raises(ValueError, match="upload folder"):
        make_server(static_dir=site, upload_dir=site / "uploads")


def run_console(args, cwd, timeout=20):
    """Start `pixelpress-server`; returns (exit code, output), or (None, output) if it was still serving."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIXELPRESS_")}
    env["PYTHONPATH"] = str(ROOT / "py")
    proc = subprocess.Popen([sys.executable, "-m", "pixelpress_server", "--port", str(free_port()), *args],
                            cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
        return proc.returncode, out
    except subprocess.TimeoutExpired:
        proc.kill()
        return None, proc.communicate()[0]


def test_console_refuses_to_serve_the_working_folder(tmp_path):
    (tmp_path / ".env").write_text("PIXELPRESS_SUPABASE_KEY=service-role-secret\n")
    (tmp_path / "index.html").write_text("<!doctype html>")
    code, out = run_console(["--static", "."], cwd=tmp_path, timeout=15)
    assert code not in (None, 0), "the server started serving its own working folder"
    assert "working folder" in out
    # A parent of the working folder holds it too.
    (tmp_path / "sub").mkdir()
    code, out = run_console(["--static", ".."], cwd=tmp_path / "sub", timeout=15)
    assert code not in (None, 0) and "working folder" in out
