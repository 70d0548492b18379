"""Background removal: the neural matte, the classical matte, or a pass-through.

Providers at the engine level:

- `local`: the salient-object network (`matte.neural`), refined at full
  resolution. Natively it needs onnxruntime (the `opencv` extra) and the
  model (fetched on first use, see `saliency`): without them the op fails
  with `missing_dependency` rather than hand back a worse cut-out. When the
  network is there but fails to load or run (in the browser: the model
  worker died or its file failed its hash), or finds nothing, the classical
  matte takes over and says so (a warning, `matte.method`,
  `matte.fallback_reason`).
- `classical`: the studio-background matte of `matte.local` (border colour
  model, shadow-aware score, GrabCut): good on plain studio backdrops only.
- `skip`: the image unchanged, as RGBA PNG.
- `remote`: the input was already cut out by the server's API4.ai endpoint
  (called by the page, not the engine); the engine keeps its alpha as is and
  records the provider.

The whole chain is remote (the page), then the network, then classical, then
skip (the car listing degrades to skip rather than fail, except for a
network that is not installed, which fails it too). The page may pass
`fallback_reason` (why it fell back from `remote`), which is recorded in meta.
Output is always an RGBA PNG.

In the browser the worker awaits the op (`remove_background.run_async`) with
a segmenter that runs onnxruntime-web; natively `remove_background` runs it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..errors import EmptyImage
from ..formats.png import CUTOUT_LEVEL
from ..matte.local import NoSubject, estimate_alpha, refine_edges
from ..matte.neural import neural_alpha
from ..matte.strokes import KEEP, REMOVE, Stroke, check_cover, hints_option, paint, parse_hints
from ..operation import OPENCV, Job, OpSpec, operation
from ..options import choice, integer, text
from ..result import Result
from ..saliency import MODEL, ModelUnavailable, Segmenter, native_segmenter

PROVIDERS = ("local", "classical", "skip", "remote")


@dataclass(frozen=True)
class RemoveBackgroundOptions:
    provider: str = choice("local", PROVIDERS, "local: the engine's neural matte (natively needs onnxruntime); "
                           "classical: the plain-backdrop matte; skip: unchanged; "
                           "remote: input already cut out by the server, kept as is.")
    fallback_reason: str = text("", 200, "Why the page fell back to this provider (recorded in meta).")
    feather: int = integer(1, 0, 20, "Softness of the cut-out edge in pixels (0 = hard edge).")
    hints: tuple = hints_option()

    def uses_network(self) -> bool:
        return self.provider == "local"

    def validate(self) -> None:
        object.__setattr__(self, "hints", parse_hints(self.hints))


async def cutout(rgba: np.ndarray, provider: str = "local", *, segmenter: Segmenter | None = None,
                 feather: int = 1, had_alpha: bool | None = None,
                 hints: tuple[Stroke, ...] = ()) -> tuple[np.ndarray, dict, list[str]]:
    """(new RGBA array, matte info for meta, warnings) of the local cut-out, edge colours decontaminated.

    `provider` is `local` (network, falling back to classical when it fails
    or finds nothing) or `classical`. An image that already has transparency
    is taken as cut out and kept as is (`had_alpha`: the caller's decoder already
    knows, which spares a full pass). `hints`, touch-up strokes, steer the
    network's matte (`matte.touchup`). Raises EmptyImage when no method finds
    a subject, and MissingDependency when `local` has no network natively
    (no segmenter given, and onnxruntime or the model is not to be had).
    """
    import cv2

    check_cover(hints, rgba.shape[1::-1])
    a_in = rgba[..., 3]
    if had_alpha if had_alpha is not None else (a_in < 255).any():  # the decoder knows: no full pass then
        if not (a_in > 10).any():
            raise EmptyImage("The image is fully transparent; there is no subject to cut out.")
        # Kept as the cut-out, with the strokes painted in (there is no map to solve again).
        out = _compose(rgba[..., :3].copy(), a_in.copy(), rgba[..., :3], hints)
        return out, {"method": "existing_alpha", **({"hints": len(hints)} if hints else {})}, [
            "The image already has transparency; it was kept as the cut-out."]
    rgb = cv2.cvtColor(rgba, cv2.COLOR_RGBA2RGB)  # a contiguous copy in one pass
    warnings: list[str] = []
    reason = None
    if provider == "local":
        try:
            return await _neural(rgb, segmenter, feather, hints)
        except (ModelUnavailable, MemoryError) as exc:
            reason = f"the network could not run: {exc}"
        except NoSubject as exc:
            reason = str(exc)
        warnings.append(f"The classical matte was used because {reason[:1].lower()}{reason[1:].rstrip('.')}; "
                        "it suits plain backdrops only.")
    out, info = _classical(rgb, feather, hints)
    if reason:
        info["fallback_reason"] = reason[:300]
    return out, info, warnings


async def _neural(rgb: np.ndarray, segmenter: Segmenter | None, feather: int,
                  hints: tuple[Stroke, ...]) -> tuple[np.ndarray, dict, list[str]]:
    seg = segmenter if segmenter is not None else native_segmenter()
    matte = await neural_alpha(rgb, seg, hints)
    t0 = time.perf_counter()
    alpha, colours = refine_edges(rgb, matte.alpha, matte.backdrop, matte.tiles, feather, reduced=matte.reduced)
    info = matte.info
    info["timings_ms"]["edges"] = round((time.perf_counter() - t0) * 1000, 1)
    # Strokes are the user's own review: the network's doubt no longer needs saying (its figure stays in meta).
    warning = None if hints else matte.confidence.warning()
    return _compose(colours, alpha, rgb, hints), {"method": "neural", "model": MODEL.name, **info}, [warning] if warning else []


def _classical(rgb: np.ndarray, feather: int, hints: tuple[Stroke, ...]) -> tuple[np.ndarray, dict]:
    try:
        alpha, tiles, info, model = estimate_alpha(rgb)
    except NoSubject as exc:
        raise EmptyImage(f"{exc} Try a photo with a plain or gradient background, or skip this step.") from None
    alpha, colours = refine_edges(rgb, alpha, model, tiles, feather)
    # Strokes are painted in, not solved with: the classical matte has no map to solve again.
    return _compose(colours, alpha, rgb, hints), {"method": "classical", **info, **({"hints": len(hints)} if hints else {})}


def _compose(colours: np.ndarray, alpha: np.ndarray, rgb: np.ndarray, hints: tuple[Stroke, ...]) -> np.ndarray:
    """The cut-out; touch-up strokes are hard at full size too (the edge placement and feather may not move them)."""
    import cv2

    if hints:
        labels = paint(hints, rgb.shape[1::-1])
        keep, remove = labels == KEEP, labels == REMOVE
        alpha[keep], colours[keep] = 255, rgb[keep]
        alpha[remove], colours[remove] = 0, 0
    return cv2.merge([colours, alpha])


# 51.5 bytes per pixel with the network, 33.2 classical
SPEC = OpSpec("remove_background", RemoveBackgroundOptions, OPENCV, model=True, label="Remove background",
              work_bytes_per_pixel=52)


@operation(SPEC)
async def remove_background(job: Job, *, segmenter: Segmenter | None = None) -> Result:
    opts = job.opts
    _src, rgba, had_alpha = await job.open_rgba()
    extra: dict = {"provider": opts.provider}
    if opts.fallback_reason:
        extra["fallback_reason"] = opts.fallback_reason
    if opts.provider in ("local", "classical"):
        with job.span("matte"):
            rgba, info, more = await cutout(rgba, opts.provider, segmenter=segmenter, feather=opts.feather,
                                            had_alpha=had_alpha, hints=opts.hints)
        extra["matte"] = info
        if "matte_confidence" in info:
            extra["matte_confidence"] = info["matte_confidence"]
        job.warnings += more
    elif opts.provider == "remote" and not had_alpha:
        job.warnings.append("provider is remote but the image has no transparency; it was kept unchanged.")
    out = await job.encode(rgba, "png", compress_level=CUTOUT_LEVEL)
    return job.finish(out, "png", rgba.shape[1::-1], mode="RGBA", **extra)

