"""The car-listing pipeline: background removal, auto-crop, shadow, variants.

Each step is `fn(state) -> state` run by `pipeline.run_steps`, which times it
into `meta["timings_ms"]`. Outputs (all RGBA PNG): `data` = `processed`
(cut out, cropped with even margins, with its shadow), extras `grid` and
`detail`.

Background removal does not fail the job when the chosen provider fails (or
finds no subject): the pipeline degrades to the next one (network ->
classical -> skip, see `remove_background.cutout`) and records `provider`,
`matte.method` and `fallback_reason` in meta. A network that is not
installed natively is another matter: `missing_dependency`, with what to
install, since a listing cut out by the classical matte on a real photo
keeps the backdrop's lettering (`provider: classical` asks for it). A fully transparent input
has no subject at all, so auto-crop raises `empty_image`: there is nothing
to list.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import MissingDependency, PixelpressError
from ..formats.png import CUTOUT_LEVEL
from ..imaging import decode_rgba
from ..matte.strokes import parse_hints
from ..operation import OPENCV, Job, OpSpec, operation, output
from ..options import choice, flag, integer, like, parse_colour, parse_options, text
from ..pipeline import Step, run_steps_async
from ..result import Result
from ..saliency import Segmenter
from .autocrop import autocrop_array
from .drop_shadow import DropShadowOptions, shadow_array
from .listing_variants import ListingVariantsOptions, variants_arrays
from .remove_background import PROVIDERS, RemoveBackgroundOptions, cutout


@dataclass(frozen=True)
class CarListingOptions:
    provider: str = choice("local", PROVIDERS, "Background removal: local (neural matte), classical "
                           "(plain backdrops), skip, or remote (input already cut out by the server).")
    skip_background_removal: bool = flag(False, "Same as provider skip (kept from the old service's form).")
    fallback_reason: str = text("", 200, "Why the page fell back to this provider (recorded in meta).")
    filename: str = text("", 255, "Original file name, recorded in meta.")
    padding: int = integer(50, 0, 1000, "Auto-crop margin in pixels on every side.")
    shadow: bool = flag(True, "Add a shadow under the subject.")
    shadow_style: str = like(DropShadowOptions, "style", default="floor",
                             doc="floor: contact shadow (suits cars); drop: offset shadow.")
    shadow_blur: int = like(DropShadowOptions, "blur_radius")
    shadow_offset_x: int = like(DropShadowOptions, "offset_x")
    shadow_offset_y: int = like(DropShadowOptions, "offset_y")
    shadow_opacity: int = like(DropShadowOptions, "opacity")
    shadow_colour: str = like(DropShadowOptions, "colour")
    grid_width: int = like(ListingVariantsOptions, "grid_width")
    grid_height: int = like(ListingVariantsOptions, "grid_height")
    detail_width: int = like(ListingVariantsOptions, "detail_width")
    detail_height: int = like(ListingVariantsOptions, "detail_height")
    upscale: bool = like(ListingVariantsOptions, "upscale", doc="Enlarge small pictures to fill the variants.")
    hints: tuple = like(RemoveBackgroundOptions, "hints")

    def uses_network(self) -> bool:
        return self.provider == "local" and not self.skip_background_removal

    def validate(self) -> None:
        self.variant_options()  # same rule as listing_variants
        object.__setattr__(self, "hints", parse_hints(self.hints))

    def variant_options(self) -> ListingVariantsOptions:
        return parse_options(ListingVariantsOptions, {"grid_width": self.grid_width, "grid_height": self.grid_height,
                                              "detail_width": self.detail_width, "detail_height": self.detail_height,
                                              "upscale": self.upscale})


@dataclass
class ListingState:
    job: Job
    segmenter: Segmenter | None = None
    rgba: np.ndarray | None = None
    had_alpha: bool = False
    meta: dict = field(default_factory=dict)
    variants: dict = field(default_factory=dict)
    files: dict = field(default_factory=dict)

    @property
    def opts(self) -> CarListingOptions:
        return self.job.opts

    @property
    def warnings(self) -> list[str]:
        return self.job.warnings

    @warnings.setter
    def warnings(self, value: list[str]) -> None:  # `st.warnings += more` in the steps
        self.job.warnings = value


def _decode(st: ListingState) -> ListingState:
    # A step of its own (not Job.open_rgba) so that the step runner reports and times it. Pillow decodes:
    # through the job, the browser's decoder made the studio's preview crop differ (test_studio_like_with_like).
    src, st.rgba, st.had_alpha = decode_rgba(st.job.data, st.job.limits)
    st.job.note(src)
    return st


async def _remove_background(st: ListingState) -> ListingState:
    o = st.opts
    provider = "skip" if o.skip_background_removal else o.provider
    reason = o.fallback_reason or None
    if provider in ("local", "classical"):
        try:
            st.rgba, info, warnings = await cutout(st.rgba, provider, segmenter=st.segmenter, had_alpha=st.had_alpha,
                                                    hints=o.hints)
            st.had_alpha = True
            st.meta["matte"] = info
            if "matte_confidence" in info:
                st.meta["matte_confidence"] = info["matte_confidence"]
            st.warnings += warnings
        except MissingDependency:
            raise  # an install to complete, not a photo to degrade
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
    sopts = DropShadowOptions(style=o.shadow_style, blur_radius=o.shadow_blur, offset_x=o.shadow_offset_x,
                          offset_y=o.shadow_offset_y, opacity=o.shadow_opacity, colour=o.shadow_colour)
    st.rgba, info = shadow_array(st.rgba, sopts)
    st.meta["shadow"] = {"style": o.shadow_style, **info}
    return st


def _variants(st: ListingState) -> ListingState:
    st.variants = variants_arrays(st.rgba, st.opts.variant_options(), st.warnings)
    return st


async def _encode(st: ListingState) -> ListingState:
    images = {"processed": st.rgba, **{name: arr for name, (arr, _info) in st.variants.items()}}
    st.files = await st.job.encode_all(images, "png", compress_level=CUTOUT_LEVEL)
    return st


# 47.6 bytes per pixel with the network
SPEC = OpSpec("car_listing", CarListingOptions, OPENCV, progress=True, model=True, label="Car listing",
              work_bytes_per_pixel=48, output="processed")


@operation(SPEC)
async def car_listing(job: Job, progress=None, *, segmenter: Segmenter | None = None) -> Result:
    opts = job.opts
    parse_colour(opts.shadow_colour, "shadow_colour")
    st = ListingState(job, segmenter)
    steps = [
        Step("decode", _decode),
        Step("remove_background", _remove_background),
        Step("autocrop", _autocrop),
        Step("shadow", _shadow, enabled=opts.shadow),
        Step("variants", _variants),
        Step("encode", _encode),
    ]
    st = await run_steps_async(steps, st, timings=job.timings.ms, progress=progress)
    if not opts.shadow:
        st.meta["shadow"] = None
    extras = [output(name, st.files[name], "png", st.variants[name][0].shape[1::-1],
                     **st.variants[name][1]) for name in ("grid", "detail")]
    return job.finish(st.files["processed"], "png", st.rgba.shape[1::-1], extras=extras,
                      mode="RGBA", filename=opts.filename or None, steps=[s.name for s in steps if s.enabled],
                      variants={n: st.variants[n][1] for n in ("grid", "detail")}, **st.meta)

