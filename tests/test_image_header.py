"""The studio's header reader and the engine's agree on every format the engine reads (issue 27).

The page decodes a file for a thumbnail or a preview only when its header
gives a size within the engine's pixel cap (web/ui/image-header.js), so a
100-megapixel bomb never reaches `createImageBitmap`. Its formats, magic bytes
and cap come from the build's client/engine-facts.js; its size readers are
JS ports of the engine's, one per format. Here each one reads the same
files as the engine's (`pixelpress.formats`), under Node, and must say the
same format and size: real files of every format (a JPEG with a large EXIF
before its frame header, BMPs of both header kinds and top-down, WebP of
all three kinds, TIFFs of both byte orders with the directory at the end,
AVIF, HEIC) and crafted 100 MP headers, which the page must refuse.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from pixelpress import formats

ROOT = Path(__file__).resolve().parent.parent
DIST = Path(os.environ.get("PIXELPRESS_DIST") or ROOT / "dist")
HEIC_TESTS = ROOT / ".cache" / "heic-tests"

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node runs the page's module")

READ_ALL = """
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
const mod = await import(process.argv[1]);
const out = {};
for (const f of JSON.parse(readFileSync(0, 'utf8'))) {
  const blob = new Blob([await readFile(f)]);
  out[f] = { header: await mod.readHeader(blob), safe: await mod.safeToDecode(blob) };
}
console.log(JSON.stringify({ files: out, unread: mod.UNREAD, cap: mod.MAX_PIXELS }));
"""


def save(im: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def photo(w: int = 61, h: int = 37, mode: str = "RGB") -> Image.Image:
    return Image.linear_gradient("L").resize((w, h)).convert(mode)


def bmp_core(w: int, h: int) -> bytes:
    """An OS/2 BMP (12-byte BITMAPCOREHEADER, 16-bit sides), 24-bit, rows padded to 4 bytes."""
    row = (w * 3 + 3) & ~3
    body = b"\x80" * row * h
    return b"BM" + struct.pack("<LHHL", 26 + len(body), 0, 0, 26) + struct.pack("<LHHHH", 12, w, h, 1, 24) + body


def bmp_claiming(w: int, h: int) -> bytes:
    """A BITMAPINFOHEADER BMP claiming w x h (top-down when h < 0), with one row of pixels."""
    return (b"BM" + struct.pack("<LHHL", 58, 0, 0, 54) + struct.pack("<LllHHLLllLL", 40, w, h, 1, 24, 0, 4, 0, 0, 0, 0)
            + b"\0" * 4)


def tiff_ifd_at_end(w: int, h: int, order: str = "<") -> bytes:
    """A grey TIFF whose pixels come first and its one directory last, as some writers lay it out."""
    pixels = b"\x7f" * (w * h)
    ifd_at = 8 + len(pixels)
    entries = [(256, 4, 1, w), (257, 4, 1, h), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1),
               (273, 4, 1, 8), (277, 3, 1, 1), (278, 4, 1, h), (279, 4, 1, len(pixels))]
    ifd = struct.pack(order + "H", len(entries))
    for tag, typ, n, v in entries:
        ifd += struct.pack(order + "HHL", tag, typ, n) + (struct.pack(order + "HH", v, 0) if typ == 3
                                                          else struct.pack(order + "L", v))
    head = (b"II*\0" if order == "<" else b"MM\0*") + struct.pack(order + "L", ifd_at)
    return head + pixels + ifd + b"\0\0\0\0"


def with_ispe(data: bytes, w: int, h: int) -> bytes:
    """An AVIF or HEIC whose every `ispe` claims w x h (the pixels stay small)."""
    out, at = bytearray(data), data.find(b"ispe")
    assert at > 0
    while at > 0:
        struct.pack_into(">LL", out, at + 8, w, h)
        at = data.find(b"ispe", at + 4)
    return bytes(out)


def corpus(tmp: Path) -> dict[str, bytes]:
    exif = Image.Exif()
    exif[0x010E] = "x" * 60_000  # ImageDescription: 60 kB of EXIF before the frame header
    files = {
        "baseline.jpg": save(photo(), "JPEG"),
        "progressive-exif.jpg": save(photo(640, 427), "JPEG", progressive=True, exif=exif.tobytes()),
        "rgba.png": save(photo(mode="RGBA"), "PNG"),
        "still.gif": save(photo(mode="P"), "GIF"),
        "v3.bmp": save(photo(), "BMP"),
        "core.bmp": bmp_core(29, 17),
        "top-down.bmp": bmp_claiming(23, -11),
        "lossy.webp": save(photo(), "WEBP", quality=80),
        "lossless.webp": save(photo(), "WEBP", lossless=True),
        "alpha.webp": save(photo(mode="RGBA"), "WEBP", quality=80),
        "le.tif": save(photo(), "TIFF"),
        "ifd-last-le.tif": tiff_ifd_at_end(19, 13),
        "ifd-last-be.tif": tiff_ifd_at_end(19, 13, ">"),
        "not-an-image.txt": b"hello, this is text and no picture at all" * 3,
        # Bombs: 100 MP claimed by a small file.
        "bomb.bmp": bmp_claiming(10_000, 10_000),
        "bomb.tif": bomb_tiff(),
        # A WebP whose first chunk is none of the three that carry its size.
        "sizeless.webp": b"RIFF" + struct.pack("<L", 30) + b"WEBP" + b"ICCP" + struct.pack("<L", 18) + b"\0" * 18,
    }
    if "AVIF" in Image.registered_extensions().values():
        avif = save(photo(), "AVIF", quality=60)
        files["small.avif"] = avif
        files["bomb.avif"] = with_ispe(avif, 10_000, 10_000)
    if HEIC_TESTS.is_dir():
        files["rotated.hif"] = (HEIC_TESTS / "heif_special" / "guitar_cw90.hif").read_bytes()[:400_000]
        files["iphone.heic"] = (HEIC_TESTS / "heif_other" / "pug.heic").read_bytes()
        files["200MP.heic"] = (HEIC_TESTS / "heif_special" / "200MP.heic").read_bytes()
    for name, data in files.items():
        (tmp / name).write_bytes(data)
    return files


def bomb_tiff() -> bytes:
    """A TIFF that claims 10,000 x 10,000 grey pixels and holds 1."""
    data = bytearray(tiff_ifd_at_end(1, 1))
    ifd = struct.unpack_from("<L", data, 4)[0]
    struct.pack_into("<L", data, ifd + 2 + 8, 10_000)
    struct.pack_into("<L", data, ifd + 2 + 12 + 8, 10_000)
    return bytes(data)


@pytest.fixture(scope="module")
def read(tmp_path_factory):
    module = DIST / "ui" / "image-header.js"
    if not module.exists():
        pytest.skip(f"{module} not built")
    tmp = tmp_path_factory.mktemp("headers")
    files = corpus(tmp)
    run = subprocess.run(["node", "--input-type=module", "-e", READ_ALL, module.as_uri()],
                         input=json.dumps([str(tmp / f) for f in files]), capture_output=True, text=True,
                         check=False, timeout=60)
    assert run.returncode == 0, run.stderr
    got = json.loads(run.stdout)
    return files, {Path(f).name: v for f, v in got["files"].items()}, got


def engine(data: bytes) -> dict | None:
    fmt = formats.sniff(data)
    if fmt is None:
        return None
    size = fmt.size(data)
    return {"format": fmt.name, "width": size[0] if size else None, "height": size[1] if size else None}


def test_every_format_the_engine_reads_has_a_size_reader_in_the_page(read):
    _files, _got, whole = read
    assert whole["unread"] == []
    assert whole["cap"] == formats.facts()["max_pixels"]


def test_the_page_reads_the_format_and_size_the_engine_reads(read):
    files, got, _ = read
    assert {engine(d)["format"] for d in files.values() if engine(d)} >= {"jpeg", "png", "gif", "bmp", "webp", "tiff"}
    for name, data in files.items():
        assert got[name]["header"] == engine(data), name
        # And the sizes are the real ones where the file holds the picture it claims.
        if name.endswith((".jpg", ".png", ".gif", ".webp")) and name != "sizeless.webp" or name in ("v3.bmp", "le.tif"):
            assert (got[name]["header"]["width"], got[name]["header"]["height"]) == Image.open(io.BytesIO(data)).size


def test_a_100_megapixel_header_is_not_safe_to_decode_whatever_its_format(read):
    files, got, _ = read
    bombs = [n for n in files if "bomb" in n or n.startswith("200MP")]
    assert {"bomb.bmp", "bomb.tif"} <= set(bombs)
    for name in bombs:
        h = got[name]["header"]
        assert h["width"] * h["height"] >= 100_000_000, name
        assert got[name]["safe"] is False, name
    for name in ("baseline.jpg", "rgba.png", "v3.bmp", "lossy.webp", "ifd-last-be.tif", "small.avif", "iphone.heic"):
        if name in got:
            assert got[name]["safe"] is True, name


def test_a_file_whose_header_does_not_say_its_size_is_not_decoded_by_the_page(read):
    _files, got, _ = read
    assert got["not-an-image.txt"] == {"header": None, "safe": False}
    assert got["sizeless.webp"] == {"header": {"format": "webp", "width": None, "height": None}, "safe": False}
