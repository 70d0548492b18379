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


def decode(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im
