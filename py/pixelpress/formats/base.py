"""What a format is to pixelpress: one record per format, declared by its own module.

Pillow's plugins are the model (`src/PIL/*ImagePlugin.py`): each module of
this package declares how to recognise its files, how to read their size
from the header before any decoder allocates, how Pillow opens and writes
them, and what the browser may do with them. The registry
(`formats/__init__.py`) lists the records; decode.py, encode.py and
browser.py ask the record instead of naming formats.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Callable
from dataclasses import dataclass, field

from PIL import Image

from ..errors import TooLarge
from .isobmff import ftyp_brands

# (offset, bytes): the file has these bytes at that offset.
Pattern = tuple[int, bytes]


def open_header(data: bytes, pillow: str) -> Image.Image:
    """Image.open (header only) with Pillow's own bomb check off.

    Our cap, checked right after, is stricter and its message names the size;
    Pillow's would fire first on huge claims and only say "too many pixels".
    Nothing decodes pixels in between, so the check is never skipped.
    """
    saved = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None
    try:
        return Image.open(io.BytesIO(data), formats=[pillow])
    finally:
        Image.MAX_IMAGE_PIXELS = saved


def _same(data: bytes) -> bytes:
    return data


@dataclass(frozen=True)
class Format:
    """One image format as the engine knows it.

    - `name`: the engine's name ("jpeg"): the output format option's value where `writable`, and
      meta's `input_format`; `pillow`: the name its Pillow opener is registered under ("JPEG",
      pi-heif's "HEIF"); `label`: for people ("WebP").
    - `mime`, `extensions` (the first is the canonical one).
    - Recognised by `magic`, alternatives each of (offset, bytes) patterns that must all hold, or
      by `brands`, one of which its ISO BMFF `ftyp` box names (AVIF, HEIC).
    - `read_size(data)`: (width, height) as the header claims it, read without a decoder; None when
      the reader cannot tell. `size_required`: then the file is refused as damaged (its decoder would
      not read it either), rather than left to Pillow's opener.
    - `readable`, `writable`; `max_side`: the longest side an output may have (None: no output or
      no limit near the pixel cap).
    - Pillow's hooks: `prepare(data)` gives the bytes Pillow reads (a TIFF is rewritten for a libtiff
      without Deflate), `open(data)` opens them without decoding pixels.
    - Browser rules (browser.py and the worker): `browser_decode`, `browser_encode` name the rule
      under which the browser's own codec may do Pillow's work, None where it never does.
    - `available()`: whether Pillow here decodes it; where not, the worker's provider does (browser.py),
      and natively it is `missing_dependency` when `missing` names (the library, the command adding it).
    - `save(im, ...)`: Pillow's writer as the engine sets it up, for a writable format.
    """

    name: str
    pillow: str
    label: str
    mime: str
    extensions: tuple[str, ...]
    read_size: Callable[[bytes], tuple[int, int] | None]
    magic: tuple[tuple[Pattern, ...], ...] = ()
    brands: tuple[bytes, ...] = ()
    size_required: bool = False
    readable: bool = True
    writable: bool = False
    max_side: int | None = None
    prepare: Callable[[bytes], bytes] = _same
    open: Callable[[bytes], Image.Image] | None = None
    browser_decode: str | None = None
    browser_encode: str | None = None
    save: Callable[..., bytes] | None = None
    available: Callable[[], bool] = field(default=lambda: True)
    missing: tuple[str, str] | None = None

    def __post_init__(self):
        if self.writable:  # as Pillow's register_save: a writer is known once its module is imported
            WRITERS[self.name] = self

    def sniff(self, head: bytes) -> bool:
        """Whether `head` (the file's first bytes) is this format by its magic bytes."""
        if self.brands:
            return any(b in self.brands for b in ftyp_brands(head))
        return any(all(head[at:at + len(want)] == want for at, want in alt) for alt in self.magic)

    def size(self, data: bytes) -> tuple[int, int] | None:
        """`read_size`, where a header cut short or garbled counts as "cannot tell"."""
        try:
            return self.read_size(data)
        except (struct.error, IndexError):
            return None

    def open_image(self, data: bytes) -> Image.Image:
        """The file opened by Pillow, pixels not yet decoded."""
        return self.open(data) if self.open is not None else open_header(data, self.pillow)

    def facts(self) -> dict:
        """This record as plain data for the page (formats.facts)."""
        magic = ({"ftyp_brands": [b.decode("ascii") for b in self.brands]} if self.brands else
                 {"any": [[{"offset": at, "hex": want.hex()} for at, want in alt] for alt in self.magic]})
        return {"name": self.name, "label": self.label, "mime": self.mime, "extensions": list(self.extensions),
                "magic": magic, "size_required": self.size_required, "readable": self.readable,
                "writable": self.writable, "max_side": self.max_side,
                "browser_decode": self.browser_decode, "browser_encode": self.browser_encode}


# Every writable format by name, filled as their modules are imported (the registry imports them all).
WRITERS: dict[str, Format] = {}


def check_fits(name: str, width: int, height: int) -> None:
    """Raise `too_large` when a `width` x `height` image cannot be stored as format `name`.

    Past its longest side (`max_side`) a library fails mid-encode with messages
    such as "encoding error 5" or "broken data stream", so the size is checked
    up front, naming the formats that would hold it, roomiest first.
    """
    fmt = WRITERS[name]
    limit = fmt.max_side
    if width <= limit and height <= limit:
        return
    fits = [f.label for f in sorted(WRITERS.values(), key=lambda f: -f.max_side)
            if f is not fmt and max(width, height) <= f.max_side]
    raise TooLarge(
        f"The result is {width}x{height} pixels, but a {fmt.label} image can be at most {limit:,} pixels "
        f"wide or tall. Save it as {' or '.join(fits)} instead, or make it smaller.")


def metadata_kwargs(exif: bytes | None, icc_profile: bytes | None) -> dict:
    """The metadata arguments of a Pillow writer. Both keys always present: an absent key lets the
    writer take `im.info`'s, which would leak metadata the user asked to strip."""
    return {"exif": exif or b"", "icc_profile": icc_profile or None}


def u16be(b: bytes, i: int) -> int:
    return b[i] << 8 | b[i + 1]
