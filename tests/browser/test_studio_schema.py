"""The studio's forms and the engine's option schema are one (issue 12).

Every field a view shows is an engine option of its operation, with the
engine's bounds, choices and default, unless it is listed here as the page's
own (a widget that becomes an engine option only after the page parses it).
And the form refuses what the engine would refuse, in the user's words,
before anything is queued.
"""

from __future__ import annotations

import pytest
from pixelpress.schema import schema
from test_studio_support import file_payload, open_studio, stage, start, view, wait_rows

# view id -> its fields that are not engine options, and what they become.
PAGE_OWN = {
    "car-listing": {"provider": "'auto' picks the server's cut-out or this device's: resolved by the page"},
    "team-assets": {"roster": "typed lines, parsed into players", "auto_colors": "whether to send colors",
                    "color1": "colors[0]", "color2": "colors[1]"},
}
STUDIO_DEFAULTS = {("convert", "format"): "webp", ("convert", "progressive"): True}

VIEW_FIELDS_JS = """() => Object.fromEntries(window.pixelpressStudio.views.map((v) => [v.spec.id, {
  op: v.spec.op,
  fields: v.spec.fields.map((f) => ({ name: f.name, min: f.min ?? null, max: f.max ?? null,
    maxlength: f.maxlength ?? null, default: f.default ?? null, choices: f.options ? f.options.map((o) => o[0]) : null,
    engine: Boolean(f.engine) })),
}]))"""


@pytest.fixture(scope="module")
def page(browser, site_url):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    yield open_studio(ctx, f"{site_url}?nosw#convert")
    ctx.close()


def test_every_view_field_is_its_engine_option_with_the_same_bounds(page):
    engine = schema()
    views = page.evaluate(VIEW_FIELDS_JS)
    assert set(views) == {"convert", "oil-paint", "car-listing", "team-assets", "web-sizes"}
    for vid, v in views.items():
        options = {o["name"]: o for o in engine[v["op"]]["options"]}
        for f in v["fields"]:
            if f["name"] in PAGE_OWN.get(vid, {}):
                assert f["name"] not in options or not f["engine"], (vid, f["name"])
                continue
            assert f["engine"] and f["name"] in options, f"{vid}: {f['name']} is not a {v['op']} option"
            o = options[f["name"]]
            if o["kind"] in ("int", "float"):
                assert (f["min"], f["max"]) == (o["min"], o["max"]), (vid, f)
            if o["kind"] == "text":
                assert f["maxlength"] == o["max_len"], (vid, f)
            if f["choices"]:
                assert set(f["choices"]) <= set(o["choices"]), (vid, f)
            assert f["default"] == STUDIO_DEFAULTS.get((vid, f["name"]), o["default"]), (vid, f)


def test_car_listing_margin_goes_as_far_as_the_engine(page):
    view(page, "car-listing")
    slider = page.locator("#view-car-listing input[name=padding]")
    assert slider.get_attribute("max") == "1000"


@pytest.mark.parametrize("roster,expected", [
    ("7 Ana Silva\n10 " + "N" * 53, "Roster line 2: the name can be at most 40 characters (this one is 53)."),
    ("7 Ana Silva\n\n123 Sam Lee", "Roster line 3: the number must be from 0 to 99, not 123."),
    ("\n".join(f"{i} Player {i}" for i in range(41)), "At most 40 players fit on the banners; this roster has 41."),
])
def test_the_roster_form_refuses_what_the_engine_would_before_queueing(page, roster, expected):
    from logos import png, shield

    v = view(page, "team-assets")
    stage(page, "team-assets", [file_payload("logo.png", png(shield(200)), "image/png")])
    v.locator("input[name=team_name]").fill("Riverside Hawks")
    v.locator("textarea[name=roster]").fill(roster)
    start(page, "team-assets")
    assert v.locator(".form-error").inner_text() == expected
    assert v.locator(".job").count() == 0
    assert page.evaluate("() => document.activeElement?.name") == "roster"
    page.click("#view-team-assets .staged button", timeout=5_000)  # unstage for the next case


def test_a_file_name_starting_with_an_underscore_makes_web_sizes(page):
    import samples

    view(page, "web-sizes")
    stage(page, "web-sizes", [file_payload("_photo.jpg", samples.photo_bytes("coffee.png", "JPEG"), "image/jpeg")])
    start(page, "web-sizes")
    wait_rows(page, "web-sizes", 1, timeout=90_000)
    r = page.locator("#view-web-sizes .job").first
    assert r.get_attribute("data-status") == "done", r.inner_text()
    assert "photo-" in r.locator(".snippet").inner_text()
