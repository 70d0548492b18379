"""Worker recycling: a worker whose wasm heap grew past the pool's threshold is replaced after its job.

wasm memory never shrinks, so without this a worker that once painted a big
picture would keep its heap for the rest of the visit. The job that grew it
must still get its whole answer, and the next job must run on a fresh worker.
The threshold is lowered for the test so that a 12 MP oil painting crosses it
(painted in strips, a 3 MP one no longer does).
"""

import base64
import io

import numpy as np
import samples
from PIL import Image
from pixelpress.ops.oil_paint import oil_paint

THRESHOLD = 300_000_000

RECYCLE_JS = """async ([bigB64, smallB64, threshold]) => {
  const mod = await import(new URL('client/pixelpress.js', location.href).href);
  const client = new mod.PixelpressClient({ size: 1, recycleHeapBytes: threshold });
  const bytes = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const b64Of = async (blob) => {
    const buf = new Uint8Array(await blob.arrayBuffer());
    let s = '';
    for (let i = 0; i < buf.length; i += 0x8000) s += String.fromCharCode(...buf.subarray(i, i + 0x8000));
    return btoa(s);
  };
  try {
    await client.ready();
    const first = client.handles[0];
    const big = await client.run('oil_paint', bytes(bigB64), { format: 'png' });
    const firstAfterBig = { dead: first.dead, inPool: client.handles.includes(first), heap: first.heapBytes };
    const small = await client.run('convert', bytes(smallB64), { format: 'png' });
    const second = client.handles[0];
    return {
      defaultThreshold: mod.RECYCLE_HEAP_BYTES,
      big: { png: await b64Of(big.blob), meta: big.meta, heap: big.heapBytes },
      firstAfterBig,
      small: { meta: small.meta, heap: small.heapBytes },
      second: { isNew: second !== first, dead: second.dead, heap: second.heapBytes, pool: client.handles.length },
    };
  } finally {
    client.terminate();
  }
}"""


def test_a_bloated_worker_is_recycled_after_answering(browser, site_url):
    big = samples.encode(samples.large_photo(4000, 3000), "PNG", compress_level=1)
    small = samples.photo_bytes("coffee.png", "PNG")
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(site_url + "asset-manifest.json")  # the site's origin, with no client of its own running
        res = page.evaluate(RECYCLE_JS, [base64.b64encode(big).decode(), base64.b64encode(small).decode(), THRESHOLD])
    finally:
        context.close()

    assert res["defaultThreshold"] == 1.5e9

    # The big job crossed the threshold, and its answer arrived whole.
    assert res["big"]["heap"] > THRESHOLD, res["big"]["heap"]
    painted = Image.open(io.BytesIO(base64.b64decode(res["big"]["png"])))
    painted.load()
    assert painted.size == (4000, 3000) and (res["big"]["meta"]["width"], res["big"]["meta"]["height"]) == (4000, 3000)
    native = Image.open(io.BytesIO(oil_paint(big, {"format": "png"}).data))
    diff = np.abs(np.asarray(painted.convert("RGB"), np.int16) - np.asarray(native.convert("RGB"), np.int16))
    assert diff.mean() < 1.0, diff.mean()

    # The worker that ran it left the pool once it had answered...
    assert res["firstAfterBig"] == {"dead": True, "inPool": False, "heap": res["big"]["heap"]}
    # ...and the next job ran on a fresh one, whose heap is small and which stays.
    assert res["second"]["isNew"] and not res["second"]["dead"] and res["second"]["pool"] == 1
    assert res["small"]["heap"] == res["second"]["heap"] < THRESHOLD < res["big"]["heap"]
    assert (res["small"]["meta"]["width"], res["small"]["meta"]["height"]) == (600, 400)
