"""Encoders for the three output formats, and alpha flattening."""

from __future__ import annotations

import io

from PIL import Image

from . import pillow_plugins  # noqa: F401  (registers the output formats)

MIME = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


def has_alpha(im: Image.Image) -> bool:
    return im.mode in ("RGBA", "LA")


def flatten(im: Image.Image, background: tuple[int, int, int]) -> Image.Image:
    """Composite a transparent image onto a solid colour (straight alpha)."""
    if not has_alpha(im):
        return im
    rgba = im.convert("RGBA")
    canvas = Image.new("RGB", rgba.size, background)
    canvas.paste(rgba, mask=rgba.getchannel("A"))
    return canvas


def encode_jpeg(im: Image.Image, *, quality: int, progressive: bool = False,
                exif: bytes | None = None, icc_profile: bytes | None = None) -> bytes:
    if im.mode not in ("L", "RGB"):
        raise ValueError(f"JPEG needs L or RGB, got {im.mode}; flatten first")
    extra = _metadata_kwargs(exif, icc_profile)
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=quality, progressive=progressive, optimize=True, **extra)
    return buf.getvalue()


def encode_png(im: Image.Image, *, compress_level: int = 6,
               exif: bytes | None = None, icc_profile: bytes | None = None) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "PNG", compress_level=compress_level, **_metadata_kwargs(exif, icc_profile))
    return buf.getvalue()


def encode_webp(im: Image.Image, *, quality: int, lossless: bool = False, method: int = 4,
                exif: bytes | None = None, icc_profile: bytes | None = None) -> bytes:
    if im.mode not in ("RGB", "RGBA"):
        im = im.convert("RGBA" if has_alpha(im) else "RGB")
    buf = io.BytesIO()
    im.save(buf, "WEBP", quality=quality, lossless=lossless, method=method,
            **_metadata_kwargs(exif, icc_profile))
    return buf.getvalue()


def encode_png_rgba(im: Image.Image) -> bytes:
    """The common output of the compositing operations: an RGBA PNG."""
    return encode_png(im.convert("RGBA"))


def _metadata_kwargs(exif: bytes | None, icc_profile: bytes | None) -> dict:
    extra = {}
    if exif:
        extra["exif"] = exif
    if icc_profile:
        extra["icc_profile"] = icc_profile
    return extra
