"""Quality of the local background matte on the deterministic studio composites.

Prints per-image IoU (alpha > 127 against the exact truth alpha > 127) and
time, then the mean and the worst. Goal: mean IoU >= 0.95.

    .venv/bin/python bench/matte_iou.py [N]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "py"), str(ROOT / "tests")]

import numpy as np  # noqa: E402

import composites  # noqa: E402
from pixelpress.ops.background import remove_background  # noqa: E402
from samples import decode  # noqa: E402


def main(n: int = 32) -> None:
    scores, times = [], []
    for c in composites.composites(n):
        t0 = time.perf_counter()
        res = remove_background(c.data, {"provider": "local"})
        dt = (time.perf_counter() - t0) * 1000
        alpha = np.asarray(decode(res.data))[..., 3]
        s = composites.iou(alpha, c.alpha)
        scores.append(s)
        times.append(dt)
        print(f"{c.name:18s} {c.rgb.shape[1]}x{c.rgb.shape[0]}  IoU {s:.4f}  {dt:7.1f} ms")
    worst = int(np.argmin(scores))
    print(f"\n{n} composites: mean IoU {np.mean(scores):.4f}, median {np.median(scores):.4f}, "
          f"worst {scores[worst]:.4f} (#{worst}); mean time {np.mean(times):.0f} ms/image (native)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 32)
