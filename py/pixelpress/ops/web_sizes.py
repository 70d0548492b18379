"""Web-ready sizes: 320-1920 px wide, AVIF and WebP plus a JPEG fallback, and a <picture> snippet.

AVIF is on by default and first in the snippet: every current browser
(Chrome, Edge, Firefox, Safari 16.4+, about 95 % of visits) picks it, and at
quality 60 its files came out 2-14 % smaller than the WebPs at 80 on the
sample photos, at an SSIM within 0.013. A browser without AVIF takes the
WebP, and one without either the JPEG, so the snippet never gets worse for
anyone; the cost is one more file per width and its encode (about 1 s more
for a 12 MP photo in the browser). `avif=false` leaves it out.

Widths larger than the source are skipped (never upscaled); a source
narrower than 320 px gives one size at its own width. Each width is reduced
from the previous, larger one (Lanczos), which keeps the chain cheap.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from PIL import Image

from ..encode import encode_async, flatten, has_alpha
from ..errors import InvalidOption, OutOfMemory, UnsupportedFormat
from ..operation import PILLOW, Job, OpSpec, operation, output
from ..options import NAME_MAX, NAME_PATTERN, colour, flag, integer, items, parse_colour, text
from ..result import Output, Result, Timings

WIDTHS = (320, 640, 960, 1280, 1920)
WIDTH_ITEM = {"kind": "int", "min": 16, "max": 4000}


@dataclass(frozen=True)
class WebSizesOptions:
    base_name: str = text("image", NAME_MAX, "File name stem: files are <base>-<width>.avif/.webp/.jpg.")
    url_prefix: str = text("", 200, "Prefix for the URLs in the <picture> snippet, e.g. /img/.")
    alt: str = text("", 200, "Alt text of the <img>.")
    sizes: str = text("100vw", 200, "The sizes attribute of the <picture> sources.")
    avif: bool = flag(True, "Also AVIF files, the first choice of the <picture> snippet.")
    avif_quality: int = integer(60, 1, 100, "AVIF quality (libavif's scale: 60 is within 0.013 of WebP 80's SSIM).")
    webp_quality: int = integer(80, 1, 100, "WebP quality.")
    jpeg_quality: int = integer(82, 1, 100, "JPEG quality.")
    background: str = colour("#ffffff", "Colour that transparency is flattened onto for the JPEGs.")
    widths: tuple = items(WIDTH_ITEM, 8, "Widths to make, in pixels; widths over the source's are skipped, and the "
                          "source's own width is added when it is not over the largest.", min_items=1, default=WIDTHS)

    def validate(self) -> None:
        object.__setattr__(self, "widths", parse_widths(self.widths))
        if not NAME_PATTERN.match(self.base_name):
            raise InvalidOption("base_name may use letters, digits, '.', '_' and '-' and must start with a "
                                f"letter or digit, got {self.base_name!r}", field="base_name")
        if any(c in self.url_prefix for c in "\"'<> "):
            raise InvalidOption("url_prefix must not contain quotes, spaces or angle brackets",
                                field="url_prefix")


def parse_widths(raw) -> tuple[int, ...]:
    """The `widths` list: whole numbers within WIDTH_ITEM's bounds, sorted, each once."""
    if not isinstance(raw, (list, tuple)):
        raise InvalidOption(f"widths must be a list of pixel widths, got {type(raw).__name__}", field="widths")
    if not 1 <= len(raw) <= 8:
        raise InvalidOption(f"widths takes 1 to 8 widths, got {len(raw)}", field="widths")
    lo, hi = WIDTH_ITEM["min"], WIDTH_ITEM["max"]
    for i, w in enumerate(raw):
        if isinstance(w, bool) or not isinstance(w, int) or not lo <= w <= hi:
            raise InvalidOption(f"each width must be a whole number of pixels from {lo} to {hi}, got {w!r}",
                                field=f"widths[{i}]")
    return tuple(sorted(set(raw)))


# 4.6 bytes per pixel, JPEG (decoded at reduced scale)
SPEC = OpSpec("web_sizes", WebSizesOptions, PILLOW, label="Web sizes", work_bytes_per_pixel=5)


@operation(SPEC)
async def web_sizes(job: Job) -> Result:
    src = await job.open(fit=(job.opts.widths[-1], None))
    with job.span("sizes"):
        outputs, snippet = await make_sizes(src.image, job.opts, timings=job.timings, encoder=job.encode,
                                            warnings=job.warnings)
    main = outputs[-2]  # the largest WebP: the main file whether or not AVIF is made
    return job.finish(main.data, "webp", (main.meta["width"], main.meta["height"]),
                      extras=[o for o in outputs if o is not main], name=main.name,
                      files=[{"name": o.name, "mime": o.mime, **o.meta} for o in outputs],
                      widths=sorted({o.meta["width"] for o in outputs}), picture_html=snippet)


def target_widths(width: int, widths: tuple[int, ...] = WIDTHS) -> list[int]:
    """The chosen widths up to the source's, plus the source's own when it is not over the largest."""
    ws = [w for w in widths if w <= width]
    if width <= widths[-1] and width not in ws:
        ws.append(width)
    return ws


async def make_sizes(im: Image.Image, opts: WebSizesOptions | None = None, *, timings: Timings | None = None,
                     encoder=encode_async, warnings: list[str] | None = None) -> tuple[list[Output], str]:
    """Outputs ordered by width, (AVIF,) WebP then JPEG at each width, and the <picture> snippet.

    `encoder` is `encode.encode_async` or a job's (`Job.encode`, which may hand AVIF to the browser's
    encoder). AVIF is optional: where it cannot be written here (no encoder, or not enough memory for it),
    the sizes are made without it and `warnings` says so; the snippet then offers WebP and JPEG.
    """
    opts = opts or WebSizesOptions()
    t = timings or Timings()
    bg = parse_colour(opts.background, "background")
    widths = target_widths(im.width, opts.widths)
    outs: list[Output] = []
    cur = im
    sized = {}
    for w in sorted(widths, reverse=True):
        h = max(1, round(im.height * w / im.width))
        if cur.size != (w, h):
            cur = cur.resize((w, h), Image.Resampling.LANCZOS, reducing_gap=2.0)
        sized[w] = cur
    avif = opts.avif
    for w in widths:
        frame = sized[w]
        files = []
        if avif:
            with t.span(f"avif_{w}"):
                try:
                    files.append(("avif", "avif", await encoder(frame, "avif", quality=opts.avif_quality)))
                except (UnsupportedFormat, OutOfMemory) as exc:
                    avif = False
                    outs = [o for o in outs if o.mime != "image/avif"]
                    if warnings is not None:
                        warnings.append(f"AVIF was left out: {exc.message} The WebP and JPEG sizes were made.")
        with t.span(f"webp_{w}"):
            files.append(("webp", "webp", await encoder(frame, "webp", quality=opts.webp_quality, method=4)))
        flat = flatten(frame, bg) if has_alpha(frame) else frame
        with t.span(f"jpeg_{w}"):
            files.append(("jpg", "jpeg", await encoder(flat.convert("RGB"), "jpeg", quality=opts.jpeg_quality,
                                                       progressive=True)))
        for ext, fmt, blob in files:
            outs.append(output(f"{opts.base_name}-{w}.{ext}", blob, fmt, frame.size))
    return outs, picture_html(outs, opts)


def picture_html(outs: list[Output], opts: WebSizesOptions) -> str:
    def srcset(mime):
        return ", ".join(f"{html.escape(opts.url_prefix + o.name)} {o.meta['width']}w" for o in outs if o.mime == mime)

    jpgs = [o for o in outs if o.mime == "image/jpeg"]
    fallback = jpgs[min(1, len(jpgs) - 1)]  # 640 when there is one: a sane default for old browsers
    sizes = html.escape(opts.sizes, quote=True)
    # Browsers take the first <source> whose type they read: the smallest format first.
    avif = (f'  <source type="image/avif" srcset="{srcset("image/avif")}" sizes="{sizes}">\n'
            if any(o.mime == "image/avif" for o in outs) else "")
    return (
        "<picture>\n"
        f"{avif}"
        f'  <source type="image/webp" srcset="{srcset("image/webp")}" sizes="{sizes}">\n'
        f'  <img src="{html.escape(opts.url_prefix + fallback.name)}" srcset="{srcset("image/jpeg")}" '
        f'sizes="{sizes}" width="{fallback.meta["width"]}" height="{fallback.meta["height"]}" '
        f'alt="{html.escape(opts.alt, quote=True)}" loading="lazy" decoding="async">\n'
        "</picture>"
    )
