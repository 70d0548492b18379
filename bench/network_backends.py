"""The background-removal network in Chromium's model worker: wasm on one thread, wasm on several threads
(a cross-origin-isolated page), and WebGPU (Chromium's software adapter here), in one run.

    .venv/bin/python bench/network_backends.py [--repeat 5] [--photo PATH] [--no-webgpu]

The input is the tensor the engine makes of a real 12 MP photo (a shared real car photo resized to
4000x3000, read by path; `saliency.prepare`), posted to the site's own model worker (web/worker/model-worker.js)
as the page's model host does. Per backend: the median of --repeat runs after the first (the page's wait,
so the transfer is included), the ratio to wasm on one thread, and the map's parity with it (max abs
difference of the normalised 320x320 map, IoU of its 0.5 cut). The load (runtime, model, session) is timed
apart. One machine with two noisy cores: read the ratios. WebGPU here is SwiftShader on the CPU, so its
time says nothing of a GPU's; its parity does.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "py")]

import numpy as np  # noqa: E402
from browser_harness import launch, model_worker_run, serve_dist  # noqa: E402
from PIL import Image  # noqa: E402
from pixelpress.saliency import prepare, to_map  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

PHOTO = ROOT.parent / "shared" / "matte-real-dev" / "images" / "carvana_03a857ce842d_04.jpg"
BACKENDS = [  # label, cross-origin isolated page, the model worker's configure message
    ("wasm, 1 thread", False, {"executionProvider": "wasm"}),
    ("wasm, threads (isolated)", True, {"executionProvider": "wasm"}),
    ("webgpu (SwiftShader)", True, {"executionProvider": "webgpu"}),
]


def tensor_12mp(path: Path) -> np.ndarray:
    if not path.exists():
        raise SystemExit(f"{path} is missing: the bench reads the shared real photos by path")
    photo = Image.open(path).convert("RGB").resize((4000, 3000), Image.Resampling.LANCZOS)
    return prepare(np.asarray(photo))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--photo", type=Path, default=PHOTO)
    ap.add_argument("--no-webgpu", action="store_true", help="skip WebGPU (SwiftShader takes minutes a run)")
    args = ap.parse_args()
    tensor = tensor_12mp(args.photo)
    rows = []
    with sync_playwright() as p, serve_dist() as plain, serve_dist(isolated=True) as isolated:
        browser = launch(p, webgpu=True)
        for label, iso, config in BACKENDS:
            if args.no_webgpu and config["executionProvider"] == "webgpu":
                continue
            page = browser.new_page()
            page.goto(isolated if iso else plain)
            # SwiftShader takes minutes a run: WebGPU runs once (its figure includes the first run's set-up).
            gpu = config["executionProvider"] == "webgpu"
            t0 = time.perf_counter()
            res = model_worker_run(page, [tensor], config, repeat=1 if gpu else args.repeat + 1)
            total = (time.perf_counter() - t0) * 1000
            page.close()
            if not res["ok"]:
                print(f"{label}: failed: {res['error']}")
                continue
            runs = res["runs"][0][0 if gpu else 1:]  # the first run warms the session's buffers
            rows.append((label, res["backend"], statistics.median(runs), total - sum(res["runs"][0]), res["maps"][0]))
        browser.close()
    if not rows:
        raise SystemExit("no backend ran")
    ref_ms, ref_map = rows[0][2], rows[0][4]
    print(f"U2-Net-p 320x320 in Chromium's model worker, tensor of {args.photo.name} at 4000x3000, "
          f"median of {args.repeat} warm runs (one run, 2 cores):")
    print(f"{'backend':28} {'ran as':34} {'ms':>7} {'vs 1 thread':>11} {'load ms':>8} {'max|d|':>8} {'IoU':>7}")
    for label, backend, ms, load, m in rows:
        ran = f"{backend['execution_provider']}, {backend['threads']} thread(s)"
        if backend.get("fallback_reason"):
            ran += " (fell back)"
        diff = float(np.abs(to_map(m) - to_map(ref_map)).max())
        a, b = to_map(m) > 0.5, to_map(ref_map) > 0.5
        iou = float((a & b).sum() / max((a | b).sum(), 1))
        print(f"{label:28} {ran:34} {ms:7.0f} {ref_ms / ms:10.2f}x {load:8.0f} {diff:8.1e} {iou:7.4f}")
        if backend.get("fallback_reason"):
            print(f"    fallback_reason: {backend['fallback_reason']}")


if __name__ == "__main__":
    main()
