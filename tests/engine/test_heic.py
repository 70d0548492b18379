"""HEIC and HEIF input: an iPhone photo opens, upright, in sRGB, and a hostile one is refused before decoding.

The files are real ones, from pi-heif's own test images (its sdist, pinned and
hash-checked; build_scripts/fetch_test_images.py puts them in .cache/heic-tests/):

- heif_other/arrow.heic: an iPhone photo, 4032x3024 stored (12.2 MP), turned
  a quarter by its `irot` box and by its EXIF orientation 6 alike: an arrow
  that points up when shown right;
- heif_other/pug.heic: an iPhone photo (4032x3024) with a Display P3 profile;
- heif/zPug_3.heic: three pictures, the second of them the primary one;
- heif_special/200MP.heic: 16320x12240, over the pixel cap.
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import samples
from PIL import Image
from pixelpress import formats
from pixelpress.bridge import JsCodecs
from pixelpress.decode import open_image
from pixelpress.errors import CorruptImage, DecompressionBomb, MissingDependency, UnsupportedFormat
from pixelpress.formats import heic, isobmff
from pixelpress.ops.convert import convert

pi_heif = pytest.importorskip("pi_heif", reason='HEIC input needs pi-heif: pip install "pixelpress[heic]"')

ROOT = Path(__file__).resolve().parents[2]
HEIC_DIR = ROOT / ".cache" / "heic-tests"


def heic_file(rel: str) -> bytes:
    path = HEIC_DIR / rel
    if not path.exists():
        import subprocess

        subprocess.run([sys.executable, str(ROOT / "build_scripts" / "fetch_test_images.py")], check=True)
    return path.read_bytes()


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">L4s", 8 + len(payload), kind) + payload


def full_box(kind: bytes, payload: bytes, version: int = 0) -> bytes:
    return box(kind, bytes([version, 0, 0, 0]) + payload)


def crafted_heic(width: int, height: int, *, tile: tuple[int, int] | None = None) -> bytes:
    """The boxes of a HEIC whose primary item (1, HEVC) claims `width` x `height` in its `ispe`, and no
    picture at all: nothing a decoder could decode. `tile`: a second item (2) with its own, other ispe."""
    infe = [full_box(b"infe", struct.pack(">HH4s", 1, 0, b"hvc1") + b"\0", version=2)]
    props = [full_box(b"ispe", struct.pack(">LL", width, height))]
    assoc = struct.pack(">HB", 1, 1) + bytes([1])
    count = 1
    if tile is not None:
        infe.append(full_box(b"infe", struct.pack(">HH4s", 2, 0, b"hvc1") + b"\0", version=2))
        props.append(full_box(b"ispe", struct.pack(">LL", *tile)))
        assoc += struct.pack(">HB", 2, 1) + bytes([2])
        count = 2
    meta = full_box(b"meta", full_box(b"hdlr", b"\0" * 4 + b"pict" + b"\0" * 13)
                    + full_box(b"pitm", struct.pack(">H", 1))
                    + full_box(b"iinf", struct.pack(">H", len(infe)) + b"".join(infe))
                    + box(b"iprp", box(b"ipco", b"".join(props)) + full_box(b"ipma", struct.pack(">L", count) + assoc)))
    return box(b"ftyp", b"heic\0\0\0\0mif1heic") + meta + box(b"mdat", b"")


def upright(im: Image.Image) -> bool:
    """Whether the arrow in arrow.heic points up: its tip, the topmost dark pixel, is high and central."""
    grey = im.convert("L").resize((im.width // 8, im.height // 8))
    w, h = grey.size
    dark = [(x, y) for y in range(h) for x in range(w) if grey.getpixel((x, y)) < 60]
    x, y = min(dark, key=lambda p: p[1])
    return y < 0.2 * h and 0.3 * w < x < 0.7 * w


def test_an_iphone_photo_converts_to_jpeg_upright_at_its_full_size():
    data = heic_file("heif_other/arrow.heic")
    assert formats.sniff(data).name == "heic"
    r = convert(data, {"format": "jpeg"})
    assert r.mime == "image/jpeg" and r.meta["input_format"] == "heic"
    # Stored 4032x3024 and turned a quarter (irot and EXIF orientation 6): turned once, not twice.
    assert (r.meta["width"], r.meta["height"]) == (3024, 4032) == (r.meta["input_width"], r.meta["input_height"])
    out = samples.decode(r.data)
    assert out.size == (3024, 4032) and upright(out)
    assert r.meta["codec"] == {"decode": "pillow", "encode": "pillow"} and r.meta["warnings"] == []


def test_a_photo_with_a_display_p3_profile_comes_out_in_srgb():
    data = heic_file("heif_other/pug.heic")
    r = convert(data, {"format": "png"})
    assert r.meta["input_profile"] == "Display P3" and r.meta["colour"] == "converted"
    assert isobmff.metadata(data, tiles=True)[1] == pi_heif.open_heif(data).info["icc_profile"]  # from the boxes
    # Converted, the colours differ from the stored ones (a P3 red is redder than sRGB can show).
    stored = pi_heif.open_heif(data).to_pillow().convert("RGB")
    assert samples.decode(r.data).convert("RGB").tobytes() != stored.tobytes()


def test_the_primary_picture_of_several_is_the_one_used():
    data = heic_file("heif/zPug_3.heic")
    pictures = [im.to_pillow().convert("RGB") for im in pi_heif.open_heif(data)]
    primary = pi_heif.open_heif(data).primary_index
    assert primary != 0 and pictures[primary].tobytes() != pictures[0].tobytes()
    r = convert(data, {"format": "png"})
    assert samples.decode(r.data).convert("RGB").tobytes() == pictures[primary].tobytes()
    assert r.meta["warnings"] == ["Input is a HEIC holding 3 pictures; only its primary picture was used."]


def test_a_200_megapixel_heic_is_refused_before_anything_is_decoded(monkeypatch):
    def no_decoder():
        raise AssertionError("the HEIC was opened")

    real = heic_file("heif_special/200MP.heic")
    crafted = crafted_heic(20_000, 10_000)
    monkeypatch.setattr(heic, "_register", no_decoder)  # pi-heif's opener is never reached
    with pytest.raises(DecompressionBomb, match="16320x12240"):
        convert(real, {"format": "jpeg"})
    with pytest.raises(DecompressionBomb, match="20000x10000"):
        open_image(crafted)
    # The primary item's size counts, whatever other items claim.
    with pytest.raises(DecompressionBomb):
        open_image(crafted_heic(20_000, 10_000, tile=(64, 64)))
    assert formats.sniff(crafted).size(crafted) == (20_000, 10_000)
    assert formats.sniff(crafted).size(crafted_heic(64, 64, tile=(20_000, 10_000))) == (64, 64)


def test_a_heic_without_a_readable_size_is_damaged():
    no_ispe = box(b"ftyp", b"heic\0\0\0\0mif1heic") + full_box(b"meta", full_box(b"pitm", struct.pack(">H", 1)))
    with pytest.raises(CorruptImage, match="HEIC"):
        open_image(no_ispe)
    with pytest.raises(CorruptImage):
        open_image(heic_file("heif_corrupted/corrupted.hif"))


def test_without_pi_heif_a_heic_names_the_extra_that_reads_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "pi_heif", None)  # as if not installed: find_spec answers None
    assert not heic.available()
    with pytest.raises(MissingDependency, match=r'pip install "pixelpress\[heic\]"'):
        convert(heic_file("heif_other/pug.heic"), {"format": "jpeg"})


class Pixels(bytes):
    def to_bytes(self) -> bytes:  # as Pyodide hands a Uint8Array over
        return bytes(self)


class WorkerCodecs:
    """web/worker/codecs.js's decodeHeic as the worker's bridge sees it: the primary picture, already upright
    (libheif applies irot/imir), straight RGBA with an alpha flag, colours as stored; EXIF and ICC are the
    engine's to read from the boxes. Wrapped in bridge.JsCodecs, the real glue."""

    def __init__(self, fail: Exception | None = None):
        self.fail = fail

    async def decodeHeic(self, data):
        if self.fail is not None:
            raise self.fail
        im = pi_heif.open_heif(data, convert_hdr_to_8bit=True).to_pillow()
        return SimpleNamespace(width=im.width, height=im.height, pixels=Pixels(im.convert("RGBA").tobytes()),
                               alpha="A" in im.mode, by="libheif")


@pytest.mark.parametrize("rel", ["heif_other/arrow.heic", "heif_other/pug.heic", "heif/zPug_3.heic"])
def test_in_the_worker_the_providers_heic_comes_out_as_natively(monkeypatch, rel):
    data = heic_file(rel)
    native = convert(data, {"format": "png"})
    monkeypatch.setitem(sys.modules, "pi_heif", None)  # as in Pyodide: no pi-heif, the provider decodes
    r = convert(data, {"format": "png"}, codecs=JsCodecs(WorkerCodecs()))
    assert r.meta["codec"]["decode"] == "browser"
    # The same pixels (a grey HEIC comes from the browser as RGB, where Pillow's opener gives L).
    assert samples.decode(r.data).convert("RGB").tobytes() == samples.decode(native.data).convert("RGB").tobytes()
    same = ("width", "height", "input_width", "input_height", "input_profile", "colour", "warnings")
    assert {k: r.meta[k] for k in same} == {k: native.meta[k] for k in same}


@pytest.mark.parametrize("name,error", [("EncoderUnavailable", UnsupportedFormat), ("Error", CorruptImage)])
def test_in_the_worker_a_heic_the_provider_cannot_decode_is_a_typed_error(monkeypatch, name, error):
    fail = RuntimeError("libheif: Invalid input")
    fail.name = name  # as Pyodide's JsException carries the JS error's
    monkeypatch.setitem(sys.modules, "pi_heif", None)
    with pytest.raises(error, match="HEIC"):
        convert(heic_file("heif_other/pug.heic"), {"format": "jpeg"}, codecs=JsCodecs(WorkerCodecs(fail)))


def test_heic_is_read_and_never_written():
    fmt = formats.by_name("heic")
    assert fmt.readable and not fmt.writable and fmt.save is None
    with pytest.raises(Exception) as err:
        convert(samples.photo_bytes(), {"format": "heic"})
    assert getattr(err.value, "code", None) == "invalid_option"
