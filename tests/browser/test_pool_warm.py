"""PixelpressClient.warm (issue 28): a page says how many jobs it is about to run, and the workers they can
use start now, within the memory rule of a small device (issue 25)."""

from __future__ import annotations

import base64

import pytest
from samples import photo_bytes
from test_low_memory import DESKTOP, PHONE

CLIENT_JS = """async () => {
  const mod = await import(new URL('client/pixelpress.js', location.href).href);
  window.px = new mod.PixelpressClient({ prefetch: false });
  return window.px.size;
}"""

# Workers the pool holds, and how many of them can take a job now.
POOL_JS = "() => ({ workers: window.px.handles.length, ready: window.px.handles.filter((h) => h.info).length })"


@pytest.fixture
def device(browser, site_url, request):
    ctx = browser.new_context()
    ctx.add_init_script(request.param)
    page = ctx.new_page()
    page.goto(f"{site_url}asset-manifest.json")  # the site's origin, no client of its own
    yield page
    page.evaluate("() => window.px?.terminate()")
    ctx.close()


@pytest.mark.parametrize("device", [DESKTOP], indirect=True)
def test_warm_starts_a_worker_per_job_up_to_the_pool_size(device):
    assert device.evaluate(CLIENT_JS) == 4  # 8 cores, 8 GB
    answers = device.evaluate("() => window.px.warm({ jobs: 3, op: 'convert' })")
    assert len(answers) == 3 and all(a["ok"] for a in answers), answers
    assert device.evaluate(POOL_JS) == {"workers": 3, "ready": 3}
    # Fewer jobs later end nothing; more than the pool holds start only up to it.
    device.evaluate("() => window.px.warm({ jobs: 1 })")
    assert device.evaluate(POOL_JS) == {"workers": 3, "ready": 3}
    device.evaluate("() => window.px.warm({ jobs: 10 })")
    assert device.evaluate(POOL_JS) == {"workers": 4, "ready": 4}


@pytest.mark.parametrize("device", [DESKTOP], indirect=True)
def test_run_batch_starts_its_workers_at_once(device):
    device.evaluate(CLIENT_JS)
    photo = base64.b64encode(photo_bytes("coffee.png")).decode()
    # Right after runBatch is called, before any job has ended, every worker its three inputs can use exists.
    started = device.evaluate("""(b64) => {
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        window.batch = window.px.runBatch([bytes, bytes, bytes], 'convert', { format: 'webp' });
        return window.px.handles.length;
    }""", photo)
    assert started == 3
    assert [e["meta"]["format"] for e in device.evaluate("() => window.batch")] == ["webp"] * 3


@pytest.mark.parametrize("device", [PHONE], indirect=True)
def test_a_small_device_warms_only_what_its_heap_budget_lets_run_side_by_side(device):
    assert device.evaluate(CLIENT_JS) == 2  # 8 cores, 4 GB: at most two
    # No convert has run yet, so none is known to fit beside another: one worker.
    device.evaluate("() => window.px.warm({ jobs: 6, op: 'convert' })")
    assert device.evaluate(POOL_JS) == {"workers": 1, "ready": 1}
    photo = base64.b64encode(photo_bytes("coffee.png")).decode()
    device.evaluate("""(b64) => window.px.run('convert', Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)),
        { format: 'jpeg' })""", photo)
    # A convert's heap is known now, and two fit in the 1 GB budget: the second worker starts.
    assert device.evaluate("() => Math.max(...window.px.handles.map((h) => h.heapBytes ?? 0))") < 0.5e9
    device.evaluate("() => window.px.warm({ jobs: 6, op: 'convert' })")
    assert device.evaluate(POOL_JS) == {"workers": 2, "ready": 2}
