"""The team asset pack: one ZIP with everything a team needs, from a logo and a roster.

A pipeline of small steps run in order by `pipeline.run_steps`, each timed
(`meta["timings_ms"]`) and reported to the optional `progress` callback:

    logo/logo-{64,128,256,512,1024}.png   cleaned logo, square, transparent
    favicon.ico                           16, 32, 48
    shirt/tshirt-front.jpg, tshirt-back.jpg  1200x1200 mockups
    banners/roster-1500x500.png, roster-1200x630.png
    social/og-1200x630.png                link-preview card (logo, name, sport)
    social/post-1080x1080.png             square post for Instagram/Facebook
    web/hero-{320..1500}.webp/.jpg        the 1500x500 banner, web-ready, + web/picture.html
    manifest.json                         every file with pixel size and byte size

Team colours default to the logo's dominant colours.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import math
import zipfile
from dataclasses import dataclass, field

from PIL import Image

from .. import fonts
from ..decode import Decoded, open_image
from ..encode import encode_jpeg, encode_png
from ..errors import PixelpressError
from ..operation import OPENCV, Job, OpSpec, operation
from ..options import parse_colour
from ..pipeline import Step, run_steps_async
from ..result import Result
from ..team import TeamOptions, TeamPalette, team_palette
from .logo_cleanup import Cleaned, LogoCleanupOptions, clean
from .roster_banner import render_banner, render_card
from .tshirt_mockup import render_back, render_front
from .upscale import upscale_image
from .web_sizes import WebSizesOptions, make_sizes

LOGO_SIZES = (64, 128, 256, 512, 1024)
ICO_SIZES = (16, 32, 48)
SHIRT_SIZE = 1200
HERO = (1500, 500)  # the banner the web sizes are made from
BANNERS = (HERO, (1200, 630))
CARDS = (("og", (1200, 630)), ("post", (1080, 1080)))
_STORED = (".jpg", ".webp")  # already entropy-coded: deflate would only cost time
_EPOCH = (2020, 1, 1, 0, 0, 0)  # fixed timestamps: the same input gives the same ZIP


# 132.3 bytes per pixel: the logo's clean-up
SPEC = OpSpec("asset_pack", TeamOptions, OPENCV, progress=True, label="Asset pack", work_bytes_per_pixel=134,
              output="assets")


@dataclass
class _Pack:
    job: Job
    zip: zipfile.ZipFile
    buf: io.BytesIO
    files: list[dict] = field(default_factory=list)
    source: Decoded | None = None
    logo: Cleaned | None = None
    colors: list[str] = field(default_factory=list)
    palette: TeamPalette | None = None
    master: Image.Image | None = None
    hero: Image.Image | None = None
    manifest: dict = field(default_factory=dict)
    shortened: list[str] = field(default_factory=list)  # cut with an ellipsis somewhere in the pack

    def add(self, path: str, blob: bytes, mime: str, width: int | None, height: int | None, **extra):
        info = zipfile.ZipInfo(path, _EPOCH)
        info.compress_type = zipfile.ZIP_STORED if path.endswith(_STORED) else zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        self.zip.writestr(info, blob)
        entry = {"path": path, "mime": mime, "width": width, "height": height, "bytes": len(blob),
                 "sha256": hashlib.sha256(blob).hexdigest()}
        entry.update(extra)
        self.files.append(entry)


@operation(SPEC)
async def asset_pack(job: Job, progress=None) -> Result:
    buf = io.BytesIO()
    pack = _Pack(job, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=6), buf)
    steps = [Step("decode", _decode), Step("logo_cleanup", _logo_cleanup), Step("logo_sizes", _logo_sizes),
             Step("favicon", _favicon), Step("tshirt_front", _tshirt_front), Step("tshirt_back", _tshirt_back),
             *(Step(f"banner_{w}x{h}", functools.partial(_banner, size=(w, h))) for w, h in BANNERS),
             *(Step(f"social_{label}", functools.partial(_card, label=label, size=size)) for label, size in CARDS),
             Step("web_sizes", _web_sizes), Step("manifest", _manifest)]
    try:
        await run_steps_async(steps, pack, timings=job.timings.ms, progress=progress)
    finally:
        pack.zip.close()  # the manifest step closes it; a failed step must not leave it to the collector
    job.warnings += fonts.shortened_warning(pack.shortened, "the shirt, banners or cards")
    out = pack.buf.getvalue()
    logo = pack.logo.image
    return job.finish(out, "zip", logo.size, mime="application/zip",  # the cleaned logo the pack is made from
                      files=len(pack.files) + 1, manifest=pack.manifest, colors=pack.colors,
                      logo_colors=pack.logo.colors, shortened=pack.shortened)


def _decode(pack: _Pack) -> _Pack:
    try:
        pack.source = pack.job.note(open_image(pack.job.data, pack.job.limits))
    except PixelpressError as exc:
        raise type(exc)(f"The logo cannot be used: {exc.message}", field="logo") from None
    return pack


def _logo_cleanup(pack: _Pack) -> _Pack:
    opts = pack.job.opts
    pack.logo = clean(pack.source.image, LogoCleanupOptions(background=opts.background, palette=opts.palette))
    pack.job.warnings += pack.logo.warnings
    pack.colors = list(opts.colors) or pack.logo.colors
    pack.palette = team_palette(pack.colors or ["#0b2545", "#ffc72c"])
    return pack


def _logo_sizes(pack: _Pack) -> _Pack:
    pack.master, up_note = _logo_master(pack.logo.image, LOGO_SIZES[-1])
    if up_note:
        pack.job.warnings.append(up_note)
    for s in sorted(LOGO_SIZES, reverse=True):
        pack.add(f"logo/logo-{s}.png", encode_png(_square(pack.master, s)), "image/png", s, s)
    pack.files.sort(key=lambda f: f["width"])  # list them small to large
    return pack


def _favicon(pack: _Pack) -> _Pack:
    icon = _square(pack.master, 256, pad=0.02)
    buf = io.BytesIO()
    icon.save(buf, "ICO", sizes=[(s, s) for s in ICO_SIZES])
    pack.add("favicon.ico", buf.getvalue(), "image/x-icon", ICO_SIZES[-1], ICO_SIZES[-1],
             sizes=[[s, s] for s in ICO_SIZES])
    return pack


def _shirt(pack: _Pack):
    return parse_colour(pack.job.opts.shirt_color, "shirt_color")


def _tshirt_front(pack: _Pack) -> _Pack:
    im = render_front(pack.logo.image, _shirt(pack), SHIRT_SIZE)
    pack.add("shirt/tshirt-front.jpg", encode_jpeg(im, quality=88, progressive=True), "image/jpeg", *im.size)
    return pack


def _tshirt_back(pack: _Pack) -> _Pack:
    opts = pack.job.opts
    featured = opts.featured()
    name = featured.name if featured else opts.team_name
    number = featured.number if featured else None
    im, cut = render_back(name, number, pack.colors, _shirt(pack), SHIRT_SIZE)
    pack.shortened += [t for t in cut if t not in pack.shortened]
    pack.add("shirt/tshirt-back.jpg", encode_jpeg(im, quality=88, progressive=True), "image/jpeg", *im.size)
    return pack


def _banner(pack: _Pack, size: tuple[int, int]) -> _Pack:
    opts = pack.job.opts
    if opts.players:
        im, _boxes, _mask, cut = render_banner(pack.logo.image, opts.team_name, opts.sport, opts.players,
                                               pack.palette, size)
    else:
        im, _boxes, _mask, cut = render_card(pack.logo.image, opts.team_name, opts.sport, pack.palette, size)
    pack.shortened += [t for t in cut if t not in pack.shortened]
    pack.add(f"banners/roster-{size[0]}x{size[1]}.png", encode_png(im), "image/png", *im.size)
    if size == HERO:
        pack.hero = im
    return pack


def _card(pack: _Pack, label: str, size: tuple[int, int]) -> _Pack:
    opts = pack.job.opts
    im, _b, _m, cut = render_card(pack.logo.image, opts.team_name, opts.sport, pack.palette, size)
    pack.shortened += [t for t in cut if t not in pack.shortened]
    pack.add(f"social/{label}-{size[0]}x{size[1]}.png", encode_png(im), "image/png", *im.size)
    return pack


async def _web_sizes(pack: _Pack) -> _Pack:
    # WebP and JPEG only: the pack's file list stays what it was before web_sizes made AVIF.
    outs, snippet = await make_sizes(pack.hero, WebSizesOptions(base_name="hero", url_prefix="web/", avif=False,
                                                          alt=f"{pack.job.opts.team_name} roster"))
    for o in outs:
        pack.add(f"web/{o.name}", o.data, o.mime, o.meta["width"], o.meta["height"])
    pack.add("web/picture.html", snippet.encode(), "text/html", None, None)
    if fonts.warning():
        pack.job.warnings.append(fonts.warning())
    return pack


def _manifest(pack: _Pack) -> _Pack:
    opts = pack.job.opts
    featured = opts.featured()
    pack.manifest = {
        "team": {"name": opts.team_name, "sport": opts.sport, "colors": pack.colors,
                 "players": [{"number": p.number, "name": p.name} for p in opts.players],
                 "featured_player": featured.number if featured else None},
        "logo_colors": pack.logo.colors,
        "files": pack.files,
    }
    info = zipfile.ZipInfo("manifest.json", _EPOCH)
    info.compress_type = zipfile.ZIP_DEFLATED
    pack.zip.writestr(info, json.dumps(pack.manifest, indent=2, ensure_ascii=False).encode())
    pack.zip.close()
    return pack


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
