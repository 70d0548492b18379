"""What an embedder sees when pixelpress cannot run as asked: typed errors, never a hang (issue 13).

The page is a blank one on 127.0.0.1; pixelpress is served on localhost (another
origin) with the CORS header docs/deploy.md asks for, or without it, or with a
wheel whose bytes no longer match the lock file's sha256.
"""

from __future__ import annotations

import base64
import json

import pytest
from browser_harness import CORS_HEADERS, DIST, serve_static
from samples import photo_bytes

PAGE = "<!doctype html><meta charset=utf-8><title>embedder</title><p>an app of its own</p>"


@pytest.fixture(scope="module")
def app_origin(tmp_path_factory):
    """The embedding app: a blank page, and one whose CSP allows no blob: worker."""
    root = tmp_path_factory.mktemp("embedder")
    (root / "index.html").write_text(PAGE)
    with serve_static(root) as url:
        yield url


@pytest.fixture(scope="module")
def strict_origin(tmp_path_factory):
    root = tmp_path_factory.mktemp("strict")
    (root / "index.html").write_text(PAGE)
    with serve_static(root, headers={"Content-Security-Policy": "worker-src 'self'"}) as url:
        yield url


@pytest.fixture(scope="module")
def cdn():
    with serve_static(DIST, host="localhost", headers=CORS_HEADERS) as url:
        yield url


@pytest.fixture(scope="module")
def cdn_without_cors():
    with serve_static(DIST, host="localhost") as url:
        yield url


def wheel(name: str) -> str:
    lock = json.loads((DIST / "pyodide" / "pyodide-lock.json").read_text())
    return f"pyodide/{lock['packages'][name]['file_name']}"


def tampered(name: str) -> dict:
    data = bytearray((DIST / wheel(name)).read_bytes())
    data[len(data) // 2] ^= 0xFF  # one byte: the zip may still open, the sha256 does not match
    return {wheel(name): bytes(data)}


@pytest.fixture
def page(browser):
    context = browser.new_context()
    yield context.new_page()
    context.close()


# Import the client from `client` and run `op` with a client made with `options`; the outcome as data.
ATTEMPT = """async ([client, options, op, b64]) => {
  const { PixelpressClient } = await import(client + 'client/pixelpress.js');
  let px;
  try {
    px = new PixelpressClient({ prefetch: false, ...options });
  } catch (e) {
    return { thrown: 'constructor', code: e.code, field: e.field, message: e.message };
  }
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const outcome = async (p) => p.then((r) => ({ ok: true, type: r.blob.type, width: r.meta.width }),
    (e) => ({ ok: false, name: e.name, code: e.code, message: e.message }));
  const first = await outcome(px.run(op, bytes, {}));
  const convert = await outcome(px.run('convert', bytes, { format: 'png' }));
  px.terminate();
  return { first, convert };
}"""


def attempt(page, origin, client, options, op="convert"):
    page.goto(origin)
    photo = photo_bytes("chelsea.png", fmt="JPEG")
    return page.evaluate(ATTEMPT, [client, options, op, base64.b64encode(photo).decode()])


def attempt_tampered(browser, app_origin, tamper: dict, op="convert"):
    """`attempt` against a copy of pixelpress on another origin serving `tamper`'s bytes instead of those files'."""
    with serve_static(DIST, host="localhost", headers=CORS_HEADERS, tamper=tamper) as bad:
        context = browser.new_context()
        try:
            return attempt(context.new_page(), app_origin, bad, {}, op=op)
        finally:
            context.close()


def test_the_browser_refuses_a_worker_of_another_origin(page, app_origin, cdn):
    # Why the client starts such workers through a blob: wrapper.
    page.goto(app_origin)
    refused = page.evaluate("""(url) => {
        try { new Worker(url, { type: 'module' }); return null; } catch (e) { return e.name; }
    }""", f"{cdn}worker/engine-worker.js")
    assert refused == "SecurityError"


def test_the_client_from_another_origin_works(page, app_origin, cdn):
    out = attempt(page, app_origin, cdn, {})
    assert out["first"] == {"ok": True, "type": "image/jpeg", "width": 451}


@pytest.mark.parametrize("where", ["another origin", "this origin"])
def test_a_wrong_base_url_is_worker_unavailable(page, app_origin, cdn, where):
    base = f"{cdn}no/such/folder/" if where == "another origin" else "/no/such/folder/"
    out = attempt(page, app_origin, cdn, {"baseUrl": base})
    for r in (out["first"], out["convert"]):  # the next job tries again, and is told again
        assert (r["ok"], r["name"], r["code"]) == (False, "PixelpressError", "worker_unavailable"), r
    assert "no/such/folder/worker/engine-worker.js could not be loaded" in out["first"]["message"]


def test_another_origin_without_cors_is_worker_unavailable(page, app_origin, cdn, cdn_without_cors):
    out = attempt(page, app_origin, cdn, {"baseUrl": cdn_without_cors})
    assert out["first"]["code"] == "worker_unavailable"
    assert "Access-Control-Allow-Origin" in out["first"]["message"]


def test_a_csp_without_blob_workers_is_worker_unavailable(page, strict_origin, cdn):
    out = attempt(page, strict_origin, cdn, {})
    assert out["first"]["code"] == "worker_unavailable", out
    assert "worker-src" in out["first"]["message"]


@pytest.mark.parametrize("base", ["ftp://example.com/pixelpress/", "http://[::1"])
def test_a_base_url_that_is_not_http_is_refused_at_once(page, app_origin, cdn, base):
    out = attempt(page, app_origin, cdn, {"baseUrl": base})
    assert (out["thrown"], out["code"], out["field"]) == ("constructor", "invalid_url", "baseUrl")


def test_a_wheel_failing_its_hash_fails_its_operations_only(browser, app_origin):
    # OpenCV's wheel altered: oil paint cannot load it; conversion, which never loads OpenCV, still works.
    out = attempt_tampered(browser, app_origin, tampered("opencv-python"), op="oil_paint")
    assert (out["first"]["ok"], out["first"]["code"]) == (False, "runtime_unavailable"), out
    assert "opencv" in out["first"]["message"].lower()
    assert out["convert"] == {"ok": True, "type": "image/png", "width": 451}


def test_a_boot_wheel_failing_its_hash_is_runtime_unavailable(browser, app_origin):
    out = attempt_tampered(browser, app_origin, tampered("pillow"))
    for r in (out["first"], out["convert"]):
        assert (r["ok"], r["code"]) == (False, "runtime_unavailable"), r


def test_a_broken_runtime_script_is_worker_unavailable(browser, app_origin):
    # The worker's module graph holds the runtime's script (fetched with the worker's modules, not after them), so a
    # copy whose pyodide.asm.js is damaged cannot start the worker at all: typed, and every job is told, no hang.
    out = attempt_tampered(browser, app_origin, {"pyodide/pyodide.asm.js": b"this is not ( javascript"})
    for r in (out["first"], out["convert"]):
        assert (r["ok"], r["code"]) == (False, "worker_unavailable"), r
    assert "whole copy of pixelpress, pyodide/ included" in out["first"]["message"]
