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


def png_claiming(width: int, height: int) -> bytes:
    """A hostile PNG: its IHDR claims the given size over a tiny data stream."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")


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
