"""The neural matte on real photographs: subjects kept, busy backdrops dropped, fallbacks typed.

The photos are scikit-image's bundled ones (real pictures the project may
ship). The shared real-photo set with human masks is for bench/matte_real.py
only: its terms do not allow copying it into tests.
"""

from __future__ import annotations

import numpy as np
import pytest
import samples
from PIL import Image
from pixelpress.coroutines import run_now
from pixelpress.errors import MissingDependency
from pixelpress.ops import car_listing as cl
from pixelpress.ops.remove_background import remove_background
from pixelpress.saliency import MODEL, ModelUnavailable, NativeSegmenter, native_segmenter


def rgba_of(data: bytes) -> np.ndarray:
    return np.asarray(samples.decode(data))


def mean_alpha(a: np.ndarray, x0: int, y0: int, x1: int, y1: int) -> float:
    return float(a[y0:y1, x0:x1, 3].mean())


def test_motorcycle_in_a_garage_is_cut_out():
    """The photo that the classical matte turned into garbage: shelves, boxes and floor kept,
    the bike's tank dropped. Now the bike is opaque and the garage is gone."""
    r = remove_background(samples.path("motorcycle_left.png").read_bytes(), {})
    a = rgba_of(r.data)
    assert r.meta["matte"]["method"] == "neural" and r.meta["provider"] == "local"
    assert mean_alpha(a, 150, 250, 450, 330) > 200  # tank, engine, seat
    assert mean_alpha(a, 0, 0, 741, 80) < 10  # shelves and the back wall
    assert mean_alpha(a, 620, 0, 741, 250) < 10  # boxes on the right
    assert mean_alpha(a, 0, 440, 200, 500) < 10  # the floor


def test_busy_backdrops_are_dropped_and_subjects_kept():
    cup = rgba_of(remove_background(samples.path("coffee.png").read_bytes(), {}).data)
    assert mean_alpha(cup, 200, 130, 400, 330) > 240  # cup and saucer
    assert max(mean_alpha(cup, 0, 0, 60, 400), mean_alpha(cup, 540, 0, 600, 400)) < 20  # the wooden table
    person = rgba_of(remove_background(samples.path("astronaut.png").read_bytes(), {}).data)
    assert mean_alpha(person, 190, 70, 250, 150) > 240  # the face
    assert mean_alpha(person, 430, 0, 512, 250) < 20  # the shuttle poster behind her


def test_thin_subject_is_kept_whole():
    """A launch tower photo: the thin rocket is the subject, from its nose to its base."""
    a = rgba_of(remove_background(samples.path("rocket.jpg").read_bytes(), {}).data)
    cols = np.nonzero((a[..., 3] > 127).any(0))[0]
    rows = np.nonzero((a[..., 3] > 127).any(1))[0]
    assert 0 < np.ptp(cols) < 0.2 * a.shape[1], "only the rocket, not the towers"
    assert np.ptp(rows) > 0.5 * a.shape[0], "the rocket from nose to base"


def test_cut_out_edge_is_smooth_at_12_megapixels():
    """Upsampling a 320 px map to 4000 px must not leave blocks or a wide blur: the edge ramp
    (0 < alpha < 255) stays a few pixels wide along the outline."""
    big = samples.image("coffee.png").convert("RGB").resize((4000, 2667), Image.Resampling.LANCZOS)
    r = remove_background(samples.encode(big, "JPEG", quality=90), {"feather": 0})
    a = rgba_of(r.data)[..., 3]
    assert (r.meta["width"], r.meta["height"]) == (4000, 2667)
    solid = (a > 127).astype(np.uint8)
    import cv2
    contours, _ = cv2.findContours(solid, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    outline = sum(cv2.arcLength(c, True) for c in contours)
    ramp = ((a > 0) & (a < 255)).sum() / outline
    assert ramp < 8, f"edge ramp {ramp:.1f} px wide"
    # No staircase: along the outline, direction changes are gradual (a 12x12 px block edge would not be).
    assert len(contours) <= 3


def test_two_subjects_give_a_low_confidence_warning():
    cup = np.asarray(samples.image("coffee.png").convert("RGB"))
    r = remove_background(samples.encode(Image.fromarray(np.concatenate([cup, cup], 1)), "PNG"), {})
    assert r.meta["matte_confidence"] < 0.5
    assert "The cut-out may be wrong: two separate subjects were found." in r.meta["warnings"]


def test_a_clear_subject_gets_high_confidence_and_no_warning():
    r = remove_background(samples.path("coffee.png").read_bytes(), {})
    assert r.meta["matte_confidence"] >= 0.9 and not r.meta["warnings"]


class Failing:
    name = "failing"

    async def predict(self, tensor):
        raise ModelUnavailable("out of memory in the inference runtime")


def test_failing_network_falls_back_to_classical_with_reason():
    """The network is there but fails at run time (the browser's model worker out of memory): classical, said."""
    r = remove_background(samples.path("coffee.png").read_bytes(), {}, segmenter=Failing())
    assert r.meta["matte"]["method"] == "classical"
    assert "out of memory" in r.meta["matte"]["fallback_reason"]
    assert any("classical matte was used" in w for w in r.meta["warnings"])


def test_model_file_failing_its_hash_is_refused(tmp_path, monkeypatch):
    """The session never loads a file that is not the pinned model. Natively such a file is passed over and
    the pinned one fetched, or the op is missing_dependency (test_model_fetch.py); in the browser the
    worker's matte falls back to classical (tests/browser/test_matte_worker.py)."""
    (tmp_path / MODEL.file).write_bytes(b"not a model" * 1000)
    with pytest.raises(ModelUnavailable, match="sha256"):
        NativeSegmenter(tmp_path / MODEL.file)
    monkeypatch.setenv("PIXELPRESS_MODEL_DIR", str(tmp_path))
    monkeypatch.setenv("PIXELPRESS_OFFLINE", "1")
    with pytest.raises(MissingDependency, match="sha256"):
        remove_background(samples.path("coffee.png").read_bytes(), {})


def test_classical_is_a_provider_of_its_own():
    r = remove_background(samples.path("coffee.png").read_bytes(), {"provider": "classical"})
    assert r.meta["matte"]["method"] == "classical" and "fallback_reason" not in r.meta["matte"]


def test_car_listing_on_a_real_photo_uses_the_network():
    r = cl.car_listing(samples.path("motorcycle_left.png").read_bytes(), {"padding": 20, "shadow": False})
    assert r.meta["provider"] == "local" and r.meta["matte"]["method"] == "neural"
    a = rgba_of(r.data)[..., 3]
    # Cropped to the bike with even 20 px margins (auto-crop's subject is alpha > 10); with the
    # garage kept, the crop would be the whole 741x500 frame and more.
    rows, cols = np.nonzero((a > 10).any(1))[0], np.nonzero((a > 10).any(0))[0]
    assert (rows[0], a.shape[0] - 1 - rows[-1], cols[0], a.shape[1] - 1 - cols[-1]) == (20, 20, 20, 20)
    assert a.shape[0] < 500 + 40 and a.shape[1] < 741


def test_car_listing_falls_back_network_then_classical_then_skip():
    grey = samples.encode(Image.new("RGB", (400, 300), (128, 128, 128)), "JPEG")
    r = cl.car_listing(grey, {}, segmenter=Failing())
    assert r.meta["provider"] == "skip" and r.meta["fallback_reason"].startswith("local background removal failed")


def test_native_session_is_loaded_once_and_coroutines_finish_at_once():
    assert native_segmenter() is native_segmenter()

    async def waits():
        import asyncio
        await asyncio.sleep(0)

    with pytest.raises(RuntimeError, match="event loop"):
        run_now(waits())
