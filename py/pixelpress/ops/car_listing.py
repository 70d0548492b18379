"""The car-listing pipeline: background removal, auto-crop, shadow, variants.

Each step is `fn(state) -> state` run by `pipeline.run_steps`, which times it
into `meta["timings_ms"]`. Outputs (all RGBA PNG): `data` = `processed`
(cut out, cropped with even margins, with its shadow), extras `grid` and
`detail`.

Background removal never fails the job: if the chosen provider fails (or
finds no subject), the pipeline degrades to the next one (network ->
classical -> skip, see `background.cutout`) and records `provider`,
`matte.method` and `fallback_reason` in meta. A fully transparent input
has no subject at all, so auto-crop raises `empty_image`: there is nothing
to list.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..coroutines import run_now
from ..decode import Limits
from ..errors import PixelpressError
from ..imaging import base_meta, decode_rgba, rgba_to_png
from ..options import choice, flag, integer, like, parse_colour, parse_options, text
from ..pipeline import Step, run_steps_async
from ..registry import budgeted
from ..result import Output, Result
from ..saliency import Segmenter
from .autocrop import autocrop_array
from .background import PROVIDERS, cutout
from .shadow import ShadowOptions, shadow_array
from .variants import VariantOptions, variants_arrays


@dataclass(frozen=True)
class CarListingOptions:
    provider: str = choice("local", PROVIDERS, "Background removal: local (neural matte), classical "
                           "(plain backdrops), skip, or remote (input already cut out by the server).")
    skip_background_removal: bool = flag(False, "Same as provider skip (kept from the old service's form).")
    fallback_reason: str = text("", 200, "Why the page fell back to this provider (recorded in meta).")
    filename: str = text("", 255, "Original file name, recorded in meta.")
    padding: int = integer(50, 0, 1000, "Auto-crop margin in pixels on every side.")
    shadow: bool = flag(True, "Add a shadow under the subject.")
    shadow_style: str = like(ShadowOptions, "style", default="floor",
                             doc="floor: contact shadow (suits cars); drop: offset shadow.")
    shadow_blur: int = like(ShadowOptions, "blur_radius")
    shadow_offset_x: int = like(ShadowOptions, "offset_x")
    shadow_offset_y: int = like(ShadowOptions, "offset_y")
    shadow_opacity: int = like(ShadowOptions, "opacity")
    shadow_colour: str = like(ShadowOptions, "colour")
    grid_width: int = like(VariantOptions, "grid_width")
    grid_height: int = like(VariantOptions, "grid_height")
    detail_width: int = like(VariantOptions, "detail_width")
    detail_height: int = like(VariantOptions, "detail_height")
    upscale: bool = like(VariantOptions, "upscale", doc="Enlarge small pictures to fill the variants.")

    def validate(self) -> None:
        self.variant_options()  # same rule as listing_variants

    def variant_options(self) -> VariantOptions:
        return parse_options(VariantOptions, {"grid_width": self.grid_width, "grid_height": self.grid_height,
                                              "detail_width": self.detail_width, "detail_height": self.detail_height,
                                              "upscale": self.upscale})


@dataclass
class ListingState:
    data: bytes
    opts: CarListingOptions
    limits: Limits
    segmenter: Segmenter | None = None
    rgba: np.ndarray | None = None
    had_alpha: bool = False
    meta: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    variants: dict = field(default_factory=dict)
    files: dict = field(default_factory=dict)


def _decode(st: ListingState) -> ListingState:
    src, st.rgba, st.had_alpha = decode_rgba(st.data, st.limits)
    st.warnings += src.warnings
    st.meta.update(original_width=src.width, original_height=src.height, input_format=src.format.lower(),
                   input_bytes=len(st.data))
    return st


async def _remove_background(st: ListingState) -> ListingState:
    o = st.opts
    provider = "skip" if o.skip_background_removal else o.provider
    reason = o.fallback_reason or None
    if provider in ("local", "classical"):
        try:
            st.rgba, info, warnings = await cutout(st.rgba, provider, segmenter=st.segmenter)
            st.had_alpha = True
            st.meta["matte"] = info
            if "matte_confidence" in info:
                st.meta["matte_confidence"] = info["matte_confidence"]
            st.warnings += warnings
        except (PixelpressError, MemoryError, ValueError, ArithmeticError) as exc:  # degrade, never fail
            msg = exc.message if isinstance(exc, PixelpressError) else f"{type(exc).__name__}: {exc}"
            reason = f"local background removal failed: {msg}"
            st.warnings.append(f"Background removal fell back to skip ({msg}).")
            provider = "skip"
    st.meta["provider"] = provider
    if reason:
        st.meta["fallback_reason"] = reason[:300]
    return st


def _autocrop(st: ListingState) -> ListingState:
    st.rgba, info = autocrop_array(st.rgba, st.had_alpha, st.opts.padding)
    if any(info["extended"].values()):
        st.warnings.append("The subject touches an edge; the canvas was extended with transparency "
                           "to keep the margins even.")
    st.meta["crop"] = info
    return st


def _shadow(st: ListingState) -> ListingState:
    o = st.opts
    sopts = ShadowOptions(style=o.shadow_style, blur_radius=o.shadow_blur, offset_x=o.shadow_offset_x,
                          offset_y=o.shadow_offset_y, opacity=o.shadow_opacity, colour=o.shadow_colour)
    st.rgba, info = shadow_array(st.rgba, sopts)
    st.meta["shadow"] = {"style": o.shadow_style, **info}
    return st


def _variants(st: ListingState) -> ListingState:
    st.variants = variants_arrays(st.rgba, st.opts.variant_options(), st.warnings)
    return st


def _encode(st: ListingState) -> ListingState:
    st.files["processed"] = rgba_to_png(st.rgba)
    for name, (arr, _info) in st.variants.items():
        st.files[name] = rgba_to_png(arr)
    return st


@budgeted("car_listing")
async def car_listing_async(data: bytes, options: CarListingOptions | dict | None = None,
                            limits: Limits | None = None, progress=None, *,
                            segmenter: Segmenter | None = None) -> Result:
    opts = parse_options(CarListingOptions, options)
    parse_colour(opts.shadow_colour, "shadow_colour")
    timings: dict[str, float] = {}
    st = ListingState(data, opts, limits, segmenter)
    steps = [
        Step("decode", _decode),
        Step("remove_background", _remove_background),
        Step("autocrop", _autocrop),
        Step("shadow", _shadow, enabled=opts.shadow),
        Step("variants", _variants),
        Step("encode", _encode),
    ]
    st = await run_steps_async(steps, st, timings=timings, progress=progress)
    if not opts.shadow:
        st.meta["shadow"] = None
    extras = []
    for name in ("grid", "detail"):
        arr, info = st.variants[name]
        extras.append(Output(name, st.files[name], "image/png",
                             base_meta(arr, "png", st.files[name], {}, [], name=name, **info)))
    meta = base_meta(st.rgba, "png", st.files["processed"], timings, st.warnings, name="processed", mode="RGBA",
                     filename=opts.filename or None, steps=[s.name for s in steps if s.enabled],
                     variants={n: st.variants[n][1] for n in ("grid", "detail")}, **st.meta)
    return Result(st.files["processed"], "image/png", meta, extras)


@budgeted("car_listing")
def car_listing(data: bytes, options: CarListingOptions | dict | None = None,
                limits: Limits | None = None, progress=None, *, segmenter: Segmenter | None = None) -> Result:
    return run_now(car_listing_async(data, options, limits, progress, segmenter=segmenter))
