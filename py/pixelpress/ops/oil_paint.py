"""Oil-paint effect: flat brush-stroke regions with preserved edges.

The classic intensity-histogram oil-paint filter (the algorithm of OpenCV's
contrib `xphoto.oilPainting`, which the browser build lacks), written with
box filters so the cost per pixel is O(bins), independent of brush size:

1. Quantise the grey intensity into bins of `dyn_ratio` grey levels.
2. For every bin b, one box filter over the 4-channel image
   (mask_b, mask_b*R, mask_b*G, mask_b*B) gives, for every pixel, how many
   neighbours in the brush window fall in bin b and their colour sum.
3. Each pixel takes the mean colour of its window's most frequent bin.

Because a pixel only ever takes colours from its own window's dominant
intensity band, regions flatten into strokes while edges between bands stay
sharp (no blur across them). An optional vibrance step then boosts
saturation, more for dull colours than for already vivid ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..operation import OPENCV, Job, OpSpec, operation
from ..options import choice, integer
from ..result import Result


@dataclass(frozen=True)
class OilPaintOptions:
    intensity: int = integer(5, 1, 10, "How strongly the picture is flattened into paint strokes: 1 subtle, 10 strongest.")
    brush_size: int = integer(4, 1, 20, "Stroke radius in pixels (the window is 2*brush_size+1 wide).")
    color_vibrance: int = integer(20, 0, 100, "Saturation boost in percent; 0 leaves colours unchanged.")
    format: str = choice("auto", ("auto", "jpeg", "png", "webp"),
                         "Output format; auto = PNG when the input has transparency, else JPEG.")
    quality: int = integer(90, 1, 100, "JPEG and WebP quality.")
    max_width: int | None = integer(None, 1, 20000, "Fit inside this width before painting; never upscales.",
                                    optional=True)
    max_height: int | None = integer(None, 1, 20000, "Fit inside this height before painting; never upscales.",
                                     optional=True)


def dyn_ratio_for(intensity: int) -> int:
    """Intensity knob 1..10 to xphoto's `dynRatio` (grey levels per bin): 64, 51, 43, 32, 26, 20, 16, 13, 10, 8.

    Grey values are divided by it (rounded), giving 256/dynRatio + 1 bins:
    5, 6, 7, 9, 11, 14, 17, 21, 27, 33. More bins make the modal band
    narrower, so its mean colour stays constant over a wider area: flatter,
    more distinct strokes (measured: fewer distinct colours, more flat
    neighbours). Few bins average broad bands and look closer to a soft blur.
    Cost grows linearly with the bin count.
    """
    levels = round(4 * 2 ** ((intensity - 1) / 3))  # 4 .. 32, geometric
    return max(1, 256 // levels)


# Rows per strip: about this many pixels. The filter's buffers (4 float planes)
# then stay a few tens of MB instead of 16 bytes per pixel of the whole photo,
# which is what made a 12 MP export slow in wasm, and each strip is a progress step.
STRIP_PIXELS = 1_000_000


def paint_rgb(rgb: np.ndarray, dyn_ratio: int, radius: int, progress=None) -> np.ndarray:
    """The histogram oil-paint filter on an HxWx3 uint8 array (cost O(bins) per pixel).

    Same definition as OpenCV contrib's `xphoto.oilPainting(src, radius, dyn_ratio)`:
    bin = round(grey / dyn_ratio), window (2*radius+1)^2, the modal bin's mean
    colour. The picture is painted in horizontal strips with `radius` rows of
    context on each side, so every window sees exactly the pixels it would in
    one pass; `progress(done, total)` is called before each strip.
    """
    import cv2

    h, w = rgb.shape[:2]
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    q = np.rint(grey * (1.0 / dyn_ratio)).astype(np.uint8)  # round half to even, like OpenCV's Mat / scalar
    # [R, G, B, 255]: masked by one bin in a single call, its last channel is that bin's mask.
    lit = cv2.cvtColor(rgb, cv2.COLOR_RGB2RGBA).reshape(h, w, 4)
    out = np.empty((h, w, 3), np.uint8)
    rows = max(1, STRIP_PIXELS // max(1, w), 8 * radius)  # context rows stay a small share of a strip
    starts = range(0, h, rows)
    for i, y0 in enumerate(starts):
        if progress is not None:
            progress(i, len(starts))
        y1 = min(h, y0 + rows)
        top, bottom = max(0, y0 - radius), min(h, y1 + radius)
        out[y0:y1] = _paint_strip(lit[top:bottom], q[top:bottom], radius)[y0 - top:y1 - top]
    return out


def _paint_strip(lit: np.ndarray, q: np.ndarray, radius: int) -> np.ndarray:
    """One strip: per bin present, one 4-channel box sum (R, G, B, count); the running winner's sums are
    kept with a masked copy, and the division happens once at the end, all in whole-plane OpenCV calls."""
    import cv2

    h, w = q.shape
    ksize = (2 * radius + 1, 2 * radius + 1)
    # Window sums of 0..255 planes: 16-bit while they fit (brushes up to 7), half the memory traffic.
    wide = ksize[0] * ksize[1] * 255 > np.iinfo(np.uint16).max
    depth, dtype = (cv2.CV_32F, np.float32) if wide else (cv2.CV_16U, np.uint16)
    best = np.zeros((h, w), dtype)  # a pixel's own bin always counts >= 1
    acc = np.zeros((h, w, 4), dtype)
    for b in np.flatnonzero(np.bincount(q.ravel())):
        m = (q == b).view(np.uint8)
        planes = cv2.bitwise_and(lit, lit, mask=m)
        # Unnormalised window sums; BORDER_REFLECT keeps edge windows full-sized like xphoto.
        s = cv2.boxFilter(planes, depth, ksize, normalize=False, borderType=cv2.BORDER_REFLECT)
        s = s.reshape(h, w, 4)  # OpenCV drops unit dimensions of 1-pixel-wide images
        count = cv2.extractChannel(s, 3).reshape(h, w)
        win = cv2.compare(count, best, cv2.CMP_GT)
        cv2.max(best, count, dst=best)
        cv2.copyTo(s, win, acc)
    *sums, count = (cv2.extractChannel(acc, c).reshape(h, w) for c in range(4))
    # sum * 255 / (255 * count), rounded to the nearest level in OpenCV: the mean colour of the winning bin.
    return np.dstack([cv2.divide(c, count, scale=255.0, dtype=cv2.CV_8U).reshape(h, w) for c in sums])


def vibrance(rgb: np.ndarray, amount: int) -> np.ndarray:
    """Boost saturation by `amount` percent, favouring dull colours; greys stay grey."""
    import cv2

    if amount <= 0:
        return rgb
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV_FULL)
    s = hsv[..., 1].astype(np.float32) * (1.0 / 255.0)
    k = amount / 100.0 * 1.5
    s = s * (1.0 + k * (1.0 - s) + 0.25 * k)  # weak colours gain most, strong ones a little
    hsv[..., 1] = np.clip(s * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB_FULL)


# 95.5 bytes per pixel, RGB JPEG and RGBA PNG alike
SPEC = OpSpec("oil_paint", OilPaintOptions, OPENCV, progress=True, label="Oil paint", work_bytes_per_pixel=96,
              output="oil")


@operation(SPEC)
async def oil_paint(job: Job, progress=None) -> Result:
    from PIL import Image

    opts = job.opts
    fit = (opts.max_width, opts.max_height) if (opts.max_width or opts.max_height) else None
    _src, rgba, had_alpha = await job.open_rgba(fit=fit)
    dyn_ratio = dyn_ratio_for(opts.intensity)
    radius = opts.brush_size
    h, w = rgba.shape[:2]
    if radius * 2 + 1 > max(h, w):
        job.warnings.append(f"The brush ({radius} px) is larger than the image ({w}x{h}); "
                            "the whole picture becomes a few flat strokes.")
    rgb = np.ascontiguousarray(rgba[..., :3])
    # The step runner's event shape: decode is done, then each strip of the painting, vibrance, encode.
    total = 3

    def report(done: int, step: str) -> None:
        if progress is not None:
            progress({"done": done, "total": total, "step": step})

    def strip(i: int, n: int) -> None:
        nonlocal total
        total = n + 3
        report(1 + i, "paint")

    with job.span("paint"):
        painted = paint_rgb(rgb, dyn_ratio, radius, progress=strip)
    report(total - 2, "vibrance")
    with job.span("vibrance"):
        painted = vibrance(painted, opts.color_vibrance)
    report(total - 1, "encode")

    fmt = opts.format if opts.format != "auto" else ("png" if had_alpha else "jpeg")
    if had_alpha and fmt in ("png", "webp"):
        im = Image.fromarray(np.ascontiguousarray(np.dstack([painted, rgba[..., 3]])))
    else:
        if had_alpha:
            job.warnings.append("JPEG has no transparency; transparent areas were flattened onto white.")
            a = rgba[..., 3:4].astype(np.float32) / 255.0
            painted = np.clip(painted * a + 255.0 * (1 - a) + 0.5, 0, 255).astype(np.uint8)
        im = Image.fromarray(painted)
    out = await job.encode(im, fmt, quality=opts.quality)
    return job.finish(out, fmt, (w, h), mode=im.mode, dyn_ratio=dyn_ratio, brush_size=radius,
                      intensity=opts.intensity, color_vibrance=opts.color_vibrance)
