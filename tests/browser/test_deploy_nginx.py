"""docs/deploy.md's nginx.conf, run by a real nginx as an ordinary user, serving pixelpress to another origin.

The file is read from the doc itself (only `listen` and `root` are changed)
and started as the doc says (`nginx -p PREFIX -c nginx.conf -e stderr`), so
the doc cannot drift from what is tested. It runs as `nobody` when the tests
run as root (CI does), so a config that writes its pid, logs or temporary
files where only root may fails here. It must send the MIME types a browser
insists on, the CORS header, the two caching rules, no COOP/COEP, and a page
of another origin must run an operation from it.
"""

from __future__ import annotations

import base64
import json
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
from browser_harness import DIST, ROOT, serve_static
from samples import photo_bytes

pytestmark = pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed (make setup installs it)")
TEMP_PATHS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def doc_conf() -> str:
    text = (ROOT / "docs" / "deploy.md").read_text()
    (conf,) = re.findall(r"```nginx\n(.*?)```", text, re.S)
    return conf


def as_user() -> tuple[list[str], int | None]:
    """The command prefix that runs nginx as an ordinary user, and that user's uid (None: already one)."""
    if os.geteuid() != 0:
        return [], None
    uid = pwd.getpwnam("nobody").pw_uid
    if shutil.which("runuser"):
        return ["runuser", "-u", "nobody", "--"], uid
    if shutil.which("setpriv"):
        return ["setpriv", f"--reuid={uid}", f"--regid={pwd.getpwnam('nobody').pw_gid}", "--clear-groups"], uid
    pytest.skip("running as root without runuser or setpriv: cannot start nginx as an ordinary user")


def test_the_documented_conf_writes_only_under_its_prefix():
    """pid, logs and every temporary-file path set, and relative (to -p): nothing under /var or /run."""
    conf = doc_conf()
    settings = {k: v for k, v in re.findall(r"^\s*(pid|error_log|access_log|\w+_temp_path)\s+([^;\s]+)", conf, re.M)}
    wanted = {"pid", "error_log", "access_log", *(f"{t}_temp_path" for t in TEMP_PATHS)}
    assert set(settings) >= wanted, f"not set: {sorted(wanted - set(settings))}"
    absolute = {k: v for k, v in settings.items() if v.startswith("/")}
    assert not absolute, absolute
    assert not re.search(r"^\s*user\s", conf, re.M), "a `user` line makes sense only for root"
    (port,) = re.findall(r"listen (\d+);", conf)
    assert int(port) > 1024, "an ordinary user cannot bind a port below 1024"


@pytest.fixture(scope="module")
def nginx():
    prefix_cmd, uid = as_user()
    # Not pytest's tmp dirs (mode 700 under root's): the ordinary user must own the prefix and read the site.
    tmp = Path(tempfile.mkdtemp(prefix="pixelpress-nginx-"))
    tmp.chmod(0o755)
    www, prefix = tmp / "www", tmp / "prefix"
    version = json.loads((DIST / "asset-manifest.json").read_text())["version"]
    # A copy, not a link to DIST: the checkout may sit where that user cannot go (CI clones under /root).
    shutil.copytree(DIST, www / "pixelpress")
    for path in [www, *www.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    (www / "pixelpress-builds").mkdir()
    (www / "pixelpress-builds" / version).symlink_to(www / "pixelpress", target_is_directory=True)
    prefix.mkdir()
    if uid is not None:
        os.chown(prefix, uid, -1)
    port = free_port()
    conf, n_listen = re.subn(r"listen \d+;", f"listen 127.0.0.1:{port};", doc_conf())
    conf, n_root = re.subn(r"root /srv/www;", f"root {www};", conf)
    assert (n_listen, n_root) == (1, 1), "the doc's file must keep one `listen 8080;` and one `root /srv/www;`"
    (prefix / "nginx.conf").write_text(conf)
    # As docs/deploy.md starts it; `-g "daemon off;"` only keeps it in the foreground for the test to stop.
    proc = subprocess.Popen([*prefix_cmd, "nginx", "-p", str(prefix), "-c", "nginx.conf", "-e", "stderr",
                             "-g", "daemon off;"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
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
        else:
            raise RuntimeError("nginx did not answer within 10 s")
        # It wrote where the doc says, as that user.
        for made in ("nginx.pid", "error.log", "client_body_temp"):
            assert (prefix / made).exists(), made
            if uid is not None:
                assert (prefix / made).stat().st_uid == uid, made
        yield {"base": base, "version": version}
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)


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
