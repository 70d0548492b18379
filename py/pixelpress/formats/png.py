"""PNG: lossless, with transparency; Pillow reads and writes it everywhere."""

from __future__ import annotations

import io
import struct

from PIL import Image

from .base import Format, check_fits, metadata_kwargs


def read_size(data: bytes) -> tuple[int, int] | None:
    """IHDR's size. Pillow reads chunks up to the first IDAT and keeps the last IHDR, so take the largest."""
    size, i, n = None, 8, len(data)
    while i + 8 <= n:
        length, kind = struct.unpack_from(">L4s", data, i)
        if kind == b"IHDR" and i + 16 <= n:
            w, h = struct.unpack_from(">LL", data, i + 8)
            size = (max(w, size[0]), max(h, size[1])) if size else (w, h)
        elif kind in (b"IDAT", b"fdAT"):
            break
        i += 12 + length
    return size


def grey_depth(data: bytes) -> int | None:
    """Bit depth of a greyscale PNG (colour type 0) from its IHDR, else None.

    Its tRNS value is a sample at that depth, while Pillow hands 1-, 2- and
    4-bit pixels out scaled to 0-255 and 16-bit ones as I;16.
    """
    if data[12:16] == b"IHDR" and len(data) > 25 and data[25] == 0:
        return data[24]
    return None


# zlib's own default: what Convert writes unless asked otherwise (its compress_level option), and every op's
# PNG but the cut-outs below.
DEFAULT_LEVEL = 6

# The listing pipeline's cut-outs (car listing, its variants, remove background): large RGBA pictures, a
# quarter to a third of them transparent, written for a listing site rather than kept. On the car listing's
# outputs of real 12 MP photos level 5 took 0.5-0.8x level 6's time, natively (Pillow's zlib-ng) and in the
# worker (Pyodide's Pillow) alike, for files at most 6 % larger. Level 4 was faster still but wrote some files
# 11 % larger, levels 1-3 18-40 %; no zlib strategy and no npm PNG encoder in the worker was faster within
# 10 % of level 6's size without a cross-origin-isolated page (bench/png_writers.py, docs/benchmarks.md).
CUTOUT_LEVEL = 5


def save(im: Image.Image, *, compress_level: int = DEFAULT_LEVEL,
         exif: bytes | None = None, icc_profile: bytes | None = None) -> bytes:
    check_fits("png", *im.size)
    buf = io.BytesIO()
    im.save(buf, "PNG", compress_level=compress_level, **metadata_kwargs(exif, icc_profile))
    return buf.getvalue()


# PNG's own limit (2^31 - 1) is far beyond the pixel cap.
FORMAT = Format("png", "PNG", "PNG", "image/png", (".png", ".apng"), read_size,
                magic=(((0, b"\x89PNG\r\n\x1a\n"),),), writable=True, max_side=2**31 - 1, save=save)
