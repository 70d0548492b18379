"""When the browser's own codecs may do Pillow's work in the worker: the rules, and the calls.

Natively every op decodes and encodes with Pillow. In the browser worker the
bridge hands the op a provider of the browser's own codecs (WebCodecs
`ImageDecoder`, `OffscreenCanvas.convertToBlob`), which are several times
faster than Pyodide's Pillow (libjpeg 9 and libwebp without SIMD). The
provider only moves pixels; this module decides when its result meets the
same contract as Pillow's, and everything else (orientation, flattening,
resizing, metadata) stays the engine's:

- decode: a baseline or progressive YCbCr JPEG of one frame whose markers
  libjpeg accepts to the end (jpeg_stream.py: a browser may conceal what
  libjpeg stops at), when
  no reduced-scale decode is asked for (Pillow's DCT scaling beats a
  full-size browser decode for thumbnails);
- encode JPEG: RGB, not progressive, no metadata kept;
- encode lossy WebP, no metadata kept: an opaque picture at effort 3 (the
  default) through the canvas, which writes native Pillow's bytes; anything
  else (transparency, which a canvas would premultiply, or another effort)
  through libwebp compiled to wasm with SIMD (npm `@jsquash/webp`), set up
  as Pillow's, whose files decode to native Pillow's pixels;
- transcode: a JPEG the op changes in no way (or only in colour, to sRGB)
  goes to JPEG or lossy WebP in the browser whole, its pixels never
  entering Python (`transcode`).

The browser's JPEG decoder hands over its YCbCr planes and the worker
upsamples and converts them exactly as libjpeg-turbo does, so a JPEG decodes
to the same pixels as natively; its JPEG and WebP encoders are libjpeg-turbo
and libwebp, and wrote the same bytes as native Pillow on every sample.

PNG, lossless WebP, CMYK, 16-bit, kept EXIF or ICC, and every odd mode stay
Pillow. A provider that declines or fails (returns None or raises) means
Pillow does the work, so a result never depends on the browser being able to.

AVIF is the exception: Pyodide's Pillow has none, so in the worker the
provider is the only AVIF codec there is (the browser's decoder, and
libavif + libaom compiled to wasm from npm `@jsquash/avif` for encoding),
and natively Pillow's AVIF plugin (libavif + libaom, dav1d) is. Both
encoders are set up alike, so a setting means the same on either side:

- `quality` 1-100 is libavif's own quality scale on both sides (its
  quantizer is round((100 - quality) * 63 / 100)), with libavif's defaults
  otherwise (aom tuned for SSIM, full-range BT.601 4:2:0, alpha coded at
  the same quality, one tile). At the same number AVIF keeps more than
  JPEG does: quality 70 matched JPEG 85's SSIM (within 0.01) on the sample
  photos at 0.67-0.76 of its bytes, and 60 WebP 80's at 2-14 % fewer.
- speed (AVIF_SPEED) 9: the fastest libaom preset (10 writes the same
  bytes). Single-threaded wasm took 1.5-3.2 s for a 12 MP photo there,
  against 4.4 s at 8; libavif's default 6 runs several times slower again
  (bench/codecs.py, T4).
- The two sides are different builds (libavif 1.0.1 with libaom 3.7.0 in
  the wasm; libavif 1.3.0 with libaom 3.12.1 natively), so their bytes
  differ: SSIM 0.971-0.990 between the two outputs, each within 0.004 of
  the other's SSIM against the source, sizes within 0.4 %
  (bench/avif_parity.py). Between two lossy AVIF encoders that is as close
  as it gets short of the same build: natively, libavif quality one step
  down scores 0.88-0.98 against native's own output, speed 8 instead of 9
  0.88-0.97.
- In the browser the wasm encoder takes pixels only: kept EXIF and ICC are
  then added to its boxes as libavif stores them natively (an `Exif` item
  described as the primary image's, a `colr` of type prof;
  avif.with_metadata), and read back before the file is taken.
- Decoding in the browser hands over the stored frame and its rotation and
  flip (`irot`, `imir`); the engine orients it as it does a JPEG's EXIF
  orientation, as Pillow's plugin has it do natively.
"""

from __future__ import annotations

import io

from PIL import Image

from . import browser_probes, icc, pillow_plugins
from .errors import CorruptImage, InternalError, OutOfMemory, UnsupportedFormat
from .formats import Format, avif, by_name
from .formats.isobmff import metadata
from .jpeg_stream import browser_may_decode, pixels_only
from .provider import BROWSER_WEBP_METHOD, ENCODER_UNAVAILABLE, Codecs, as_pillow_writes

# libwebp in wasm takes its own memory beside the interpreter's: about 26 bytes a pixel (95 MB for a
# 2000x1500 cut-out; web/worker/codecs.js lets a big picture's go). Past this many pixels Pyodide's Pillow
# encodes instead, in the heap the op's memory budget already counts, so one big picture cannot take
# the tab down.
WASM_WEBP_MAX_PIXELS = 24_000_000

# ------------------------------------------------------------------ decoding

def jpeg_reduces(width: int, height: int, req: tuple[int, int]) -> bool:
    """Whether Pillow's `draft` would decode this JPEG at a reduced scale for `req`."""
    return min(width // max(1, req[0]), height // max(1, req[1])) >= 2


async def decode_jpeg(codecs: Codecs | None, data: bytes, im: Image.Image) -> Image.Image | None:
    """`im`'s pixels from the provider when its decode meets the contract, else None (Pillow then loads them)."""
    if codecs is None or im.mode != "RGB" or getattr(im, "n_frames", 1) != 1 or not browser_may_decode(data):
        return None
    if not await browser_probes.decodes_like_libjpeg_turbo(codecs):
        return None
    try:
        # Without EXIF and profile: orientation and colour are the engine's, whatever the browser would do.
        out = await codecs.decode_jpeg(pixels_only(data), *im.size)
    except Exception:  # noqa: BLE001 - any failure of the provider: Pillow decodes
        return None
    return out if out is not None and out.size == im.size and out.mode == "RGB" else None


# ------------------------------------------------------------------ transcoding

async def transcode(codecs: Codecs | None, head, fmt: str, *, quality: int, progressive: bool, lossless: bool,
              method: int) -> tuple[bytes, str, str | None] | None:
    """A JPEG re-encoded by the provider without its pixels entering Python, when the engine would change none
    (or only convert its colours to sRGB): (bytes, what was done about colour: icc.SRGB or icc.CONVERTED,
    the profile's name).

    The caller has decided that nothing happens to the pixels (no resize, no
    metadata kept); this adds what else that needs: one upright (orientation 1,
    EXIF read cleanly) YCbCr frame, complete, and an output the provider writes
    as Pillow would. The browser then decodes, draws and encodes in one go, as
    a page alone would: its decode gives the same pixels as the JPEG decode
    above, its encoder the same bytes. A matrix/TRC profile (a phone's Display
    P3) is converted by the browser's own colour management, once it has shown
    on a probe that it converts that profile as the engine does.
    `head` is decode.Header.
    """
    im = head.image
    if (codecs is None or head.format != "JPEG" or im.mode != "RGB" or getattr(im, "n_frames", 1) != 1
            or head.orientation != 1 or head.warnings or not browser_may_decode(head.data)):
        return None
    mime = _browser_mime(fmt, progressive=progressive, lossless=lossless, method=method)
    if (mime is None or not await browser_probes.transcodes_like_libjpeg_turbo(codecs)
            or not await browser_probes.canvas_writes_like_pillow(codecs, mime, quality)):
        return None
    colour, done, name = await _colour_plan(codecs, im.info.get("icc_profile"))
    if colour is None:
        return None
    try:
        out = await codecs.transcode(head.data, *im.size, mime, quality / 100, colour)
    except Exception:  # noqa: BLE001 - any failure of the provider: Pillow decodes and encodes
        return None
    out = as_pillow_writes(out, mime) if out else None
    # What came back must be the picture asked for: a browser may clamp where Pillow would refuse.
    if not out or by_name("jpeg" if mime == "image/jpeg" else "webp").size(out) != im.size:
        return None
    return out, done, name


async def _colour_plan(codecs: Codecs, profile: bytes | None) -> tuple[str | None, str, str | None]:
    """How the provider treats the file's profile ("untagged", "none", "srgb"; None: it cannot), what that
    does (icc.SRGB, CONVERTED), and the profile's name."""
    if not profile:
        return "untagged", icc.SRGB, None
    read = icc.read_profile(profile)
    if read is None or read.space != "RGB":
        return None, icc.UNMANAGED, None
    if read.is_srgb:
        return "none", icc.SRGB, read.name
    if read.colorants is not None and await converts_like_the_engine(codecs, profile):
        return "srgb", icc.CONVERTED, read.name
    return None, icc.UNMANAGED, read.name


_PROBED: dict[tuple[str, bytes], bool] = {}
# Probe colours: a 6x6x6 cube of the RGB space and the darkest greys, where a wrong curve shows most.
_PROBE_COLOURS = [(r, g, b) for r in range(0, 256, 51) for g in range(0, 256, 51) for b in range(0, 256, 51)] + [
    (v, v, v) for v in range(2, 34, 4)]
_PROBE_ROW = 16  # blocks per row of the probe picture


async def converts_like_the_engine(codecs: Codecs, profile: bytes) -> bool:
    """Whether the provider converts this profile to sRGB within 1 level of pixelpress.icc, on a probe.

    A browser whose colour management differs, or that ignores the profile,
    would otherwise change colours silently; one probe per profile (a batch
    from one camera shares it) costs a 128x112 JPEG, a few ms.
    """
    key = (codecs.name, profile)
    if key not in _PROBED:
        patch = Image.new("RGB", (8 * _PROBE_ROW, 8 * -(-len(_PROBE_COLOURS) // _PROBE_ROW)))
        for i, c in enumerate(_PROBE_COLOURS):
            x, y = 8 * (i % _PROBE_ROW), 8 * (i // _PROBE_ROW)
            patch.paste(c, (x, y, x + 8, y + 8))
        buf = io.BytesIO()
        patch.save(buf, "JPEG", quality=100, subsampling=0, icc_profile=profile)
        stored = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
        stored.info.pop("icc_profile", None)
        expected = icc.convert_matrix(stored, profile)
        try:
            got = await codecs.transcode(buf.getvalue(), *patch.size, "image/png", 1.0, "srgb")
            seen = Image.open(io.BytesIO(got)).convert("RGB") if got else None
        except Exception:  # noqa: BLE001 - a provider that fails the probe is not used for colour
            seen = None
        if len(_PROBED) >= 64:  # profiles are a few kB each; a long batch of distinct ones starts over
            _PROBED.clear()
        _PROBED[key] = seen is not None and seen.size == patch.size and max(
            abs(a - b) for pa, pb in zip(seen.getdata(), expected.getdata(), strict=True)
            for a, b in zip(pa, pb, strict=True)) <= 1
    return _PROBED[key]


def _browser_mime(fmt: str, *, progressive: bool, lossless: bool, method: int) -> str | None:
    """The provider's output type when its encoder writes `fmt` as Pillow does with these settings, else None."""
    if fmt == "jpeg" and not progressive:
        return "image/jpeg"
    if fmt == "webp" and not lossless and method == BROWSER_WEBP_METHOD:
        return "image/webp"
    return None


async def decode_stored(codecs: Codecs | None, fmt: Format, data: bytes) -> tuple[Image.Image, int, int]:
    """An AVIF's or HEIC's picture decoded by the provider, where Pillow cannot (Pyodide's has neither):
    its `decode_avif` or `decode_heic` answer, to be opened by `stored_image`.

    No decoder at all: unsupported_format; one that fails on the file: corrupt_image.
    """
    decoder = getattr(codecs, f"decode_{fmt.name}", None) if codecs is not None else None
    try:
        got = await decoder(data) if decoder is not None else None
    except Exception as exc:  # noqa: BLE001 - the decoder refused the bytes, or could not be loaded
        if getattr(exc, "name", None) == ENCODER_UNAVAILABLE:
            raise UnsupportedFormat(_no_decoder(fmt)) from None
        raise CorruptImage(f"The {fmt.label} file is damaged and its pixels cannot be decoded ({exc}).") from None
    if got is None:
        raise UnsupportedFormat(_no_decoder(fmt))
    return got


def _no_decoder(fmt: Format) -> str:
    if fmt.name == "avif":
        return avif.no_avif(reading=True)
    return (f"This browser could not load a {fmt.label} decoder (its own or pixelpress's). Try again once "
            "online, or convert the file to JPEG, PNG or WebP first.")


def stored_image(got: tuple[Image.Image, int, int], data: bytes, fmt: Format) -> Image.Image:
    """The provider's decoded AVIF or HEIC as Pillow's plugins open one: `info` with the EXIF (whose orientation
    is the one the provider left to apply: an AVIF's irot/imir, 1 for a HEIC it turned) and the ICC
    profile, both read from the boxes; `n_frames`."""
    im, orientation, frames = got
    if fmt.name == "avif" and im.mode == "RGBA" and not avif.has_alpha(data):
        im = im.convert("RGB")  # the browser hands some opaque files over as RGBA
    exif, profile = metadata(data, tiles=fmt.name == "heic")
    if orientation != 1 or exif:
        tags = Image.Exif()
        if exif:
            tags.load(exif)
        if tags.get(0x0112, 1) != orientation:  # the boxes win over the EXIF, as in Pillow's plugins
            tags[0x0112] = orientation
            exif = tags.tobytes()
    im.info = {k: v for k, v in (("exif", exif), ("icc_profile", profile)) if v}
    im.n_frames = frames
    return im


# ------------------------------------------------------------------ encoding

async def avif_by_provider(codecs: Codecs | None, im: Image.Image, *, quality: int, speed: int,
                           exif: bytes | None, icc_profile: bytes | None) -> bytes | None:
    """`im` as AVIF by the provider, where Pillow has no AVIF or nothing but pixels is asked for; else None
    (then encode.py has Pillow write it)."""
    if codecs is None or ((exif or icc_profile) and pillow_plugins.AVIF):
        return None
    rgba = im if im.mode == "RGBA" else im.convert("RGBA")
    try:
        out = await codecs.encode_avif(rgba.tobytes(), *im.size, quality, speed)
    except Exception as exc:  # noqa: BLE001 - a wasm abort: Pillow, if it can, else a typed error
        if pillow_plugins.AVIF:
            return None
        message = str(getattr(exc, "message", exc))
        if getattr(exc, "name", None) == ENCODER_UNAVAILABLE:
            raise UnsupportedFormat(f"AVIF cannot be written right now: {message}. Try again once online, "
                                    "or choose WebP, JPEG or PNG.") from None
        if "memory" in message.lower():
            raise OutOfMemory("The browser's AVIF encoder ran out of memory; make the picture smaller "
                              "or choose WebP.") from None
        raise InternalError(f"The browser's AVIF encoder failed: {message}") from None
    if out and (exif or icc_profile):
        # The wasm encoder takes pixels only: the EXIF item and ICC profile go into its boxes as
        # libavif (native Pillow) stores them. A file laid out otherwise keeps none (the op says so).
        out = avif.with_metadata(out, exif, icc_profile) or out
    return out


async def encode(codecs: Codecs | None, im: Image.Image, fmt: str, *, quality: int, progressive: bool, lossless: bool,
           method: int, exif: bytes | None, icc_profile: bytes | None) -> bytes | None:
    """`im` encoded by the provider when its encoder meets the contract, else None (Pillow encodes)."""
    if codecs is None or exif or icc_profile:
        return None
    mime = _browser_mime(fmt, progressive=progressive, lossless=lossless, method=method)
    try:
        if (mime == "image/jpeg" and im.mode == "RGB"
                and await browser_probes.canvas_writes_like_pillow(codecs, mime, quality)):
            out = await codecs.encode(im.tobytes("raw", "RGBX"), *im.size, "RGBX", mime, quality / 100)
            return as_pillow_writes(out, mime) if out else None
        if fmt == "webp" and not lossless and im.mode in ("RGB", "RGBA"):
            return await _webp(codecs, im, quality, method)
    except Exception:  # noqa: BLE001 - any failure of the provider: Pillow encodes
        return None
    return None


async def _webp(codecs: Codecs, im: Image.Image, quality: int, method: int) -> bytes | None:
    """Lossy WebP: the canvas's VP8 encoder for an opaque picture at effort 3, else libwebp in wasm.

    A canvas premultiplies alpha and has one effort, 3, at which it writes
    native Pillow's bytes. Anything else (transparency, another effort, a
    canvas that cannot write WebP at all) goes to the provider's libwebp,
    set up as Pillow's: its pictures decoded to the same pixels as native
    Pillow's, alpha included, at every effort and quality measured, with
    files within 1 % of its size.
    """
    w, h = im.size
    opaque = im.mode == "RGB" or im.getchannel("A").getextrema() == (255, 255)
    if (opaque and method == BROWSER_WEBP_METHOD
            and await browser_probes.canvas_writes_like_pillow(codecs, "image/webp", quality)):
        out = await codecs.encode(im.tobytes("raw", "RGBX" if im.mode == "RGB" else "RGBA"), w, h, "RGBX", "image/webp",
                                  quality / 100)
        # The VP8 frame alone, as libwebp writes an opaque picture: without the sRGB profile the browser adds.
        out = as_pillow_writes(out, "image/webp") if out else None
        if out is not None:
            return out
        # A canvas that cannot write WebP (Safari's, WebKit's) leaves it to libwebp in wasm.
    if w * h > WASM_WEBP_MAX_PIXELS:
        return None
    # All-opaque RGBA is fine: libwebp then writes no alpha plane, as Pillow does for RGB.
    rgba = im.convert("RGBA") if im.mode == "RGB" else im
    out = await codecs.encode_webp(rgba.tobytes(), w, h, quality, method)
    return out if out and by_name("webp").size(out) == im.size else None
