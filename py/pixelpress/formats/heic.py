"""HEIC and HEIF: an iPhone's photos. Read only: there is no permissively licensed HEVC encoder.

Natively Pillow reads them through `pi-heif` (the decode-only build of
pillow-heif, BSD-3-Clause; libheif and libde265 inside are LGPL, as shared
libraries), an extra of its own: `pip install "pixelpress[heic]"`. Without
it a HEIC is still recognised, and refused as `missing_dependency` naming
that command. In the browser worker the provider decodes it (browser.py):
the browser's own decoder where it has one, else libheif compiled to wasm.

What a HEIC keeps, as every format: its EXIF orientation (libheif applies
the `irot`/`imir` boxes and pi-heif then sets the EXIF tag to 1, so it is
applied once), its ICC profile converted to sRGB (icc.py), and the primary
image of a file holding several (a burst, a live photo's still).

Bombs: the size decode.py checks is the primary item's `ispe`, read from
the boxes before libheif allocates anything (isobmff.py, shared with AVIF);
a file whose primary item has none is refused as damaged, as libheif
refuses it.
"""

from __future__ import annotations

import functools
import importlib.util

from PIL import Image

from .base import Format, open_header
from .isobmff import primary_size

# The brands pi-heif's opener accepts as the `ftyp` box's major brand (HEVC images and sequences, and
# the generic HEIF brands). An AVIF names mif1 too, but the registry tries AVIF first.
BRANDS = (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1")

INSTALL = 'pip install "pixelpress[heic]"'


def available() -> bool:
    """Whether pi-heif is installed (natively; in the worker the browser decodes HEIC)."""
    return importlib.util.find_spec("pi_heif") is not None


@functools.cache
def _register() -> None:
    """Register pi-heif's opener with Pillow, once, on the first HEIC: importing it costs ~50 ms."""
    from pi_heif import register_heif_opener

    # Only the pictures: no thumbnails, depth maps or auxiliary images are decoded alongside.
    register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)


def open_heic(data: bytes) -> Image.Image:
    """The primary image, opened by pi-heif's Pillow plugin (pixels not yet decoded)."""
    _register()
    return open_header(data, "HEIF")


FORMAT = Format(
    "heic", "HEIF", "HEIC", "image/heic", (".heic", ".heif", ".hif"), primary_size,
    brands=BRANDS, size_required=True, open=open_heic,
    # browser.py: the provider is the only HEIC decoder in the worker (Safari's own, else libheif in wasm).
    browser_decode="heic-provider", available=available, missing=("pi-heif", INSTALL))
