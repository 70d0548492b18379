"""pixelpress embedded in another app, as an embedder would do it (issue 13).

`npm pack` turns the built dist/ into the client's package; the example app
(examples/fallback-app) installs that tarball offline, copies the runtime out
with the package's own `pixelpress-copy-runtime --versioned`, and a second
host on another origin (localhost vs 127.0.0.1) serves the copy with the CORS
header docs/deploy.md asks for. The app's page, under the strict CSP
docs/embedding.md documents, imports the client from that origin. Its own
oil-paint server answers 500 first and then hangs; both times the page gets
a painting made on the device, and says why.
"""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from browser_harness import CORS_HEADERS, DIST, ROOT, serve_static
from PIL import Image
from samples import photo_bytes
from test_studio_support import SHOTS

EXAMPLE = ROOT / "examples" / "fallback-app"

pytestmark = pytest.mark.skipif(shutil.which("npm") is None or shutil.which("node") is None,
                                reason="npm and node install and run the example app")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(args, cwd, **kw) -> str:
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300, check=False, **kw)
    assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def tarball(tmp_path_factory) -> Path:
    if not (DIST / "package.json").exists():
        raise RuntimeError(f"{DIST} has no package.json: run `make build`")
    out = tmp_path_factory.mktemp("pack")
    run(["npm", "pack", "--pack-destination", str(out), "--loglevel=error"], cwd=DIST)
    (found,) = out.glob("pixelpress-*.tgz")
    return found


@pytest.fixture(scope="module")
def app(tmp_path_factory, tarball) -> Path:
    """The example app with the tarball installed, as its README says (offline: the file is all it needs)."""
    app = tmp_path_factory.mktemp("app") / "fallback-app"
    shutil.copytree(EXAMPLE, app, ignore=shutil.ignore_patterns("node_modules", "package-lock.json"))
    env = {**os.environ, "npm_config_cache": str(tmp_path_factory.mktemp("npm-cache"))}
    run(["npm", "install", str(tarball), "--offline", "--no-audit", "--no-fund", "--loglevel=error"], cwd=app, env=env)
    return app


def test_the_tarball_holds_the_client_the_workers_the_runtime_and_the_types(app):
    pkg = app / "node_modules" / "pixelpress"
    meta = json.loads((pkg / "package.json").read_text())
    assert meta["exports"]["."] == {"types": "./client/pixelpress.d.ts", "default": "./client/pixelpress.js"}
    manifest = json.loads((pkg / "asset-manifest.json").read_text())
    for path in ("client/pixelpress.js", "client/pixelpress.d.ts", "client/operations.d.ts", "worker/engine-worker.js",
                 "worker/model-worker.js", "worker/operations.js", "pyodide/pyodide.asm.wasm", "pyodide/pyodide-lock.json",
                 "vendor/ort/ort-wasm-simd-threaded.wasm"):
        assert (pkg / path).is_file(), path
    # every file the manifest lists is in the package, with its bytes
    missing = [p for p, e in manifest["files"].items() if (pkg / p).stat().st_size != e["bytes"]]
    assert not missing
    assert json.loads((app / "package.json").read_text())["dependencies"]["pixelpress"].startswith("file:")


@pytest.fixture(scope="module")
def cdn(app, tmp_path_factory):
    """The package's runtime, copied out by its own command into a versioned folder on a second origin."""
    root = tmp_path_factory.mktemp("cdn")
    out = run([str(app / "node_modules" / ".bin" / "pixelpress-copy-runtime"), str(root / "pixelpress"), "--versioned"],
              cwd=app)
    (version,) = [p.name for p in (root / "pixelpress").iterdir()]
    assert f"version {version}" in out
    log: list = []
    with serve_static(root, host="localhost", headers=CORS_HEADERS, log=log) as url:
        yield {"base": f"{url}pixelpress/{version}/", "log": log}


@pytest.fixture(scope="module")
def app_url(app, cdn):
    port = free_port()
    proc = subprocess.Popen(["node", "server.mjs", "--port", str(port), "--pixelpress", cdn["base"]], cwd=app,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(url, timeout=1)
                break
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError(f"the example server exited: {proc.stdout.read()}") from None
                time.sleep(0.1)
        yield url
    finally:
        proc.kill()
        proc.wait()


def watch_csp(page) -> list:
    """Every message the page or its workers log about the Content Security Policy."""
    refused: list = []

    def note(m):
        if "Content Security Policy" in m.text:
            refused.append(m.text)

    page.on("console", note)
    page.on("worker", lambda w: w.on("console", note))
    return refused


def distinct(a: np.ndarray) -> int:
    return len(np.unique(a.reshape(-1, 3), axis=0))


def near_flat(a: np.ndarray) -> float:
    """Share of pixels within 3 levels of their right-hand neighbour: paint strokes are flat."""
    return float((np.abs(a[:, 1:].astype(int) - a[:, :-1]).max(2) <= 3).mean())


def paint_once(page) -> dict:
    n = page.evaluate("() => window.paintbox.results.length")
    page.click("#paint")
    page.wait_for_function("(n) => window.paintbox.results.length > n", arg=n, timeout=180_000)
    return page.evaluate("""async () => {
        const r = window.paintbox.results.at(-1);
        if (!r.blob) return r;
        const buf = new Uint8Array(await r.blob.arrayBuffer());
        let s = '';
        for (let i = 0; i < buf.length; i += 0x8000) s += String.fromCharCode(...buf.subarray(i, i + 0x8000));
        return { ...r, blob: null, type: r.blob.type, data: btoa(s) };
    }""")


def test_server_fails_with_500_then_hangs_and_the_device_paints_it(browser, app_url, cdn):
    photo = photo_bytes("coffee.png", fmt="JPEG", quality=90)
    src = np.asarray(Image.open(io.BytesIO(photo)).convert("RGB"))
    context = browser.new_context(viewport={"width": 900, "height": 1000})
    page = context.new_page()
    refused = watch_csp(page)
    try:
        page.goto(f"{app_url}?serverTimeoutMs=2500")
        page.set_input_files("#photo", files=[{"name": "coffee.jpg", "mimeType": "image/jpeg", "buffer": photo}])

        results = [paint_once(page), paint_once(page)]
        for r in results:
            assert r.get("path") == "device", r
        assert (results[0]["reason"]["code"], results[0]["reason"]["status"]) == ("http_500", 500)
        assert results[1]["reason"]["code"] == "timeout"
        assert page.locator("#status").get_attribute("data-state") == "done"
        assert "timeout" in page.locator("#log li").nth(1).inner_text()

        for r in results:
            out = Image.open(io.BytesIO(base64.b64decode(r["data"])))
            out.load()
            assert (out.format, out.size, r["type"]) == ("JPEG", (600, 400), "image/jpeg")
            assert (r["meta"]["width"], r["meta"]["height"]) == (600, 400)
            painted = np.asarray(out.convert("RGB"))
            # Painted, not the photo sent back: fewer colours, flat strokes (the op's own tests measure it further).
            assert distinct(painted) < 0.85 * distinct(src)
            assert near_flat(painted) > near_flat(src) + 0.15

        # Its server was asked twice, and everything pixelpress fetched came from the other origin, by CORS.
        assert json.loads(urllib.request.urlopen(f"{app_url}api/calls").read())["calls"] == 2
        fetched = {path.split("/", 3)[-1]: origin for _, path, origin in cdn["log"]}
        for f in ("client/pixelpress.js", "worker/engine-worker.js", "pyodide/pyodide.asm.wasm",
                  "asset-manifest.json"):
            assert fetched.get(f) == app_url.rstrip("/"), (f, fetched)
        assert any(f.startswith("pyodide/opencv_python-") for f in fetched)
        # Nothing registered, no cross-origin isolation needed, and the strict CSP refused nothing.
        assert page.evaluate("async () => (await navigator.serviceWorker.getRegistrations()).length") == 0
        assert page.evaluate("() => crossOriginIsolated") is False
        assert not refused, refused

        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "embed-fallback-app.png"), full_page=True)
    finally:
        context.close()


def test_background_removal_runs_the_network_under_the_same_csp(browser, app_url):
    """The model worker (onnxruntime-web) starts from the other origin too, and the network runs (no classical fallback)."""
    context = browser.new_context()
    page = context.new_page()
    refused = watch_csp(page)
    try:
        page.goto(app_url)
        photo = photo_bytes("chelsea.png", fmt="JPEG")
        out = page.evaluate("""async (b64) => {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const r = await window.paintbox.px.run('remove_background', new Blob([bytes]), {});
            return { type: r.blob.type, width: r.meta.width, matte: r.meta.matte };
        }""", base64.b64encode(photo).decode())
    finally:
        context.close()
    assert (out["type"], out["width"]) == ("image/png", 451)
    assert out["matte"]["method"] == "neural" and "fallback_reason" not in out["matte"], out["matte"]
    assert not refused, refused
