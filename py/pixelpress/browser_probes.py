"""Whether a browser's codecs give what the engine would: probed once per worker on small pictures.

The engine lets the browser decode and encode only where its result is
Pillow's (browser.py). Chromium, Firefox and WebKitGTK link libjpeg-turbo and
libwebp as native Pillow does, but a browser the tests never ran (Safari's
ImageIO, a future engine) may decode with another IDCT or upsampling, or map
a quality otherwise. So before its first use each path is tried on a probe
whose right answer the engine knows, and a path that answers otherwise is
not used: Pillow (or wasm libwebp) does that work instead.

- decoding a JPEG, by the provider's decoder and by its transcoder (a
  bitmap drawn without colour conversion): a 48x32 4:2:0 JPEG with sharp
  colour edges must come out as libjpeg-turbo decodes it, bit for bit
  (PROBE_RGB_SHA256, checked against native Pillow by
  tests/engine/test_browser_probes.py);
- encoding through a canvas: a 256x192 picture encoded at the quality asked
  must give a file within 5 % of Pillow's size, no further from the
  picture than Pillow's file; a WebP must decode to the very pixels of
  wasm libwebp's (which are native Pillow's) at that quality.
"""

from __future__ import annotations

import base64
import hashlib
import io
from typing import TYPE_CHECKING

from PIL import Image

from .formats import jpeg, webp
from .provider import BROWSER_WEBP_METHOD, as_pillow_writes

if TYPE_CHECKING:
    from .provider import Codecs

PROBE_JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAMCAgMCAgMDAwMEAwMEBQgFBQQEBQoHBwYIDAoMDAsKCwsNDhIQDQ4RDgsLEBYQERMU"
    "FRUVDA8XGBYUGBIUFRT/2wBDAQMEBAUEBQkFBQkUDQsNFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQU"
    "FBQUFBQUFBT/wAARCAAgADADASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUF"
    "BAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVW"
    "V1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi"
    "4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAEC"
    "AxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVm"
    "Z2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq"
    "8vP09fb3+Pn6/9oADAMBAAIRAxEAPwD46h+HbXkpRQkZAzl8gU9/hLM3SW3/AO+m/wAK9v8AEnhn+xbRJ9m3dIE/Qn+lc7X3/F3i"
    "bnlDMpUcHVSp2W6vr11P3PgXgDJc8yeONx0ZOblJaSsrLbQ8k1H4YyadCsrtDIC23EZJPQ+o9qq2Xw/lv7uG2gh3zTOsca5AyxOA"
    "MngcmvUNftbu/is7Swhmub25uUhhgtlLSSu2QqKo5JJIAA6mvSfDnwmT4TRaZrPj3XP7K8S6nBHJonhWIO923mSiJpLsFdsKhGZg"
    "pIJORkNGyHuwHF2YyySOY4jFJ16jmqdKMZOc3HtGN3yrec2uWEbyk0j8m8Q8qw/DeY18NllJuNOmpK762btfzeiW76FT4YfsmaPq"
    "7tb3thJqIhgkn1LW7qV7fS9O8td7K0oK4JDp8vzNjDlUUk1NbxaD8Lvh/rU/w90PR9U1K/vnim8S6nAt5JaWbKYmt4ILiLCo4d1Y"
    "uNzJKQyt8rJ1XjnUfEHi6ysdFu5o4tA09t9np1nEsUIcjDSsAMvIx3MWYk7pHxgMRVDQfC50zTdRi2f8fcfl7R16MP8A2avzXA53"
    "mmPjHGZzjZVozqU/9n5pOlNc+qmrpN2afIo+zXLaUamsn+LSvgcLhsywuKlUqVHFNNrlnztKUYR2g43bTWqtr1Pa/FXwZg8TWSWt"
    "wZ4USQShoCA2QCMcg8c1g6Z+yXb6tIwiur2GFQS9xPIixJgZ5bZ9OP6V9mxeCor2Vhbw+dGjbWkH3c+x7/hU154DmuY1iZAIlOVj"
    "VcKD9P8APU1+TZzmlbNqsnliTjqnVa93T+T+d36q0FZ+82uU/oHLc+zTKaCw+HxEoR35V59+35nw18Wxp/7MngeG+8BQLceIbjUI"
    "YR4o1a3jnntswyF1tkZNsYIDKSQSQ7g5wrD5T8Fy3PiD4l6FJeTy3l5favA0087l5JXeZdzMx5Ykkkk8kmv07+PP7K0nxp8I2miR"
    "ar/YTW98l79p+yfaNwWORNm3emP9ZnOe3TmvIPBn/BNi68KeL9D1tvHH2xdMvoL0239j7PNEcivs3eeduduM4OM9DX7v4dZ/wvw3"
    "w1iMPjK1sbVU1KThOU5Kz5E5xg1yq7tFNRi22krs+JzyrmWcY/61iJOe2rf6XEHwyMuOJE/3a07L4bCFQBGT6luSa+m4vhrj/ll+"
    "lXIfhvjH7r9K/KMkfsqiqW97uckcny+hiJYujQjGo92kr67+l+tt+p//2Q=="
)
PROBE_SIZE = (48, 32)
# sha256 of PROBE_JPEG's pixels as libjpeg-turbo (native Pillow) decodes them, RGB.
PROBE_RGB_SHA256 = "ea538e367623615c8c7c8a78e597b5ee9c324ef143ab7d5d6911b4dc58acc6be"

_SEEN: dict[tuple, bool] = {}


def forget() -> None:
    """Probe again from the next use (for tests, which swap providers)."""
    _SEEN.clear()


async def _once(key: tuple, probe) -> bool:
    if key not in _SEEN:
        try:
            _SEEN[key] = bool(await probe())
        except Exception:  # noqa: BLE001 - a provider that fails a probe is not used for that path
            _SEEN[key] = False
        if len(_SEEN) > 64:  # formats x qualities x providers: a long odd batch starts over
            _SEEN.clear()
    return _SEEN.get(key, False)


def _is_reference(im: Image.Image | None) -> bool:
    return (im is not None and im.size == PROBE_SIZE
            and hashlib.sha256(im.convert("RGB").tobytes()).hexdigest() == PROBE_RGB_SHA256)


async def decodes_like_libjpeg_turbo(codecs: Codecs) -> bool:
    """Whether the provider's JPEG decoder gives libjpeg-turbo's pixels."""
    return await _once((codecs.name, "decode"), lambda: _decoded(codecs))


async def _decoded(codecs: Codecs) -> bool:
    return _is_reference(await codecs.decode_jpeg(PROBE_JPEG, *PROBE_SIZE))


async def transcodes_like_libjpeg_turbo(codecs: Codecs) -> bool:
    """Whether the provider's transcoder decodes a JPEG to libjpeg-turbo's pixels (asked for a PNG)."""
    return await _once((codecs.name, "transcode"), lambda: _transcoded(codecs))


async def _transcoded(codecs: Codecs) -> bool:
    out = await codecs.transcode(PROBE_JPEG, *PROBE_SIZE, "image/png", 1.0, "untagged")
    return bool(out) and _is_reference(Image.open(io.BytesIO(out)))


async def canvas_writes_like_pillow(codecs: Codecs, mime: str, quality: int) -> bool:
    """Whether the provider's canvas encoder writes `mime` at `quality` as Pillow does: a file within 5 % of
    Pillow's size, no further from the picture than Pillow's file (mean error within 0.25 of a level), so
    a higher quality shows in the size, a lower one in the error. About 5 ms a format and quality."""
    return await _once((codecs.name, mime, quality), lambda: _encoded(codecs, mime, quality))


async def _encoded(codecs: Codecs, mime: str, quality: int) -> bool:
    from PIL import ImageChops, ImageStat

    probe = probe_picture()
    ours = (jpeg.save(probe, quality=quality) if mime == "image/jpeg"
            else webp.save(probe, quality=quality, method=BROWSER_WEBP_METHOD))
    theirs = await codecs.encode(probe.tobytes("raw", "RGBX"), *probe.size, "RGBX", mime, quality / 100)
    theirs = as_pillow_writes(theirs, mime) if theirs else None
    if not theirs or abs(len(theirs) - len(ours)) > 0.05 * len(ours):
        return False
    seen = Image.open(io.BytesIO(theirs)).convert("RGB")
    if mime == "image/webp":
        # libwebp in wasm, set up as Pillow's, decodes to native Pillow's pixels: the canvas must give the same
        # (Firefox's was within the size and error bounds, yet 0.988 SSIM from native on a photo).
        try:
            wasm = await codecs.encode_webp(probe.convert("RGBA").tobytes(), *probe.size, quality, BROWSER_WEBP_METHOD)
        except Exception:  # noqa: BLE001 - no wasm libwebp here: the bounds below decide alone
            wasm = None
        if wasm:
            return seen.tobytes() == Image.open(io.BytesIO(wasm)).convert("RGB").tobytes()

    def error(im: Image.Image) -> float:
        return sum(ImageStat.Stat(ImageChops.difference(im, probe)).mean) / 3

    return seen.size == probe.size and error(seen) <= error(Image.open(io.BytesIO(ours)).convert("RGB")) + 0.25


def probe_picture() -> Image.Image:
    """A 256x192 picture with smooth gradients, hard colour edges and fine lines, made the same every time."""
    from PIL import ImageDraw

    ramp = Image.linear_gradient("L").resize((256, 192))
    ring = Image.radial_gradient("L").resize((256, 192))
    im = Image.merge("RGB", (ramp, ring, ramp.transpose(Image.Transpose.FLIP_LEFT_RIGHT)))
    draw = ImageDraw.Draw(im)
    for i in range(0, 256, 16):
        draw.line((i, 0, 255 - i, 191), fill=(255 - i, i, 128), width=1 + i % 3)
    draw.rectangle((40, 40, 120, 100), fill=(220, 30, 40))
    draw.ellipse((140, 60, 230, 170), outline=(10, 200, 90), width=6)
    return im
