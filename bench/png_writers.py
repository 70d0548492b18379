"""PNG writers on the car listing's real outputs, natively and in the Chromium worker, in one run.

    .venv/bin/python bench/png_writers.py [--photos 3] [--rounds 2] [--skip-native] [--skip-worker]

The car listing (registry "car_listing", defaults) runs natively on real
photos from ../shared/matte-real-dev/images resized to 4000x3000; its three
RGBA outputs (processed, detail, grid) per photo are what every writer
writes. Natively: Pillow at compress_level 1-9 and each zlib strategy (its
default is Z_FILTERED; its row filter is the same adaptive choice of None,
Up, Sub or Paeth at every level). In a module worker of a Chromium page
(dist/ over HTTP, cross-origin isolated so that wasm-vips' threads run):
Pyodide's Pillow with the same settings, Pillow's row filter in JS with
the browser's own zlib (CompressionStream, fixed at zlib's default level),
and the PNG encoders from npm, pinned devDependencies used by this bench
only: @jsquash/png (image-png 0.17), @jsquash/oxipng (oxipng 9 with
libdeflate) at levels 0 and 1 single-threaded, @cf-wasm/png (image-png
0.16) and wasm-vips (libvips' pngsave). Of these only wasm-vips is
compiled with wasm SIMD (wasm2wat finds no v128 instruction in the
others), and it needs a cross-origin-isolated page for its threads.

Each row: median time for all outputs, time and total size against Pillow
at level 6 on the same side, and the largest ratio of one file to its
level-6 size (the choice, png.CUTOUT_LEVEL, is the fastest writer with no
file over +10 %). Rounds are interleaved; levels 7-9 and oxipng's level 1
run in the first round only (minutes each). Nothing is asserted.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import io
import statistics
import sys
import threading
import time
import zlib
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "py")]

import numpy as np  # noqa: E402
from browser_harness import DIST, MIME, launch  # noqa: E402
from PIL import Image  # noqa: E402
from pixelpress.registry import resolve  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

PHOTOS = ROOT.parent / "shared" / "matte-real-dev" / "images"
NODE_MODULES = ROOT / "node_modules"
STRATEGIES = {"Z_FILTERED": zlib.Z_FILTERED, "Z_DEFAULT_STRATEGY": zlib.Z_DEFAULT_STRATEGY,
              "Z_HUFFMAN_ONLY": zlib.Z_HUFFMAN_ONLY, "Z_RLE": zlib.Z_RLE, "Z_FIXED": zlib.Z_FIXED}
SLOW = {7, 8, 9}


def pillow_cases() -> list[tuple[str, dict, bool]]:
    """(label, Pillow save arguments, run in every round)."""
    cases = [(f"pillow level {lv}", {"compress_level": lv}, lv not in SLOW) for lv in range(1, 10)]
    for name, strategy in STRATEGIES.items():
        if name != "Z_FILTERED":
            cases += [(f"pillow level {lv} {name}", {"compress_level": lv, "compress_type": strategy}, True)
                      for lv in (1, 4, 6)]
    return cases


def listing_outputs(count: int) -> list[np.ndarray]:
    cars = sorted(PHOTOS.glob("carvana_*.jpg"))
    others = sorted(p for p in PHOTOS.glob("*.jpg") if not p.name.startswith("carvana_"))
    chosen = (cars[: (count + 1) // 2] + others[: count // 2])[:count]
    listing = resolve("car_listing")
    arrays = []
    for path in chosen:
        im = Image.open(path).convert("RGB").resize((4000, 3000), Image.LANCZOS)
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=90)
        res = listing(buf.getvalue(), {})
        for data in [res.data] + [o.data for o in res.extras]:
            arrays.append(np.asarray(Image.open(io.BytesIO(data)).convert("RGBA")))
        print(f"  {path.name}: " + ", ".join(f"{a.shape[1]}x{a.shape[0]}" for a in arrays[-3:]), flush=True)
    return arrays


def native_table(arrays: list[np.ndarray], rounds: int, only: list[str]) -> list[tuple[str, float, list[int]]]:
    images = [Image.fromarray(a) for a in arrays]
    times: dict[str, list[float]] = {}
    sizes: dict[str, list[int]] = {}
    for r in range(rounds):
        for label, kwargs, every in pillow_cases():
            if (r and not every) or (only and label != "pillow level 6" and label not in only):
                continue
            t0, n = time.perf_counter(), []
            for im in images:
                buf = io.BytesIO()
                im.save(buf, "PNG", **kwargs)
                n.append(buf.tell())
            times.setdefault(label, []).append((time.perf_counter() - t0) * 1000)
            sizes[label] = n
    return [(label, statistics.median(times[label]), sizes[label]) for label in times]


# ------------------------------------------------------------------ the worker

WORKER_JS = r"""
import { loadPyodide } from '/dist/pyodide/pyodide.mjs';

// A candidate writer: each row filtered as Pillow filters it (libImaging/ZipEncode.c: of None, Up, Sub and
// Paeth the one whose bytes, read as signed, sum to the least), then deflated by the browser's own zlib
// (CompressionStream: native code, but at zlib's default level only).
function filterRow(row, prev, bpp, out, scratch) {
  const n = row.length;
  const cost = (v) => (v < 128 ? v : 256 - v);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += cost(row[i]);
  let best = 0;
  if (sum > 0) {
    let s = 0;
    for (let i = 0; i < n; i++) { const v = (row[i] - prev[i]) & 255; scratch[2][i] = v; s += cost(v); }
    if (s < sum) { best = 2; sum = s; }
  }
  if (sum > 0) {
    let s = 0;
    for (let i = 0; i < n; i++) { const v = (row[i] - (i < bpp ? 0 : row[i - bpp])) & 255; scratch[1][i] = v; s += cost(v); }
    if (s < sum) { best = 1; sum = s; }
  }
  if (sum > 0) {
    let s = 0;
    for (let i = 0; i < n; i++) {
      const a = i < bpp ? 0 : row[i - bpp];
      const b = prev[i];
      const c = i < bpp ? 0 : prev[i - bpp];
      const pa = Math.abs(b - c);
      const pb = Math.abs(a - c);
      const pc = Math.abs(a + b - 2 * c);
      const v = (row[i] - (pa <= pb && pa <= pc ? a : pb <= pc ? b : c)) & 255;
      scratch[4][i] = v;
      s += cost(v);
    }
    if (s < sum) best = 4;
  }
  out[0] = best;
  out.set(best === 0 ? row : scratch[best], 1);
}

async function compressionStreamPng({ data, width, height }) {
  const stride = width * 4;
  const stream = new CompressionStream('deflate');
  const writer = stream.writable.getWriter();
  const read = new Response(stream.readable).arrayBuffer();
  const scratch = [null, new Uint8Array(stride), new Uint8Array(stride), null, new Uint8Array(stride)];
  const batch = Math.max(1, Math.floor((1 << 20) / (stride + 1)));
  let prev = new Uint8Array(stride);
  for (let y = 0; y < height; y += batch) {
    const count = Math.min(batch, height - y);
    const out = new Uint8Array(count * (stride + 1));
    for (let k = 0; k < count; k++) {
      const row = data.subarray((y + k) * stride, (y + k + 1) * stride);
      filterRow(row, prev, 4, out.subarray(k * (stride + 1), (k + 1) * (stride + 1)), scratch);
      prev = row;
    }
    await writer.write(out);
  }
  await writer.close();
  // The PNG around the zlib stream: signature, IHDR, one IDAT, IEND.
  return 8 + 25 + 12 + (await read).byteLength + 12;
}

const images = [];
let py = null;
const have = {};

async function setup({ count, pillowCases }) {
  for (let i = 0; i < count; i++) {
    const r = await fetch(`/data/${i}`);
    const [w, h] = r.headers.get('x-size').split('x').map(Number);
    images.push({ width: w, height: h, data: new Uint8Array(await r.arrayBuffer()) });
  }
  py = await loadPyodide({ indexURL: '/dist/pyodide/' });
  await py.loadPackage(['pillow']);
  py.runPython(`
import io, time, zlib
from PIL import Image
def pillow_write(raw, w, h, kwargs):
    im = Image.frombuffer('RGBA', (w, h), raw.to_py(), 'raw', 'RGBA', 0, 1)
    t0 = time.perf_counter()
    buf = io.BytesIO()
    im.save(buf, 'PNG', **kwargs)
    return (time.perf_counter() - t0) * 1000, buf.tell()
`);
  const tryImport = async (name, path) => {
    try { have[name] = await import(path); } catch (e) { have[name] = null; console.log(name, e); }
  };
  await tryImport('jsquash_png', '/nm/@jsquash/png/encode.js');
  await tryImport('oxipng', '/nm/@jsquash/oxipng/codec/pkg/squoosh_oxipng.js');
  if (have.oxipng) await have.oxipng.default();
  await tryImport('cfpng', '/nm/@cf-wasm/png/dist/lib/png.js');
  if (have.cfpng) await have.cfpng.default({ module_or_path: '/nm/@cf-wasm/png/dist/lib/png_bg.wasm' });
  await tryImport('vips', '/nm/wasm-vips/lib/vips-es6.js');
  if (have.vips) {
    have.vips = await have.vips.default({ dynamicLibraries: [], locateFile: (f) => `/nm/wasm-vips/lib/${f}` });
  }
  return Object.fromEntries(Object.entries(have).map(([k, v]) => [k, !!v]));
}


function writers(pillowCases) {
  const out = pillowCases.map(([label, kwargs]) => [label, null, kwargs]);
  out.push(["Pillow's filter + CompressionStream", compressionStreamPng]);
  if (have.jsquash_png) {
    out.push(['@jsquash/png 3.1.1 (image-png 0.17)', async (im) =>
      (await have.jsquash_png.default(new ImageData(new Uint8ClampedArray(im.data.buffer), im.width, im.height))).byteLength]);
  }
  if (have.oxipng) {
    for (const level of [0, 1]) {
      out.push([`@jsquash/oxipng 2.3.0 level ${level}`, async (im) =>
        have.oxipng.optimise_raw(im.data, im.width, im.height, level, false, false).length, null, level > 0]);
    }
  }
  if (have.cfpng) {
    for (const [c, f, name] of [[1, 4, 'Fast, Paeth'], [1, 1, 'Fast, Sub'], [0, 4, 'Default, Paeth']]) {
      out.push([`@cf-wasm/png 0.4.0 (image-png 0.16) ${name}`, async (im) =>
        have.cfpng.encode(im.data, im.width, im.height, null, null, 6, 8, c, f).length]);
    }
  }
  if (have.vips) {
    for (const level of [1, 6]) {
      out.push([`wasm-vips 0.0.19 pngsave level ${level}`, async (im) => {
        const image = have.vips.Image.newFromMemory(im.data, im.width, im.height, 4, 'uchar');
        try {
          return image.writeToBuffer('.png', { compression: level, filter: 'all' }).length;
        } finally {
          image.delete();
        }
      }]);
    }
  }
  return out;
}

async function round({ pillowCases, first, only }) {
  const wanted = (label) => !only.length || label === 'pillow level 6' || only.some((o) => label === o);
  const rows = [];
  for (const [label, fn, kwargs, slow] of writers(pillowCases.filter((c) => first || c[2]))) {
    if ((slow && !first) || !wanted(label)) continue;
    let ms = 0;
    const bytes = [];
    for (const im of images) {
      if (fn === null) {
        const got = py.globals.get('pillow_write')(im.data, im.width, im.height, py.toPy(kwargs));
        const [t, n] = got.toJs();
        got.destroy();
        ms += t;
        bytes.push(n);
      } else {
        const t0 = performance.now();
        bytes.push(await fn(im));
        ms += performance.now() - t0;
      }
    }
    rows.push([label, ms, bytes]);
  }
  return rows;
}

self.onmessage = async ({ data }) => {
  try {
    const result = data.kind === 'setup' ? await setup(data) : await round(data);
    self.postMessage({ ok: true, result });
  } catch (e) {
    self.postMessage({ ok: false, error: String(e?.stack ?? e) });
  }
};
"""

PAGE = """<!doctype html><meta charset="utf-8"><script type="module">
const worker = new Worker('/bench/worker.js', { type: 'module' });
window.ask = (msg) => new Promise((resolve, reject) => {
  worker.onmessage = ({ data }) => (data.ok ? resolve(data.result) : reject(new Error(data.error)));
  worker.postMessage(msg);
});
window.ready = true;
</script>"""


class _Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, **MIME}
    arrays: list[np.ndarray] = []

    def do_GET(self):
        path = self.path.split("?")[0]
        if path.startswith("/data/"):
            a = self.arrays[int(path.rsplit("/", 1)[1])]
            return self._send(a.tobytes(), "application/octet-stream", {"x-size": f"{a.shape[1]}x{a.shape[0]}"})
        if path == "/bench/worker.js":
            return self._send(WORKER_JS.encode(), "text/javascript")
        if path == "/":
            return self._send(PAGE.encode(), "text/html")
        return super().do_GET()

    def translate_path(self, path):
        path = path.split("?")[0]
        if path.startswith("/nm/"):
            return str(NODE_MODULES / path[len("/nm/"):])
        if path.startswith("/dist/"):
            return str(DIST / path[len("/dist/"):])
        return str(DIST / "__outside__")

    def _send(self, body: bytes, mime: str, headers: dict | None = None):
        self.send_response(200)
        self.send_header("Content-Type", mime)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def end_headers(self):
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Cross-Origin-Opener-Policy", "same-origin")
        self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
        self.send_header("Access-Control-Expose-Headers", "x-size")
        super().end_headers()

    def log_message(self, *args):
        pass


@contextmanager
def serve(arrays: list[np.ndarray]):
    handler = type("Handler", (_Handler,), {"arrays": arrays})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(DIST)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def worker_table(arrays: list[np.ndarray], rounds: int, only: list[str]) -> list[tuple[str, float, list[int]]]:
    cases = [[label, {k: int(v) for k, v in kwargs.items()}, every] for label, kwargs, every in pillow_cases()]
    times: dict[str, list[float]] = {}
    sizes: dict[str, list[int]] = {}
    with serve(arrays) as url, sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page()
        page.on("console", lambda m: print("  [worker]", m.text) if "Error" in m.text else None)
        page.goto(url + "/")
        page.wait_for_function("window.ready === true")
        loaded = page.evaluate("(m) => ask(m)", {"kind": "setup", "count": len(arrays), "pillowCases": cases})
        print("  loaded in the worker:", ", ".join(k for k, v in loaded.items() if v),
              "| missing:", ", ".join(k for k, v in loaded.items() if not v) or "none", flush=True)
        for r in range(rounds):
            for label, ms, n in page.evaluate("(m) => ask(m)", {"kind": "round", "pillowCases": cases, "first": r == 0,
                                                                  "only": only}):
                times.setdefault(label, []).append(ms)
                sizes[label] = n
        browser.close()
    return [(label, statistics.median(times[label]), sizes[label]) for label in times]


def print_table(title: str, rows: list[tuple[str, float, list[int]]], base_label: str = "pillow level 6") -> None:
    """Time and total size against `base_label`, and the largest ratio of one file to its level-6 size."""
    base_ms, base = next((ms, n) for label, ms, n in rows if label == base_label)
    print(f"\n{title} (against {base_label}: {base_ms:.0f} ms, {sum(base) / 1e6:.2f} MB)")
    print(f"{'writer':<46} {'ms':>8} {'MB':>7} {'time':>6} {'size':>6} {'worst file':>10}")
    for label, ms, n in sorted(rows, key=lambda r: r[1]):
        worst = max(a / b for a, b in zip(n, base, strict=True))
        within = "" if worst <= 1.10 else "  (a file over +10 %)"
        print(f"{label:<46} {ms:8.0f} {sum(n) / 1e6:7.2f} {ms / base_ms:6.2f} {sum(n) / sum(base):6.3f} "
              f"{worst:10.3f}{within}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--only", default="", help="comma-separated writer labels (level 6 always runs), e.g. "
                    "'pillow level 4,pillow level 5'")
    ap.add_argument("--skip-native", action="store_true")
    ap.add_argument("--skip-worker", action="store_true")
    args = ap.parse_args()
    print(f"car listing outputs of {args.photos} real photos at 4000x3000:", flush=True)
    arrays = listing_outputs(args.photos)
    only = [o.strip() for o in args.only.split(",") if o.strip()]
    if not args.skip_native:
        print_table(f"natively, {len(arrays)} PNGs", native_table(arrays, args.rounds, only))
    if not args.skip_worker:
        print_table(f"in the Chromium worker, {len(arrays)} PNGs", worker_table(arrays, args.rounds, only))


if __name__ == "__main__":
    main()
