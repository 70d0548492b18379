"""TIFF: read only, the first page. Its header reader, and a Deflate rewriter for a libtiff without Deflate.

Pyodide's libtiff has no Deflate, JPEG or LZMA codec (Pillow there reports
"decoder error -2" for perfectly good files). Which codecs a build has is
found out by decoding a tiny TIFF made each way, once per process. Without
Deflate, the strips are inflated here with zlib and handed to Pillow as an
uncompressed TIFF; without JPEG or LZMA the file is refused in plain words.
"""

from __future__ import annotations

import array
import functools
import io
import struct
import sys
import zlib
from itertools import accumulate

from PIL import Image

from ..errors import CorruptImage, UnsupportedFormat
from .base import Format


def read_size(data: bytes) -> tuple[int, int] | None:
    ifd = TiffIfd.read(data)
    if ifd is None:
        return None
    w, h = ifd.int(256), ifd.int(257)
    return (w, h) if w is not None and h is not None else None


# --------------------------------------------------------------- TIFF directory

_TIFF_TYPES = {1: "B", 2: "B", 3: "H", 4: "L", 5: "LL", 6: "b", 7: "B", 8: "h", 9: "l", 10: "ll",
               11: "f", 12: "d", 13: "L"}


class TiffIfd:
    """The first image directory of a classic TIFF: each tag's type, count and where its value lies."""

    def __init__(self, data: bytes, order: str, offset: int, entries: dict, next_ifd: int):
        self.data, self.order, self.offset, self.entries, self.next_ifd = data, order, offset, entries, next_ifd

    @classmethod
    def read(cls, data: bytes) -> TiffIfd | None:
        order = "<" if data[:2] == b"II" else ">"
        try:
            offset = struct.unpack_from(order + "L", data, 4)[0]
            count = struct.unpack_from(order + "H", data, offset)[0]
            entries = {}
            for k in range(count):
                pos = offset + 2 + 12 * k
                tag, typ, n = struct.unpack_from(order + "HHL", data, pos)
                entries[tag] = (typ, n, pos)
            next_ifd = struct.unpack_from(order + "L", data, offset + 2 + 12 * count)[0]
        except struct.error:
            return None
        return cls(data, order, offset, entries, next_ifd)

    def ints(self, tag: int) -> list[int] | None:
        """An integer tag's values, or None if it is absent, not integral or out of the file."""
        if tag not in self.entries:
            return None
        typ, n, pos = self.entries[tag]
        code = _TIFF_TYPES.get(typ)
        if code is None or len(code) != 1 or code in "fd" or typ == 2:
            return None
        size = struct.calcsize("<" + code)
        if n * size > 4:
            pos = struct.unpack_from(self.order + "L", self.data, pos + 8)[0]
        else:
            pos += 8
        if n == 0 or pos + n * size > len(self.data):
            return None
        return list(struct.unpack_from(f"{self.order}{n}{code}", self.data, pos))

    def int(self, tag: int, default: int | None = None) -> int | None:
        values = self.ints(tag)
        return values[0] if values else default


# -------------------------------------- TIFF compressions the libtiff may lack

_DEFLATE = (8, 32946)  # Adobe Deflate, old Deflate
_NEEDS_CODEC = {7: "JPEG", 6: "JPEG", 34925: "LZMA"}  # old-style JPEG (6) goes with libtiff's JPEG codec
# A 64-byte xz stream of bytes 0..63, as libtiff's LZMA codec stores a strip.
_XZ_PROBE = bytes.fromhex(
    "fd377a585a000000ff12d9410200210116000000742fe5a301003f000102030405060708090a0b0c0d0e0f10"
    "1112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b"
    "3c3d3e3f0000015040efa9e1ec06729e7a010000000000595a")
_PROBE_PIXELS = bytes(range(64))  # an 8x8 grey gradient


def _tiny_tiff(compression: int, strip: bytes) -> bytes:
    """An 8x8 8-bit grey TIFF of one strip, stored with `compression`."""
    tags = [(256, 8), (257, 8), (258, 8), (259, compression), (262, 1), (273, 0), (277, 1), (278, 8),
            (279, len(strip))]
    start = 8 + 2 + 12 * len(tags) + 4
    ifd = struct.pack("<H", len(tags)) + b"".join(
        struct.pack("<HHLL", tag, 4, 1, start if tag == 273 else value) for tag, value in tags)
    return b"II*\x00" + struct.pack("<L", 8) + ifd + b"\0\0\0\0" + strip


@functools.cache
def libtiff_decodes(compression: int) -> bool:
    """Whether this Pillow's libtiff decodes TIFFs of `compression` (by decoding a tiny one)."""
    compression = 7 if compression == 6 else 32946 if compression == 8 else compression
    if compression == 32946:
        strip = zlib.compress(_PROBE_PIXELS)
    elif compression == 34925:
        strip = _XZ_PROBE
    elif compression == 7:
        try:
            grey = Image.frombytes("L", (8, 8), _PROBE_PIXELS)
            buf = io.BytesIO()
            grey.save(buf, "JPEG", quality=95)
            strip = buf.getvalue()
        except Exception:  # noqa: BLE001 - no JPEG encoder: no JPEG in libtiff either
            return False
    else:
        return True
    try:
        with Image.open(io.BytesIO(_tiny_tiff(compression, strip)), formats=["TIFF"]) as im:
            im.load()
            got = im.tobytes()
    except Exception:  # noqa: BLE001 - any failure means the codec is not there
        return False
    if compression == 7:  # lossy: close is enough
        return len(got) == 64 and max(abs(a - b) for a, b in zip(got, _PROBE_PIXELS, strict=True)) <= 8
    return got == _PROBE_PIXELS


def for_this_libtiff(data: bytes) -> bytes:
    """The TIFF as this build can decode it: unchanged where libtiff has the codec.

    Deflate without the codec becomes the same TIFF, uncompressed; JPEG or
    LZMA without the codec is refused as unsupported_format.
    """
    ifd = TiffIfd.read(data)
    if ifd is None:
        return data
    compression = ifd.int(259, 1)
    if compression in _NEEDS_CODEC and not libtiff_decodes(compression):
        raise UnsupportedFormat(_no_codec_message(_NEEDS_CODEC[compression]))
    if compression in _DEFLATE and not libtiff_decodes(compression):
        return _inflated_tiff(ifd)
    return data


def _no_codec_message(name: str) -> str:
    where = "in the browser" if sys.platform == "emscripten" else "with this installation's TIFF library"
    return (f"This TIFF is compressed with {name}, which pixelpress cannot decode {where}. "
            "The file is not damaged: save it as an uncompressed or LZW-compressed TIFF, or as PNG, "
            "and try again.")


def _inflated_tiff(ifd: TiffIfd) -> bytes:
    """A Deflate-compressed TIFF rewritten with its first image uncompressed.

    The original bytes stay where they are (every offset in them still
    holds); the inflated strips or tiles and a copy of the first directory,
    saying "uncompressed" and pointing at them, are appended. Pillow then
    reads it as it reads any uncompressed TIFF. Horizontal (2) and
    floating-point (3) predictors are undone here.
    """
    data, order = ifd.data, ifd.order
    width, height = ifd.int(256, 0), ifd.int(257, 0)
    spp = ifd.int(277, 1)
    bps = ifd.ints(258) or [1]
    bits = bps[0]
    planar = ifd.int(284, 1)
    predictor = ifd.int(317, 1)
    if ifd.int(262) == 6 or ifd.int(266, 1) != 1:
        raise UnsupportedFormat(_no_codec_message("Deflate in YCbCr or reversed bit order"))
    if not (width and height and 1 <= spp <= 16 and all(b == bits for b in bps)
            and bits in (1, 2, 4, 8, 16, 24, 32, 64)):
        return data  # not a layout Pillow reads either: let it say so
    if 322 in ifd.entries:  # tiles
        cw, rows = ifd.int(322, 0), ifd.int(323, 0)
        if not (cw and rows):
            return data
        per_plane = -(-width // cw) * -(-height // rows)
        chunk_rows = [rows] * per_plane
        offsets, counts = ifd.ints(324), ifd.ints(325)
        tags = (324, 325)
    else:
        cw, rps = width, min(ifd.int(278, height) or height, height)
        per_plane = -(-height // rps)
        chunk_rows = [min(rps, height - k * rps) for k in range(per_plane)]
        offsets, counts = ifd.ints(273), ifd.ints(279)
        tags = (273, 279)
    per_chunk = spp if planar == 1 else 1  # samples side by side in one strip or tile
    row_bytes = (cw * per_chunk * bits + 7) // 8
    chunk_rows *= 1 if planar == 1 else spp
    natural = width * height * spp * bits // 8
    total = row_bytes * sum(chunk_rows)
    if offsets is None or len(offsets) < len(chunk_rows) or total > 2 * natural + (16 << 20):
        raise _damaged()
    if counts is None or len(counts) < len(chunk_rows):
        counts = [len(data)] * len(chunk_rows)  # each Deflate stream ends by itself

    out, view = bytearray(), memoryview(data)
    for off, cnt, nrows in zip(offsets, counts, chunk_rows, strict=False):  # a short list ends the strips
        want = nrows * row_bytes
        try:
            inflated = zlib.decompressobj().decompress(view[off:off + cnt], want)
        except zlib.error as exc:
            raise _damaged() from exc
        if len(inflated) < want:
            raise _damaged()
        out += inflated
    if predictor == 2:
        out = _undo_horizontal(out, row_bytes, per_chunk, bits, order)
    elif predictor == 3:
        if ifd.int(339, 1) != 3 or bits not in (16, 24, 32, 64):
            raise _damaged()  # libtiff refuses these too
        out = _undo_floating(out, row_bytes, per_chunk, bits // 8, order)
    elif predictor != 1:
        raise _damaged()
    if planar == 2 and spp > 1:  # Pillow reads separate planes of 8-bit samples only: interleave them
        if bits % 8:
            raise UnsupportedFormat(_no_codec_message("Deflate in separate planes of under 8 bits"))
        out = _interleaved(out, spp, bits // 8)
        chunk_rows, row_bytes = chunk_rows[:per_plane], row_bytes * spp

    # Appended, each at an even offset: the pixel data, the offset and count
    # arrays, then the new directory, which the header then points at.
    parts, end = [data[:4], b"", data[8:]], len(data)

    def append(blob: bytes) -> int:
        nonlocal end
        if end & 1:
            parts.append(b"\0")
            end += 1
        parts.append(blob)
        end += len(blob)
        return end - len(blob)

    sizes = [nrows * row_bytes for nrows in chunk_rows]
    first = append(out)
    del out
    starts = list(accumulate([first] + sizes[:-1]))

    def long_array(values: list[int]) -> tuple[int, bytes]:
        """(count, value field) of a LONG array, appended when it does not fit in the field."""
        body = struct.pack(f"{order}{len(values)}L", *values)
        return (1, body) if len(values) == 1 else (len(values), struct.pack(order + "L", append(body)))

    short = (1, struct.pack(order + "HH", 1, 0))  # a SHORT of 1: no compression, chunky
    replaced = {tags[0]: long_array(starts), tags[1]: long_array(sizes), 259: short, 284: short}
    entries = []
    for tag in sorted(set(ifd.entries) - {317} | set(replaced)):
        if tag in replaced:
            n, field_ = replaced[tag]
            entries.append(struct.pack(order + "HHL", tag, 3 if tag in (259, 284) else 4, n) + field_)
        else:
            pos = ifd.entries[tag][2]
            entries.append(bytes(data[pos:pos + 12]))  # its value, if elsewhere, stays where it was
    at = append(struct.pack(order + "H", len(entries)) + b"".join(entries) + struct.pack(order + "L", ifd.next_ifd))
    parts[1] = struct.pack(order + "L", at)
    return b"".join(parts)


def _damaged() -> CorruptImage:
    return CorruptImage("The TIFF file is damaged and its pixels cannot be decoded.")


def _running_sums(buf: bytes, row_bytes: int, stride: int) -> Image.Image:
    """Undo horizontal differencing on bytes: each byte plus the running sum `stride` bytes to its
    left in its row, mod 256. As an L image of `row_bytes` x rows.

    PNG's Sub filter is exactly this, so for strides of 1-4 bytes Pillow's
    PNG row decoder does it in C, fed the rows behind a stored zlib stream;
    other strides take log2(width) whole-image additions. No NumPy: the
    conversion path must not load it.
    """
    from PIL import ImageChops

    rows = len(buf) // row_bytes
    im = Image.frombytes("L", (row_bytes, rows), buf)
    mode = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}.get(stride)
    if mode is not None and row_bytes % stride == 0:
        framed = Image.new("L", (row_bytes + 1, rows), 1)  # filter type 1 (Sub) before every row
        framed.paste(im, (1, 0))
        del im
        stream = zlib.compress(framed.tobytes(), 0)
        del framed
        out = Image.frombytes(mode, (row_bytes // stride, rows), stream, "zip", mode).tobytes()
        del stream
        return Image.frombytes("L", (row_bytes, rows), out)
    shift = stride
    while shift < row_bytes:  # Hillis and Steele: add the image shifted by stride * 2**k
        moved = ImageChops.offset(im, shift, 0)
        moved.paste(0, (0, 0, shift, rows))  # offset wraps around: clear what came round
        im = ImageChops.add_modulo(im, moved)
        shift *= 2
    return im


def _undo_horizontal(buf: bytes, row_bytes: int, spp: int, bits: int, order: str) -> bytes:
    """TIFF predictor 2: each sample was stored as its difference from the one to its left."""
    from PIL import ImageChops

    if bits == 8:
        return _running_sums(buf, row_bytes, spp).tobytes()
    if bits == 16:
        # Running sums of the low and the high bytes separately; the high byte
        # then gains one for every place where the low byte's sum wrapped
        # round, which is exactly where it fell below its left neighbour's.
        n, rows = row_bytes // 2, len(buf) // row_bytes
        first, second = Image.frombytes("LA", (n, rows), buf).split()
        lo, hi = (first, second) if order == "<" else (second, first)
        lo = _running_sums(lo.tobytes(), n, spp)
        hi = _running_sums(hi.tobytes(), n, spp)
        left = ImageChops.offset(lo, spp, 0)
        left.paste(0, (0, 0, spp, rows))
        wrapped = ImageChops.subtract(left, lo).point(lambda v: 1 if v else 0)
        hi = ImageChops.add_modulo(hi, _running_sums(wrapped.tobytes(), n, spp))
        return Image.merge("LA", (lo, hi) if order == "<" else (hi, lo)).tobytes()
    if bits in (32, 64):  # rare: plain Python, one channel of one row at a time
        code = "I" if bits == 32 else "Q"
        values = array.array(code, buf)
        swap = (order == "<") != (sys.byteorder == "little")
        if swap:
            values.byteswap()
        mask, per_row = (1 << bits) - 1, row_bytes * 8 // bits
        for start in range(0, len(values), per_row):
            for c in range(spp):
                run = values[start + c:start + per_row:spp]
                values[start + c:start + per_row:spp] = array.array(code, map(mask.__and__, accumulate(run)))
        if swap:
            values.byteswap()
        return values.tobytes()
    raise _damaged()  # libtiff has no horizontal predictor below 8 bits either


def _interleaved(buf: bytes, planes: int, size: int) -> bytes:
    """Separate planes (all of sample 0, then all of sample 1, ...) as samples side by side."""
    out, n = bytearray(len(buf)), len(buf) // planes
    for p in range(planes):
        plane = buf[p * n:(p + 1) * n]
        for b in range(size):
            out[p * size + b::planes * size] = plane[b::size]
    return bytes(out)


def _undo_floating(buf: bytes, row_bytes: int, spp: int, size: int, order: str) -> bytes:
    """TIFF predictor 3: each row holds its samples' bytes in planes, most significant first,
    each plane byte-differenced. Sum the bytes back, then interleave the planes in file byte order."""
    summed = _running_sums(buf, row_bytes, spp)
    rows, plane = len(buf) // row_bytes, row_bytes // size
    out = bytearray(len(buf))
    for b in range(size):
        at = b if order == ">" else size - 1 - b
        out[at::size] = summed.crop((b * plane, 0, (b + 1) * plane, rows)).tobytes()
    return bytes(out)


FORMAT = Format("tiff", "TIFF", "TIFF", "image/tiff", (".tif", ".tiff"), read_size,
                magic=(((0, b"II*\x00"),), ((0, b"MM\x00*"),)), prepare=for_this_libtiff)
