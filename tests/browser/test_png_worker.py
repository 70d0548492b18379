"""The car listing's PNGs in the worker: Pyodide's Pillow writes them at the cut-out level, to the same
pixels as natively, in files within 10 % of level 6's."""

import io

import numpy as np
import pytest
import samples
from browser_harness import engine_test_module
from PIL import Image
from pixelpress.registry import resolve

LEVEL = engine_test_module("test_png_level")


@pytest.fixture(scope="module")
def cut_out() -> bytes:
    """A real photo cut out by the native car listing: the worker then redoes everything but the network."""
    photo = samples.encode(samples.large_photo(2400, 1800), "JPEG", quality=90)
    return resolve("car_listing")(photo, {}).data


def level_6(png: bytes) -> int:
    buf = io.BytesIO()
    Image.open(io.BytesIO(png)).save(buf, "PNG", compress_level=6)
    return buf.tell()


# Without the shadow, whose blur in Pyodide's OpenCV may round a pixel or two one level apart from native's
# (a difference of the pipeline, not of the writer).
@pytest.mark.parametrize(("op", "options"), [("car_listing", {"provider": "remote", "shadow": False}),
                                             ("listing_variants", {})])
def test_listing_pngs_in_the_worker_are_native_pixels_at_the_fast_level(browser_engine, cut_out, op, options):
    res = browser_engine.run(op, cut_out, options)
    assert res["ok"], res
    native = resolve(op)(cut_out, options)
    expected = {"main": native.data, **{x.name: x.data for x in native.extras}}
    assert res["meta"]["codec"]["encode"] == "pillow"
    for out in res["outputs"]:
        data = out["data"]
        assert out["mime"] == "image/png"
        got, want = samples.decode(data), samples.decode(expected[out["name"]])
        assert got.mode == want.mode == "RGBA"
        assert np.array_equal(np.asarray(got), np.asarray(want)), out["name"]
        assert LEVEL.zlib_level_class(data) == LEVEL.FAST
        assert len(data) <= 1.10 * level_6(data), (out["name"], len(data), level_6(data))
