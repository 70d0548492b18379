"""The car listing's touch-up brush, on a real photo with the real engine (issue 29).

A user paints over the cut-out shown in the studio; what they must see: a
remove stroke over the subject makes those pixels transparent in the cut-out
the studio shows, undo brings them back, reset clears every stroke, the
keyboard paints as the mouse does, and the photo processed at full size
carries the stroke (its pixels transparent there, scaled up from the
preview), while another photo of the same batch does not.
"""

from __future__ import annotations

import base64
import io

import cv2
import numpy as np
import pytest
import samples
from PIL import Image
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from test_studio_support import ROOT, download, file_payload, open_studio, row, shot, stage, start, unzip, view, wait_rows
from test_studio_support import TOUCHUP_CUTOUT_JS as CUTOUT_JS

V = "#view-car-listing"
PANEL = f"{V} section.touchup"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"



def bike_jpeg() -> bytes:
    """The motorcycle photo at twice its size (1482x1000), so the preview works on a proxy smaller than the photo."""
    im = samples.image("motorcycle_left.png").convert("RGB")
    return samples.encode(im.resize((im.width * 2, im.height * 2), Image.Resampling.LANCZOS), "JPEG", quality=92)


def cutout(page) -> np.ndarray:
    im = Image.open(io.BytesIO(base64.b64decode(page.evaluate(CUTOUT_JS))))
    assert im.mode == "RGBA"
    return np.asarray(im)


def wait_updated(page, strokes: int):
    """Until the brush says the cut-out was re-solved with `strokes` strokes."""
    try:
        wait_status(page, strokes)
    except PlaywrightTimeout:
        raise AssertionError(f"no cut-out with {strokes} strokes; the brush says: "
                             f"{page.locator(f'{PANEL} .touchup-status').inner_text()}") from None


def wait_status(page, strokes):
    page.wait_for_function(
        """([sel, n]) => { const p = document.querySelector(sel);
             const img = p.querySelector('.touchup-cutout');
             return p.dataset.state === 'idle' && img.complete && img.naturalWidth > 0
               && p.querySelector('.touchup-status').textContent.includes(`· ${n} stroke`); }""",
        arg=[PANEL, strokes], timeout=90_000)


def open_touchup(page):
    page.locator(f"{V} .touchup-offer button", has_text="Touch up").click()
    page.wait_for_function(
        """(sel) => { const p = document.querySelector(sel); const img = p.querySelector('.touchup-cutout');
             return !p.hidden && img.complete && img.naturalWidth > 0; }""", arg=PANEL, timeout=90_000)


def interior(alpha: np.ndarray, margin: float) -> tuple[int, int, float]:
    """The opaque pixel farthest from any see-through one, and how far that is."""
    dist = cv2.distanceTransform((alpha > 200).astype(np.uint8), cv2.DIST_L2, 5)
    y, x = np.unravel_index(int(dist.argmax()), dist.shape)
    assert dist[y, x] > margin, f"no opaque region wider than the brush ({dist[y, x]:.1f} <= {margin:.1f})"
    return int(x), int(y), float(dist[y, x])


def disk(shape, points, radius) -> np.ndarray:
    m = np.zeros(shape[:2], np.uint8)
    pts = np.round(np.asarray(points)).astype(np.int32)
    cv2.polylines(m, [pts], False, 1, thickness=max(1, int(2 * radius)))
    for x, y in pts:
        cv2.circle(m, (int(x), int(y)), int(radius), 1, -1)
    return m.astype(bool)


class Canvas:
    """The touch-up canvas as the page lays it out: proxy pixels to page coordinates (read again per stroke: the page scrolls)."""

    def __init__(self, page, proxy_size):
        self.page = page
        self.pw, self.ph = proxy_size
        self.k = self.box()["width"] / self.pw  # CSS pixels per proxy pixel

    def box(self):
        canvas = self.page.locator(f"{PANEL} .touchup-canvas")
        canvas.scroll_into_view_if_needed()
        return canvas.bounding_box()

    def drag(self, points):
        b = self.box()
        at = [(b["x"] + (x + 0.5) * self.k, b["y"] + (y + 0.5) * self.k) for x, y in points]
        m = self.page.mouse
        m.move(*at[0])
        m.down()
        for p in at[1:]:
            m.move(*p, steps=6)
        m.up()


def brush_radius_css(page) -> float:
    return float(page.locator(f"{PANEL} input[type=range]").input_value())


@pytest.fixture(scope="module")
def page(browser, site_url):
    ctx = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
    p = open_studio(ctx, f"{site_url}?nosw#car-listing")
    p.evaluate("""() => { window.__touchups = [];
        document.addEventListener('pixelpress:touchup', (e) => window.__touchups.push(e.detail)); }""")
    yield p
    ctx.close()


def test_a_remove_stroke_clears_the_subject_under_it_undo_and_reset_bring_it_back_and_the_export_keeps_it(page):
    v = view(page, "car-listing")
    # No floor shadow: its alpha under the car would hide what the stroke did to the car's own pixels.
    v.locator("input[name=shadow]").uncheck()
    data = bike_jpeg()
    stage(page, "car-listing", [file_payload("bike.jpg", data), file_payload("same-bike.jpg", data)])
    page.wait_for_function(f"() => !document.querySelector('{V} .touchup-offer').hidden", timeout=120_000)
    open_touchup(page)
    before = cutout(page)
    ph, pw = before.shape[:2]
    canvas = Canvas(page, (pw, ph))
    r = brush_radius_css(page) / canvas.k  # the brush's radius in proxy pixels
    cx, cy, room = interior(before[..., 3], 1.6 * r)
    reach = min(room - 1.3 * r, 3 * r)
    stroke = [(cx - reach, cy), (cx, cy), (cx + reach, cy)]
    under = disk(before.shape, stroke, 0.7 * r)
    assert (before[..., 3][under] > 200).mean() > 0.95  # the stroke goes over the kept subject

    canvas.drag(stroke)
    wait_updated(page, 1)
    after = cutout(page)
    assert after.shape == before.shape
    assert (after[..., 3][under] < 16).mean() > 0.95, "the remove stroke left the subject under it"
    assert (after[..., 3] > 200).sum() > 0.3 * (before[..., 3] > 200).sum(), "the stroke removed the whole subject"
    ms = page.evaluate("() => window.__touchups.at(-1)")
    print(f"re-solve: {ms['ms']:.0f} ms from the stroke to the new cut-out on screen, engine {ms['engineMs']:.0f} ms")
    shot(page, "studio-touchup-remove-stroke")

    page.locator(PANEL).get_by_role("button", name="Undo").click()
    wait_updated(page, 0)
    assert (cutout(page)[..., 3][under] > 200).mean() > 0.95, "undo did not bring the subject back"
    assert page.locator(PANEL).get_by_role("button", name="Undo").is_disabled()

    # The same stroke from the keyboard: the brush starts at the middle and moves half its radius per arrow key.
    page.locator(f"{PANEL} .touchup-canvas").focus()
    step = 0.5 * brush_radius_css(page) / canvas.k
    at = [pw / 2, ph / 2]

    def go(x, y):
        nx, ny = round((x - at[0]) / step), round((y - at[1]) / step)
        for key, n in (("ArrowRight" if nx > 0 else "ArrowLeft", abs(nx)), ("ArrowDown" if ny > 0 else "ArrowUp", abs(ny))):
            for _ in range(n):
                page.keyboard.press(key)
        at[0] += nx * step
        at[1] += ny * step

    page.keyboard.press("r")
    go(cx - reach / 2, cy)
    page.keyboard.press("Space")
    first = tuple(at)
    go(cx + reach / 2, cy)
    page.keyboard.press("Enter")
    wait_updated(page, 1)
    keyed = disk(before.shape, [first, tuple(at)], 0.7 * r)
    assert (cutout(page)[..., 3][keyed] < 16).mean() > 0.95, "the keyboard's stroke did not remove the subject"
    page.keyboard.press("Control+z")
    wait_updated(page, 0)

    canvas.drag(stroke)
    wait_updated(page, 1)
    page.locator(PANEL).get_by_role("button", name="Reset").click()
    wait_updated(page, 0)
    assert (cutout(page)[..., 3][under] > 200).mean() > 0.95, "reset did not clear the stroke"

    # At full size: the stroke, scaled up to the photo's pixels, goes with bike.jpg and not with its twin.
    canvas.drag(stroke)
    wait_updated(page, 1)
    start(page, "car-listing")
    wait_rows(page, "car-listing", 2, timeout=240_000)
    scale = 1482 / pw  # source pixels per proxy pixel
    alphas = {}
    for name in ("bike.jpg", "same-bike.jpg"):
        button = page.get_by_role("button", name=f"Download {name}", exact=True)
        _, z = download(page, button.click)
        processed = Image.open(io.BytesIO(next(b for n, b in unzip(z).items() if n.endswith("-processed.png"))))
        origin = page.evaluate("""(name) => window.pixelpressStudio.views.find((v) => v.spec.id === 'car-listing')
            .queue.jobs.find((j) => j.name === name).meta.crop.crop_origin""", name)
        a = np.asarray(processed)[..., 3]
        full = [((x + 0.5) * scale - 0.5 - origin[0], (y + 0.5) * scale - 0.5 - origin[1]) for x, y in stroke]
        alphas[name] = a[disk(a.shape, full, 0.7 * r * scale)]
    assert (alphas["bike.jpg"] < 16).mean() > 0.95, "the full-size listing lost the stroke"
    assert (alphas["same-bike.jpg"] > 200).mean() > 0.95, "another photo got this photo's stroke"
    shot(page, "studio-touchup-export")


def test_a_doubtful_cut_out_offers_the_brush_and_a_stroke_fixes_it_at_full_size(page):
    cup = np.asarray(samples.image("coffee.png").convert("RGB"))
    two_cups = samples.encode(Image.fromarray(np.concatenate([cup, cup], 1)), "JPEG", quality=90)
    view(page, "car-listing")
    stage(page, "car-listing", [file_payload("two-cups.jpg", two_cups)])
    start(page, "car-listing")
    page.wait_for_function("""() => [...document.querySelectorAll('#view-car-listing .job')].some((r) =>
        r.querySelector('.job-name').textContent === 'two-cups.jpg' && r.dataset.status === 'done')""", timeout=120_000)
    cups = row(page, "car-listing", "two-cups.jpg")
    meta = page.evaluate("""() => window.pixelpressStudio.views.find((v) => v.spec.id === 'car-listing')
        .queue.jobs.find((j) => j.name === 'two-cups.jpg').meta""")
    assert "The cut-out may be wrong" in cups.locator(".job-msg").inner_text(), meta
    cups.get_by_role("button", name="Touch up the cut-out of two-cups.jpg").click()
    page.wait_for_function(
        """(sel) => { const p = document.querySelector(sel); const img = p.querySelector('.touchup-cutout');
             return !p.hidden && p.dataset.state === 'idle' && img.complete && img.naturalWidth > 0; }""",
        arg=PANEL, timeout=90_000)
    assert page.locator(f"{PANEL} .touchup-canvas").evaluate("(c) => c === document.activeElement")
    assert "The cut-out may be wrong" in page.locator(f"{V} .touchup-warning").inner_text()
    # Remove the right-hand cup: a wide brush scribbled over it, as a person would.
    page.locator(f"{PANEL} input[type=range]").fill("40")
    before = cutout(page)
    ph, pw = before.shape[:2]
    canvas = Canvas(page, (pw, ph))
    r = brush_radius_css(page) / canvas.k
    right = before[:, pw // 2:, 3]
    ys, xs = np.nonzero(right > 200)
    x0, x1 = pw // 2 + xs.min() + r, pw // 2 + xs.max() - r
    rows = [*np.arange(ys.min() + r / 2, ys.max() - r, 1.5 * r), ys.max() - r / 2]
    canvas.drag([(x, y) for i, y in enumerate(rows) for x in ((x0, x1) if i % 2 == 0 else (x1, x0))])
    wait_updated(page, 1)
    assert (cutout(page)[:, pw // 2:, 3] > 200).sum() < 0.2 * (right > 200).sum(), "the second cup is still there"
    assert (cutout(page)[:, : pw // 2, 3] > 200).sum() > 0.8 * (before[:, : pw // 2, 3] > 200).sum(), "the first cup went too"
    page.locator(PANEL).get_by_role("button", name="Process this photo at full size").click()
    page.wait_for_function("""() => [...document.querySelectorAll('#view-car-listing .job')].filter((r) =>
        r.querySelector('.job-name').textContent === 'two-cups.jpg' && r.dataset.status === 'done').length === 2""",
                           timeout=120_000)
    # The photo's first row and the new one, at full size (here the proxy's own size): the second cup is gone.
    kept = {}
    for job in page.evaluate("""() => window.pixelpressStudio.views.find((v) => v.spec.id === 'car-listing')
            .queue.jobs.filter((j) => j.name === 'two-cups.jpg').map((j) => ({ id: j.id, origin: j.meta.crop.crop_origin,
              hints: (j.options.hints ?? []).length }))"""):
        _, z = download(page, page.locator(f'{V} .job[data-id="{job["id"]}"] .job-actions button.primary').click)
        a = np.asarray(Image.open(io.BytesIO(next(b for n, b in unzip(z).items() if n.endswith("-processed.png")))))[..., 3]
        ox, oy = job["origin"]
        ys2, xs2 = ys - oy, xs + pw // 2 - ox
        inside = (xs2 >= 0) & (xs2 < a.shape[1]) & (ys2 >= 0) & (ys2 < a.shape[0])
        kept[job["hints"]] = (a[ys2[inside], xs2[inside]] > 200).sum() / len(ys)
    assert kept[0] > 0.9 and kept[1] < 0.2, kept
    shot(page, "studio-touchup-doubtful")


def test_the_open_brush_has_no_wcag_aa_violations(page):
    from test_studio_accessibility import RUN_AXE

    page.add_script_tag(path=str(AXE))
    view(page, "car-listing")
    # (Only the brush and its offer: the rows' own checks are test_studio_accessibility's.)
    if page.locator(PANEL).is_hidden():
        stage(page, "car-listing", [file_payload("bike.jpg", bike_jpeg())])
        page.wait_for_function(f"() => !document.querySelector('{V} .touchup-offer').hidden", timeout=120_000)
        open_touchup(page)
    violations = page.evaluate(RUN_AXE.replace("axe.run(document", "axe.run({ include: [['#view-car-listing section.touchup'], "
                                               "['#view-car-listing .touchup-offer']] }"))
    assert violations == [], violations


def test_at_360_px_the_brush_fits_and_a_finger_paints(browser, site_url):
    ctx = browser.new_context(viewport={"width": 360, "height": 740}, has_touch=True, is_mobile=True,
                              device_scale_factor=2)
    try:
        page = open_studio(ctx, f"{site_url}?nosw#car-listing")
        stage(page, "car-listing", [file_payload("bike.jpg", bike_jpeg())])
        page.wait_for_function(f"() => !document.querySelector('{V} .touchup-offer').hidden", timeout=120_000)
        page.locator(f"{V} .touchup-offer button").tap()
        page.wait_for_function(
            """(sel) => { const img = document.querySelector(sel + ' .touchup-cutout');
                 return img.complete && img.naturalWidth > 0; }""", arg=PANEL, timeout=90_000)
        overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{overflow} px of horizontal scroll at 360 px"
        for name in ("Keep", "Remove", "Undo", "Reset", "Done"):
            box = page.locator(PANEL).get_by_role("button", name=name, exact=True).bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= 360 and box["height"] >= 34, (name, box)
        box = page.locator(f"{PANEL} .touchup-canvas").bounding_box()
        assert box["width"] > 300
        page.locator(f"{PANEL} .touchup-canvas").scroll_into_view_if_needed()
        box = page.locator(f"{PANEL} .touchup-canvas").bounding_box()
        page.touchscreen.tap(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        wait_updated(page, 1)
        shot(page, "studio-touchup-360")
    finally:
        ctx.close()
