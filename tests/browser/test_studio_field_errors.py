"""Errors about a list item read in the form's words, never the engine's (issue 12).

The engine names what it was sent: `players[6].name`, zero-based, in a list
the user never saw (they typed roster lines, blank ones included, and picked
two colours). The form's own check and an error that comes back from the
engine in a job's result both have to say "Roster line 8" or "Accent colour"
instead, and point at that field.
"""

from __future__ import annotations

import pytest
from logos import png, shield
from pixelpress.errors import InvalidOption
from pixelpress.ops.asset_pack import asset_pack
from test_studio_support import file_payload, open_studio, shot, stage, start, view, wait_rows

LONG_NAME = "N" * 53
# Blank lines count: the user reads line numbers off what they typed.
ROSTER = "7 Ana Silva\n10 Sam Lee\n\n23 Jo Park\n4 Kim Ode\n9 Lu Chen\n11 Max Roy\n5 Ida Berg\n8 Tom Hale"


@pytest.fixture(scope="module")
def page(browser, site_url):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    p = open_studio(ctx, f"{site_url}?nosw#team-assets")
    yield p
    ctx.close()


def fill_form(page, roster: str, *, own_colours: bool = False):
    v = view(page, "team-assets")
    stage(page, "team-assets", [file_payload("logo.png", png(shield(200)), "image/png")])
    v.locator("input[name=team_name]").fill("Riverside Hawks")
    v.locator("textarea[name=roster]").fill(roster)
    v.locator("input[name=auto_colors]").set_checked(not own_colours)
    return v


def engine_sees(page, change_js: str):
    """The page's client sends asset_pack options changed by `change_js` (o => o): what a form check could miss."""
    page.evaluate("""(change) => {
        const client = window.pixelpress;
        const run = client.run.bind(client);
        const alter = new Function('o', `return (${change})(o);`);
        client.run = (op, input, options, more) => run(op, input, op === 'asset_pack' ? alter(options) : options, more);
    }""", change_js)


def native_error(options: dict) -> InvalidOption:
    with pytest.raises(InvalidOption) as info:
        asset_pack(png(shield(200)), {"team_name": "Riverside Hawks", **options})
    return info.value


def failed_row(page):
    wait_rows(page, "team-assets", 1, timeout=120_000)
    r = page.locator("#view-team-assets .job").first
    assert r.get_attribute("data-status") == "failed", r.inner_text()
    job = page.evaluate("() => window.pixelpressStudio.views.find((v) => v.spec.id === 'team-assets').queue.jobs[0].error")
    return r, job


def test_the_form_refuses_a_long_name_on_roster_line_7_naming_the_line(page):
    lines = ROSTER.split("\n")
    lines[6] = f"11 {LONG_NAME}"  # line 7; the blank line 3 makes it the sixth player
    v = fill_form(page, "\n".join(lines))
    start(page, "team-assets")
    said = "Roster line 7: the name can be at most 40 characters (this one is 53)."
    assert v.locator(".form-error").inner_text() == said
    assert v.locator("[data-field=roster] .field-error").inner_text() == said  # under the field itself
    assert v.locator("textarea[name=roster]").get_attribute("aria-invalid") == "true"
    assert v.locator(".job").count() == 0
    assert page.evaluate("() => document.activeElement?.name") == "roster"
    shot(page, "team-roster-line-7-refused", full_page=False)
    page.click("#view-team-assets .staged button", timeout=5_000)


def test_an_engine_error_about_a_player_names_the_roster_line(page):
    # What the engine itself says about the seventh player (players[6]) of this roster, natively ...
    players = [{"number": int(n), "name": name} for n, name in (ln.split(" ", 1) for ln in ROSTER.split("\n") if ln)]
    players[6]["name"] = LONG_NAME
    native = native_error({"players": players})
    assert native.field == "players[6].name"
    assert native.message.startswith("players[6].name ")

    # ... and what the studio shows when the worker's engine says it in a job's result: the seventh
    # player was typed on line 8, below the blank line 3.
    fill_form(page, ROSTER)
    engine_sees(page, f"(o) => ({{ ...o, players: o.players.map((p, i) => (i === 6 ? {{ ...p, name: '{LONG_NAME}' }} : p)) }})")
    start(page, "team-assets")
    r, error = failed_row(page)
    said = r.locator(".job-msg").inner_text()
    assert said == f"Roster line 8: the name {native.message.removeprefix('players[6].name ')}."
    assert said == "Roster line 8: the name must be at most 40 characters, got 53."
    assert r.get_attribute("data-code") == "invalid_option"
    assert error["field"] == "roster" and error["engineField"] == "players[6].name"
    assert page.locator("#view-team-assets [data-field=roster] .field-error").inner_text() == said
    shot(page, "team-roster-line-8-engine-error")
    page.click("#view-team-assets .job button:has-text('Remove')", timeout=5_000)


def test_an_engine_error_about_a_colour_names_the_colour_picker(page):
    native = native_error({"colors": ["#0b2545", "gold-ish"]})
    assert native.field == "colors[1]"

    fill_form(page, ROSTER, own_colours=True)
    engine_sees(page, "(o) => ({ ...o, colors: [o.colors[0], 'gold-ish'] })")
    start(page, "team-assets")
    r, error = failed_row(page)
    assert r.locator(".job-msg").inner_text() == (
        f"Accent colour {native.message.removeprefix('colors[1] ')}.")
    assert "colors[" not in r.inner_text()
    assert error["field"] == "color2"
    assert page.locator("#view-team-assets [data-field=color2] .field-error").inner_text() == error["message"]
    page.click("#view-team-assets .job button:has-text('Remove')", timeout=5_000)
