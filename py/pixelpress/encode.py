"""Encoders for the output formats (JPEG, PNG, WebP, AVIF), and alpha flattening.

Every encoder writes exactly the metadata it is handed and nothing else:
Pillow's writers otherwise fall back to what the image still holds from its
source (`im.info`: the PNG writer takes the ICC profile, the JPEG writer the
comment), which would leak metadata the user asked to strip.
"""

from __future__ import annotations

import io

from PIL import Image, ImageFile

from . import codec, icc, pillow_plugins  # pillow_plugins registers the output formats; AVIF says if it can
from .coroutines import run_now
from .errors import TooLarge, UnsupportedFormat

MIME = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp", "avif": "image/avif"}

# The longest side each format can store: libjpeg's JPEG_MAX_DIMENSION and
# libwebp's WEBP_MAX_DIMENSION (PNG's 2^31 - 1 is far beyond the pixel cap).
# Past them the libraries fail mid-encode with messages such as "encoding
# error 5" or "broken data stream", so the size is checked up front. AV1
# itself allows 65,536, but libavif's readers (browsers, Pillow) refuse a
# side over 32,768 by default: a longer AVIF is written and cannot be opened.
MAX_SIDE = {"jpeg": 65500, "webp": 16383, "png": 2**31 - 1, "avif": 32768}
_NAMES = {"jpeg": "JPEG", "webp": "WebP", "png": "PNG", "avif": "AVIF"}

# A JPEG holds EXIF in one APP1 segment, at most 65,533 bytes; Pillow raises
# a bare ValueError past it. (ICC profiles are split over several segments.)
JPEG_MAX_EXIF = 65_533


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


def check_fits(fmt: str, width: int, height: int) -> None:
    """Raise `too_large` when a `width` x `height` image cannot be stored as `fmt`."""
    limit = MAX_SIDE[fmt]
    if width <= limit and height <= limit:
        return
    fits = [_NAMES[f] for f in ("png", "jpeg", "avif", "webp") if f != fmt and max(width, height) <= MAX_SIDE[f]]
    raise TooLarge(
        f"The result is {width}x{height} pixels, but a {_NAMES[fmt]} image can be at most {limit:,} pixels "
        f"wide or tall. Save it as {' or '.join(fits)} instead, or make it smaller.")


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
    check_fits("jpeg", *im.size)
    kw = dict(quality=quality, progressive=progressive, optimize=True,
              **_metadata_kwargs(exif, icc_profile), comment=b"")
    buf = io.BytesIO()
    try:
        im.save(buf, "JPEG", **kw)
    except OSError:
        # An optimised JPEG must fit one buffer, which Pillow sizes at about a
        # byte per pixel. A 1-2 px wide strip is coded as whole 16 px blocks
        # and can need several times that ("broken data stream"), so retry
        # with room for 4 bytes per coded pixel; a real failure fails again.
        w, h = im.size
        saved = ImageFile.MAXBLOCK
        ImageFile.MAXBLOCK = max(saved, 4 * (-(-w // 16) * 16) * (-(-h // 16) * 16)
                                 + len(exif or b"") + len(icc_profile or b"") + 4096)
        try:
            buf = io.BytesIO()
            im.save(buf, "JPEG", **kw)
        finally:
            ImageFile.MAXBLOCK = saved
    return buf.getvalue()


def encode_png(im: Image.Image, *, compress_level: int = 6,
               exif: bytes | None = None, icc_profile: bytes | None = None) -> bytes:
    check_fits("png", *im.size)
    buf = io.BytesIO()
    im.save(buf, "PNG", compress_level=compress_level, **_metadata_kwargs(exif, icc_profile))
    return buf.getvalue()


def encode_webp(im: Image.Image, *, quality: int, lossless: bool = False, method: int = 4,
                exif: bytes | None = None, icc_profile: bytes | None = None) -> bytes:
    check_fits("webp", *im.size)
    if im.mode not in ("RGB", "RGBA"):
        im = im.convert("RGBA" if has_alpha(im) else "RGB")
    buf = io.BytesIO()
    im.save(buf, "WEBP", quality=quality, lossless=lossless, method=method,
            **_metadata_kwargs(exif, icc_profile))
    return buf.getvalue()


def encode_avif(im: Image.Image, *, quality: int, speed: int = codec.AVIF_SPEED,
                exif: bytes | None = None, icc_profile: bytes | None = None) -> bytes:
    """AVIF through Pillow's plugin (libavif with libaom), set up as the worker's encoder is (see codec.py)."""
    check_fits("avif", *im.size)
    if not pillow_plugins.AVIF:
        raise UnsupportedFormat(codec.no_avif(reading=False))
    if im.mode not in ("RGB", "RGBA"):
        im = im.convert("RGBA" if has_alpha(im) else "RGB")
    buf = io.BytesIO()
    im.save(buf, "AVIF", quality=quality, speed=speed, subsampling=codec.AVIF_SUBSAMPLING, range="full",
            autotiling=False, **_metadata_kwargs(exif, icc_profile))
    return buf.getvalue()


def encode(im, fmt: str, *, quality: int = 85, progressive: bool = False, lossless: bool = False,
           method: int = 3, compress_level: int = 6, background: tuple[int, int, int] = (255, 255, 255),
           avif_speed: int = codec.AVIF_SPEED, exif: bytes | None = None,
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
              method: int = 3, compress_level: int = 6, background: tuple[int, int, int] = (255, 255, 255),
              avif_speed: int = codec.AVIF_SPEED, exif: bytes | None = None, icc_profile: bytes | None = None,
              codecs: codec.Codecs | None = None) -> tuple[bytes, str]:
    """`encode`, and who encoded: "pillow" or the provider's name.

    `codecs` may encode faster where its result meets the same contract (see codec.py); it is awaited.
    """
    if not isinstance(im, Image.Image):
        import numpy as np

        im = Image.fromarray(np.ascontiguousarray(im))
    if fmt == "jpeg":
        flat = flatten(im, background)
        flat = flat if flat.mode in ("L", "RGB") else flat.convert("RGB")
        check_fits("jpeg", *flat.size)
        fast = await codec.encode(codecs, flat, fmt, quality=quality, progressive=progressive, lossless=False,
                            method=method, exif=exif, icc_profile=icc_profile)
        if fast is not None:
            return fast, codecs.name
        return encode_jpeg(flat, quality=quality, progressive=progressive, exif=exif,
                           icc_profile=icc_profile), codec.PILLOW
    if fmt == "png":
        return encode_png(im, compress_level=compress_level, exif=exif, icc_profile=icc_profile), codec.PILLOW
    if fmt == "webp":
        check_fits("webp", *im.size)
        fast = await codec.encode(codecs, im, fmt, quality=quality, progressive=False, lossless=lossless, method=method,
                            exif=exif, icc_profile=icc_profile)
        if fast is not None:
            return fast, codecs.name
        return encode_webp(im, quality=quality, lossless=lossless, method=method, exif=exif,
                           icc_profile=icc_profile), codec.PILLOW
    if fmt == "avif":
        check_fits("avif", *im.size)
        fast = await codec.encode_avif(codecs, im, quality=quality, speed=avif_speed, exif=exif, icc_profile=icc_profile)
        if fast is not None:
            return fast, codecs.name
        return encode_avif(im, quality=quality, speed=avif_speed, exif=exif, icc_profile=icc_profile), codec.PILLOW
    raise ValueError(f"no encoder for {fmt!r}")


def _metadata_kwargs(exif: bytes | None, icc_profile: bytes | None) -> dict:
    # Both keys always present: an absent key lets the writer use `im.info`.
    return {"exif": exif or b"", "icc_profile": icc_profile or None}
