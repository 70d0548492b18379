"""ISO BMFF (HEIF) boxes, as AVIF and HEIC files hold them: a bounds-checked reader, and one writer.

Every read is bounds-checked; a box that runs past its parent or the file
ends the walk at that level, so damaged or hostile files give "nothing
found" rather than an exception.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

MAX_BOXES = 10_000  # per level: a real file has a handful


def ftyp_brands(head: bytes) -> list[bytes]:
    """The major and compatible brands of the `ftyp` box a file starts with; [] if it has none."""
    if head[4:8] != b"ftyp" or len(head) < 16:
        return []
    end = min(len(head), int.from_bytes(head[:4], "big"))
    return [head[8:12]] + [head[i:i + 4] for i in range(16, end - 3, 4)]


def boxes(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, payload end) of each box in data[start:end]."""
    i, n = start, 0
    while i + 8 <= end and n < MAX_BOXES:
        size, kind = struct.unpack_from(">L4s", data, i)
        head = 8
        if size == 1:
            if i + 16 > end:
                return
            size, head = struct.unpack_from(">Q", data, i + 8)[0], 16
        elif size == 0:
            size = end - i
        if size < head or i + size > end:
            return
        yield kind, i + head, i + size
        i += size
        n += 1


def child(data: bytes, start: int, end: int, kind: bytes) -> tuple[int, int] | None:
    return next(((s, e) for k, s, e in boxes(data, start, end) if k == kind), None)


def meta_box(data: bytes) -> tuple[int, int] | None:
    """The payload of the top-level `meta` box, after its version and flags."""
    found = child(data, 0, len(data), b"meta")
    return (found[0] + 4, found[1]) if found and found[1] - found[0] >= 4 else None


def properties(data: bytes, meta: tuple[int, int]) -> list[tuple[bytes, int, int]]:
    iprp = child(data, *meta, b"iprp")
    ipco = child(data, *iprp, b"ipco") if iprp else None
    return list(boxes(data, *ipco)) if ipco else []


def primary_item(data: bytes, meta: tuple[int, int]) -> int | None:
    pitm = child(data, *meta, b"pitm")
    if pitm is None:
        return None
    return struct.unpack_from(">H" if data[pitm[0]] == 0 else ">L", data, pitm[0] + 4)[0]


def ipma_entries(data: bytes, ipma: tuple[int, int]) -> Iterator[tuple[int, int, bytes]]:
    """Each entry of an `ipma` payload: (item id, association count, the associations' bytes).
    Raises IndexError where an entry runs past the box."""
    start, end = ipma
    version, flags = data[start], int.from_bytes(data[start + 1:start + 4], "big")
    id_size, size = (2 if version < 1 else 4), (2 if flags & 1 else 1)
    count = struct.unpack_from(">L", data, start + 4)[0]
    i = start + 8
    for _ in range(min(count, MAX_BOXES)):
        if i >= end:
            return
        if i + id_size + 1 > end:
            raise IndexError("ipma entry runs past its box")
        item_id, n = int.from_bytes(data[i:i + id_size], "big"), data[i + id_size]
        i += id_size + 1 + n * size
        if i > end:
            raise IndexError("ipma entry runs past its box")
        yield item_id, n, bytes(data[i - n * size:i])


def wide_indices(data: bytes, ipma: tuple[int, int]) -> bool:
    return bool(data[ipma[0] + 3] & 1)


def associations(data: bytes, ipma: tuple[int, int], item: int) -> set[int]:
    """The 1-based `ipco` indices of `item`'s properties."""
    wide = wide_indices(data, ipma)
    for item_id, n, values in ipma_entries(data, ipma):
        if item_id == item:
            if wide:
                return {struct.unpack_from(">H", values, 2 * k)[0] & 0x7FFF for k in range(n)}
            return {v & 0x7F for v in values}
    return set()


def item_of_type(data: bytes, meta: tuple[int, int], kind: bytes) -> int | None:
    iinf = child(data, *meta, b"iinf")
    if iinf is None:
        return None
    first = iinf[0] + (6 if data[iinf[0]] == 0 else 8)  # version, flags and the entry count
    for box, s, _end in boxes(data, first, iinf[1]):
        version = data[s]
        if box == b"infe" and version >= 2:
            id_size = 2 if version == 2 else 4
            item_id = int.from_bytes(data[s + 4:s + 4 + id_size], "big")
            if data[s + 6 + id_size:s + 10 + id_size] == kind:
                return item_id
    return None


def item_data(data: bytes, meta: tuple[int, int], item: int) -> bytes | None:
    """An item's bytes by its `iloc` extents: in the file (construction method 0) or in `idat` (1)."""
    iloc = child(data, *meta, b"iloc")
    if iloc is None:
        return None
    s = iloc[0]
    version = data[s]
    offset_size, length_size = data[s + 4] >> 4, data[s + 4] & 15
    base_size, index_size = data[s + 5] >> 4, (data[s + 5] & 15) if version in (1, 2) else 0
    count_at = s + 6
    count = struct.unpack_from(">H" if version < 2 else ">L", data, count_at)[0]
    i = count_at + (2 if version < 2 else 4)

    def read(size: int) -> int:
        nonlocal i
        value = int.from_bytes(data[i:i + size], "big")
        if i + size > iloc[1]:
            raise IndexError("iloc runs past its box")
        i += size
        return value

    for _ in range(min(count, MAX_BOXES)):
        item_id = read(2 if version < 2 else 4)
        method = read(2) & 15 if version in (1, 2) else 0
        read(2)  # data reference index: 0, this file
        base = read(base_size)
        extents = []
        for _ in range(read(2)):
            read(index_size)
            extents.append((base + read(offset_size), read(length_size)))
        if item_id != item:
            continue
        if method == 1:
            idat = child(data, *meta, b"idat")
            if idat is None:
                return None
            origin, limit = idat
        elif method == 0:
            origin, limit = 0, len(data)
        else:
            return None
        parts = [data[origin + off:origin + off + length] for off, length in extents
                 if origin + off + length <= limit]
        return b"".join(parts) if len(parts) == len(extents) else None
    return None


def make_box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">L4s", 8 + len(payload), kind) + payload


def primary_size(data: bytes) -> tuple[int, int] | None:
    """The `ispe` (image spatial extent) of the primary item: the size its decoder will allocate."""
    found = meta_box(data)
    if found is None:
        return None
    item = primary_item(data, found)
    iprp = child(data, *found, b"iprp")
    ipma = child(data, *iprp, b"ipma") if iprp else None
    if item is None or ipma is None:
        return None
    wanted = associations(data, ipma, item)
    for index, (kind, s, e) in enumerate(properties(data, found), 1):
        if kind == b"ispe" and index in wanted and e - s >= 12:
            return struct.unpack_from(">LL", data, s + 4)
    return None


def metadata(data: bytes, *, tiles: bool = False) -> tuple[bytes | None, bytes | None]:
    """(EXIF as a TIFF block, ICC profile) of the primary image, as native Pillow reads them; None where absent.

    `tiles`: a primary image without a profile of its own takes its first tile's (the first item it is
    derived from, `dimg`), as libheif does: an iPhone's grid keeps its profile on the tiles alone.
    """
    meta = meta_box(data)
    if meta is None:
        return None, None
    try:
        primary = primary_item(data, meta)
        profile = primary_icc(data, meta, primary)
        if profile is None and tiles and primary is not None:
            derived = references(data, meta, b"dimg").get(primary)
            profile = primary_icc(data, meta, derived[0]) if derived else None
        return exif_item(data, meta), profile
    except (struct.error, IndexError):
        return None, None


def references(data: bytes, meta: tuple[int, int], kind: bytes) -> dict[int, list[int]]:
    """The item references of one type (`dimg`: a grid's tiles, `thmb`, `cdsc`, ...): from item -> to items."""
    iref = child(data, *meta, b"iref")
    if iref is None:
        return {}
    size = 2 if data[iref[0]] == 0 else 4
    out: dict[int, list[int]] = {}
    for box_kind, s, e in boxes(data, iref[0] + 4, iref[1]):
        if box_kind != kind or s + size + 2 > e:
            continue
        source = int.from_bytes(data[s:s + size], "big")
        count = int.from_bytes(data[s + size:s + size + 2], "big")
        first = s + size + 2
        out.setdefault(source, []).extend(
            int.from_bytes(data[first + k * size:first + (k + 1) * size], "big")
            for k in range(min(count, (e - first) // size)))
    return out


def primary_icc(data: bytes, meta: tuple[int, int], primary: int | None) -> bytes | None:
    """The `colr` profile (type prof or rICC) associated with the primary item."""
    props = properties(data, meta)
    iprp = child(data, *meta, b"iprp")
    ipma = child(data, *iprp, b"ipma") if iprp else None
    wanted = set(range(1, len(props) + 1))
    if ipma and primary is not None:
        wanted = associations(data, ipma, primary)
    for index, (kind, s, e) in enumerate(props, 1):
        if kind == b"colr" and index in wanted and data[s:s + 4] in (b"prof", b"rICC"):
            return bytes(data[s + 4:e]) or None
    return None


def exif_item(data: bytes, meta: tuple[int, int]) -> bytes | None:
    """The `Exif` item's TIFF block: its payload starts with the offset of the TIFF header."""
    item = item_of_type(data, meta, b"Exif")
    payload = item_data(data, meta, item) if item is not None else None
    if not payload or len(payload) < 4:
        return None
    skip = 4 + struct.unpack_from(">L", payload)[0]
    return payload[skip:] or None


# Item types that are pictures (an `infe`'s item_type); the rest (Exif, mime, uri) are metadata.
_PICTURES = {b"hvc1", b"av01", b"grid", b"iden", b"iovl", b"jpeg", b"avc1", b"vvc1", b"j2k1", b"unci"}


def top_level_pictures(data: bytes) -> int:
    """How many pictures a HEIF holds as libheif counts them (pi-heif's `n_frames`): picture items that
    are not hidden (a grid's tiles are) and not a thumbnail (`thmb`) or auxiliary picture (`auxl`: alpha,
    depth) of another; at least 1."""
    meta = meta_box(data)
    if meta is None:
        return 1
    try:
        iinf = child(data, *meta, b"iinf")
        if iinf is None:
            return 1
        first = iinf[0] + (6 if data[iinf[0]] == 0 else 8)
        pictures = set()
        for kind, s, _e in boxes(data, first, iinf[1]):
            version = data[s]
            if kind == b"infe" and version >= 2 and not data[s + 3] & 1:  # flags bit 0: hidden
                size = 2 if version == 2 else 4
                if data[s + 6 + size:s + 10 + size] in _PICTURES:
                    pictures.add(int.from_bytes(data[s + 4:s + 4 + size], "big"))
        for kind in (b"thmb", b"auxl"):
            pictures -= set(references(data, meta, kind))
    except (struct.error, IndexError):
        return 1
    return max(1, len(pictures))
