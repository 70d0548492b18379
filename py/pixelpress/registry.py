"""Operation name -> where it lives and which Pyodide packages it needs.

Deliberately free of heavy imports: the worker asks `packages_for(op)`
before numpy or OpenCV are loaded, so conversion never pays for OpenCV.
"""

from __future__ import annotations

import functools
import importlib
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from .errors import UnknownOperation

if TYPE_CHECKING:
    from .decode import Limits

PILLOW = ("pillow",)
NUMPY = ("pillow", "numpy")
OPENCV = ("pillow", "numpy", "opencv-python")


@dataclass(frozen=True)
class OpSpec:
    target: str  # "module:function", relative to the pixelpress package
    packages: tuple[str, ...]
    progress: bool = False  # the function accepts a `progress` callback
    model: bool = False  # runs the salient-object network: `<function>_async` takes a `segmenter`
    label: str = ""  # what a person calls it, to open a sentence: "Oil paint works on pictures up to ..."
    work_bytes_per_pixel: int = 0  # peak working memory per input pixel; see WORK_BUDGET_BYTES


# Working memory an op may need for one image, checked against
# `work_bytes_per_pixel` x the header's pixel count before anything is decoded
# (decode.Limits.check_work). In the worker, wasm memory never shrinks and
# stops at 4 GB: an op that ran out of it there left a 4 GB worker behind.
# 2 GB plus the runtime (~0.2-0.4 GB with OpenCV) stays well below 4 GB. It is
# not 1.5 GB because the heaviest ops (the logo clean-up and the team ops
# built on it) need 1.6 GB for a 12 MP camera photo, which must keep working.
# The pool recycles a worker whose heap is over 1.5 GB after a job
# (RECYCLE_HEAP_BYTES in web/client/pixelpress.js).
#
# The per-pixel figures are peak RSS growth of one native run on a 12 MP
# input (4000x3000 JPEG photo; 3464x3464 PNG logo for the team ops; RGBA
# cut-out PNG for the listing steps), rounded up, measured in a fresh process
# after a warm-up run on a small image. An op whose figure keeps it under the
# budget up to the 50 MP pixel cap is never refused for memory.
WORK_BUDGET_BYTES = 2_000_000_000

# Measured bytes per pixel (before rounding up) beside each op.
OPS: dict[str, OpSpec] = {
    # 24.8 RGBA PNG to WebP, 4.8 JPEG to PNG: never the limit below 50 MP
    "convert": OpSpec("ops.convert:convert", PILLOW, label="Conversion", work_bytes_per_pixel=25),
    # 133.0 logo PNG, 128.3 photo JPEG
    "logo_cleanup": OpSpec("ops.logo:logo_cleanup", OPENCV, label="Logo clean-up", work_bytes_per_pixel=134),
    # 95.5 at factor 2 on 12 MP; larger factors are held by the op's own 50 MP output cap
    # (factor 4: 327 per input pixel, at most 3.1 MP in, 1.0 GB)
    "upscale": OpSpec("ops.upscale:upscale", OPENCV, label="Upscaling", work_bytes_per_pixel=96),
    # 129.1: the logo's clean-up
    "tshirt_mockup": OpSpec("ops.mockup:tshirt_mockup", OPENCV, label="The T-shirt mockup", work_bytes_per_pixel=130),
    # 133.1: the logo's clean-up
    "roster_banner": OpSpec("ops.banner:roster_banner", OPENCV, label="The roster banner", work_bytes_per_pixel=134),
    # 4.6 JPEG (decoded at reduced scale)
    "web_sizes": OpSpec("ops.web_sizes:web_sizes", PILLOW, label="Web sizes", work_bytes_per_pixel=5),
    # 132.3: the logo's clean-up
    "asset_pack": OpSpec("ops.asset_pack:asset_pack", OPENCV, progress=True, label="The asset pack",
                         work_bytes_per_pixel=134),
    # 95.5, RGB JPEG and RGBA PNG alike
    "oil_paint": OpSpec("ops.oil_paint:oil_paint", OPENCV, label="Oil paint", work_bytes_per_pixel=96),
    # 51.5 with the network, 33.2 classical
    "remove_background": OpSpec("ops.background:remove_background", OPENCV, model=True,
                                label="Background removal", work_bytes_per_pixel=52),
    # 11.8
    "autocrop": OpSpec("ops.autocrop:autocrop", NUMPY, label="Auto-crop", work_bytes_per_pixel=12),
    # 13.3 drop, 18.0 floor
    "drop_shadow": OpSpec("ops.shadow:drop_shadow", OPENCV, label="The shadow", work_bytes_per_pixel=18),
    # 20.2
    "listing_variants": OpSpec("ops.variants:listing_variants", OPENCV, label="Listing variants",
                               work_bytes_per_pixel=21),
    # 47.6 with the network
    "car_listing": OpSpec("ops.car_listing:car_listing", OPENCV, progress=True, model=True,
                          label="The car listing", work_bytes_per_pixel=48),
}


def spec(op: str) -> OpSpec:
    try:
        return OPS[op]
    except KeyError:
        raise UnknownOperation(f"Unknown operation {op!r}; known: {', '.join(sorted(OPS))}.") from None


@functools.cache
def limits_for(op: str) -> Limits:
    """The decoding limits for `op`: the shared caps plus its working-memory budget."""
    from .decode import DEFAULT_LIMITS  # decode imports Pillow: not before an op runs

    s = spec(op)
    return replace(DEFAULT_LIMITS, work_bytes_per_pixel=s.work_bytes_per_pixel,
                   max_work_bytes=WORK_BUDGET_BYTES, work_label=s.label)


def budgeted(op: str):
    """Decorate `op`'s function so that a caller passing no `limits` gets `limits_for(op)`.

    The bridge always passes them; this keeps the working-memory budget for
    native callers of the functions too (a Python user's 50 MP batch).
    """
    def wrap(fn):
        @functools.wraps(fn)
        def with_limits(data, options=None, limits=None, *args, **kwargs):
            return fn(data, options, limits_for(op) if limits is None else limits, *args, **kwargs)
        return with_limits
    return wrap


def packages_for(op: str) -> list[str]:
    return list(spec(op).packages)


def needs_model(op: str) -> bool:
    return spec(op).model


def resolve(op: str, *, asynchronous: bool = False):
    """The op's function; with `asynchronous`, the coroutine function a model op awaits its network in."""
    module, func = spec(op).target.split(":")
    return getattr(importlib.import_module(f"pixelpress.{module}"), func + ("_async" if asynchronous else ""))
