"""Format conversion: any supported input to JPEG, PNG, WebP or AVIF."""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image

from .. import icc
from ..decode import fit_size
from ..encode import exif_that_fits, flatten, has_alpha, valid_icc
from ..errors import InvalidOption
from ..formats import avif
from ..operation import PILLOW, Job, OpSpec, operation
from ..options import choice, colour, flag, integer, parse_colour
from ..result import Result


@dataclass(frozen=True)
class ConvertOptions:
    format: str = choice("jpeg", ("jpeg", "png", "webp", "avif"), "Output format.")
    quality: int = integer(85, 1, 100, "JPEG, lossy WebP and AVIF quality, on JPEG's scale (AVIF gets libavif's "
                           "twice as far from lossless: 85 is libavif's 70, about the same picture as JPEG 85).")
    progressive: bool = flag(False, "Write a progressive JPEG.")
    lossless: bool = flag(False, "Lossless WebP (quality then sets the effort of compression).")
    compress_level: int = integer(6, 0, 9, "PNG zlib level: 0 fastest, 9 smallest.")
    webp_method: int = integer(3, 0, 6, "WebP encoder effort: 0 fastest, 6 smallest.")
    avif_speed: int = integer(avif.AVIF_SPEED, 0, 10, "AVIF encoder speed: 0 slowest and smallest, 10 fastest.")
    background: str = colour("#ffffff", "Colour that transparency is flattened onto.")
    flatten: bool = flag(False, "Flatten transparency even when the target keeps alpha (PNG, WebP).")
    max_width: int | None = integer(None, 1, 20000, "Fit inside this width; never upscales.", optional=True)
    max_height: int | None = integer(None, 1, 20000, "Fit inside this height; never upscales.", optional=True)
    keep_metadata: bool = flag(False, "Keep EXIF, and an sRGB profile as it came (stripped by default for privacy).")
    colour_profile: str = choice("srgb", ("srgb", "keep"), "srgb: a photo with another colour profile (Display P3, "
                                 "Adobe RGB) is converted to sRGB, the web's default, so it looks the same everywhere; "
                                 "keep: its pixels and profile are kept unchanged.")
    max_kb: int | None = integer(None, 1, 100_000, "At most this many kB: the highest quality up to `quality` "
                                 "that fits is searched for (JPEG, lossy WebP and AVIF).", optional=True)

    def validate(self) -> None:
        if self.max_kb is not None and (self.format == "png" or (self.format == "webp" and self.lossless)):
            raise InvalidOption("max_kb needs a lossy format (JPEG, or WebP without lossless): PNG and lossless "
                                "WebP have no quality to lower", field="max_kb")


# 24.8 bytes per pixel RGBA PNG to WebP, 4.8 JPEG to PNG: never the limit below 50 MP
SPEC = OpSpec("convert", ConvertOptions, PILLOW, label="Convert", work_bytes_per_pixel=25)


@operation(SPEC)
async def convert(job: Job) -> Result:
    opts = job.opts
    fit = (opts.max_width, opts.max_height) if (opts.max_width or opts.max_height) else None
    # Nothing to do to the pixels (no resize, no metadata to write, no size target): the browser may
    # transcode the file whole, several times faster than bringing its pixels into Python and back.
    if not opts.keep_metadata and opts.colour_profile == "srgb" and opts.max_kb is None:
        done = await job.transcode(opts.format, fit=fit, quality=opts.quality, progressive=opts.progressive,
                             lossless=opts.lossless, method=opts.webp_method)
        if done is not None:
            out, size = done
            return job.finish(out, opts.format, size, converted=True, mode="RGB", quality=opts.quality,
                              metadata_kept=False)
    src = await job.open(fit=fit, keep_profile=opts.colour_profile == "keep")
    im = src.image

    if fit is not None:
        target = fit_size(src.width, src.height, *fit)
        if im.size != target:
            with job.span("resize"):
                im = im.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)

    if has_alpha(im) and (opts.format == "jpeg" or opts.flatten):
        with job.span("flatten"):
            im = flatten(im, parse_colour(opts.background, "background"))

    exif = exif_that_fits(opts.format, src.exif, job.warnings) if opts.keep_metadata else None
    # A kept profile travels with its pixels; a converted one no longer describes them (untagged is sRGB).
    keeps_icc = src.colour == icc.KEPT or (src.colour == icc.SRGB and opts.keep_metadata)
    profile = valid_icc(src.icc_profile, job.warnings) if keeps_icc else None

    async def encode(quality: int) -> bytes:
        own = avif.avif_quality(quality) if opts.format == "avif" else quality
        return await job.encode(im, opts.format, quality=own, progressive=opts.progressive, lossless=opts.lossless,
                          method=opts.webp_method, compress_level=opts.compress_level, avif_speed=opts.avif_speed,
                          exif=exif, icc_profile=profile)

    lossy = opts.format in ("jpeg", "avif") or (opts.format == "webp" and not opts.lossless)
    quality, out = opts.quality, await encode(opts.quality)
    target = {}
    if opts.max_kb is not None:
        quality, out, met = await fit_size_target(encode, opts.quality, opts.max_kb * 1000, out)
        target = {"target_kb": opts.max_kb, "target_met": met}
        if not met:
            job.warnings.append(f"At most {opts.max_kb} kB could not be reached: at quality 1 the file is "
                                f"{len(out) / 1000:.0f} kB. A smaller width gets there.")
    # Checked on the file itself: the browser's AVIF encoder takes pixels only, and the engine adds the rest.
    dropped = opts.format == "avif" and bool(exif or profile) and not avif.carries(out, bool(exif), profile)
    if dropped:
        job.warnings.append("The EXIF metadata or ICC profile could not be stored in this AVIF, so it was dropped; "
                            "WebP, JPEG and PNG keep them.")
    return job.finish(out, opts.format, im.size, converted=True, mode=im.mode,
                      quality=quality if lossy else None, metadata_kept=opts.keep_metadata and not dropped, **target)


async def fit_size_target(encode, top: int, limit: int, first: bytes) -> tuple[int, bytes, bool]:
    """The highest quality up to `top` whose file is at most `limit` bytes: (quality, bytes, met).

    Size grows with quality, so a binary search takes about 7 encodes for the whole range;
    `first` is the file at `top`. When even quality 1 is too big, that file is returned, not met.
    """
    if len(first) <= limit:
        return top, first, True
    lo, hi, best = 1, top - 1, None
    while lo <= hi:
        mid = (lo + hi) // 2
        data = await encode(mid)
        if len(data) <= limit:
            best, lo = (mid, data), mid + 1
        else:
            hi = mid - 1
    if best is not None:
        return best[0], best[1], True
    return 1, await encode(1), False
