"""GIF: read only (the first frame of an animation)."""

from __future__ import annotations

import re
import struct

from .base import Format

_BLOCK = re.compile(rb"[\x21\x2c\x3b]")


def read_size(data: bytes) -> tuple[int, int] | None:
    """The logical screen, grown to the first frame's extent as Pillow grows it.

    None when there is no frame: Pillow's opener then fails ("image not found").
    """
    w, h, flags = struct.unpack_from("<HHB", data, 6)
    i, n = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0), len(data)
    while i < n:
        block = data[i]
        if block == 0x21:  # extension: a label, then sub-blocks up to an empty one
            i += 2
            while i < n and data[i]:
                i += data[i] + 1
            i += 1
        elif block == 0x2C:  # the first image descriptor
            x, y, fw, fh = struct.unpack_from("<4H", data, i + 1)
            return max(w, x + fw), max(h, y + fh)
        elif block == 0x3B:  # trailer
            return None
        else:  # Pillow skips stray bytes one at a time
            found = _BLOCK.search(data, i + 1)
            if found is None:
                return None
            i = found.start()
    return None


FORMAT = Format("gif", "GIF", "GIF", "image/gif", (".gif",), read_size,
                magic=(((0, b"GIF87a"),), ((0, b"GIF89a"),)))
