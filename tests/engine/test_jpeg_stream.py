"""The JPEG check that stands before a browser's decoder: it never passes a file libjpeg refuses.

A browser may conceal a decoding error (Firefox fills the rest of a picture
with grey after a bad Huffman table); the engine hands a JPEG to the browser
only when this check passes, so the user gets the native verdict in every
browser. Checked here against the native engine over the hostile corpus.
"""

from __future__ import annotations

import functools
import struct
from pathlib import Path

import hostile_corpus
import pytest
import samples
from pixelpress.errors import PixelpressError
from pixelpress.jpeg_stream import browser_may_decode
from pixelpress.ops.convert import convert

REAL_PHOTOS = Path(__file__).resolve().parents[3] / "shared" / "matte-real-dev" / "images"
JPEGS = [(name, data) for name, data in hostile_corpus.corpus() if data[:3] == b"\xff\xd8\xff"]


def _native(data: bytes) -> str:
    try:
        convert(data, {"format": "png"})
    except PixelpressError as exc:
        return exc.code
    return "ok"


@functools.cache
def _corpus_outcomes() -> dict[str, str]:
    return {name: _native(data) for name, data in JPEGS}


def test_no_file_libjpeg_refuses_passes():
    passed = [(name, _corpus_outcomes()[name]) for name, data in JPEGS if browser_may_decode(data)]
    # A pixel bomb passes the stream check and is refused by the header checks before any decoder runs.
    refused = [(name, code) for name, code in passed if code not in ("ok", "decompression_bomb", "too_large")]
    assert refused == []
    assert len(passed) > 20  # the intact and the lightly damaged files that still decode


def test_the_damage_firefox_conceals_is_caught():
    corrupt = [name for name, code in _corpus_outcomes().items() if code == "corrupt_image"]
    assert len(corrupt) >= 8 and not [name for name, data in JPEGS if name in corrupt and browser_may_decode(data)]


def _segment(marker: int, body: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body


def _replace_first(data: bytes, marker: int, body: bytes) -> bytes:
    i = data.index(bytes([0xFF, marker]))
    n = struct.unpack_from(">H", data, i + 2)[0]
    return data[:i] + _segment(marker, body) + data[i + 2 + n:]


@pytest.mark.parametrize("progressive", [False, True])
def test_sound_photos_pass_and_each_kind_of_damage_is_refused(progressive):
    data = samples.photo_bytes("rocket.jpg", "JPEG", quality=90, progressive=progressive)
    assert browser_may_decode(data)
    i = data.index(b"\xff\xc4")
    dht = data[i + 4:i + 2 + struct.unpack_from(">H", data, i + 2)[0]]
    overrun = dht[:1] + bytes([0, 5]) + dht[3:]  # five 2-bit codes: more than the code space holds
    frame_at = data.index(b"\xff\xc0" if not progressive else b"\xff\xc2")
    cases = {
        "cut short": data[: len(data) // 2],
        "no end of image": data[:-2],
        "overrun Huffman table": _replace_first(data, 0xC4, overrun),
        "lossless frame": data[:frame_at] + b"\xff\xc3" + data[frame_at + 2:],
        "unknown marker in the scan data": data[:-200] + b"\xff\x08" + data[-198:],
        "quantisation table never defined": data.replace(b"\xff\xdb", b"\xff\xfe", 1),
    }
    for what, bad in cases.items():
        assert not browser_may_decode(bad), what
        assert _native(bad) != "ok", what  # and natively each is refused too


@pytest.mark.skipif(not REAL_PHOTOS.is_dir(), reason="the shared real photos are not beside this checkout")
def test_real_phone_and_camera_photos_pass():
    photos = sorted(REAL_PHOTOS.glob("*.jp*g"))
    assert photos and all(browser_may_decode(p.read_bytes()) for p in photos)
