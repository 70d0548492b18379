"""Time to the first converted file in Chromium, Firefox ESR and WebKit, in one run (issue 25).

    .venv/bin/python bench/browsers_start.py [--runs N] [--visits V] [--browsers chromium,firefox,webkit]

A page of the built site's origin imports the client (web/client/pixelpress.js)
and converts one 1 MP JPEG to WebP, as an embedding app does; the clock starts
at the import and stops at the result. Each run gives every browser a fresh
profile (the fresh visit), then loads the same page V-1 more times in that
profile (later visits: HTTP cache, compiled-code caches, the interpreter
snapshot). No service worker: importing the client registers none (the
studio's, web/sw.js, answers every navigation with the studio's page;
bench/page_load.py measures that path, in Chromium).

Prints, per browser: medians and best runs of the fresh visit, the 2nd visit
and the 3rd and later ones, each browser's ratio to Chromium's, the CPU
seconds its processes used for each visit (on a shared 2-core machine wall
time moves with everyone else's work; CPU time much less), and where the
time went (the worker's boot phases and steps from its ready message, which
carries its `pixelpress:*` User Timing measures).

Browsers, all Debian's: Chromium through Playwright; Firefox ESR through
puppeteer-core over WebDriver BiDi (bench/browsers_start_firefox.mjs);
WebKitGTK's MiniBrowser through Selenium and WebKitWebDriver on a private Xvfb
display. Runs interleave the browsers so that the machine's noise falls on
all of them alike.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from browser_harness import CHROMIUM_FLAGS, DIST, chromium_path, serve_dist  # noqa: E402
from samples import encode, large_photo  # noqa: E402

PAGE = "start-bench.html"
PHOTO = "start-bench.jpg"
SETTLE_MS = 1000  # after each visit: the snapshot and the caches are written after the first file

# The page: fetch the photo first (not timed), then import the client and convert.
PAGE_HTML = """<!doctype html>
<meta charset="utf-8">
<title>pixelpress start bench</title>
<script type="module">
const photo = await (await fetch('%(photo)s', { cache: 'no-store' })).arrayBuffer();
const t0 = performance.now();
try {
  const { PixelpressClient } = await import('./client/pixelpress.js');
  const imported = performance.now() - t0;
  const px = new PixelpressClient();
  const ready = px.ready().then((m) => ({ at: performance.now() - t0, ...m }));
  const r = await px.run('convert', new Blob([photo], { type: 'image/jpeg' }), { format: 'webp', quality: 80 });
  const done = performance.now() - t0;
  const m = await ready;
  window.__start = { ok: true, done, imported, ready: m.at, interpreter: m.interpreter, timings: m.timings,
    job: r.ms, format: r.meta?.format, bytes: r.blob?.size };
} catch (e) {
  window.__start = { ok: false, error: `${e?.code ?? ''} ${e?.message ?? e}` };
}
</script>
"""


@contextmanager
def site_with_page():
    """dist/ plus the bench page and its photo, in a temporary folder of links; yields its URL."""
    with tempfile.TemporaryDirectory(prefix="pixelpress-start-") as tmp:
        root = Path(tmp)
        for entry in DIST.iterdir():
            (root / entry.name).symlink_to(entry.resolve())
        (root / PAGE).write_text(PAGE_HTML % {"photo": PHOTO})
        (root / PHOTO).write_bytes(encode(large_photo(1155, 866), "JPEG", quality=85))  # 1.0 MP
        with serve_dist(root) as url:
            yield url


def _wait_start(read, timeout_s: float = 120) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        got = read()
        if got:
            return got
        time.sleep(0.02)
    raise TimeoutError("the page never converted its file")


def _proc_table() -> dict[int, tuple[int, float, str]]:
    """pid -> (parent pid, CPU seconds of the process and its reaped children, command line)."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        out[int(entry.name)] = (int(fields[1]), sum(int(f) for f in fields[11:15]) / tick, cmdline)
    return out


def tree_cpu(root: int | None = None, marker: str | None = None) -> float:
    """CPU seconds used so far by a browser: the process `root`, or those whose command line holds `marker`,
    and everything under them. Unlike wall time, this hardly moves with what else the machine runs."""
    table = _proc_table()
    todo = [pid for pid, (_, _, cmd) in table.items() if (pid == root or (marker and marker in cmd))]
    seen = set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        todo += [child for child, (parent, _, _) in table.items() if parent == pid]
    return sum(table[pid][1] for pid in seen)


def chromium_visits(url: str, visits: int) -> list[dict]:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as profile, sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(profile, executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        try:
            page = ctx.new_page()
            out = []
            for _ in range(visits):
                cpu = tree_cpu(marker=profile)
                page.goto(url, wait_until="domcontentloaded")
                out.append(_wait_start(lambda: page.evaluate("() => window.__start ?? null")))
                out[-1]["cpu_s"] = tree_cpu(marker=profile) - cpu
                page.wait_for_timeout(SETTLE_MS)
            return out
        finally:
            ctx.close()


def firefox_visits(url: str, visits: int) -> list[dict]:
    # The driver visits when told to (a line on its stdin) and answers with the visit's result, so that the
    # browser's CPU time is read around each visit.
    with tempfile.TemporaryDirectory() as profile:
        driver = subprocess.Popen(["node", str(ROOT / "bench" / "browsers_start_firefox.mjs"), url, profile],
                                  cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            out = []
            for _ in range(visits):
                cpu = tree_cpu(marker=profile)
                driver.stdin.write("visit\n")
                driver.stdin.flush()
                line = driver.stdout.readline()
                if not line.startswith("{"):
                    raise RuntimeError(f"Firefox: the driver said {line!r}")
                out.append(json.loads(line))
                out[-1]["cpu_s"] = tree_cpu(marker=profile) - cpu
                time.sleep(SETTLE_MS / 1000)
            return out
        finally:
            driver.stdin.close()
            driver.wait(timeout=60)


def minibrowser_path() -> str:
    for path in (os.environ.get("PIXELPRESS_MINIBROWSER"), "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser",
                 "/usr/lib/aarch64-linux-gnu/webkit2gtk-4.1/MiniBrowser", "/usr/libexec/webkit2gtk-4.1/MiniBrowser"):
        if path and Path(path).exists():
            return path
    raise RuntimeError("MiniBrowser not found: apt-get install -y webkit2gtk-driver")


@contextmanager
def xvfb_display():
    """A private X display for MiniBrowser (it needs one even when nothing looks at it)."""
    if os.environ.get("DISPLAY"):
        yield os.environ["DISPLAY"]
        return
    read, write = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
                            pass_fds=(write,), stderr=subprocess.DEVNULL)
    os.close(write)
    try:
        with os.fdopen(read) as f:
            number = f.readline().strip()
        if not number:
            raise RuntimeError("Xvfb did not start: apt-get install -y xvfb")
        yield f":{number}"
    finally:
        proc.terminate()
        proc.wait()


def webkit_visits(url: str, visits: int, display: str, features: str = "", extra_env: list[str] = ()) -> list[dict]:
    from selenium import webdriver
    from selenium.webdriver.webkitgtk.options import Options
    from selenium.webdriver.webkitgtk.service import Service

    with tempfile.TemporaryDirectory() as profile:
        # MiniBrowser keeps its website data under the XDG folders: a new set of them is a fresh profile.
        env = {**os.environ, "DISPLAY": display, "XDG_DATA_HOME": f"{profile}/data",
               "XDG_CACHE_HOME": f"{profile}/cache", "XDG_CONFIG_HOME": f"{profile}/config",
               **dict(kv.split("=", 1) for kv in extra_env)}
        options = Options()
        options.binary_location = minibrowser_path()
        options.add_argument("--automation")
        if features:
            options.add_argument(f"--features={features}")
        service = Service(executable_path=shutil.which("WebKitWebDriver") or "/usr/bin/WebKitWebDriver", env=env)
        driver = webdriver.WebKitGTK(options=options, service=service)
        try:
            out = []
            for _ in range(visits):
                cpu = tree_cpu(root=service.process.pid)
                driver.get(url)
                out.append(_wait_start(lambda: driver.execute_script("return window.__start || null")))
                out[-1]["cpu_s"] = tree_cpu(root=service.process.pid) - cpu
                time.sleep(SETTLE_MS / 1000)
            return out
        finally:
            driver.quit()


# (label, how to read it off one visit's result, in ms)
def _timing(name):
    return lambda r: (r.get("timings") or {}).get(name)


ROWS = [
    ("client module imported", lambda r: r["imported"]),
    ("worker modules, until its boot began", lambda r: r["ready"] - r["imported"] - r["timings"]["total"]),
    ("boot phase", _timing("boot")),
    ("  manifest", _timing("manifest")),
    ("  snapshot read", _timing("snapshot-read")),
    ("  interpreter restored", _timing("restore")),
    ("  interpreter started afresh", _timing("start")),
    ("  snapshot taken", _timing("snapshot")),
    ("packages phase (pixelpress + Pillow)", _timing("packages")),
    ("imports phase", _timing("imports")),
    ("ready -> converted (warm-up, the job, the answer)", lambda r: r["done"] - r["ready"]),
    ("  of which the job in the worker", lambda r: r.get("job")),
    ("total: import -> first converted file", lambda r: r["done"]),
]


def _med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--visits", type=int, default=4, help="visits per profile, the fresh one included")
    ap.add_argument("--browsers", default="chromium,firefox,webkit")
    ap.add_argument("--webkit-features", default="", metavar="LIST",
                    help="MiniBrowser's --features, e.g. +StorageAPI,+FileSystem (on in Safari, off in WebKitGTK)")
    ap.add_argument("--webkit-env", action="append", default=[], metavar="NAME=VALUE",
                    help="environment of WebKit's processes, e.g. JSC_useOMGJIT=0 (JavaScriptCore's options)")
    ap.add_argument("--json", type=Path, help="also write every visit's raw result here")
    ap.add_argument("--from-json", type=Path, nargs="+", metavar="FILE",
                    help="run nothing: print the tables for the runs of these --json files together (to interleave "
                         "two builds, run each with --runs 1 in turn and summarise each build's files)")
    args = ap.parse_args()
    browsers = args.browsers.split(",")
    results: dict[str, list[list[dict]]] = {b: [] for b in browsers}
    if args.from_json:
        for path in args.from_json:
            for b, runs in json.loads(path.read_text()).items():
                if b in results:
                    results[b] += runs
        args.runs = max(len(r) for r in results.values())
        args.visits = max(len(v) for r in results.values() for v in r)
    else:
        measure(args, browsers, results)
    report(args, browsers, results)


def measure(args, browsers: list[str], results: dict[str, list[list[dict]]]) -> None:
    with site_with_page() as site, xvfb_display() as display:
        url = f"{site}{PAGE}"
        drivers = {"chromium": lambda: chromium_visits(url, args.visits),
                   "firefox": lambda: firefox_visits(url, args.visits),
                   "webkit": lambda: webkit_visits(url, args.visits, display, args.webkit_features,
                                                           args.webkit_env)}
        for run in range(args.runs):
            for b in browsers:
                visits = drivers[b]()
                bad = [v for v in visits if not v.get("ok")]
                if bad:
                    raise RuntimeError(f"{b}: {bad[0].get('error')}")
                results[b].append(visits)
                print(f"run {run + 1} {b:8s} " + " ".join(f"{v['done']:6.0f}" for v in visits)
                      + "   CPU s: " + " ".join(f"{v['cpu_s']:4.1f}" for v in visits)
                      + "   interpreter: " + ",".join(v["interpreter"][0] for v in visits), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


def report(args, browsers: list[str], results: dict[str, list[list[dict]]]) -> None:
    kinds = {"fresh": lambda runs: [r[0] for r in runs], "2nd visit": lambda runs: [r[1] for r in runs if len(r) > 1],
             "later (3rd+)": lambda runs: [v for r in runs for v in r[2:]]}
    extras = "".join(f", {x}" for x in [args.webkit_features, *args.webkit_env] if x)
    print(f"\nfirst converted file (1 MP JPEG -> WebP) from importing the client; {args.runs} runs, "
          f"{args.visits} visits per fresh profile{extras}; ms, median (best)")
    print(f"  {'':10s}" + "".join(f"{k:>26s}" for k in kinds))
    medians = {}
    for b in browsers:
        cells = []
        for kind, pick in kinds.items():
            done = [v["done"] for v in pick(results[b])]
            medians[b, kind] = _med(done)
            cells.append(f"{_med(done):7.0f} ({min(done):5.0f})" if done else "-")
        print(f"  {b:10s}" + "".join(f"{c:>26s}" for c in cells))
    if "chromium" in browsers:
        for b in browsers:
            if b == "chromium":
                continue
            ratios = [medians[b, k] / medians["chromium", k] if medians.get((b, k)) and medians.get(("chromium", k))
                      else None for k in kinds]
            print(f"  {b + ' ÷ chromium':22s}" + "".join(f"{r:13.2f}x" if r else f"{'-':>14s}" for r in ratios)
                  + "   goal <= 1.5x")
    print("  the browser's CPU seconds for the same visits (its processes; steadier than wall time on a busy machine)")
    cpu_medians = {}
    for b in browsers:
        cells = []
        for kind, pick in kinds.items():
            cpu = [v["cpu_s"] for v in pick(results[b])]
            cpu_medians[b, kind] = _med(cpu)
            cells.append(f"{_med(cpu):7.1f} ({min(cpu):5.1f})" if cpu else "-")
        print(f"  {b:10s}" + "".join(f"{c:>26s}" for c in cells))
    if "chromium" in browsers:
        for b in browsers:
            if b != "chromium":
                ratios = [cpu_medians[b, k] / cpu_medians["chromium", k] if cpu_medians.get((b, k))
                          and cpu_medians.get(("chromium", k)) else None for k in kinds]
                print(f"  {b + ' ÷ chromium':22s}" + "".join(f"{r:13.2f}x" if r else f"{'-':>14s}" for r in ratios))
    for b in browsers:
        if medians.get((b, "later (3rd+)")) and medians.get((b, "fresh")):
            print(f"  {b}: later ÷ fresh {medians[b, 'later (3rd+)'] / medians[b, 'fresh']:.2f}x   goal <= 1.0x")

    print("\nwhere the time went (ms, medians)")
    header = "".join(f"{b[:6] + ' ' + k[:5]:>13s}" for b in browsers for k in kinds)
    print(f"  {'':50s}{header}")
    for label, read in ROWS:
        cells = []
        for b in browsers:
            for pick in kinds.values():
                got = _med([_safe(read, v) for v in pick(results[b])])
                cells.append(f"{got:13.0f}" if got is not None else f"{'-':>13s}")
        print(f"  {label:50s}" + "".join(cells))


def _safe(read, v):
    try:
        return read(v)
    except (KeyError, TypeError):
        return None


if __name__ == "__main__":
    main()
