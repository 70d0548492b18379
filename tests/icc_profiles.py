"""Wide-gamut ICC profiles written by the tests, and photos stored in them.

Matrix/TRC profiles as cameras, phones and editors embed them: Display P3 (an
ICC v4 profile with a parametric sRGB curve, as Apple writes it), Adobe RGB
(1998) (v2, one gamma value), ProPhoto RGB (v2, a 1024-entry curve table) and
a grey gamma-2.2 profile. Little CMS reads each back (see test_icc.py), so
they are profiles the rest of the world accepts, not ones shaped to our reader.
"""

from __future__ import annotations

import io
import struct

from PIL import Image, ImageCms
from pixelpress.icc import colorants_d50

D65 = (0.3127, 0.3290)
SRGB_CURVE = (2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045)


def _s15(v: float) -> bytes:
    return struct.pack(">i", round(v * 65536))


def _xyz_tag(xyz) -> bytes:
    return b"XYZ \0\0\0\0" + b"".join(_s15(v) for v in xyz)


def _desc_v2(text: str) -> bytes:
    ascii_ = text.encode() + b"\0"
    return b"desc\0\0\0\0" + struct.pack(">I", len(ascii_)) + ascii_ + b"\0" * 79


def _mluc(text: str) -> bytes:
    utf16 = text.encode("utf-16-be")
    return b"mluc\0\0\0\0" + struct.pack(">II", 1, 12) + b"enUS" + struct.pack(">II", len(utf16), 28) + utf16


def gamma_curve(gamma: float) -> bytes:
    return b"curv\0\0\0\0" + struct.pack(">IH", 1, round(gamma * 256))


def table_curve(gamma: float, n: int = 1024) -> bytes:
    return b"curv\0\0\0\0" + struct.pack(f">I{n}H", n, *(round((i / (n - 1)) ** gamma * 65535) for i in range(n)))


def srgb_parametric() -> bytes:
    return b"para\0\0\0\0" + struct.pack(">H2x", 3) + b"".join(_s15(v) for v in SRGB_CURVE)


def profile(name: str, *, space: bytes = b"RGB ", version: int = 0x02100000, primaries=None, white=D65,
            curve: bytes, desc: str | None = None) -> bytes:
    """A display-class matrix/TRC profile (or a grey one: `space` b"GRAY", `curve` as kTRC)."""
    v4 = version >= 0x04000000
    tags = [(b"desc", _mluc(desc or name) if v4 else _desc_v2(desc or name)),
            (b"wtpt", _xyz_tag((0.9642, 1.0, 0.8249)))]
    if space == b"RGB ":
        m = colorants_d50(primaries, white)
        tags += [(sig, _xyz_tag([m[0][i], m[1][i], m[2][i]])) for i, sig in enumerate((b"rXYZ", b"gXYZ", b"bXYZ"))]
        tags += [(sig, curve) for sig in (b"rTRC", b"gTRC", b"bTRC")]
    else:
        tags.append((b"kTRC", curve))
    table, body, offset = b"", b"", 128 + 4 + 12 * len(tags)
    for sig, data in tags:
        data += b"\0" * (-len(data) % 4)
        table += struct.pack(">4sII", sig, offset + len(body), len(data))
        body += data
    size = offset + len(body)
    header = (struct.pack(">I4sI4s4s4s", size, b"lcms", version, b"mntr", space, b"XYZ ") + b"\0" * 12 + b"acsp"
              + b"\0" * 24 + struct.pack(">I", 0) + _s15(0.9642) + _s15(1.0) + _s15(0.8249) + b"\0" * 48)
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + body


DISPLAY_P3 = profile("Display P3", version=0x04300000, primaries=[(0.680, 0.320), (0.265, 0.690), (0.150, 0.060)],
                     curve=srgb_parametric())
ADOBE_RGB = profile("Adobe RGB (1998)", primaries=[(0.64, 0.33), (0.21, 0.71), (0.15, 0.06)],
                    curve=gamma_curve(563 / 256))
PROPHOTO = profile("ProPhoto RGB", primaries=[(0.7347, 0.2653), (0.1596, 0.8404), (0.0366, 0.0001)],
                   white=(0.3457, 0.3585), curve=table_curve(1.8))
GREY_22 = profile("Dot Gain-free Gray Gamma 2.2", space=b"GRAY", curve=gamma_curve(2.2))
WIDE = {"display-p3": DISPLAY_P3, "adobe-rgb": ADOBE_RGB, "prophoto": PROPHOTO}
WIDE_NAMES = {"display-p3": "Display P3", "adobe-rgb": "Adobe RGB (1998)", "prophoto": "ProPhoto RGB"}


def srgb():
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def in_profile(im: Image.Image, icc: bytes) -> Image.Image:
    """An sRGB picture's colours stored as `icc`'s numbers (Little CMS), as a camera set to that space writes them."""
    return ImageCms.profileToProfile(im, srgb(), ImageCms.ImageCmsProfile(io.BytesIO(icc)),
                                     renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC, outputMode=im.mode)


def rendered(im: Image.Image, icc: bytes) -> Image.Image:
    """What a colour-managed viewer shows of `im` stored as `icc`: Little CMS's conversion to sRGB."""
    return ImageCms.profileToProfile(im, ImageCms.ImageCmsProfile(io.BytesIO(icc)), srgb(),
                                     renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC, outputMode=im.mode)
