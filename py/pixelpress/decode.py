"""The one place where untrusted bytes become a Pillow image.

Order matters: cheap checks (size, magic bytes, header dimensions) run before
any pixel is decoded, so a hostile file costs almost nothing to reject.
"""

from __future__ import annotations

import array
import functools
import io
import re
import struct
import sys
import warnings
import zlib
from dataclasses import dataclass, field
from itertools import accumulate

from PIL import Image, ImageOps, UnidentifiedImageError

from . import avif, codec, icc, pillow_plugins  # pillow_plugins registers exactly the formats below
from .coroutines import run_now
from .errors import CorruptImage, DecompressionBomb, EmptyInput, TooLarge, UnsupportedFormat
from .jpeg_stream import without_exif


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 50_000_000
    max_pixels: int = 50_000_000
    # The op's working memory, filled in by OpSpec.limits (0: not estimated).
    work_bytes_per_pixel: int = 0
    max_work_bytes: int = 0
    work_label: str = "This operation"

    def max_work_megapixels(self) -> float | None:
        """The largest picture the working-memory budget admits, in MP rounded down (never promise more)."""
        if not self.work_bytes_per_pixel:
            return None
        return int(self.max_work_bytes / self.work_bytes_per_pixel / 1e5) / 10

    def check_work(self, w: int, h: int) -> None:
        """Refuse, before decoding, a picture the op would need more working memory for than it may use."""
        if self.work_bytes_per_pixel and w * h * self.work_bytes_per_pixel > self.max_work_bytes:
            cap = self.max_work_megapixels()
            raise TooLarge(f"{self.work_label} works on pictures up to {cap:g} megapixels; "
                           f"this one is {w * h / 1e6:.1f} MP. Make it smaller first.")


DEFAULT_LIMITS = Limits()

# Pillow format name -> (MIME type, magic-byte test). The allowlist: anything
# else is refused before Pillow's own (much larger) plugin set sees it.
FORMATS: dict[str, tuple[str, object]] = {
    "JPEG": ("image/jpeg", lambda b: b[:3] == b"\xff\xd8\xff"),
    "PNG": ("image/png", lambda b: b[:8] == b"\x89PNG\r\n\x1a\n"),
    "WEBP": ("image/webp", lambda b: b[:4] == b"RIFF" and b[8:12] == b"WEBP"),
    "GIF": ("image/gif", lambda b: b[:6] in (b"GIF87a", b"GIF89a")),
    "BMP": ("image/bmp", lambda b: b[:2] == b"BM"),
    "TIFF": ("image/tiff", lambda b: b[:4] in (b"II*\x00", b"MM\x00*")),
    "AVIF": ("image/avif", avif.is_avif),
}
# Enough of the file for every magic-byte test: AVIF's brands follow in its `ftyp` box.
_HEAD = 64

# Orientations 5-8 swap width and height.
_SWAPS_AXES = {5, 6, 7, 8}

# What Pillow raises on damaged data. OverflowError belongs here because in
# wasm (32-bit sizes) a huge offset in a header fails to seek with it, where
# a 64-bit build seeks past the end and reports a short read instead.
_DAMAGED = (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, OverflowError)
_BAD_EXIF = "EXIF metadata is malformed and was ignored."


def sniff(data: bytes) -> str | None:
    """The Pillow format name of `data` by its magic bytes, or None."""
    head = bytes(data[:_HEAD])
    for name, (_mime, test) in FORMATS.items():
        if test(head):
            return name
    return None


@dataclass
class Decoded:
    image: Image.Image
    format: str  # Pillow name of the source format, e.g. "JPEG"
    width: int  # source size, after EXIF orientation, before any resize
    height: int
    exif: bytes | None = None  # with the orientation tag already applied and removed
    icc_profile: bytes | None = None
    warnings: list[str] = field(default_factory=list)
    codec: str = codec.PILLOW  # who decoded the pixels: "pillow", or the provider's name ("browser")
    profile: str | None = None  # the embedded colour profile's name
    colour: str = icc.SRGB  # what was done about it: icc.SRGB, CONVERTED, KEPT or UNMANAGED


def fit_size(width: int, height: int, max_width: int | None, max_height: int | None) -> tuple[int, int]:
    """The largest size inside the box that keeps the aspect ratio; never larger than the source."""
    scale = 1.0
    if max_width is not None:
        scale = min(scale, max_width / width)
    if max_height is not None:
        scale = min(scale, max_height / height)
    if scale >= 1.0:
        return width, height
    return max(1, round(width * scale)), max(1, round(height * scale))


def check_header(data: bytes, limits: Limits = DEFAULT_LIMITS) -> str:
    """Size, magic-byte and header-dimension checks; returns the format name. No pixels decoded."""
    if len(data) == 0:
        raise EmptyInput("The file is empty (0 bytes).")
    if len(data) > limits.max_bytes:
        raise TooLarge(
            f"The file is {len(data) / 1e6:.1f} MB; the limit is {limits.max_bytes / 1e6:.0f} MB."
        )
    fmt = sniff(data)
    if fmt is None:
        raise UnsupportedFormat(
            "This is not a supported image. pixelpress reads JPEG, PNG, WebP, AVIF, GIF, BMP and TIFF."
        )
    # Before any Pillow opener: the WebP opener allocates the whole canvas, and
    # the GIF and APNG openers allocate a disposal canvas, all from header claims.
    size = header_size(data, fmt)
    if size is None and fmt in ("WEBP", "AVIF"):  # libwebp and libavif would not read it either
        raise CorruptImage(f"The {fmt} file is damaged: its header cannot be read.")
    if size is not None and size[0] * size[1] > limits.max_pixels:
        raise DecompressionBomb(_bomb_message(*size, limits))
    if fmt == "AVIF" and not pillow_plugins.AVIF:
        limits.check_work(*size)  # the browser decodes the whole picture at once, before open_image's check
    return fmt


@dataclass
class Header:
    """What a file says about itself, read and checked (size, pixel cap, memory) before any pixel is decoded."""
    format: str  # Pillow name, e.g. "JPEG"
    image: Image.Image  # opened by Pillow, pixels not yet loaded
    data: bytes  # the bytes Pillow reads (a TIFF may be rewritten for this build's libtiff)
    orientation: int  # EXIF orientation, 1 when none or unreadable
    exif: Image.Exif | None
    warnings: list[str]

    @property
    def width(self) -> int:  # after orientation
        return self.image.size[1] if self.orientation in _SWAPS_AXES else self.image.size[0]

    @property
    def height(self) -> int:
        return self.image.size[0] if self.orientation in _SWAPS_AXES else self.image.size[1]


def read_header(data: bytes, limits: Limits = DEFAULT_LIMITS) -> Header:
    """The header checks of `open_image`, without decoding: a hostile file is refused here, cheaply."""
    return run_now(read_header_async(data, limits))


async def read_header_async(data: bytes, limits: Limits = DEFAULT_LIMITS,
                            codecs: codec.Codecs | None = None) -> Header:
    """`read_header`, awaiting the provider where it decodes: an AVIF where Pillow has no AVIF is decoded
    whole by the provider, so `image` is loaded."""
    fmt = check_header(data, limits)
    out_warnings: list[str] = []
    if fmt == "TIFF":
        data = _tiff_for_this_libtiff(data)
    stored = await codec.decode_avif(codecs, data) if fmt == "AVIF" and not pillow_plugins.AVIF else None
    try:
        if stored is not None:
            im, exif_trouble = _exif_quietly(fmt, codec.avif_image, stored, data)
        else:
            im, exif_trouble = _exif_quietly(fmt, _open_header, data, fmt)
    except _DAMAGED as exc:
        # Pillow parses a JPEG's EXIF while opening it (for the DPI); a broken
        # EXIF block must cost the metadata, never the picture.
        bare = without_exif(data) if fmt == "JPEG" else None
        try:
            im = _open_header(bare, fmt) if bare is not None else None
        except _DAMAGED:
            im = None
        if im is None:
            raise CorruptImage(f"The {fmt} file is damaged: its header cannot be read.") from exc
        exif_trouble = True

    w, h = im.size
    if w <= 0 or h <= 0:
        raise CorruptImage(f"The {fmt} header gives an impossible size {w}x{h}.")
    if w * h > limits.max_pixels:
        raise DecompressionBomb(_bomb_message(w, h, limits))
    limits.check_work(w, h)

    frames = getattr(im, "n_frames", 1)
    if frames > 1:
        kind = f"animated {fmt}" if fmt in ("GIF", "AVIF") else f"{fmt} with {frames} pages" if fmt == "TIFF" else fmt
        out_warnings.append(f"Input is an {kind}; only the first frame was used." if kind.startswith("animated")
                            else f"Input is a {kind}; only the first frame was used.")

    try:
        exif, trouble = _exif_quietly(fmt, im.getexif)
        exif_trouble = exif_trouble or trouble
        orientation = int(exif.get(0x0112, 1) or 1)
    except Exception:  # noqa: BLE001 - a malformed EXIF block must not cost the picture
        exif, orientation, exif_trouble = None, 1, True
    if exif_trouble:
        out_warnings.append(_BAD_EXIF)
    return Header(fmt, im, data, orientation, exif, out_warnings)


def open_image(
    data: bytes,
    limits: Limits = DEFAULT_LIMITS,
    *,
    fit: tuple[int | None, int | None] | None = None,
    keep_profile: bool = False,
) -> Decoded:
    """Decode `data` into an oriented image in one of the modes L, RGB or RGBA.

    `fit` (max width, max height) lets JPEG decode at a reduced scale (DCT
    scaling) when the result will be shrunk anyway; the caller still does the
    final high-quality resize. Pixels with an embedded colour profile come out in
    sRGB (icc.py), unless `keep_profile`: then as stored, the profile in `icc_profile`.
    """
    return run_now(open_image_async(data, limits, fit=fit, keep_profile=keep_profile))


async def open_image_async(
    data: bytes,
    limits: Limits = DEFAULT_LIMITS,
    *,
    fit: tuple[int | None, int | None] | None = None,
    codecs: codec.Codecs | None = None,
    keep_profile: bool = False,
) -> Decoded:
    """`open_image`, where `codecs` may decode the pixels of a JPEG faster (see codec.py), awaited; the
    header, limits, orientation and metadata are read here either way."""
    head = await read_header_async(data, limits, codecs)
    fmt, im, data, orientation, exif = head.format, head.image, head.data, head.orientation, head.exif
    out_warnings = list(head.warnings)
    w, h = im.size
    ow, oh = head.width, head.height

    if fit is not None and fmt == "JPEG":
        tw, th = fit_size(ow, oh, *fit)
        if (tw, th) != (ow, oh):
            req = (th, tw) if orientation in _SWAPS_AXES else (tw, th)
            im.draft(im.mode if im.mode in ("L", "RGB") else None, req)

    decoded_by = codecs.name if fmt == "AVIF" and not pillow_plugins.AVIF else codec.PILLOW
    fast = await codec.decode_jpeg(codecs, data, im) if fmt == "JPEG" and im.size == (w, h) else None
    if fast is not None:
        fast.info = im.info  # the EXIF and profile the header gave, for the orientation below
        im, decoded_by = fast, codecs.name

    grey_bits = _png_grey_depth(data) if fmt == "PNG" else None
    try:
        im.load()
    except _DAMAGED as exc:
        what = "cut short" if "truncated" in str(exc) else "damaged"
        raise CorruptImage(f"The {fmt} file is {what} and its pixels cannot be decoded.") from exc

    icc_bytes = im.info.get("icc_profile") or None
    if exif is not None and orientation != 1:
        try:
            im = ImageOps.exif_transpose(im)
        except Exception as exc:  # noqa: BLE001 - a bad tag should not sink the image
            out_warnings.append(f"EXIF orientation could not be applied ({exc}).")
    exif_bytes = None
    try:
        kept = im.getexif()
        if orientation != 1 and 0x0112 in kept:
            del kept[0x0112]
        exif_bytes = kept.tobytes() if len(kept) else None
    except Exception:  # noqa: BLE001 - nor can a block that fails to re-serialise
        exif_bytes = None

    image = _normalise_mode(im, out_warnings, fmt=fmt, grey_bits=grey_bits)
    image, profile, managed, trouble = icc.to_srgb(image, icc_bytes, keep=keep_profile)
    if trouble:
        out_warnings.append(trouble)
    # Metadata travels in Decoded (exif, icc_profile) only. Left on the image,
    # Pillow's writers would copy it into the output (the PNG writer takes the
    # ICC profile, the JPEG writer the comment) even when it was stripped.
    image.info = {}
    return Decoded(image, fmt, ow, oh, exif_bytes, icc_bytes, out_warnings, decoded_by, profile, managed)


# ------------------------------------------------------------ header dimensions
#
# One small reader per format, taking the size from where Pillow's opener
# takes it, so that the pixel cap holds before any opener runs: the WebP
# opener allocates the whole canvas, and the GIF and APNG openers can allocate
# a disposal canvas, all from what the header claims. None means "cannot
# tell": a GIF without a frame, or a PNG, JPEG, BMP or TIFF header the
# reader cannot follow, which Pillow's opener then fails on or sizes without
# allocating (its figure is checked again after opening); an unreadable WebP or AVIF
# header is refused as damaged instead (see check_header).


def header_size(data: bytes, fmt: str) -> tuple[int, int] | None:
    """(width, height) as the header claims it, read without Pillow, or None."""
    try:
        return _SIZE_READERS[fmt](data)
    except (struct.error, IndexError):
        return None


def _u16be(b: bytes, i: int) -> int:
    return b[i] << 8 | b[i + 1]


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    """The last frame header (SOFn) before the scan, walking the markers as Pillow does."""
    size, i, n = None, 2, len(data)
    while i + 1 < n:
        if data[i] != 0xFF:  # junk between segments, which Pillow skips
            i = data.find(b"\xff", i)
            if i < 0:
                break
            continue
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
        elif marker == 0x00:
            i += 2
        elif marker < 0xC0:
            return None  # Pillow: "no marker found"
        elif marker == 0xC8 or 0xD0 <= marker <= 0xD9 or 0xF0 <= marker <= 0xFD:
            i += 2  # markers without a length
        elif marker == 0xDA:  # start of scan: the header is over
            break
        else:
            if marker in _JPEG_SOF and i + 9 <= n:
                size = _u16be(data, i + 7), _u16be(data, i + 5)
            i += 2 + _u16be(data, i + 2)
    return size


_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF, 0xDE}


def _png_size(data: bytes) -> tuple[int, int] | None:
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


_GIF_BLOCK = re.compile(rb"[\x21\x2c\x3b]")


def _gif_size(data: bytes) -> tuple[int, int] | None:
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
            found = _GIF_BLOCK.search(data, i + 1)
            if found is None:
                return None
            i = found.start()
    return None


def _bmp_size(data: bytes) -> tuple[int, int] | None:
    header = struct.unpack_from("<L", data, 14)[0]
    if header == 12:  # OS/2 core header: 16-bit sizes
        return struct.unpack_from("<HH", data, 18)
    if header in (40, 52, 56, 64, 108, 124):
        w, h = struct.unpack_from("<LL", data, 18)
        return w, (2**32 - h if data[25] == 0xFF else h)  # a negative height means top-down
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
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


def _tiff_size(data: bytes) -> tuple[int, int] | None:
    ifd = _TiffIfd.read(data)
    if ifd is None:
        return None
    w, h = ifd.int(256), ifd.int(257)
    return (w, h) if w is not None and h is not None else None


_SIZE_READERS = {"JPEG": _jpeg_size, "PNG": _png_size, "GIF": _gif_size, "BMP": _bmp_size,
                 "WEBP": _webp_size, "TIFF": _tiff_size, "AVIF": avif.header_size}


# --------------------------------------------------------------- TIFF directory

_TIFF_TYPES = {1: "B", 2: "B", 3: "H", 4: "L", 5: "LL", 6: "b", 7: "B", 8: "h", 9: "l", 10: "ll",
               11: "f", 12: "d", 13: "L"}


class _TiffIfd:
    """The first image directory of a classic TIFF: each tag's type, count and where its value lies."""

    def __init__(self, data: bytes, order: str, offset: int, entries: dict, next_ifd: int):
        self.data, self.order, self.offset, self.entries, self.next_ifd = data, order, offset, entries, next_ifd

    @classmethod
    def read(cls, data: bytes) -> _TiffIfd | None:
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
#
# Pyodide's libtiff has no Deflate, JPEG or LZMA codec (Pillow there reports
# "decoder error -2" for perfectly good files). Which codecs a build has is
# found out by decoding a tiny TIFF made each way, once per process. Without
# Deflate, the strips are inflated here with zlib and handed to Pillow as an
# uncompressed TIFF; without JPEG or LZMA the file is refused in plain words.

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


def _tiff_for_this_libtiff(data: bytes) -> bytes:
    """The TIFF as this build can decode it: unchanged where libtiff has the codec.

    Deflate without the codec becomes the same TIFF, uncompressed; JPEG or
    LZMA without the codec is refused as unsupported_format.
    """
    ifd = _TiffIfd.read(data)
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


def _inflated_tiff(ifd: _TiffIfd) -> bytes:
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
        raise _tiff_damaged()
    if counts is None or len(counts) < len(chunk_rows):
        counts = [len(data)] * len(chunk_rows)  # each Deflate stream ends by itself

    out, view = bytearray(), memoryview(data)
    for off, cnt, nrows in zip(offsets, counts, chunk_rows, strict=False):  # a short list ends the strips
        want = nrows * row_bytes
        try:
            inflated = zlib.decompressobj().decompress(view[off:off + cnt], want)
        except zlib.error as exc:
            raise _tiff_damaged() from exc
        if len(inflated) < want:
            raise _tiff_damaged()
        out += inflated
    if predictor == 2:
        out = _undo_horizontal(out, row_bytes, per_chunk, bits, order)
    elif predictor == 3:
        if ifd.int(339, 1) != 3 or bits not in (16, 24, 32, 64):
            raise _tiff_damaged()  # libtiff refuses these too
        out = _undo_floating(out, row_bytes, per_chunk, bits // 8, order)
    elif predictor != 1:
        raise _tiff_damaged()
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


def _tiff_damaged() -> CorruptImage:
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
    raise _tiff_damaged()  # libtiff has no horizontal predictor below 8 bits either


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


def _open_header(data: bytes, fmt: str) -> Image.Image:
    """Image.open (header only) with Pillow's own bomb check off.

    Our cap, checked right after, is stricter and its message names the size;
    Pillow's would fire first on huge claims and only say "too many pixels".
    Nothing decodes pixels in between, so the check is never skipped.
    """
    saved = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None
    try:
        return Image.open(io.BytesIO(data), formats=[fmt])
    finally:
        Image.MAX_IMAGE_PIXELS = saved


def _exif_quietly(fmt: str, fn, *args):
    """`fn(*args)` and whether Pillow's EXIF reader warned meanwhile.

    On a 64-bit build it skips a damaged EXIF entry with a Python warning
    (where wasm raises OverflowError); either way the user gets one warning
    in meta, and nothing on the console.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fn(*args)
    # In a TIFF the same reader parses the image itself, not metadata.
    return out, fmt != "TIFF" and any(w.filename.endswith("TiffImagePlugin.py") for w in caught)


def _png_grey_depth(data: bytes) -> int | None:
    """Bit depth of a greyscale PNG (colour type 0) from its IHDR, else None.

    Its tRNS value is a sample at that depth, while Pillow hands 1-, 2- and
    4-bit pixels out scaled to 0-255 and 16-bit ones as I;16.
    """
    if data[12:16] == b"IHDR" and len(data) > 25 and data[25] == 0:
        return data[24]
    return None


def _bomb_message(w: int, h: int, limits: Limits) -> str:
    cap = f"{limits.max_pixels / 1e6:.0f} megapixel limit"
    return f"The image is {w}x{h} ({w * h / 1e6:.1f} megapixels), over the {cap}; it was not decoded."


def _normalise_mode(im: Image.Image, out_warnings: list[str], *, fmt: str = "",
                    grey_bits: int | None = None) -> Image.Image:
    """Every Pillow mode to L, RGB or RGBA, keeping transparency wherever it exists."""
    mode = im.mode
    if grey_bits is not None and "transparency" in im.info:
        return _keyed_grey(im, grey_bits, out_warnings, fmt)
    if mode in ("L", "RGB", "RGBA"):
        if mode != "RGBA" and "transparency" in im.info:
            return im.convert("RGBA")  # tRNS chunk on a grey or RGB PNG
        return im
    if mode == "1":
        return im.convert("L")
    if mode in ("P", "PA"):
        has_alpha = mode == "PA" or "transparency" in im.info or (im.palette and im.palette.mode == "RGBA")
        return im.convert("RGBA" if has_alpha else "RGB")
    if mode in ("LA", "La", "RGBa", "RGBX"):
        return im.convert("RGBA" if mode != "RGBX" else "RGB")
    if mode == "CMYK":
        out_warnings.append("CMYK converted to RGB without colour management; colours may shift slightly.")
        return im.convert("RGB")
    if mode == "YCbCr":
        return im.convert("RGB")
    if mode.startswith("I;16") or mode in ("I", "F"):
        out_warnings.append(f"{mode} high-bit-depth image reduced to 8 bits per channel.")
        return _to_8bit(im, out_warnings, fmt)
    raise UnsupportedFormat(f"Images in colour mode {mode} are not supported.")


def _keyed_grey(im: Image.Image, bits: int, out_warnings: list[str], fmt: str) -> Image.Image:
    """A grey PNG whose tRNS names one transparent grey value, as RGBA with that value clear."""
    key = int(im.info["transparency"])
    if bits == 16:
        lut = [255] * 65536
        if 0 <= key < 65536:
            lut[key] = 0
        alpha = im.convert("I").point(lut, "L")
        out_warnings.append(f"{im.mode} high-bit-depth image reduced to 8 bits per channel.")
        grey = _to_8bit(im, out_warnings, fmt)
    else:
        grey = im.convert("L")
        # Pillow's scaling of 1-, 2- and 4-bit samples. A 1-bit key is 0 or 1 up to Pillow 11 and arrives
        # already scaled (0 or 255) from Pillow 12 on; either way a set bit is white.
        key = (255 if key else 0) if bits == 1 else key * 255 // ((1 << bits) - 1)
        lut = [255] * 256
        if 0 <= key < 256:
            lut[key] = 0
        alpha = grey.point(lut)
    return Image.merge("RGBA", (grey, grey, grey, alpha))


# float32 bit patterns, to find and replace NaN and infinities with integer
# image arithmetic: Pillow has no per-pixel test for them, and conversion
# must not load NumPy.
_EXPONENT = 0x7F800000  # all exponent bits set: NaN or an infinity
_POS_INF, _NEG_INF = 0x7F800000, -0x00800000  # -0x00800000 is 0xFF800000 as int32
_FLT_MAX, _FLT_LOWEST = 0x7F7FFFFF, -0x00800001


def _finite_float(im: Image.Image, out_warnings: list[str]) -> Image.Image:
    """An F image with NaN set to 0 and +/-inf to the largest/smallest finite value.

    Otherwise one NaN or inf makes the range of the stretch to 8 bits NaN or
    infinite and the whole picture comes out black.
    """
    from PIL import ImageMath

    bits = Image.frombytes("I", im.size, im.tobytes("raw", "F"))

    def calc(expr, **kw):
        return ImageMath.lambda_eval(expr, b=bits, **kw)

    bad = calc(lambda a: (a["b"] & _EXPONENT) == _EXPONENT)
    if bad.getextrema()[1] == 0:
        return im
    pos, neg = calc(lambda a: a["b"] == _POS_INF), calc(lambda a: a["b"] == _NEG_INF)
    good = calc(lambda a: a["b"] * (1 - a["m"]), m=bad)  # NaN and inf -> bits of 0.0

    def as_float(i_image):
        return Image.frombytes("F", im.size, i_image.tobytes("raw", "I"))

    lo = as_float(ImageMath.lambda_eval(lambda a: a["g"] + a["m"] * _FLT_MAX, g=good, m=bad)).getextrema()[0]
    hi = as_float(ImageMath.lambda_eval(lambda a: a["g"] + a["m"] * _FLT_LOWEST, g=good, m=bad)).getextrema()[1]
    if lo > hi:  # nothing finite at all
        lo = hi = 0.0
    lo_bits, hi_bits = struct.unpack("=ii", struct.pack("=ff", lo, hi))
    fixed = ImageMath.lambda_eval(lambda a: a["g"] + a["p"] * hi_bits + a["n"] * lo_bits, g=good, p=pos, n=neg)

    def count(mask):
        return mask.convert("L").histogram()[1]

    n_inf = count(pos) + count(neg)
    n_nan = count(bad) - n_inf
    done = ([f"{n_nan} NaN values were set to 0"] if n_nan else []) + (
        [f"{n_inf} infinite values were set to the largest or smallest finite value"] if n_inf else [])
    out_warnings.append(f"The float image is not all numbers: {' and '.join(done)}.")
    return as_float(fixed)


def _to_8bit(im: Image.Image, out_warnings: list[str], fmt: str = "") -> Image.Image:
    """Scale 16-bit (or 32-bit int/float) greys into 0-255 instead of clipping.

    - Float (F): NaN and infinities are made finite first (see
      `_finite_float`), then the range from the lowest to the highest value is
      stretched to 0-255 (float data has no fixed white).
    - 32-bit int (I): 0 to the highest value is stretched to 0-255.
    - 16-bit (I;16): 65535 is white, except in a TIFF whose highest value is at
      most 4095. Those are taken to be 12-bit data (what 12-bit cameras,
      scanners and microscopes write into 16-bit TIFFs), so 4095 is white and
      a warning says so; scaled by 65535 they would come out nearly black. A
      real 16-bit TIFF that dark is rare, and would be near-black anyway. PNG
      keeps 65535: it records reduced precision in its own sBIT chunk.
    """
    if im.mode == "F":
        im = _finite_float(im, out_warnings)
        lo, hi = im.getextrema()
        span = (hi - lo) or 1.0
        return im.point(lambda v: (v - lo) * (255.0 / span)).convert("L")
    i32 = im.convert("I") if im.mode != "I" else im
    if im.mode.startswith("I;16"):
        hi = 65535
        top = i32.getextrema()[1]
        if fmt == "TIFF" and 0 < top <= 4095:
            hi = 4095
            out_warnings.append(f"The 16-bit TIFF only holds values up to {top}, as 12-bit data does; "
                                "it was scaled as 12-bit (4095 is white) so it does not come out black.")
    else:
        hi = max(i32.getextrema()[1], 1)
    return i32.point(lambda v: v * (255.0 / hi)).convert("L")
