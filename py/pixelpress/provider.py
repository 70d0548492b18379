"""What a codec provider is: the browser's own codecs as the worker offers them to the engine.

Natively there is none and Pillow does every decode and encode. In the
worker the bridge hands the op one (bridge.JsCodecs over web/worker/codecs.js);
browser.py decides when its result meets the same contract as Pillow's.
Apart from browser.py so that the probes (browser_probes.py), the decoder
and the encoder can name it without importing the rules.
"""

from __future__ import annotations

from typing import Protocol

from PIL import Image

from .formats.jpeg import without_icc
from .formats.webp import chunks, riff

PILLOW = "pillow"
# Chromium's canvas encodes WebP with libwebp at effort ("method") 3; at that
# effort its bytes equal native Pillow's, at any other they differ (SSIM
# 0.978-0.995 between the two at 4), so only effort 3 goes to the canvas (and
# the other efforts to wasm libwebp, which runs any, see _webp).
BROWSER_WEBP_METHOD = 3

# The name of the error web/worker/codecs.js rejects with when a wasm codec cannot be loaded at all.
ENCODER_UNAVAILABLE = "EncoderUnavailable"


class Codecs(Protocol):
    """What a codec provider offers: coroutines, awaited by the engine (in the worker they await the browser's
    promises, so no stack switching is needed). `name` goes into meta ("browser")."""

    name: str

    async def decode_jpeg(self, data: bytes, width: int, height: int) -> Image.Image | None:
        """The JPEG's RGB pixels as stored (no EXIF orientation, no colour conversion), or None."""

    async def encode(self, pixels: bytes, width: int, height: int, layout: str, mime: str, quality: float) -> bytes | None:
        """Opaque pixels (`layout` "RGBX": the 4th byte is ignored) as `mime` at `quality` (0-1), or None."""

    async def transcode(self, data: bytes, width: int, height: int, mime: str, quality: float, colour: str) -> bytes | None:
        """A JPEG's pixels (no orientation applied) encoded as `mime`, or None.

        `colour` "untagged": the file has no profile; "none": its profile is not
        applied (pixels as stored); "srgb": it is, the pixels come out in sRGB."""

    async def decode_avif(self, data: bytes) -> tuple[Image.Image, int, int] | None:
        """(RGB or RGBA image as stored, EXIF orientation of its irot/imir, frame count), or None
        when the browser has no AVIF decoder; raises when the file cannot be decoded."""

    async def decode_heic(self, data: bytes) -> tuple[Image.Image, int, int] | None:
        """(RGB or RGBA image of the primary item, its irot/imir already applied as browsers and libheif
        show it, so orientation 1; image count, 1 when unknown), or None when there is no HEIC decoder;
        raises when the file cannot be decoded (`EncoderUnavailable` when no decoder could be loaded)."""

    async def encode_avif(self, pixels: bytes, width: int, height: int, quality: int, speed: int) -> bytes | None:
        """Straight-alpha RGBA pixels as AVIF (libavif quality and speed), or None."""

    async def encode_webp(self, pixels: bytes, width: int, height: int, quality: int, method: int) -> bytes | None:
        """Straight-alpha RGBA pixels as lossy WebP by libwebp set up as Pillow's (quality, method), or None."""





def as_pillow_writes(data: bytes, mime: str) -> bytes | None:
    """The browser's file without the sRGB profile it embeds: Pillow, stripping metadata, writes none."""
    if mime == "image/jpeg":
        return without_icc(data)
    found = chunks(data)
    vp8 = found.get(b"VP8 ") if found else None
    return riff([(b"VP8 ", vp8)]) if vp8 is not None else None
