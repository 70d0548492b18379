"""The team asset pack: one ZIP with everything a team needs, from a logo and a roster.

A pipeline of small steps run in order, each timed (`meta["timings_ms"]`),
each reporting its files to the optional `progress` callback:

    logo/logo-{64,128,256,512,1024}.png   cleaned logo, square, transparent
    favicon.ico                           16, 32, 48
    shirt/tshirt-front.jpg, tshirt-back.jpg  1200x1200 mockups
    banners/roster-1500x500.png, roster-1200x630.png
    social/og-1200x630.png                link-preview card (logo, name, sport)
    social/post-1080x1080.png             square post for Instagram/Facebook
    web/hero-{320..1280}.webp/.jpg        the 1500x500 banner, web-ready, + web/picture.html
    manifest.json                         every file with pixel size and byte size

Team colours default to the logo's dominant colours.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import zipfile

from PIL import Image

from .. import fonts
from ..decode import Limits, open_image
from ..encode import encode_jpeg, encode_png
from ..errors import PixelpressError
from ..options import parse_colour, parse_options
from ..registry import budgeted
from ..result import Result, Timings
from ..team import TeamOptions, team_palette
from .banner import render_banner, render_card
from .logo import LogoOptions, clean
from .mockup import render_back, render_front
from .upscale import upscale_image
from .web_sizes import WebSizesOptions, make_sizes, target_widths

LOGO_SIZES = (64, 128, 256, 512, 1024)
ICO_SIZES = (16, 32, 48)
SHIRT_SIZE = 1200
_STORED = (".jpg", ".webp")  # already entropy-coded: deflate would only cost time
_EPOCH = (2020, 1, 1, 0, 0, 0)  # fixed timestamps: the same input gives the same ZIP


class _Pack:
    def __init__(self, total: int, progress):
        self.buf = io.BytesIO()
        self.zip = zipfile.ZipFile(self.buf, "w", zipfile.ZIP_DEFLATED, compresslevel=6)
        self.files: list[dict] = []
        self.total = total
        self.progress = progress

    def add(self, path: str, blob: bytes, mime: str, width: int | None, height: int | None, **extra):
        info = zipfile.ZipInfo(path, _EPOCH)
        info.compress_type = zipfile.ZIP_STORED if path.endswith(_STORED) else zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        self.zip.writestr(info, blob)
        entry = {"path": path, "mime": mime, "width": width, "height": height, "bytes": len(blob),
                 "sha256": hashlib.sha256(blob).hexdigest()}
        entry.update(extra)
        self.files.append(entry)
        if self.progress is not None:
            self.progress({"done": len(self.files), "total": self.total, "file": path})


@budgeted("asset_pack")
def asset_pack(data: bytes, options: TeamOptions | dict | None = None, limits: Limits | None = None,
               progress=None) -> Result:
    opts = parse_options(TeamOptions, options)
    t = Timings()
    warnings: list[str] = []
    with t.span("decode"):
        try:
            src = open_image(data, limits)
        except PixelpressError as exc:
            raise type(exc)(f"The logo cannot be used: {exc.message}", field="logo") from None
    warnings += src.warnings

    with t.span("logo_cleanup"):
        cl = clean(src.image, LogoOptions(background=opts.background, palette=opts.palette))
    warnings += cl.warnings
    colors = list(opts.colors) or cl.colors
    pal = team_palette(colors or ["#0b2545", "#ffc72c"])
    logo = cl.image
    featured = opts.featured()
    shirt = parse_colour(opts.shirt_color, "shirt_color")
    web_widths = target_widths(1500)
    total = len(LOGO_SIZES) + 1 + 2 + 2 + 2 + 2 * len(web_widths) + 1 + 1
    pack = _Pack(total, progress)

    with t.span("logo_sizes"):
        master, up_note = _logo_master(logo, LOGO_SIZES[-1])
        if up_note:
            warnings.append(up_note)
        for s in sorted(LOGO_SIZES, reverse=True):
            sq = _square(master, s)
            pack.add(f"logo/logo-{s}.png", encode_png(sq), "image/png", s, s)
        pack.files.sort(key=lambda f: f["width"])  # list them small to large
    with t.span("favicon"):
        icon = _square(master, 256, pad=0.02)
        buf = io.BytesIO()
        icon.save(buf, "ICO", sizes=[(s, s) for s in ICO_SIZES])
        pack.add("favicon.ico", buf.getvalue(), "image/x-icon", ICO_SIZES[-1], ICO_SIZES[-1],
                 sizes=[[s, s] for s in ICO_SIZES])
    with t.span("tshirt_front"):
        im = render_front(logo, shirt, SHIRT_SIZE)
        pack.add("shirt/tshirt-front.jpg", encode_jpeg(im, quality=88, progressive=True), "image/jpeg", *im.size)
    with t.span("tshirt_back"):
        name = featured.name if featured else opts.team_name
        number = featured.number if featured else None
        im = render_back(name, number, colors, shirt, SHIRT_SIZE)
        pack.add("shirt/tshirt-back.jpg", encode_jpeg(im, quality=88, progressive=True), "image/jpeg", *im.size)
    hero = None
    for size in ((1500, 500), (1200, 630)):
        with t.span(f"banner_{size[0]}x{size[1]}"):
            if opts.players:
                im, _boxes, _mask = render_banner(logo, opts.team_name, opts.sport, opts.players, pal, size)
            else:
                im, _boxes, _mask = render_card(logo, opts.team_name, opts.sport, pal, size)
            pack.add(f"banners/roster-{size[0]}x{size[1]}.png", encode_png(im), "image/png", *im.size)
            if size == (1500, 500):
                hero = im
    for label, size in (("og", (1200, 630)), ("post", (1080, 1080))):
        with t.span(f"social_{label}"):
            im, _b, _m = render_card(logo, opts.team_name, opts.sport, pal, size)
            pack.add(f"social/{label}-{size[0]}x{size[1]}.png", encode_png(im), "image/png", *im.size)
    with t.span("web_sizes"):
        outs, snippet = make_sizes(hero, WebSizesOptions(base_name="hero", url_prefix="web/",
                                                         alt=f"{opts.team_name} roster"))
        for o in outs:
            pack.add(f"web/{o.name}", o.data, o.mime, o.meta["width"], o.meta["height"])
        pack.add("web/picture.html", snippet.encode(), "text/html", None, None)
    if fonts.warning():
        warnings.append(fonts.warning())

    with t.span("manifest"):
        manifest = {
            "team": {"name": opts.team_name, "sport": opts.sport, "colors": colors,
                     "players": [{"number": p.number, "name": p.name} for p in opts.players],
                     "featured_player": featured.number if featured else None},
            "logo_colors": cl.colors,
            "files": pack.files,
        }
        blob = json.dumps(manifest, indent=2, ensure_ascii=False).encode()
        info = zipfile.ZipInfo("manifest.json", _EPOCH)
        info.compress_type = zipfile.ZIP_DEFLATED
        pack.zip.writestr(info, blob)
        if progress is not None:
            progress({"done": total, "total": total, "file": "manifest.json"})
        pack.zip.close()
    out = pack.buf.getvalue()
    meta = {
        "format": "zip",
        "width": logo.width,  # the cleaned logo the pack is made from
        "height": logo.height,
        "bytes": len(out),
        "files": len(pack.files) + 1,
        "manifest": manifest,
        "colors": colors,
        "logo_colors": cl.colors,
        "timings_ms": t.ms,
        "warnings": warnings,
    }
    return Result(out, "application/zip", meta)


def _logo_master(logo: Image.Image, target: int) -> tuple[Image.Image, str | None]:
    """The logo big enough for the largest square; small logos are upscaled (flat-art path)."""
    need = target * 0.9 / max(logo.width, logo.height)
    if need <= 1.0:
        return logo, None
    big, left = logo, need
    for _ in range(2):  # at most 16x, in two flat-art passes (sharper than one Lanczos jump)
        if left <= 1.0:
            break
        factor = min(4, max(2, math.ceil(left)))
        big = upscale_image(big, factor, art=True)
        left /= factor
    note = None
    if need > 4:
        note = (f"The logo is small ({logo.width}x{logo.height}); the {target} px version is upscaled "
                f"{need:.0f}x and may look soft. Upload a larger logo for best results.")
    return big, note


def _square(logo: Image.Image, size: int, pad: float = 0.05) -> Image.Image:
    inner = size * (1 - 2 * pad)
    sc = inner / max(logo.width, logo.height)
    w, h = max(1, round(logo.width * sc)), max(1, round(logo.height * sc))
    im = logo.resize((w, h), Image.Resampling.LANCZOS, reducing_gap=3.0 if sc < 0.5 else None)
    canvas = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    canvas.paste(im, ((size - w) // 2, (size - h) // 2))
    return canvas
