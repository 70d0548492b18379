"""Issue 11, items 3 and 4, in the real worker: Pyodide's libtiff has no Deflate, JPEG or LZMA codec,
and a header bomb must not grow the wasm heap (it never shrinks again).

The files come from the engine suite's seeded generators (tests/engine/test_hostile_formats.py).
"""

import base64

import numpy as np
import pytest
import samples
from browser_harness import engine_test_module
from PIL import Image
from pixelpress.ops.convert import convert

H = engine_test_module("test_hostile_formats")


def png_pixels(res: dict) -> np.ndarray:
    assert res["ok"], res
    return np.asarray(samples.decode(res["outputs"][0]["data"]))


@pytest.mark.parametrize("predictor", [1, 2])
def test_deflate_tiff_converts_to_the_photo_exactly(browser_engine, predictor):
    res = browser_engine.run("convert", H.deflate_tiff(H.photo(), predictor), {"format": "png"})
    assert (png_pixels(res) == np.asarray(H.photo())).all()


TIFFS = {
    "16-bit grey, predictor 2": lambda: H.deflate_tiff(Image.fromarray(H.noise((90, 70), np.uint16)), 2),
    "float, predictor 3": lambda: H.deflate_tiff(Image.fromarray(H.noise((90, 70), np.float32)), 3),
    "RGBA, predictor 2": lambda: H.deflate_tiff(samples.cutout(), 2),
    "big-endian 16-bit RGB tiles, planar": lambda: H.tiff_by_hand(H.noise((45, 70, 3), np.uint16), order=">",
                                                                  predictor=2, tile=(32, 16), planar=2),
}


@pytest.mark.parametrize("name", list(TIFFS))
def test_other_deflate_layouts_match_native(browser_engine, name):
    data = TIFFS[name]()
    res = browser_engine.run("convert", data, {"format": "png"})
    assert (png_pixels(res) == np.asarray(samples.decode(convert(data, {"format": "png"}).data))).all()
    assert res["meta"]["warnings"] == convert(data, {"format": "png"}).meta["warnings"]


@pytest.mark.parametrize("make,name", [(H.jpeg_tiff, "JPEG"), (H.lzma_tiff, "LZMA")])
def test_jpeg_and_lzma_tiffs_are_unsupported_in_the_browser_not_damaged(browser_engine, make, name):
    res = browser_engine.run("convert", make(), {"format": "png"})
    assert not res["ok"]
    assert res["error"]["code"] == "unsupported_format", res["error"]
    msg = res["error"]["message"]
    assert f"compressed with {name}" in msg and "in the browser" in msg and "not damaged" in msg


# A client of one worker on the engine page, kept even if its heap grows, so
# that the heap read after the bombs is the heap of the worker that met them.
BOMBS_JS = """async (files) => {
  const { PixelpressClient } = await import(new URL('client/pixelpress.js', location.href).href);
  const client = new PixelpressClient({ size: 1, recycleHeapBytes: Infinity });
  try {
    await client.ready();
    const before = (await client.stats()).wasm_heap_bytes;
    const results = [];
    for (const [name, b64] of files) {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      try {
        await client.run('convert', bytes, { format: 'png' });
        results.push({ name, code: 'ok' });
      } catch (e) {
        results.push({ name, code: e.code, message: e.message });
      }
    }
    const after = (await client.stats()).wasm_heap_bytes;
    return { before, after, results };
  } finally {
    client.terminate();
  }
}"""


def test_header_bombs_are_refused_without_growing_the_heap(browser_engine):
    bombs = H.header_bombs()
    files = [[name, base64.b64encode(data).decode()] for name, data, _size in bombs]
    got = browser_engine.page.evaluate(BOMBS_JS, files)
    for (name, _data, (w, h)), res in zip(bombs, got["results"], strict=True):
        assert res["code"] == "decompression_bomb", (name, res)
        assert f"The image is {w}x{h} (" in res["message"], (name, res)
    grew = got["after"] - got["before"]
    assert grew < 200e6, f"the worker heap grew by {grew / 1e6:.0f} MB"
