"""The codec switch: when a faster provider (the browser's, in the worker) may decode or encode, natively checked.

The provider here is Pillow itself behind the provider's interface, recording
what it was asked: so these tests pin the rules (browser.py), and the browser
tests (tests/browser/test_codecs_worker.py) pin that the browser's answers
equal native Pillow's.
"""

import io

import icc_profiles
import numpy as np
import pytest
import samples
from PIL import Image
from pixelpress import browser, browser_probes, icc
from pixelpress.formats import jpeg
from pixelpress.ops.convert import convert

JPEG = samples.photo_bytes("rocket.jpg", "JPEG", quality=92)
RGBA_PNG = samples.encode(samples.cutout("chelsea.png"), "PNG")
OPAQUE_RGBA_PNG = samples.encode(samples.image("coffee.png").convert("RGBA"), "PNG")


class PillowBehindTheInterface:
    name = "fake"

    def __init__(self):
        self.asked = []

    async def decode_jpeg(self, data, width, height):
        self.asked.append("probe decode" if (width, height) == browser_probes.PROBE_SIZE else "decode")
        im = Image.open(io.BytesIO(data))
        im.draft(None, None)
        return im.convert("RGB")

    async def transcode(self, data, width, height, mime, quality, colour):
        probing = (width, height) == browser_probes.PROBE_SIZE
        self.asked.append(f"probe transcode {mime}" if probing else f"transcode {mime}")
        im = Image.open(io.BytesIO(data))
        assert im.size == (width, height) and colour in ("untagged", "none", "srgb")
        pixels = im.convert("RGB")
        if colour == "srgb":  # a browser's colour management: Little CMS here
            pixels = icc.to_srgb(pixels, im.info.get("icc_profile"))[0]
        pixels.info = {}  # a canvas keeps nothing of the source file
        return self._encode(pixels, mime, quality)

    async def encode(self, pixels, width, height, layout, mime, quality):
        # The engine's probe of the canvas encoder (browser_probes.canvas_writes_like_pillow) is told apart by its size.
        self.asked.append(f"probe {mime} q{round(quality * 100)}" if (width, height) == PROBE_SIZE else mime)
        assert layout == "RGBX" and len(pixels) == width * height * 4
        return self._encode(Image.frombytes("RGB", (width, height), pixels, "raw", "RGBX"), mime, quality)

    async def encode_webp(self, pixels, width, height, quality, method):
        probing = (width, height) == PROBE_SIZE
        self.asked.append(f"probe libwebp q{quality} m{method}" if probing else f"libwebp q{quality} m{method}")
        assert len(pixels) == width * height * 4
        buf = io.BytesIO()  # libwebp set up as Pillow's, as the worker's wasm build is
        Image.frombytes("RGBA", (width, height), pixels).save(buf, "WEBP", quality=quality, method=method)
        return buf.getvalue()

    @staticmethod
    def _encode(im, mime, quality):
        buf = io.BytesIO()
        if mime == "image/png":
            im.save(buf, "PNG")
        elif mime == "image/jpeg":  # as the browser does: with an sRGB profile the engine must cut out
            im.save(buf, "JPEG", quality=round(quality * 100), optimize=True, icc_profile=b"\0" * 200)
        else:
            im.save(buf, "WEBP", quality=round(quality * 100), method=3, icc_profile=b"\0" * 200)
        return buf.getvalue()


PROBE_SIZE = browser_probes.probe_picture().size


def run(data, opts, fake=None):
    """The conversion with a provider, and what the provider was asked for this file (not the probes)."""
    fake = fake or PillowBehindTheInterface()
    browser_probes.forget()
    result = convert(data, opts, codecs=fake)
    return result, [a for a in fake.asked if not a.startswith("probe ")]


def test_the_canvas_encoder_is_probed_once_per_format_and_quality():
    fake = PillowBehindTheInterface()
    browser_probes.forget()
    for quality in (85, 85, 70):
        convert(RGBA_PNG, {"format": "jpeg", "quality": quality}, codecs=fake)
    assert [a for a in fake.asked if a.startswith("probe ")] == ["probe image/jpeg q85", "probe image/jpeg q70"]
    assert fake.asked.count("image/jpeg") == 3


@pytest.mark.parametrize("fmt", ["jpeg", "webp"])
def test_a_canvas_whose_quality_means_something_else_is_not_used(fmt):
    """A browser whose encoder maps quality otherwise (Safari's ImageIO may) fails the probe: Pillow encodes,
    and the user gets what quality 80 means natively."""
    class Otherwise(PillowBehindTheInterface):
        name = "otherwise"

        async def encode(self, pixels, width, height, layout, mime, quality):
            return await super().encode(pixels, width, height, layout, mime, quality * 0.6)

    r, asked = run(JPEG, {"format": fmt, "quality": 80}, Otherwise())
    assert r.meta["codec"]["encode"] in ("pillow", "otherwise") and not any(a.startswith("transcode") for a in asked)
    native = convert(JPEG, {"format": fmt, "quality": 80})
    if fmt == "jpeg":
        assert r.meta["codec"]["encode"] == "pillow" and r.data == native.data
    else:  # opaque WebP goes to libwebp in wasm instead, set up as Pillow's
        assert asked[-1] == "libwebp q80 m3"


def test_natively_everything_is_pillow():
    for data, fmt in ((JPEG, "jpeg"), (JPEG, "webp"), (RGBA_PNG, "png")):
        assert convert(data, {"format": fmt}).meta["codec"] == {"decode": "pillow", "encode": "pillow"}


@pytest.mark.parametrize("fmt", ["jpeg", "webp"])
def test_jpeg_in_lossy_out_unchanged_is_transcoded_by_the_provider_and_gives_pillows_result(fmt):
    r, asked = run(JPEG, {"format": fmt})
    assert r.meta["codec"] == {"decode": "fake", "encode": "fake"}
    assert asked == [f"transcode image/{fmt}"]  # the pixels never came into Python
    native = convert(JPEG, {"format": fmt})
    assert r.data == native.data  # the profile the encoder adds is cut out
    assert {k: v for k, v in r.meta.items() if k not in ("codec", "timings_ms")} == \
        {k: v for k, v in native.meta.items() if k not in ("codec", "timings_ms")}


P3_JPEG = samples.encode(icc_profiles.in_profile(Image.open(io.BytesIO(JPEG)).convert("RGB"), icc_profiles.DISPLAY_P3),
                         "JPEG", quality=92, icc_profile=icc_profiles.DISPLAY_P3)


def _oriented(n: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = n
    return samples.encode(Image.open(io.BytesIO(JPEG)), "JPEG", quality=92, exif=exif.tobytes())


@pytest.mark.parametrize("data,opts,why", [
    (JPEG, {"format": "jpeg", "max_width": 400}, "a resize"),
    (JPEG, {"format": "jpeg", "max_kb": 30}, "a size target: several encodes of one decode"),
    (JPEG, {"format": "jpeg", "keep_metadata": True}, "kept metadata"),
    (_oriented(3), {"format": "jpeg"}, "an EXIF rotation the engine applies"),
    (P3_JPEG, {"format": "jpeg", "colour_profile": "keep"}, "a profile to write"),
])
def test_what_the_provider_never_transcodes(data, opts, why):
    r, asked = run(data, opts)
    assert not any(a.startswith("transcode") for a in asked), why
    assert r.data == convert(data, opts).data or r.meta["codec"]["encode"] == "fake", why


def test_a_display_p3_jpeg_is_transcoded_with_its_colours_converted_once_the_provider_passes_the_probe():
    browser._PROBED.clear()
    r, asked = run(P3_JPEG, {"format": "jpeg"})
    assert asked == ["transcode image/png", "transcode image/jpeg"]  # the probe, then the file
    assert r.meta["colour"] == "converted" and r.meta["input_profile"] == "Display P3"
    native = samples.decode(convert(P3_JPEG, {"format": "jpeg"}).data)
    assert np.abs(np.asarray(samples.decode(r.data), int) - np.asarray(native, int)).mean() < 1
    r, asked = run(P3_JPEG, {"format": "webp"})
    assert asked == ["transcode image/webp"]  # probed once per profile


def test_a_provider_that_ignores_profiles_fails_the_probe_and_the_engine_converts():
    class Unmanaged(PillowBehindTheInterface):
        name = "unmanaged"

        async def transcode(self, data, width, height, mime, quality, colour):
            return await super().transcode(data, width, height, mime, quality, "none")

    r, asked = run(P3_JPEG, {"format": "jpeg"}, Unmanaged())
    assert asked == ["transcode image/png", "decode", "image/jpeg"]
    assert r.meta["colour"] == "converted" and "transcode" not in r.meta["timings_ms"]
    assert r.data == convert(P3_JPEG, {"format": "jpeg"}).data


def test_a_jpeg_that_does_not_need_a_resize_to_fit_is_transcoded():
    r, asked = run(JPEG, {"format": "jpeg", "max_width": 2000})  # 640 px wide: fits already
    assert asked == ["transcode image/jpeg"] and r.meta["width"] == 640


def test_lossy_webp_goes_to_the_canvas_when_opaque_at_effort_3_and_else_to_the_providers_libwebp():
    r, asked = run(OPAQUE_RGBA_PNG, {"format": "webp"})
    assert r.meta["codec"] == {"decode": "pillow", "encode": "fake"} and asked == ["image/webp"]
    # Transparency, which a canvas would premultiply: libwebp with the op's quality and effort, alpha kept.
    r, asked = run(RGBA_PNG, {"format": "webp", "quality": 70})
    assert r.meta["codec"]["encode"] == "fake" and asked == ["libwebp q70 m3"]
    assert np.array_equal(np.asarray(samples.decode(r.data)),
                          np.asarray(samples.decode(convert(RGBA_PNG, {"format": "webp", "quality": 70}).data)))
    # An effort the canvas does not run, on an opaque photo: libwebp too, and still no alpha plane.
    r, asked = run(JPEG, {"format": "webp", "webp_method": 6})
    assert asked == ["decode", "libwebp q85 m6"] and samples.decode(r.data).mode == "RGB"


def test_a_picture_too_big_for_wasm_libwebps_own_memory_is_encoded_by_pillow(monkeypatch):
    w, h = samples.decode(RGBA_PNG).size
    monkeypatch.setattr(browser, "WASM_WEBP_MAX_PIXELS", w * h - 1)
    r, asked = run(RGBA_PNG, {"format": "webp"})
    assert r.meta["codec"]["encode"] == "pillow" and asked == []
    monkeypatch.setattr(browser, "WASM_WEBP_MAX_PIXELS", w * h)
    assert run(RGBA_PNG, {"format": "webp"})[0].meta["codec"]["encode"] == "fake"


def test_a_wrong_answer_from_the_providers_libwebp_means_pillow():
    class Cropping(PillowBehindTheInterface):
        async def encode_webp(self, pixels, width, height, quality, method):
            out = await super().encode_webp(pixels, width, height, quality, method)
            return samples.encode(samples.decode(out).crop((0, 0, width - 1, height)), "WEBP")

    class Failing(PillowBehindTheInterface):
        async def encode_webp(self, *a):
            raise RuntimeError("CompileError: no wasm SIMD")

    native = convert(RGBA_PNG, {"format": "webp"})
    for provider in (Cropping(), Failing()):
        r = convert(RGBA_PNG, {"format": "webp"}, codecs=provider)
        assert r.meta["codec"]["encode"] == "pillow" and r.data == native.data


@pytest.mark.parametrize("opts,why", [
    ({"format": "png"}, "PNG is Pillow's"),
    ({"format": "webp", "lossless": True}, "lossless WebP"),
    ({"format": "jpeg", "progressive": True}, "progressive JPEG"),
    ({"format": "jpeg", "keep_metadata": True}, "kept metadata"),
])
def test_what_the_provider_never_encodes(opts, why):
    exif = Image.Exif()
    exif[0x010F] = "pixelpress test camera"  # Make
    data = samples.encode(Image.open(io.BytesIO(JPEG)), "JPEG", exif=exif.tobytes())
    r, asked = run(data, opts)
    assert r.meta["codec"]["encode"] == "pillow", why
    assert [a for a in asked if a != "decode"] == [], why


@pytest.mark.parametrize("data,why", [
    (samples.encode(Image.open(io.BytesIO(JPEG)).convert("L"), "JPEG"), "grey JPEG"),
    (samples.encode(Image.open(io.BytesIO(JPEG)).convert("CMYK"), "JPEG"), "CMYK JPEG"),
    (samples.encode(samples.image("coffee.png"), "PNG"), "PNG input"),
])
def test_what_the_provider_never_decodes(data, why):
    r, asked = run(data, {"format": "png"})
    assert r.meta["codec"]["decode"] == "pillow" and asked == [], why


def test_a_thumbnail_keeps_the_reduced_scale_decode_and_a_near_full_size_fit_does_not():
    r, asked = run(JPEG, {"format": "jpeg", "max_width": 200})  # 640 px wide: DCT scaling by 2
    assert r.meta["codec"] == {"decode": "pillow", "encode": "fake"} and asked == ["image/jpeg"]
    r, asked = run(JPEG, {"format": "jpeg", "max_width": 400})  # no DCT scaling applies
    assert r.meta["codec"]["decode"] == "fake" and asked[0] == "decode"


def test_a_cut_short_jpeg_still_fails_as_corrupt_without_asking_the_provider():
    fake = PillowBehindTheInterface()
    with pytest.raises(Exception) as err:
        convert(JPEG[: len(JPEG) // 2], {"format": "png"}, codecs=fake)
    assert getattr(err.value, "code", None) == "corrupt_image" and fake.asked == []


def test_a_failing_or_declining_provider_means_pillow():
    class Broken(PillowBehindTheInterface):
        async def decode_jpeg(self, *a):
            raise RuntimeError("no decoder")

        async def encode(self, *a):
            return None

        async def transcode(self, *a):
            raise RuntimeError("no canvas")

    r = convert(JPEG, {"format": "jpeg"}, codecs=Broken())
    assert r.meta["codec"] == {"decode": "pillow", "encode": "pillow"}
    assert r.data == convert(JPEG, {"format": "jpeg"}).data


def test_orientation_is_applied_by_the_engine_to_the_providers_pixels():
    im = Image.open(io.BytesIO(JPEG))
    exif = Image.Exif()
    exif[0x0112] = 6
    data = samples.encode(im, "JPEG", quality=92, exif=exif.tobytes())
    r, asked = run(data, {"format": "png"})
    assert asked == ["decode"] and (r.meta["width"], r.meta["height"]) == (427, 640)
    assert np.array_equal(np.asarray(samples.decode(r.data)), np.asarray(samples.decode(convert(data, {"format": "png"}).data)))


def test_the_jpeg_icc_cut_leaves_a_valid_file():
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 10, 10)).save(buf, "JPEG", icc_profile=b"\1" * 300)
    out = jpeg.without_icc(buf.getvalue())
    assert b"ICC_PROFILE" not in out and samples.decode(out).getpixel((8, 8))[0] > 180


def test_a_transcode_of_another_size_is_not_taken():
    """A browser clamps where Pillow refuses (a 1x20000 WebP came back 1x16383): the answer's size is checked."""
    class Clamping(PillowBehindTheInterface):
        async def transcode(self, data, width, height, mime, quality, colour):
            out = await super().transcode(data, width, height, mime, quality, colour)
            return self._encode(samples.decode(out).crop((0, 0, width, height - 1)), mime, quality)

    r = convert(JPEG, {"format": "webp"}, codecs=Clamping())
    assert "transcode" not in r.meta["timings_ms"] and r.data == convert(JPEG, {"format": "webp"}).data


def test_too_large_for_the_format_is_refused_before_the_provider_is_asked():
    fake = PillowBehindTheInterface()
    data = samples.encode(Image.new("RGB", (1, 20_000), (90, 120, 30)), "JPEG")
    with pytest.raises(Exception) as err:
        convert(data, {"format": "webp"}, codecs=fake)
    assert getattr(err.value, "code", None) == "too_large" and fake.asked == []


@pytest.mark.parametrize("name,message,code", [
    ("EncoderUnavailable", "the AVIF encoder could not be loaded: Failed to fetch", "unsupported_format"),
    ("RuntimeError", "Aborted(Cannot enlarge memory arrays)", "out_of_memory"),
])
def test_where_only_the_provider_writes_avif_its_failures_are_typed(monkeypatch, name, message, code):
    """As in the worker, whose Pillow has no AVIF: a load failure or an abort is an answer a person can act on."""
    from pixelpress import pillow_plugins

    class Failure(Exception):
        pass

    class NoAvif(PillowBehindTheInterface):
        async def encode_avif(self, *a):
            exc = Failure(message)
            exc.name, exc.message = name, message  # as Pyodide's JsException carries the JS error's
            raise exc

    monkeypatch.setattr(pillow_plugins, "AVIF", False)
    with pytest.raises(Exception) as err:
        convert(JPEG, {"format": "avif"}, codecs=NoAvif())
    assert getattr(err.value, "code", None) == code
