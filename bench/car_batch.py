"""A batch of car listings through the client, and the heap over many (issue 28).

    .venv/bin/python bench/car_batch.py [--photo PATH] [--batch 6] [--workers 2]
    .venv/bin/python bench/car_batch.py --heap [--listings 100]

Headless Chromium over a real HTTP server (dist/, tests/browser_harness.py),
on a blank page of the site's origin, so no studio client competes with the
bench's own. The photo is a real studio car photo read by path from the shared
data (never copied into the repository), resized to 4000x3000 (12 MP) and
saved as a JPEG in memory.

Default: one client with two engine workers (`size`, warmed with
`PixelpressClient.warm` first, and each has run one listing), then
- three rounds of: one photo alone ("one photo's time"), then six photos
  queued at once: wall time from the first `run()` to the last answer, and
  per photo when its first step was reported and when it ended, so a photo
  that waited for a worker shows; the ratio of each round, and their median;
- six photos on a fresh page with a fresh client through `runBatch`, as a new
  user's first batch: wall time including the runtime, OpenCV and the network
  loading, and when each photo started;
- the studio as a user has it: the car-listing view open, six photos picked,
  its preview seen, then Process: the time from the click until every row is
  done, and when each row first showed a step.
Goal: the warm batch of six <= 3.5x one photo's time with two workers, on this
2-core machine (the pool's two engine workers share it with the model worker,
which runs the network for both).

`--heap`: one client, one engine worker, `--listings` car listings of the same
photo resized to 1600x1200 (a 12 MP photo would take 10 minutes for 100).
After listings 10, 25, 50 and 100 it prints the engine worker's wasm heap as
the worker reports it after each job (exact: `heapBytes`), the tab's memory
(PSS of Chromium's renderer processes, where the page, the engine worker and
the model worker with its own wasm memory run: bench/tab_memory.py's
measure), and per target (page, engine worker, model worker) CDP's
`Runtime.getHeapUsage`, the JS heap in use, which holds no wasm memory.
`performance.measureUserAgentSpecificMemory` would give all of it per worker,
but needs cross-origin isolation and took 60 s per call in this Chromium (it
waits for a garbage collection), so it is not used. Then what grew after the
first ten. Goal: flat.

One run, one noisy machine: read the ratios, not the times.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "browser")]

from browser_harness import launch, serve_dist  # noqa: E402
from PIL import Image  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402
from tab_memory import snapshot  # noqa: E402
from test_studio_batch import RECORD_JS, VIEW, step_of  # noqa: E402
from test_studio_support import file_payload, open_studio, record_previews, stage, start, wait_rows  # noqa: E402

PHOTO = Path("/work/shared/matte-real-dev/images/carvana_03a857ce842d_04.jpg")
BLANK = "__bench.html"  # a page of the site's origin with nothing on it (served by a route, not from dist/)

SETUP_JS = """async ([b64, size, warm]) => {
  const mod = await import(new URL('client/pixelpress.js', location.href).href);
  window.photo = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  // Nothing is given back during the bench: the heap figures are the pool's, not the idle release's.
  window.px = new mod.PixelpressClient({ size, releaseAfterMs: Infinity });
  if (warm) await window.px.warm({ jobs: size, op: 'car_listing' });
  else await window.px.ready();
}"""

# n photos at once; per photo: when its first step was reported and when it ended (ms from the first run()).
BATCH_JS = """async ([n, viaRunBatch]) => {
  const px = window.px;
  const rows = Array.from({ length: n }, (_, i) => ({ i, start: null, end: null, ms: null, code: null }));
  const t0 = performance.now();
  if (viaRunBatch) {
    // runBatch takes no progress callback: a photo's start is when a worker's first step event names it.
    let next = 0;
    const origRun = px.run.bind(px);
    px.run = (op, input, options, ro = {}) => {
      const i = next++; // runBatch calls run() for its inputs in order
      return origRun(op, input, options, { ...ro, onProgress: () => { rows[i].start ??= performance.now() - t0; } });
    };
    const onItem = (e) => Object.assign(rows[e.index], { end: performance.now() - t0,
      code: e.ok ? 'ok' : e.error.code, ms: e.ms ?? null });
    await px.runBatch(Array.from({ length: n }, () => window.photo.slice()), 'car_listing', {}, { onItem });
    px.run = origRun;
    return { wall: performance.now() - t0, rows };
  }
  await Promise.all(rows.map(async (row) => {
    try {
      const r = await px.run('car_listing', window.photo, {}, {
        onProgress: () => { row.start ??= performance.now() - t0; } });
      row.ms = r.ms;
      row.steps = r.meta.timings_ms;
      row.code = 'ok';
    } catch (e) {
      row.code = e.code;
    }
    row.end = performance.now() - t0;
  }));
  return { wall: performance.now() - t0, rows };
}"""

ONE_JS = """async () => {
  const r = await window.px.run('car_listing', window.photo, {});
  return { ms: r.ms, heapBytes: r.heapBytes, steps: r.meta.timings_ms };
}"""


def photo_jpeg(path: Path, size: tuple[int, int]) -> bytes:
    im = Image.open(path).convert("RGB").resize(size, Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def blank_page(browser, url: str):
    page = browser.new_page()
    page.route(url + BLANK, lambda r: r.fulfill(body="<!doctype html><title>bench</title>", content_type="text/html"))
    page.goto(url + BLANK)
    return page


def show_rows(res: dict) -> None:
    for r in sorted(res["rows"], key=lambda r: r["start"] if r["start"] is not None else 1e12):
        start = f"{r['start'] / 1000:5.1f}" if r["start"] is not None else "    -"
        end = f"{r['end'] / 1000:5.1f}" if r.get("end") is not None else "    -"
        ms = f"{r['ms'] / 1000:4.1f} s in its worker" if r["ms"] else ""
        print(f"    photo {r['i'] + 1}: first step at {start} s, answered at {end} s  {ms}  {r['code']}")


def batch(args) -> None:
    data = photo_jpeg(args.photo, (4000, 3000))
    b64 = base64.b64encode(data).decode()
    print(f"photo: {args.photo.name} resized to 4000x3000, JPEG q90, {len(data) / 1e6:.2f} MB; "
          f"{args.workers} engine workers")
    with serve_dist() as url, sync_playwright() as p:
        browser = launch(p)
        page = blank_page(browser, url)
        t = time.perf_counter()
        page.evaluate(SETUP_JS, [b64, args.workers, True])
        print(f"pool warmed (runtime, OpenCV, network) in {time.perf_counter() - t:.1f} s")
        # Each worker runs one listing first: its heap grows to a 12 MP job's once, outside the figures.
        page.evaluate(BATCH_JS, [args.workers, False])
        # Rounds of (one photo alone, then the batch): each ratio is taken minutes apart at most, so the
        # machine's other load moves both of its figures alike; the median of the rounds is the figure.
        alone, together, ratios = [], [], []
        for k in range(args.rounds):
            single = page.evaluate(ONE_JS)
            alone.append(single)
            res = page.evaluate(BATCH_JS, [args.batch, False])
            together += [r for r in res["rows"] if r.get("steps")]
            ratios.append(res["wall"] / single["ms"])
            print(f"round {k + 1}: one photo alone {single['ms'] / 1000:.2f} s; batch of {args.batch} at once "
                  f"{res['wall'] / 1000:.1f} s = {ratios[-1]:.2f}x")
            show_rows(res)
        page.close()
        # Which steps grow when two photos share the machine (and the one model worker that runs the network).
        names = [k for k in alone[0]["steps"] if isinstance(alone[0]["steps"][k], (int, float))]
        med = lambda rows, k: statistics.median(r["steps"].get(k, 0) for r in rows)  # noqa: E731
        print("steps, median ms alone -> in the batch: " + ", ".join(
            f"{k} {med(alone, k):.0f} -> {med(together, k):.0f}" for k in names))
        one = statistics.median(r["ms"] for r in alone)
        print(f"RATIO warm batch of {args.batch} / one photo: median {statistics.median(ratios):.2f}x over "
              f"{args.rounds} rounds ({', '.join(f'{r:.2f}' for r in ratios)}; goal <= 3.5x; "
              f"{args.workers} engine workers, 2 cores)")
        # A new user's first batch: a fresh page, a fresh client, runBatch at once (it warms the pool itself).
        page = blank_page(browser, url)
        page.evaluate(SETUP_JS, [b64, args.workers, False])
        res = page.evaluate(BATCH_JS, [args.batch, True])
        print(f"first batch of {args.batch} on a fresh page (runBatch; runtime ready, OpenCV and the network not "
              f"loaded): {res['wall'] / 1000:.1f} s = {res['wall'] / one:.2f}x one warm photo")
        show_rows(res)
        studio(browser, url, data, args.batch, one)
        browser.close()


def studio(browser, url: str, data: bytes, n: int, one: float) -> None:
    """As a user: the studio's car listing opened, n photos picked, the preview seen, then Process."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = open_studio(context, f"{url}?nosw#{VIEW}")
    page.evaluate("() => window.pixelpress.preload('car_listing')")  # the view's own preload, done
    record_previews(page)
    stage(page, VIEW, [file_payload(f"car{i + 1}.jpg", data) for i in range(n)])
    page.wait_for_function(f"() => window.__previews.some((p) => p.view === '{VIEW}')", timeout=300_000)
    page.evaluate(RECORD_JS, VIEW)
    start(page, VIEW)
    wait_rows(page, VIEW, n, timeout=600_000)
    rows = page.evaluate("() => window.__rows")
    context.close()
    first = {r["name"]: r["t"] for r in reversed(rows) if step_of(r["line"])}
    done = {r["name"]: r["t"] for r in rows if r["status"] == "done"}
    wall = max(done.values())
    print(f"studio, {n} photos picked, preview seen, then Process: all done {wall / 1000:.1f} s after the click "
          f"= {wall / one:.2f}x one warm photo ({len(done)} done)")
    for name in sorted(first, key=first.get):
        print(f"    {name}: first step shown at {first[name] / 1000:5.1f} s, done at {done.get(name, 0) / 1000:5.1f} s")


class Targets:
    """Runtime.getHeapUsage of every page and worker target, through the browser's CDP session."""

    def __init__(self, browser):
        self.cdp = browser.new_browser_cdp_session()
        self.replies: dict[str, list] = {}
        self.sessions: dict[str, str] = {}  # targetId -> sessionId
        self.cdp.on("Target.receivedMessageFromTarget",
                    lambda e: self.replies.setdefault(e["sessionId"], []).append(json.loads(e["message"])))

    def usage(self, page) -> dict[str, dict]:
        out = {}
        for t in self.cdp.send("Target.getTargets")["targetInfos"]:
            if t["type"] not in ("page", "worker"):
                continue
            sid = self.sessions.get(t["targetId"])
            if sid is None:
                sid = self.cdp.send("Target.attachToTarget", {"targetId": t["targetId"], "flatten": False})["sessionId"]
                self.sessions[t["targetId"]] = sid
            self.replies[sid] = []
            self.cdp.send("Target.sendMessageToTarget",
                          {"sessionId": sid, "message": json.dumps({"id": 1, "method": "Runtime.getHeapUsage"})})
            for _ in range(100):
                got = [m for m in self.replies[sid] if m.get("id") == 1]
                if got:
                    name = t["url"].rsplit("/", 1)[-1] if t["type"] == "worker" else "page"
                    out[name] = got[0]["result"]
                    break
                page.wait_for_timeout(50)
        return out


def heap(args) -> None:
    data = photo_jpeg(args.photo, (1600, 1200))
    print(f"photo: {args.photo.name} resized to 1600x1200, JPEG q90, {len(data) / 1e3:.0f} kB; one engine worker, "
          f"{args.listings} car listings one after another")
    marks = [m for m in (10, 25, 50, 100, args.listings) if m <= args.listings]
    with serve_dist() as url, sync_playwright() as p:
        browser = launch(p)
        page = blank_page(browser, url)
        page.evaluate(SETUP_JS, [base64.b64encode(data).decode(), 1, True])
        targets = Targets(browser)
        seen: dict[int, dict] = {}
        worst_heap = 0
        t = time.perf_counter()
        for n in range(1, args.listings + 1):
            r = page.evaluate(ONE_JS)
            worst_heap = max(worst_heap, r["heapBytes"] or 0)
            if n in marks and n not in seen:
                page.evaluate("() => new Promise((r) => setTimeout(r, 200))")  # the last answer's messages settle
                u = targets.usage(page)
                tab = snapshot()["tab"]
                seen[n] = {"wasm": r["heapBytes"], "tab": tab, **u}
                parts = [f"engine wasm heap {r['heapBytes'] / 1e6:.0f} MB", f"tab {tab / 1e6:.0f} MB"]
                parts += [f"{name} JS heap {v['usedSize'] / 1e6:.1f} MB" for name, v in u.items()]
                print(f"after {n:3d} listings ({time.perf_counter() - t:.0f} s): " + "; ".join(parts))
        first = seen[marks[0]]
        last = seen[marks[-1]]
        print("GROWTH after the first ten (last mark minus listing 10):")
        print(f"  engine wasm heap: {(last['wasm'] - first['wasm']) / 1e6:+.0f} MB (largest after any job "
              f"{worst_heap / 1e6:.0f} MB)")
        print(f"  tab (renderers' PSS): {(last['tab'] - first['tab']) / 1e6:+.0f} MB")
        for name in last:
            if name in ("wasm", "tab") or name not in first:
                continue
            print(f"  {name}: JS heap {(last[name]['usedSize'] - first[name]['usedSize']) / 1e6:+.1f} MB")
        browser.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photo", type=Path, default=PHOTO, help="a car photo, read by path")
    ap.add_argument("--batch", type=int, default=6)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3, help="rounds of (one photo, the batch)")
    ap.add_argument("--heap", action="store_true", help="the heap over many listings instead of the batch")
    ap.add_argument("--listings", type=int, default=100)
    args = ap.parse_args()
    if not args.photo.exists():
        sys.exit(f"{args.photo} not found: pass --photo PATH (a car photo; it is read, never copied)")
    heap(args) if args.heap else batch(args)


if __name__ == "__main__":
    main()
