"""JPEG: the camera's format, and the one the browser's codecs may decode, encode and transcode."""

from __future__ import annotations

import io

from PIL import Image, ImageFile

from .base import Format, check_fits, metadata_kwargs, u16be

_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF, 0xDE}


def read_size(data: bytes) -> tuple[int, int] | None:
    """The last frame header (SOFn) before the scan, walking the markers as Pillow does."""
    size, i, n = None, 2, len(data)
    while i + 1 < n:
        if data[i] != 0xFF:  # junk between segments, which Pillow skips
            i = data.find(b"\xff", i)
            if i < 0:
                break
            continue
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
        elif marker == 0x00:
            i += 2
        elif marker < 0xC0:
            return None  # Pillow: "no marker found"
        elif marker == 0xC8 or 0xD0 <= marker <= 0xD9 or 0xF0 <= marker <= 0xFD:
            i += 2  # markers without a length
        elif marker == 0xDA:  # start of scan: the header is over
            break
        else:
            if marker in _SOF and i + 9 <= n:
                size = u16be(data, i + 7), u16be(data, i + 5)
            i += 2 + u16be(data, i + 2)
    return size


def without_icc(data: bytes) -> bytes | None:
    """The JPEG without its ICC profile (APP2 ICC_PROFILE segments), as Pillow writes none when stripping.

    None if it is not a JPEG whose header can be walked.
    """
    if data[:2] != b"\xff\xd8":
        return None
    out, i = bytearray(data[:2]), 2
    while i + 4 <= len(data) and data[i] == 0xFF:
        marker = data[i + 1]
        if marker == 0xDA:
            return bytes(out) + data[i:]
        end = i + 2 + int.from_bytes(data[i + 2:i + 4], "big")
        if not (marker == 0xE2 and data[i + 4:i + 16] == b"ICC_PROFILE\0"):
            out += data[i:end]
        i = end
    return None


def save(im: Image.Image, *, quality: int, progressive: bool = False,
         exif: bytes | None = None, icc_profile: bytes | None = None) -> bytes:
    """Pillow's JPEG writer, optimised, with exactly this metadata (and no comment)."""
    if im.mode not in ("L", "RGB"):
        raise ValueError(f"JPEG needs L or RGB, got {im.mode}; flatten first")
    check_fits("jpeg", *im.size)
    kw = dict(quality=quality, progressive=progressive, optimize=True,
              **metadata_kwargs(exif, icc_profile), comment=b"")
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


# libjpeg's JPEG_MAX_DIMENSION: past it the library fails mid-encode.
FORMAT = Format(
    "jpeg", "JPEG", "JPEG", "image/jpeg", (".jpg", ".jpeg", ".jpe", ".jfif"), read_size,
    magic=(((0, b"\xff\xd8\xff"),),), writable=True, max_side=65500, save=save,
    # browser.py: decode a one-frame YCbCr JPEG libjpeg reads to the end; encode RGB baseline without
    # metadata; transcode a JPEG the op leaves unchanged.
    browser_decode="jpeg-ycbcr", browser_encode="jpeg-baseline")
