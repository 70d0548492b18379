"""WebP: lossy and lossless, read and written by Pillow; lossy WebP also by the browser (browser.py)."""

from __future__ import annotations

import io
import struct

from PIL import Image

from .base import Format, check_fits, metadata_kwargs


def read_size(data: bytes) -> tuple[int, int] | None:
    """From the first chunk, which libwebp's demuxer requires to be VP8X, VP8 or VP8L."""
    kind = data[12:16]
    if kind == b"VP8X" and len(data) >= 30:  # the canvas: 24-bit sizes minus one
        return (int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1)
    if kind == b"VP8 " and len(data) >= 30 and data[23:26] == b"\x9d\x01\x2a":  # key frame start code
        w, h = struct.unpack_from("<HH", data, 26)
        return w & 0x3FFF, h & 0x3FFF
    if kind == b"VP8L" and len(data) >= 25 and data[20] == 0x2F:
        bits = struct.unpack_from("<L", data, 21)[0]
        return (bits & 0x3FFF) + 1, (bits >> 14 & 0x3FFF) + 1
    return None


def chunks(data: bytes | None) -> dict[bytes, bytes] | None:
    """A WebP's chunks by FourCC (the first of each), or None if it is not a WebP."""
    if not data or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return None
    out, i = {}, 12
    while i + 8 <= len(data):
        kind, size = data[i:i + 4], struct.unpack_from("<L", data, i + 4)[0]
        out.setdefault(kind, data[i + 8:i + 8 + size])
        i += 8 + size + (size & 1)
    return out


def riff(parts: list[tuple[bytes, bytes]]) -> bytes:
    """A WebP file of these chunks."""
    body = b"".join(kind + struct.pack("<L", len(c)) + c + (b"\0" if len(c) & 1 else b"") for kind, c in parts)
    return b"RIFF" + struct.pack("<L", 4 + len(body)) + b"WEBP" + body


def save(im: Image.Image, *, quality: int, lossless: bool = False, method: int = 4,
         exif: bytes | None = None, icc_profile: bytes | None = None) -> bytes:
    check_fits("webp", *im.size)
    if im.mode not in ("RGB", "RGBA"):
        im = im.convert("RGBA" if im.mode in ("RGBA", "LA") else "RGB")
    buf = io.BytesIO()
    im.save(buf, "WEBP", quality=quality, lossless=lossless, method=method,
            **metadata_kwargs(exif, icc_profile))
    return buf.getvalue()


# libwebp's WEBP_MAX_DIMENSION. An unreadable header is refused: the opener allocates the whole
# canvas from it, and libwebp would not read the file either.
FORMAT = Format(
    "webp", "WEBP", "WebP", "image/webp", (".webp",), read_size,
    magic=(((0, b"RIFF"), (8, b"WEBP")),), size_required=True, writable=True, max_side=16383, save=save,
    # browser.py: lossy, no metadata: the canvas (opaque, effort 3) or libwebp in wasm.
    browser_encode="webp-lossy")
