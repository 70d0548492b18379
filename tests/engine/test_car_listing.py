"""The car-listing pipeline: outputs, meta, step timing, provider fallback, bounds, edge cases."""

from __future__ import annotations

import json

import composites
import numpy as np
import pytest
import samples
from PIL import Image
from pixelpress import bridge
from pixelpress.errors import EmptyImage
from pixelpress.ops import car_listing as cl
from pixelpress.pipeline import Step, run_steps
from pixelpress.registry import resolve, spec

STEPS = ["decode", "remove_background", "autocrop", "shadow", "variants", "encode"]


def rgba_of(data: bytes) -> np.ndarray:
    im = samples.decode(data)
    assert im.mode == "RGBA"
    return np.asarray(im)


@pytest.fixture(scope="module")
def car():
    return composites.make(6)  # a rendered car in a studio with a floor shadow


@pytest.fixture(scope="module")
def listing(car):
    return cl.car_listing(car.data, {"filename": "red car.jpg"})


def test_outputs_and_meta(listing, car):
    r = listing
    assert r.mime == "image/png" and r.meta["name"] == "processed"
    assert [x.name for x in r.extras] == ["grid", "detail"]
    assert all(x.mime == "image/png" for x in r.extras)
    assert rgba_of(r.extras[0].data).shape == (400, 600, 4)
    assert rgba_of(r.extras[1].data).shape == (800, 1200, 4)
    m = r.meta
    for key in ("width", "height", "format", "bytes", "timings_ms", "warnings"):
        assert key in m
    assert (m["input_width"], m["input_height"]) == car.rgb.shape[1::-1]
    assert m["filename"] == "red car.jpg" and m["provider"] == "local" and "fallback_reason" not in m
    assert list(m["timings_ms"]) == STEPS and m["steps"] == STEPS
    assert all(v >= 0 for v in m["timings_ms"].values())
    json.dumps(m)  # JSON-able


def test_processed_is_cut_out_cropped_with_shadow(listing, car):
    out = rgba_of(listing.data)
    a = out[..., 3]
    # corners are transparent (background removed) and there is a subject
    assert a[0, 0] == 0 and a[-1, -1] == 0 and (a == 255).mean() > 0.3
    # even crop: the subject starts exactly `padding` from the left, top and right edges
    rows = np.flatnonzero((a > 10).any(1))
    cols = np.flatnonzero((a > 10).any(0))
    crop = listing.meta["crop"]
    assert listing.meta["shadow"]["style"] == "floor"
    sub = crop["subject_box"]
    assert out.shape[1] >= sub[2] + 100 and out.shape[0] >= sub[3] + 100
    assert rows[0] <= 50 and cols[0] <= 50
    # the floor shadow lies under the car: semi-transparent dark pixels below the ground line
    g = listing.meta["shadow"]["ground_y"]
    below = out[g:g + 10]
    assert ((below[..., 3] > 20) & (below[..., 3] < 200)).any()


def test_variants_are_centred(listing):
    for x in listing.extras:
        c = x.meta["content"]
        assert abs(c[0] - (x.meta["width"] - c[0] - c[2])) <= 1
        assert abs(c[1] - (x.meta["height"] - c[1] - c[3])) <= 1


def test_skip_background_removal(car):
    for opts in ({"skip_background_removal": True}, {"provider": "skip"}):
        r = cl.car_listing(car.data, opts)
        assert r.meta["provider"] == "skip" and "matte" not in r.meta
        out = rgba_of(r.data)
        assert (out[60:-80, 60:-60, 3] == 255).all()  # the photo stays opaque


def test_remote_provider_keeps_the_given_cut_out(car):
    rgba = np.dstack([car.rgb, car.alpha])
    r = cl.car_listing(samples.encode(Image.fromarray(rgba), "PNG"), {"provider": "remote", "shadow": False})
    assert r.meta["provider"] == "remote" and r.meta["shadow"] is None
    assert "shadow" not in r.meta["timings_ms"]


def test_local_failure_degrades_to_skip():
    grey = samples.encode(Image.new("RGB", (400, 300), (128, 128, 128)), "JPEG")  # nothing to cut out
    r = cl.car_listing(grey, {"fallback_reason": "server unreachable"})
    assert r.meta["provider"] == "skip"
    assert r.meta["fallback_reason"].startswith("local background removal failed")
    assert any("fell back" in w for w in r.meta["warnings"])


def test_unexpected_matte_error_degrades_too(car, monkeypatch):
    async def boom(*_a, **_k):
        raise ValueError("matte exploded")
    monkeypatch.setattr(cl, "cutout", boom)
    r = cl.car_listing(car.data, {})
    assert r.meta["provider"] == "skip" and "matte exploded" in r.meta["fallback_reason"]


def test_fully_transparent_input_is_empty_image():
    with pytest.raises(EmptyImage):
        cl.car_listing(samples.encode(Image.new("RGBA", (200, 100)), "PNG"), {})


def test_one_pixel_input():
    r = cl.car_listing(samples.encode(Image.new("RGB", (1, 1), (20, 20, 20)), "PNG"), {})
    assert r.meta["provider"] == "skip"  # nothing to separate in one pixel
    assert rgba_of(r.extras[0].data).shape == (400, 600, 4)


def test_through_the_bridge_with_progress(car):
    seen = []
    res = bridge.run("car_listing", car.data, json.dumps({"padding": 20}), progress=seen.append)
    assert res["ok"], res
    assert [o["name"] for o in res["outputs"]] == ["main", "grid", "detail"]
    assert [e["step"] for e in seen] == STEPS
    assert [e["done"] for e in seen] == list(range(len(STEPS))) and {e["total"] for e in seen} == {len(STEPS)}
    assert spec("car_listing").packages == ("pillow", "numpy", "opencv-python")


def test_registry_entries_resolve():
    for op in ("oil_paint", "remove_background", "autocrop", "drop_shadow", "listing_variants", "car_listing"):
        assert callable(resolve(op))
    assert spec("autocrop").packages == ("pillow", "numpy")


def test_step_runner_times_each_step_even_on_failure():
    timings: dict = {}
    def bad(_s):
        raise RuntimeError("stop")
    with pytest.raises(RuntimeError):
        run_steps([Step("a", lambda s: s + 1), Step("off", bad, enabled=False), Step("b", bad)], 0, timings=timings)
    assert list(timings) == ["a", "b"]


@pytest.mark.slow
def test_12_megapixel_car():
    c = composites.make(6, 4000, 3000)
    r = cl.car_listing(c.data, {"filename": "big.jpg"})
    assert r.meta["provider"] == "local" and (r.meta["input_width"], r.meta["input_height"]) == (4000, 3000)
    assert rgba_of(r.extras[1].data).shape == (800, 1200, 4)
