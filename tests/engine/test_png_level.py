"""The listing pipeline's cut-outs are written at a faster zlib level: the same pixels, files within 10 % of
level 6's, and zlib's own header says which level class wrote them. Convert keeps level 6 unless asked."""

from __future__ import annotations

import struct

import numpy as np
import pytest
import samples
from pixelpress.ops import car_listing as cl
from pixelpress.ops import listing_variants as lv
from pixelpress.ops import remove_background as rb
from pixelpress.registry import resolve

# zlib's FLEVEL (bits 6-7 of the stream's second byte): 1 for levels 2-5, 2 for level 6 (the default), 3 above.
FAST, DEFAULT = 1, 2


def zlib_level_class(png: bytes) -> int:
    """FLEVEL of the first IDAT's zlib header."""
    i = 8
    while i + 8 <= len(png):
        length, kind = struct.unpack_from(">L4s", png, i)
        if kind == b"IDAT":
            return png[i + 9] >> 6
        i += 12 + length
    raise AssertionError("no IDAT")


def pixels(png: bytes) -> np.ndarray:
    im = samples.decode(png)
    assert im.format == "PNG" and im.mode == "RGBA"
    return np.asarray(im)


def files(res) -> dict[str, bytes]:
    return {"main": res.data, **{x.name: x.data for x in res.extras}}


@pytest.fixture(scope="module")
def photo() -> bytes:
    return samples.encode(samples.large_photo(2400, 1800), "JPEG", quality=90)


def at_level_6(module, monkeypatch, op: str, data: bytes, options: dict):
    """The op's outputs as they were before: its PNGs written at level 6."""
    with monkeypatch.context() as m:
        m.setattr(module, "CUTOUT_LEVEL", 6)
        return files(resolve(op)(data, options))


@pytest.fixture(scope="module")
def cut_out(photo) -> bytes:
    return resolve("car_listing")(photo, {}).data


# remove_background as the studio runs it after the server cut the picture out ("remote"): its matte is not
# the writer's business, and the classical one varies from run to run.
@pytest.mark.parametrize(("module", "op", "source", "options"), [
    (cl, "car_listing", "photo", {}),
    (lv, "listing_variants", "cut_out", {}),
    (rb, "remove_background", "cut_out", {"provider": "remote"}),
])
def test_cut_outs_are_the_same_pixels_in_files_within_10_percent_of_level_6(monkeypatch, request, module, op, source,
                                                                            options):
    data = request.getfixturevalue(source)
    res = resolve(op)(data, options)
    now, before = files(res), at_level_6(module, monkeypatch, op, data, options)
    assert now.keys() == before.keys()
    for name, data in now.items():
        assert np.array_equal(pixels(data), pixels(before[name])), name
        assert zlib_level_class(data) == FAST and zlib_level_class(before[name]) == DEFAULT
        assert len(before[name]) <= len(data) <= 1.10 * len(before[name]), (name, len(data), len(before[name]))
    assert res.meta["codec"]["encode"] == "pillow"


def test_convert_to_png_keeps_level_6_unless_asked(photo):
    convert = resolve("convert")
    default = convert(photo, {"format": "png"}).data
    fast = convert(photo, {"format": "png", "compress_level": 1}).data
    assert zlib_level_class(default) == DEFAULT and zlib_level_class(fast) == 0
    assert np.array_equal(np.asarray(samples.decode(default)), np.asarray(samples.decode(fast)))
