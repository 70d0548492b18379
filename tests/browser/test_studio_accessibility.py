"""WCAG 2.1 A/AA checks of every studio view with axe-core, in light and dark themes.

Each view is checked in use (files staged, a preview or a finished row on
screen), since badges, rows and the compare view only exist then. Colour
contrast is measured on the rendered page, so it covers both themes.
"""

from __future__ import annotations

import pytest
from samples import photo_bytes
from test_studio_support import ROOT, file_payload, open_studio, stage, start, view, wait_rows

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
VIEWS = ["convert", "oil-paint", "car-listing", "team-assets", "web-sizes"]

RUN_AXE = """async () => {
  const res = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
  return res.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 4).map((n) => `${n.target.join(' ')}: ${n.failureSummary.split('\\n').slice(1).join(' ')}`) }));
}"""


@pytest.fixture(scope="module", params=["light", "dark"])
def page(request, browser, site_url):
    ctx = browser.new_context(color_scheme=request.param, viewport={"width": 1280, "height": 900})
    p = open_studio(ctx, f"{site_url}?nosw#convert")
    p.add_script_tag(path=str(AXE))
    stage(p, "convert", [file_payload("photo.jpg", photo_bytes("coffee.png", "JPEG"))])
    start(p, "convert")
    wait_rows(p, "convert", 1)
    yield p
    ctx.close()


@pytest.mark.parametrize("view_id", VIEWS)
def test_view_has_no_wcag_aa_violations(page, view_id):
    view(page, view_id)
    if view_id in ("oil-paint", "car-listing"):
        stage(page, view_id, [file_payload("photo.jpg", photo_bytes("coffee.png", "JPEG"))])
        page.wait_for_function(
            f"() => /rendered in|No preview/.test(document.querySelector('#view-{view_id} .cmp-status')?.textContent)",
            timeout=90_000)
    violations = page.evaluate(RUN_AXE)
    assert violations == [], "\n".join(f"{v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["nodes"])
                                       for v in violations)
