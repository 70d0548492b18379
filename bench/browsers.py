"""Issue 25's speed figures in every browser engine, each against that browser's own canvas, in one run.

    .venv/bin/python bench/browsers.py [--repeat 3] [--engines chromium,chromium-nojspi,firefox,webkit]

Per engine (tests/cross_browser.py drives Chromium, Chromium with JSPI hidden, Firefox ESR and WebKitGTK
over a real HTTP server), medians of --repeat runs, nothing asserted:

- T1: a 12 MP JPEG -> JPEG q85 through the client, divided by the page's own canvas doing the same
  (createImageBitmap, OffscreenCanvas, convertToBlob) on the same bytes (goal: <= 1.2x);
- T3: a 2000x1500 opaque RGBA PNG -> WebP q80, the same way (a canvas that cannot write WebP: n/a);
- the car listing of a 12 MP photo, divided by the canvas's T1 (what a page alone takes for one
  12 MP picture);
- the first converted file (1 MP JPEG -> WebP) after a fresh start: from navigation to the result in a
  new profile, and its ratio to Chromium's (goal for WebKit: <= 1.5x). bench/browsers_start.py breaks
  a start down by phase, fresh and on later visits.
Each line also says who decoded and encoded (meta.codec).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "py")]

import cross_browser as cb  # noqa: E402
import samples  # noqa: E402
from browser_harness import serve_dist  # noqa: E402
from PIL import Image  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

REAL_CAR = ROOT.parent / "shared" / "matte-real-dev" / "images" / "carvana_03a857ce842d_04.jpg"

CANVAS_JS = """async ([b64, mime, quality]) => {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const t0 = performance.now();
  const bmp = await createImageBitmap(new Blob([bytes]));
  const canvas = new OffscreenCanvas(bmp.width, bmp.height);
  canvas.getContext('2d').drawImage(bmp, 0, 0);
  bmp.close();
  const out = await canvas.convertToBlob({ type: mime, quality: quality / 100 });
  return out.type === mime ? performance.now() - t0 : null;
}"""

FIRST_FILE_JS = """async (b64) => {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  while (!window.pixelpress) await new Promise((r) => setTimeout(r, 5));
  await window.pixelpress.run('convert', bytes, { format: 'webp' });
  return performance.now();  // since this page's navigation began
}"""


def inputs() -> dict[str, bytes]:
    photo = samples.large_photo()
    car = Image.open(REAL_CAR).convert("RGB") if REAL_CAR.exists() else photo
    return {
        "t1": samples.encode(photo, "JPEG", quality=92),
        "t3": samples.encode(photo.resize((2000, 1500), Image.Resampling.LANCZOS).convert("RGBA"), "PNG",
                             compress_level=1),
        "car": samples.encode(car.resize((4000, 3000), Image.Resampling.LANCZOS), "JPEG", quality=92),
        "first": samples.encode(photo.resize((1200, 900), Image.Resampling.LANCZOS), "JPEG", quality=90),
    }


def b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode()


def measure(engine: str, url: str, data: dict[str, bytes], repeat: int, chromium_type) -> dict:
    out: dict = {"first": [], "t1": [], "t3": [], "car": [], "canvas_t1": [], "canvas_t3": [], "codec": {}}
    for _ in range(repeat):  # a fresh profile each time: the first file is what a new visitor waits for
        page = cb.open_engine(engine, chromium_type)
        try:
            page.new_page()
            page.goto(url)
            out["first"].append(page.evaluate(FIRST_FILE_JS, b64(data["first"])))
        finally:
            page.close()
    page = cb.open_engine(engine, chromium_type)
    try:
        page.new_page()
        page.goto(url)
        cb.wait_engine(page, 300_000)
        jobs = [("t1", "convert", data["t1"], {"format": "jpeg", "quality": 85}),
                ("t3", "convert", data["t3"], {"format": "webp", "quality": 80}),
                ("car", "car_listing", data["car"], {})]
        cb.run_jobs(page, jobs[:2])  # warm: packages loaded, encoders compiled
        for _ in range(repeat):
            for name, op, src, options in jobs:
                got = cb.run_jobs(page, [(name, op, src, options)], timeout_ms=600_000)[name]
                if not got["ok"]:
                    raise SystemExit(f"{engine} {name}: {got['error']}")
                out[name].append(got["ms"])
                out["codec"][name] = got["meta"].get("codec")
            out["canvas_t1"].append(page.evaluate(CANVAS_JS, [b64(data["t1"]), "image/jpeg", 85]))
            out["canvas_t3"].append(page.evaluate(CANVAS_JS, [b64(data["t3"]), "image/webp", 80]))
    finally:
        page.close()
    return out


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def ratio(a, b) -> str:
    return f"{a / b:.2f}x" if a and b else "n/a"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--engines", default=",".join(cb.ENGINES))
    args = ap.parse_args()
    data = inputs()
    results = {}
    with serve_dist() as url, sync_playwright() as pw:
        for engine in args.engines.split(","):
            results[engine] = measure(engine, url, data, args.repeat, pw.chromium)
            print(f"measured {engine}", file=sys.stderr)
    chromium_first = med(results.get("chromium", {}).get("first", []))
    print(f"medians of {args.repeat}; worker / the same browser's canvas (T1 goal <= 1.2x); "
          "first file fresh, and / Chromium's (WebKit goal <= 1.5x)")
    for engine, r in results.items():
        t1, c1, t3, c3, car, first = (med(r[k]) for k in ("t1", "canvas_t1", "t3", "canvas_t3", "car", "first"))
        print(f"{engine:16s} T1 {t1:7.0f} ms / canvas {c1:5.0f} = {ratio(t1, c1):6s}"
              f" | T3 {t3:6.0f} ms / canvas {c3 or float('nan'):5.0f} = {ratio(t3, c3):6s}"
              f" | car listing 12 MP {car:6.0f} ms = {ratio(car, c1):7s} canvas T1"
              f" | first file {first:5.0f} ms = {ratio(first, chromium_first)} Chromium's")
        print(f"{'':16s} codec: T1 {r['codec']['t1']}, T3 {r['codec']['t3']}, car {r['codec']['car']}")


if __name__ == "__main__":
    main()
