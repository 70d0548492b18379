"""Which codec makes the pixels or the bytes: Pillow, or a faster one the caller provides.

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

import struct
import sys
from typing import Protocol

from PIL import Image

from . import browser_probes, icc, pillow_plugins
from .jpeg_stream import browser_may_decode, pixels_only

PILLOW = "pillow"
# Chromium's canvas encodes WebP with libwebp at effort ("method") 3; at that
# effort its bytes equal native Pillow's, at any other they differ (SSIM
# 0.978-0.995 between the two at 4), so only effort 3 goes to the canvas (and
# the other efforts to wasm libwebp, which runs any, see _webp).
BROWSER_WEBP_METHOD = 3

# libwebp in wasm takes its own memory beside the interpreter's: about 26 bytes a pixel (95 MB for a
# 2000x1500 cut-out; web/worker/codecs.js lets a big picture's go). Past this many pixels Pyodide's Pillow
# encodes instead, in the heap the op's memory budget already counts, so one big picture cannot take
# the tab down.
WASM_WEBP_MAX_PIXELS = 24_000_000

# The name of the error web/worker/codecs.js rejects with when a wasm codec cannot be loaded at all.
ENCODER_UNAVAILABLE = "EncoderUnavailable"

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


class Codecs(Protocol):
    """What a codec provider offers: coroutines, awaited by the engine (in the worker they await the browser's
    promises, so no stack switching is needed). `name` goes into meta ("browser")."""

    name: str

    async def decode_jpeg(self, data: bytes, width: int, height: int) -> Image.Image | None:
        """The JPEG's RGB pixels as stored (no EXIF orientation, no colour conversion), or None."""

    async def encode(self, pixels: bytes, width: int, height: int, layout: str, mime: str, quality: float) -> bytes | None:
        """Opaque pixels (`layout` "RGBX": the 4th byte is ignored) as `mime` at `quality` (0-1), or None."""

    async def transcode(self, data: bytes, width: int, height: int, mime: str, quality: float, colour: str) -> bytes | None:
        """A JPEG's pixels (no orientation applied) encoded as `mime`, or None.

        `colour` "untagged": the file has no profile; "none": its profile is not
        applied (pixels as stored); "srgb": it is, the pixels come out in sRGB."""

    async def decode_avif(self, data: bytes) -> tuple[Image.Image, int, int] | None:
        """(RGB or RGBA image as stored, EXIF orientation of its irot/imir, frame count), or None
        when the browser has no AVIF decoder; raises when the file cannot be decoded."""

    async def encode_avif(self, pixels: bytes, width: int, height: int, quality: int, speed: int) -> bytes | None:
        """Straight-alpha RGBA pixels as AVIF (libavif quality and speed), or None."""

    async def encode_webp(self, pixels: bytes, width: int, height: int, quality: int, method: int) -> bytes | None:
        """Straight-alpha RGBA pixels as lossy WebP by libwebp set up as Pillow's (quality, method), or None."""


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
    from .decode import header_size  # decode imports this module

    # What came back must be the picture asked for: a browser may clamp where Pillow would refuse.
    if not out or header_size(out, "JPEG" if mime == "image/jpeg" else "WEBP") != im.size:
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
        import io

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


def as_pillow_writes(data: bytes, mime: str) -> bytes | None:
    """The browser's file without the sRGB profile it embeds: Pillow, stripping metadata, writes none."""
    if mime == "image/jpeg":
        return _jpeg_without_icc(data)
    chunks = _chunks(data)
    vp8 = chunks.get(b"VP8 ") if chunks else None
    return _riff([(b"VP8 ", vp8)]) if vp8 is not None else None


async def decode_avif(codecs: Codecs | None, data: bytes) -> tuple[Image.Image, int, int]:
    """An AVIF's first frame decoded by the provider, for a Pillow without AVIF: its `decode_avif` answer,
    to be opened by `avif_image`.

    No decoder at all: unsupported_format; one that fails on the file: corrupt_image.
    """
    from .errors import CorruptImage, UnsupportedFormat

    try:
        got = await codecs.decode_avif(data) if codecs is not None else None
    except Exception as exc:  # noqa: BLE001 - the decoder refused the bytes, or could not be loaded
        if getattr(exc, "name", None) == ENCODER_UNAVAILABLE:
            raise UnsupportedFormat(no_avif(reading=True)) from None
        raise CorruptImage(f"The AVIF file is damaged and its pixels cannot be decoded ({exc}).") from None
    if got is None:
        raise UnsupportedFormat(no_avif(reading=True))
    return got


def avif_image(got: tuple[Image.Image, int, int], data: bytes) -> Image.Image:
    """The provider's decoded AVIF as Pillow's plugin opens one: `info` with the EXIF (whose orientation is
    the file's irot/imir) and the ICC profile; `n_frames`."""
    from .avif import has_alpha, metadata

    im, orientation, frames = got
    if im.mode == "RGBA" and not has_alpha(data):  # the browser hands some opaque files over as RGBA
        im = im.convert("RGB")
    exif, icc = metadata(data)
    if orientation != 1 or exif:
        tags = Image.Exif()
        if exif:
            tags.load(exif)
        if tags.get(0x0112, 1) != orientation:  # the boxes win over the EXIF, as in Pillow's plugin
            tags[0x0112] = orientation
            exif = tags.tobytes()
    im.info = {k: v for k, v in (("exif", exif), ("icc_profile", icc)) if v}
    im.n_frames = frames
    return im


# ------------------------------------------------------------------ encoding

async def encode_avif(codecs: Codecs | None, im: Image.Image, *, quality: int, speed: int, exif: bytes | None,
                icc_profile: bytes | None) -> bytes | None:
    """`im` as AVIF by the provider, where Pillow has no AVIF or nothing but pixels is asked for; else None."""
    if codecs is None or ((exif or icc_profile) and pillow_plugins.AVIF):
        return None
    from .errors import InternalError, OutOfMemory, UnsupportedFormat

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
        from .avif import with_metadata

        out = with_metadata(out, exif, icc_profile) or out
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


def _jpeg_without_icc(data: bytes) -> bytes | None:
    """The browser's JPEG without the sRGB profile it embeds (APP2 ICC_PROFILE), as Pillow writes none.

    None if it is not a JPEG whose header can be walked.
    """
    if data[:2] != b"\xff\xd8":
        return None
    out, i = bytearray(data[:2]), 2
    while i + 4 <= len(data) and data[i] == 0xFF:
        marker = data[i + 1]
        if marker == 0xDA:
            return bytes(out) + data[i:]
        end = i + 2 + int.from_bytes(data[i + 2:i + 4], "big")
        if not (marker == 0xE2 and data[i + 4:i + 16] == b"ICC_PROFILE\0"):
            out += data[i:end]
        i = end
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
    from .decode import header_size  # decode imports this module

    return out if out and header_size(out, "WEBP") == im.size else None


def _chunks(data: bytes | None) -> dict[bytes, bytes] | None:
    """A WebP's chunks by FourCC (the first of each), or None if it is not a WebP."""
    if not data or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return None
    out, i = {}, 12
    while i + 8 <= len(data):
        kind, size = data[i:i + 4], struct.unpack_from("<L", data, i + 4)[0]
        out.setdefault(kind, data[i + 8:i + 8 + size])
        i += 8 + size + (size & 1)
    return out


def _riff(chunks: list[tuple[bytes, bytes]]) -> bytes:
    body = b"".join(kind + struct.pack("<L", len(c)) + c + (b"\0" if len(c) & 1 else b"") for kind, c in chunks)
    return b"RIFF" + struct.pack("<L", 4 + len(body)) + b"WEBP" + body
