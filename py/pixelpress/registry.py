"""Operation name -> where it lives and which Pyodide packages it needs.

Deliberately free of heavy imports: the worker asks `packages_for(op)`
before numpy or OpenCV are loaded, so conversion never pays for OpenCV.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from .errors import UnknownOperation

PILLOW = ("pillow",)
NUMPY = ("pillow", "numpy")
OPENCV = ("pillow", "numpy", "opencv-python")


@dataclass(frozen=True)
class OpSpec:
    target: str  # "module:function", relative to the pixelpress package
    packages: tuple[str, ...]
    progress: bool = False  # the function accepts a `progress` callback
    model: bool = False  # runs the salient-object network: `<function>_async` takes a `segmenter`


OPS: dict[str, OpSpec] = {
    "convert": OpSpec("ops.convert:convert", PILLOW),
    "logo_cleanup": OpSpec("ops.logo:logo_cleanup", OPENCV),
    "upscale": OpSpec("ops.upscale:upscale", OPENCV),
    "tshirt_mockup": OpSpec("ops.mockup:tshirt_mockup", OPENCV),
    "roster_banner": OpSpec("ops.banner:roster_banner", OPENCV),
    "web_sizes": OpSpec("ops.web_sizes:web_sizes", PILLOW),
    "asset_pack": OpSpec("ops.asset_pack:asset_pack", OPENCV, progress=True),
    "oil_paint": OpSpec("ops.oil_paint:oil_paint", OPENCV),
    "remove_background": OpSpec("ops.background:remove_background", OPENCV, model=True),
    "autocrop": OpSpec("ops.autocrop:autocrop", NUMPY),
    "drop_shadow": OpSpec("ops.shadow:drop_shadow", OPENCV),
    "listing_variants": OpSpec("ops.variants:listing_variants", OPENCV),
    "car_listing": OpSpec("ops.car_listing:car_listing", OPENCV, progress=True, model=True),
}


def spec(op: str) -> OpSpec:
    try:
        return OPS[op]
    except KeyError:
        raise UnknownOperation(f"Unknown operation {op!r}; known: {', '.join(sorted(OPS))}.") from None


def packages_for(op: str) -> list[str]:
    return list(spec(op).packages)


def needs_model(op: str) -> bool:
    return spec(op).model


def resolve(op: str, *, asynchronous: bool = False):
    """The op's function; with `asynchronous`, the coroutine function a model op awaits its network in."""
    module, func = spec(op).target.split(":")
    return getattr(importlib.import_module(f"pixelpress.{module}"), func + ("_async" if asynchronous else ""))
