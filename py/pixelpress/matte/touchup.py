"""Touch-up: the network's subject map solved again with the user's strokes.

A stroke says "this is subject" (keep) or "this is backdrop" (remove), and
it is meant for the whole region the network got wrong, not only the pixels
under the brush. So each stroke claims the pixels geodesically nearer to it
than to the evidence against it:

- the distance is measured on a grid of about `GRID_PIXELS` in the photo's
  proportions, a step costing its length plus the change of colour (Lab)
  and of the network's log-odds along it: a region of one colour where the
  network was uniformly unsure is cheap to cross; the photo's edges and the
  map's own outline are dear;
- the evidence against a keep stroke is the remove strokes and every pixel
  the network holds to be backdrop far more surely than the pixels under the
  stroke (log-odds `CONTRAST` lower), and the reverse for a remove stroke;
  however far that evidence, no claim reaches beyond `REACH` (an opposite
  stroke across the picture is no border). A faint wine-glass foot (map 0.3)
  is claimed up to where the map drops to nothing, a shadow the network
  kept up to the car it is surer of;
- the claimed pixels' map values are raised to subject (or lowered to
  backdrop) with a ramp of `SOFT` cost units at the border, so the matte's
  guided filter still snaps the new outline to the photo's edges.

Every stroke is measured against the network's own odds, not the map as
earlier strokes left it: a remove stroke on an earlier stroke's overreach
would otherwise find nothing surer than the claim and wipe half the subject.
The strokes stay hard constraints at every size (`matte.neural` and
`remove_background` paint them into the alpha). The distance is computed by
raster scans (two sweeps each way), each row's horizontal propagation by a
running minimum over cumulative costs, so it is plain NumPy: ~0.16 s for the
first stroke natively and ~20 ms for each further one (bench/matte_real.py
--touchup measures what the strokes achieve; docs/car-listing.md has it).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .strokes import KEEP, REMOVE, Stroke, paint

CONTRAST = 2.0  # log-odds: evidence against a stroke is at least e^2 = 7x surer of the other side
COLOUR = 0.03  # cost per Lab unit (8-bit Lab: L in 0..255)
ODDS = 0.2  # cost per unit of log-odds: the map is noisy along an outline, so its changes count less than colour
STEP = 0.02  # cost per map pixel of length (whatever the grid): nearer wins between equals
SOFT = 0.5  # the ramp at a claimed region's border, in cost units
SWEEPS = 2
GRID_PIXELS = 100_000  # about the map's own count, but in the photo's proportions
REACH = 3.0  # the most a claim may cost from its stroke: a region of one colour ~170 grid pixels across


def touch_up(m: np.ndarray, photo: np.ndarray, strokes: Sequence[Stroke],
             size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(map, changed): the map `m` (0..1, the network's SxS) with `strokes` applied, in order, on a grid of
    about `GRID_PIXELS`, and where on that grid they changed it; `photo` is the photo reduced (uint8 RGB) and
    `size` the source photo's (w, h), whose pixels the strokes are in."""
    import cv2

    from .local import resize_to_pixels

    grid, _ = resize_to_pixels(photo, GRID_PIXELS)
    s_h, s_w = grid.shape[:2]
    w, h = size
    scale = (s_w / w, s_h / h)
    lab = cv2.cvtColor(grid, cv2.COLOR_RGB2LAB).astype(np.float64)
    base = cv2.resize(m, (s_w, s_h), interpolation=cv2.INTER_LINEAR).astype(np.float64)
    out = base.copy()
    step = STEP * m.shape[0] / max(s_w, s_h)  # per map pixel of length, whatever the grid
    all_labels = paint(strokes, (s_w, s_h), scale)
    # The network's own odds for every stroke (measured against the claimed values, a remove stroke on a keep
    # stroke's overreach wiped a pickup's cab).
    odds = _log_odds(out)
    cost = _step_costs(lab, odds, step)
    near: dict[bool, np.ndarray] = {}
    for stroke in strokes:
        mine = (paint([stroke], (s_w, s_h), scale) > 0) & (all_labels == (KEEP if stroke.keep else REMOVE))
        if not mine.any():  # painted over by later strokes
            continue
        sign = 1.0 if stroke.keep else -1.0
        here = float(np.median(odds[mine]))
        same = all_labels == (KEEP if stroke.keep else REMOVE)  # a stroke's own pixels and its kind's
        against = (all_labels == (REMOVE if stroke.keep else KEEP)) | (sign * odds < sign * here - CONTRAST)
        against &= ~same
        if stroke.keep not in near:  # the same for every stroke of a kind
            near[stroke.keep] = geodesic(same, cost)
        d_same = near[stroke.keep]
        # However far the evidence against it (or with none), a stroke claims only what lies within REACH:
        # an opposite stroke across the picture is no border, and would hand the stroke half of it.
        d_against = np.minimum(geodesic(against, cost), REACH) if against.any() else np.full_like(d_same, REACH)
        claim = np.clip(0.5 + (d_against - d_same) / (2 * SOFT), 0, 1)
        out = np.maximum(out, claim) if stroke.keep else np.minimum(out, 1 - claim)
    keep, remove = all_labels == KEEP, all_labels == REMOVE
    out[keep], out[remove] = 1.0, 0.0
    changed = cv2.dilate((np.abs(out - base) > 1e-3).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    return out.astype(np.float32), changed

def _log_odds(m: np.ndarray) -> np.ndarray:
    p = np.clip(m, 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))

def _step_costs(lab: np.ndarray, odds: np.ndarray, step: float) -> dict[str, np.ndarray]:
    """The cost of each step between neighbours: right (h x w-1), down (h-1 x w), and the two diagonals."""
    f = np.concatenate([lab * COLOUR, odds[..., None] * ODDS], axis=2)

    def between(a: np.ndarray, b: np.ndarray, length: float) -> np.ndarray:
        return np.sqrt(((a - b) ** 2).sum(2)) + step * length

    return {"right": between(f[:, 1:], f[:, :-1], 1.0), "down": between(f[1:], f[:-1], 1.0),
            "down_right": between(f[1:, 1:], f[:-1, :-1], 2 ** 0.5),
            "down_left": between(f[1:, :-1], f[:-1, 1:], 2 ** 0.5)}

def geodesic(seeds: np.ndarray, cost: dict[str, np.ndarray]) -> np.ndarray:
    """The least summed step cost from any seed pixel to every pixel (raster-scan approximation, 8-connected)."""
    h, w = seeds.shape
    d = np.where(seeds, 0.0, np.inf)
    right, down, dr, dl = cost["right"], cost["down"], cost["down_right"], cost["down_left"]
    run = np.concatenate([np.zeros((h, 1)), np.cumsum(right, axis=1)], axis=1)  # run[y, x]: cost from 0 to x

    def along_row(y: int) -> None:
        row, c = d[y], run[y]
        row = np.minimum(row, c + np.minimum.accumulate(row - c))  # left to right
        d[y] = np.minimum(row, -c + np.minimum.accumulate((row + c)[::-1])[::-1])  # right to left

    for _ in range(SWEEPS):
        along_row(0)
        for y in range(1, h):
            prev = d[y - 1]
            best = np.minimum(d[y], prev + down[y - 1])
            best[1:] = np.minimum(best[1:], prev[:-1] + dr[y - 1])
            best[:-1] = np.minimum(best[:-1], prev[1:] + dl[y - 1])
            d[y] = best
            along_row(y)
        for y in range(h - 2, -1, -1):
            nxt = d[y + 1]
            best = np.minimum(d[y], nxt + down[y])
            best[:-1] = np.minimum(best[:-1], nxt[1:] + dr[y])
            best[1:] = np.minimum(best[1:], nxt[:-1] + dl[y])
            d[y] = best
            along_row(y)
    return d
