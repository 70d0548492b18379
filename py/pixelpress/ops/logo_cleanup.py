"""Logo clean-up: flat background to transparency, trim, specks, palette, team colours.

How the background goes:

1. The background colour B is the median of a thin ring of border pixels; the
   ring's own spread (98th percentile of distances to B) is the noise floor
   `lo` (JPEG ringing, scanner grain). `hi = lo + softness`.
2. Pixels closer than `hi` to B are background candidates. With
   `connectivity="border"` (default) only candidates connected to the image
   border are removed, so white text inside a shield stays white; "global"
   removes every background-coloured pixel (holes in letters too).
3. Edge pixels are un-mixed, not thresholded: for each pixel next to the
   background the nearest solid logo pixel F is found (distance transform
   with labels), alpha is the projection of (P - B) on (F - B), and the colour
   is decontaminated (B's share removed), so edges stay anti-aliased without
   a pale fringe on a dark page.
4. Connected components smaller than `speck_area` are dropped, then the
   result is trimmed to the visible pixels (plus `padding`).

An input that already has transparency keeps its pixels and alpha exactly;
it is only trimmed (and palette-reduced when asked). `meta["colors"]` lists
the dominant opaque colours, most dominant first, usable as team colours.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from ..errors import EmptyImage, InvalidOption
from ..operation import OPENCV, Job, OpSpec, operation
from ..options import choice, flag, integer
from ..result import Result, Timings
from ..team import to_hex


@dataclass(frozen=True)
class LogoCleanupOptions:
    background: str = choice("auto", ("auto", "keep"),
                             "auto: remove a flat background (inputs with transparency are kept); "
                             "keep: never remove.")
    connectivity: str = choice("border", ("border", "global"),
                               "border: remove only background connected to the image edge; "
                               "global: every background-coloured pixel.")
    tolerance: int = integer(0, 0, 120, "Colour distance (RGB) still counted as background; "
                                        "0 = estimate from the border's noise.")
    softness: int = integer(40, 4, 160, "Width of the alpha ramp above the tolerance (RGB distance).")
    speck_area: int | None = integer(None, 0, 1_000_000, "Drop opaque islands smaller than this many "
                                                         "pixels; default 0.005% of the image (min 8).",
                                     optional=True)
    palette: int = integer(0, 0, 16, "Reduce to this many colours with k-means (0 = off, else 2-16).")
    padding: int = integer(0, 0, 512, "Transparent margin kept around the trimmed logo, in pixels.")
    max_colors: int = integer(5, 1, 8, "How many dominant colours to report in meta.colors.")
    denoise: bool = flag(True, "Snap pixels within a small distance of a dominant colour to it "
                               "(removes JPEG noise from flat areas; not applied to transparent inputs).")

    def validate(self) -> None:
        if self.palette == 1:
            raise InvalidOption("palette must be 0 (off) or between 2 and 16, got 1", field="palette")


@dataclass
class Cleaned:
    image: Image.Image  # RGBA, trimmed
    colors: list[str]
    background: str | None  # removed background colour as hex, None when kept
    source_had_alpha: bool
    warnings: list[str]
    crop_box: tuple[int, int, int, int]


# 133.0 bytes per pixel logo PNG, 128.3 photo JPEG
SPEC = OpSpec("logo_cleanup", LogoCleanupOptions, OPENCV, label="Logo clean-up", work_bytes_per_pixel=134)


@operation(SPEC)
async def logo_cleanup(job: Job) -> Result:
    opts = job.opts
    src = await job.open()
    with job.span("cleanup"):
        c = clean(src.image, opts, timings=job.timings)
    job.warnings += c.warnings
    out = await job.encode(c.image, "png")
    return job.finish(out, "png", c.image.size, colors=c.colors, background_removed=c.background,
                      source_had_alpha=c.source_had_alpha, crop_box=list(c.crop_box), palette=opts.palette or None)


async def load_logo(job: Job) -> Cleaned:
    """Decode and clean a team logo for the operations that draw with it; its warnings go to the job's."""
    src = await job.open()
    with job.span("logo"):
        logo = clean(src.image)
    job.warnings += logo.warnings
    return logo


def clean(im: Image.Image, opts: LogoCleanupOptions | None = None, *, timings: Timings | None = None) -> Cleaned:
    """The clean-up on a decoded image (L, RGB or RGBA); used by the asset pack too."""
    opts = opts or LogoCleanupOptions()
    t = timings or Timings()
    warnings: list[str] = []
    rgba = np.asarray(im.convert("RGBA"))
    rgb = rgba[..., :3].astype(np.float32)
    src_alpha = rgba[..., 3]
    had_alpha = im.mode in ("RGBA", "LA") and int(src_alpha.min()) < 250
    bg_hex = None

    if had_alpha:
        alpha = src_alpha.astype(np.float32) / 255.0
        warnings.append("The logo already has transparency; it was kept as it is (only trimmed).")
    elif opts.background == "keep":
        alpha = np.ones(rgb.shape[:2], np.float32)
    else:
        with t.span("matte"):
            rgb, alpha, bg, msg = _remove_background(rgb, opts)
        bg_hex = to_hex(bg)
        if msg:
            warnings.append(msg)
        with t.span("specks"):
            alpha = _drop_specks(alpha, opts.speck_area)

    vis = alpha >= (8 / 255)
    if not vis.any():
        raise EmptyImage("Nothing is left of the logo after removing its background; "
                         "try background \"keep\" or a lower tolerance.")
    ys, xs = np.nonzero(vis.any(axis=1))[0], np.nonzero(vis.any(axis=0))[0]
    y0, y1, x0, x1 = int(ys[0]), int(ys[-1]) + 1, int(xs[0]), int(xs[-1]) + 1
    rgb, alpha = rgb[y0:y1, x0:x1], alpha[y0:y1, x0:x1]

    if opts.palette >= 2:
        with t.span("palette"):
            rgb = _reduce_palette(rgb, alpha, opts.palette)
    with t.span("colors"):
        modes = _modes(_sample(rgb, alpha), max(opts.max_colors, 8))
        colors = [to_hex(c) for c, _share in modes[:opts.max_colors]]
    if opts.denoise and not had_alpha and opts.background != "keep" and opts.palette < 2 and modes:
        with t.span("denoise"):
            rgb = _snap(rgb, alpha, np.array([c for c, _ in modes], np.float32))

    out = np.dstack([np.clip(rgb + 0.5, 0, 255).astype(np.uint8),
                     np.clip(alpha * 255 + 0.5, 0, 255).astype(np.uint8)])
    if had_alpha and opts.palette < 2:
        out[..., :3] = rgba[y0:y1, x0:x1, :3]  # bit-exact: the input's own colours
        out[..., 3] = src_alpha[y0:y1, x0:x1]
    img = Image.fromarray(out)
    if opts.padding:
        p = opts.padding
        canvas = Image.new("RGBA", (img.width + 2 * p, img.height + 2 * p), (0, 0, 0, 0))
        canvas.paste(img, (p, p))
        img = canvas
    return Cleaned(img, colors, bg_hex, had_alpha, warnings, (x0, y0, x1, y1))


def _remove_background(rgb: np.ndarray, opts: LogoCleanupOptions):
    import cv2

    h, w = rgb.shape[:2]
    b = max(2, min(h, w) // 100)
    ring = np.concatenate([rgb[:b].reshape(-1, 3), rgb[-b:].reshape(-1, 3),
                           rgb[:, :b].reshape(-1, 3), rgb[:, -b:].reshape(-1, 3)])
    bg = np.median(ring, axis=0).astype(np.float32)
    ring_d = np.sqrt(((ring - bg) ** 2).sum(axis=1))
    msg = None
    if opts.tolerance:
        lo = float(opts.tolerance)
    else:
        lo = float(np.clip(np.percentile(ring_d, 98) * 1.25 + 4.0, 6.0, 60.0))
    if np.percentile(ring_d, 75) > 30:
        msg = ("The logo's background is not a flat colour; only pixels close to the border's "
               f"median colour {to_hex(bg)} were removed.")
    hi = lo + float(opts.softness)

    diff = rgb - bg
    d = np.sqrt((diff * diff).sum(axis=2))
    weak = (d < hi).astype(np.uint8)
    if opts.connectivity == "border":
        _n, labels = cv2.connectedComponents(weak, connectivity=4)
        edge = np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])
        edge_weak = np.concatenate([weak[0], weak[-1], weak[:, 0], weak[:, -1]]).astype(bool)
        keep = np.unique(edge[edge_weak])
        region = np.isin(labels, keep) & weak.astype(bool) if keep.size else np.zeros_like(weak, bool)
    else:
        region = weak.astype(bool)

    near = cv2.dilate(region.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    core = ~near
    alpha = np.ones((h, w), np.float32)
    out = rgb.copy()
    if not near.any():
        return out, alpha, bg, msg

    p = rgb[near]
    v = p - bg
    dn = d[near]
    ramp = np.clip((dn - lo) / (hi - lo), 0.0, 1.0)
    a = ramp
    use = np.zeros(dn.shape, bool)
    f = p
    if core.any():
        dist, lab = cv2.distanceTransformWithLabels((~core).astype(np.uint8), cv2.DIST_L2, 3,
                                                    labelType=cv2.DIST_LABEL_PIXEL)
        idx = np.flatnonzero(core.ravel())
        f = rgb.reshape(-1, 3)[idx[lab[near] - 1]]
        fv = f - bg
        ff = (fv * fv).sum(axis=1)
        use = (dist[near] <= 4.0) & (ff >= (2.0 * lo) ** 2)
        proj = (v * fv).sum(axis=1) / np.maximum(ff, 1e-6)
        a = np.where(use, np.clip(proj, 0.0, 1.0), ramp)
    a = np.where(dn < lo, 0.0, a).astype(np.float32)
    unmix = np.clip(bg + v / np.maximum(a, 1e-3)[:, None], 0, 255)
    col = np.where(use[:, None], a[:, None] * unmix + (1 - a[:, None]) * f, unmix)
    alpha[near] = a
    out[near] = col
    return out, alpha, bg, msg


def _drop_specks(alpha: np.ndarray, speck_area: int | None) -> np.ndarray:
    import cv2

    h, w = alpha.shape
    area = max(8, round(h * w * 0.00005)) if speck_area is None else speck_area
    solid = (alpha > 0.5).astype(np.uint8)
    if area > 0:
        n, lab, stats, _ = cv2.connectedComponentsWithStats(solid, connectivity=8)
        small = np.zeros(n, bool)
        small[1:] = stats[1:, cv2.CC_STAT_AREA] < area
        solid = (solid.astype(bool) & ~small[lab]).astype(np.uint8)
    # Faint pixels far from anything solid (noise, the rims of dropped specks) go too.
    zone = cv2.dilate(solid, np.ones((5, 5), np.uint8)).astype(bool)
    return np.where(zone, alpha, 0.0).astype(np.float32)


def _sample(rgb: np.ndarray, alpha: np.ndarray, n: int = 40000, min_alpha: float = 0.9) -> np.ndarray:
    px = rgb[alpha >= min_alpha]
    if len(px) == 0:
        px = rgb[alpha > 0]
    if len(px) > n:
        step = len(px) / n
        px = px[(np.arange(n) * step).astype(np.int64)]  # deterministic, evenly spread
    return px.astype(np.float32)


def _modes(px: np.ndarray, k: int, radius: float = 30.0, min_share: float = 0.02) -> list[tuple[np.ndarray, float]]:
    """Greedy mode seeking: the densest colour bin, refined by mean shift, then the next."""
    out = []
    n = len(px)
    if n == 0:
        return out
    rem = np.ones(n, bool)
    for _ in range(k):
        if rem.sum() < max(1, min_share * n):
            break
        q = (px[rem] // 16).astype(np.int32)
        keys = q[:, 0] * 256 + q[:, 1] * 16 + q[:, 2]
        vals, counts = np.unique(keys, return_counts=True)
        top = vals[np.argmax(counts)]
        c = (np.array([top // 256, (top // 16) % 16, top % 16], np.float32) + 0.5) * 16
        for _ in range(5):
            m = rem & (((px - c) ** 2).sum(axis=1) < radius * radius)
            if not m.any():
                break
            c = np.median(px[m], axis=0)
        m = rem & (((px - c) ** 2).sum(axis=1) < radius * radius)
        share = m.sum() / n
        if share < min_share:
            break
        out.append((c, float(share)))
        rem &= ~m
    return out


def _snap(rgb: np.ndarray, alpha: np.ndarray, centres: np.ndarray, radius: float = 16.0) -> np.ndarray:
    """Pull noisy pixels of flat areas onto their dominant colour (soft, so gradients survive)."""
    flat = rgb.reshape(-1, 3)
    best = np.full(len(flat), np.inf, np.float32)
    idx = np.zeros(len(flat), np.int32)
    for j, c in enumerate(centres):
        d2 = ((flat - c) ** 2).sum(axis=1)
        better = d2 < best
        best[better] = d2[better]
        idx[better] = j
    d = np.sqrt(best)
    w = np.clip((radius - d) / (radius * 0.4), 0.0, 1.0)[:, None]  # 1 inside 0.6 r, 0 beyond r
    out = flat * (1 - w) + centres[idx] * w
    return out.reshape(rgb.shape).astype(np.float32)


def kmeans(px: np.ndarray, k: int, iters: int = 15) -> np.ndarray:
    """Deterministic k-means (init: colour modes, then farthest points)."""
    centres = [c for c, _ in _modes(px, k, min_share=0.0)]
    if not centres:
        centres = [px.mean(axis=0)]
    while len(centres) < k:
        cs = np.array(centres)
        d2 = ((px[:, None, :] - cs[None]) ** 2).sum(-1).min(axis=1)
        if d2.max() <= 0:
            break
        centres.append(px[int(np.argmax(d2))])
    cs = np.array(centres, np.float32)
    for _ in range(iters):
        lab = ((px[:, None, :] - cs[None]) ** 2).sum(-1).argmin(axis=1)
        new = np.array([px[lab == j].mean(axis=0) if np.any(lab == j) else cs[j] for j in range(len(cs))],
                       np.float32)
        if np.allclose(new, cs, atol=0.25):
            cs = new
            break
        cs = new
    return cs


def _reduce_palette(rgb: np.ndarray, alpha: np.ndarray, k: int) -> np.ndarray:
    px = _sample(rgb, alpha, 20000, 0.5)
    cs = np.clip(kmeans(px, k) + 0.5, 0, 255).astype(np.uint8)
    pal = Image.new("P", (1, 1))
    flat = cs.reshape(-1).tolist()
    pal.putpalette(flat + flat[:3] * (256 - len(cs)))
    src = Image.fromarray(np.clip(rgb + 0.5, 0, 255).astype(np.uint8))
    q = src.quantize(palette=pal, dither=Image.Dither.NONE)
    return np.asarray(q.convert("RGB")).astype(np.float32)
