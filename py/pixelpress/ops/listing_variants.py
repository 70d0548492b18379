"""Listing variants: `grid` (600x400) and `detail` (1200x800) by default.

Each variant fits the picture inside its box with the aspect ratio kept
(the old service stretched it), centred on a transparent canvas of exactly
the box size. Downscaling is INTER_AREA on premultiplied alpha, so edges get
no dark fringes. A source smaller than a box is not upscaled by default (an
upscale only adds blur): it is centred at its own size and a warning says so;
`upscale: true` enlarges it with Lanczos instead.

Result: `data` is the `detail` variant, `extras` holds `grid`. Both are RGBA
PNGs; `meta["variants"]` lists both with their content boxes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InvalidOption
from ..formats.png import CUTOUT_LEVEL
from ..imaging import resize_rgba
from ..operation import OPENCV, Job, OpSpec, operation, output
from ..options import flag, integer
from ..result import Result


@dataclass(frozen=True)
class ListingVariantsOptions:
    grid_width: int = integer(600, 16, 4000, "Grid variant width in pixels.")
    grid_height: int = integer(400, 16, 4000, "Grid variant height in pixels.")
    detail_width: int = integer(1200, 16, 6000, "Detail variant width in pixels.")
    detail_height: int = integer(800, 16, 6000, "Detail variant height in pixels.")
    upscale: bool = flag(False, "Enlarge sources smaller than a variant (Lanczos) instead of centring them at their size.")

    def validate(self) -> None:
        if self.grid_width * self.grid_height > self.detail_width * self.detail_height:
            raise InvalidOption("The grid variant must not be larger than the detail variant.", field="grid_width")


def fit_box(w: int, h: int, box_w: int, box_h: int, upscale: bool) -> tuple[int, int]:
    """Content size of a w x h picture fitted inside box_w x box_h, aspect kept."""
    scale = min(box_w / w, box_h / h)
    if scale > 1.0 and not upscale:
        scale = 1.0
    return max(1, min(box_w, round(w * scale))), max(1, min(box_h, round(h * scale)))


def make_variant(rgba: np.ndarray, box_w: int, box_h: int, upscale: bool = False,
                 source: np.ndarray | None = None) -> tuple[np.ndarray, dict]:
    """The picture fitted in its box; `source`, when given, is the same picture already reduced (at least to
    the content's size) to resample from instead of the full frame."""
    h, w = rgba.shape[:2]
    cw, ch = fit_box(w, h, box_w, box_h, upscale)
    content = resize_rgba(rgba if source is None else source, cw, ch)
    canvas = np.zeros((box_h, box_w, 4), np.uint8)
    x, y = (box_w - cw) // 2, (box_h - ch) // 2
    canvas[y:y + ch, x:x + cw] = content
    info = {"width": box_w, "height": box_h, "content": [x, y, cw, ch],
            "scale": round(cw / w, 4), "upscaled": cw > w}
    return canvas, info


def variants_arrays(rgba: np.ndarray, opts: ListingVariantsOptions, warnings: list[str]) -> dict[str, tuple[np.ndarray, dict]]:
    """Both variants; the grid (never larger, `validate`) is resampled from the detail's content when that
    is a reduction at least the grid's size, so the full frame is read once, not twice."""
    h, w = rgba.shape[:2]
    boxes = {"grid": (opts.grid_width, opts.grid_height), "detail": (opts.detail_width, opts.detail_height)}
    for name, (bw, bh) in boxes.items():
        if w < bw and h < bh:
            what = "enlarged with Lanczos" if opts.upscale else "centred at its own size, not upscaled"
            warnings.append(f"The picture ({w}x{h}) is smaller than the {name} variant ({bw}x{bh}); it was {what}.")
    detail, info = make_variant(rgba, *boxes["detail"], opts.upscale)
    x, y, cw, ch = info["content"]
    gw, gh = fit_box(w, h, *boxes["grid"], opts.upscale)
    reduced = cw < w and ch < h and cw >= gw and ch >= gh
    grid = make_variant(rgba, *boxes["grid"], opts.upscale, source=detail[y:y + ch, x:x + cw] if reduced else None)
    return {"grid": grid, "detail": (detail, info)}


# 20.2 bytes per pixel
SPEC = OpSpec("listing_variants", ListingVariantsOptions, OPENCV, label="Listing variants", work_bytes_per_pixel=21,
              output="detail")


@operation(SPEC)
async def listing_variants(job: Job) -> Result:
    _src, rgba, _ = await job.open_rgba()
    with job.span("resize"):
        made = variants_arrays(rgba, job.opts, job.warnings)
    files = await job.encode_all({name: arr for name, (arr, _) in made.items()}, "png", compress_level=CUTOUT_LEVEL)
    detail_arr, detail_info = made["detail"]
    grid_arr, grid_info = made["grid"]
    grid = output("grid", files["grid"], "png", grid_arr.shape[1::-1], **grid_info)
    return job.finish(files["detail"], "png", detail_arr.shape[1::-1], extras=[grid], mode="RGBA",
                      variants={"detail": detail_info, "grid": grid_info})
