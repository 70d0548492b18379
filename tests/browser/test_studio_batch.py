"""A car-listing batch in the studio as a user sees it (issue 28): each row says which step runs, and a
batch of two runs both photos at once.

Each test has a fresh page, so its pool starts as a new visitor's does: one engine worker, started with the
page. A MutationObserver keeps every change of each row (status, status line, progress bar) with its time,
which is what the user watched; the tests assert on that record.
"""

from __future__ import annotations

import pytest
from composites import make
from test_studio_support import SHOTS, file_payload, open_studio, record_previews, stage, start, wait_rows

VIEW = "car-listing"

RECORD_JS = """(view) => {
  window.__rows = [];
  const last = new Map();
  const t0 = performance.now();
  const look = () => {
    for (const li of document.querySelectorAll(`#view-${view} .job`)) {
      const name = li.querySelector('.job-name').textContent;
      const bar = li.querySelector('.job-progress');
      const seen = { t: performance.now() - t0, name, status: li.dataset.status,
        line: li.querySelector('.job-status').textContent, bar: bar.hasAttribute('value') ? bar.value : null };
      const key = `${seen.status}|${seen.line}|${seen.bar}`;
      if (last.get(name) !== key) { last.set(name, key); window.__rows.push(seen); }
    }
  };
  new MutationObserver(look).observe(document.querySelector(`#view-${view}`),
    { subtree: true, childList: true, characterData: true, attributes: true });
}"""


def photo(index: int) -> bytes:
    """A composite car photo of 6 MP: big enough that a listing takes seconds, as a camera's does."""
    return make(index, 3000, 2000).data


@pytest.fixture
def page(browser, site_url, request):
    width = getattr(request, "param", 1280)
    context = browser.new_context(viewport={"width": width, "height": 900})
    p = open_studio(context, f"{site_url}?nosw#{VIEW}")
    record_previews(p)
    p.evaluate(RECORD_JS, VIEW)
    yield p
    context.close()


def queue_shot(page, name: str) -> None:
    """The queue's rows as they are now (the page's own shot() scrolls to the top, away from them)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.locator(f"#view-{VIEW} section.queue").screenshot(path=str(SHOTS / f"{name}.png"))


def changes(page, name: str) -> list[dict]:
    return [r for r in page.evaluate("() => window.__rows") if r["name"] == name]


def step_of(line: str) -> str | None:
    """'Processing 2 of 6 · remove background: network' -> 'remove background'."""
    return line.split(" · ", 1)[1].split(":")[0] if line.startswith("Processing ") and " · " in line else None


def test_a_car_listing_row_names_each_step_as_it_runs(page):
    stage(page, VIEW, [file_payload("car.jpg", photo(0))])
    start(page, VIEW)
    # The row while the network runs, as a person at a desktop sees it.
    page.wait_for_function(f"""() => [...document.querySelectorAll('#view-{VIEW} .job .job-status')]
        .some((s) => s.textContent.includes('remove background'))""", timeout=120_000)
    queue_shot(page, "studio-car-listing-progress-1280")
    wait_rows(page, VIEW, 1, timeout=180_000)
    seen = changes(page, "car.jpg")
    assert seen[-1]["status"] == "done", seen[-1]
    running = [r for r in seen if r["status"] == "running"]
    steps = list(dict.fromkeys(s for s in (step_of(r["line"]) for r in running) if s))
    # In the pipeline's order, each shown before the result: decode, remove background, autocrop, ... encode.
    assert len(steps) >= 3, [r["line"] for r in running]
    assert steps[:2] == ["decode", "remove background"] and steps[-1] == "encode", steps
    assert any(r["line"].endswith("remove background: network") for r in running), [r["line"] for r in running]
    # The bar moves with the steps: it rose at least three times before the row was done.
    bars = [r["bar"] for r in running if r["bar"] is not None]
    assert len(set(bars)) >= 3 and bars == sorted(bars), bars


@pytest.mark.parametrize("page", [360], indirect=True)
def test_a_batch_of_two_runs_both_photos_at_once(page):
    names = ["first.jpg", "second.jpg"]
    stage(page, VIEW, [file_payload(n, photo(i)) for i, n in enumerate(names)])
    # Staging two photos starts a second engine worker while the user looks at the preview.
    for _ in range(50):
        engines = [w for w in page.workers if w.url.endswith("engine-worker.js")]
        if len(engines) == 2:
            break
        page.wait_for_timeout(100)
    assert len(engines) == 2, [w.url for w in page.workers]
    page.wait_for_function(f"() => window.__previews.some((p) => p.view === '{VIEW}')", timeout=120_000)
    start(page, VIEW)
    page.wait_for_function(f"""() => [...document.querySelectorAll('#view-{VIEW} .job .job-status')]
        .filter((s) => s.textContent.includes(' · ')).length === 2""", timeout=120_000)
    queue_shot(page, "studio-car-listing-batch-360")
    wait_rows(page, VIEW, 2, timeout=240_000)
    first_step, done_at = {}, {}
    for n in names:
        seen = changes(page, n)
        assert seen[-1]["status"] == "done", seen[-1]
        # Once running, a row never goes back to "Waiting" (a job picked twice showed so and ran twice).
        statuses = [r["status"] for r in seen]
        assert "queued" not in statuses[statuses.index("running"):], statuses
        first_step[n] = min(r["t"] for r in seen if step_of(r["line"]))
        done_at[n] = min(r["t"] for r in seen if r["status"] == "done")
    # Each photo's engine reported its first step before either photo was done: they ran side by side.
    assert max(first_step.values()) < min(done_at.values()), (first_step, done_at)
