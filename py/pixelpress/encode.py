"""Encoders for the output formats (JPEG, PNG, WebP, AVIF), and alpha flattening.

Every encoder writes exactly the metadata it is handed and nothing else:
Pillow's writers otherwise fall back to what the image still holds from its
source (`im.info`: the PNG writer takes the ICC profile, the JPEG writer the
comment), which would leak metadata the user asked to strip.
"""

from __future__ import annotations

from PIL import Image

from . import browser, icc
from .coroutines import run_now
from .formats import FORMATS, avif, jpeg, png, webp
from .formats.base import check_fits
from .provider import PILLOW, Codecs

# The output formats' MIME types by name ("jpeg": "image/jpeg"), from their modules.
MIME = {f.name: f.mime for f in FORMATS.values() if f.writable}

# A JPEG holds EXIF in one APP1 segment, at most 65,533 bytes; Pillow raises
# a bare ValueError past it. (ICC profiles are split over several segments.)
JPEG_MAX_EXIF = 65_533

# The Pillow writers, each in its format's module (formats/<name>.py).
encode_jpeg, encode_png, encode_webp, encode_avif = jpeg.save, png.save, webp.save, avif.save


def valid_icc(profile: bytes | None, warnings: list[str]) -> bytes | None:
    """`profile` if it is an ICC profile by its own header (size field, 'acsp' signature), else None with a warning.

    A kept profile that is garbage (zeros, a fuzzed length) would only make
    the output fail in the next reader; a real one always passes.
    """
    if not profile:
        return None
    if len(profile) >= 132 and profile[36:40] == b"acsp" and int.from_bytes(profile[:4], "big") == len(profile):
        return profile
    warnings.append(icc.MALFORMED)
    return None


def exif_that_fits(fmt: str, exif: bytes | None, warnings: list[str]) -> bytes | None:
    """`exif` as `fmt` stores it, or None with a warning when `fmt` cannot store a block that long."""
    if exif and fmt == "jpeg" and len(exif) > JPEG_MAX_EXIF:
        warnings.append(f"The EXIF metadata ({len(exif) / 1000:.0f} kB) is larger than a JPEG can hold "
                        f"(64 kB), so it was dropped; PNG and WebP keep it.")
        return None
    if exif and fmt == "avif":
        # AVIF keeps orientation in its boxes: Pillow's writer takes the tag (1 here: the engine has
        # applied any other) out of the block. Done here, both the native and the worker's writer get
        # the same block.
        tags = Image.Exif()
        tags.load(exif)
        if 0x0112 in tags:
            del tags[0x0112]
            return tags.tobytes() if len(tags) else None
    return exif


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


def encode(im, fmt: str, *, quality: int = 85, progressive: bool = False, lossless: bool = False,
           method: int = 3, compress_level: int = png.DEFAULT_LEVEL, background: tuple[int, int, int] = (255, 255, 255),
           avif_speed: int = avif.AVIF_SPEED, exif: bytes | None = None,
           icc_profile: bytes | None = None) -> bytes:
    """The one encoder switch: a Pillow image or an HxWxC uint8 array as `fmt` ("jpeg", "png", "webp", "avif").

    JPEG has no transparency: an image with alpha is flattened onto `background`.
    WebP's default effort is 3, the browser encoder's: on the sample photos it
    gives the same SSIM against the source as 4 and files 0-0.5 % smaller, and
    the worker's fast path then writes the same bytes as native Pillow.
    """
    return run_now(encode_async(im, fmt, quality=quality, progressive=progressive, lossless=lossless,
                                method=method, compress_level=compress_level, background=background,
                                avif_speed=avif_speed, exif=exif, icc_profile=icc_profile))


async def encode_async(im, fmt: str, **kwargs) -> bytes:
    """`encode`, awaiting a codec provider when given one (`codecs=`, see `encode_by`)."""
    return (await encode_by(im, fmt, **kwargs))[0]


async def encode_by(im, fmt: str, *, quality: int = 85, progressive: bool = False, lossless: bool = False,
              method: int = 3, compress_level: int = png.DEFAULT_LEVEL, background: tuple[int, int, int] = (255, 255, 255),
              avif_speed: int = avif.AVIF_SPEED, exif: bytes | None = None, icc_profile: bytes | None = None,
              codecs: Codecs | None = None) -> tuple[bytes, str]:
    """`encode`, and who encoded: "pillow" or the provider's name.

    `codecs` may encode faster where its result meets the same contract (see browser.py); it is awaited.
    """
    if not isinstance(im, Image.Image):
        import numpy as np

        im = Image.fromarray(np.ascontiguousarray(im))
    if fmt == "jpeg":
        flat = flatten(im, background)
        flat = flat if flat.mode in ("L", "RGB") else flat.convert("RGB")
        check_fits("jpeg", *flat.size)
        fast = await browser.encode(codecs, flat, fmt, quality=quality, progressive=progressive, lossless=False,
                            method=method, exif=exif, icc_profile=icc_profile)
        if fast is not None:
            return fast, codecs.name
        return encode_jpeg(flat, quality=quality, progressive=progressive, exif=exif,
                           icc_profile=icc_profile), PILLOW
    if fmt == "png":
        return encode_png(im, compress_level=compress_level, exif=exif, icc_profile=icc_profile), PILLOW
    if fmt == "webp":
        check_fits("webp", *im.size)
        fast = await browser.encode(codecs, im, fmt, quality=quality, progressive=False, lossless=lossless, method=method,
                            exif=exif, icc_profile=icc_profile)
        if fast is not None:
            return fast, codecs.name
        return encode_webp(im, quality=quality, lossless=lossless, method=method, exif=exif,
                           icc_profile=icc_profile), PILLOW
    if fmt == "avif":
        check_fits("avif", *im.size)
        fast = await browser.avif_by_provider(codecs, im, quality=quality, speed=avif_speed, exif=exif, icc_profile=icc_profile)
        if fast is not None:
            return fast, codecs.name
        return encode_avif(im, quality=quality, speed=avif_speed, exif=exif, icc_profile=icc_profile), PILLOW
    raise ValueError(f"no encoder for {fmt!r}")
