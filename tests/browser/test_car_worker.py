"""Artistic and car-listing operations in the browser worker, checked natively."""

import composites
import numpy as np
import pytest
import samples
from pixelpress.ops.drop_shadow import drop_shadow
from pixelpress.ops.oil_paint import oil_paint
from skimage.metrics import structural_similarity

PHOTO_PNG = samples.encode(samples.image("coffee.png"), "PNG")
CUTOUT = samples.encode(samples.cutout("chelsea.png"), "PNG")


def rgba(data: bytes) -> np.ndarray:
    return np.asarray(samples.decode(data).convert("RGBA"))


def test_oil_paint_in_the_worker_matches_native(browser_engine):
    opts = {"intensity": 7, "brush_size": 6, "color_vibrance": 30, "format": "png"}
    res = browser_engine.run("oil_paint", PHOTO_PNG, opts)
    assert res["ok"], res
    a = np.asarray(samples.decode(res["outputs"][0]["data"]).convert("RGB"))
    b = np.asarray(samples.decode(oil_paint(PHOTO_PNG, opts).data).convert("RGB"))
    assert structural_similarity(a, b, channel_axis=2) >= 0.99


def test_classical_background_removal_in_the_worker_meets_the_iou_bar(browser_engine):
    scores = []
    for c in composites.composites(6, start=10):
        res = browser_engine.run("remove_background", c.data, {"provider": "classical"})
        assert res["ok"], res
        assert res["meta"]["matte"]["method"] == "classical"
        scores.append(composites.iou(rgba(res["outputs"][0]["data"])[..., 3], c.alpha))
    assert np.mean(scores) >= 0.93 and min(scores) >= 0.85, scores


def test_autocrop_pads_evenly_in_the_worker(browser_engine):
    res = browser_engine.run("autocrop", CUTOUT, {"padding": 40})
    assert res["ok"], res
    alpha = rgba(res["outputs"][0]["data"])[..., 3]
    ys, xs = np.nonzero(alpha > 10)
    h, w = alpha.shape
    assert (ys.min(), xs.min(), h - 1 - ys.max(), w - 1 - xs.max()) == (40, 40, 40, 40)


def test_empty_and_tiny_inputs_in_the_worker(browser_engine):
    clear = samples.encode(samples.Image.new("RGBA", (300, 200), (0, 0, 0, 0)), "PNG")
    assert browser_engine.run("autocrop", clear)["error"]["code"] == "empty_image"
    assert browser_engine.run("car_listing", clear)["error"]["code"] == "empty_image"
    one = samples.encode(samples.Image.new("RGB", (1, 1), (200, 30, 30)), "PNG")
    res = browser_engine.run("listing_variants", one)
    assert res["ok"], res
    # the main output is the detail variant; a 1x1 source is centred, never blown up
    sizes = {o["name"]: samples.decode(o["data"]).size for o in res["outputs"]}
    assert sizes == {"main": (1200, 800), "grid": (600, 400)}
    assert any("smaller" in w for w in res["meta"]["warnings"])


def test_drop_shadow_in_the_worker_matches_native(browser_engine):
    res = browser_engine.run("drop_shadow", CUTOUT, {})
    assert res["ok"], res
    a, b = rgba(res["outputs"][0]["data"]).astype(int), rgba(drop_shadow(CUTOUT, {}).data).astype(int)
    assert a.shape == b.shape and a.shape[0] >= 300 and a.shape[1] >= 451  # grown only where the shadow needs it
    assert np.abs(a - b).mean() < 1.0


@pytest.mark.slow
def test_car_listing_on_a_12_megapixel_photo_in_the_worker(browser_engine):
    car = composites.make(3, 4000, 3000)
    res = browser_engine.run("car_listing", car.data, {"filename": "showroom.jpg"})
    assert res["ok"], res
    out = {o["name"]: samples.decode(o["data"]) for o in res["outputs"]}
    assert set(out) == {"main", "grid", "detail"}
    assert all(im.mode == "RGBA" and im.format == "PNG" for im in out.values())
    assert out["grid"].size == (600, 400) and out["detail"].size == (1200, 800)
    meta = res["meta"]
    assert meta["filename"] == "showroom.jpg" and meta["provider"] == "local"
    assert (meta["input_width"], meta["input_height"]) == (4000, 3000)
    assert {"remove_background", "autocrop", "shadow", "variants"} <= set(meta["timings_ms"])
    assert [e["step"] for e in res["progress"]][:2] == ["decode", "remove_background"]


def test_five_car_photos_processed_concurrently_all_succeed(engine_page):
    """The old service's bar: five uploads at once, every one a complete listing."""
    import base64
    photos = [base64.b64encode(composites.make(20 + i).data).decode() for i in range(5)]
    res = engine_page.evaluate("""async (photos) => {
        const files = photos.map((b64, i) => new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], `car${i}.jpg`));
        const out = await window.pixelpress.runBatch(files, 'car_listing', { padding: 30 });
        return out.map((r) => ({ ok: r.ok, code: r.error?.code ?? null, names: r.ok ? r.outputs.map((o) => o.name) : [],
                                 provider: r.meta?.provider ?? null }));
    }""", photos)
    assert res == [{"ok": True, "code": None, "names": ["main", "grid", "detail"], "provider": "local"}] * 5
