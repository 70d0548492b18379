"""Background removal: the engine's local matte, or a pass-through.

Providers at the engine level:

- `local`: the studio-background matte of `matte_local` (border colour model,
  shadow-aware score, GrabCut, clean-up, guided edge refinement).
- `skip`: the image unchanged, as RGBA PNG.
- `remote`: the input was already cut out by the server's API4.ai endpoint
  (called by the page, not the engine); the engine keeps its alpha as is and
  records the provider.

The page may pass `fallback_reason` (why it fell back from `remote`), which is
recorded in meta. Output is always an RGBA PNG.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..decode import DEFAULT_LIMITS, Limits
from ..errors import EmptyImage
from ..imaging import base_meta, decode_rgba, rgba_to_png
from ..options import choice, integer, parse_options, text
from ..result import Result, Timings

PROVIDERS = ("local", "skip", "remote")


@dataclass(frozen=True)
class RemoveBackgroundOptions:
    provider: str = choice("local", PROVIDERS, "local: the engine's matte; skip: unchanged; "
                           "remote: input already cut out by the server, kept as is.")
    fallback_reason: str = text("", 200, "Why the page fell back to this provider (recorded in meta).")
    feather: int = integer(1, 0, 20, "Softness of the cut-out edge in pixels (0 = hard edge).")


def local_cutout(rgba: np.ndarray, feather: int = 1) -> tuple[np.ndarray, dict]:
    """The local cut-out of an RGBA array (new RGBA array, edge colours decontaminated).

    An image that already has transparency is taken as cut out and kept as is
    (meta says so). Raises EmptyImage when nothing stands out from the background.
    """
    from .matte_local import NoSubject, estimate_alpha, refine_edges

    a_in = rgba[..., 3]
    if (a_in < 255).any():
        # Already cut out (e.g. by the remote provider or an editor): keep it.
        if not (a_in > 10).any():
            raise EmptyImage("The image is fully transparent; there is no subject to cut out.")
        return rgba.copy(), {"kept_existing_alpha": True}
    rgb = np.ascontiguousarray(rgba[..., :3])
    try:
        alpha, info, model = estimate_alpha(rgb)
    except NoSubject as exc:
        raise EmptyImage(f"{exc} Try a photo with a plain or gradient background, or skip this step.") from None
    alpha, colours = refine_edges(rgb, alpha, model, feather)
    out = np.empty_like(rgba)
    out[..., :3] = colours
    out[..., 3] = alpha
    return out, info


def remove_background(data: bytes, options: RemoveBackgroundOptions | dict | None = None,
                      limits: Limits = DEFAULT_LIMITS) -> Result:
    opts = parse_options(RemoveBackgroundOptions, options)
    t = Timings()
    with t.span("decode"):
        src, rgba, had_alpha = decode_rgba(data, limits)
    warnings = list(src.warnings)
    extra: dict = {"provider": opts.provider}
    if opts.fallback_reason:
        extra["fallback_reason"] = opts.fallback_reason
    if opts.provider == "local":
        with t.span("matte"):
            rgba, info = local_cutout(rgba, opts.feather)
        extra["matte"] = info
        if info.get("kept_existing_alpha"):
            warnings.append("The image already has transparency; it was kept as the cut-out.")
    elif opts.provider == "remote" and not had_alpha:
        warnings.append("provider is remote but the image has no transparency; it was kept unchanged.")
    with t.span("encode"):
        out = rgba_to_png(rgba)
    meta = base_meta(rgba, "png", out, t.ms, warnings, mode="RGBA", input_format=src.format.lower(), **extra)
    return Result(out, "image/png", meta)
