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


def estimate_alpha(rgb: np.ndarray, *, iterations: int = 3) -> tuple[np.ndarray, dict, BackgroundModel]:
    """Full-resolution uint8 alpha of the subject of an HxWx3 uint8 RGB studio photo, unfeathered,
    with a model of its backdrop (refine_edges places the edge exactly)."""
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
    if (mw, mh) != (w, h):
        alpha = cv2.resize(alpha, (w, h), interpolation=cv2.INTER_LINEAR)
    a8 = np.clip(alpha * 255 + 0.5, 0, 255).astype(np.uint8)
    info = {"work_size": [sw, sh], "refine_size": [mw, mh], "subject_fraction": round(float((a8 > 127).mean()), 4),
            "background_noise": round(model.noise * 255, 2)}
    return a8, info, model


def refine_edges(rgb: np.ndarray, alpha: np.ndarray, model: BackgroundModel,
                 feather: int = 1) -> tuple[np.ndarray, np.ndarray]:
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
    """
    import cv2

    h, w = alpha.shape
    colours = rgb.copy()
    ys, xs = np.nonzero(alpha)
    if not ys.size:
        return alpha, np.zeros_like(rgb)
    pad = 12 + 6 * feather  # room for the blurs below
    y0, y1 = max(0, ys.min() - pad), min(h, ys.max() + pad + 1)
    x0, x1 = max(0, xs.min() - pad), min(w, xs.max() + pad + 1)
    # The soft band, and two pixels either side of a hard edge.
    sub = alpha[y0:y1, x0:x1]
    solid = (sub >= 128).astype(np.uint8)
    ring = np.ones((5, 5), np.uint8)
    band = ((sub > 0) & (sub < 255)) | ((cv2.dilate(solid, ring) > 0) & (cv2.erode(solid, ring) == 0))
    by, bx = np.nonzero(band)
    ys, xs = by + y0, bx + x0
    # The subject's own colours: opaque and clear of the edge, whose pixels may be mixed. On a big
    # crop they are blurred at a reduced scale `f`: the inside colour is smooth anyway, and the
    # full-size float copies cost seconds in the browser.
    inside = (cv2.erode((sub >= 250).astype(np.uint8), ring) > 0).astype(np.float32)
    crop = rgb[y0:y1, x0:x1]
    f = max(1, int((inside.size / INSIDE_PIXELS) ** 0.5))
    if f > 1:
        size = (max(1, inside.shape[1] // f), max(1, inside.shape[0] // f))
        inside = cv2.resize(inside, size, interpolation=cv2.INTER_AREA)
        crop = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
    weighted = crop.astype(np.float32) * inside[..., None]
    blurs: dict[float, tuple[np.ndarray, np.ndarray]] = {}

    def inside_colour(sigma: float, py: np.ndarray, px: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(colour, weight) at crop positions: a blur of the opaque pixels only."""
        if sigma not in blurs:
            blurs[sigma] = smooth(inside, sigma / f), smooth(weighted, sigma / f)
        weight_map, total_map = blurs[sigma]
        qy, qx = np.minimum(py // f, inside.shape[0] - 1), np.minimum(px // f, inside.shape[1] - 1)
        weight = weight_map[qy, qx]
        return total_map[qy, qx] / np.maximum(weight, 1e-6)[:, None], weight

    inner, d_in = inside_colour(2.5, by, bx)
    # A wide soft edge (the neural matte's) lies farther from the opaque pixels: look wider there.
    far = d_in <= 0.02
    if far.any():
        inner[far], d_in[far] = inside_colour(6.0, by[far], bx[far])
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
    colours[ys, xs] = np.clip(fg + 0.5, 0, 255).astype(np.uint8)
    alpha = alpha.copy()
    alpha[ys, xs] = np.clip(a * 255 + 0.5, 0, 255).astype(np.uint8)
    if feather > 0:
        # Pixels the softening reaches outside the edge take the subject's colour, not the backdrop's.
        sub = alpha[y0:y1, x0:x1]
        reach = cv2.dilate((sub > 0).astype(np.uint8), np.ones((3, 3), np.uint8), iterations=2 * feather + 2)
        gy, gx = np.nonzero((reach > 0) & (sub == 0))
        near, weight = inside_colour(2.5 + feather, gy, gx)
        ok = weight > 1e-4
        colours[gy[ok] + y0, gx[ok] + x0] = np.clip(near[ok] + 0.5, 0, 255).astype(np.uint8)
        soft = cv2.GaussianBlur(sub.astype(np.float32), (0, 0), 0.6 * feather)
        alpha[y0:y1, x0:x1] = np.clip(soft + 0.5, 0, 255).astype(np.uint8)
    # Outside the crop alpha is 0 everywhere; inside it, the mask is cheaper than a full-size one.
    colours[:y0], colours[y1:], colours[:, :x0], colours[:, x1:] = 0, 0, 0, 0
    colours[y0:y1, x0:x1][alpha[y0:y1, x0:x1] == 0] = 0
    return alpha, colours
