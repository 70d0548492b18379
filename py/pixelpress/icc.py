"""Embedded ICC profiles: the stored pixels converted to sRGB, the web's colour space.

A Display P3 or Adobe RGB photo stores other numbers than an sRGB one for the
same colour. Output without a profile is read as sRGB everywhere, so the
pixels are converted, as sharp does by default, unless the caller keeps the
profile (then pixels and profile travel together, unchanged).

- An sRGB profile (by its colorants and curves, not its name: cameras and
  editors write many variants) or none: nothing to do, the pixels stay
  byte for byte as decoded.
- Natively, RGB profiles of any kind (matrix or LUT) go through Little CMS
  (Pillow's ImageCms).
- Where Pillow has no Little CMS (Pyodide's build), matrix/TRC profiles (Display P3,
  Adobe RGB, ProPhoto, most camera and monitor profiles) are converted here:
  each channel linearised through its curve, the colorant matrix into the
  profile connection space (D50 XYZ) and the inverse of sRGB's out, the sRGB
  curve back: what Little CMS computes for such profiles, within one unit of
  8-bit output. It runs in Pillow's C (lookups and float image maths), so
  conversion needs no NumPy, and neither does the worker's convert.
- Grey images with a grey profile: the grey curve to sRGB's, the same both ways.
- Anything else (a LUT-only profile without Little CMS, CMYK, a profile for
  another colour space than the pixels', a malformed one) stays as stored, with a
  warning: a wrong guess would be worse than an honest "not converted".

Both paths use relative colorimetric rendering: for matrix profiles Little
CMS gives every intent the same result, and out-of-gamut colours clip.
"""

from __future__ import annotations

import functools
import io
import struct
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image

SRGB = "srgb"  # the pixels are sRGB: untagged, tagged sRGB, or converted
CONVERTED = "converted"
KEPT = "kept"  # the caller keeps the profile: pixels as stored
UNMANAGED = "unmanaged"  # a profile that could not be applied: pixels as stored
MALFORMED = "The ICC profile is malformed, so it was dropped; colours are kept as stored."

Matrix = tuple[tuple[float, float, float], ...]
Curve = Callable[[float], float]  # code value 0..1 -> linear light 0..1


def _mul(a: Matrix, b: Matrix) -> Matrix:
    return tuple(tuple(sum(a[i][k] * b[k][j] for k in range(3)) for j in range(3)) for i in range(3))


def _apply(m: Matrix, v) -> tuple[float, float, float]:
    return tuple(m[i][0] * v[0] + m[i][1] * v[1] + m[i][2] * v[2] for i in range(3))


def _det(m: Matrix) -> float:
    return (m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]))


def _inv(m: Matrix) -> Matrix:
    d = _det(m)
    cof = [[(m[(j + 1) % 3][(i + 1) % 3] * m[(j + 2) % 3][(i + 2) % 3]
             - m[(j + 1) % 3][(i + 2) % 3] * m[(j + 2) % 3][(i + 1) % 3]) / d for j in range(3)] for i in range(3)]
    return tuple(tuple(row) for row in cof)


def _diag(v) -> Matrix:
    return tuple(tuple(v[i] if i == j else 0.0 for j in range(3)) for i in range(3))


def _xyz_of(x: float, y: float) -> tuple[float, float, float]:
    return (x / y, 1.0, (1 - x - y) / y)


# The ICC's D50 and Bradford's cone response: how Little CMS adapts sRGB's D65 colorants for its own sRGB profile.
_D50 = (0.9642, 1.0, 0.8249)
_BRADFORD: Matrix = ((0.8951, 0.2664, -0.1614), (-0.7502, 1.7135, 0.0367), (0.0389, -0.0685, 1.0296))


def colorants_d50(primaries, white) -> Matrix:
    """The 3x3 matrix whose columns are the red, green and blue colorants (xy chromaticities) in D50 XYZ."""
    xyz = tuple(zip(*(_xyz_of(*p) for p in primaries), strict=True))  # columns: the primaries at Y = 1
    w = _xyz_of(*white)
    scale = _apply(_inv(xyz), w)
    m = _mul(xyz, _diag(scale))
    src, dst = _apply(_BRADFORD, w), _apply(_BRADFORD, _D50)
    adapt = _mul(_inv(_BRADFORD), _mul(_diag([d / s for d, s in zip(dst, src, strict=True)]), _BRADFORD))
    return _mul(adapt, m)


SRGB_COLORANTS = colorants_d50([(0.64, 0.33), (0.30, 0.60), (0.15, 0.06)], (0.3127, 0.3290))
_FROM_XYZ = _inv(SRGB_COLORANTS)


def srgb_decode(v: float) -> float:
    return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4


def srgb_encode(lin: float) -> float:
    lin = min(max(lin, 0.0), 1.0)
    return lin * 12.92 if lin <= 0.0031308 else 1.055 * lin ** (1 / 2.4) - 0.055


# ------------------------------------------------------------------ reading a profile


@dataclass(frozen=True)
class Profile:
    space: str  # the data colour space: "RGB", "GRAY", "CMYK", ...
    name: str  # its description, for meta and messages
    colorants: Matrix | None  # columns r, g, b in D50 XYZ (matrix/TRC RGB profiles)
    curves: tuple[Curve, ...] | None  # each channel's tone curve

    @property
    def is_srgb(self) -> bool:
        """Colorants and curves those of sRGB, within what 8-bit output could show.

        A LUT-only profile named sRGB (the ICC's v4 preference profile) counts too:
        it is meant as sRGB, and its perceptual tables would only shift colours.
        """
        if self.space != "RGB":
            return False
        if self.colorants is None:
            return "srgb" in self.name.lower().replace(" ", "")
        close = all(abs(a - b) < 0.003 for ra, rb in zip(self.colorants, SRGB_COLORANTS, strict=True)
                    for a, b in zip(ra, rb, strict=True))
        return close and all(abs(c(i / 255) - srgb_decode(i / 255)) < 0.002 for c in self.curves for i in range(256))


def read_profile(icc: bytes) -> Profile | None:
    """The parts of an ICC profile the conversion needs, or None if it is not one that can be read.

    Every offset and length is checked against the data: profiles arrive inside untrusted files.
    """
    try:
        return _read(icc)
    except (struct.error, ValueError, IndexError, ZeroDivisionError, OverflowError):
        return None


def _read(icc: bytes) -> Profile | None:
    if len(icc) < 132 or icc[36:40] != b"acsp":
        return None
    space = icc[16:20].decode("latin-1").strip()
    count = struct.unpack_from(">I", icc, 128)[0]
    if count > 200 or 132 + 12 * count > len(icc):
        return None
    tags = {}
    for i in range(count):
        sig, offset, size = struct.unpack_from(">4sII", icc, 132 + 12 * i)
        if offset + size <= len(icc) and size >= 8:
            tags.setdefault(sig, icc[offset:offset + size])
    name = _description(tags.get(b"desc")) or space
    colorants = curves = None
    if space == "RGB" and all(t in tags for t in (b"rXYZ", b"gXYZ", b"bXYZ", b"rTRC", b"gTRC", b"bTRC")):
        columns = [_xyz(tags[t]) for t in (b"rXYZ", b"gXYZ", b"bXYZ")]
        colorants = tuple(zip(*columns, strict=True))
        curves = tuple(_curve(tags[t]) for t in (b"rTRC", b"gTRC", b"bTRC"))
        if any(c is None for c in curves) or abs(_det(colorants)) < 1e-6:
            colorants = curves = None
    elif space == "GRAY" and b"kTRC" in tags:
        grey = _curve(tags[b"kTRC"])
        curves = None if grey is None else (grey,)
    return Profile(space, name, colorants, curves)


def _description(tag: bytes | None) -> str | None:
    if not tag:
        return None
    kind = tag[:4]
    if kind == b"desc":  # ICC v2: an ASCII count and string
        n = struct.unpack_from(">I", tag, 8)[0]
        text = tag[12:12 + min(n, 200)].split(b"\0")[0].decode("latin-1")
    elif kind == b"mluc":  # ICC v4: UTF-16 records; the first one
        records = struct.unpack_from(">I", tag, 8)[0]
        if not records:
            return None
        length, offset = struct.unpack_from(">II", tag, 20)
        text = tag[offset:offset + min(length, 400)].decode("utf-16-be", "replace")
    else:
        return None
    text = "".join(ch for ch in text if ch.isprintable()).strip()
    return text or None


def _xyz(tag: bytes) -> tuple[float, float, float]:
    if tag[:4] != b"XYZ ":
        raise ValueError("not an XYZ tag")
    return tuple(v / 65536 for v in struct.unpack_from(">3i", tag, 8))


def _curve(tag: bytes) -> Curve | None:
    """A tone curve (`curv` table or gamma, `para` function), or None for a kind this does not read."""
    kind = tag[:4]
    if kind == b"curv":
        n = struct.unpack_from(">I", tag, 8)[0]
        if n == 0:
            return lambda x: x
        if n == 1:
            gamma = struct.unpack_from(">H", tag, 12)[0] / 256
            return lambda x: x ** gamma
        if n > 65536 or 12 + 2 * n > len(tag):
            return None
        table = [v / 65535 for v in struct.unpack_from(f">{n}H", tag, 12)]
        return functools.partial(_interpolate, table)
    if kind == b"para":
        fn = struct.unpack_from(">H", tag, 8)[0]
        n = {0: 1, 1: 3, 2: 4, 3: 5, 4: 7}.get(fn)
        if n is None:
            return None
        g, a, b, c, d, e, f = ([v / 65536 for v in struct.unpack_from(f">{n}i", tag, 12)] + [0.0] * 7)[:7]
        return functools.partial(_parametric, fn, g, a, b, c, d, e, f)
    return None


def _interpolate(table: list[float], x: float) -> float:
    pos = min(max(x, 0.0), 1.0) * (len(table) - 1)
    i = min(int(pos), len(table) - 2)
    return table[i] + (table[i + 1] - table[i]) * (pos - i)


def _parametric(fn: int, g: float, a: float, b: float, c: float, d: float, e: float, f: float, x: float) -> float:
    """The ICC's parametric curve types 0-4, clamped to 0..1."""
    if fn == 0:
        y = x ** g
    elif fn in (1, 2):  # below -b/a: 0 (type 1) or c (type 2)
        y = (max(a * x + b, 0.0) ** g if a * x + b >= 0 else 0.0) + (c if fn == 2 else 0.0)
    else:
        y = max(a * x + b, 0.0) ** g + (e if fn == 4 else 0.0) if x >= d else c * x + (f if fn == 4 else 0.0)
    return min(max(y, 0.0), 1.0)


# ------------------------------------------------------------------ converting


def to_srgb(im: Image.Image, icc: bytes | None, *, keep: bool = False) -> tuple[Image.Image, str | None, str, str | None]:
    """`im` (L, RGB or RGBA) in sRGB: (image, profile name, what was done, warning or None).

    What was done is SRGB, CONVERTED, KEPT or UNMANAGED (module docstring).
    """
    if not icc:
        return im, None, SRGB, None
    profile = read_profile(icc)
    if profile is None:
        return im, None, UNMANAGED, MALFORMED
    if keep:
        return im, profile.name, KEPT, None
    if profile.is_srgb:
        return im, profile.name, SRGB, None
    grey = im.mode == "L"
    if profile.space == "CMYK":  # the decoder converted to RGB already, and said so
        return im, profile.name, UNMANAGED, None
    if profile.space != ("GRAY" if grey else "RGB"):
        return im, profile.name, UNMANAGED, (f"The colour profile ({profile.name}) is for {profile.space} data but the "
                                              f"picture is {'grey' if grey else 'colour'}, so colours are kept as stored.")
    if grey:
        if profile.curves is None:
            return im, profile.name, UNMANAGED, _cannot(profile)
        (curve,) = profile.curves
        return im.point([round(srgb_encode(curve(i / 255)) * 255) for i in range(256)]), profile.name, CONVERTED, None
    converted = _little_cms(im, icc)
    if converted is None and profile.colorants is not None:
        converted = convert_matrix(im, icc)
    if converted is None:
        return im, profile.name, UNMANAGED, _cannot(profile)
    return converted, profile.name, CONVERTED, None


def _cannot(profile: Profile) -> str:
    return (f"The colour profile ({profile.name}) is not a kind this build can convert to sRGB, so colours are kept "
            f"as stored and may look different from the original.")


def _little_cms(im: Image.Image, icc: bytes) -> Image.Image | None:
    """Little CMS's conversion, or None where Pillow has none (the browser) or it refuses the profile."""
    from PIL import ImageCms

    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        return ImageCms.profileToProfile(im, source, _srgb_profile(),
                                         renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC, outputMode=im.mode)
    except ImportError:  # ImageCms imports without its C part and fails on first use (Pyodide's Pillow)
        return None
    except (ImageCms.PyCMSError, OSError, ValueError):
        return None


@functools.cache
def _srgb_profile():
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


# Linear light (0..65535) to 8-bit sRGB: fine enough that the darkest steps,
# where sRGB is steepest, round as the exact curve does.
_ENCODE = [round(srgb_encode(i / 65535) * 255) for i in range(65536)]
STRIP_PIXELS = 1 << 21  # converted at once: bounds the float working images to ~100 MB


@functools.lru_cache(maxsize=8)  # a batch of photos from one camera shares its profile: prepared once
def _prepared(icc: bytes) -> tuple[Matrix, tuple[tuple[list[int], list[int]], ...]]:
    """The matrix from the profile's linear RGB to sRGB's, and each curve as the high and low bytes of 16 bits."""
    profile = read_profile(icc)
    halves = []
    for curve in profile.curves:
        v = [round(curve(i / 255) * 65535) for i in range(256)]
        halves.append(([x >> 8 for x in v], [x & 255 for x in v]))
    return _mul(_FROM_XYZ, profile.colorants), tuple(halves)


def convert_matrix(im: Image.Image, icc: bytes) -> Image.Image:
    """A matrix/TRC profile's RGB (or RGBA: alpha unchanged) pixels in sRGB, without Little CMS.

    Pillow alone, in C: each channel's curve as two 8-bit lookups (the high
    and low bytes of 16-bit linear light) joined into a float image, the
    3x3 matrix in float, then a 65536-entry lookup back to 8-bit sRGB. Within
    one unit of Little CMS on every pixel measured (tests/engine/test_icc.py).
    """
    from PIL import ImageMath  # its C module loads only for a picture that needs converting

    matrix, halves = _prepared(icc)
    w, h = im.size
    channels = [Image.new("L", im.size) for _ in range(3)]
    rows = max(1, STRIP_PIXELS // w)
    for top in range(0, h, rows):
        box = (0, top, w, min(h, top + rows))
        strip = im.crop(box).split()[:3]
        linear = [ImageMath.lambda_eval(lambda a: a["hi"] * 256.0 + a["lo"], hi=c.point(hi).convert("F"),
                                        lo=c.point(lo).convert("F"))
                  for c, (hi, lo) in zip(strip, halves, strict=True)]
        for out, row in zip(channels, matrix, strict=True):
            mixed = ImageMath.lambda_eval(
                lambda a, row=row: a["convert"](a["min"](a["max"](a["r"] * row[0] + a["g"] * row[1] + a["b"] * row[2],
                                                                  0.0), 65535.0) + 0.5, "I"),
                r=linear[0], g=linear[1], b=linear[2])
            out.paste(mixed.point(_ENCODE, "L"), box[:2])
    if im.mode == "RGBA":
        channels.append(im.getchannel("A"))
    return Image.merge(im.mode, channels)
