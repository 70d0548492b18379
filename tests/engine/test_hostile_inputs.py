"""Hostile and odd inputs (issue 11): encoder limits, 32-bit offsets, metadata privacy, odd pixel formats.

Every file is made here from real photographs or seeded noise. The crafting
helpers (names without `test_`) are shared with tests/browser/test_hostile_worker.py,
which runs the same files through the worker.
"""

from __future__ import annotations

import io
import json
import struct

import numpy as np
import pytest
import samples
from PIL import Image, PngImagePlugin
from pixelpress import bridge
from pixelpress.decode import open_image
from pixelpress.ops.convert import convert

# ---------------------------------------------------------------- crafting


def noise_png(width: int, height: int, seed: int = 11) -> bytes:
    """A seeded RGB noise PNG: the worst case for every encoder."""
    rng = np.random.default_rng(seed)
    return samples.png_of(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))


def exif_with_bad_offsets() -> bytes:
    """An EXIF block whose tag data lies 4 GB past its start.

    A 64-bit Python seeks there and reads nothing; wasm's 32-bit Py_ssize_t
    raises OverflowError from the seek.
    """
    entries = [struct.pack("<HHLL", 0x011A, 5, 1, 0xFFFFFF00),  # XResolution, data far away
               struct.pack("<HHLL", 0x0128, 3, 1, 2),  # ResolutionUnit = inch
               struct.pack("<HHLL", 0x010F, 2, 64, 0xFFFFFFF0)]  # Make, data far away
    ifd = struct.pack("<H", len(entries)) + b"".join(entries) + struct.pack("<L", 0xFFFFFFF8)
    return b"Exif\x00\x00II*\x00" + struct.pack("<L", 8) + ifd


def photo() -> Image.Image:
    return samples.image("chelsea.png").convert("RGB")  # 451x300


def jpeg_with_bad_exif() -> bytes:
    return samples.encode(photo(), "JPEG", quality=90, exif=exif_with_bad_offsets())


def bmp_with_bad_pixel_offset() -> bytes:
    data = bytearray(samples.encode(photo(), "BMP"))
    data[10:14] = struct.pack("<L", 0xFFFFFF00)  # bfOffBits: pixels "start" 4 GB in
    return bytes(data)


GPS_MARK = "LeakyCam-9000"
XMP_MARK = b"xmp-secret-48.8584N"


def icc_profile() -> bytes:
    try:
        from PIL import ImageCms

        return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    except ImportError:  # Pillow without lcms: writers do not parse the profile anyway
        return (132).to_bytes(4, "big") + b"lcms\x02\x10\0\0mntrRGB XYZ " + b"\0" * 12 + b"acsp" + b"\0" * 92


def exif_gps() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = GPS_MARK  # Make
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (48.0, 51.0, 30.2), "E", (2.0, 17.0, 40.2)
    return exif.tobytes()


def xmp_packet() -> bytes:
    return (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            b'<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="' + XMP_MARK
            + b'"/></rdf:RDF></x:xmpmeta>')


def photo_with_metadata(fmt: str) -> bytes:
    """The photo carrying EXIF with GPS, XMP and an ICC profile (and a comment where the format has one)."""
    im, icc, exif, xmp = photo(), icc_profile(), exif_gps(), xmp_packet()
    if fmt == "JPEG":
        return samples.encode(im, "JPEG", quality=92, exif=exif, icc_profile=icc, xmp=xmp, comment=b"comment-leak")
    if fmt == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_itxt("XML:com.adobe.xmp", xmp.decode())
        info.add_text("Comment", "comment-leak")
        return samples.encode(im, "PNG", exif=exif, icc_profile=icc, pnginfo=info)
    return samples.encode(im, "WEBP", quality=90, exif=exif, icc_profile=icc, xmp=xmp)


def metadata_blocks(data: bytes) -> set[str]:
    """Names of the metadata containers in JPEG, PNG, WebP or AVIF bytes, read from the file structure."""
    found = set()
    if data[:2] == b"\xff\xd8":
        i = 2
        while i + 4 <= len(data) and data[i] == 0xFF and data[i + 1] not in (0xDA, 0xD9):
            marker, end = data[i + 1], i + 2 + int.from_bytes(data[i + 2:i + 4], "big")
            body = data[i + 4:end]
            if marker == 0xE1 and body.startswith(b"Exif\0"):
                found.add("exif")
            elif marker == 0xE1 and body.startswith(b"http://ns.adobe.com/xap/"):
                found.add("xmp")
            elif marker == 0xE2 and body.startswith(b"ICC_PROFILE"):
                found.add("icc")
            elif marker == 0xFE:
                found.add("comment")
            i = end
    elif data[:8] == b"\x89PNG\r\n\x1a\n":
        i = 8
        names = {b"eXIf": "exif", b"iCCP": "icc", b"iTXt": "text", b"tEXt": "text", b"zTXt": "text"}
        while i + 8 <= len(data):
            n, kind = int.from_bytes(data[i:i + 4], "big"), data[i + 4:i + 8]
            if kind in names:
                found.add(names[kind])
            i += 12 + n
    elif data[4:8] == b"ftyp":
        from pixelpress.formats import avif

        exif, icc = avif.metadata(data)
        found |= {name for name, block in (("exif", exif), ("icc", icc)) if block}
        found |= {"xmp"} if b"application/rdf+xml" in data else set()
    else:
        assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"
        i = 12
        names = {b"EXIF": "exif", b"XMP ": "xmp", b"ICCP": "icc"}
        while i + 8 <= len(data):
            kind, n = data[i:i + 4], int.from_bytes(data[i + 4:i + 8], "little")
            if kind in names:
                found.add(names[kind])
            i += 8 + n + (n & 1)
    return found


def grey_png(samples_: np.ndarray, bits: int, trns: int | None = None) -> bytes:
    """A greyscale PNG (colour type 0) at any bit depth, with an optional tRNS grey key, written by hand."""
    h, w = samples_.shape
    rows = []
    for row in samples_:
        if bits == 16:
            rows.append(b"\0" + row.astype(">u2").tobytes())
        elif bits == 8:
            rows.append(b"\0" + row.astype(np.uint8).tobytes())
        else:
            per = 8 // bits
            padded = np.zeros(-(-w // per) * per, np.uint8)
            padded[:w] = row
            packed = np.zeros(len(padded) // per, np.uint8)
            for k in range(per):
                packed |= (padded[k::per] << (8 - bits * (k + 1))).astype(np.uint8)
            rows.append(b"\0" + packed.tobytes())
    key = samples.png_chunk(b"tRNS", struct.pack(">H", trns)) if trns is not None else b""
    return samples.raw_png(w, h, b"".join(rows), bit_depth=bits, colour=0, extra=key, level=6)


KEY_BOX = (slice(100, 260), slice(150, 350))  # the transparent rectangle, in (rows, cols)


def keyed_grey(bits: int) -> tuple[np.ndarray, int]:
    """The camera photo at `bits` per sample with a rectangle set to the tRNS key, which appears nowhere else."""
    top = (1 << bits) - 1
    grey = np.asarray(samples.image("camera.png"), np.float64)[::2, ::2] / 255.0  # 256x256
    s = np.rint(grey * top).astype(np.int64)
    key = top if bits == 1 else int(np.rint(top * 0.37))
    s[s == key] = key - 1
    s[KEY_BOX] = key
    return s, key


def float_tiff() -> tuple[bytes, np.ndarray]:
    """A 32-bit float TIFF of the photo in -200..800, with NaN patches and rows of +inf and -inf."""
    grey = np.asarray(samples.image("camera.png"), np.float32)[::2, ::2] * (1000.0 / 255.0) - 200.0
    bad = grey.copy()
    bad[40:60, 40:80] = np.nan
    bad[100, :] = np.inf
    bad[150, :] = -np.inf
    return samples.encode(Image.fromarray(bad), "TIFF"), grey


def tiff_16bit(top: int) -> tuple[bytes, np.ndarray]:
    grey = np.asarray(samples.image("camera.png"), np.float64)[::2, ::2] / 255.0
    s = np.rint(grey * top).astype(np.uint16)
    return samples.encode(Image.fromarray(s), "TIFF"), s


def via_bridge(op: str, data: bytes, options: dict) -> dict:
    """What the worker's doorway answers: a typed error dict, never an exception."""
    res = bridge.run(op, data, json.dumps(options))
    return res if not res["ok"] else {"ok": True, "meta": json.loads(res["meta"])}


# ------------------------------------------------------- 1. encoder limits

# (op, options, source size, format named in the error): results over WebP's 16383 px or JPEG's 65500 px side.
TOO_LONG = [
    ("convert", {"format": "webp"}, (1, 60000), "WebP"),
    ("convert", {"format": "webp"}, (70000, 1), "WebP"),
    ("convert", {"format": "jpeg"}, (70000, 1), "JPEG"),
    ("web_sizes", {}, (1, 17000), "WebP"),
    ("oil_paint", {"format": "webp", "brush_size": 1}, (1, 17000), "WebP"),
    ("oil_paint", {"format": "jpeg", "brush_size": 1}, (66000, 1), "JPEG"),
    ("upscale", {"factor": 2, "format": "webp"}, (9000, 2), "WebP"),
    ("upscale", {"factor": 4, "format": "auto", "mode": "photo"}, (17000, 2), "JPEG"),
]


@pytest.mark.parametrize("op,options,size,fmt", TOO_LONG, ids=[f"{o}-{w}x{h}-{f}" for o, _, (w, h), f in TOO_LONG])
def test_results_too_long_for_the_format_are_too_large_not_internal(op, options, size, fmt):
    res = via_bridge(op, noise_png(*size), options)
    assert not res["ok"]
    assert res["error"]["code"] == "too_large", res["error"]
    msg = res["error"]["message"]
    assert fmt in msg and ("16,383" if fmt == "WebP" else "65,500") in msg and "PNG" in msg
    assert "error" not in msg.lower() and "stream" not in msg  # no library internals


def test_format_limit_is_checked_before_the_encoder_runs(monkeypatch):
    data, calls = noise_png(1, 60000), []
    monkeypatch.setattr(Image.Image, "save", lambda self, *a, **k: calls.append(self.size))
    with pytest.raises(Exception) as e:
        convert(data, {"format": "webp"})
    assert getattr(e.value, "code", None) == "too_large"
    assert calls == []


def test_the_same_strips_convert_where_the_format_can_hold_them():
    tall = noise_png(1, 60000)
    for fmt, pil in (("png", "PNG"), ("jpeg", "JPEG")):  # a noisy 1 px JPEG once overflowed Pillow's buffer
        out = samples.decode(convert(tall, {"format": fmt}).data)
        assert (out.format, out.size) == (pil, (1, 60000))
    wide = samples.decode(convert(noise_png(16383, 2), {"format": "webp", "lossless": True}).data)
    assert wide.size == (16383, 2)  # exactly at the limit is fine
    again = samples.decode(convert(tall, {"format": "webp", "max_height": 16000}).data)
    assert again.size == (1, 16000)  # the way out the message suggests


# --------------------------------------- 2. offsets too large for 32-bit wasm


@pytest.fixture(params=["native", "32-bit seek"])
def seek_width(request, monkeypatch):
    """Run natively, and again with BytesIO refusing seeks past 2**31 - 1 as wasm's CPython does."""
    if request.param == "32-bit seek":
        base = io.BytesIO

        class BytesIO32(base):
            def seek(self, pos, whence=0):
                if abs(pos) > 2**31 - 1:
                    raise OverflowError("Python int too large to convert to C ssize_t")
                return super().seek(pos, whence)

        monkeypatch.setattr(io, "BytesIO", BytesIO32)
    return request.param


def test_bmp_with_a_bad_pixel_offset_is_corrupt(seek_width):
    res = via_bridge("convert", bmp_with_bad_pixel_offset(), {"format": "png"})
    assert not res["ok"] and res["error"]["code"] == "corrupt_image", res["error"]


def test_jpeg_with_a_bad_exif_offset_still_converts(seek_width):
    data = jpeg_with_bad_exif()
    res = via_bridge("convert", data, {"format": "png"})
    assert res["ok"], res
    assert (res["meta"]["width"], res["meta"]["height"]) == (451, 300)
    assert "EXIF metadata is malformed and was ignored." in res["meta"]["warnings"]
    got = np.asarray(samples.decode(convert(data, {"format": "png"}).data), float)
    assert np.abs(got - np.asarray(photo(), float)).mean() < 3  # the photo itself, not a blank


# ------------------------------------------------------ 6. metadata privacy


@pytest.mark.parametrize("src_fmt", ["JPEG", "PNG", "WEBP"])
@pytest.mark.parametrize("out_fmt", ["jpeg", "png", "webp"])
def test_stripped_means_stripped_in_every_output_format(src_fmt, out_fmt):
    src = photo_with_metadata(src_fmt)
    assert {"exif", "icc"} <= metadata_blocks(src)
    out = convert(src, {"format": out_fmt}).data
    assert metadata_blocks(out) == set()
    for mark in (GPS_MARK.encode(), XMP_MARK, b"comment-leak"):
        assert mark not in out
    assert "icc_profile" not in samples.decode(out).info
    # Asked to keep, EXIF and ICC are written (which shows the reader above sees them).
    kept = convert(src, {"format": out_fmt, "keep_metadata": True}).data
    assert {"exif", "icc"} <= metadata_blocks(kept)
    assert samples.decode(kept).getexif()[0x010F] == GPS_MARK


def photo_with_long_exif() -> bytes:
    """A PNG whose EXIF (200 kB of description, then the camera make) is longer than a JPEG can hold."""
    exif = Image.Exif()
    exif[0x010E] = "d" * 200_000
    exif[0x010F] = GPS_MARK
    return samples.encode(photo(), "PNG", exif=exif.tobytes())


@pytest.mark.parametrize("out_fmt", ["jpeg", "png", "webp"])
def test_kept_exif_too_long_for_jpeg_is_dropped_with_a_warning(out_fmt):
    res = bridge.run("convert", photo_with_long_exif(), json.dumps({"format": out_fmt, "keep_metadata": True}))
    assert res["ok"], res
    blob = res["outputs"][0]["data"]
    out = samples.decode(blob)
    assert out.size == (451, 300)
    dropped = [w for w in json.loads(res["meta"])["warnings"] if "larger than a JPEG can hold" in w]
    if out_fmt == "jpeg":
        assert dropped and "200 kB" in dropped[0]
        assert "exif" not in metadata_blocks(blob)
    else:  # PNG and WebP have room: the EXIF is kept whole
        assert not dropped
        assert out.getexif()[0x010F] == GPS_MARK


@pytest.mark.parametrize("out_fmt", ["jpeg", "png", "webp"])
def test_kept_icc_profile_that_is_garbage_is_dropped(out_fmt):
    """3 MB of zeros where a profile should be: kept, it made a PNG that Pillow refuses to open."""
    src = samples.encode(photo(), "WEBP", quality=90, icc_profile=b"\0" * 3_000_000)
    res = bridge.run("convert", src, json.dumps({"format": out_fmt, "keep_metadata": True}))
    assert res["ok"], res
    blob = res["outputs"][0]["data"]
    assert samples.decode(blob).size == (451, 300) and "icc" not in metadata_blocks(blob)
    assert "The ICC profile is malformed, so it was dropped; colours are kept as stored." in \
        json.loads(res["meta"])["warnings"]


def test_other_operations_strip_metadata_too():
    src = photo_with_metadata("PNG")
    res = bridge.run("web_sizes", src, "{}")
    assert res["ok"]
    for output in res["outputs"]:
        assert metadata_blocks(output["data"]) == set()
    out = bridge.run("upscale", src, json.dumps({"format": "png"}))["outputs"][0]["data"]
    assert metadata_blocks(out) == set()


# -------------------------------------------------- 7. wrong pixels as ok


@pytest.mark.parametrize("bits", [1, 2, 4, 8, 16])
def test_grey_png_with_a_transparent_key_is_flattened_and_keeps_alpha(bits):
    s, key = keyed_grey(bits)
    data = grey_png(s, bits, trns=key)
    top = (1 << bits) - 1
    expect = np.rint(s * (255.0 / top)) if bits != 16 else np.rint(s * (255.0 / 65535))
    inside = np.zeros(s.shape, bool)
    inside[KEY_BOX] = True

    flat = np.asarray(samples.decode(convert(data, {"format": "png", "flatten": True,
                                                     "background": "#ff0000"}).data).convert("RGB"), int)
    assert (flat[inside] == (255, 0, 0)).all()
    assert np.abs(flat[~inside] - expect[~inside][:, None]).max() <= 1  # the photo, opaque, still grey

    out = samples.decode(convert(data, {"format": "png"}).data)
    assert out.mode == "RGBA" and "transparency" not in out.info  # no stale 16-bit key in an 8-bit file
    alpha = np.asarray(out.getchannel("A"))
    assert (alpha[inside] == 0).all() and (alpha[~inside] == 255).all()

    jpeg = np.asarray(samples.decode(convert(data, {"format": "jpeg", "background": "#ff0000"}).data), int)
    core = jpeg[110:250, 160:340]  # inside the box, away from JPEG's blurred edge
    assert np.abs(core - (255, 0, 0)).max() <= 8


def test_float_tiff_with_nan_and_inf_is_the_picture_not_black():
    data, clean = float_tiff()
    res = convert(data, {"format": "png"})
    got = np.asarray(samples.decode(res.data), int)
    expect = np.rint((clean - clean.min()) * (255.0 / (clean.max() - clean.min())))
    ok = np.ones(clean.shape, bool)
    ok[40:60, 40:80] = ok[100] = ok[150] = False
    assert np.abs(got[ok] - expect[ok]).max() <= 1
    assert (got[40:60, 40:80] == round((0 - clean.min()) * 255 / (clean.max() - clean.min()))).all()  # NaN -> 0.0
    assert (got[100] == 255).all() and (got[150] == 0).all()  # +inf, -inf clipped to the finite extremes
    assert any("800 NaN values were set to 0" in w and "512 infinite" in w for w in res.meta["warnings"])


def test_12_bit_data_in_a_16_bit_tiff_is_stretched_and_says_so():
    data, s = tiff_16bit(4095)
    res = convert(data, {"format": "png"})
    got = np.asarray(samples.decode(res.data), int)
    assert np.abs(got - np.rint(s * (255.0 / 4095))).max() <= 1
    assert got.max() == 255
    assert any("12-bit" in w for w in res.meta["warnings"])
    # Real 16-bit data keeps 65535 as white, with no such warning.
    data, s = tiff_16bit(65535)
    res = convert(data, {"format": "png"})
    assert np.abs(np.asarray(samples.decode(res.data), int) - np.rint(s * (255.0 / 65535))).max() <= 1
    assert not any("12-bit" in w for w in res.meta["warnings"])


def test_decoded_images_carry_no_source_metadata():
    dec = open_image(photo_with_metadata("PNG"))
    assert dec.image.info == {} and dec.icc_profile and dec.exif
