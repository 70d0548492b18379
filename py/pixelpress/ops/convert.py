"""Format conversion: any supported input to JPEG, PNG or WebP."""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image

from ..decode import Limits, fit_size, open_image
from ..encode import MIME, encode_jpeg, encode_png, encode_webp, exif_that_fits, flatten, has_alpha, valid_icc
from ..options import choice, colour, flag, integer, parse_colour, parse_options
from ..registry import budgeted
from ..result import Result, Timings


@dataclass(frozen=True)
class ConvertOptions:
    format: str = choice("jpeg", ("jpeg", "png", "webp"), "Output format.")
    quality: int = integer(85, 1, 100, "JPEG and lossy WebP quality.")
    progressive: bool = flag(False, "Write a progressive JPEG.")
    lossless: bool = flag(False, "Lossless WebP (quality then sets the effort of compression).")
    compress_level: int = integer(6, 0, 9, "PNG zlib level: 0 fastest, 9 smallest.")
    webp_method: int = integer(4, 0, 6, "WebP encoder effort: 0 fastest, 6 smallest.")
    background: str = colour("#ffffff", "Colour that transparency is flattened onto.")
    flatten: bool = flag(False, "Flatten transparency even when the target keeps alpha (PNG, WebP).")
    max_width: int | None = integer(None, 1, 20000, "Fit inside this width; never upscales.", optional=True)
    max_height: int | None = integer(None, 1, 20000, "Fit inside this height; never upscales.", optional=True)
    keep_metadata: bool = flag(False, "Keep EXIF and ICC profile (stripped by default for privacy).")


@budgeted("convert")
def convert(data: bytes, options: ConvertOptions | dict | None = None,
            limits: Limits | None = None) -> Result:
    opts = parse_options(ConvertOptions, options)
    t = Timings()
    fit = (opts.max_width, opts.max_height) if (opts.max_width or opts.max_height) else None
    with t.span("decode"):
        src = open_image(data, limits, fit=fit)
    im = src.image
    warnings = list(src.warnings)

    if fit is not None:
        target = fit_size(src.width, src.height, *fit)
        if im.size != target:
            with t.span("resize"):
                im = im.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)

    if has_alpha(im) and (opts.format == "jpeg" or opts.flatten):
        with t.span("flatten"):
            im = flatten(im, parse_colour(opts.background, "background"))

    exif = exif_that_fits(opts.format, src.exif, warnings) if opts.keep_metadata else None
    icc = valid_icc(src.icc_profile, warnings) if opts.keep_metadata else None
    if src.icc_profile and not opts.keep_metadata:
        warnings.append("ICC profile dropped (metadata stripped); colours are kept as stored.")

    with t.span("encode"):
        if opts.format == "jpeg":
            out = encode_jpeg(im, quality=opts.quality, progressive=opts.progressive, exif=exif, icc_profile=icc)
        elif opts.format == "png":
            out = encode_png(im, compress_level=opts.compress_level, exif=exif, icc_profile=icc)
        else:
            out = encode_webp(im, quality=opts.quality, lossless=opts.lossless, method=opts.webp_method,
                              exif=exif, icc_profile=icc)

    lossy = opts.format == "jpeg" or (opts.format == "webp" and not opts.lossless)
    meta = {
        "converted": True,
        "format": opts.format,
        "width": im.width,
        "height": im.height,
        "mode": im.mode,
        "bytes": len(out),
        "quality": opts.quality if lossy else None,
        "input_format": src.format.lower(),
        "input_width": src.width,
        "input_height": src.height,
        "input_bytes": len(data),
        "metadata_kept": opts.keep_metadata,
        "timings_ms": t.ms,
        "warnings": warnings,
    }
    return Result(out, MIME[opts.format], meta)
