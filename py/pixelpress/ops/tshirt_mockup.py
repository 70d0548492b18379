"""Procedural t-shirt mockups (front with the logo, back with a player's name and number).

Nothing photographic is used: the shirt is a vector silhouette (bezier
outline with sleeves, collar rib, seams and stitching) drawn in a 1000x1000
design space, shaded by a procedural map:

    shade = body curvature x edge occlusion x (1 + soft folds) x fabric grain

Folds are blurred strokes (ridges and valleys) at armpits, chest and hem; the
grain is fine noise. The shirt colour is multiplied by the shade (with a
small lift for very dark shirts so folds still read), and prints are
multiplied by the same map, so shading and folds show through the ink as on
a real screen print.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from .. import fonts
from ..operation import OPENCV, Job, OpSpec, operation
from ..options import choice, colour, integer, parse_colour, text
from ..result import Result
from ..team import INK, NUMBERS, WHITE, colour_list, contrast, distance, mix, parse_colors, team_palette

S = 1000.0  # design space


@dataclass(frozen=True)
class TshirtMockupOptions:
    view: str = choice("front", ("front", "back"), "Which side of the shirt.")
    shirt_color: str = colour("#ffffff", "Shirt colour.")
    size: int = integer(1200, 320, 2400, "Width and height of the square picture, in pixels.")
    background: str = colour("#eceef1", "Backdrop colour.")
    name: str = text("", 40, "Player name printed on the back.")
    number: int | None = integer(None, *NUMBERS, "Player number printed on the back.", optional=True)
    format: str = choice("jpeg", ("jpeg", "png", "webp"), "Output format.")
    colors: tuple = colour_list("Team colours for the back print; default: the logo's own.")

    def validate(self) -> None:
        object.__setattr__(self, "colors", parse_colors(self.colors, "colors"))


# 129.1 bytes per pixel: the logo's clean-up
SPEC = OpSpec("tshirt_mockup", TshirtMockupOptions, OPENCV, label="T-shirt mockup", work_bytes_per_pixel=130)


@operation(SPEC)
async def tshirt_mockup(job: Job) -> Result:
    """The input is the team logo (printed on the front; its colours colour the back)."""
    from .logo_cleanup import load_logo

    opts = job.opts
    logo = await load_logo(job)
    colors = opts.colors or tuple(logo.colors)
    shirt = parse_colour(opts.shirt_color, "shirt_color")
    bg = parse_colour(opts.background, "background")
    cut: list[str] = []
    with job.span("render"):
        if opts.view == "front":
            im = render_front(logo.image, shirt, opts.size, bg)
        else:
            im, cut = render_back(opts.name, opts.number, colors, shirt, opts.size, bg)
    job.warnings += fonts.shortened_warning(cut, "the shirt")
    blob = await job.encode(im, opts.format, quality=90, progressive=True)
    if opts.view == "back" and fonts.warning():
        job.warnings.append(fonts.warning())
    if opts.view == "back" and not opts.name and opts.number is None:
        job.warnings.append("No name or number given: the back is plain.")
    return job.finish(blob, opts.format, im.size, view=opts.view, colors=list(colors), shortened=cut)


# --- geometry -------------------------------------------------------------------------

def _bez(p0, c1, c2, p1, n=24):
    out = []
    for i in range(1, n + 1):
        t = i / n
        u = 1 - t
        out.append((u ** 3 * p0[0] + 3 * u * u * t * c1[0] + 3 * u * t * t * c2[0] + t ** 3 * p1[0],
                    u ** 3 * p0[1] + 3 * u * u * t * c1[1] + 3 * u * t * t * c2[1] + t ** 3 * p1[1]))
    return out


NECK_SIDE = (614.0, 150.0)
SHOULDER = (744.0, 192.0)
SLEEVE_OUT = (884.0, 424.0)
SLEEVE_IN = (772.0, 482.0)
ARMPIT = (707.0, 394.0)
HEM_SIDE = (718.0, 872.0)


def _right_half(front_neck_y: float):
    """Outline from the centre of the neckline to the centre of the hem, right side."""
    pts = [(500.0, front_neck_y)]
    pts += _bez(pts[-1], (566, front_neck_y), (604, front_neck_y - 30), NECK_SIDE)
    pts += _bez(NECK_SIDE, (655, 162), (705, 174), SHOULDER)
    pts += _bez(SHOULDER, (800, 218), (852, 330), SLEEVE_OUT)
    pts += _bez(SLEEVE_OUT, (850, 444), (806, 464), SLEEVE_IN, 8)
    pts += _bez(SLEEVE_IN, (748, 446), (716, 420), ARMPIT, 10)
    pts += _bez(ARMPIT, (700, 520), (714, 720), HEM_SIDE)
    pts += _bez(HEM_SIDE, (650, 880), (560, 888), (500.0, 888.0))
    return pts


def outline(front_neck_y: float):
    right = _right_half(front_neck_y)
    left = [(S - x, y) for x, y in reversed(right)]
    return right + left[1:]


def back_neck_curve():
    return [(S - NECK_SIDE[0], NECK_SIDE[1])] + _bez((S - NECK_SIDE[0], NECK_SIDE[1]), (440, 170), (560, 170),
                                                     NECK_SIDE)


def _scaled(pts, k):
    return [(x * k, y * k) for x, y in pts]


# --- shading --------------------------------------------------------------------------

def _blur(im: Image.Image, r: float) -> Image.Image:
    return im.filter(ImageFilter.GaussianBlur(max(0.5, r)))


def _strokes(size, k, lines, width, blur):
    im = Image.new("L", (size, size), 0)
    d = ImageDraw.Draw(im)
    for pts, strength in lines:
        d.line(_scaled(pts, k), fill=int(255 * strength), width=max(1, int(width * k)), joint="curve")
    return np.asarray(_blur(im, blur * k), np.float32) / 255.0


def _mirror(lines):
    return lines + [([(S - x, y) for x, y in pts], s) for pts, s in lines]


def shade_map(size: int, mask: np.ndarray, view: str, seed: int = 7) -> np.ndarray:
    """Shading of the fabric (1.0 = flat light). The smooth part is computed at a
    quarter of the size and scaled up; only the grain is made at full size."""
    lo = max(64, size // 4)
    k = lo / S
    yy = (np.arange(lo, dtype=np.float32)[:, None] + 0.5) / k
    xx = (np.arange(lo, dtype=np.float32)[None, :] + 0.5) / k
    # body curvature: brighter centre, falling off to the sides; light from the upper left
    side = np.abs(xx - 500) > 215
    body = 1.0 - 0.13 * np.clip(((xx - 500) / 215) ** 2, 0, 1.0) \
        - 0.06 * np.clip((yy - 250) / 200, 0, 1) * side  # sleeves: their own cylinder, lit on top
    light = 1.04 - 0.10 * (yy / S) - 0.05 * (xx / S)
    # occlusion near the outline
    m = Image.fromarray((mask * 255).astype(np.uint8)).resize((lo, lo), Image.Resampling.BOX)
    near = np.asarray(_blur(m, 22 * k), np.float32) / 255.0
    occl = 0.80 + 0.20 * np.clip((near - 0.5) * 2.2, 0, 1) ** 0.7
    # folds: valleys (dark) and ridges (light)
    valleys = _mirror([
        ([ARMPIT, (660, 440), (622, 500)], 1.0),
        ([(690, 300), (650, 360), (640, 420)], 0.5),
        ([(590, 700), (600, 780), (612, 870)], 0.7),
        ([(770, 330), (800, 380), (812, 440)], 0.6),
        ([(420, 560), (470, 600), (520, 610)], 0.35),
    ])
    ridges = _mirror([
        ([(690, 420), (645, 470), (618, 540)], 0.8),
        ([(560, 690), (566, 780), (572, 870)], 0.7),
        ([(540, 250), (600, 280), (650, 300)], 0.5),
        ([(790, 300), (830, 370), (846, 420)], 0.5),
    ])
    if view == "back":
        valleys = valleys + _mirror([([(560, 240), (620, 250), (680, 240)], 0.5)])
    v = _strokes(lo, k, valleys, 22, 16)
    r = _strokes(lo, k, ridges, 26, 20)
    fold = 1.0 - 0.26 * v + 0.12 * r
    sleeve = Image.new("L", (lo, lo), 0)
    sd = ImageDraw.Draw(sleeve)
    for sgn in (1, -1):
        pts = [SHOULDER, (800, 218), (852, 330), SLEEVE_OUT, SLEEVE_IN, ARMPIT, (712, 330), (722, 260)]
        pts = pts if sgn == 1 else [(S - x, y) for x, y in pts]
        sd.polygon(_scaled(pts, k), fill=255)
    sl = np.asarray(_blur(sleeve, 3 * k), np.float32) / 255.0
    smooth = (body * light * occl * fold * (1.0 - 0.05 * sl)).astype(np.float32)
    big = np.asarray(Image.fromarray(smooth).resize((size, size), Image.Resampling.BICUBIC), np.float32)
    # fabric grain: fine noise plus a faint weave
    rng = np.random.default_rng(seed)
    grain = rng.standard_normal((size, size), dtype=np.float32)
    grain *= 0.018
    grain += 1.0
    ix = np.arange(size, dtype=np.float32)
    grain *= 1.0 + 0.008 * np.sin(ix[None, :] * 2.1) * np.sin(ix[:, None] * 2.3)
    return big * grain


def _stitch(d: ImageDraw.ImageDraw, pts, k, col, width, dash=9, gap=6):
    pts = _scaled(pts, k)
    acc = 0.0
    on = True
    for (x0, y0), (x1, y1) in zip(pts, pts[1:], strict=False):  # consecutive pairs
        seg = math.hypot(x1 - x0, y1 - y0)
        pos = 0.0
        while pos < seg:
            step = min((dash if on else gap) * k - acc, seg - pos)
            if on:
                a, b = pos / seg, (pos + step) / seg
                d.line([(x0 + (x1 - x0) * a, y0 + (y1 - y0) * a), (x0 + (x1 - x0) * b, y0 + (y1 - y0) * b)],
                       fill=col, width=width)
            pos += step
            acc += step
            if acc >= (dash if on else gap) * k - 1e-6:
                acc = 0.0
                on = not on


def _offset(pts, dy):
    return [(x, y + dy) for x, y in pts]


# --- rendering ------------------------------------------------------------------------

def _shirt_base(shirt, size, bg, view):
    """Backdrop + shaded shirt. Returns (RGB float array, mask, shade)."""
    front_neck_y = 214.0 if view == "front" else 172.0
    ss = 2
    big = Image.new("L", (size * ss, size * ss), 0)
    ImageDraw.Draw(big).polygon(_scaled(outline(front_neck_y), size * ss / S), fill=255)
    if view == "back":  # the back neckline sits higher: fill up to the back collar curve
        ImageDraw.Draw(big).polygon(_scaled(back_neck_curve() + [(500, 200)], size * ss / S), fill=255)
    mask_im = big.resize((size, size), Image.Resampling.BOX)
    mask = np.asarray(mask_im, np.float32) / 255.0
    shade = shade_map(size, mask, view)

    # backdrop: soft radial studio light + a contact shadow, made small and scaled up (it is smooth)
    lo = max(64, size // 4)
    yy = (np.arange(lo, dtype=np.float32)[:, None] + 0.5) / lo
    xx = (np.arange(lo, dtype=np.float32)[None, :] + 0.5) / lo
    rad = np.sqrt((xx - 0.5) ** 2 + (yy - 0.42) ** 2)
    sh = Image.new("L", (lo, lo), 0)
    sh.paste(mask_im.resize((lo, lo), Image.Resampling.BOX), (round(lo * 0.012), round(lo * 0.022)))
    shadow = np.asarray(_blur(sh, lo * 0.018), np.float32) / 255.0
    light = (1.04 - 0.16 * rad) * (1.0 - 0.30 * shadow)
    bgc = np.array(bg, np.float32)
    back_small = np.clip(bgc[None, None, :] * light[..., None] + 0.5, 0, 255).astype(np.uint8)
    back = np.asarray(Image.fromarray(back_small).resize((size, size), Image.Resampling.BICUBIC), np.float32)

    c = np.array(shirt, np.float32)
    lum = 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]
    if lum < 40:  # lift near-black so the fabric still reads
        c = c + (40 - lum) * 0.8
    # fabric = c * shade + (1 - c/255) * 40 * (shade - 0.92): an affine map of shade per channel
    gain = c + 40.0 * (1 - c / 255.0)
    offset = -0.92 * 40.0 * (1 - c / 255.0)
    img = back  # composited in place, channel by channel (keeps the float32 temporaries small)
    for ch in range(3):
        f = shade * gain[ch]
        f += offset[ch]
        f -= img[..., ch]
        f *= mask
        img[..., ch] += f
    return img, mask, shade, c


def _trim(pil: Image.Image, size, view, shirt_c):
    """Collar rib, inner back of the neck, hem and sleeve stitching."""
    k = size / S
    d = ImageDraw.Draw(pil, "RGBA")
    dark = tuple(int(v) for v in mix(tuple(shirt_c), (0, 0, 0), 0.55)) + (150,)
    rib = tuple(int(v) for v in mix(tuple(shirt_c), (0, 0, 0), 0.12))
    if view == "front":
        # inside of the shirt behind the neck
        neck_front = [(S - x, y) for x, y in reversed(_right_half(214.0)[:25])] + _right_half(214.0)[1:25]
        d.polygon(_scaled(back_neck_curve() + list(reversed(neck_front)), k),
                  fill=tuple(int(v) for v in mix(tuple(shirt_c), (0, 0, 0), 0.28)) + (255,))
        # back collar rib seen inside
        d.line(_scaled(back_neck_curve(), k), fill=rib + (255,), width=max(2, int(14 * k)), joint="curve")
        # front collar rib
        d.line(_scaled(neck_front, k), fill=rib + (255,), width=max(2, int(26 * k)), joint="curve")
        d.line(_scaled(_offset(neck_front, 13), k), fill=dark, width=max(1, int(2 * k)), joint="curve")
        _stitch(d, _offset(neck_front, 19), k, dark, max(1, int(2 * k)))
    else:
        neck = back_neck_curve()
        d.line(_scaled(_offset(neck, 8), k), fill=rib + (255,), width=max(2, int(18 * k)), joint="curve")
        d.line(_scaled(_offset(neck, 17), k), fill=dark, width=max(1, int(2 * k)), joint="curve")
        _stitch(d, _offset(neck, 24), k, dark, max(1, int(2 * k)))
    # sleeve seams
    seam = tuple(int(v) for v in mix(tuple(shirt_c), (0, 0, 0), 0.35)) + (170,)
    for sgn in (1, -1):
        pts = [SHOULDER] + _bez(SHOULDER, (722, 260), (712, 330), ARMPIT, 16)
        pts = pts if sgn == 1 else [(S - x, y) for x, y in pts]
        d.line(_scaled(pts, k), fill=seam, width=max(1, int(2.5 * k)), joint="curve")
    # hem and sleeve stitching (two rows)
    hem = _bez((S - HEM_SIDE[0], HEM_SIDE[1]), (350, 888), (440, 888), (500, 888)) + \
        _bez((500, 888), (560, 888), (650, 880), HEM_SIDE)
    hem = [(S - HEM_SIDE[0], HEM_SIDE[1])] + hem
    for off in (-22, -14):
        _stitch(d, [(x if abs(x - 500) < 200 else 500 + (x - 500) * 0.985, y + off) for x, y in hem], k, dark,
                max(1, int(2 * k)))
    for side in (1, -1):
        a, b = SLEEVE_OUT, SLEEVE_IN
        for off in (20, 28):
            nx, ny = -(b[1] - a[1]), (b[0] - a[0])
            ln = math.hypot(nx, ny)
            nx, ny = nx / ln * off, ny / ln * off
            p = [(a[0] + nx - 6, a[1] + ny), (b[0] + nx + 4, b[1] + ny)]
            if side == -1:
                p = [(S - x, y) for x, y in p]
            _stitch(d, p, k, dark, max(1, int(2 * k)))


def _print(img: np.ndarray, layer: Image.Image, shade: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Multiply an RGBA print with the shirt's shading and lay it on the fabric."""
    box = layer.getchannel("A").getbbox()
    if box is None:
        return img
    x0, y0, x1, y1 = box
    arr = np.asarray(layer.crop(box), np.float32)
    a = arr[..., 3:4] / 255.0 * 0.97 * mask[y0:y1, x0:x1, None]
    ink = arr[..., :3] * np.clip(shade[y0:y1, x0:x1], 0.5, 1.15)[..., None]
    img[y0:y1, x0:x1] = img[y0:y1, x0:x1] * (1 - a) + ink * a
    return img


def render_front(logo: Image.Image | None, shirt, size: int = 1200, bg=(236, 238, 241)) -> Image.Image:
    img, mask, shade, c = _shirt_base(shirt, size, bg, "front")
    if logo is not None:
        k = size / S
        box_w, box_h = 250 * k, 240 * k
        sc = min(box_w / logo.width, box_h / logo.height)
        lw, lh = max(1, round(logo.width * sc)), max(1, round(logo.height * sc))
        lg = logo.resize((lw, lh), Image.Resampling.LANCZOS)
        layer = Image.new("RGBA", (size, size), (0, 0, 0, 0))
        cx, top = int(500 * k), int(300 * k)
        layer.paste(lg, (cx - lw // 2, top + int((box_h - lh) * 0.3)), lg)
        img = _print(img, layer, shade, mask)
    pil = Image.fromarray(np.clip(img + 0.5, 0, 255).astype(np.uint8))
    _trim(pil, size, "front", c)
    return pil


def back_colours(colors, shirt):
    """Number fill and outline that read on the shirt, from the team colours."""
    pal = team_palette(colors or ("#0b2545", "#ffc72c"))
    cands = [pal.primary, pal.secondary, INK, WHITE]
    fill = next((x for x in cands if contrast(x, shirt) >= 2.2 and distance(x, shirt) > 90), INK)
    outline_c = next((x for x in [pal.secondary, pal.primary, WHITE, INK]
                      if x != fill and distance(x, fill) > 90), WHITE)
    return fill, outline_c


def render_back(name: str, number, colors, shirt, size: int = 1200,
                bg=(236, 238, 241)) -> tuple[Image.Image, list[str]]:
    """The back with the name and number printed; and the name, when it was cut to fit (else [])."""
    img, mask, shade, c = _shirt_base(shirt, size, bg, "back")
    k = size / S
    fill, edge = back_colours(colors, shirt)
    layer = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    cx = 500 * k
    cut: list[str] = []
    if name:
        label, f, _ = fonts.fit_text(name.upper(), "bold", 330 * k, int(64 * k), int(26 * k), tracking=0.08)
        cut = [name] if label != name.upper() else []
        total = fonts.measure(f, label, 0.08)
        x = cx - total / 2
        for ch in label:
            d.text((x, 300 * k), ch, font=f, fill=fill, anchor="ls")
            x += f.getlength(ch) + 0.08 * f.size
    if number is not None:
        ns = str(number)
        f = fonts.font(int(330 * k), "bold")
        # fit the number into 300 x 330 (design units)
        while f.size > 40 and fonts.measure(f, ns) > 300 * k:
            f = fonts.font(int(f.size * 0.94), "bold")
        stroke = max(2, int(f.size * 0.035))
        d.text((cx, 330 * k), ns, font=f, fill=fill, anchor="mt", stroke_width=stroke, stroke_fill=edge)
    img = _print(img, layer, shade, mask)
    pil = Image.fromarray(np.clip(img + 0.5, 0, 255).astype(np.uint8))
    _trim(pil, size, "back", c)
    return pil, cut
