"""The probes that decide whether a browser's codec path is used: their reference answers, and a provider
that answers otherwise losing that path (Pillow then does the work, as in a browser the tests never ran)."""

from __future__ import annotations

import hashlib
import io

import numpy as np
import samples
from PIL import Image
from pixelpress import browser_probes
from pixelpress.ops.convert import convert
from test_codec import PillowBehindTheInterface, run

JPEG = samples.photo_bytes("rocket.jpg", "JPEG", quality=92)


def test_the_probe_answer_is_what_libjpeg_turbo_decodes():
    im = Image.open(io.BytesIO(browser_probes.PROBE_JPEG))
    assert im.size == browser_probes.PROBE_SIZE and im.info.get("progression") is None
    assert hashlib.sha256(im.convert("RGB").tobytes()).hexdigest() == browser_probes.PROBE_RGB_SHA256
    assert im.layer[0][1:3] == (2, 2)  # 4:2:0, where upsampling differs between decoders


class AnotherDecoder(PillowBehindTheInterface):
    """A decoder whose upsampling or IDCT differs from libjpeg-turbo's by a level here and there."""

    name = "another decoder"

    @staticmethod
    def _shift(im: Image.Image) -> Image.Image:
        arr = np.asarray(im.convert("RGB")).copy()
        arr[::7, ::5, 1] ^= 1
        return Image.fromarray(arr)

    async def decode_jpeg(self, data, width, height):
        await super().decode_jpeg(data, width, height)  # what was asked
        return self._shift(Image.open(io.BytesIO(data)))

    async def transcode(self, data, width, height, mime, quality, colour):
        await super().transcode(data, width, height, mime, quality, colour)
        return self._encode(self._shift(Image.open(io.BytesIO(data))), mime, quality)


def test_a_decoder_that_differs_is_not_used_and_the_output_is_native():
    for fmt in ("png", "jpeg", "webp"):
        r, asked = run(JPEG, {"format": fmt}, AnotherDecoder())
        assert r.meta["codec"]["decode"] == "pillow", fmt
        assert not [a for a in asked if a == "decode" or a.startswith("transcode")], (fmt, asked)
        if fmt == "png":
            assert r.data == convert(JPEG, {"format": "png"}).data


def test_a_decoder_that_matches_is_probed_once_and_then_trusted():
    fake = PillowBehindTheInterface()
    browser_probes.forget()
    for _ in range(3):
        convert(JPEG, {"format": "png"}, codecs=fake)
    assert fake.asked.count("probe decode") == 1 and fake.asked.count("decode") == 3


def test_a_canvas_webp_that_is_not_libwebp_at_pillows_settings_leaves_it_to_wasm_libwebp():
    """Firefox's canvas WebP was within 5 % of the size and as close to the picture, yet 0.988 SSIM from
    native: only a canvas whose pixels are wasm libwebp's (so native Pillow's) is used."""
    class OtherWebp(PillowBehindTheInterface):
        name = "other webp"

        @staticmethod
        def _encode(im, mime, quality):
            if mime != "image/webp":
                return PillowBehindTheInterface._encode(im, mime, quality)
            buf = io.BytesIO()
            im.save(buf, "WEBP", quality=round(quality * 100), method=5)  # libwebp, other settings
            return buf.getvalue()

    png = samples.encode(samples.image("coffee.png").convert("RGB"), "PNG")
    r, asked = run(png, {"format": "webp", "quality": 80}, OtherWebp())
    assert asked == ["libwebp q80 m3"] and r.meta["codec"]["encode"] == "other webp"
    r, asked = run(png, {"format": "webp", "quality": 80})
    assert asked == ["image/webp"]  # Pillow behind the canvas is libwebp at Pillow's settings: used
