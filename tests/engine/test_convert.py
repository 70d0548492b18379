"""Conversion: outputs a user can open, at the size, mode and quality asked for."""


import numpy as np
import pytest
import samples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from pixelpress.errors import InvalidOption, PixelpressError
from pixelpress.ops.convert import ConvertOptions, convert
from pixelpress.options import describe
from skimage.metrics import structural_similarity

PHOTO = samples.photo_bytes("astronaut.png", "PNG")


def ssim(a: Image.Image, b: Image.Image) -> float:
    return structural_similarity(np.asarray(a.convert("RGB")), np.asarray(b.convert("RGB")), channel_axis=2)


@pytest.mark.parametrize("fmt,pil,mime", [("jpeg", "JPEG", "image/jpeg"), ("png", "PNG", "image/png"),
                                          ("webp", "WEBP", "image/webp")])
def test_each_target_format(fmt, pil, mime):
    r = convert(PHOTO, {"format": fmt})
    out = samples.decode(r.data)
    assert (out.format, out.size, r.mime) == (pil, (512, 512), mime)
    assert r.meta | {"timings_ms": None} == r.meta | {
        "converted": True, "format": fmt, "width": 512, "height": 512, "bytes": len(r.data),
        "input_format": "png", "input_bytes": len(PHOTO), "timings_ms": None}
    assert ssim(out, samples.image("astronaut.png")) > (0.999 if fmt == "png" else 0.9)


def test_default_jpeg_quality_is_85_and_quality_changes_size():
    default = convert(PHOTO)
    assert default.meta["quality"] == 85 and default.mime == "image/jpeg"
    sizes = [len(convert(PHOTO, {"quality": q}).data) for q in (20, 50, 85, 100)]
    assert sizes == sorted(sizes) and sizes[0] * 3 < sizes[-1]
    assert convert(PHOTO, {"quality": 85}).data == default.data


def test_progressive_jpeg():
    out = samples.decode(convert(PHOTO, {"progressive": True}).data)
    assert out.info.get("progressive") == 1
    assert samples.decode(convert(PHOTO).data).info.get("progressive") is None


def test_webp_lossless_is_pixel_exact_and_lossy_is_smaller():
    lossless = convert(PHOTO, {"format": "webp", "lossless": True})
    assert np.array_equal(np.asarray(samples.decode(lossless.data).convert("RGB")),
                          np.asarray(samples.image("astronaut.png")))
    assert lossless.meta["quality"] is None
    assert len(convert(PHOTO, {"format": "webp", "quality": 80}).data) < len(lossless.data) / 3


def test_png_compress_level_trades_size():
    fast, small = (convert(PHOTO, {"format": "png", "compress_level": c}) for c in (0, 9))
    assert len(small.data) < len(fast.data) * 0.8
    assert np.array_equal(np.asarray(samples.decode(fast.data)), np.asarray(samples.decode(small.data)))


def transparent_logo() -> bytes:
    """A real photo cut out by a soft-edged disc: opaque centre, clear corners."""
    return samples.encode(samples.cutout("chelsea.png"), "PNG")


def test_flatten_onto_chosen_background_for_jpeg():
    rgba = Image.new("RGBA", (300, 200), (255, 0, 0, 128))  # half-transparent red everywhere
    rgba.paste((0, 0, 255, 255), (100, 50, 200, 150))  # opaque blue square
    out = samples.decode(convert(samples.encode(rgba, "PNG"), {"background": "#00ff00", "quality": 100}).data)
    assert out.mode == "RGB"
    r, g, b = out.getpixel((20, 20))
    assert abs(r - 128) < 6 and abs(g - 127) < 6 and b < 6  # red over green at 50 %
    assert np.abs(np.subtract(out.getpixel((150, 100)), (0, 0, 255))).max() < 6


def test_png_and_webp_keep_alpha_unless_asked_to_flatten():
    for fmt in ("png", "webp"):
        kept = samples.decode(convert(transparent_logo(), {"format": fmt, "lossless": True}).data)
        assert kept.mode == "RGBA" and kept.getchannel("A").getextrema()[0] == 0
        flat = samples.decode(convert(transparent_logo(), {"format": fmt, "flatten": True, "background": "#000",
                                                           "lossless": True}).data)
        assert flat.mode == "RGB" and flat.getpixel((0, 0)) == (0, 0, 0)


@pytest.mark.parametrize("box,expected", [((200, None), (200, 133)), ((None, 100), (150, 100)),
                                          ((200, 50), (75, 50)), ((5000, 5000), (451, 300))])
@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_fit_inside_never_distorts_or_upscales(box, expected, fmt):
    src = samples.encode(samples.image("chelsea.png"), fmt)
    opts = {k: v for k, v in zip(("max_width", "max_height"), box, strict=True) if v is not None}
    r = convert(src, opts | {"format": "png"})
    assert samples.decode(r.data).size == expected == (r.meta["width"], r.meta["height"])


def test_reduced_jpeg_decoding_still_resizes_with_full_quality():
    big = samples.encode(samples.large_photo(2400, 1600), "JPEG", quality=92)
    fast = samples.decode(convert(big, {"max_width": 600, "format": "png"}).data)
    reference = samples.decode(big).resize((600, 400), Image.Resampling.LANCZOS)
    assert fast.size == (600, 400)
    assert ssim(fast, reference) > 0.97


def exif_with_gps() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"
    exif[0x0112] = 6
    exif[0x8825] = {2: (52.0, 22.0, 7.5)}  # GPS IFD with GPSLatitude (get_ifd() writes back only from Pillow 11)
    return exif.tobytes()


def test_metadata_stripped_by_default_kept_on_request():
    from PIL import ImageCms

    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    src = samples.encode(samples.image("chelsea.png"), "JPEG", exif=exif_with_gps(), icc_profile=icc)
    stripped = samples.decode(convert(src).data)
    assert len(stripped.getexif()) == 0 and "icc_profile" not in stripped.info
    kept_r = convert(src, {"keep_metadata": True})
    kept = samples.decode(kept_r.data)
    assert kept.size == (300, 451)  # rotated by the orientation tag...
    assert kept.getexif().get(0x0112) is None  # ...which is then removed, so viewers do not rotate twice
    assert kept.getexif()[0x010F] == "CameraMaker" and 0x8825 in kept.getexif()
    assert kept.info.get("icc_profile") == icc
    # An sRGB profile is what untagged output means anyway: dropping it changes no colour, so no warning.
    meta = convert(src).meta
    assert meta["input_profile"] == "sRGB built-in" and meta["colour"] == "srgb" and meta["warnings"] == []


INT_OPTIONS = [o for o in describe(ConvertOptions) if o["kind"] == "int"]


@pytest.mark.parametrize("opt", INT_OPTIONS, ids=[o["name"] for o in INT_OPTIONS])
def test_every_numeric_bound_is_enforced(opt):
    name, lo, hi = opt["name"], opt["min"], opt["max"]
    for ok in (lo, hi):
        convert(samples.photo_bytes("chelsea.png", "PNG"), {name: ok})
    for bad in (lo - 1, hi + 1, 2.5, "5", True):
        with pytest.raises(InvalidOption) as e:
            convert(PHOTO, {name: bad})
        assert e.value.field == name and e.value.code == "invalid_option"


@pytest.mark.parametrize("options,field", [({"format": "gif"}, "format"), ({"background": "white"}, "background"),
                                           ({"background": "#12345"}, "background"), ({"lossless": 1}, "lossless"),
                                           ({"colour": "#fff"}, "colour")])
def test_bad_choices_types_and_unknown_keys(options, field):
    with pytest.raises(InvalidOption) as e:
        convert(PHOTO, options)
    assert e.value.field == field


option_values = st.fixed_dictionaries({}, optional={
    "format": st.sampled_from(["jpeg", "png", "webp", "bmp"]),
    "quality": st.integers(-5, 105),
    "progressive": st.booleans(),
    "lossless": st.booleans(),
    "compress_level": st.integers(-1, 10),
    "webp_method": st.integers(0, 6),
    "max_width": st.one_of(st.none(), st.integers(0, 800)),
    "max_height": st.one_of(st.none(), st.integers(0, 800)),
    "background": st.sampled_from(["#fff", "#102030", "red", ""]),
    "flatten": st.booleans(),
    "keep_metadata": st.booleans(),
})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(option_values)
def test_any_options_give_a_valid_image_or_a_typed_error(options):
    src = transparent_logo()  # RGBA: exercises flattening too
    try:
        r = convert(src, options)
    except PixelpressError as e:
        assert e.code == "invalid_option" and e.field in options
        return
    out = samples.decode(r.data)
    assert out.format.lower() == r.meta["format"] and out.size == (r.meta["width"], r.meta["height"])
    assert out.width <= 451 and out.height <= 300


@pytest.mark.parametrize("fmt", ["jpeg", "webp"])
def test_target_size_finds_the_highest_quality_that_fits(fmt):
    src = samples.encode(samples.large_photo(1600, 1200), "PNG")
    r = convert(src, {"format": fmt, "max_kb": 120})
    q = r.meta["quality"]
    assert r.meta["target_met"] is True and len(r.data) <= 120_000 and 1 <= q < 85
    above = convert(src, {"format": fmt, "quality": q + 1})
    assert len(above.data) > 120_000  # one step up would not have fitted
    assert samples.decode(r.data).size == (1600, 1200)


def test_target_size_out_of_reach_says_so():
    src = samples.encode(samples.large_photo(1600, 1200), "PNG")
    r = convert(src, {"format": "jpeg", "max_kb": 1})
    assert r.meta["target_met"] is False and r.meta["quality"] == 1
    assert any("could not be reached" in w for w in r.meta["warnings"])
    with pytest.raises(InvalidOption) as e:
        convert(src, {"format": "png", "max_kb": 100})
    assert e.value.field == "max_kb"
