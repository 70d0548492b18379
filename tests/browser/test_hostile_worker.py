"""Hostile and odd inputs (issue 11) through the real worker: the wasm build differs from native in
32-bit sizes (OverflowError on huge offsets), libjpeg 9 and libwebp 1.2, so each fix is checked there too.

The files come from the engine suite's seeded generators (tests/engine/test_hostile_inputs.py).
"""


import numpy as np
import pytest
import samples
from browser_harness import engine_test_module

H = engine_test_module("test_hostile_inputs")


@pytest.mark.parametrize("op,options,size,fmt", [
    ("convert", {"format": "webp"}, (1, 60000), "WebP"),
    ("convert", {"format": "jpeg"}, (70000, 1), "JPEG"),
    ("web_sizes", {}, (1, 17000), "WebP"),
    ("oil_paint", {"format": "webp", "brush_size": 1}, (1, 17000), "WebP"),
    ("upscale", {"factor": 2, "format": "webp"}, (9000, 2), "WebP"),
], ids=["convert-webp", "convert-jpeg", "web_sizes", "oil_paint", "upscale"])
def test_results_too_long_for_the_format_are_too_large(browser_engine, op, options, size, fmt):
    res = browser_engine.run(op, H.noise_png(*size), options)
    assert not res["ok"]
    assert res["error"]["code"] == "too_large", res["error"]
    assert fmt in res["error"]["message"] and "PNG" in res["error"]["message"]


def test_a_noisy_one_pixel_strip_converts_to_jpeg(browser_engine):
    res = browser_engine.run("convert", H.noise_png(1, 60000), {"format": "jpeg"})
    assert res["ok"], res
    assert samples.decode(res["outputs"][0]["data"]).size == (1, 60000)


def test_bmp_with_a_bad_pixel_offset_is_corrupt(browser_engine):
    res = browser_engine.run("convert", H.bmp_with_bad_pixel_offset(), {"format": "png"})
    assert not res["ok"] and res["error"]["code"] == "corrupt_image", res["error"]


def test_jpeg_with_a_bad_exif_offset_converts(browser_engine):
    res = browser_engine.run("convert", H.jpeg_with_bad_exif(), {"format": "png"})
    assert res["ok"], res
    assert "EXIF metadata is malformed and was ignored." in res["meta"]["warnings"]
    got = np.asarray(samples.decode(res["outputs"][0]["data"]), float)
    assert np.abs(got - np.asarray(H.photo(), float)).mean() < 3


@pytest.mark.parametrize("out_fmt", ["jpeg", "png", "webp"])
def test_metadata_is_stripped_in_every_output_format(browser_engine, out_fmt):
    for src_fmt in ("JPEG", "PNG", "WEBP"):
        res = browser_engine.run("convert", H.photo_with_metadata(src_fmt), {"format": out_fmt})
        assert res["ok"], res
        out = res["outputs"][0]["data"]
        assert H.metadata_blocks(out) == set(), src_fmt
        assert H.GPS_MARK.encode() not in out and H.XMP_MARK not in out


@pytest.mark.parametrize("bits", [1, 16])
def test_grey_png_transparent_key_is_flattened(browser_engine, bits):
    s, key = H.keyed_grey(bits)
    res = browser_engine.run("convert", H.grey_png(s, bits, trns=key),
                             {"format": "png", "flatten": True, "background": "#ff0000"})
    assert res["ok"], res
    flat = np.asarray(samples.decode(res["outputs"][0]["data"]).convert("RGB"), int)
    inside = np.zeros(s.shape, bool)
    inside[H.KEY_BOX] = True
    assert (flat[inside] == (255, 0, 0)).all()
    assert (flat[~inside, 0] == flat[~inside, 1]).all()  # the grey photo around it, untouched


def test_float_tiff_with_nan_and_inf_is_not_black(browser_engine):
    data, clean = H.float_tiff()
    res = browser_engine.run("convert", data, {"format": "png"})
    assert res["ok"], res
    got = np.asarray(samples.decode(res["outputs"][0]["data"]), int)
    expect = np.rint((clean - clean.min()) * (255.0 / (clean.max() - clean.min())))
    assert np.abs(got[200:] - expect[200:]).max() <= 1
    assert (got[100] == 255).all() and (got[150] == 0).all()
    assert any("NaN" in w for w in res["meta"]["warnings"])


def test_12_bit_tiff_is_stretched(browser_engine):
    data, s = H.tiff_16bit(4095)
    res = browser_engine.run("convert", data, {"format": "png"})
    assert res["ok"], res
    got = np.asarray(samples.decode(res["outputs"][0]["data"]), int)
    assert np.abs(got - np.rint(s * (255.0 / 4095))).max() <= 1
    assert any("12-bit" in w for w in res["meta"]["warnings"])
