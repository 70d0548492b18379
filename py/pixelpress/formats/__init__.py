"""The formats pixelpress reads and writes: one module each, listed here.

Each module declares its `FORMAT` record (base.Format): how its files are
recognised, how their size is read before any decoder allocates, how Pillow
opens and writes them, and what the browser may do with them. This is the
allowlist: a file none of them recognises is refused before Pillow's own
(much larger) plugin set sees it.

`facts()` is what the page needs of them (and of the caps), written into a
JS module at build so the studio and the client never restate it.
"""

from __future__ import annotations

from ..limits import DEFAULT_LIMITS
from . import avif, bmp, gif, heic, jpeg, png, tiff, webp
from .base import Format

# In the order the engine names them to people; sniffing tries them in this order too (AVIF before
# HEIC: an AVIF names the generic HEIF brand mif1 as well).
FORMATS: dict[str, Format] = {f.name: f for f in (
    jpeg.FORMAT, png.FORMAT, webp.FORMAT, avif.FORMAT, heic.FORMAT, gif.FORMAT, bmp.FORMAT, tiff.FORMAT)}

# Enough of the file for every magic-byte test: AVIF's and HEIC's brands follow in the `ftyp` box.
HEAD = 64


def sniff(data: bytes) -> Format | None:
    """The format of `data` by its magic bytes, or None."""
    head = bytes(data[:HEAD])
    return next((f for f in FORMATS.values() if f.sniff(head)), None)


def by_name(name: str) -> Format:
    """The format called `name` ("jpeg"); KeyError if there is none."""
    return FORMATS[name]


def by_mime(mime: str) -> Format | None:
    return next((f for f in FORMATS.values() if f.mime == mime), None)


def by_pillow(pillow: str) -> Format:
    """The format Pillow calls `pillow` ("JPEG")."""
    return next(f for f in FORMATS.values() if f.pillow == pillow)


def readable_labels() -> str:
    """"JPEG, PNG, ... and TIFF": what pixelpress reads, for messages."""
    names = [f.label for f in FORMATS.values() if f.readable]
    return ", ".join(names[:-1]) + " and " + names[-1]


def facts() -> dict:
    """What the page must know of the formats and caps, as plain JSON-able data.

    - `formats`: one entry per format, in `FORMATS` order (sniff in that order):
      `name`, `label`, `mime`, `extensions` (the first is the canonical one),
      `magic` (either `{"any": [[{"offset", "hex"}, ...], ...]}`: the file
      matches if, for one of the alternatives, it has every `hex` byte string at
      its `offset`; or `{"ftyp_brands": [...]}`: an ISO BMFF file whose `ftyp`
      box (at byte 4, size in bytes 0-3 big-endian, brands at 8 and from 16 on,
      4 bytes each, within the first 64 bytes) names one of these brands),
      `size_required` (an unreadable header size means a damaged file),
      `readable`, `writable`, `max_side` (longest output side; null: none or
      no output), `browser_decode` / `browser_encode` (the rule under which
      the browser's own codec may do the work; null: never).
    - `max_bytes`, `max_pixels`: the file-size and pixel caps of every decode.
    - `sniff_bytes`: how much of a file the magic tests read.
    """
    return {"formats": [f.facts() for f in FORMATS.values()], "max_bytes": DEFAULT_LIMITS.max_bytes,
            "max_pixels": DEFAULT_LIMITS.max_pixels, "sniff_bytes": HEAD}


__all__ = ["FORMATS", "HEAD", "Format", "by_mime", "by_name", "by_pillow", "facts", "readable_labels", "sniff"]
