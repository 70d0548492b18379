"""Real photographs for the tests, from the samples bundled in scikit-image.

Only files shipped inside the installed wheel are used (nothing is fetched).
Helpers here encode them into any format so tests start from real bytes.
"""

from __future__ import annotations

import functools
import importlib.util
import io
from pathlib import Path

from PIL import Image

PHOTOS = ("astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg",
          "hubble_deep_field.jpg", "motorcycle_left.png", "retina.jpg")


@functools.cache
def data_dir() -> Path:
    spec = importlib.util.find_spec("skimage")
    assert spec and spec.submodule_search_locations, "scikit-image must be installed for the sample photos"
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def path(name: str) -> Path:
    return data_dir() / name


def image(name: str) -> Image.Image:
    with Image.open(path(name)) as im:
        im.load()
        return im.copy()


def encode(im: Image.Image, fmt: str, **save) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **save)
    return buf.getvalue()


def photo_bytes(name: str = "astronaut.png", fmt: str = "JPEG", **save) -> bytes:
    im = image(name)
    if fmt == "JPEG" and im.mode not in ("RGB", "L"):
        im = im.convert("RGB")
    return encode(im, fmt, **save)


@functools.cache
def large_photo(width: int = 4000, height: int = 3000, name: str = "motorcycle_left.png") -> Image.Image:
    """A real photograph resized to camera resolution (12 MP by default)."""
    return image(name).convert("RGB").resize((width, height), Image.Resampling.LANCZOS)


def cutout(name: str = "chelsea.png") -> Image.Image:
    """A photo with real transparency: a soft-edged disc, clear outside."""
    from PIL import ImageDraw, ImageFilter

    im = image(name).convert("RGBA")
    w, h = im.size
    mask = Image.new("L", im.size, 0)
    ImageDraw.Draw(mask).ellipse((w * 0.15, h * 0.1, w * 0.85, h * 0.9), fill=255)
    im.putalpha(mask.filter(ImageFilter.GaussianBlur(4)))
    return im


def png_chunk(kind: bytes, body: bytes, crc: int | None = None) -> bytes:
    """One PNG chunk; `crc` overrides the checksum (to make a damaged one)."""
    import struct
    import zlib

    crc = zlib.crc32(kind + body) if crc is None else crc
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc & 0xFFFFFFFF)


def raw_png(width: int, height: int, rows: bytes, *, bit_depth: int = 8, colour: int = 2, extra: bytes = b"",
            level: int = 9) -> bytes:
    """A PNG written by hand around already filtered `rows`, any header it is given, `extra` chunks
    before the data: for sizes, depths and damage Pillow's writer will not make."""
    import struct
    import zlib

    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + extra
            + png_chunk(b"IDAT", zlib.compress(rows, level)) + png_chunk(b"IEND", b""))


def png_claiming(width: int, height: int) -> bytes:
    """A hostile PNG: its IHDR claims the given size over a tiny data stream."""
    return raw_png(width, height, b"\0" * 16, level=6)


def big_flat_png(width: int = 7000, height: int = 7000) -> bytes:
    """A real, fully decodable RGBA PNG (49 MP by default): flat colour with a little noise.

    Every row is the same noisy row, so zlib finds each one in the previous
    (a row is 28 KB, inside its 32 KB window): about 0.2 MB, made in a second.
    """
    import numpy as np

    rng = np.random.default_rng(11)
    row = np.clip(rng.normal((90, 140, 200, 255), 3, (width, 4)), 0, 255).astype(np.uint8)
    return raw_png(width, height, (b"\0" + row.tobytes()) * height, colour=6, level=1)


def png_of(arr) -> bytes:
    """PNG bytes of a NumPy image array (mode inferred: L, RGB or RGBA)."""
    return encode(Image.fromarray(arr), "PNG")


def rgba_of(data: bytes):
    """The pixels of an RGBA output as an array; fails if the output lost its alpha."""
    import numpy as np

    im = decode(data)
    assert im.mode == "RGBA", im.mode
    return np.asarray(im)


def decode(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im
