"""What an AVIF file says about itself, read from its boxes (ISO BMFF, HEIF) without decoding.

AVIF is an AV1 frame inside a HEIF container. Two readers need its boxes
before (or instead of) a decoder:

- decode.check_header: the picture's size, so that a file claiming a huge
  picture in its `ispe` (image spatial extent) or track header is refused
  before any decoder allocates for it;
- the browser worker, whose Pillow has no AVIF: the browser decodes the
  pixels, and the EXIF item and ICC profile (what native Pillow's plugin
  hands over) are taken from the boxes here.

And one writer: the worker's wasm encoder takes pixels only, so a kept EXIF
block and ICC profile are added to its file here (`with_metadata`), laid
out as libavif lays them out natively.

Every read is bounds-checked; a box that runs past its parent or the file
ends the walk at that level, so damaged or hostile files give "nothing
found" rather than an exception.
"""

from __future__ import annotations

import io
import struct
import sys

from PIL import Image

from .. import pillow_plugins
from ..errors import UnsupportedFormat
from .base import Format, check_fits, metadata_kwargs
from .isobmff import (
    associations,
    boxes,
    child,
    ipma_entries,
    make_box,
    meta_box,
    metadata,
    primary_item,
    properties,
    wide_indices,
)

# Brands that promise an AV1 image (avif) or image sequence (avis); libavif requires one of them.
BRANDS = (b"avif", b"avis")


def is_avif(head: bytes) -> bool:
    """An `ftyp` box first, naming an AVIF brand as its major brand or among its compatible ones."""
    return FORMAT.sniff(head)


def header_size(data: bytes) -> tuple[int, int] | None:
    """The largest picture the file claims: every `ispe` (the primary image, a grid's
    canvas, its tiles, the alpha plane) and every track header of an image sequence.

    None when it claims none, which libavif refuses too (an AV1 item must have an `ispe`).
    """
    sizes = []
    meta = meta_box(data)
    if meta:
        for kind, s, e in properties(data, meta):
            if kind == b"ispe" and e - s >= 12:
                sizes.append(struct.unpack_from(">LL", data, s + 4))
    moov = child(data, 0, len(data), b"moov")
    for kind, s, e in boxes(data, *moov) if moov else ():
        tkhd = child(data, s, e, b"tkhd") if kind == b"trak" else None
        if tkhd:
            at = tkhd[0] + (88 if data[tkhd[0]] == 1 else 76)  # width, height: 16.16 fixed point
            if at + 8 <= tkhd[1]:
                w, h = struct.unpack_from(">LL", data, at)
                sizes.append((w >> 16, h >> 16))
    if not sizes:
        return None
    return max(w for w, _ in sizes), max(h for _, h in sizes)


_ALPHA = b"urn:mpeg:mpegB:cicp:systems:auxiliary:alpha"


def has_alpha(data: bytes) -> bool:
    """Whether an alpha plane comes with the picture: an auxiliary item (or track) of the alpha type.

    What libavif (and so native Pillow, which then opens it as RGBA) goes by.
    """
    return any(_ALPHA in data[s:e] for kind, s, e in boxes(data, 0, len(data)) if kind in (b"meta", b"moov"))


def orientation(data: bytes) -> int:
    """The EXIF orientation of the primary image's `irot` (anticlockwise quarter turns) and `imir` boxes,
    as libavif and Pillow's plugin map them; 1 when it has neither or they cannot be read.

    For a decoder that hands over the stored frame without saying how it is turned (libavif in wasm).
    """
    meta = meta_box(data)
    if meta is None:
        return 1
    try:
        props = properties(data, meta)
        iprp = child(data, *meta, b"iprp")
        ipma = child(data, *iprp, b"ipma") if iprp else None
        primary = primary_item(data, meta)
        wanted = associations(data, ipma, primary) if ipma and primary is not None else set()
        angle = axis = None
        for index, (kind, s, _e) in enumerate(props, 1):
            if index in wanted and kind == b"irot":
                angle = data[s] & 3
            elif index in wanted and kind == b"imir":
                axis = data[s] & 1
    except (struct.error, IndexError):
        return 1
    # (quarter turns, mirror axis) -> orientation, as Pillow's _avif.c reads them.
    if angle == 1:
        return 8 if axis is None else (7 if axis else 5)
    if angle == 2:
        return 3 if axis is None else (4 if axis else 2)
    if angle == 3:
        return 6 if axis is None else (5 if axis else 7)
    return 1 if axis is None else (2 if axis else 4)


def frames(data: bytes) -> int:
    """How many pictures an AVIF holds: its image sequence's sample count (`stsz`), or 1."""
    moov = child(data, 0, len(data), b"moov")
    try:
        for kind, s, e in boxes(data, *moov) if moov else ():
            box = (s, e) if kind == b"trak" else None
            for inner in (b"mdia", b"minf", b"stbl", b"stsz"):
                box = child(data, *box, inner) if box else None
            if box and box[1] - box[0] >= 12:
                return max(1, struct.unpack_from(">L", data, box[0] + 8)[0])
    except (struct.error, IndexError):
        pass
    return 1


# ------------------------------------------------------------------ writing metadata

def with_metadata(data: bytes, exif: bytes | None, icc: bytes | None) -> bytes | None:
    """`data`, an AVIF laid out as libavif writes one (ftyp, meta, mdat), with an EXIF item and an ICC
    profile (`colr` of type prof) added for its primary image, as native Pillow's plugin stores them.

    For the worker, whose wasm encoder takes pixels only. None when the file is laid out otherwise
    (the caller then says the metadata was dropped); the result is read back before it is returned.
    """
    try:
        out = _with_metadata(data, exif, icc)
    except (struct.error, IndexError, ValueError):
        return None
    if out is None or header_size(out) != header_size(data):
        return None
    return out if metadata(out) == (exif[_tiff_offset(exif):] if exif else None, icc or None) else None


def carries(data: bytes, exif: bool, icc: bytes | None) -> bool:
    """Whether the AVIF's primary image has an EXIF item (if `exif`) and this ICC profile (if given)."""
    got_exif, got_icc = metadata(data)
    return (not exif or got_exif is not None) and (icc is None or got_icc == icc)


def _tiff_offset(exif: bytes) -> int:
    """Where the TIFF header starts (after "Exif\\0\\0", as Pillow hands EXIF over): what libavif stores first."""
    found = [i for i in (exif.find(b"II*\0"), exif.find(b"MM\0*")) if 0 <= i <= 6]
    if not found:
        raise ValueError("no TIFF header at the start of the EXIF block")
    return min(found)


def _with_metadata(data: bytes, exif: bytes | None, icc: bytes | None) -> bytes | None:
    top = list(boxes(data, 0, len(data)))
    if [k for k, _, _ in top] != [b"ftyp", b"meta", b"mdat"] or not _plain_headers(data, top):
        return None
    (_, _, ftyp_end), (_, meta_start, meta_end), (_, mdat_start, mdat_end) = top
    meta = (meta_start + 4, meta_end)
    children = list(boxes(data, *meta))
    primary = primary_item(data, meta)
    if not _plain_headers(data, children) or primary is None or primary > 0xFFFF:
        return None
    parts = {k: bytes(data[s:e]) for k, s, e in children}
    order = [k for k, _, _ in children]
    if len(parts) != len(order) or not {b"iloc", b"iinf", b"iprp"} <= parts.keys():
        return None

    exif_id = None
    if exif:
        iinf = parts[b"iinf"]
        if iinf[0] != 0:
            return None
        entries = list(boxes(iinf, 6, len(iinf)))
        ids = [int.from_bytes(iinf[s + 4:s + 6], "big") for k, s, _ in entries if k == b"infe" and iinf[s] == 2]
        if len(ids) != len(entries) or not ids or max(ids) >= 0xFFFF:
            return None
        exif_id = max(ids) + 1
        infe = make_box(b"infe", bytes([2, 0, 0, 0]) + struct.pack(">HH4s", exif_id, 0, b"Exif") + b"\0")
        parts[b"iinf"] = iinf[:4] + struct.pack(">H", len(entries) + 1) + iinf[6:] + infe
        cdsc = make_box(b"cdsc", struct.pack(">HHH", exif_id, 1, primary))  # the EXIF describes the primary image
        iref = parts.get(b"iref")
        if iref is not None and iref[0] != 0:
            return None
        parts[b"iref"] = (iref or b"\0\0\0\0") + cdsc
        if b"iref" not in order:
            order.insert(order.index(b"iinf") + 1, b"iref")
    if icc:
        iprp = parts[b"iprp"]
        inner = list(boxes(iprp, 0, len(iprp)))
        if [k for k, _, _ in inner] != [b"ipco", b"ipma"] or not _plain_headers(iprp, inner):
            return None
        (_, cs, ce), (_, ms, me) = inner
        ipco = iprp[cs:ce] + make_box(b"colr", b"prof" + icc)
        ipma = _add_association(iprp[ms:me], primary, len(list(boxes(iprp, cs, ce))) + 1)
        if ipma is None:
            return None
        parts[b"iprp"] = make_box(b"ipco", ipco) + make_box(b"ipma", ipma)

    payload = struct.pack(">L", _tiff_offset(exif)) + exif if exif else b""
    old_meta = meta_end - (meta_start - 8)

    def rebuilt(shift: int) -> bytes | None:
        iloc = _shifted_iloc(parts[b"iloc"], shift, (mdat_start, mdat_end), exif_id,
                             mdat_end + shift, len(payload))
        if iloc is None:
            return None
        body = b"".join(make_box(k, iloc if k == b"iloc" else parts[k]) for k in order)
        return make_box(b"meta", bytes(data[meta_start:meta_start + 4]) + body)

    draft = rebuilt(0)  # the iloc's size does not depend on the offsets it holds
    if draft is None:
        return None
    new_meta = rebuilt(len(draft) - old_meta)
    mdat = bytes(data[mdat_start:mdat_end]) + payload
    if new_meta is None or 8 + len(mdat) > 0xFFFFFFFF:
        return None
    return bytes(data[:ftyp_end]) + new_meta + make_box(b"mdat", mdat)


def _plain_headers(data: bytes, found: list[tuple[bytes, int, int]]) -> bool:
    """Each box has an 8-byte header (a 32-bit size), the only layout rewritten here."""
    return all(int.from_bytes(data[s - 8:s - 4], "big") == e - (s - 8) for _, s, e in found)


def _add_association(ipma: bytes, item: int, index: int) -> bytes | None:
    """`ipma`'s payload with property `index` (not essential) added to `item`'s list."""
    whole = (0, len(ipma))
    wide_id, wide_index = ipma[0] >= 1, wide_indices(ipma, whole)
    if index > (0x7FFF if wide_index else 0x7F):
        return None
    size = 2 if wide_index else 1
    out, found = bytearray(ipma[:8]), False
    for item_id, n, values in ipma_entries(ipma, whole):
        if item_id == item:
            if n == 255:
                return None
            found, n, values = True, n + 1, values + index.to_bytes(size, "big")
        out += item_id.to_bytes(4 if wide_id else 2, "big") + bytes([n]) + values
    # Every entry rewritten, and nothing after them: the payload grew by the one association only.
    return bytes(out) if found and len(out) == len(ipma) + size else None


def _shifted_iloc(iloc: bytes, shift: int, mdat: tuple[int, int], new_item: int | None, new_offset: int,
                  new_length: int) -> bytes | None:
    """`iloc`'s payload (version 0, 4-byte offsets and lengths, no base offset, as libavif writes it) with every
    extent moved by `shift` and, when `new_item` is set, its one extent at `new_offset` added."""
    if iloc[0] != 0 or iloc[4] != 0x44 or iloc[5] >> 4 != 0:
        return None
    count = struct.unpack_from(">H", iloc, 6)[0]
    out, i = bytearray(iloc[:6]) + struct.pack(">H", count + (new_item is not None)), 8
    for _ in range(count):
        item_id, reference, extents = struct.unpack_from(">HHH", iloc, i)
        i += 6
        out += struct.pack(">HHH", item_id, reference, extents)
        for _ in range(extents):
            offset, length = struct.unpack_from(">LL", iloc, i)
            i += 8
            if reference != 0 or not mdat[0] <= offset <= offset + length <= mdat[1]:
                return None  # only extents inside this file's mdat are moved with it
            out += struct.pack(">LL", offset + shift, length)
    if i != len(iloc):
        return None
    if new_item is not None:
        out += struct.pack(">HHHLL", new_item, 0, 1, new_offset, new_length)
    return bytes(out)


# The encoder's set-up, the same natively (Pillow's plugin) and in the worker (libavif in wasm): see
# browser.py.
AVIF_SPEED = 9
AVIF_SUBSAMPLING = "4:2:0"


def avif_quality(quality: int) -> int:
    """libavif's quality for a quality on JPEG's scale: twice as far from lossless (85 -> 70, 80 -> 60).

    One quality slider for every format must mean about the same picture:
    AVIF 70 had JPEG 85's SSIM (within 0.01) and AVIF 60 WebP 80's on the
    sample photos. At libavif's own 85 an AVIF came out larger than the JPEG
    at 85, where a user picks AVIF for smaller files.
    """
    return max(1, 100 - 2 * (100 - quality))


def no_avif(reading: bool) -> str:
    """Why AVIF cannot be read or written here, in words that say what to do instead."""
    if sys.platform == "emscripten":
        if reading:
            return ("This browser could not load an AVIF decoder (its own or pixelpress's). Try again once "
                    "online, or convert the file to JPEG, PNG or WebP first.")
        return ("This browser could not load the AVIF encoder. Try again once online, or choose WebP, JPEG "
                "or PNG instead.")
    return (f"AVIF cannot be {'read' if reading else 'written'} here: this Pillow was built without AVIF "
            "(pip install 'pillow>=11.3' brings a build with it).")


def save(im: Image.Image, *, quality: int, speed: int = AVIF_SPEED,
         exif: bytes | None = None, icc_profile: bytes | None = None) -> bytes:
    """AVIF through Pillow's plugin (libavif with libaom), set up as the worker's encoder is (see browser.py)."""
    check_fits("avif", *im.size)
    if not pillow_plugins.AVIF:
        raise UnsupportedFormat(no_avif(reading=False))
    if im.mode not in ("RGB", "RGBA"):
        im = im.convert("RGBA" if im.mode in ("RGBA", "LA") else "RGB")
    buf = io.BytesIO()
    im.save(buf, "AVIF", quality=quality, speed=speed, subsampling=AVIF_SUBSAMPLING, range="full",
            autotiling=False, **metadata_kwargs(exif, icc_profile))
    return buf.getvalue()


# libavif's readers (browsers, Pillow) refuse a side over 32,768 by default, though AV1 allows 65,536:
# a longer AVIF would be written and could not be opened. An unreadable header is refused (libavif
# requires an `ispe`).
FORMAT = Format(
    "avif", "AVIF", "AVIF", "image/avif", (".avif", ".avifs"), header_size,
    brands=BRANDS, size_required=True, writable=True, max_side=32768, save=save,
    available=lambda: pillow_plugins.AVIF,
    # browser.py: where Pillow has no AVIF (the worker), the provider decodes and encodes every AVIF.
    browser_decode="avif-provider", browser_encode="avif-provider")
