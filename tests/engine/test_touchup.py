"""Touch-up strokes (`hints`): hard where painted, solved for the region around, bounded, reusing the map.

On scikit-image's motorcycle in a garage (a real photo the project may ship):
the network keeps the bike and drops the garage; strokes then take a part of
the bike away or bring a part of the garage in.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import samples
from pixelpress.coroutines import run_now
from pixelpress.errors import InvalidOption
from pixelpress.ops.car_listing import car_listing
from pixelpress.ops.remove_background import remove_background
from pixelpress.saliency import native_segmenter

BIKE = samples.path("motorcycle_left.png")
TANK = {"keep": False, "points": [[300, 290]], "radius": 10}  # on the engine, inside the cut-out
SHELF = {"keep": True, "points": [[60, 40]], "radius": 10}  # on the shelves, which the network drops


@pytest.fixture(scope="module")
def plain() -> np.ndarray:
    return alpha_of(remove_background(BIKE.read_bytes(), {}).data)


def alpha_of(data: bytes) -> np.ndarray:
    return np.asarray(samples.decode(data))[..., 3]


def disk(shape, x: float, y: float, r: float) -> np.ndarray:
    yy, xx = np.mgrid[:shape[0], :shape[1]]
    return (xx + 0.5 - x) ** 2 + (yy + 0.5 - y) ** 2 <= r * r


def test_a_remove_stroke_clears_more_than_the_brush_and_leaves_the_rest(plain):
    r = remove_background(BIKE.read_bytes(), {"hints": [TANK]})
    a = alpha_of(r.data)
    brush = disk(a.shape, 300, 290, 10)
    assert (a[brush] == 0).all()  # hard where painted
    cleared = (plain > 127) & (a <= 127) & ~brush
    assert cleared.sum() > 1.5 * brush.sum()  # the region around it, not only the pixels under it
    assert (a > 127).sum() > 0.9 * (plain > 127).sum()  # the bike stays
    assert r.meta["matte"]["hints"] == 1


def test_a_keep_stroke_brings_in_a_region_and_nothing_far_away(plain):
    a = alpha_of(remove_background(BIKE.read_bytes(), {"hints": [SHELF]}).data)
    brush = disk(a.shape, 60, 40, 10)
    assert (a[brush] == 255).all()
    added = (plain <= 127) & (a > 127)
    assert added.sum() > 3 * brush.sum()
    # Near the stroke: the floor and the boxes stay out (far off, the edge may move by a pixel here and
    # there, since the backdrop's colour near the bike is estimated without the shelf now).
    assert added[150:].sum() + added[:, 200:].sum() < 20


def test_a_later_stroke_wins_where_two_overlap():
    over = {"keep": False, "points": [[60, 40]], "radius": 6}
    a = alpha_of(remove_background(BIKE.read_bytes(), {"hints": [SHELF, over]}).data)
    assert (a[disk(a.shape, 60, 40, 6)] == 0).all()
    assert (a[disk(a.shape, 60, 40, 10) & ~disk(a.shape, 60, 40, 8)] == 255).all()


def test_the_listing_crops_to_the_touched_up_subject():
    """A keep stroke on the shelves makes them part of the subject, so the listing's crop reaches them."""
    plain = car_listing(BIKE.read_bytes(), {"shadow": False, "padding": 0})
    touched = car_listing(BIKE.read_bytes(), {"shadow": False, "padding": 0, "hints": [SHELF]})
    assert touched.meta["matte"]["hints"] == 1
    assert plain.meta["crop"]["crop_origin"][1] > 100  # the bike's top
    assert touched.meta["crop"]["crop_origin"][1] < 40  # the shelf the stroke brought in
    assert touched.meta["height"] > plain.meta["height"] + 80


def test_a_re_solve_reuses_the_network_map():
    """The studio re-solves once per stroke: the network runs for the first cut-out only."""
    real = native_segmenter()

    class Counting:
        name, backend, calls = real.name, real.backend, 0

        async def predict(self, tensor):
            Counting.calls += 1
            return await real.predict(tensor)

    from pixelpress.ops.remove_background import cutout

    rgba = np.asarray(samples.image("motorcycle_left.png").convert("RGBA"))
    first, _, _ = run_now(cutout(rgba, segmenter=Counting()))
    again, _, _ = run_now(cutout(rgba, segmenter=Counting(), hints=parse([TANK])))
    third, _, _ = run_now(cutout(rgba, segmenter=Counting()))  # no strokes: the network runs, honestly timed
    assert Counting.calls == 2
    assert (first == third).all() and not (first == again).all()


def parse(raw):
    from pixelpress.matte.strokes import parse_hints

    return parse_hints(raw)


@pytest.mark.parametrize("hints,field", [
    ("keep here", "hints"),
    ([{"keep": "yes", "points": [[1, 1]], "radius": 5}], "hints[0].keep"),
    ([TANK, {"keep": True, "points": [[1, 1], [2]], "radius": 5}], "hints[1].points[1]"),
    ([{"keep": True, "points": [[1, float("nan")]], "radius": 5}], "hints[0].points[0]"),
    ([{"keep": True, "points": [[1e9, 1]], "radius": 5}], "hints[0].points[0]"),
    ([{"keep": True, "points": [], "radius": 5}], "hints[0].points"),
    ([{"keep": True, "points": [[1, 1]] * 501, "radius": 5}], "hints[0].points"),
    ([{"keep": True, "points": [[1, 1]], "radius": 0}], "hints[0].radius"),
    ([{"keep": True, "points": [[1, 1]], "radius": 5000}], "hints[0].radius"),
    ([{"keep": True, "points": [[1, 1]], "radius": 5, "colour": "red"}], "hints[0].colour"),
    ([TANK] * 65, "hints"),
])
def test_bad_strokes_are_refused_by_field(hints, field):
    for op in (remove_background, car_listing):
        with pytest.raises(InvalidOption) as e:
            op(BIKE.read_bytes(), {"hints": hints})
        assert e.value.code == "invalid_option" and e.value.field == field, e.value.message


def test_strokes_removing_everything_are_an_empty_image_not_a_crash():
    wipe = {"keep": False, "points": [[0, 0], [741, 0], [741, 500], [0, 500], [0, 0]], "radius": 400}
    with pytest.raises(Exception) as e:
        remove_background(BIKE.read_bytes(), {"hints": [wipe]})
    assert getattr(e.value, "code", None) == "empty_image"


def test_the_command_line_takes_strokes_from_a_file(tmp_path):
    strokes = tmp_path / "strokes.json"
    strokes.write_text(json.dumps([TANK, SHELF]))
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "pixelpress", "remove_background", str(BIKE), "-o", str(out),
                           "--set", f"hints=@{strokes}", "--no-progress"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    made = next(out.iterdir()).read_bytes()
    assert made == remove_background(BIKE.read_bytes(), {"hints": [TANK, SHELF]}).data


def test_strokes_painting_the_photo_over_and_over_are_refused_before_any_work():
    """64 strokes of 500 points zigzagging with a 1000 px brush: minutes of drawing, refused at once."""
    zigzag = {"keep": True, "points": [[0, 0], [741, 500]] * 250, "radius": 1000}
    with pytest.raises(InvalidOption) as e:
        remove_background(BIKE.read_bytes(), {"hints": [zigzag] * 64})
    assert e.value.field == "hints" and "cover the photo" in e.value.message


def test_a_cut_out_already_transparent_takes_the_strokes_as_painted():
    cat = samples.encode(samples.cutout("chelsea.png"), "PNG")
    before = alpha_of(remove_background(cat, {}).data)
    y, x = np.argwhere(before == 255)[len(np.argwhere(before == 255)) // 2]
    r = remove_background(cat, {"hints": [{"keep": False, "points": [[x + 0.5, y + 0.5]], "radius": 6}]})
    a = alpha_of(r.data)
    brush = disk(a.shape, x + 0.5, y + 0.5, 6)
    assert r.meta["matte"] == {"method": "existing_alpha", "hints": 1}
    beyond = ~disk(a.shape, x + 0.5, y + 0.5, 7.5)  # OpenCV rounds the brush's rim its own way
    assert (a[brush] == 0).all() and (a[beyond] == before[beyond]).all()
