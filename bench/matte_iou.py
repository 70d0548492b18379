"""Quality of the background mattes on the deterministic studio composites.

Prints per-image IoU (alpha > 127 against the exact truth alpha > 127) and
time for the classical matte and for `local` (the network), then each one's
mean and worst. Goal: mean IoU >= 0.97. These are our own generated scenes:
bench/matte_real.py, on real photos with human masks, is the one that counts.

    .venv/bin/python bench/matte_iou.py [N]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "py"), str(ROOT / "tests")]

import composites  # noqa: E402
import numpy as np  # noqa: E402
from pixelpress.ops.remove_background import remove_background  # noqa: E402
from samples import decode  # noqa: E402


def main(n: int = 32) -> None:
    providers = ("classical", "local")
    scores: dict[str, list[float]] = {p: [] for p in providers}
    times: dict[str, list[float]] = {p: [] for p in providers}
    for c in composites.composites(n):
        line = []
        for p in providers:
            t0 = time.perf_counter()
            res = remove_background(c.data, {"provider": p})
            times[p].append((time.perf_counter() - t0) * 1000)
            scores[p].append(composites.iou(np.asarray(decode(res.data))[..., 3], c.alpha))
            line.append(f"{p} {scores[p][-1]:.4f} {times[p][-1]:6.0f} ms")
        print(f"{c.name:18s} {c.rgb.shape[1]}x{c.rgb.shape[0]}  " + "  ".join(line))
    print()
    for p in providers:
        s = scores[p]
        worst = int(np.argmin(s))
        print(f"{p:9s} {n} composites: mean IoU {np.mean(s):.4f}, median {np.median(s):.4f}, "
              f"worst {s[worst]:.4f} (#{worst}); mean time {np.mean(times[p]):.0f} ms/image (native)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 32)
