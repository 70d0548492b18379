"""Colour management: a wide-gamut photo exports as the colours its profile says, in sRGB.

Each photo is a real one stored as a camera set to Display P3, Adobe RGB or
ProPhoto would store it (its sRGB colours converted to the profile's numbers
by Little CMS, the profile embedded); the reference is what a colour-managed
viewer shows of it. Colour differences are CIEDE2000 (ΔE), where 1 is about
the smallest difference a person sees side by side.
"""

import io

import icc_profiles
import numpy as np
import pytest
import samples
from hostile_corpus import PILLOW_IMAGES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from pixelpress import icc
from pixelpress.decode import open_image
from pixelpress.ops.convert import convert
from pixelpress.ops.web_sizes import web_sizes
from skimage.color import deltaE_ciede2000, rgb2lab

PHOTOS = ("astronaut.png", "coffee.png")


def delta_e(a: Image.Image, b: Image.Image) -> np.ndarray:
    lab = [rgb2lab(np.asarray(im.convert("RGB")) / 255) for im in (a, b)]
    return deltaE_ciede2000(*lab)


def stored(name: str, profile: bytes, fmt: str = "PNG") -> tuple[bytes, Image.Image]:
    """The photo in `profile`'s numbers as a file with the profile embedded, and the pixels the file holds."""
    data = samples.encode(icc_profiles.in_profile(samples.image(name).convert("RGB"), profile), fmt, icc_profile=profile,
                          **({"quality": 95} if fmt == "JPEG" else {}))
    held = Image.open(io.BytesIO(data))
    held.load()
    held = held.convert("RGB")
    held.info.clear()  # the pixels only: re-encoded, they must not carry the profile again
    return data, held


@pytest.mark.parametrize("photo", PHOTOS)
@pytest.mark.parametrize("space", sorted(icc_profiles.WIDE))
@pytest.mark.parametrize("src_fmt", ["PNG", "JPEG"])
def test_a_wide_gamut_photo_exports_as_a_viewer_shows_it(photo, space, src_fmt):
    profile = icc_profiles.WIDE[space]
    data, held = stored(photo, profile, src_fmt)
    r = convert(data, {"format": "png"})
    out = samples.decode(r.data)
    assert "icc_profile" not in out.info  # untagged: sRGB, which the pixels now are
    assert r.meta["colour"] == "converted" and r.meta["input_profile"] == icc_profiles.WIDE_NAMES[space]
    de = delta_e(out, icc_profiles.rendered(held, profile))
    assert de.mean() < 0.3 and np.percentile(de, 99) < 1.5, (de.mean(), np.percentile(de, 99))
    if src_fmt == "PNG":  # the round trip through the profile's numbers gives back the sRGB original
        back = delta_e(out, samples.image(photo))
        assert np.percentile(back, 99) < 2, np.percentile(back, 99)
    # Read as sRGB without conversion, the same numbers are visibly off: the check above can fail.
    assert np.percentile(delta_e(held, icc_profiles.rendered(held, profile)), 99) > 3


@pytest.mark.parametrize("space", sorted(icc_profiles.WIDE))
@pytest.mark.parametrize("mode", ["RGB", "RGBA"])
def test_the_conversion_without_little_cms_agrees_with_it(space, mode, monkeypatch):
    """The worker's path (Pyodide's Pillow has no Little CMS): Pillow's own maths, in strips."""
    monkeypatch.setattr(icc, "STRIP_PIXELS", 50_000)  # several strips, one of them short
    profile = icc_profiles.WIDE[space]
    _, held = stored("coffee.png", profile)
    if mode == "RGBA":
        held = held.convert("RGBA")
        held.putalpha(Image.linear_gradient("L").resize(held.size))
    ours = icc.convert_matrix(held, profile)
    reference = icc_profiles.rendered(held, profile)
    assert np.abs(np.asarray(ours, int) - np.asarray(reference, int)).max() <= 1
    assert delta_e(ours, reference).max() < 2  # one unit in a dark saturated colour is over 1 ΔE
    if mode == "RGBA":
        assert ours.getchannel("A").tobytes() == held.getchannel("A").tobytes()


def test_without_little_cms_the_engine_takes_pillows_maths(monkeypatch):
    monkeypatch.setattr(icc, "_little_cms", lambda im, profile: None)
    data, held = stored("coffee.png", icc_profiles.DISPLAY_P3)
    r = convert(data, {"format": "png"})
    assert r.meta["colour"] == "converted"
    assert samples.decode(r.data).tobytes() == icc.convert_matrix(held, icc_profiles.DISPLAY_P3).tobytes()


@pytest.mark.parametrize("out_fmt", ["png", "jpeg", "webp"])
def test_keep_stores_the_pixels_unchanged_with_their_profile(out_fmt):
    data, held = stored("astronaut.png", icc_profiles.ADOBE_RGB)
    r = convert(data, {"format": out_fmt, "colour_profile": "keep"})
    out = samples.decode(r.data)
    assert out.info.get("icc_profile") == icc_profiles.ADOBE_RGB
    assert r.meta["colour"] == "kept" and r.meta["warnings"] == []
    if out_fmt == "png":
        assert out.convert("RGB").tobytes() == held.tobytes()


@pytest.mark.parametrize("source", ["little-cms", "hp-iec61966"])
def test_an_srgb_profile_changes_no_pixel(source):
    """Cameras and editors write many sRGB profiles; each is recognised by its numbers, and nothing is converted."""
    if source == "hp-iec61966":
        tagged = Image.open(PILLOW_IMAGES / "hopper.iccprofile.tif")
        profile, im = tagged.info["icc_profile"], tagged.convert("RGB")
    else:
        from PIL import ImageCms

        profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
        im = samples.image("astronaut.png").convert("RGB")
    assert icc.read_profile(profile).is_srgb
    tagged_r = convert(samples.encode(im, "PNG", icc_profile=profile), {"format": "png"})
    plain_r = convert(samples.encode(im, "PNG"), {"format": "png"})
    assert tagged_r.data == plain_r.data
    assert tagged_r.meta["colour"] == plain_r.meta["colour"] == "srgb" and tagged_r.meta["input_profile"]


def test_a_grey_picture_with_a_grey_profile():
    grey = samples.image("astronaut.png").convert("L")
    data = samples.encode(grey, "PNG", icc_profile=icc_profiles.GREY_22)
    r = convert(data, {"format": "png"})
    out = samples.decode(r.data)
    from PIL import ImageCms

    lcms = ImageCms.profileToProfile(grey, ImageCms.ImageCmsProfile(io.BytesIO(icc_profiles.GREY_22)),
                                     icc_profiles.srgb(), outputMode="RGB").getchannel("R")
    assert out.mode == "L" and r.meta["colour"] == "converted"
    diff = np.abs(np.asarray(out, int) - np.asarray(lcms, int))
    assert diff.max() <= 1
    assert np.abs(np.asarray(out, int) - np.asarray(grey, int)).max() >= 5  # gamma 2.2 is not sRGB's curve


def test_every_op_works_in_srgb():
    """Not only conversion: the web sizes of a P3 photo are those of its sRGB rendering."""
    data, held = stored("coffee.png", icc_profiles.DISPLAY_P3)
    ours = web_sizes(data)
    theirs = web_sizes(samples.encode(icc_profiles.rendered(held, icc_profiles.DISPLAY_P3), "PNG"))
    unmanaged = web_sizes(samples.encode(held, "PNG"))
    assert ours.meta["colour"] == "converted" and unmanaged.meta["colour"] == "srgb"
    assert np.percentile(delta_e(samples.decode(ours.data), samples.decode(theirs.data)), 99) < 1
    assert np.percentile(delta_e(samples.decode(unmanaged.data), samples.decode(theirs.data)), 99) > 3


def test_a_profile_for_another_colour_space_is_not_applied():
    im = samples.image("astronaut.png").convert("RGB")
    r = convert(samples.encode(im, "PNG", icc_profile=icc_profiles.GREY_22), {"format": "png"})
    assert samples.decode(r.data).tobytes() == im.tobytes()
    assert r.meta["colour"] == "unmanaged"
    assert any("is for GRAY data but the picture is colour" in w for w in r.meta["warnings"])


MUTATIONS = st.lists(st.tuples(st.integers(0, len(icc_profiles.PROPHOTO) - 1), st.integers(0, 255)), max_size=12)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(MUTATIONS, st.integers(0, len(icc_profiles.PROPHOTO)), st.sampled_from(sorted(icc_profiles.WIDE)))
def test_a_damaged_profile_never_breaks_the_picture(mutations, cut, space):
    """Profiles come inside untrusted files: any bytes give sRGB pixels or the stored ones, never an error."""
    data = bytearray(icc_profiles.WIDE[space])
    for at, value in mutations:
        if at < len(data):
            data[at] = value
    data = bytes(data[:cut])
    im = Image.new("RGB", (40, 30), (200, 120, 40))
    out, name, done, warning = icc.to_srgb(im, data)
    assert out.size == im.size and out.mode == "RGB" and done in (icc.SRGB, icc.CONVERTED, icc.UNMANAGED)
    assert (warning is None) == (done != icc.UNMANAGED), warning


def test_a_damaged_profile_in_a_file_costs_only_the_conversion():
    profile = bytearray(icc_profiles.DISPLAY_P3)
    profile[128:132] = (10_000).to_bytes(4, "big")  # a tag count far past the end
    im = samples.image("astronaut.png").convert("RGB")
    dec = open_image(samples.encode(im, "PNG", icc_profile=bytes(profile)))
    assert dec.image.tobytes() == im.tobytes() and dec.colour == "unmanaged"
    assert icc.MALFORMED in dec.warnings
