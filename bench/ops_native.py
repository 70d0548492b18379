"""Native per-operation times on a 12-megapixel photo (median of N runs).

The lead adds the browser worker's times beside these to get the
worker-vs-native ratio.

    .venv/bin/python bench/ops_native.py [runs]
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "py"), str(ROOT / "tests")]

import composites  # noqa: E402
import samples  # noqa: E402
from pixelpress.registry import resolve  # noqa: E402


def timed(op: str, data: bytes, options: dict, runs: int) -> tuple[float, dict]:
    fn = resolve(op)
    times, res = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        res = fn(data, options)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), res.meta


def main(runs: int = 3) -> None:
    photo = samples.encode(samples.large_photo(), "JPEG", quality=90)
    studio = composites.make(6, 4000, 3000).data  # a 12 MP studio shot of a car
    cut = resolve("remove_background")(studio, {}).data
    cases = [
        ("oil_paint", photo, {}),
        ("oil_paint", photo, {"brush_size": 10, "intensity": 8}),
        ("remove_background", studio, {}),
        ("autocrop", cut, {}),
        ("drop_shadow", cut, {}),
        ("drop_shadow", cut, {"style": "floor"}),
        ("listing_variants", cut, {}),
        ("car_listing", studio, {}),
    ]
    print(f"12 MP inputs (4000x3000), median of {runs} runs, native CPython")
    for op, data, opts in cases:
        ms, meta = timed(op, data, opts, runs)
        steps = ", ".join(f"{k} {v:.0f}" for k, v in meta["timings_ms"].items())
        print(f"{op:18s} {str(opts):40s} {ms:8.0f} ms   [{steps}]")
    brush_cost(photo, runs)


def brush_cost(photo: bytes, runs: int) -> None:
    """The oil paint's cost must not grow with the brush: box filters make it O(bins) per pixel."""
    times = {b: timed("oil_paint", photo, {"brush_size": b}, runs)[0] for b in (2, 20)}
    print(f"oil_paint brush 20 / brush 2 (window area 100x): {times[20] / times[2]:.2f}x the time "
          f"({times[2]:.0f} vs {times[20]:.0f} ms); goal: under 1.5x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
