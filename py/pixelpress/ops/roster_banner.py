"""Roster banner (1500x500 or 1200x630) and the team cards for social media.

The layout is computed, not fixed: the roster grid tries every column count
and keeps the one that gives the largest readable type for the names at
hand; a name that still does not fit shrinks (down to 70 % of the grid's
size) and then gets an ellipsis. Every piece of text is measured with the
font (getlength / textbbox) and its ink box is returned by `render_banner`,
so tests can check that nothing leaves the canvas or overlaps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from PIL import Image, ImageChops, ImageDraw, ImageFilter

from .. import fonts
from ..operation import OPENCV, Job, OpSpec, operation
from ..options import choice, text
from ..result import Result
from ..team import (
    INK,
    WHITE,
    TeamPalette,
    colour_list,
    contrast,
    distance,
    mix,
    parse_colors,
    parse_players,
    player_list,
    team_palette,
)

SIZES = {"1500x500": (1500, 500), "1200x630": (1200, 630)}
MIN_PLAYERS = 1  # a roster banner needs a roster


@dataclass(frozen=True)
class RosterBannerOptions:
    team_name: str = text("", 40, "Team name (required).", required=True)
    sport: str = text("", 30, "Sport, e.g. Basketball.")
    size: str = choice("1500x500", tuple(SIZES), "Banner size: 1500x500 (X/Twitter header) "
                                                 "or 1200x630 (link preview).")
    format: str = choice("png", ("png", "jpeg", "webp"), "Output format.")
    colors: tuple = colour_list("Team colours, most important first; default: the logo's own.")
    players: tuple = player_list("The roster: shirt number and name.", min_items=MIN_PLAYERS)

    def validate(self) -> None:
        object.__setattr__(self, "colors", parse_colors(self.colors, "colors"))
        object.__setattr__(self, "players", parse_players(self.players, "players", min_count=MIN_PLAYERS))


@dataclass
class TextBox:
    text: str
    role: str  # team, sport, number, name
    box: tuple[int, int, int, int]  # ink box x0, y0, x1, y1 (exclusive)


# 133.1 bytes per pixel: the logo's clean-up
SPEC = OpSpec("roster_banner", RosterBannerOptions, OPENCV, label="Roster banner", work_bytes_per_pixel=134)


@operation(SPEC)
async def roster_banner(job: Job) -> Result:
    """The input is the team logo (any background; it is cleaned first)."""
    from .logo_cleanup import load_logo

    opts = job.opts
    logo = await load_logo(job)
    colors = opts.colors or tuple(logo.colors)
    with job.span("render"):
        im, boxes, _mask, cut = render_banner(logo.image, opts.team_name, opts.sport, opts.players,
                                              team_palette(colors), SIZES[opts.size])
    job.warnings += fonts.shortened_warning(cut, "the banner")
    blob = await job.encode(im, opts.format, quality=90, progressive=True)
    if fonts.warning():
        job.warnings.append(fonts.warning())
    return job.finish(blob, opts.format, im.size, colors=list(colors), shortened=cut,
                      text_boxes=[{"text": b.text, "role": b.role, "box": list(b.box)} for b in boxes])


# --- drawing helpers shared by the banner, the cards and the mockup ------------------

class Canvas:
    """An RGB picture plus a text-only mask (what tests inspect) and the list of text boxes."""

    def __init__(self, size, fill):
        self.im = Image.new("RGB", size, fill)
        self.mask = Image.new("L", size, 0)
        self.draw = ImageDraw.Draw(self.im)
        self.mdraw = ImageDraw.Draw(self.mask)
        self.boxes: list[TextBox] = []
        self.shortened: list[str] = []  # texts cut with an ellipsis to fit, as the user typed them

    def text(self, xy, s, font, fill, role, anchor="ls", tracking=0.0):
        """Draw `s` (with optional letter spacing) and record its ink box."""
        if not s:
            return None
        if tracking:
            x, y = xy
            total = fonts.measure(font, s, tracking)
            if anchor[0] == "m":
                x -= total / 2
            elif anchor[0] == "r":
                x -= total
            a = "l" + anchor[1]
            x0 = y0 = 10 ** 9
            x1 = y1 = -(10 ** 9)
            for ch in s:
                self.draw.text((x, y), ch, font=font, fill=fill, anchor=a)
                self.mdraw.text((x, y), ch, font=font, fill=255, anchor=a)
                bx = self.draw.textbbox((x, y), ch, font=font, anchor=a)
                if bx[2] > bx[0]:
                    x0, y0, x1, y1 = min(x0, bx[0]), min(y0, bx[1]), max(x1, bx[2]), max(y1, bx[3])
                x += font.getlength(ch) + tracking * font.size
            box = (int(x0), int(y0), int(math.ceil(x1)), int(math.ceil(y1)))
        else:
            self.draw.text(xy, s, font=font, fill=fill, anchor=anchor)
            self.mdraw.text(xy, s, font=font, fill=255, anchor=anchor)
            bx = self.draw.textbbox(xy, s, font=font, anchor=anchor)
            box = (int(bx[0]), int(bx[1]), int(math.ceil(bx[2])), int(math.ceil(bx[3])))
        self.boxes.append(TextBox(s, role, box))
        return box


def backdrop(size, pal: TeamPalette, *, stripes: bool = True, split: float | None = None) -> Image.Image:
    """Team-colour background: a diagonal light-to-deep gradient, a darker side panel
    with a slanted edge (when `split` is given, as a fraction of the width), diagonal
    pin-stripes and an accent bar along the bottom."""
    w, h = size
    # gradient via a small image scaled up (cheap everywhere)
    vert = Image.linear_gradient("L")
    g = ImageChops.add(vert.resize((w, h), Image.Resampling.BILINEAR),
                       vert.rotate(90).resize((w, h), Image.Resampling.BILINEAR), scale=2.0)
    light = mix(pal.primary, WHITE, 0.10)
    deep = mix(pal.primary, (0, 0, 0), 0.22)
    im = Image.composite(Image.new("RGB", size, deep), Image.new("RGB", size, light), g)
    d = ImageDraw.Draw(im, "RGBA")
    if split is not None:
        sx = int(w * split)
        slant = int(h * 0.22)
        d.polygon([(0, 0), (sx + slant, 0), (sx - slant, h), (0, h)], fill=pal.dark + (235,))
        edge = max(4, h // 60)
        d.polygon([(sx + slant, 0), (sx + slant + edge, 0), (sx - slant + edge, h), (sx - slant, h)],
                  fill=pal.secondary + (255,))
    if stripes:
        step = max(14, h // 22)
        col = mix(pal.primary, WHITE, 0.5) + (18,)
        x0 = int(w * (split or 0.55))
        for x in range(x0, w + h, step):
            d.line([(x, 0), (x - h, h)], fill=col, width=max(2, step // 4))
    bar = max(6, h // 45)
    d.rectangle([0, h - bar, w, h], fill=pal.secondary + (255,))
    return im


def place_logo(canvas: Image.Image, logo: Image.Image, box, bg, *, plate_color=WHITE) -> tuple[int, int, int, int]:
    """Fit the RGBA `logo` inside `box` (x0, y0, x1, y1), centred. When the logo would not
    stand out from `bg`, it sits on a round plate with a soft shadow."""
    x0, y0, x1, y1 = box
    bw, bh = x1 - x0, y1 - y0
    need_plate = _blends_in(logo, bg)
    inner = 0.72 if need_plate else 1.0
    scale = min(bw * inner / logo.width, bh * inner / logo.height)
    lw, lh = max(1, round(logo.width * scale)), max(1, round(logo.height * scale))
    lg = logo.resize((lw, lh), Image.Resampling.LANCZOS)
    cx, cy = x0 + bw // 2, y0 + bh // 2
    if need_plate:
        r = min(bw, bh) // 2
        shadow = Image.new("L", canvas.size, 0)
        ImageDraw.Draw(shadow).ellipse([cx - r, cy - r + r // 14, cx + r, cy + r + r // 14], fill=110)
        shadow = shadow.filter(ImageFilter.GaussianBlur(max(2, r // 10)))
        canvas.paste((0, 0, 0), (0, 0), shadow)
        plate = Image.new("L", (r * 8, r * 8), 0)
        ImageDraw.Draw(plate).ellipse([0, 0, r * 8 - 1, r * 8 - 1], fill=255)
        plate = plate.resize((2 * r, 2 * r), Image.Resampling.LANCZOS)
        canvas.paste(plate_color, (cx - r, cy - r), plate)
    else:
        sh = Image.new("L", canvas.size, 0)
        sh.paste(lg.getchannel("A").point(lambda v: v * 0.45), (cx - lw // 2, cy - lh // 2 + max(2, lh // 50)))
        sh = sh.filter(ImageFilter.GaussianBlur(max(2, lh // 40)))
        canvas.paste((0, 0, 0), (0, 0), sh)
    canvas.paste(lg, (cx - lw // 2, cy - lh // 2), lg)
    return (cx - lw // 2, cy - lh // 2, cx - lw // 2 + lw, cy - lh // 2 + lh)


def _blends_in(logo: Image.Image, bg) -> bool:
    small = logo.copy()
    small.thumbnail((64, 64))
    px = [p for p in small.getdata() if p[3] > 200]
    if not px:
        return False
    close = sum(1 for p in px if distance(p, bg) < 70)
    return close / len(px) > 0.25


def title_lines(s: str, width: float, size: int, min_size: int, weight: str = "bold"):
    """The team name on one line, or two balanced lines when that lets it be bigger."""
    one, f1, s1 = fonts.fit_text(s, weight, width, size, min_size)
    words = s.split()
    if s1 >= size * 0.8 or len(words) < 2:
        return [one], f1, s1
    best = None
    for i in range(1, len(words)):
        a, b = " ".join(words[:i]), " ".join(words[i:])
        longest = max((a, b), key=lambda x: fonts.measure(fonts.font(size, weight), x))
        _t, _f, sz = fonts.fit_text(longest, weight, width, int(size * 0.78), min_size)
        if best is None or sz > best[0]:
            best = (sz, a, b)
    sz, a, b = best
    if sz <= s1:
        return [one], f1, s1
    f = fonts.font(sz, weight)
    a2 = fonts.fit_text(a, weight, width, sz, sz)[0]
    b2 = fonts.fit_text(b, weight, width, sz, sz)[0]
    return [a2, b2], f, sz


# --- the roster banner ----------------------------------------------------------------

def render_banner(logo: Image.Image | None, team_name: str, sport: str, players, pal: TeamPalette,
                  size=(1500, 500)):
    """Draw the banner; returns (RGB image, [TextBox], text mask)."""
    w, h = size
    players = sorted(players, key=lambda p: (p.number, p.name))
    margin = max(16, round(h * 0.06))
    wide = w / h > 2.2
    split = 0.30 if wide else 0.34
    cv = Canvas(size, pal.primary)
    cv.im.paste(backdrop(size, pal, split=split))
    cv.draw = ImageDraw.Draw(cv.im)
    slant = int(h * 0.22)
    left_w = int(w * split) - slant - margin  # usable width of the panel at its narrowest
    bar = max(6, h // 45)
    inner_bottom = h - bar - margin

    # left panel: logo, team name, sport
    px0, px1 = margin, margin + left_w
    logo_h = int(h * (0.40 if wide else 0.38))
    if logo is not None:
        place_logo(cv.im, logo, (px0, margin, px1, margin + logo_h), pal.dark)
    y = margin + logo_h + int(h * 0.05)
    lines, tf, tsz = title_lines(team_name.upper(), left_w, int(h * 0.13), max(12, int(h * 0.045)))
    if any(line.endswith("…") for line in lines):
        cv.shortened.append(team_name)
    for line in lines:
        asc = tf.getbbox("HÅ", anchor="ls")
        y += -asc[1]
        cv.text(((px0 + px1) // 2, y), line, tf, pal.on_primary if contrast(pal.dark, pal.on_primary) >= 3
                else WHITE, "team", anchor="ms")
        y += int(tsz * 0.18)
    if sport:
        ssz = max(10, int(h * 0.05))
        st, sf, _ = fonts.fit_text(sport.upper(), "medium", left_w, ssz, max(9, ssz // 2), tracking=0.18)
        if st != sport.upper():
            cv.shortened.append(sport)
        y += int(ssz * 0.4) + ssz
        if y <= inner_bottom:
            cv.text(((px0 + px1) // 2, y), st, sf, _readable(pal.secondary, pal.dark), "sport",
                    anchor="ms", tracking=0.18)

    # roster grid on the right
    gx0 = int(w * split) + slant + int(h * 0.06)
    area = (gx0, margin, w - margin, inner_bottom)
    roster_grid(cv, players, area, pal)
    return cv.im, cv.boxes, cv.mask, cv.shortened


def _readable(c, bg):
    if contrast(c, bg) >= 3.0:
        return c
    return WHITE if contrast(WHITE, bg) >= contrast(INK, bg) else INK


def _grid_choice(players, aw, ah, max_size):
    """Columns, rows and type size that give the largest type for these names."""
    n = len(players)
    names = sorted((p.name.upper() for p in players), key=len)
    typical = names[int(len(names) * 0.5)] if names else "NAME"
    ref = fonts.font(100, "medium")
    best = None
    for cols in range(1, min(n, 6) + 1):
        rows = math.ceil(n / cols)
        gap_x = aw * 0.04
        cell_w = (aw - gap_x * (cols - 1)) / cols
        cell_h = ah / rows
        s_h = cell_h * 0.56
        # badge ~1.55 size wide + gap 0.35 size + name width
        name_w100 = fonts.measure(ref, typical)
        s_w = cell_w / (1.9 + name_w100 / 100)
        s = min(s_h, s_w, max_size)
        key = s - cols * 0.01  # prefer fewer columns on ties
        if best is None or key > best[0]:
            best = (key, cols, rows, s)
    _k, cols, rows, s = best
    return cols, rows, s


def roster_grid(cv: Canvas, players, area, pal: TeamPalette):
    x0, y0, x1, y1 = area
    aw, ah = x1 - x0, y1 - y0
    n = len(players)
    if n == 0:
        return
    cols, rows, s = _grid_choice(players, aw, ah, max_size=ah * 0.2)
    s = max(9, int(s))
    gap_x = aw * 0.04 if cols > 1 else 0
    cell_w = (aw - gap_x * (cols - 1)) / cols
    cell_h = ah / rows
    used_h = cell_h * rows
    nf = fonts.font(int(s * 0.78), "bold")
    badge_w = s * 1.55
    badge_h = s * 1.12
    name_min = max(8, int(s * 0.7))
    badge_fill = pal.secondary
    for i, p in enumerate(players):
        c, r = divmod(i, rows)  # down the columns, like a printed roster
        cx = x0 + c * (cell_w + gap_x)
        cy = y0 + (ah - used_h) / 2 + r * cell_h + cell_h / 2
        bx0, by0 = cx, cy - badge_h / 2
        cv.draw.rounded_rectangle([bx0, by0, bx0 + badge_w, by0 + badge_h], radius=badge_h * 0.22,
                                  fill=badge_fill)
        cv.text((bx0 + badge_w / 2, cy), str(p.number), nf, pal.on_secondary, "number", anchor="mm")
        name_x = bx0 + badge_w + s * 0.35
        room = cx + cell_w - name_x
        label, f, _ = fonts.fit_text(p.name.upper(), "medium", room, int(s), name_min)
        if label != p.name.upper():
            cv.shortened.append(p.name)
        cv.text((name_x, cy), label, f, pal.on_primary, "name", anchor="lm")
        if r < rows - 1 and i < n - 1 and rows > 1:  # hairline under the entry
            ly = cy + cell_h / 2
            cv.draw.line([(name_x, ly), (cx + cell_w, ly)], fill=mix(pal.primary, pal.on_primary, 0.18),
                         width=1)


# --- social cards ---------------------------------------------------------------------

def _stack(cv: Canvas, items, x: float, top: float, bottom: float, align: str = "l"):
    """Lay lines out top to bottom, centred as a block between `top` and `bottom`.
    items: (text, font, fill, role, tracking, gap_before as a fraction of the font size)."""
    metrics = []
    total = 0.0
    for i, (_s, f, _fill, _role, _tr, gap) in enumerate(items):
        _x0, y0, _x1, y1 = f.getbbox("H", anchor="ls")
        asc, desc = -y0, max(0.0, f.size * 0.05)
        g = gap * f.size if i else 0.0
        metrics.append((asc, desc, g))
        total += g + asc + desc
    y = top + max(0.0, (bottom - top - total) / 2)
    for (s, f, fill, role, tr, _gap), (asc, desc, g) in zip(items, metrics, strict=True):
        y += g + asc
        cv.text((x, y), s, f, fill, role, anchor=align + "s", tracking=tr)
        y += desc


def render_card(logo: Image.Image | None, team_name: str, sport: str, pal: TeamPalette, size, *,
                tagline: str = "OFFICIAL TEAM"):
    """Open-graph (1200x630) or square (1080x1080) card: logo, name, sport."""
    w, h = size
    cv = Canvas(size, pal.primary)
    cv.im.paste(backdrop(size, pal, split=None))
    cv.draw = ImageDraw.Draw(cv.im)
    d = ImageDraw.Draw(cv.im, "RGBA")
    margin = max(24, round(min(w, h) * 0.07))
    bar = max(6, h // 45)
    landscape = w > h * 1.3
    if landscape:  # logo left in a ring, words right
        r = int((h - 2 * margin) * 0.5)
        cx, cy = margin + r, h // 2 - bar // 2
        d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=pal.dark + (210,))
        if logo is not None:
            inset = int(r * 0.16)
            place_logo(cv.im, logo, (cx - r + inset, cy - r + inset, cx + r - inset, cy + r - inset), pal.dark)
        tx0, tx1 = cx + r + margin, w - margin
        x, align = tx0, "l"
        top, bottom = margin, h - bar - margin
        name_size = int(h * 0.15)
    else:  # square: logo on top, words below
        lw = int(w * 0.46)
        lb = ((w - lw) // 2, margin, (w + lw) // 2, margin + lw)
        if logo is not None:
            place_logo(cv.im, logo, lb, pal.primary)
        tx0, tx1 = margin, w - margin
        x, align = w / 2, "m"
        top, bottom = lb[3] + int(h * 0.03), h - bar - margin
        name_size = int(h * 0.11)
    tw = tx1 - tx0
    accent = _readable(pal.secondary, pal.primary)
    items = []
    tag_sz = max(12, int(min(w, h) * 0.035))
    if tagline:
        tt, tf, _ = fonts.fit_text(tagline.upper(), "medium", tw, tag_sz, 10, tracking=0.3)
        items.append((tt, tf, accent, "tagline", 0.3, 0))
    lines, nf, nsz = title_lines(team_name.upper(), tw, name_size, 14)
    if any(line.endswith("…") for line in lines):
        cv.shortened.append(team_name)
    for j, line in enumerate(lines):
        items.append((line, nf, pal.on_primary, "team", 0.0, 0.55 if j == 0 else 0.12))
    if sport:
        ssz = max(12, int(min(w, h) * 0.05))
        st, sf, _ = fonts.fit_text(sport.upper(), "medium", tw, ssz, 10, tracking=0.2)
        if st != sport.upper():
            cv.shortened.append(sport)
        items.append((st, sf, accent, "sport", 0.2, 0.8))
    _stack(cv, items, x, top, bottom, align)
    return cv.im, cv.boxes, cv.mask, cv.shortened
