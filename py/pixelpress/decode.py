"""The one place where untrusted bytes become a Pillow image: sniff, caps, open, orientation, mode.

Order matters: cheap checks (size, magic bytes, header dimensions) run before
any pixel is decoded, so a hostile file costs almost nothing to reject. What
differs between formats (magic bytes, where the header keeps the size, how
Pillow opens it) is each format's own module (formats/); this is the
pipeline every format goes through.
"""

from __future__ import annotations

import struct
import sys
import warnings
from dataclasses import dataclass, field

from PIL import Image, ImageOps, UnidentifiedImageError

from . import browser, formats, icc
from .coroutines import run_now
from .errors import CorruptImage, DecompressionBomb, EmptyInput, MissingDependency, TooLarge, UnsupportedFormat
from .formats import Format
from .formats.png import grey_depth
from .jpeg_stream import without_exif
from .limits import DEFAULT_LIMITS, Limits
from .provider import PILLOW, Codecs

__all__ = ["DEFAULT_LIMITS", "Decoded", "Header", "Limits", "check_header", "fit_size", "open_image",
           "open_image_async", "read_header", "read_header_async", "sniff"]

# Orientations 5-8 swap width and height.
_SWAPS_AXES = {5, 6, 7, 8}

# What Pillow raises on damaged data. OverflowError belongs here because in
# wasm (32-bit sizes) a huge offset in a header fails to seek with it, where
# a 64-bit build seeks past the end and reports a short read instead.
_DAMAGED = (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, OverflowError)
_BAD_EXIF = "EXIF metadata is malformed and was ignored."


def sniff(data: bytes) -> str | None:
    """The upper-case name of `data`'s format by its magic bytes ("JPEG", "HEIC"), or None."""
    fmt = formats.sniff(data)
    return fmt.name.upper() if fmt is not None else None


@dataclass
class Decoded:
    image: Image.Image
    format: str  # the source format's upper-case name, e.g. "JPEG" (meta's input_format is its lower case)
    width: int  # source size, after EXIF orientation, before any resize
    height: int
    exif: bytes | None = None  # with the orientation tag already applied and removed
    icc_profile: bytes | None = None
    warnings: list[str] = field(default_factory=list)
    codec: str = PILLOW  # who decoded the pixels: "pillow", or the provider's name ("browser")
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


def check_header(data: bytes, limits: Limits = DEFAULT_LIMITS) -> Format:
    """Size, magic-byte and header-dimension checks; returns the format. No pixels decoded."""
    if len(data) == 0:
        raise EmptyInput("The file is empty (0 bytes).")
    if len(data) > limits.max_bytes:
        raise TooLarge(
            f"The file is {len(data) / 1e6:.1f} MB; the limit is {limits.max_bytes / 1e6:.0f} MB."
        )
    fmt = formats.sniff(data)
    if fmt is None:
        raise UnsupportedFormat(f"This is not a supported image. pixelpress reads {formats.readable_labels()}.")
    # Before any Pillow opener: the WebP opener allocates the whole canvas, and
    # the GIF and APNG openers allocate a disposal canvas, all from header claims.
    size = fmt.size(data)
    if size is None and fmt.size_required:  # its decoder would not read it either
        raise CorruptImage(f"The {fmt.name.upper()} file is damaged: its header cannot be read.")
    if size is not None and size[0] * size[1] > limits.max_pixels:
        raise DecompressionBomb(_bomb_message(*size, limits))
    if not fmt.available():
        limits.check_work(*size)  # the provider decodes the whole picture at once, before open_image's check
    return fmt


@dataclass
class Header:
    """What a file says about itself, read and checked (size, pixel cap, memory) before any pixel is decoded."""
    format: str  # upper-case name, e.g. "JPEG"
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
                            codecs: Codecs | None = None) -> Header:
    """`read_header`, awaiting the provider where it decodes: an AVIF or HEIC where Pillow cannot read it is
    decoded whole by the provider, so `image` is loaded."""
    fmt = check_header(data, limits)
    name = fmt.name.upper()
    out_warnings: list[str] = []
    data = fmt.prepare(data)
    if not fmt.available() and codecs is None and fmt.missing and sys.platform != "emscripten":
        needs, install = fmt.missing  # natively, a library not installed; in the worker the provider decodes
        raise MissingDependency(f"Reading {fmt.label} files needs {needs}, which is not installed here. "
                                f"Install it with: {install}")
    stored = await browser.decode_stored(codecs, fmt, data) if not fmt.available() else None
    try:
        if stored is not None:
            im, exif_trouble = _exif_quietly(name, browser.stored_image, stored, data, fmt)
        else:
            im, exif_trouble = _exif_quietly(name, fmt.open_image, data)
    except _DAMAGED as exc:
        # Pillow parses a JPEG's EXIF while opening it (for the DPI); a broken
        # EXIF block must cost the metadata, never the picture.
        bare = without_exif(data) if fmt.name == "jpeg" else None
        try:
            im = fmt.open_image(bare) if bare is not None else None
        except _DAMAGED:
            im = None
        if im is None:
            raise CorruptImage(f"The {name} file is damaged: its header cannot be read.") from exc
        exif_trouble = True

    w, h = im.size
    if w <= 0 or h <= 0:
        raise CorruptImage(f"The {name} header gives an impossible size {w}x{h}.")
    if w * h > limits.max_pixels:
        raise DecompressionBomb(_bomb_message(w, h, limits))
    limits.check_work(w, h)

    frames = getattr(im, "n_frames", 1)
    if frames > 1:
        out_warnings.append(_frames_warning(name, frames))

    try:
        exif, trouble = _exif_quietly(name, im.getexif)
        exif_trouble = exif_trouble or trouble
        orientation = int(exif.get(0x0112, 1) or 1)
    except Exception:  # noqa: BLE001 - a malformed EXIF block must not cost the picture
        exif, orientation, exif_trouble = None, 1, True
    if exif_trouble:
        out_warnings.append(_BAD_EXIF)
    return Header(name, im, data, orientation, exif, out_warnings)


def _frames_warning(name: str, frames: int) -> str:
    if name in ("GIF", "AVIF"):
        return f"Input is an animated {name}; only the first frame was used."
    if name == "TIFF":
        return f"Input is a TIFF with {frames} pages; only the first frame was used."
    if name == "HEIC":
        return f"Input is a HEIC holding {frames} pictures; only its primary picture was used."
    return f"Input is a {name}; only the first frame was used."


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
    codecs: Codecs | None = None,
    keep_profile: bool = False,
) -> Decoded:
    """`open_image`, where `codecs` may decode the pixels of a JPEG faster (see browser.py), awaited; the
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

    decoded_by = codecs.name if not formats.by_name(fmt.lower()).available() else PILLOW
    fast = await browser.decode_jpeg(codecs, data, im) if fmt == "JPEG" and im.size == (w, h) else None
    if fast is not None:
        fast.info = im.info  # the EXIF and profile the header gave, for the orientation below
        im, decoded_by = fast, codecs.name

    grey_bits = grey_depth(data) if fmt == "PNG" else None
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


# ------------------------------------------------------------ metadata and modes


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
