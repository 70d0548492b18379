"""Auto-crop to the subject with an even margin on all four sides.

The subject is alpha > `alpha_threshold` when the image has transparency,
otherwise every pixel with any channel darker than `white_threshold` (a
subject shot on white). The crop box is the subject's bounding box grown by
`padding` on every side. Where that box leaves the image, the canvas is
extended with transparent pixels instead of clamping the box: the old
service clamped, which gave lopsided margins when the subject touched an
edge. Output is an RGBA PNG.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import EmptyImage
from ..operation import NUMPY, Job, OpSpec, operation
from ..options import integer
from ..result import Result


@dataclass(frozen=True)
class AutocropOptions:
    padding: int = integer(50, 0, 1000, "Margin in pixels added on every side of the subject.")
    alpha_threshold: int = integer(10, 0, 254, "With transparency: pixels with alpha above this are subject.")
    white_threshold: int = integer(250, 1, 255, "Without transparency: pixels with any channel below this are subject.")


def subject_box(rgba: np.ndarray, has_transparency: bool, alpha_threshold: int = 10,
                white_threshold: int = 250) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1), exclusive end, of the subject; raises EmptyImage when there is none."""
    if has_transparency:
        subject = rgba[..., 3] > alpha_threshold
        why = "fully transparent"
    else:
        subject = (rgba[..., :3] < white_threshold).any(axis=2)
        why = f"entirely white (every pixel has all channels >= {white_threshold})"
    rows = np.flatnonzero(subject.any(axis=1))
    if rows.size == 0:
        raise EmptyImage(f"Nothing to crop to: the image is {why}. "
                         "Check the background removal result or lower the threshold.")
    cols = np.flatnonzero(subject.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def crop_padded(rgba: np.ndarray, box: tuple[int, int, int, int], padding: int) -> tuple[np.ndarray, dict]:
    """Cut box + padding out of rgba; areas outside the source become transparent."""
    h, w = rgba.shape[:2]
    x0, y0, x1, y1 = box
    ox, oy = x0 - padding, y0 - padding
    cw, ch = (x1 - x0) + 2 * padding, (y1 - y0) + 2 * padding
    out = np.zeros((ch, cw, 4), np.uint8)
    sx0, sy0 = max(0, ox), max(0, oy)
    sx1, sy1 = min(w, ox + cw), min(h, oy + ch)
    out[sy0 - oy:sy1 - oy, sx0 - ox:sx1 - ox] = rgba[sy0:sy1, sx0:sx1]
    extended = {"left": max(0, -ox), "top": max(0, -oy), "right": max(0, ox + cw - w), "bottom": max(0, oy + ch - h)}
    info = {"subject_box": [x0, y0, x1 - x0, y1 - y0], "crop_origin": [ox, oy], "extended": extended}
    return out, info


def autocrop_array(rgba: np.ndarray, has_transparency: bool, padding: int = 50, alpha_threshold: int = 10,
                   white_threshold: int = 250) -> tuple[np.ndarray, dict]:
    box = subject_box(rgba, has_transparency, alpha_threshold, white_threshold)
    return crop_padded(rgba, box, padding)


# 11.8 bytes per pixel
SPEC = OpSpec("autocrop", AutocropOptions, NUMPY, label="Auto-crop", work_bytes_per_pixel=12)


@operation(SPEC)
async def autocrop(job: Job) -> Result:
    opts = job.opts
    _src, rgba, had_alpha = await job.open_rgba()
    with job.span("crop"):
        out_arr, info = autocrop_array(rgba, had_alpha, opts.padding, opts.alpha_threshold, opts.white_threshold)
    if any(info["extended"].values()):
        sides = ", ".join(k for k, v in info["extended"].items() if v)
        job.warnings.append(f"The subject is closer than {opts.padding} px to the {sides} edge; "
                            "the canvas was extended with transparency to keep the margins even.")
    out = await job.encode(out_arr, "png")
    return job.finish(out, "png", out_arr.shape[1::-1], mode="RGBA", padding=opts.padding,
                      subject_rule="alpha" if had_alpha else "non-white", **info)
