"""Which codec makes the pixels or the bytes: Pillow, or a faster one the caller provides.

Natively every op decodes and encodes with Pillow. In the browser worker the
bridge hands the op a provider of the browser's own codecs (WebCodecs
`ImageDecoder`, `OffscreenCanvas.convertToBlob`), which are several times
faster than Pyodide's Pillow (libjpeg 9 and libwebp without SIMD). The
provider only moves pixels; this module decides when its result meets the
same contract as Pillow's, and everything else (orientation, flattening,
resizing, metadata) stays the engine's:

- decode: a complete baseline or progressive YCbCr JPEG of one frame, when
  no reduced-scale decode is asked for (Pillow's DCT scaling beats a
  full-size browser decode for thumbnails);
- encode JPEG: RGB, not progressive, no metadata kept;
- encode lossy WebP: RGB, or RGBA whose alpha is all opaque, at effort 3
  (the browser's, and the default), no metadata kept (a canvas would
  premultiply any transparency).

The browser's JPEG decoder hands over its YCbCr planes and the worker
upsamples and converts them exactly as libjpeg-turbo does, so a JPEG decodes
to the same pixels as natively; its JPEG and WebP encoders are libjpeg-turbo
and libwebp, and wrote the same bytes as native Pillow on every sample.

PNG, lossless WebP, CMYK, 16-bit, kept EXIF or ICC, and every odd mode stay
Pillow. A provider that declines or fails (returns None or raises) means
Pillow does the work, so a result never depends on the browser being able to.
"""

from __future__ import annotations

import struct
from typing import Protocol

from PIL import Image

from . import icc

PILLOW = "pillow"
# Chromium's canvas encodes WebP with libwebp at effort ("method") 3; at that
# effort its bytes equal native Pillow's, at any other they differ (SSIM
# 0.978-0.995 between the two at 4), so only effort 3 goes to the browser.
BROWSER_WEBP_METHOD = 3


class Codecs(Protocol):
    """What a codec provider offers. `name` goes into meta ("browser")."""

    name: str

    def decode_jpeg(self, data: bytes, width: int, height: int) -> Image.Image | None:
        """The JPEG's RGB pixels as stored (no EXIF orientation, no colour conversion), or None."""

    def encode(self, pixels: bytes, width: int, height: int, layout: str, mime: str, quality: float) -> bytes | None:
        """Opaque pixels (`layout` "RGBX": the 4th byte is ignored) as `mime` at `quality` (0-1), or None."""

    def transcode(self, data: bytes, width: int, height: int, mime: str, quality: float) -> bytes | None:
        """A JPEG's pixels as stored (no orientation, no colour conversion) encoded as `mime`, or None."""


# ------------------------------------------------------------------ decoding

def jpeg_reduces(width: int, height: int, req: tuple[int, int]) -> bool:
    """Whether Pillow's `draft` would decode this JPEG at a reduced scale for `req`."""
    return min(width // max(1, req[0]), height // max(1, req[1])) >= 2


def decode_jpeg(codecs: Codecs | None, data: bytes, im: Image.Image) -> Image.Image | None:
    """`im`'s pixels from the provider when its decode meets the contract, else None (Pillow then loads them)."""
    if codecs is None or im.mode != "RGB" or getattr(im, "n_frames", 1) != 1 or not _jpeg_complete(data):
        return None
    try:
        out = codecs.decode_jpeg(data, *im.size)
    except Exception:  # noqa: BLE001 - any failure of the provider: Pillow decodes
        return None
    return out if out is not None and out.size == im.size and out.mode == "RGB" else None


def _jpeg_complete(data: bytes) -> bool:
    """An end-of-image marker after the last start of scan: Pillow would not find the file truncated.

    A cut-short JPEG must keep failing as `corrupt_image`, where the browser
    would show what it has.
    """
    sos = data.rfind(b"\xff\xda")
    return sos > 0 and data.find(b"\xff\xd9", sos) > 0


# ------------------------------------------------------------------ transcoding

def transcode(codecs: Codecs | None, head, fmt: str, *, quality: int, progressive: bool, lossless: bool,
              method: int) -> bytes | None:
    """A JPEG re-encoded by the provider without its pixels entering Python, when the engine would change none.

    The caller has decided that nothing happens to the pixels (no resize, no
    metadata kept); this adds what else that needs: one upright (orientation 1,
    EXIF read cleanly) YCbCr frame, complete, untagged or sRGB (so no colour
    conversion), and an output the provider writes as Pillow would. The
    browser then decodes, draws and encodes in one go, as a page alone would:
    its decode gives the same pixels as the JPEG decode above and its encoder
    the same bytes, so only the copies in and out of Python are saved.
    `head` is decode.Header.
    """
    im = head.image
    if (codecs is None or head.format != "JPEG" or im.mode != "RGB" or getattr(im, "n_frames", 1) != 1
            or head.orientation != 1 or head.warnings or not _jpeg_complete(head.data)):
        return None
    profile = im.info.get("icc_profile")
    if profile and not getattr(icc.read_profile(profile), "is_srgb", False):
        return None
    mime = _browser_mime(fmt, progressive=progressive, lossless=lossless, method=method)
    if mime is None:
        return None
    try:
        out = codecs.transcode(head.data, *im.size, mime, quality / 100)
    except Exception:  # noqa: BLE001 - any failure of the provider: Pillow decodes and encodes
        return None
    return _as_pillow_writes(out, mime) if out else None


def _browser_mime(fmt: str, *, progressive: bool, lossless: bool, method: int) -> str | None:
    """The provider's output type when its encoder writes `fmt` as Pillow does with these settings, else None."""
    if fmt == "jpeg" and not progressive:
        return "image/jpeg"
    if fmt == "webp" and not lossless and method == BROWSER_WEBP_METHOD:
        return "image/webp"
    return None


def _as_pillow_writes(data: bytes, mime: str) -> bytes | None:
    """The browser's file without the sRGB profile it embeds: Pillow, stripping metadata, writes none."""
    if mime == "image/jpeg":
        return _jpeg_without_icc(data)
    chunks = _chunks(data)
    vp8 = chunks.get(b"VP8 ") if chunks else None
    return _riff([(b"VP8 ", vp8)]) if vp8 is not None else None


# ------------------------------------------------------------------ encoding

def encode(codecs: Codecs | None, im: Image.Image, fmt: str, *, quality: int, progressive: bool, lossless: bool,
           method: int, exif: bytes | None, icc_profile: bytes | None) -> bytes | None:
    """`im` encoded by the provider when its encoder meets the contract, else None (Pillow encodes)."""
    if codecs is None or exif or icc_profile:
        return None
    mime = _browser_mime(fmt, progressive=progressive, lossless=lossless, method=method)
    try:
        if mime == "image/jpeg" and im.mode == "RGB":
            out = codecs.encode(im.tobytes("raw", "RGBX"), *im.size, "RGBX", mime, quality / 100)
            return _as_pillow_writes(out, mime) if out else None
        if mime == "image/webp" and im.mode in ("RGB", "RGBA"):
            return _webp(codecs, im, quality)
    except Exception:  # noqa: BLE001 - any failure of the provider: Pillow encodes
        return None
    return None


def _jpeg_without_icc(data: bytes) -> bytes | None:
    """The browser's JPEG without the sRGB profile it embeds (APP2 ICC_PROFILE), as Pillow writes none.

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


def _webp(codecs: Codecs, im: Image.Image, quality: int) -> bytes | None:
    """Lossy WebP from the browser's VP8 encoder, for pictures without transparency.

    A canvas premultiplies alpha, and its lossless encoder (which would code
    the alpha plane) compresses it to about twice libwebp's size at its
    default effort (measured on real cut-outs): with any transparency, Pillow encodes.
    """
    if im.mode == "RGBA" and im.getchannel("A").getextrema() != (255, 255):
        return None
    w, h = im.size
    out = codecs.encode(im.tobytes("raw", "RGBX" if im.mode == "RGB" else "RGBA"), w, h, "RGBX", "image/webp",
                        quality / 100)
    # The VP8 frame alone, as libwebp writes an opaque picture: without the sRGB profile the browser adds.
    return _as_pillow_writes(out, "image/webp") if out else None


def _chunks(data: bytes | None) -> dict[bytes, bytes] | None:
    """A WebP's chunks by FourCC (the first of each), or None if it is not a WebP."""
    if not data or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return None
    out, i = {}, 12
    while i + 8 <= len(data):
        kind, size = data[i:i + 4], struct.unpack_from("<L", data, i + 4)[0]
        out.setdefault(kind, data[i + 8:i + 8 + size])
        i += 8 + size + (size & 1)
    return out


def _riff(chunks: list[tuple[bytes, bytes]]) -> bytes:
    body = b"".join(kind + struct.pack("<L", len(c)) + c + (b"\0" if len(c) & 1 else b"") for kind, c in chunks)
    return b"RIFF" + struct.pack("<L", 4 + len(body)) + b"WEBP" + body
