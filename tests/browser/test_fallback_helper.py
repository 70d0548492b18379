"""runWithFallback's rules, one server behaviour at a time, in the studio's warm client (issue 13).

The server calls are fakes written in the page (the example app's test uses a
real failing server): each resolves or rejects as a real fetch would. For
every case the test reads what the caller gets: the path, the reason's code
and status, or the error, and whether the device ran the job at all.
"""

from __future__ import annotations

import base64

import composites
import pytest
from samples import photo_bytes

PNG_1PX = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e1a3b5d40000000049454e44ae426082")).decode()

# The page-side harness: `server` is the source of a server call; `device` counts the device's jobs.
CALL = """async ([serverSource, op, b64, options, extraSource, abortAfterMs]) => {
  const px = window.pixelpress;
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const input = new Blob([bytes], { type: 'image/jpeg' });
  const PNG = Uint8Array.from(atob("__PNG__"), (c) => c.charCodeAt(0));
  const server = eval(serverSource);
  let device = 0;
  const run = px.run;
  px.run = (...args) => { device += 1; return run.apply(px, args); };
  const controller = new AbortController();
  if (abortAfterMs != null) setTimeout(() => controller.abort(), abortAfterMs);
  const progress = [];
  const fallbacks = [];
  const extra = eval(`(${extraSource})`); // may use controller and progress
  try {
    const r = await px.runWithFallback(server, op, input, options, {
      serverTimeoutMs: 1500, signal: controller.signal, onProgress: (p) => progress.push(p),
      onFallback: (why) => fallbacks.push(why.code), ...extra });
    const head = Array.from(new Uint8Array(await r.blob.slice(0, 4).arrayBuffer()));
    return { path: r.path, reason: r.reason && { code: r.reason.code, status: r.reason.status ?? null,
      fallback: r.reason.fallback }, type: r.blob.type, head, width: r.meta?.width ?? null, device, progress, fallbacks };
  } catch (e) {
    return { error: { code: e.code, status: e.status ?? null, fallback: e.fallback ?? null,
      serverReason: e.serverReason?.code ?? null }, device, fallbacks };
  } finally {
    px.run = run;
  }
}""".replace("__PNG__", PNG_1PX)

JSON_HEADERS = "{ headers: { 'Content-Type': 'application/json' } }"


def call(page, server: str, op="convert", data=None, options=None, extra_js="{}", abort_after_ms=None):
    """`server` and `extra_js` (more runWithFallback options) are JS source, evaluated in the page."""
    data = data if data is not None else photo_bytes("chelsea.png", fmt="JPEG")
    return page.evaluate(CALL, [server, op, base64.b64encode(data).decode(), options or {"format": "png"}, extra_js,
                                abort_after_ms])


@pytest.fixture(scope="module")
def page(engine_page):
    return engine_page


def test_a_server_that_answers_is_used_and_the_device_stays_idle(page):
    r = call(page, "async ({ signal }) => new Response(new Blob([PNG], { type: 'image/png' }))")
    assert (r["path"], r["reason"], r["device"], r["type"]) == ("server", None, 0, "image/png")
    assert r["head"] == [0x89, 0x50, 0x4E, 0x47]


@pytest.mark.parametrize(("server", "code", "status"), [
    ("async () => new Response('oops', { status: 500 })", "http_500", 500),
    (f"async () => new Response(JSON.stringify({{ error: {{ code: 'overloaded', message: 'busy' }} }}), "
     f"{{ status: 503, ...{JSON_HEADERS} }})", "overloaded", 503),
    ("async () => new Response('gone', { status: 404 })", "http_404", 404),
    ("async () => { throw new TypeError('Failed to fetch'); }", "network_error", None),
    ("async () => { throw new Error('the SDK gave up'); }", "server_failed", None),
    ("async () => new Response('<html>maintenance</html>', { headers: { 'Content-Type': 'text/html' } })",
     "bad_response", None),
    ("async () => new Promise(() => {})", "timeout", None),  # ignores its signal: the race still ends it
    ("({ signal }) => fetch('https://127.0.0.1:9/never', { signal })", "network_error", None),
])
def test_a_failing_server_falls_back_to_the_device(page, server, code, status):
    r = call(page, server)
    assert (r["path"], r["reason"]["code"], r["reason"]["status"], r["device"]) == ("device", code, status, 1), r
    assert r["fallbacks"] == [code]
    assert (r["type"], r["width"]) == ("image/png", 451)


@pytest.mark.parametrize(("status", "code"), [(400, "corrupt_image"), (415, "http_415"), (422, "http_422")])
def test_a_server_that_calls_the_input_bad_is_believed(page, status, code):
    body = "JSON.stringify({ error: { code: 'corrupt_image', message: 'not a photo' } })" if status == 400 else "'no'"
    r = call(page, f"async () => new Response({body}, {{ status: {status}, ...{JSON_HEADERS} }})")
    assert r["error"] == {"code": code, "status": status, "fallback": False, "serverReason": None}
    assert (r["device"], r["fallbacks"]) == (0, [])


def test_should_fall_back_decides_instead(page):
    r = call(page, "async () => new Response('', { status: 500 })", extra_js="{ shouldFallBack: () => false }")
    assert r["error"]["code"] == "http_500" and r["device"] == 0
    r = call(page, "async () => new Response('', { status: 422 })", extra_js="{ shouldFallBack: () => true }")
    assert (r["path"], r["reason"]["code"]) == ("device", "http_422")


def test_cancel_during_the_server_call_never_reaches_the_device(page):
    r = call(page, "({ signal }) => new Promise((_, reject) => signal.addEventListener('abort', "
                   "() => reject(new DOMException('aborted', 'AbortError'))))", abort_after_ms=200)
    assert r["error"]["code"] == "cancelled" and r["device"] == 0


def test_cancel_during_the_device_job(page):
    # Cancelled at the device job's first progress event: mid-job, whatever the machine's speed.
    r = call(page, "async () => new Response('', { status: 502 })", op="car_listing", data=composites.make(3).data,
             options={"provider": "classical"},
             extra_js="{ onProgress: (p) => { if (p.type === 'op-progress') controller.abort(); } }")
    assert (r["error"]["code"], r["device"], r["fallbacks"]) == ("cancelled", 1, ["http_502"]), r


def test_when_the_device_fails_too_both_reasons_are_there(page):
    r = call(page, "async () => new Response('', { status: 500 })", data=b"not an image at all")
    assert r["error"]["code"] == "unsupported_format" and r["error"]["serverReason"] == "http_500"


def test_progress_reaches_the_caller_from_the_server_and_from_the_device(page):
    server = ("async ({ onProgress }) => { onProgress({ phase: 'server', done: 1, total: 2 }); "
              "return new Response('', { status: 500 }); }")
    car = composites.make(3).data
    r = call(page, server, op="car_listing", data=car, options={"provider": "classical"})
    assert r["path"] == "device", r
    assert r["progress"][0] == {"phase": "server", "done": 1, "total": 2}
    steps = [p for p in r["progress"][1:] if p.get("type") == "op-progress"]
    # the listing's own steps, each announced as it starts
    assert len(steps) > 2 and [p["done"] for p in steps] == list(range(len(steps)))
    assert {p["total"] for p in steps} == {len(steps)}
