"""Decoding: formats, modes, EXIF orientation and hostile input, on real photographs."""

import io

import numpy as np
import pytest
import samples
from PIL import Image
from pixelpress.decode import Limits, open_image, sniff
from pixelpress.errors import CorruptImage, DecompressionBomb, EmptyInput, TooLarge, UnsupportedFormat


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF"])
def test_every_input_format_decodes_to_the_photo(fmt):
    src = samples.image("chelsea.png")
    data = samples.encode(src, fmt)
    assert sniff(data) == fmt
    dec = open_image(data)
    assert dec.format == fmt
    assert dec.image.size == src.size == (dec.width, dec.height)
    assert dec.image.mode in ("RGB", "RGBA")
    # Same picture, within the format's loss (GIF quantises to 256 colours).
    diff = np.abs(np.asarray(dec.image.convert("RGB"), float) - np.asarray(src, float)).mean()
    assert diff < (12 if fmt == "GIF" else 4)


def test_animated_gif_uses_first_frame_and_warns():
    frames = [samples.image("chelsea.png").convert("P"), Image.new("P", (451, 300), 3)]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:])
    dec = open_image(buf.getvalue())
    assert any("first frame" in w for w in dec.warnings)
    assert np.asarray(dec.image).std() > 20  # the photo, not the flat second frame


def test_palette_with_transparency_keeps_alpha():
    im = samples.image("astronaut.png").convert("P", palette=Image.Palette.ADAPTIVE, colors=64)
    im.info["transparency"] = 0
    dec = open_image(samples.encode(im, "PNG", transparency=0))
    alpha = np.asarray(dec.image.getchannel("A"))
    mask = np.asarray(im) == 0
    assert dec.image.mode == "RGBA"
    assert (alpha[mask] == 0).all() and (alpha[~mask] == 255).all()


def test_la_l_and_bilevel_modes():
    grey = samples.image("camera.png")
    la = Image.merge("LA", (grey, Image.new("L", grey.size, 128)))
    assert open_image(samples.encode(la, "PNG")).image.getchannel("A").getextrema() == (128, 128)
    assert open_image(samples.encode(grey, "PNG")).image.mode == "L"
    bilevel = open_image(samples.encode(grey.convert("1"), "PNG")).image
    assert bilevel.mode == "L" and set(np.unique(np.asarray(bilevel))) <= {0, 255}


def test_cmyk_jpeg_becomes_rgb_with_the_right_colours():
    src = samples.image("coffee.png")
    dec = open_image(samples.encode(src.convert("CMYK"), "JPEG", quality=95))
    assert dec.image.mode == "RGB"
    assert np.abs(np.asarray(dec.image, float) - np.asarray(src, float)).mean() < 8
    assert any("CMYK" in w for w in dec.warnings)


def test_16_bit_png_is_scaled_not_clipped():
    grey = np.asarray(samples.image("camera.png"), dtype=np.uint16) * 257  # full 16-bit range
    im16 = Image.fromarray(grey.astype(np.uint16))
    assert im16.mode.startswith("I;16")
    dec = open_image(samples.encode(im16, "PNG"))
    assert dec.image.mode == "L"
    assert np.abs(np.asarray(dec.image, int) - grey // 257).max() <= 1


# Pillow transposes that undo each EXIF orientation (self-inverse except 6/8).
STORE = {1: None, 2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
         4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_90,
         7: Image.Transpose.TRANSVERSE, 8: Image.Transpose.ROTATE_270}


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_all_eight_exif_orientations_come_out_upright(orientation, fmt):
    upright = samples.image("chelsea.png")  # 451x300: not square, not symmetric
    stored = upright.transpose(STORE[orientation]) if STORE[orientation] is not None else upright
    exif = Image.Exif()
    exif[0x0112] = orientation
    dec = open_image(samples.encode(stored, fmt, exif=exif.tobytes(), **({"quality": 95} if fmt == "JPEG" else {})))
    assert dec.image.size == upright.size
    diff = np.abs(np.asarray(dec.image, float) - np.asarray(upright, float)).mean()
    assert diff < (3 if fmt == "JPEG" else 0.01), f"orientation {orientation} not applied"


def test_zero_bytes():
    with pytest.raises(EmptyInput) as e:
        open_image(b"")
    assert e.value.code == "empty_input"


def test_truncated_jpeg():
    data = samples.photo_bytes("astronaut.png", "JPEG")
    with pytest.raises(CorruptImage) as e:
        open_image(data[: len(data) // 2])
    assert e.value.code == "corrupt_image"
    assert e.value.message == "The JPEG file is cut short and its pixels cannot be decoded."


def test_text_file_named_png():
    with pytest.raises(UnsupportedFormat) as e:
        open_image(b"This is a text file that someone renamed to photo.png\n" * 20)
    assert e.value.code == "unsupported_format"


def test_png_header_claiming_30000_square_is_refused_before_decoding():
    with pytest.raises(DecompressionBomb) as e:
        open_image(samples.png_claiming(30000, 30000))
    assert e.value.code == "decompression_bomb"
    assert "30000x30000" in e.value.message


def test_pixel_cap_applies_just_above_the_limit():
    data = samples.encode(samples.image("chelsea.png"), "PNG")
    open_image(data, Limits(max_pixels=451 * 300))
    with pytest.raises(DecompressionBomb):
        open_image(data, Limits(max_pixels=451 * 300 - 1))


def test_file_size_cap():
    data = samples.photo_bytes()
    with pytest.raises(TooLarge) as e:
        open_image(data, Limits(max_bytes=len(data) - 1))
    assert e.value.code == "too_large"


@pytest.mark.parametrize("data", [b"\xff\xd8\xff" + b"\0" * 64, b"GIF89a" + b"\xff" * 20, b"BM" + b"\0" * 60,
                                  b"RIFF\0\0\0\0WEBPVP8 " + b"\0" * 30, b"II*\x00" + b"\0" * 40])
def test_garbage_behind_valid_magic_is_corrupt(data):
    with pytest.raises(CorruptImage) as e:
        open_image(data)
    # a message for people: no Python reprs or library internals
    assert "<" not in e.value.message and "0x" not in e.value.message
