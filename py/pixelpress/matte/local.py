"""The local background matte: product photos on studio-like backgrounds.

`estimate_alpha(rgb)` returns a full-resolution uint8 alpha. Steps:

1. Work on a downscaled copy (`WORK_PIXELS`, 0.12 MP): the browser's OpenCV has no SIMD.
2. Background model from the borders, separable: a per-row profile P(y) from
   the left and right strips (follows a wall-to-floor cyclorama bend exactly)
   plus a robust quadratic Q(x) from the top and bottom strips (vignetting).
   Where the two side strips disagree (the subject touches a side) the side
   consistent with the rest of the profile wins.
3. Per-pixel score against the model, shadow-aware: a floor shadow is the
   background colour scaled by a factor f < 1 (multiplication survives the sRGB
   curve), so the score ignores darkening down to f = `SHADOW_FLOOR` and
   measures only the change of colour direction, brightening, or darkening
   beyond what a shadow does.
4. GrabCut seeded from the score (sure / probable labels), a few iterations.
5. Clean-up: open away specks, keep large components, fill holes that are
   small or do not look like background (a mug handle's hole stays open).
6. Upsample and refine the edge with a guided filter whose guide is the score
   map at up to ~2 MP, then a gentle ramp gives a soft, anti-aliased edge.
"""

from __future__ import annotations

import math

import numpy as np

WORK_PIXELS = 120_000
REFINE_PIXELS = 2_000_000
SHADOW_FLOOR = 0.4  # a shadow keeps at least 40 % of the backdrop's brightness: darker is subject
INSIDE_PIXELS = 1_500_000  # refine_edges blurs the subject's inside colour at about this size


class NoSubject(Exception):
    """The matte found nothing that differs from the background."""


def resize_to_pixels(img: np.ndarray, pixels: int):
    """(img shrunk to about `pixels` pixels with INTER_AREA, scale); never enlarged."""
    import cv2

    h, w = img.shape[:2]
    s = min(1.0, (pixels / (h * w)) ** 0.5)
    if s >= 1.0:
        return img, 1.0
    size = (max(8, round(w * s)), max(8, round(h * s)))
    return cv2.resize(img, size, interpolation=cv2.INTER_AREA), size[0] / w


def _robust_poly(x: np.ndarray, v: np.ndarray, deg: int = 2, iters: int = 4) -> np.ndarray:
    """Polynomial fit of v (N x C) over x with outlier rejection; returns coefficients (deg+1 x C)."""
    A = np.stack([x ** k for k in range(deg + 1)], 1)
    keep = np.ones(len(x), bool)
    coef = np.zeros((deg + 1, v.shape[1]))
    for _ in range(iters):
        if keep.sum() < deg + 2:
            break
        coef, *_ = np.linalg.lstsq(A[keep], v[keep], rcond=None)
        res = np.abs(v - A @ coef).max(1)
        mad = np.median(res[keep]) * 1.5 + 1e-3
        keep = res < 3.0 * mad
    return coef


class BackgroundModel:
    """bg(x, y) = P(y) + Q(x) in RGB 0..1, fitted from the border strips of an image."""

    def __init__(self, img: np.ndarray):
        h, w = img.shape[:2]
        m = max(2, round(0.015 * min(h, w)))
        left = np.median(img[:, :m], axis=1)  # h x 3
        right = np.median(img[:, w - m:], axis=1)
        diff = np.abs(left - right).max(1)
        agree = diff < 0.06
        prof = (left + right) / 2
        if agree.sum() >= max(4, h // 10):
            ys = np.nonzero(agree)[0]
            ref = np.stack([np.interp(np.arange(h), ys, prof[ys, c]) for c in range(3)], 1)
        else:
            # Sides disagree everywhere: fall back to a smooth robust fit of both strips.
            yy = np.concatenate([np.arange(h), np.arange(h)]) / max(1, h - 1)
            coef = _robust_poly(yy, np.concatenate([left, right]), deg=3)
            t = np.arange(h) / max(1, h - 1)
            ref = np.stack([t ** k for k in range(4)], 1) @ coef
        dl = np.abs(left - ref).max(1)
        dr = np.abs(right - ref).max(1)
        self.P = np.where(agree[:, None], prof, np.where((dl <= dr)[:, None], left, right))
        # Q(x): horizontal variation relative to the side profile, from the top and bottom strips.
        top = np.median(img[:m], axis=0) - self.P[:m].mean(0)
        bot = np.median(img[h - m:], axis=0) - self.P[h - m:].mean(0)
        xs = np.arange(w) / max(1, w - 1) * 2 - 1
        self.qcoef = _robust_poly(np.concatenate([xs, xs]), np.concatenate([top, bot]), deg=2)
        self.w, self.h = w, h
        full = self.evaluate(w, h)
        border = np.concatenate([(img[:, :m] - full[:, :m]).reshape(-1, 3), (img[:, w - m:] - full[:, w - m:]).reshape(-1, 3),
                                 (img[:m] - full[:m]).reshape(-1, 3)])
        self.noise = float(np.median(np.abs(border)) * 1.48 + 1e-3)

    def at(self, xs: np.ndarray, ys: np.ndarray, w: int, h: int) -> np.ndarray:
        """The model at pixel coordinates of a w x h image (N x 3), without building the full field."""
        yy = (ys + 0.5) * (self.h / h) - 0.5
        P = np.stack([np.interp(yy, np.arange(self.h), self.P[:, c]) for c in range(3)], 1)
        xx = ((xs + 0.5) * (self.w / w) - 0.5) / max(1, self.w - 1) * 2 - 1
        Q = np.stack([xx ** k for k in range(3)], 1) @ self.qcoef
        return (P + Q).astype(np.float32)

    def edge_trust(self, xs: np.ndarray, ys: np.ndarray, w: int, h: int) -> np.ndarray:
        """A fitted studio backdrop is exact enough everywhere to place the edge by colour."""
        return np.ones(len(xs), np.float32)

    def evaluate(self, w: int, h: int) -> np.ndarray:
        """The model at any resolution (h x w x 3 float32)."""
        ys = (np.arange(h) + 0.5) * (self.h / h) - 0.5
        P = np.stack([np.interp(ys, np.arange(self.h), self.P[:, c]) for c in range(3)], 1)
        xs = ((np.arange(w) + 0.5) * (self.w / w) - 0.5) / max(1, self.w - 1) * 2 - 1
        Q = np.stack([xs ** k for k in range(3)], 1) @ self.qcoef
        return (P[:, None, :] + Q[None, :, :]).astype(np.float32)


def score(img: np.ndarray, bg: np.ndarray, noise: float) -> tuple[np.ndarray, np.ndarray]:
    """(s, f): s > 1 looks like foreground; f is the brightness ratio to the background."""
    bb = np.maximum((bg * bg).sum(2), 1e-4)
    f = (img * bg).sum(2) / bb
    r = np.sqrt(np.maximum(((img - f[..., None] * bg) ** 2).sum(2), 0) / bb)  # colour-direction change
    r_t = max(0.045, 4.0 * noise)
    s = r / r_t
    s = np.maximum(s, (f - 1.0) / max(0.06, 5.0 * noise))  # brighter than the backdrop
    s = np.maximum(s, (SHADOW_FLOOR - f) / 0.05)  # darker than any floor shadow
    return s.astype(np.float32), f.astype(np.float32)


def _texture(img: np.ndarray, model: BackgroundModel) -> np.ndarray:
    """Local high-frequency energy relative to the backdrop's: > 1 means textured like an object.

    Backdrops and soft shadows are smooth, so this catches grey, shadow-coloured
    parts of a subject (concrete, tyres, dark trim) that colour alone cannot.
    """
    import cv2

    g = img.mean(2)
    hf = g - cv2.GaussianBlur(g, (0, 0), 1.5)
    e = np.sqrt(cv2.GaussianBlur(hf * hf, (0, 0), 2.0))
    h, w = g.shape
    m = max(2, round(0.015 * min(h, w)))
    border = np.concatenate([e[:, :m].ravel(), e[:, w - m:].ravel(), e[:m].ravel()])
    base = float(np.median(border))
    return (e - 2.0 * base) / (3.0 * base + 0.01)


def _fill_holes(fg: np.ndarray, s: np.ndarray, f: np.ndarray) -> np.ndarray:
    """Fill enclosed holes unless they look exactly like the backdrop (a mug handle's hole).

    A hole is kept open only when it is not tiny, its colour matches the
    background model (low score) and its brightness does too (f near 1): a
    grey wheel rim inside a tyre is shadow-coloured, not backdrop-coloured.
    """
    import cv2

    inv = (~fg).astype(np.uint8)
    n, lab, stats, _ = cv2.connectedComponentsWithStats(inv, connectivity=4)
    area_fg = fg.sum()
    h, w = fg.shape
    out = fg.copy()
    for i in range(1, n):
        x, y, bw, bh, area = stats[i]
        if x == 0 or y == 0 or x + bw == w or y + bh == h:
            continue  # touches the border: real background
        region = lab == i
        if area < 0.004 * area_fg or np.median(s[region]) > 0.7 or abs(np.median(f[region]) - 1.0) > 0.07:
            out[region] = True
    return out


def _keep_large(fg: np.ndarray) -> np.ndarray:
    import cv2

    n, lab, stats, _ = cv2.connectedComponentsWithStats(fg.astype(np.uint8), connectivity=8)
    if n <= 1:
        return fg
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep = np.zeros(n, bool)
    keep[1:] = areas >= max(0.05 * areas.max(), 0.0005 * fg.size)
    return keep[lab]


def smooth(img: np.ndarray, sigma: float) -> np.ndarray:
    """A Gaussian-like blur of about `sigma` px by stack blur (a triangle kernel of the same variance).

    Its cost does not grow with the radius, and in the browser's OpenCV (no
    SIMD) it runs 10-25x faster than GaussianBlur at these sizes.
    """
    import cv2

    return cv2.stackBlur(img, kernel_within(img, 2 * max(1, round(2.45 * sigma - 1)) + 1))


def kernel_within(img: np.ndarray, k: int) -> tuple[int, int]:
    """A k x k kernel cut to the picture's sides (kept odd).

    A kernel longer than the picture only re-reads the border, and OpenCV's
    blurs pay for it per pixel: a 60000x1 strip took 30 s to cut out.
    """
    h, w = img.shape[:2]
    return tuple(max(1, min(k, n if n % 2 else n - 1)) for n in (w, h))


def guided_filter(guide: np.ndarray, src: np.ndarray, r: int, eps: float) -> np.ndarray:
    """He et al.'s guided filter of `src` by a one-channel float `guide`: edges follow the guide."""
    import cv2

    k = kernel_within(guide, 2 * r + 1)
    mean = lambda a: cv2.boxFilter(a, -1, k, borderType=cv2.BORDER_REFLECT)  # noqa: E731
    mi, mp = mean(guide), mean(src)
    cov = mean(guide * src) - mi * mp
    var = mean(guide * guide) - mi * mi
    a = cov / (var + eps)
    b = mp - a * mi
    return mean(a) * guide + mean(b)


EDGE_TILE = 32  # full-size tiles: a car's outline at 12 MP touches about one in thirty (with its rings: 1 MP)


def sample_bilinear(field: np.ndarray, xs: np.ndarray, ys: np.ndarray, w: int, h: int) -> np.ndarray:
    """A low-resolution field sampled at pixel positions of a w x h picture, as cv2.resize's INTER_LINEAR maps them."""
    fh, fw = field.shape[:2]
    fx = np.clip((xs + 0.5) * (fw / w) - 0.5, 0, fw - 1)
    fy = np.clip((ys + 0.5) * (fh / h) - 0.5, 0, fh - 1)
    x0, y0 = fx.astype(np.intp), fy.astype(np.intp)
    x1, y1 = np.minimum(x0 + 1, fw - 1), np.minimum(y0 + 1, fh - 1)
    tx, ty = (fx - x0).astype(np.float32), (fy - y0).astype(np.float32)
    if field.ndim == 3:
        tx, ty = tx[:, None], ty[:, None]
    top = field[y0, x0] * (1 - tx) + field[y0, x1] * tx
    bottom = field[y1, x0] * (1 - tx) + field[y1, x1] * tx
    return (top * (1 - ty) + bottom * ty).astype(np.float32)


def upscale_alpha(alpha: np.ndarray, w: int, h: int, gain: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(uint8 alpha at w x h, edge tiles) of a float 0..1 alpha: bilinear, then steepened to
    (a - 0.5) * gain + 0.5, computed only where the result can be neither 0 nor 255.

    Only a thin band round the outline is uncertain, yet a full-size float
    resample and its arithmetic cost more than the rest of the matte at 12 MP
    in the browser. A mid pixel whose 3x3 neighbourhood is all at or beyond
    the cut-off gives 0 or 255 wherever bilinear sampling reads it, so those
    are filled by a nearest-neighbour upscale of the labels and the samples
    are taken only in the `EDGE_TILE` tiles that hold an uncertain label.
    The edge tiles (a bool grid, one per tile) tell the next steps where the
    edge is: any pixel that is neither 0 nor 255, and any step between them,
    lies in one.
    """
    import cv2

    mh, mw = alpha.shape
    lo, hi = 0.5 - 0.5 / gain, 0.5 + 0.5 / gain
    ring = np.ones((3, 3), np.uint8)
    label = np.full((mh, mw), 128, np.uint8)
    label[cv2.erode((alpha >= hi).astype(np.uint8), ring) > 0] = 255
    label[cv2.erode((alpha <= lo).astype(np.uint8), ring) > 0] = 0
    out = cv2.resize(label, (w, h), interpolation=cv2.INTER_NEAREST)
    # Which tiles hold an uncertain label: the integral of the mid labels over each tile's rows and columns
    # as INTER_NEAREST maps them (floor(x * mw / w)).
    unsure = cv2.integral((label == 128).astype(np.uint8))
    t = EDGE_TILE
    ty0, tx0 = np.arange(0, h, t), np.arange(0, w, t)

    def span(start: np.ndarray, n: int, m: int) -> tuple[np.ndarray, np.ndarray]:
        """Mid rows (or columns) [a, b) read by each tile, one wider either side than rounding needs."""
        a = np.floor(start * (m / n)).astype(np.intp) - 1
        b = np.floor((np.minimum(start + t, n) - 1) * (m / n)).astype(np.intp) + 2
        return np.clip(a, 0, m), np.clip(b, 0, m)

    (my0, my1), (mx0, mx1) = span(ty0, h, mh), span(tx0, w, mw)
    count = unsure[my1][:, mx1] - unsure[my0][:, mx1] - unsure[my1][:, mx0] + unsure[my0][:, mx0]
    tiles = count > 0
    ys_all, xs_all = [], []
    for i, j in zip(*np.nonzero(tiles), strict=True):
        y0, x0 = int(ty0[i]), int(tx0[j])
        yy, xx = np.nonzero(out[y0:y0 + t, x0:x0 + t] == 128)
        ys_all.append(yy + y0)
        xs_all.append(xx + x0)
    if ys_all:
        ys, xs = np.concatenate(ys_all), np.concatenate(xs_all)
        a = sample_bilinear(alpha.astype(np.float32, copy=False), xs, ys, w, h)
        out[ys, xs] = np.clip(((a - 0.5) * gain + 0.5) * 255 + 0.5, 0, 255).astype(np.uint8)
    return out, tiles


def estimate_alpha(rgb: np.ndarray, *, iterations: int = 3) -> tuple[np.ndarray, np.ndarray, dict, BackgroundModel]:
    """Full-resolution uint8 alpha of the subject of an HxWx3 uint8 RGB studio photo, unfeathered, its edge
    tiles (`upscale_alpha`), and a model of its backdrop (refine_edges places the edge exactly)."""
    import cv2

    h, w = rgb.shape[:2]
    small, scale = resize_to_pixels(rgb, WORK_PIXELS)
    sh, sw = small.shape[:2]
    img = cv2.GaussianBlur(small, (3, 3), 0).astype(np.float32) / 255.0
    model = BackgroundModel(img)
    bg = model.evaluate(sw, sh)
    s, f = score(img, bg, model.noise)

    tex = _texture(img, model)
    mask = np.full((sh, sw), cv2.GC_PR_BGD, np.uint8)
    mask[(s > 1.0) | (tex > 1.0)] = cv2.GC_PR_FGD
    sure_fg = cv2.erode((s > 2.5).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    mask[sure_fg] = cv2.GC_FGD
    sure_bg = (s < 0.5) & (f > 0.85)
    mask[sure_bg] = cv2.GC_BGD
    m = max(1, round(0.01 * min(sh, sw)))
    frame = np.zeros((sh, sw), bool)
    frame[:m], frame[-m:], frame[:, :m], frame[:, -m:] = True, True, True, True
    mask[frame & (s < 1.0)] = cv2.GC_BGD
    n_fg = int(((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)).sum())
    if n_fg < max(16, 0.0005 * sh * sw):
        raise NoSubject("No subject stands out from the background.")
    if not ((mask == cv2.GC_BGD) | (mask == cv2.GC_PR_BGD)).any():
        raise NoSubject("The subject fills the whole picture; there is no background to remove.")

    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    # GrabCut seeds its colour models by k-means from OpenCV's global RNG, which runs on between calls:
    # without a fixed seed the same photo came out differently each time (up to 440k pixels at 4 MP).
    cv2.setRNGSeed(0)
    cv2.grabCut(small, mask, None, bgd, fgd, iterations, cv2.GC_INIT_WITH_MASK)
    fg = (mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)
    fg = cv2.morphologyEx(fg.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)) > 0
    fg = _keep_large(fg)
    fg = _fill_holes(fg, s, f)
    if fg.sum() < max(16, 0.0005 * sh * sw):
        raise NoSubject("No subject stands out from the background.")

    # Edge refinement at up to REFINE_PIXELS, guided by the score map there.
    mid, _ = resize_to_pixels(rgb, REFINE_PIXELS)
    mh, mw = mid.shape[:2]
    mimg = mid.astype(np.float32) / 255.0
    ms, _ = score(mimg, model.evaluate(mw, mh), model.noise)
    guide = np.clip(ms / 2.0, 0, 1)
    a0 = cv2.resize(fg.astype(np.float32), (mw, mh), interpolation=cv2.INTER_LINEAR)
    ratio = mw / sw
    a0 = cv2.GaussianBlur(a0, (0, 0), max(0.5, ratio * 0.6))
    r = max(2, round(ratio * 1.5))
    q = guided_filter(guide, a0, r, 0.02)
    # Keep the refinement near the coarse edge only; far from it the coarse answer stands.
    band = cv2.GaussianBlur(((a0 > 0.02) & (a0 < 0.98)).astype(np.float32), (0, 0), r)
    band = np.clip(band * 3, 0, 1)
    soft = band * q + (1 - band) * a0
    alpha = np.clip((soft - 0.5) * 2.2 + 0.5, 0, 1)
    a8, tiles = upscale_alpha(alpha, w, h)
    info = {"work_size": [sw, sh], "refine_size": [mw, mh], "subject_fraction": round(float((alpha > 0.5).mean()), 4),
            "background_noise": round(model.noise * 255, 2)}
    return a8, tiles, info, model


def edge_runs(tiles: np.ndarray, w: int, h: int) -> list[tuple[int, int, int, int]]:
    """The edge tiles as rectangles (y0, y1, x0, x1) of the w x h picture: each tile row's runs of
    consecutive tiles, merged. They do not overlap, so each pixel is worked once."""
    t = EDGE_TILE
    runs = []
    for i in range(tiles.shape[0]):
        row = np.concatenate(([False], tiles[i], [False]))
        starts = np.nonzero(row[1:] & ~row[:-1])[0]
        ends = np.nonzero(row[:-1] & ~row[1:])[0]
        runs += [(i * t, min(h, (i + 1) * t), int(a) * t, min(w, int(b) * t)) for a, b in zip(starts, ends, strict=True)]
    return runs


def refine_edges(rgb: np.ndarray, alpha: np.ndarray, model: BackgroundModel, tiles: np.ndarray,
                 feather: int = 1, reduced: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(alpha, colours) of the cut-out, its edge placed and cleaned by the compositing equation.

    An edge pixel is I = a*F + (1-a)*B, with B from the backdrop model and F
    taken as the subject's colour just inside the edge (a normalised blur of
    the opaque pixels). Where F and B differ clearly, the pixel's own colour
    gives its coverage, a = (I-B).(F-B) / |F-B|^2: the coarse matte runs a
    pixel or two wide of the photo's edge, and a backdrop pixel left there
    keeps the backdrop's colour, a visible fringe. Where F and B look alike
    the matte's alpha stands. Colours become F = (I - (1-a)B) / a, leaning on
    the inside colour where a is small and the division unstable; colour under
    alpha 0 is black. `feather` then softens the edge (sigma ~0.6 px each).

    Only the edge tiles (`upscale_alpha`'s), grown by the reach of the rings
    drawn round the edge and of the feathering, are worked: elsewhere alpha
    is 0 or 255 all around; the rest of the picture is copied. `reduced`,
    the photo already shrunk to about `REFINE_PIXELS`, spares shrinking it
    again for the inside colours.
    """
    import cv2

    h, w = alpha.shape
    bx0, by0, bw, bh = cv2.boundingRect(alpha)
    if not bw:
        return alpha, np.zeros_like(rgb)
    pad = 12 + 6 * feather  # room for the blurs below
    y0, y1 = max(0, by0 - pad), min(h, by0 + bh + pad)
    x0, x1 = max(0, bx0 - pad), min(w, bx0 + bw + pad)
    # Reach beyond an edge tile: a step 1 px outside it, the band's ring (2), the feather's (2f + 2), its blur (2.4f + 1).
    reach = 2 * feather + 2 + math.ceil(2.4 * feather) + 4
    grow = 2 * math.ceil(reach / EDGE_TILE) + 1
    runs = edge_runs(cv2.dilate(tiles.astype(np.uint8), np.ones((grow, grow), np.uint8)) > 0, w, h)
    ring = np.ones((5, 5), np.uint8)

    def worked(margin: int, fn) -> tuple[np.ndarray, np.ndarray]:
        """(ys, xs) of the pixels where `fn(alpha around a run, run inside it)` is true, over every run."""
        ys_all, xs_all = [], []
        for ry0, ry1, rx0, rx1 in runs:
            ey0, ey1, ex0, ex1 = max(0, ry0 - margin), min(h, ry1 + margin), max(0, rx0 - margin), min(w, rx1 + margin)
            core = (slice(ry0 - ey0, ry1 - ey0), slice(rx0 - ex0, rx1 - ex0))
            yy, xx = np.nonzero(fn(alpha[ey0:ey1, ex0:ex1])[core])
            ys_all.append(yy + ry0)
            xs_all.append(xx + rx0)
        if not ys_all:
            return np.zeros(0, np.intp), np.zeros(0, np.intp)
        return np.concatenate(ys_all), np.concatenate(xs_all)

    def band_of(sub: np.ndarray) -> np.ndarray:
        """The soft band, and two pixels either side of a hard edge."""
        solid = (sub >= 128).astype(np.uint8)
        return ((sub > 0) & (sub < 255)) | ((cv2.dilate(solid, ring) > 0) & (cv2.erode(solid, ring) == 0))

    ys, xs = worked(2, band_of)
    # The subject's own colours: opaque and clear of the edge, whose pixels may be mixed, blurred at a
    # reduced scale `s` (the inside colour is smooth anyway, and full-size float copies cost seconds in the
    # browser). Colour and weight share one four-channel blur.
    sub, crop = alpha[y0:y1, x0:x1], rgb[y0:y1, x0:x1]
    if reduced is not None and reduced.shape[1] < w:
        sx, sy = reduced.shape[1] / w, reduced.shape[0] / h
        ry0, rx0 = int(y0 * sy), int(x0 * sx)
        ry1, rx1 = max(ry0 + 1, math.ceil(y1 * sy)), max(rx0 + 1, math.ceil(x1 * sx))
        crop = reduced[ry0:ry1, rx0:rx1]
        # The alpha the reduced crop covers (reduced pixel j covers picture pixels [j / s, (j + 1) / s)), not the
        # box: shrunk from the box, it lay up to one reduced pixel off the colours it weighs.
        sub = alpha[round(ry0 / sy):min(h, round(ry1 / sy)), round(rx0 / sx):min(w, round(rx1 / sx))]
        sub = cv2.resize(sub, crop.shape[1::-1], interpolation=cv2.INTER_AREA)
        oy, ox = ry0 / sy, rx0 / sx  # the crop's origin in picture pixels
    else:
        sx = sy = min(1.0, (INSIDE_PIXELS / sub.size) ** 0.5)
        oy, ox = y0, x0
        if sx < 1.0:
            size = (max(1, round(sub.shape[1] * sx)), max(1, round(sub.shape[0] * sy)))
            sub = cv2.resize(sub, size, interpolation=cv2.INTER_AREA)
            crop = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
    s = (sx * sy) ** 0.5
    k = 2 * max(1, round(2 * s)) + 1  # two full-size pixels clear of the edge
    inside = (cv2.erode((sub >= 250).astype(np.uint8), np.ones((k, k), np.uint8)) > 0).astype(np.float32)
    stack = np.empty((*inside.shape, 4), np.float32)
    stack[..., :3] = crop
    stack[..., :3] *= inside[..., None]
    stack[..., 3] = inside
    blurs: dict[float, np.ndarray] = {}

    def inside_colour(sigma: float, py: np.ndarray, px: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(colour, weight) at picture positions: a blur of the opaque pixels only."""
        if sigma not in blurs:
            blurs[sigma] = smooth(stack, sigma * s)
        qy = np.clip(((py - oy + 0.5) * sy).astype(np.intp), 0, stack.shape[0] - 1)
        qx = np.clip(((px - ox + 0.5) * sx).astype(np.intp), 0, stack.shape[1] - 1)
        got = blurs[sigma][qy, qx]
        weight = got[:, 3]
        return got[:, :3] / np.maximum(weight, 1e-6)[:, None], weight

    inner, d_in = inside_colour(2.5, ys, xs)
    # A wide soft edge (the neural matte's) lies farther from the opaque pixels: look wider there.
    far = d_in <= 0.02
    if far.any():
        inner[far], d_in[far] = inside_colour(6.0, ys[far], xs[far])
    known = d_in > 0.02
    back = model.at(xs, ys, w, h) * 255.0
    pix = rgb[ys, xs].astype(np.float32)
    diff = inner - back
    dd = (diff * diff).sum(1)
    # A small dead zone either end: backdrop noise and model error must not grow faint specks.
    a_colour = np.clip((((pix - back) * diff).sum(1) / np.maximum(dd, 1.0) - 0.08) / 0.84, 0, 1)
    trust = np.clip((np.sqrt(dd) - 30.0) / 40.0, 0, 1) * known * model.edge_trust(xs, ys, w, h)
    a = trust * a_colour + (1 - trust) * alpha[ys, xs] / 255.0
    solved = (pix - (1 - a)[:, None] * back) / np.maximum(a, 1e-3)[:, None]
    lean = np.where(known, np.clip((a - 0.25) / 0.5, 0, 1), 1.0)[:, None]
    fg = lean * solved + (1 - lean) * inner
    # Colour under alpha 0 is black: one masked copy for the picture, then the edge tiles by hand.
    colours = cv2.bitwise_and(rgb, rgb, mask=alpha)
    colours[ys, xs] = np.clip(fg + 0.5, 0, 255).astype(np.uint8)
    alpha = alpha.copy()
    alpha[ys, xs] = np.clip(a * 255 + 0.5, 0, 255).astype(np.uint8)
    if feather > 0:
        # Pixels the softening reaches outside the edge take the subject's colour, not the backdrop's.
        steps = 2 * feather + 2
        gy, gx = worked(steps + 1, lambda sub: (cv2.dilate((sub > 0).astype(np.uint8), np.ones((3, 3), np.uint8),
                                                           iterations=steps) > 0) & (sub == 0))
        near, weight = inside_colour(2.5 + feather, gy, gx)
        ok = weight > 1e-4
        colours[gy[ok], gx[ok]] = np.clip(near[ok] + 0.5, 0, 255).astype(np.uint8)
        colours[gy[~ok], gx[~ok]] = rgb[gy[~ok], gx[~ok]]  # no subject near: the photo's own colour
        sigma = 0.6 * feather
        margin = int(4 * sigma) + 2  # GaussianBlur's own kernel reach for float images
        soft = alpha.copy()
        for ry0, ry1, rx0, rx1 in runs:
            ey0, ey1, ex0, ex1 = max(0, ry0 - margin), min(h, ry1 + margin), max(0, rx0 - margin), min(w, rx1 + margin)
            blurred = cv2.GaussianBlur(alpha[ey0:ey1, ex0:ex1].astype(np.float32), (0, 0), sigma)
            soft[ry0:ry1, rx0:rx1] = np.clip(blurred[ry0 - ey0:ry1 - ey0, rx0 - ex0:rx1 - ex0] + 0.5, 0, 255)
        alpha = soft
    for ry0, ry1, rx0, rx1 in runs:
        colours[ry0:ry1, rx0:rx1][alpha[ry0:ry1, rx0:rx1] == 0] = 0
    return alpha, colours
