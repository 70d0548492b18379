"""The worker's wasm heap after hostile and huge files (issue 11). Goal: nothing leaves a worker above 1.5 GB.

    .venv/bin/python bench/worker_memory.py [--only oil_paint,convert]

One page, one client with a pool of one worker and the default recycling
threshold. Each file goes through each op; after every job it prints the
answer's code, the heap of the worker that ran it (what the file cost) and
the largest heap the pool still holds (what the next job would inherit,
after recycling). The files: the header and zlib bombs of the hostile corpus,
49 MP pictures (a 7000x7000 RGBA PNG and JPEG photo), and long thin strips.
Heaps are read from the worker (`heapBytes`), so they are exact, not noisy.
"""

from __future__ import annotations

import argparse
import base64
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "py")]

import hostile_corpus  # noqa: E402
import samples  # noqa: E402
from browser_harness import launch, serve_dist  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

GOAL = 1.5e9
OPS = {"convert": {"format": "webp"}, "oil_paint": {}, "logo_cleanup": {}, "upscale": {"factor": 2},
       "remove_background": {}, "car_listing": {}, "web_sizes": {}}

START_JS = """async () => {
  const mod = await import(new URL('client/pixelpress.js', location.href).href);
  window.bench = new mod.PixelpressClient({ size: 1 });
  await window.bench.ready();
}"""

RUN_JS = """async ([file, op, b64, options]) => {
  const client = window.bench;
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const ran = client.handles[0];
  let code = 'ok';
  try { await client.run(op, bytes, options, { timeoutMs: 300000 }); } catch (e) { code = e.code; }
  const pool = client.handles.map((h) => h.heapBytes ?? 0);
  return { file, op, code, heap: ran?.heapBytes ?? null, recycled: !client.handles.includes(ran),
           poolMax: Math.max(0, ...pool) };
}"""


def files() -> list[tuple[str, bytes]]:
    crafted = hostile_corpus.crafted()
    picked = [(n, d) for n, d in crafted if n.startswith(("bomb-", "zlib-bomb", "aspect-"))]
    photo = samples.encode(samples.large_photo(7000, 7000), "JPEG", quality=85)
    return picked + [("49mp-rgba-7000x7000.png", samples.big_flat_png(7000, 7000)), ("49mp-photo-7000x7000.jpg", photo)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", help="comma-separated ops")
    args = ap.parse_args()
    ops = {k: v for k, v in OPS.items() if not args.only or k in args.only.split(",")}
    mb = lambda b: "-" if b is None else f"{b / 1e6:,.0f}"  # noqa: E731
    print(f"{'file':34} {'op':18} {'answer':20} {'heap MB':>8} {'pool max MB':>12}", flush=True)
    rows = []
    with serve_dist() as url, sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page()
        page.goto(url + "asset-manifest.json")  # the site's origin, no client of its own
        page.evaluate(START_JS)
        for name, data in files():
            b64 = base64.b64encode(data).decode()
            for op, opts in ops.items():
                r = page.evaluate(RUN_JS, [name, op, b64, opts])
                rows.append(r)
                note = "  (recycled)" if r["recycled"] else ""
                print(f"{r['file'][:34]:34} {r['op']:18} {r['code']:20} {mb(r['heap']):>8} "
                      f"{mb(r['poolMax']):>12}{note}", flush=True)
        browser.close()

    worst = max(rows, key=lambda r: r["heap"] or 0)
    pool_worst = max(r["poolMax"] for r in rows)
    print(f"\nlargest heap a single file left in its worker: {mb(worst['heap'])} MB "
          f"({worst['file']}, {worst['op']}); {worst['heap'] / GOAL:.2f} x the 1.5 GB goal")
    print(f"largest heap the pool held after any job:    {mb(pool_worst)} MB; {pool_worst / GOAL:.2f} x the goal")
    print(f"jobs: {len(rows)}, answers: " + ", ".join(f"{c} {sum(r['code'] == c for r in rows)}"
                                                    for c in sorted({r['code'] for r in rows})))


if __name__ == "__main__":
    main()
