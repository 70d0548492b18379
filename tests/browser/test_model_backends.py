"""How the browser runs the network: wasm on one thread, on several on a cross-origin-isolated page, WebGPU
where there is an adapter, and a quiet fallback to wasm that meta records. Same mask whichever ran it.

Parity is measured on the shared real photos (../shared/matte-real-dev, read by path) against the wasm
single-thread map of the same tensor: the 320x320 map (normalised as the engine does, `to_map`) within
MAX_ABS_DIFF everywhere, and its 0.5 cut with IoU >= MIN_IOU.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

import composites
import numpy as np
import pytest
from browser_harness import DIST, BrowserEngine, launch, model_worker_run, serve_dist, serve_static
from PIL import Image
from pixelpress.saliency import prepare, to_map

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "server"))
from server_helpers import console_server  # noqa: E402

REAL = ROOT.parent / "shared" / "matte-real-dev" / "images"
PHOTOS = ["carvana_03a857ce842d_04", "carvana_0cdf5b5d0ce1_10"]  # one studio car each side, and a street car:
STREET = sorted(p.stem for p in REAL.glob("*.jpg") if not p.stem.startswith("carvana"))[:1] if REAL.is_dir() else []
MAX_ABS_DIFF = 1e-3  # threads reorder float sums; WebGPU computes in float32 on other hardware
MIN_IOU = 0.999


def tensors() -> list[np.ndarray]:
    if not REAL.is_dir():
        pytest.skip(f"{REAL} is not here: the parity tests read the shared real photos by path")
    return [prepare(np.asarray(Image.open(REAL / f"{name}.jpg").convert("RGB"))) for name in PHOTOS + STREET]


def iou(a: np.ndarray, b: np.ndarray) -> float:
    a, b = to_map(a) > 0.5, to_map(b) > 0.5
    return float((a & b).sum() / max((a | b).sum(), 1))


def assert_same_masks(maps, reference):
    for m, r in zip(maps, reference, strict=True):
        assert np.all(np.isfinite(m))
        assert float(np.abs(to_map(m) - to_map(r)).max()) <= MAX_ABS_DIFF
        assert iou(m, r) >= MIN_IOU


@pytest.fixture(scope="module")
def isolated_url():
    with serve_dist(isolated=True) as url:
        yield url


def wasm_run_at(browser, url: str) -> dict:
    """The model worker's wasm provider over the shared photos' tensors, on a fresh page at `url`."""
    page = browser.new_page()
    try:
        page.goto(url)
        return model_worker_run(page, tensors(), {"executionProvider": "wasm"})
    finally:
        page.close()


@pytest.fixture(scope="module")
def single_thread(browser, site_url):
    """The reference: the wasm provider on one thread (a page that is not isolated)."""
    res = wasm_run_at(browser, site_url)
    assert res["ok"], res
    assert not res["isolated"] and res["backend"]["threads"] == 1
    return res["maps"]


def test_threads_on_an_isolated_page_give_the_same_masks(browser, isolated_url, single_thread):
    res = wasm_run_at(browser, isolated_url)
    assert res["ok"], res
    assert res["isolated"] is True
    backend = res["backend"]
    assert backend["execution_provider"] == "wasm" and backend["threads"] >= 2 and backend["cross_origin_isolated"]
    assert_same_masks(res["maps"], single_thread)


def test_without_isolation_the_studio_says_it_ran_on_one_thread(browser_engine):
    car = composites.make(3, 900, 600)
    res = browser_engine.run("remove_background", car.data, {})
    assert res["ok"], res
    network = res["meta"]["matte"]["network"]
    assert network["runtime"] == "onnxruntime-web" and network["version"] == "1.22.0"
    assert network["execution_provider"] == "wasm" and network["threads"] == 1
    assert network["cross_origin_isolated"] is False
    # This Chromium runs with --disable-gpu: WebGPU, when the browser exposes it, has no adapter, and says so.
    gpu = browser_engine.page.evaluate("async () => !!navigator.gpu && !!(await navigator.gpu.requestAdapter())")
    assert not gpu
    assert network["fallback_reason"] in (None, "WebGPU offers no adapter here")


@contextlib.contextmanager
def webgpu_page(browser):
    """A page of another Chromium, with the software WebGPU adapter."""
    other = launch(browser.browser_type, webgpu=True)
    try:
        yield other.new_page()
    finally:
        other.close()


def test_webgpu_that_cannot_serve_falls_back_to_wasm_quietly(browser, site_url, single_thread):
    """Left to itself the worker passes over a software adapter; asked for WebGPU, a runtime that fails to
    load (here: a host serving other bytes for its wasm) still gives the wasm provider's mask. Each says why
    in meta."""
    tampered = {"vendor/ort/ort-wasm-simd-threaded.jsep.wasm": b"\0asm not the pinned build"}
    with webgpu_page(browser) as page, serve_static(DIST, prefix="/studio/", tamper=tampered) as broken_url:
        page.goto(site_url)
        if not page.evaluate("async () => !!navigator.gpu && !!(await navigator.gpu.requestAdapter())"):
            pytest.skip("this Chromium offers no WebGPU adapter, even its software one")
        auto = model_worker_run(page, tensors()[:1], {"executionProvider": "auto"})
        page.goto(broken_url)
        broken = model_worker_run(page, tensors()[:1], {"executionProvider": "webgpu"})
    assert auto["ok"] and broken["ok"], (auto, broken)
    assert auto["backend"]["execution_provider"] == "wasm"
    assert auto["backend"]["fallback_reason"] == "WebGPU offers only a software adapter, slower than wasm"
    assert broken["backend"]["execution_provider"] == "wasm"
    assert broken["backend"]["fallback_reason"] == ("WebGPU runtime: vendor/ort/ort-wasm-simd-threaded.jsep.wasm "
                                                    "does not match its sha256")
    assert_same_masks(auto["maps"] + broken["maps"], single_thread[:1] * 2)


@pytest.mark.slow
@pytest.mark.timeout(1500)
@pytest.mark.skipif(not os.environ.get("PIXELPRESS_WEBGPU_PARITY"),
                    reason="3-7 minutes on the software adapter: run with PIXELPRESS_WEBGPU_PARITY=1")
def test_webgpu_gives_the_same_masks(browser, site_url, single_thread):
    """Chromium's software WebGPU adapter (SwiftShader): the same shaders a GPU runs, but on the CPU, so one
    photo (3-7 minutes here on two busy cores): too long for every run of the suite, which keeps the
    fallback tests above; run it when the model worker's WebGPU path changes."""
    with webgpu_page(browser) as page:
        page.goto(site_url)
        if not page.evaluate("async () => !!navigator.gpu && !!(await navigator.gpu.requestAdapter())"):
            pytest.skip("this Chromium offers no WebGPU adapter, even its software one")
        res = model_worker_run(page, tensors()[:1], {"executionProvider": "webgpu"})
    assert res["ok"], res
    assert res["backend"]["execution_provider"] == "webgpu", res["backend"]
    assert res["backend"]["fallback_reason"] is None
    assert_same_masks(res["maps"], single_thread[:1])


def test_the_isolated_studio_over_the_real_server(tmp_path, browser):
    """pixelpress-server --cross-origin-isolation: the page, its service worker, the engine workers and the
    model worker all load under COEP, and the car listing's network ran on several threads."""
    with console_server(tmp_path, "--static", str(DIST), "--cross-origin-isolation") as (base, _proc):
        context = browser.new_context()
        try:
            page = context.new_page()
            failed = []
            page.on("requestfailed", lambda r: failed.append(r.url))
            page.goto(base + "/")
            BrowserEngine(page).wait_ready()
            assert page.evaluate("crossOriginIsolated") is True
            # The service worker installs (it caches every file) and takes over; the page it then serves
            # from its cache must still be isolated, and load its workers through it.
            page.evaluate("""async () => {
                const reg = await navigator.serviceWorker.ready;
                if (reg.active.state !== 'activated') {
                  await new Promise((ok) => reg.active.addEventListener('statechange', ok));
                }
            }""")
            page.reload()
            engine = BrowserEngine(page)
            engine.wait_ready()
            assert page.evaluate("!!navigator.serviceWorker.controller && crossOriginIsolated") is True
            car = composites.make(3, 1200, 900)
            res = engine.run("car_listing", car.data, {"filename": "car.jpg"})
            assert res["ok"], res
            out = {o["name"]: np.asarray(Image.open(__import__("io").BytesIO(o["data"]))) for o in res["outputs"]}
            assert set(out) == {"main", "grid", "detail"}
            alpha = out["grid"][..., 3]
            assert 0.05 < (alpha > 127).mean() < 0.95  # a cut-out, not an empty or a full frame
            network = res["meta"]["matte"]["network"]
            assert network["execution_provider"] == "wasm" and network["threads"] > 1
            assert network["cross_origin_isolated"] is True
            assert not failed, failed
        finally:
            context.close()
