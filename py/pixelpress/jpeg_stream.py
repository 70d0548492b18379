"""A JPEG's marker structure: whether libjpeg would accept it (checked before a browser's decoder is
believed), and the file without its EXIF.

A browser's JPEG decoder may conceal an error that libjpeg-turbo stops at:
Firefox's shows the rows it decoded before a bad Huffman table and fills
the rest with grey, and reports success. Natively the same file is
`corrupt_image`. Every such error libjpeg raises (as opposed to the
warnings it passes over inside entropy-coded data) comes from the marker
reader (jdmarker.c) or from building a Huffman table (jdhuff.c): a bogus
marker length or table, a table or component used before it is defined, a
marker it does not know between scans, a frame type it does not decode.
This module walks every marker of the file, between scans too, and
applies those checks, in one regex search per scan. A file that passes is
one libjpeg decodes to the end (perhaps with warnings); one that fails is
left to Pillow, whose verdict the user then gets in every browser.
"""

from __future__ import annotations

import re
import struct

# The frame types a browser may decode for the engine: baseline, extended and progressive Huffman.
# Lossless (SOF3), arithmetic and hierarchical files stay with Pillow.
BROWSER_FRAMES = (0xC0, 0xC1, 0xC2)
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_SKIPPED = {0xDC, 0xFE, *range(0xE0, 0xF0)}  # DNL, COM, APPn: read past by length
_SCAN_END = re.compile(rb"\xff(?=[^\x00\xd0-\xd7\xff])")  # a marker, not a stuffed byte, restart or fill


class _Bad(Exception):
    pass


def browser_may_decode(data: bytes) -> bool:
    """A baseline or progressive Huffman JPEG whose markers libjpeg accepts, complete up to its EOI."""
    try:
        return _walk(data) in BROWSER_FRAMES
    except (_Bad, struct.error, IndexError, ValueError):
        return False


def _walk(data: bytes) -> int:
    """The frame type of a well-formed file; raises _Bad where libjpeg would stop."""
    if data[:2] != b"\xff\xd8":
        raise _Bad
    frame, components, quant, huff, scans, i, n = None, {}, set(), set(), 0, 2, len(data)
    while True:
        # libjpeg skips garbage before a marker with a warning, and any number of fill bytes.
        i = data.index(b"\xff", i)
        while data[i] == 0xFF:
            i += 1
        marker = data[i]
        i += 1
        if marker == 0xD9:  # EOI
            if not scans:
                raise _Bad
            return frame
        if marker in (0x01, *range(0xD0, 0xD8)):  # TEM and stray restarts: no length, ignored
            continue
        if marker == 0xD8:
            raise _Bad  # a second SOI
        length = struct.unpack_from(">H", data, i)[0]
        body, end = data[i + 2:i + length], i + length
        if length < 2 or end > n:
            raise _Bad  # bogus marker length, or a file cut short
        if marker in _SOF:
            if frame is not None:
                raise _Bad
            frame, components = marker, _frame(body)
        elif marker == 0xC4:
            huff |= _huffman_tables(body)
        elif marker == 0xDB:
            quant |= _quant_tables(body)
        elif marker == 0xDD:
            if length != 4:
                raise _Bad
        elif marker == 0xCC:  # DAC: arithmetic conditioning, fixed-size entries
            if (length - 2) % 2:
                raise _Bad
        elif marker == 0xDA:
            if frame is None:
                raise _Bad
            _scan(body, frame, components, quant, huff)
            scans += 1
            found = _SCAN_END.search(data, end)
            if found is None:
                raise _Bad  # no EOI after the scan: cut short
            i = found.start()
            continue
        elif marker not in _SKIPPED:
            raise _Bad  # an unknown marker: libjpeg's JERR_UNKNOWN_MARKER
        i = end


def _frame(body: bytes) -> dict[int, int]:
    """Component id -> quantisation table of a frame header."""
    precision, h, w, count = struct.unpack_from(">BHHB", body)
    if precision != 8 or not w or not h or not 1 <= count <= 4 or len(body) != 6 + 3 * count:
        raise _Bad
    out = {}
    for k in range(count):
        cid, sampling, table = body[6 + 3 * k:9 + 3 * k]
        if not (1 <= sampling >> 4 <= 4 and 1 <= sampling & 15 <= 4) or table > 3 or cid in out:
            raise _Bad
        out[cid] = table
    return out


def _quant_tables(body: bytes) -> set[int]:
    got, j = set(), 0
    while j < len(body):
        precision, table = body[j] >> 4, body[j] & 15
        if precision > 1 or table > 3:
            raise _Bad
        j += 1 + 64 * (precision + 1)
        got.add(table)
    if j != len(body):
        raise _Bad
    return got


def _huffman_tables(body: bytes) -> set[tuple[int, int]]:
    """(class, id) of each table, checked as jdhuff.c builds it: counts that fit, a code space not overrun."""
    got, j = set(), 0
    while j < len(body):
        kind, table = body[j] >> 4, body[j] & 15
        counts = body[j + 1:j + 17]
        total = sum(counts)
        if kind > 1 or table > 3 or len(counts) != 16 or total > 256 or j + 17 + total > len(body):
            raise _Bad
        code = 0
        for bits, count in enumerate(counts, 1):
            code += count
            if code > 1 << bits:
                raise _Bad
            code <<= 1
        if kind == 0 and any(s > 15 for s in body[j + 17:j + 17 + total]):
            raise _Bad  # a DC table's symbols are bit counts up to 15
        got.add((kind, table))
        j += 17 + total
    return got


def _scan(body: bytes, frame: int, components: dict[int, int], quant: set[int], huff: set) -> None:
    count = body[0]
    if not 1 <= count <= 4 or len(body) != 4 + 2 * count:
        raise _Bad
    ss, se, approx = body[1 + 2 * count:4 + 2 * count]
    for k in range(count):
        cid, tables = body[1 + 2 * k:3 + 2 * k]
        if cid not in components or components[cid] not in quant:
            raise _Bad
        dc, ac = tables >> 4, tables & 15
        if frame != 0xC2:
            needed = [(0, dc), (1, ac)]
        elif ss == 0:  # a progressive DC scan: its first pass decodes with the DC table, refinements with none
            needed = [(0, dc)] if approx >> 4 == 0 else []
        else:  # a progressive AC scan
            needed = [(1, ac)]
        if any(t not in huff for t in needed):
            raise _Bad  # libjpeg: "Huffman table 0x.. was not defined"
    if frame == 0xC2:
        if ss > se or se > 63 or (ss == 0 and se != 0) or (ss > 0 and count != 1) or approx >> 4 > 13 \
                or approx & 15 > 13:
            raise _Bad
    elif ss != 0 or se != 63 or approx != 0:
        raise _Bad


def without_exif(data: bytes) -> bytes | None:
    """The JPEG with its EXIF (APP1 "Exif") and MPF (APP2) segments cut out, or None if it has none.

    Both hold a TIFF directory full of offsets, which is what goes wrong in
    damaged files; everything Pillow needs for the pixels stays.
    """
    return _without(data, _exif_or_mpf)


def pixels_only(data: bytes) -> bytes:
    """The JPEG without EXIF, MPF and ICC profile: for a browser's decoder, which might turn the picture by
    its orientation or convert its colours by its profile (WebKit does, asked not to); both are the
    engine's to apply."""
    return _without(data, lambda marker, head: _exif_or_mpf(marker, head)
                    or (marker == 0xE2 and head == b"ICC_PROFILE\0")) or data


def _exif_or_mpf(marker: int, head: bytes) -> bool:
    return (marker == 0xE1 and head[:6] == b"Exif\0\0") or (marker == 0xE2 and head[:4] == b"MPF\0")


def _without(data: bytes, cut_segment) -> bytes | None:
    """The JPEG without the segments before its first scan that `cut_segment(marker, first 12 bytes)` names,
    or None when it names none."""
    out, i, cut = bytearray(data[:2]), 2, False
    while i + 4 <= len(data) and data[i] == 0xFF:
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0xDA, 0xD9):  # start of scan / end: no more metadata
            break
        end = i + 2 + int.from_bytes(data[i + 2:i + 4], "big")
        if cut_segment(marker, data[i + 4:i + 16]):
            cut = True
        else:
            out += data[i:end]
        i = end
    return bytes(out) + data[i:] if cut else None
