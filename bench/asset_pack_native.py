"""Native timing of the whole team asset pack (20 players), per step and total.

    python bench/asset_pack_native.py [--runs 5]

Prints the median of each step over the runs (the first, warm-up run is
dropped: it pays for imports). The lead compares this with the same pack in
the Pyodide worker to get the worker/native ratio (goal: worker <= 10 s).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for p in (ROOT / "py", ROOT / "tests"):
    sys.path.insert(0, str(p))

import logos  # noqa: E402  (tests/logos.py: the drawn team logos)
from pixelpress.ops.asset_pack import asset_pack  # noqa: E402

NAMES = ["Alex Morgan", "Sam Kerr", "Jordan Lee", "Taylor Brooks", "Chris Evans-Whitfield", "Pat Kim",
         "Riley Cooper", "Casey Jones", "Drew Patel", "Jamie Fox", "Morgan Diaz", "Avery Stone",
         "Quinn Harper", "Rowan Ellis", "Blake Turner", "Devon Price", "Emerson Gray", "Finley Ward",
         "Harley Scott", "Jesse Cole"]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    logo = logos.noisy_jpeg(logos.shield(600, background=logos.OFF_WHITE))
    options = {"team_name": "Riverside United", "sport": "Football", "shirt_color": "#ffffff",
               "players": [{"number": (i * 7 + 1) % 100, "name": n} for i, n in enumerate(NAMES)],
               "featured_player": 8}
    runs = []
    for _ in range(args.runs + 1):
        t0 = time.perf_counter()
        r = asset_pack(logo, options)
        total = (time.perf_counter() - t0) * 1000
        runs.append((total, r.meta["timings_ms"]))
    runs = runs[1:]
    steps = list(runs[0][1])
    print(f"asset pack, 20 players, logo 600x600 JPEG; {r.meta['files']} files, {len(r.data) / 1e6:.2f} MB zip")
    print(f"median of {len(runs)} runs (warm-up dropped), ms:")
    for s in steps:
        print(f"  {s:<18} {statistics.median(run[1][s] for run in runs):8.1f}")
    print(f"  {'TOTAL':<18} {statistics.median(run[0] for run in runs):8.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
