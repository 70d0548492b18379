"""The studio tab's memory on a small device: six 12 MP car listings in one batch (issue 25).

    .venv/bin/python bench/tab_memory.py [--photos DIR] [--only low|desktop] [--after-s 20]

Real Chromium (Debian's, through Playwright) opens the built studio (dist/,
or PIXELPRESS_DIST) as a person would, with the device emulated by an init
script: `low` is a phone (navigator.deviceMemory 4, 8 cores), `desktop` the
same cores with 8 GB, so the client's default pool is 2 and 4 engine workers.
For each it prints the tab's memory: the PSS of Chromium's renderer
processes, where the page, its engine workers and the model worker run (read
from /proc/<pid>/smaps_rollup of the browser's child processes), and the
whole browser's beside it:

- idle: the studio once the engine is ready (Convert, where it opens);
- car listing ready: after the view loaded OpenCV and the cut-out model;
- peak: the largest figure sampled (4 times a second) while the batch ran;
- after: `--after-s` seconds after the batch finished, nothing running.

Goals (the low device): peak <= 1.5 GB, idle <= 400 MB. Then it checks the
results are the same on both devices: every output's name, type, size in
pixels and bytes, and sha256.

The photos: the car photos of DIR (default ../shared/matte-real-dev, read by
path, never copied; see its README), each resized to 4000x3000 in memory and
encoded as JPEG q92; without DIR, six of the repository's rendered car
composites (tests/composites.py) at 4000x3000.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import re
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "py")]

from browser_harness import launch, serve_dist  # noqa: E402
from PIL import Image  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

DEFAULT_PHOTOS = ROOT.parent / "shared" / "matte-real-dev"
GOAL_PEAK = 1.5e9
GOAL_IDLE = 400e6
DEVICES = {"low": {"memory": 4, "cores": 8}, "desktop": {"memory": 8, "cores": 8}}
VIEW = "car-listing"

DEVICE_JS = """([memory, cores]) => {
  Object.defineProperty(Navigator.prototype, 'deviceMemory', { get: () => memory, configurable: true });
  Object.defineProperty(Navigator.prototype, 'hardwareConcurrency', { get: () => cores, configurable: true });
  if (typeof WorkerNavigator !== 'undefined') {
    Object.defineProperty(WorkerNavigator.prototype, 'deviceMemory', { get: () => memory, configurable: true });
  }
}"""

RESULTS_JS = """async (view) => {
  const hex = async (blob) => [...new Uint8Array(await crypto.subtle.digest('SHA-256', await blob.arrayBuffer()))]
    .map((b) => b.toString(16).padStart(2, '0')).join('');
  const size = async (blob) => {
    try {
      const bitmap = await createImageBitmap(blob);
      const s = [bitmap.width, bitmap.height];
      bitmap.close();
      return s;
    } catch { return null; }
  };
  const queue = window.pixelpressStudio.views.find((v) => v.spec.id === view).queue;
  const out = {};
  for (const job of queue.jobs) {
    const files = [];
    for (const o of job.outputs ?? []) {
      files.push({ name: o.name, type: o.blob.type, bytes: o.blob.size, size: await size(o.blob), sha256: await hex(o.blob) });
    }
    out[job.name] = { status: job.status, error: job.error?.code ?? null, files };
  }
  return out;
}"""


# ---------------------------------------------------------------------------- memory of the browser's processes

def descendants(pid: int) -> list[int]:
    """Every process under `pid` (Playwright's driver, then Chromium and its children)."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kind(pid: int) -> str | None:
    """Chromium's process type (browser, renderer, gpu-process, utility, zygote), None for other processes."""
    try:
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
        # A zygote's children rewrite their command line as one string, spaces for NULs.
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return None
    if not comm.startswith("chrom") or comm.startswith("chrome_crashpad"):
        return None
    m = re.search(rb"--type=([\w-]+)", cmdline)
    return m.group(1).decode() if m else "browser"


def pss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def snapshot() -> dict[str, int]:
    """PSS in bytes: the renderers (the tab: page, engine workers, model worker) and the whole browser."""
    tab = total = 0
    for pid in descendants(os.getpid()):
        k = kind(pid)
        if k is None:
            continue
        m = pss(pid)
        total += m
        if k == "renderer":
            tab += m
    return {"tab": tab, "browser": total}


class Sampler:
    """Samples snapshot() 4 times a second on a thread; keeps the peak."""

    def __init__(self):
        self.peak = {"tab": 0, "browser": 0}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)

    def loop(self):
        while not self.stop.is_set():
            s = snapshot()
            self.peak = {k: max(self.peak[k], s[k]) for k in s}
            self.stop.wait(0.25)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


def settled(seconds: float = 3.0) -> dict[str, int]:
    """The median of a few samples over `seconds`: what the tab holds when nothing runs."""
    samples = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        samples.append(snapshot())
        time.sleep(0.5)
    return {k: int(statistics.median(s[k] for s in samples)) for k in samples[0]}


# ---------------------------------------------------------------------------- the photos

def photos(directory: Path | None) -> list[tuple[str, bytes]]:
    def jpeg(im: Image.Image) -> bytes:
        buf = io.BytesIO()
        im.convert("RGB").resize((4000, 3000), Image.Resampling.LANCZOS).save(buf, "JPEG", quality=92)
        return buf.getvalue()

    if directory and (directory / "manifest.csv").exists():
        with open(directory / "manifest.csv", newline="") as f:
            rows = [r for r in csv.DictReader(f) if r["category"].startswith("car")]
        # The street photos first (real scenes), then the studio turntable ones.
        rows.sort(key=lambda r: r["category"] != "car_street")
        out = []
        for r in rows[:6]:
            with Image.open(directory / r["image"]) as im:
                out.append((f"{r['id']}.jpg", jpeg(im)))
        return out
    import composites

    return [(f"car-{i:02d}.jpg", composites.make(i, 4000, 3000).data) for i in (0, 6, 7, 13, 14, 20)]


# ---------------------------------------------------------------------------- one device

def run_device(p, url: str, name: str, files: list[tuple[str, bytes]], after_s: float) -> dict:
    device = DEVICES[name]
    browser = launch(p)
    try:
        context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
        context.add_init_script(f"({DEVICE_JS})([{device['memory']}, {device['cores']}])")
        page = context.new_page()
        page.goto(f"{url}?nosw#convert")
        page.wait_for_function("() => window.pixelpress !== undefined && window.pixelpressStudio !== undefined")
        ready = page.evaluate("() => window.pixelpress.ready()")
        page.evaluate("() => window.pixelpressStudio.restored")
        pool = page.evaluate("() => window.pixelpress.size")
        idle = settled(4.0)

        page.click(f"#nav-{VIEW}")
        page.wait_for_selector(f"#view-{VIEW}:not([hidden])")
        page.evaluate("(op) => window.pixelpress.preload(op)", "car_listing")
        page.wait_for_function(f"() => !/Loading|Preparing/.test(document.querySelector('#view-{VIEW} .view-note').textContent)",
                               timeout=120_000)
        listing_ready = settled(3.0)

        payload = [{"name": n, "mimeType": "image/jpeg", "buffer": data} for n, data in files]
        started = time.monotonic()
        with Sampler() as sampler:
            page.set_input_files(f"#view-{VIEW} .dropzone input[type=file]", files=payload)
            page.click(f"#view-{VIEW} form.options button[type=submit]")
            page.wait_for_function(
                """([v, n]) => [...document.querySelectorAll(`#view-${v} .job`)]
                     .filter((r) => ['done', 'failed', 'cancelled', 'interrupted'].includes(r.dataset.status)).length >= n""",
                arg=[VIEW, len(files)], timeout=1_200_000, polling=500)
        batch_s = time.monotonic() - started
        time.sleep(after_s)
        after = settled(3.0)
        results = page.evaluate(RESULTS_JS, VIEW)
        workers = page.evaluate("() => window.pixelpress.handles.map((h) => h.heapBytes)")
        context.close()
    finally:
        browser.close()
    return {"device": name, "pool": pool, "workers_after": workers, "engine_ms": ready["timings"].get("total"),
            "idle": idle, "listing_ready": listing_ready, "peak": sampler.peak, "after": after, "batch_s": batch_s,
            "results": results}


def gb(b: int) -> str:
    return f"{b / 1e9:.2f} GB"


def report(r: dict, after_s: float) -> None:
    d = DEVICES[r["device"]]
    heaps = ", ".join("new" if h is None else f"{h / 1e6:.0f} MB" for h in r["workers_after"]) or "none"
    print(f"\n{r['device']} device (deviceMemory {d['memory']}, {d['cores']} cores): pool of {r['pool']} engine workers; "
          f"batch of {len(r['results'])} in {r['batch_s']:.0f} s; engine workers after it: {heaps} (wasm heaps)")
    print(f"  {'':32} {'tab (renderers)':>16} {'whole browser':>14}")
    rows = [("idle, engine ready", r["idle"], GOAL_IDLE), ("idle, car listing ready", r["listing_ready"], None),
            ("peak during the batch", r["peak"], GOAL_PEAK), (f"{after_s:.0f} s after the batch", r["after"], None)]
    for label, m, goal in rows:
        verdict = ""
        if goal is not None and r["device"] == "low":
            verdict = f"   goal <= {gb(goal)}: {m['tab'] / goal:.2f}x ({'met' if m['tab'] <= goal else 'NOT met'})"
        print(f"  {label:32} {gb(m['tab']):>16} {gb(m['browser']):>14}{verdict}")
    failed = {k: v["error"] for k, v in r["results"].items() if v["status"] != "done"}
    if failed:
        print(f"  failed: {failed}")


def compare(a: dict, b: dict) -> bool:
    same = True
    for name in sorted(set(a["results"]) | set(b["results"])):
        fa = [{k: f[k] for k in ("name", "type", "size", "bytes", "sha256")} for f in a["results"].get(name, {}).get("files", [])]
        fb = [{k: f[k] for k in ("name", "type", "size", "bytes", "sha256")} for f in b["results"].get(name, {}).get("files", [])]
        if fa != fb or not fa:
            same = False
            print(f"  {name}: DIFFERENT\n    {a['device']}: {fa}\n    {b['device']}: {fb}")
    if same:
        first = next(iter(a["results"].values()))["files"]
        kinds = ", ".join(f"{f['name']} {f['type']} {f['size'][0]}x{f['size'][1]}" for f in first)
        print(f"  results identical on both devices: {len(a['results'])} listings, each {kinds} "
              "(same bytes, sha256)")
    return same


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", type=Path, default=DEFAULT_PHOTOS, help="a folder with manifest.csv (car photos)")
    ap.add_argument("--only", choices=sorted(DEVICES), help="one device, no comparison")
    ap.add_argument("--after-s", type=float, default=20.0, help="seconds after the batch for the 'after' figure")
    args = ap.parse_args()
    files = photos(args.photos if args.photos and args.photos.exists() else None)
    print(f"{len(files)} photos at 4000x3000: {', '.join(n for n, _ in files)} "
          f"({sum(len(d) for _, d in files) / 1e6:.1f} MB of JPEG)", flush=True)
    runs = []
    with serve_dist() as url, sync_playwright() as p:
        for name in [args.only] if args.only else ["low", "desktop"]:
            runs.append(run_device(p, url, name, files, args.after_s))
            report(runs[-1], args.after_s)
    if len(runs) == 2:
        print()
        compare(runs[0], runs[1])


if __name__ == "__main__":
    main()
