"""Redraw the README's background-removal picture from real photos we may ship.

    .venv/bin/python build_scripts/doc_pictures.py

Rows: scikit-image's coffee (CC0), astronaut (NASA, public domain) and
rocket (SpaceX, public domain) photos. Columns: the photo, the classical
matte and the neural matte over a checkerboard, and the neural cut-out
over black (a fringe shows there). Writes docs/img/background-removal.jpg.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "py"), str(ROOT / "tests"), str(ROOT / "bench")]

import numpy as np  # noqa: E402
import samples  # noqa: E402
from matte_real import checkerboard  # noqa: E402
from PIL import Image  # noqa: E402
from pixelpress.ops.remove_background import remove_background  # noqa: E402

ROW_HEIGHT = 300


def row(name: str) -> np.ndarray:
    data = samples.path(name).read_bytes()
    photo = np.asarray(samples.image(name).convert("RGB"))
    classical = np.asarray(samples.decode(remove_background(data, {"provider": "classical"}).data))
    neural = np.asarray(samples.decode(remove_background(data, {}).data))
    black = (neural[..., :3] * (neural[..., 3:4] / 255.0)).astype(np.uint8)
    tiles = np.concatenate([photo, checkerboard(classical), checkerboard(neural), black], 1)
    scale = ROW_HEIGHT / tiles.shape[0]
    return np.asarray(Image.fromarray(tiles).resize((round(tiles.shape[1] * scale), ROW_HEIGHT),
                                                    Image.Resampling.LANCZOS))


def main() -> None:
    rows = [row(n) for n in ("coffee.png", "astronaut.png", "rocket.jpg")]
    width = max(r.shape[1] for r in rows)
    sheet = np.concatenate([np.pad(r, ((0, 4), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in rows])
    out = ROOT / "docs" / "img" / "background-removal.jpg"
    Image.fromarray(sheet).save(out, quality=85)
    print(f"wrote {out.relative_to(ROOT)} ({sheet.shape[1]}x{sheet.shape[0]})")


if __name__ == "__main__":
    main()
