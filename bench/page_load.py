"""Page-load and preview latency of the studio, in real Chromium over HTTP.

    .venv/bin/python bench/page_load.py [--runs N]

Prints (medians over N runs, each with a fresh browser profile; each goal line also lists its runs and the best one):
  - first paint / first contentful paint            goal < 1 s
  - fresh profile: page load -> first converted file  goal <= 1.5 s (issue 16)
  - warm (service-worker cache and interpreter snapshot): same, goal <= 0.8 s,
    for the 2nd visit and for the 3rd-5th visits separately: Chromium
    writes its compiled-code caches during the 2nd visit and uses them after
  - where that time went, step by step, for each kind of visit: the page
    until it starts the worker, the worker's modules, its boot phases (the
    `pixelpress:*` User Timing measures of web/worker/), the runtime and
    wheel downloads, and the first file's own run
  - preview latency of each slider view (slider input -> new preview shown)
Times come from the page's own clock (performance.now(), paint entries); the
worker's are moved onto it through the two time origins.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from browser_harness import CHROMIUM_FLAGS, chromium_path, launch, serve_dist  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402
from samples import photo_bytes  # noqa: E402

WARM_VISITS = 4  # after the fresh one, per profile
PHOTOS = iter(photo_bytes("astronaut.png", "JPEG", quality=60 + i) for i in range(60))  # distinct bytes: no cache hits

DONE_JS = """() => {
  // rows restored from an earlier visit do not count
  const fresh = '#view-convert .job:not([data-restored])';
  const r = document.querySelector(`${fresh}[data-status=done], ${fresh}[data-status=failed]`);
  return r ? { status: r.dataset.status, t: performance.now() } : null;
}"""


# The page's own milestones, on its clock (ms since navigation start).
PAGE_JS = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const res = Object.fromEntries(performance.getEntriesByType('resource')
    .map((e) => [e.name.split('/').slice(-2).join('/'), [e.startTime, e.responseEnd]]));
  return { html: nav.responseEnd, dcl: nav.domContentLoadedEventEnd, load: nav.loadEventEnd, res };
}"""

# The engine worker's steps (User Timing 'pixelpress:*' measures) and its runtime downloads, moved onto the page's
# clock through the two time origins.
WORKER_JS = """(pageOrigin) => {
  const shift = performance.timeOrigin - pageOrigin;
  const at = (e, end) => [e.startTime + shift, end + shift];
  const steps = {};
  for (const m of performance.getEntriesByType('measure')) {
    const name = m.name.replace('pixelpress:', '');
    if (m.name.startsWith('pixelpress:') && !steps[name]) steps[name] = at(m, m.startTime + m.duration);
  }
  const files = {};
  for (const r of performance.getEntriesByType('resource')) {
    const name = r.name.split('/').pop();
    if (!files[name]) files[name] = { span: at(r, r.responseEnd), bytes: r.transferSize, size: r.decodedBodySize };
  }
  return { origin: shift, steps, files };
}"""


def worker_timeline(page) -> dict:
    origin = page.evaluate("() => performance.timeOrigin")
    engine = [w for w in page.workers if "engine-worker" in w.url]
    return engine[0].evaluate(WORKER_JS, origin) if engine else {}


def convert_first_file(page, url: str) -> dict:
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_selector("#view-convert .dropzone input[type=file]", state="attached")
    page.set_input_files("#view-convert .dropzone input[type=file]",
                         files=[{"name": "first.jpg", "mimeType": "image/jpeg", "buffer": next(PHOTOS)}])
    clicked = page.evaluate("() => performance.now()")
    page.click("#view-convert form.options button[type=submit]")
    done = page.wait_for_function(DONE_JS, timeout=60_000, polling=10).json_value()
    paints = page.evaluate("() => Object.fromEntries(performance.getEntriesByType('paint').map((e) => [e.name, e.startTime]))")
    controlled = page.evaluate("() => Boolean(navigator.serviceWorker?.controller)")
    interpreter = page.evaluate("() => window.pixelpress.ready().then((m) => m.interpreter)")
    return {"done_ms": done["t"], "status": done["status"], "fp": paints.get("first-paint"),
            "fcp": paints.get("first-contentful-paint"), "controlled": controlled, "interpreter": interpreter,
            "clicked": clicked, "page": page.evaluate(PAGE_JS), "worker": worker_timeline(page)}


def preview_latency(page, view: str, slider: str, file: dict, steps: int = 5) -> list[float]:
    page.click(f"#nav-{view}")
    page.evaluate("() => { window.__pv = [];"
                  " document.addEventListener('pixelpress:preview', (e) => window.__pv.push(e.detail)); }")
    page.set_input_files(f"#view-{view} .dropzone input[type=file]", files=[file])
    page.wait_for_function(f"() => window.__pv.some((p) => p.view === '{view}')", timeout=120_000)
    out = []
    for i in range(steps):
        n = page.evaluate(f"() => window.__pv.filter((p) => p.view === '{view}').length")
        page.focus(f"#view-{view} input[name={slider}]")
        page.keyboard.press("ArrowRight" if i % 2 == 0 else "ArrowLeft")
        page.wait_for_function(f"() => window.__pv.filter((p) => p.view === '{view}').length > {n}", timeout=120_000)
        out.append(page.evaluate(f"() => window.__pv.filter((p) => p.view === '{view}').at(-1).ms"))
    return out


# (label, how to read it off one visit: ms since navigation start at which the step began, and its length)
def _step(name):
    return lambda r: (lambda span: span and (span[0], span[1] - span[0]))(r["worker"]["steps"].get(name))


def _files(names):
    def read(r):
        spans = [f["span"] for n, f in r["worker"]["files"].items() if any(n.startswith(x) for x in names)]
        return spans and (min(a for a, _ in spans), max(b for _, b in spans) - min(a for a, _ in spans))
    return read


def _worker_modules(r):
    origin = r["worker"]["origin"]
    return origin, r["worker"]["steps"]["boot"][0] - origin


def _result_shown(r):
    ran = r["worker"]["steps"]["call-convert"][1]
    return ran, r["done_ms"] - ran


BREAKDOWN = [
    ("page: modules until the worker starts", lambda r: (0, r["worker"]["origin"])),
    ("worker: its modules, until boot", _worker_modules),
    ("  manifest", _step("manifest")),
    ("  runtime files (asm.js, wasm, stdlib zip) fetched", _files(["pyodide.asm", "python_stdlib", "pyodide-lock"])),
    ("  interpreter started afresh", _step("start")),
    ("  interpreter restored from the snapshot", _step("restore")),
    ("  snapshot taken", _step("snapshot")),
    ("  packages: pixelpress + Pillow", _step("packages")),
    ("    of which wheels fetched", _files(["pixelpress-", "pillow-"])),
    ("  imports (pixelpress.bridge, versions)", _step("imports")),
    ("  ready; warm-up imports (PIL.Image, decode, encode)", _step("warm-up")),
    ("  first file: convert in the engine", _step("call-convert")),
    ("page: result shown", _result_shown),
]


def print_breakdown(kinds: dict[str, list[dict]]) -> None:
    print("where the time went (ms since navigation start: step start +length; medians):")
    print(f"  {'':52s}" + "".join(f"{k:>20s}" for k in kinds))
    for label, read in BREAKDOWN:
        cells = []
        for visits in kinds.values():
            got = [x for x in (read(r) for r in visits) if x]
            cells.append(f"{statistics.median(a for a, _ in got):7.0f} +{statistics.median(d for _, d in got):<6.0f}"
                         if got else "-")
        print(f"  {label:52s}" + "".join(f"{c:>20s}" for c in cells))
    print(f"  {'total: load -> first converted file':52s}" +
          "".join(f"{statistics.median(r['done_ms'] for r in v):14.0f}      " for v in kinds.values()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    fresh, second, later = [], [], []
    with serve_dist() as url, sync_playwright() as p:
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory() as profile:
                ctx = p.chromium.launch_persistent_context(profile, executable_path=chromium_path(), args=CHROMIUM_FLAGS)
                for visit in range(1 + WARM_VISITS):
                    page = ctx.new_page()
                    r = convert_first_file(page, url)
                    (fresh if visit == 0 else second if visit == 1 else later).append(r)
                    page.evaluate("() => navigator.serviceWorker.ready")
                    page.wait_for_timeout(500)  # the snapshot and caches are written after the first file
                    page.close()
                ctx.close()

        browser = launch(p)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{url}?nosw")
        page.wait_for_function("() => window.pixelpress !== undefined")
        page.evaluate("() => window.pixelpress.ready()")
        from composites import make
        photo = {"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": photo_bytes("motorcycle_left.png", "JPEG")}
        previews = {
            "convert (quality)": preview_latency(page, "convert", "quality", photo),
            "oil-paint (brush size)": preview_latency(page, "oil-paint", "brush_size", photo),
            "car-listing (margin)": preview_latency(page, "car-listing", "padding",
                                                    {"name": "car.jpg", "mimeType": "image/jpeg", "buffer": make(0).data}),
        }
        browser.close()

    med = lambda xs: statistics.median(xs)  # noqa: E731
    # The runs too, and their best: this machine's noise only ever adds time, so the best run is the
    # closest estimate of a quiet machine, which is what the goals assume.
    runs = lambda rs: (", ".join(f"{r['done_ms']:.0f}" for r in rs)  # noqa: E731
                       + f"; best {min(r['done_ms'] for r in rs):.0f}")
    print(f"runs: {args.runs} (fresh profile each), 2 cores, site under /studio/ on 127.0.0.1")
    print(f"first paint                        {med([r['fp'] for r in fresh]):7.0f} ms   goal < 1000 ms")
    print(f"first contentful paint             {med([r['fcp'] for r in fresh]):7.0f} ms")
    print(f"fresh: load -> first converted file {med([r['done_ms'] for r in fresh]):7.0f} ms   goal <= 1500 ms  "
          f"(runs: {runs(fresh)}; status {fresh[0]['status']})")
    warm = second + later
    evidence = (f"controlled by SW: {all(r['controlled'] for r in warm)}; "
                f"interpreter restored: {all(r['interpreter'] == 'restored' for r in warm)}")
    print(f"warm, 2nd visit: load -> converted  {med([r['done_ms'] for r in second]):7.0f} ms   goal <= 800 ms  "
          f"(runs: {runs(second)})")
    print(f"warm, 3rd-{WARM_VISITS + 1}th visits: same        {med([r['done_ms'] for r in later]):7.0f} ms   "
          f"goal <= 800 ms  (runs: {runs(later)})")
    print(f"  {evidence}; fresh visits started the interpreter: "
          f"{all(r['interpreter'] == 'started' for r in fresh)}")
    print(f"warm first contentful paint        {med([r['fcp'] for r in warm]):7.0f} ms")
    print_breakdown({"fresh": fresh, "warm 2nd": second, f"warm 3rd-{WARM_VISITS + 1}th": later})
    for name, xs in previews.items():
        print(f"preview latency {name:24s} median {med(xs):6.0f} ms  (min {min(xs):.0f}, max {max(xs):.0f}; "
              f"includes the 90 ms debounce; goal ~300 ms)")


if __name__ == "__main__":
    main()
