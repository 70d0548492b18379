"""The one place where untrusted bytes become a Pillow image.

Order matters: cheap checks (size, magic bytes, header dimensions) run before
any pixel is decoded, so a hostile file costs almost nothing to reject.
"""

from __future__ import annotations

import io
import struct
import warnings
from dataclasses import dataclass, field

from PIL import Image, ImageOps, UnidentifiedImageError

from . import pillow_plugins  # noqa: F401  (registers exactly the formats below)
from .errors import CorruptImage, DecompressionBomb, EmptyInput, TooLarge, UnsupportedFormat


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 50_000_000
    max_pixels: int = 50_000_000


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
}

# Orientations 5-8 swap width and height.
_SWAPS_AXES = {5, 6, 7, 8}

# What Pillow raises on damaged data. OverflowError belongs here because in
# wasm (32-bit sizes) a huge offset in a header fails to seek with it, where
# a 64-bit build seeks past the end and reports a short read instead.
_DAMAGED = (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, OverflowError)
_BAD_EXIF = "EXIF metadata is malformed and was ignored."


def sniff(data: bytes) -> str | None:
    """The Pillow format name of `data` by its magic bytes, or None."""
    head = bytes(data[:16])
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
    """Size and magic-byte checks; returns the format name. No pixels decoded."""
    if len(data) == 0:
        raise EmptyInput("The file is empty (0 bytes).")
    if len(data) > limits.max_bytes:
        raise TooLarge(
            f"The file is {len(data) / 1e6:.1f} MB; the limit is {limits.max_bytes / 1e6:.0f} MB."
        )
    fmt = sniff(data)
    if fmt is None:
        raise UnsupportedFormat(
            "This is not a supported image. pixelpress reads JPEG, PNG, WebP, GIF, BMP and TIFF."
        )
    return fmt


def open_image(
    data: bytes,
    limits: Limits = DEFAULT_LIMITS,
    *,
    fit: tuple[int | None, int | None] | None = None,
) -> Decoded:
    """Decode `data` into an oriented image in one of the modes L, RGB or RGBA.

    `fit` (max width, max height) lets JPEG decode at a reduced scale (DCT
    scaling) when the result will be shrunk anyway; the caller still does the
    final high-quality resize.
    """
    fmt = check_header(data, limits)
    out_warnings: list[str] = []
    try:
        im, exif_trouble = _exif_quietly(fmt, _open_header, data, fmt)
    except _DAMAGED as exc:
        # Pillow parses a JPEG's EXIF while opening it (for the DPI); a broken
        # EXIF block must cost the metadata, never the picture.
        bare = _jpeg_without_exif(data) if fmt == "JPEG" else None
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

    frames = getattr(im, "n_frames", 1)
    if frames > 1:
        kind = "animated GIF" if fmt == "GIF" else f"{fmt} with {frames} pages" if fmt == "TIFF" else fmt
        out_warnings.append(f"Input is an {kind}; only the first frame was used." if kind.startswith("animated")
                            else f"Input is a {kind}; only the first frame was used.")

    try:
        exif, trouble = _exif_quietly(fmt, im.getexif)
        exif_trouble = exif_trouble or trouble
        orientation = int(exif.get(0x0112, 1) or 1)
    except Exception:  # a malformed EXIF block must not cost the picture
        exif, orientation, exif_trouble = None, 1, True
    if exif_trouble:
        out_warnings.append(_BAD_EXIF)
    ow, oh = (h, w) if orientation in _SWAPS_AXES else (w, h)

    if fit is not None and fmt == "JPEG":
        tw, th = fit_size(ow, oh, *fit)
        if (tw, th) != (ow, oh):
            req = (th, tw) if orientation in _SWAPS_AXES else (tw, th)
            im.draft(im.mode if im.mode in ("L", "RGB") else None, req)

    grey_bits = _png_grey_depth(data) if fmt == "PNG" else None
    try:
        im.load()
    except _DAMAGED as exc:
        what = "cut short" if "truncated" in str(exc) else "damaged"
        raise CorruptImage(f"The {fmt} file is {what} and its pixels cannot be decoded.") from exc

    icc = im.info.get("icc_profile") or None
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
    except Exception:
        exif_bytes = None

    image = _normalise_mode(im, out_warnings, fmt=fmt, grey_bits=grey_bits)
    # Metadata travels in Decoded (exif, icc_profile) only. Left on the image,
    # Pillow's writers would copy it into the output (the PNG writer takes the
    # ICC profile, the JPEG writer the comment) even when it was stripped.
    image.info = {}
    return Decoded(image, fmt, ow, oh, exif_bytes, icc, out_warnings)


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


def _jpeg_without_exif(data: bytes) -> bytes | None:
    """The JPEG with its EXIF (APP1 "Exif") and MPF (APP2) segments cut out, or None if it has none.

    Both hold a TIFF directory full of offsets, which is what goes wrong in
    damaged files; everything Pillow needs for the pixels stays.
    """
    out, i, cut = bytearray(data[:2]), 2, False
    while i + 4 <= len(data) and data[i] == 0xFF:
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0xDA, 0xD9):  # start of scan / end: no more metadata
            break
        end = i + 2 + int.from_bytes(data[i + 2:i + 4], "big")
        body = data[i + 4:i + 10]
        if (marker == 0xE1 and body == b"Exif\0\0") or (marker == 0xE2 and body[:4] == b"MPF\0"):
            cut = True
        else:
            out += data[i:end]
        i = end
    return bytes(out) + data[i:] if cut else None


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
        key = key * 255 // ((1 << bits) - 1)  # Pillow's scaling of 1-, 2- and 4-bit samples
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
