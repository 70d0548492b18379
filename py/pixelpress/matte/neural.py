"""The neural matte: a salient-object map made into a full-resolution cut-out.

`neural_alpha(rgb, segmenter)` returns a uint8 alpha at the photo's size, info
for meta and the matte's confidence; `LocalBackdrop` then gives
`matte.local.refine_edges` the backdrop colour around the subject, so both
mattes decontaminate their edges the same way. Steps:

1. The network's 320x320 subject map (`saliency`).
2. Upsampled to the refine size (at most ~2 MP) and snapped to the photo's
   own edges with a guided filter whose guide is the photo: a bilinear
   upsample alone would leave a blocky, blurred edge 6-12 px wide on a 12 MP
   photo. Thin parts the map holds (mirrors, antennas) keep their shape
   because the filter follows the photo's edges rather than shrinking blobs.
3. A steep ramp around 0.5 turns the soft map into an anti-aliased alpha a
   pixel or two wide at full size: where the network is unsure over an area
   (a shelf behind a bike), a gentle ramp would leave a half-transparent
   ghost of the backdrop. Specks far smaller than the subject go.
4. Confidence from the map itself: how decisive it is (how much of it sits
   between "surely subject" and "surely backdrop"), whether the subject fills
   or touches the frame, and whether it found several separate subjects.

The raw map cut at 0.5 is the bar this has to beat on real photographs
(bench/matte_real.py).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import EmptyImage
from ..saliency import Segmenter, start_subject_map
from .local import NoSubject, guided_filter, resize_to_pixels, sample_bilinear, smooth, upscale_alpha
from .strokes import KEEP, REMOVE, Stroke, paint
from .touchup import touch_up

REFINE_PIXELS = 2_000_000
BACKDROP_PIXELS = 250_000
LOW_CONFIDENCE = 0.5
MIN_GAIN = 8.0  # steep: a map value of 0.3-0.45 over an area would otherwise show as a ghost
BAND = 1.0  # map pixels either side of the map's outline within which the refinement may place the edge


@dataclass
class Confidence:
    value: float
    reasons: list[str]

    def warning(self) -> str | None:
        if self.value >= LOW_CONFIDENCE:
            return None
        return "The cut-out may be wrong: " + "; ".join(self.reasons) + "."


def confidence(m: np.ndarray) -> Confidence:
    """0..1 from the SxS subject map, with the reasons it is low in plain words."""
    import cv2

    fg = m > 0.5
    area = float(fg.mean())
    reasons: list[str] = []
    # Decisive: the in-between band is a few pixels wide along the outline. Measured per pixel of
    # outline, thin subjects (a rocket, a bottle) are not penalised for having little area.
    contours, _ = cv2.findContours(fg.astype(np.uint8), cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    outline = sum(cv2.arcLength(c, True) for c in contours)
    band = float(((m > 0.15) & (m < 0.85)).sum()) / max(outline, 1.0)
    decisive = float(np.clip((12.0 - band) / 6.0, 0, 1))  # real photos cut well: 1.3-5 px; a failed one: 18
    if decisive < 0.7:
        reasons.append("the subject's outline is unclear")
    # Separate subjects: components of at least a fifth of the largest one.
    n, _, stats, _ = cv2.connectedComponentsWithStats(fg.astype(np.uint8), connectivity=8)
    areas = np.sort(stats[1:, cv2.CC_STAT_AREA])[::-1] if n > 1 else np.array([0])
    separate = int((areas >= 0.2 * areas[0]).sum()) if areas[0] else 0
    several = 1.0 if separate <= 1 else 0.45
    if separate > 1:
        reasons.append(f"{_count(separate)} separate subjects were found")
    # The frame: a subject touching one side is common (a car cut by the frame); on three or four
    # sides, or filling most of the picture, the network probably took the backdrop for the subject.
    sides = [fg[0].mean(), fg[-1].mean(), fg[:, 0].mean(), fg[:, -1].mean()]
    touching = sum(s > 0.1 for s in sides)
    framing = 1.0 if touching <= 1 else 0.85 if touching == 2 else 0.45
    if area > 0.85:
        framing = min(framing, 0.3)
        reasons.append("the subject seems to fill the whole picture")
    elif touching >= 3:
        reasons.append(f"the subject touches {touching} sides of the picture")
    value = round(decisive * several * framing, 3)
    return Confidence(value, reasons or ["the network was unsure"])


def _count(n: int) -> str:
    return {2: "two", 3: "three", 4: "four"}.get(n, str(n))


@dataclass
class NeuralMatte:
    alpha: np.ndarray  # HxW uint8, unfeathered
    tiles: np.ndarray  # its edge tiles (matte.local.upscale_alpha)
    reduced: np.ndarray  # the photo at the refine size, for the steps that need it only coarsely
    backdrop: LocalBackdrop
    info: dict  # for meta
    confidence: Confidence


async def neural_alpha(rgb: np.ndarray, segmenter: Segmenter, hints: Sequence[Stroke] = ()) -> NeuralMatte:
    """The neural matte of an HxWx3 uint8 RGB photo, with the user's touch-up strokes (`hints`) if any.

    The photo is reduced once, to the refine size; the backdrop's colours and
    the subject's inside colours come from that copy, not from the full frame
    again (at 12 MP each full-frame pass costs a few hundred ms in the browser).
    The refinement only places the edge: its cut differs from the map's only
    within `BAND` map pixels of the map's outline. With strokes, the map is
    solved again first (`matte.touchup`), and the network's map of the same
    picture is reused when the engine still has it (each stroke in the studio
    re-solves without running the network again).
    """
    import cv2

    h, w = rgb.shape[:2]
    t0 = time.perf_counter()
    # From the full frame: from `mid` the map moves enough to cost IoU. In the browser the network runs in
    # the model worker, so the photo is reduced meanwhile.
    pending = start_subject_map(rgb, segmenter, reuse=bool(hints))
    ta = time.perf_counter()
    mid, _ = resize_to_pixels(rgb, REFINE_PIXELS)
    mh, mw = mid.shape[:2]
    tb = time.perf_counter()
    m = await pending
    t2 = time.perf_counter()
    size = m.shape[0]
    conf = confidence(m)  # the network's own: a touched-up map is the user's word, not its confidence
    up = cv2.resize(m, (mw, mh), interpolation=cv2.INTER_LINEAR)
    if hints:
        # Only where the strokes changed the map: resampled through the touch-up's grid, the edges far from
        # any stroke would move by a fraction of a pixel.
        touched, changed = touch_up(m, mid, hints, (w, h))
        where = cv2.resize(changed.astype(np.uint8), (mw, mh), interpolation=cv2.INTER_NEAREST) > 0
        up[where] = cv2.resize(touched, (mw, mh), interpolation=cv2.INTER_LINEAR)[where]
        if (up > 0.5).mean() < 0.001:
            raise EmptyImage("The touch-up strokes removed the whole subject; undo one or paint a keep stroke.")
    elif (m > 0.5).mean() < 0.001:
        raise NoSubject("The network found no subject in the picture.")
    t3 = time.perf_counter()

    guide = cv2.cvtColor(mid, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    ratio = max(mw, mh) / size
    r = max(2, round(ratio * 1.5))
    q = guided_filter(guide, up, r, 1e-3)
    # The map's transition spans about 2-3 of its pixels: squeeze it to a pixel or two at the refine size.
    gain = max(MIN_GAIN, ratio / 1.5)
    alpha = _within_band(np.clip((q - 0.5) * gain + 0.5, 0, 1), up > 0.5, max(1, round(BAND * ratio)))
    labels = paint(hints, (mw, mh), (mw / w, mh / h)) if hints else None
    alpha = _drop_specks(alpha, None if labels is None else labels == KEEP)
    if labels is not None:
        alpha[labels == KEEP], alpha[labels == REMOVE] = 1.0, 0.0
    # Upsampling widens the ramp again; steepening by the scale restores a one-to-two pixel edge at full size.
    a8, tiles = upscale_alpha(alpha, w, h, gain=max(1.0, w / mw))
    backdrop = LocalBackdrop(mid, np.clip(alpha * 255 + 0.5, 0, 255).astype(np.uint8))
    info = {"map_size": [size, size], "refine_size": [mw, mh],
            "subject_fraction": round(float((alpha > 0.5).mean()), 4),
            "matte_confidence": conf.value,
            # the network's share is what the pipeline waited for it beyond the reduction done meanwhile
            "timings_ms": {"reduce": round((tb - ta) * 1000, 1), "network": round((ta - t0 + t2 - tb) * 1000, 1),
                           "alpha": round((time.perf_counter() - t3) * 1000, 1)}}
    if hints:
        info["hints"] = len(hints)
        info["timings_ms"]["touch_up"] = round((t3 - t2) * 1000, 1)
    if getattr(segmenter, "backend", None):
        info["network"] = segmenter.backend  # how it ran: runtime, execution provider, threads, any fallback
    if conf.value < LOW_CONFIDENCE:
        info["confidence_reasons"] = conf.reasons
    return NeuralMatte(a8, tiles, mid, backdrop, info, conf)


def _within_band(alpha: np.ndarray, cut: np.ndarray, band: int) -> np.ndarray:
    """`alpha` where it lies within `band` pixels of the map's outline (`cut`: the map above 0.5); elsewhere the
    map's side, 0 or 1. The refinement may move the edge, never turn what the map called backdrop into
    subject (a faint part of the map over a busy backdrop, grown solid by the guided filter) or the reverse."""
    import cv2

    ring = np.ones((2 * band + 1, 2 * band + 1), np.uint8)  # square: OpenCV runs it as two 1-D passes, a disk
    c = cut.astype(np.uint8)                                 # cost 170 ms at 2 MP in the browser
    out = alpha.copy()
    out[cv2.erode(c, ring) > 0] = 1.0
    out[cv2.dilate(c, ring) == 0] = 0.0
    return out


def _drop_specks(alpha: np.ndarray, kept: np.ndarray | None = None) -> np.ndarray:
    """Remove opaque islands smaller than 0.2 % of the largest: noise, not parts of the subject (unless a keep
    stroke touches them: `kept`)."""
    import cv2

    fg = (alpha > 0.5).astype(np.uint8)
    n, lab, stats, _ = cv2.connectedComponentsWithStats(fg, connectivity=8)
    if n <= 2:
        return alpha
    areas = stats[1:, cv2.CC_STAT_AREA]
    small = np.zeros(n, bool)
    small[1:] = areas < 0.002 * areas.max()
    if kept is not None:
        small[np.unique(lab[kept])] = False
    if not small.any():
        return alpha
    # Dilate the speck mask a little so their soft rims go too.
    gone = cv2.dilate(small[lab].astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    kept = ~small[lab] & (lab > 0)
    out = alpha.copy()
    out[gone & ~kept] = 0
    return out


class LocalBackdrop:
    """The backdrop's colour near the subject, for edge decontamination on any backdrop.

    The classical matte models a studio backdrop from the borders; a street or
    a room has no such model, so the backdrop colour at an edge pixel is a
    normalised blur of the nearby pixels that are clearly backdrop (alpha 0,
    a few pixels clear of the edge), computed at about 0.25 MP. Where those
    pixels are uniform (a plain wall, a cyclorama) the colour is exact enough
    to place the edge by the compositing equation (`edge_trust` near 1); in a
    busy scene it is only good for cleaning colours, and the network's edge
    stands. Same interface as `matte.local.BackgroundModel`.
    """

    def __init__(self, rgb: np.ndarray, alpha: np.ndarray):
        import cv2

        small, _ = resize_to_pixels(rgb, BACKDROP_PIXELS)
        sh, sw = small.shape[:2]
        img = small.astype(np.float32) / 255.0
        a = cv2.resize(alpha, (sw, sh), interpolation=cv2.INTER_AREA)
        clear = (cv2.dilate((a > 0).astype(np.uint8), np.ones((3, 3), np.uint8)) == 0).astype(np.float32)

        def blur(sigma: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            weight = np.maximum(smooth(clear, sigma), 1e-6)
            mean = smooth(img * clear[..., None], sigma) / weight[..., None]
            power = smooth((img * img).sum(2) * clear, sigma) / weight
            spread = np.sqrt(np.maximum(power - (mean * mean).sum(2), 0))
            return mean, spread, weight

        sigma = max(2.0, 0.01 * max(sw, sh))
        near, near_spread, weight = blur(sigma)
        # Where no backdrop pixel is near (inside a large subject), a much wider blur answers.
        far, far_spread, _ = blur(4 * sigma)
        t = np.clip(weight / 0.05, 0, 1)
        self.field = t[..., None] * near + (1 - t[..., None]) * far
        spread = t * near_spread + (1 - t) * far_spread
        # Uniform within ~3 grey levels: trusted; beyond ~10 levels of texture: not at all. And only
        # near real backdrop: a soft spot inside the subject (a dog's black nose the network was unsure
        # of) compared with a backdrop colour from afar would be punched out as a hole.
        uniform = np.clip((10 / 255 - spread) / (7 / 255), 0, 1)
        self.trust = (uniform * t).astype(np.float32)

    def at(self, xs: np.ndarray, ys: np.ndarray, w: int, h: int) -> np.ndarray:
        """The backdrop colour (N x 3, 0..1)."""
        return sample_bilinear(self.field, xs, ys, w, h)

    def edge_trust(self, xs: np.ndarray, ys: np.ndarray, w: int, h: int) -> np.ndarray:
        """0..1: how far the backdrop colour there may move the edge (N)."""
        return sample_bilinear(self.trust, xs, ys, w, h)
