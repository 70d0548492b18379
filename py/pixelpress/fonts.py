"""The display font for banners, mockups and social images.

Oswald (SIL Open Font License 1.1) ships inside the package under `fonts/`,
fetched at build time by `build_scripts/fetch_fonts.py` from the npm package
`@expo-google-fonts/oswald` (pinned sha256). It is read with
importlib.resources, so it works from a wheel in Pyodide as well as from the
source tree. When the files are missing (e.g. a source checkout that never ran
the fetch step) Pillow's built-in scalable font is used instead and
`warning()` says so; callers put that text into `meta["warnings"]`.
"""

from __future__ import annotations

import functools
import io
from importlib import resources

from PIL import ImageFont

FILES = {"bold": "Oswald-Bold.ttf", "medium": "Oswald-Medium.ttf"}
FALLBACK_WARNING = ("The Oswald font is not installed (run build_scripts/fetch_fonts.py); "
                    "Pillow's built-in font was used instead.")


@functools.cache
def _font_bytes(weight: str) -> bytes | None:
    try:
        return (resources.files("pixelpress") / "fonts" / FILES[weight]).read_bytes()
    except (FileNotFoundError, OSError, ModuleNotFoundError):
        return None


def available(weight: str = "bold") -> bool:
    return _font_bytes(weight) is not None


def warning() -> str | None:
    """The warning to report when the shipped font is missing, else None."""
    return None if all(available(w) for w in FILES) else FALLBACK_WARNING


@functools.lru_cache(maxsize=256)
def font(size: int, weight: str = "bold") -> ImageFont.FreeTypeFont:
    """A font of `size` pixels; `weight` is "bold" or "medium"."""
    size = max(1, int(size))
    blob = _font_bytes(weight)
    if blob is not None:
        return ImageFont.truetype(io.BytesIO(blob), size)
    return ImageFont.load_default(size=size)


def fit_text(s: str, weight: str, max_width: float, size: int, min_size: int,
             *, tracking: float = 0.0) -> tuple[str, ImageFont.FreeTypeFont, int]:
    """Shrink `s` from `size` down to `min_size` until it fits `max_width`,
    then cut it with an ellipsis. Returns (text, font, size)."""
    size = int(size)
    min_size = max(1, min(int(min_size), size))
    while True:
        f = font(size, weight)
        if measure(f, s, tracking) <= max_width or size <= min_size:
            break
        size = max(min_size, int(size * 0.93))
    if measure(f, s, tracking) <= max_width:
        return s, f, size
    cut = s
    while cut and measure(f, cut.rstrip() + "…", tracking) > max_width:
        cut = cut[:-1]
    return (cut.rstrip() + "…") if cut else "", f, size


def measure(f, s: str, tracking: float = 0.0) -> float:
    """Advance width of `s` with extra `tracking` (fraction of the size) between letters."""
    if not s:
        return 0.0
    return f.getlength(s) + tracking * f.size * (len(s) - 1)


def shortened_warning(cut: list[str], where: str) -> list[str]:
    """The warning that says which texts were cut with an ellipsis to fit `where`, or none."""
    if not cut:
        return []
    return [f"Shortened to fit {where}: {', '.join(f'“{t}”' for t in cut)}. Shorter names print in full."]
