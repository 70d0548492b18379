"""The client on a device with little memory (issue 25): a phone's tab is ended long before a desktop's.

Where `navigator.deviceMemory` is 4 (GB) or less the pool starts at most two
engine workers, a kind of job not seen yet runs alone until its heap is known,
and once no job has run for a while the client gives memory back: the model
worker and every engine worker but one are ended, and a worker a batch left
with a big heap is replaced by a fresh one. bench/tab_memory.py measures the
tab; these check the behaviour.
"""

from __future__ import annotations

import pytest
from samples import photo_bytes

PHONE = """
    Object.defineProperty(Navigator.prototype, 'deviceMemory', { get: () => 4, configurable: true });
    Object.defineProperty(Navigator.prototype, 'hardwareConcurrency', { get: () => 8, configurable: true });"""
DESKTOP = PHONE.replace("() => 4", "() => 8")

# A client of the site's origin, its handles' runs logged as start/end events.
CLIENT_JS = """async (options) => {
  const mod = await import(new URL('client/pixelpress.js', location.href).href);
  const px = new mod.PixelpressClient({ prefetch: false, ...options });
  window.px = px;
  window.events = [];
  const spawn = px.spawn.bind(px);
  px.spawn = () => {
    const h = spawn();
    const run = h.run.bind(h);
    h.run = (p) => {
      window.events.push('start');
      return run(p).finally(() => window.events.push('end'));
    };
    return h;
  };
  return { size: px.size, low: mod.lowMemoryDevice() };
}"""

BATCH_JS = """async ([b64, n]) => {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const runs = await Promise.all(Array.from({ length: n }, () => window.px.run('convert', bytes, { format: 'jpeg' })));
  return runs.map((r) => r.meta.format);
}"""


@pytest.fixture
def phone(browser, site_url):
    ctx = browser.new_context()
    ctx.add_init_script(PHONE)
    page = ctx.new_page()
    page.goto(f"{site_url}asset-manifest.json")  # the site's origin, no client of its own
    yield page
    page.evaluate("() => window.px?.terminate()")
    ctx.close()


def b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode()


def test_a_device_with_little_memory_gets_at_most_two_engine_workers(phone, browser, site_url):
    assert phone.evaluate(CLIENT_JS, {}) == {"size": 2, "low": True}
    formats = phone.evaluate(BATCH_JS, [b64(photo_bytes("coffee.png")), 6])
    assert formats == ["jpeg"] * 6
    assert phone.evaluate("() => window.px.handles.length") <= 2
    caps = phone.evaluate("() => window.px.capabilities()")
    assert caps["memory"] == {"deviceMemoryGB": 4, "low": True, "engineWorkers": 2}
    assert caps["summary"].endswith("low memory: 2 engine workers")
    # The first job of a kind ran alone: a second started only once its heap was known.
    events = phone.evaluate("() => window.events")
    assert events[:2] == ["start", "end"] and events.count("start") == 6

    # The same 8 cores with 8 GB: the usual pool of up to 4.
    ctx = browser.new_context()
    ctx.add_init_script(DESKTOP)
    try:
        page = ctx.new_page()
        page.goto(f"{site_url}asset-manifest.json")
        assert page.evaluate(CLIENT_JS, {}) == {"size": 4, "low": False}
    finally:
        ctx.close()


def test_an_idle_client_gives_its_memory_back(phone):
    phone.evaluate(CLIENT_JS, {"releaseAfterMs": 1500, "idleHeapBytes": 1})
    assert phone.evaluate(BATCH_JS, [b64(photo_bytes("astronaut.png")), 4]) == ["jpeg"] * 4
    before = phone.evaluate("() => window.px.handles.filter((h) => h.heapBytes).length")
    assert before >= 1
    # The cut-out network's worker, as a car listing uses it: on a small device it is ended right after each use.
    phone.evaluate("""() => {
        window.modelStarted = false;
        const start = window.px.models.start.bind(window.px.models);
        window.px.models.start = () => { window.modelStarted = true; return start(); };
    }""")
    phone.evaluate("() => window.px.models.warm()")
    assert phone.evaluate("() => window.modelStarted")
    phone.wait_for_function("() => window.px.models.worker === null", timeout=5_000)
    # Nothing runs: the engine workers that ran jobs are replaced by one fresh one.
    phone.wait_for_function("() => window.px.handles.length === 1 && window.px.handles[0].heapBytes === null",
                            timeout=10_000)
    # ...which takes the next job.
    assert phone.evaluate(BATCH_JS, [b64(photo_bytes("astronaut.png")), 1]) == ["jpeg"]
