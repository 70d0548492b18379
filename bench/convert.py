"""Conversion benchmarks: cold start, worker vs native speed, and heap after many runs.

    .venv/bin/python bench/convert.py [--conversions 1000] [--repeat 3]

Prints figures and ratios measured in this one run; nothing here asserts a
time (the machines are small and noisy). Goals from the issue are printed
beside the figures.
"""

from __future__ import annotations

import argparse
import base64
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "py")]

import samples  # noqa: E402
from browser_harness import CHROMIUM_FLAGS, BrowserEngine, chromium_path, open_engine, serve_dist  # noqa: E402
from pixelpress.ops.convert import convert  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

COLD_START_JS = """async (base) => {
  const t0 = performance.now();
  const { PixelpressClient } = await import(new URL('client/pixelpress.js', base).href);
  const client = new PixelpressClient({ size: 1 });
  const ready = await client.ready();
  client.terminate();
  return { total: performance.now() - t0, worker: ready.timings, interpreter: ready.interpreter };
}"""

SNAPSHOT_STORED_JS = """async () => (await (await caches.open('pixelpress.interpreter-snapshot')).keys()).length > 0"""

CANVAS_JS = """async ([b64, repeat]) => {
  const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
  const times = [];
  let size = 0;
  for (let i = 0; i < repeat; i++) {
    const t0 = performance.now();
    const bmp = await createImageBitmap(new Blob([bytes], { type: 'image/jpeg' }));
    const canvas = new OffscreenCanvas(bmp.width, bmp.height);
    canvas.getContext('2d').drawImage(bmp, 0, 0);
    const out = await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.85 });
    times.push(performance.now() - t0);
    size = out.size;
    bmp.close();
  }
  return { times, size };
}"""


def median_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def cold_start(p, url: str) -> None:
    """A fresh profile's first worker, then a second one restoring the interpreter snapshot."""
    with tempfile.TemporaryDirectory() as profile:
        ctx = p.chromium.launch_persistent_context(profile, executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        page = ctx.new_page()
        page.goto(url + "asset-manifest.json")  # a same-origin page that starts no engine of its own
        cold = page.evaluate(COLD_START_JS, url)
        page.wait_for_function(SNAPSHOT_STORED_JS, timeout=30_000, polling=100)
        warm = page.evaluate(COLD_START_JS, url)
        ctx.close()
    for name, res in (("cold start, fresh profile", cold), ("second worker, same profile", warm)):
        w = res["worker"]
        print(f"{name}: worker created -> ready {res['total']:.0f} ms, interpreter {res['interpreter']} "
              f"(interpreter {w['boot']:.0f}, packages {w['packages']:.0f}, imports {w['imports']:.0f})")
    print(f"  cold goal <= 3000 ms: {'met' if cold['total'] <= 3000 else 'NOT met'}; "
          f"cold/snapshot-restored = {cold['total'] / warm['total']:.2f}x")


def speed(engine: BrowserEngine, page, repeat: int) -> None:
    data = samples.encode(samples.large_photo(4000, 3000), "JPEG", quality=92)
    opts = {"format": "jpeg", "quality": 85}
    engine.run("convert", data, opts)  # warm: first-use costs are not conversion speed
    worker = statistics.median(engine.run("convert", data, opts)["ms"] for _ in range(repeat))
    native = median_ms(lambda: convert(data, opts), repeat)
    canvas = page.evaluate(CANVAS_JS, [base64.b64encode(data).decode(), repeat])
    canvas_ms = statistics.median(canvas["times"])
    print(f"12 MP JPEG -> JPEG q85 ({len(data) / 1e6:.1f} MB in), medians of {repeat}:")
    print(f"  worker (Pyodide Pillow)       {worker:7.0f} ms")
    print(f"  native (same engine call)     {native:7.0f} ms   worker/native = {worker / native:.2f}x")
    print(f"  browser canvas (speed limit)  {canvas_ms:7.0f} ms   worker/canvas = {worker / canvas_ms:.2f}x")


def memory(engine: BrowserEngine, page, conversions: int) -> None:
    """Heap after warm-up and at intervals: a leak grows with the count, warm-up does not."""
    data = samples.photo_bytes("chelsea.png", "JPEG")
    marks = sorted({10, conversions // 4, conversions // 2, conversions})
    readings = []
    t0 = time.perf_counter()
    for i in range(1, conversions + 1):
        res = engine.run("convert", data, {"format": "webp" if i % 2 else "png"})
        assert res["ok"], res
        if i in marks:
            readings.append((i, page.evaluate("() => window.pixelpress.stats()")))
    print(f"memory over {conversions} conversions ({time.perf_counter() - t0:.0f} s), after warm-up:")
    for i, s in readings:
        print(f"  after {i:5d}: wasm heap {s['wasm_heap_bytes'] / 2**20:6.1f} MB, live Python objects {s['python_objects']}")
    (_, first), (_, last) = readings[0], readings[-1]
    print(f"  first -> last: heap {first['wasm_heap_bytes'] / 2**20:.1f} -> {last['wasm_heap_bytes'] / 2**20:.1f} MB, "
          f"objects {first['python_objects']} -> {last['python_objects']}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--conversions", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with serve_dist() as url, sync_playwright() as p:
        cold_start(p, url)
        browser, engine = open_engine(p, url)
        page = engine.page
        page.evaluate("() => { window.pixelpress.size = 1; }")  # one worker: stats and heap are its own
        speed(engine, page, args.repeat)
        memory(engine, page, args.conversions)
        browser.close()


if __name__ == "__main__":
    main()
