"""The worker's HEIC probe is what its comment says (issue 27).

Before the worker lets a browser's own HEIC decoder (Safari's) read a file,
that decoder must read a probe HEIC as libheif does (web/worker/codecs.js,
HEIC_PROBE and HEIC_PROBE_BANDS). The probe carries a Display P3 profile, so
a decoder that applies it despite being asked not to fails; its expected
colours are libheif's, as stored. Here native libheif (pi-heif) reads the
very bytes the worker ships and must find that size, that profile and
those colours.
"""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pi_heif = pytest.importorskip("pi_heif")

CODECS = Path(__file__).resolve().parent.parent / "web" / "worker" / "codecs.js"


def probe() -> tuple[bytes, list, int]:
    text = CODECS.read_text()
    b64 = "".join(re.findall(r"'([A-Za-z0-9+/=]+)'", text[text.index("const HEIC_PROBE = "):].split(";", 1)[0]))
    bands = json.loads(re.search(r"const HEIC_PROBE_BANDS = (\[[^;]*\]);", text).group(1))
    tolerance = int(re.search(r"const HEIC_PROBE_TOLERANCE = (\d+);", text).group(1))
    return base64.b64decode(b64), bands, tolerance


def test_the_probe_is_a_display_p3_heic_whose_bands_are_libheifs():
    from icc_profiles import DISPLAY_P3
    from pixelpress import icc

    data, bands, tolerance = probe()
    pi_heif.register_heif_opener()
    im = Image.open(io.BytesIO(data))
    assert im.format == "HEIF" and im.size == (29, 100)  # taller than wide: a decoder that turns it fails
    assert im.info["icc_profile"] == DISPLAY_P3 and not icc.read_profile(DISPLAY_P3).is_srgb
    rgb = np.asarray(im.convert("RGB")).astype(int)
    seen = [[round(v) for v in rgb[y:y + 10].reshape(-1, 3).mean(axis=0)] for y in range(0, 100, 10)]
    assert np.abs(np.array(seen) - np.array(bands)).max() <= 1
    # A decoder that applied the profile would be off by far more than the tolerance.
    from PIL import ImageCms

    managed = np.asarray(ImageCms.profileToProfile(im.convert("RGB"), ImageCms.ImageCmsProfile(io.BytesIO(DISPLAY_P3)),
                                                   ImageCms.createProfile("sRGB"))).astype(int)
    managed_bands = [managed[y:y + 10].reshape(-1, 3).mean(axis=0) for y in range(0, 100, 10)]
    assert np.abs(np.array(managed_bands) - np.array(bands)).max() > 4 * tolerance
