"""BMP: read only."""

from __future__ import annotations

import struct

from .base import Format


def read_size(data: bytes) -> tuple[int, int] | None:
    header = struct.unpack_from("<L", data, 14)[0]
    if header == 12:  # OS/2 core header: 16-bit sizes
        return struct.unpack_from("<HH", data, 18)
    if header in (40, 52, 56, 64, 108, 124):
        w, h = struct.unpack_from("<LL", data, 18)
        return w, (2**32 - h if data[25] == 0xFF else h)  # a negative height means top-down
    return None


FORMAT = Format("bmp", "BMP", "BMP", "image/bmp", (".bmp", ".dib"), read_size, magic=(((0, b"BM"),),))
