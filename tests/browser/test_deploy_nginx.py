"""docs/deploy.md's nginx server block, run by a real nginx, serving pixelpress to another origin.

The block is read from the doc itself (only `listen` and `root` are changed),
so the doc cannot drift from what is tested. It must send the MIME types a
browser insists on, the CORS header, the two caching rules, no COOP/COEP,
and a page of another origin must run an operation from it.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.request

import pytest
from browser_harness import DIST, ROOT, serve_static
from samples import photo_bytes

pytestmark = pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed (make setup installs it)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def doc_block() -> str:
    text = (ROOT / "docs" / "deploy.md").read_text()
    (block,) = re.findall(r"```nginx\n(.*?)```", text, re.S)
    return block


@pytest.fixture(scope="module")
def nginx(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("nginx")
    www = tmp / "www"
    version = json.loads((DIST / "asset-manifest.json").read_text())["version"]
    (www / "pixelpress-builds").mkdir(parents=True)
    (www / "pixelpress").symlink_to(DIST, target_is_directory=True)
    (www / "pixelpress-builds" / version).symlink_to(DIST, target_is_directory=True)
    port = free_port()
    block = doc_block()
    block, n_listen = re.subn(r"listen \d+;", f"listen 127.0.0.1:{port};", block)
    block, n_root = re.subn(r"root /srv/www;", f"root {www};", block)
    assert (n_listen, n_root) == (1, 1), "the doc's block must keep one `listen 8080;` and one `root /srv/www;`"
    temp = " ".join(f"{k}_temp_path {tmp / k};" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers must read the pytest tmp dirs (mode 700)
    (tmp / "nginx.conf").write_text(
        f"{user}worker_processes 1;\ndaemon off;\nerror_log {tmp / 'error.log'};\npid {tmp / 'nginx.pid'};\n"
        f"events {{ worker_connections 64; }}\nhttp {{\n access_log off;\n {temp}\n{block}\n}}\n")
    proc = subprocess.Popen(["nginx", "-p", str(tmp), "-c", str(tmp / "nginx.conf")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}pixelpress/asset-manifest.json", timeout=1)
                break
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError(f"nginx exited: {proc.stdout.read()}") from None
                time.sleep(0.1)
        yield {"base": base, "version": version}
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def head(url: str) -> dict:
    req = urllib.request.Request(url, headers={"Origin": "http://app.example", "Accept-Encoding": "gzip"})
    with urllib.request.urlopen(req, timeout=10) as res:
        return {k.lower(): v for k, v in res.headers.items()}


@pytest.mark.parametrize(("path", "mime"), [
    ("pyodide/pyodide.mjs", "text/javascript"),
    ("client/pixelpress.js", "text/javascript"),
    ("pyodide/pyodide.asm.wasm", "application/wasm"),
    ("asset-manifest.json", "application/json"),
    ("index.html", "text/html"),
])
def test_types_cors_and_caching(nginx, path, mime):
    stable = head(f"{nginx['base']}pixelpress/{path}")
    built = head(f"{nginx['base']}pixelpress-builds/{nginx['version']}/{path}")
    for h in (stable, built):
        assert h["content-type"].split(";")[0] == mime
        assert h["access-control-allow-origin"] == "*"
        assert not {"cross-origin-opener-policy", "cross-origin-embedder-policy"} & set(h)
    assert stable["cache-control"] == "no-cache"
    assert built["cache-control"] == "public, max-age=31536000, immutable"


def test_a_page_of_another_origin_runs_pixelpress_from_nginx(browser, nginx, tmp_path):
    (tmp_path / "index.html").write_text("<!doctype html><title>app</title>")
    base = f"{nginx['base']}pixelpress-builds/{nginx['version']}/"
    context = browser.new_context()
    try:
        with serve_static(tmp_path) as app:
            page = context.new_page()
            page.goto(app)
            out = page.evaluate("""async ([base, b64]) => {
                const { PixelpressClient } = await import(base + 'client/pixelpress.js');
                const px = new PixelpressClient();
                const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
                const r = await px.run('convert', bytes, { format: 'webp' });
                return { type: r.blob.type, width: r.meta.width, isolated: crossOriginIsolated, base: px.baseUrl };
            }""", [base, base64.b64encode(photo_bytes("chelsea.png")).decode()])
    finally:
        context.close()
    assert out == {"type": "image/webp", "width": 451, "isolated": False, "base": base}
