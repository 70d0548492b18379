"""Drive the built site in real Chromium over real HTTP (tests and bench share this).

The site is served from dist/ under a sub-path (/studio/) by a threaded
stdlib HTTP server on 127.0.0.1, which proves every URL in it is relative.
Chromium is Debian's (/usr/bin/chromium), driven by Playwright from PyPI;
`playwright install` downloads a browser and is never used.
"""

from __future__ import annotations

import base64
import functools
import http.server
import importlib.util
import io
import os
import shutil
import threading
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DIST = Path(os.environ.get("PIXELPRESS_DIST") or ROOT / "dist")  # another build to test, e.g. /tmp/dist-x
SUBPATH = "/studio/"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
MIME = {".wasm": "application/wasm", ".mjs": "text/javascript", ".js": "text/javascript",
        ".whl": "application/octet-stream", ".zip": "application/octet-stream",
        ".webmanifest": "application/manifest+json", ".json": "application/json"}


def chromium_path() -> str:
    path = os.environ.get("PIXELPRESS_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        raise RuntimeError("Chromium not found: install Debian's `chromium` (make setup does).")
    return path


class _Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, **MIME}

    def translate_path(self, path):
        if not path.startswith(SUBPATH):
            return str(DIST / "__outside_subpath__")  # 404: nothing lives at the root
        return super().translate_path("/" + path[len(SUBPATH):])

    extra_headers: dict[str, str] = {}

    def end_headers(self):
        self.send_header("Cache-Control", "no-cache")
        for k, v in self.extra_headers.items():
            self.send_header(k, v)
        super().end_headers()

    def log_message(self, *args):  # keep test output readable
        pass


# What docs/deploy.md asks of a host for a cross-origin isolated studio (threads in the model worker).
ISOLATION_HEADERS = {"Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp"}


@contextmanager
def serve_dist(directory: Path = DIST, *, isolated: bool = False):
    """Serve the built site under SUBPATH; `isolated` adds COOP/COEP to every answer (crossOriginIsolated)."""
    if not (directory / "index.html").exists():
        raise RuntimeError(f"{directory} is not built: run `make build` first.")
    handler_class = type("Handler", (_Handler,), {"extra_headers": ISOLATION_HEADERS if isolated else {}})
    handler = functools.partial(handler_class, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{SUBPATH}"
    finally:
        server.shutdown()
        server.server_close()


class _StaticHandler(http.server.SimpleHTTPRequestHandler):
    """A static host for the embedding tests: `prefix` maps to the directory, extra headers on every answer,
    and a log of (method, path, Origin header) for the tests to read."""

    extensions_map = _Handler.extensions_map
    prefix = "/"
    extra_headers: dict[str, str] = {}
    log: list | None = None
    tamper: dict[str, bytes] = {}  # path under prefix -> bytes served instead of the file's

    def translate_path(self, path):
        path = path.split("?", 1)[0]
        if not path.startswith(self.prefix):
            return str(Path(self.directory) / "__outside_prefix__")
        return super().translate_path("/" + path[len(self.prefix):])

    def send_head(self):
        if self.log is not None:
            self.log.append((self.command, self.path, self.headers.get("Origin")))
        rel = self.path.split("?", 1)[0][len(self.prefix):]
        if rel in self.tamper:
            body = self.tamper[rel]
            self.send_response(200)
            self.send_header("Content-Type", self.guess_type(rel))
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            return io.BytesIO(body)
        return super().send_head()

    def end_headers(self):
        self.send_header("Cache-Control", "no-cache")
        for k, v in self.extra_headers.items():
            self.send_header(k, v)
        super().end_headers()

    def log_message(self, *args):
        pass


# What docs/deploy.md asks of a host serving pixelpress to pages of other origins.
CORS_HEADERS = {"Access-Control-Allow-Origin": "*"}


@contextmanager
def serve_static(directory: Path, *, prefix: str = "/", host: str = "127.0.0.1", headers: dict | None = None,
                 log: list | None = None, tamper: dict | None = None):
    """Serve `directory` at http://HOST:PORT{prefix}; yields that URL."""
    handler_class = type("Handler", (_StaticHandler,), {"prefix": prefix, "extra_headers": dict(headers or {}),
                                                       "log": log, "tamper": dict(tamper or {})})
    handler = functools.partial(handler_class, directory=str(directory))
    server = http.server.ThreadingHTTPServer((host, 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://{host}:{server.server_address[1]}{prefix}"
    finally:
        server.shutdown()
        server.server_close()


# Chromium's software WebGPU adapter (SwiftShader on the CPU): WebGPU runs here without a GPU, slowly.
WEBGPU_FLAGS = ["--enable-unsafe-webgpu", "--use-webgpu-adapter=swiftshader", "--enable-unsafe-swiftshader"]


def launch(playwright, *, webgpu: bool = False, **kw):
    """Chromium from `playwright` (or a BrowserType, e.g. another browser's `browser_type`)."""
    args = [f for f in CHROMIUM_FLAGS if f != "--disable-gpu"] + WEBGPU_FLAGS if webgpu else CHROMIUM_FLAGS
    return getattr(playwright, "chromium", playwright).launch(executable_path=chromium_path(), args=args, **kw)


MODEL_WORKER_JS = """async ([tensors, dims, config, repeat]) => {
  const worker = new Worker(new URL('worker/model-worker.js', location.href), { type: 'module' });
  let next = 1;
  const pending = new Map();
  worker.onmessage = ({ data }) => { if (data.type === 'result') pending.get(data.id)(data); };
  worker.onerror = (e) => { for (const f of pending.values()) f({ ok: false, error: { message: e.message } }); };
  const ask = (msg, transfer = []) => new Promise((resolve) => {
    const id = next++;
    pending.set(id, resolve);
    worker.postMessage({ ...msg, id }, transfer);
  });
  try {
    if (config) { const r = await ask({ type: 'configure', ...config }); if (!r.ok) return r; }
    const warm = await ask({ type: 'warm' });
    if (!warm.ok) return warm;
    const runs = [];
    const maps = [];
    let last;
    for (const b64 of tensors) {
      const tensor = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)).buffer;
      const times = [];
      for (let i = 0; i < repeat; i++) {
        const copy = tensor.slice(0);
        const t0 = performance.now();
        last = await ask({ type: 'infer', tensor: copy, dims }, [copy]);
        if (!last.ok) return last;
        times.push(performance.now() - t0);
      }
      runs.push(times);
      const out = new Uint8Array(last.data);
      let s = '';
      for (let i = 0; i < out.length; i += 0x8000) s += String.fromCharCode(...out.subarray(i, i + 0x8000));
      maps.push(btoa(s));
    }
    return { ok: true, runs, maps, backend: last?.backend ?? warm.backend, warmBackend: warm.backend,
             dims: last?.dims, isolated: self.crossOriginIsolated };
  } finally {
    worker.terminate();
  }
}"""


def model_worker_run(page, tensors, config: dict | None = None, repeat: int = 1) -> dict:
    """Run the site's model worker on `page` directly, each 1x3xSxS float32 tensor `repeat` times.

    {"ok", "runs": [[ms per infer, as the page waits] per tensor], "maps": [SxS float32 per tensor], "backend",
    "warmBackend" (before the first run), "isolated"}, or {"ok": False, "error"}. `config` is the worker's
    'configure' message (executionProvider: auto|wasm|webgpu, threads).
    """
    import numpy as np

    tensors = [np.ascontiguousarray(t, np.float32) for t in tensors]
    res = page.evaluate(MODEL_WORKER_JS, [[base64.b64encode(t.tobytes()).decode() for t in tensors],
                                          list(tensors[0].shape), config, repeat])
    if res.get("ok"):
        res["maps"] = [np.frombuffer(base64.b64decode(m), np.float32).reshape(res["dims"][-2:]) for m in res["maps"]]
    return res


class BrowserEngine:
    """Runs engine operations through the page's client and worker pool."""

    def __init__(self, page):
        self.page = page

    def wait_ready(self, timeout_ms: int = 60_000) -> dict:
        """Wait for the page's client, then for a worker that can take jobs; returns its ready message."""
        self.page.wait_for_function("() => window.pixelpress !== undefined", timeout=timeout_ms)
        return self.page.evaluate("() => window.pixelpress.ready()")

    def run(self, op: str, data: bytes, options: dict | None = None, timeout_ms: int = 180_000) -> dict:
        """{"ok": True, "meta", "outputs": [{"name", "mime", "data": bytes, "meta"}], "ms", "progress"}
        or {"ok": False, "error"}. `progress` lists the op-progress events the page saw."""
        res = self.page.evaluate(
            """async ([op, b64, options, timeoutMs]) => {
                const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
                const progress = [];
                try {
                  const r = await window.pixelpress.run(op, bytes, options, { timeoutMs, onProgress: (p) => progress.push(p) });
                  const outputs = [];
                  for (const o of r.outputs) {
                    const buf = new Uint8Array(await o.blob.arrayBuffer());
                    let s = '';
                    for (let i = 0; i < buf.length; i += 0x8000) s += String.fromCharCode(...buf.subarray(i, i + 0x8000));
                    outputs.push({ name: o.name, mime: o.blob.type, data: btoa(s), meta: o.meta });
                  }
                  return { ok: true, meta: r.meta, outputs, ms: r.ms, progress };
                } catch (e) {
                  return { ok: false, error: { code: e.code, message: e.message, field: e.field } };
                }
            }""",
            [op, base64.b64encode(data).decode(), options or {}, timeout_ms],
        )
        for o in res.get("outputs", []):
            o["data"] = base64.b64decode(o["data"])
        return res


def open_engine(playwright, url: str):
    """Headless Chromium on `url` with its engine ready, for the benches: (browser, engine); engine.page is the page."""
    browser = launch(playwright)
    engine = BrowserEngine(browser.new_page())
    engine.page.goto(url)
    engine.wait_ready()
    return browser, engine


@contextmanager
def engine_blocking(browser, url: str, pattern: str):
    """A ready engine on a fresh page whose requests matching `pattern` fail, as offline before they were
    cached: (engine, context); the context is closed after."""
    context = browser.new_context()
    try:
        context.route(pattern, lambda route: route.abort())
        page = context.new_page()
        page.goto(url)
        engine = BrowserEngine(page)
        engine.wait_ready()
        yield engine, context
    finally:
        context.close()


def engine_test_module(name: str):
    """An engine test module (tests/engine/NAME.py), loaded for its seeded file generators.

    Browser tests run the same crafted files through the worker; the engine
    folder is not a package, so the module is loaded from its path.
    """
    path = ROOT / "tests" / "engine" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"engine_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
