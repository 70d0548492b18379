"""The one place where untrusted bytes become a Pillow image.

Order matters: cheap checks (size, magic bytes, header dimensions) run before
any pixel is decoded, so a hostile file costs almost nothing to reject.
"""

from __future__ import annotations

import io
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
    try:
        im = _open_header(data, fmt)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise CorruptImage(f"The {fmt} file is damaged: its header cannot be read.") from exc

    w, h = im.size
    if w <= 0 or h <= 0:
        raise CorruptImage(f"The {fmt} header gives an impossible size {w}x{h}.")
    if w * h > limits.max_pixels:
        raise DecompressionBomb(_bomb_message(w, h, limits))

    out_warnings: list[str] = []
    frames = getattr(im, "n_frames", 1)
    if frames > 1:
        kind = "animated GIF" if fmt == "GIF" else f"{fmt} with {frames} pages" if fmt == "TIFF" else fmt
        out_warnings.append(f"Input is an {kind}; only the first frame was used." if kind.startswith("animated")
                            else f"Input is a {kind}; only the first frame was used.")

    try:
        exif = im.getexif()
        orientation = int(exif.get(0x0112, 1) or 1)
    except Exception:  # a malformed EXIF block must not cost the picture
        exif, orientation = None, 1
        out_warnings.append("EXIF metadata is malformed and was ignored.")
    ow, oh = (h, w) if orientation in _SWAPS_AXES else (w, h)

    if fit is not None and fmt == "JPEG":
        tw, th = fit_size(ow, oh, *fit)
        if (tw, th) != (ow, oh):
            req = (th, tw) if orientation in _SWAPS_AXES else (tw, th)
            im.draft(im.mode if im.mode in ("L", "RGB") else None, req)

    try:
        im.load()
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
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

    image = _normalise_mode(im, out_warnings)
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


def _bomb_message(w: int, h: int, limits: Limits) -> str:
    cap = f"{limits.max_pixels / 1e6:.0f} megapixel limit"
    return f"The image is {w}x{h} ({w * h / 1e6:.1f} megapixels), over the {cap}; it was not decoded."


def _normalise_mode(im: Image.Image, out_warnings: list[str]) -> Image.Image:
    """Every Pillow mode to L, RGB or RGBA, keeping transparency wherever it exists."""
    mode = im.mode
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
        return _to_8bit(im)
    raise UnsupportedFormat(f"Images in colour mode {mode} are not supported.")


def _to_8bit(im: Image.Image) -> Image.Image:
    """Scale 16-bit (or 32-bit int/float) greys into 0-255 instead of clipping."""
    if im.mode == "F":
        lo, hi = im.getextrema()
        span = (hi - lo) or 1.0
        return im.point(lambda v: (v - lo) * (255.0 / span)).convert("L")
    i32 = im.convert("I") if im.mode != "I" else im
    hi = 65535 if im.mode.startswith("I;16") else max(i32.getextrema()[1], 1)
    return i32.point(lambda v: v * (255.0 / hi)).convert("L")
