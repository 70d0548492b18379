"""The studio's views driven like a user: files in, outputs downloaded and decoded.

One page (one warm worker pool) serves the whole module; tests run in file
order and each leaves the page usable for the next.
"""

from __future__ import annotations

import json

import pytest
from PIL import Image
from samples import encode, large_photo, photo_bytes
from test_studio_support import (
    decode,
    doc_shot,
    download,
    file_payload,
    open_studio,
    record_previews,
    row,
    shot,
    stage,
    start,
    studio_context,
    unzip,
    view,
    wait_rows,
)


@pytest.fixture(scope="module")
def page(context, site_url):
    p = open_studio(context, f"{site_url}?nosw#convert")
    p.on("filechooser", lambda chooser: None)  # turn file-chooser interception on before any test needs it
    record_previews(p)
    return p


def clear_finished(page, view_id: str):
    """Empty the queue of finished rows, if there are any (the button hides otherwise)."""
    button = page.locator(f"#view-{view_id} .queue-actions >> text=Clear finished")
    if button.is_visible():
        button.click()


def tab_to(page, js_predicate: str, limit: int = 80):
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"() => {{ const el = document.activeElement; return Boolean(el && ({js_predicate})); }}"):
            return
    raise AssertionError(f"keyboard focus never reached: {js_predicate}")


def test_keyboard_only_convert(page):
    """Pick a file, choose JPEG, convert and download without the mouse."""
    page.evaluate("() => document.activeElement?.blur()")
    tab_to(page, "el.matches('#view-convert label.button')")
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "keyboard focus must be visible"
    with page.expect_file_chooser() as fc:
        page.keyboard.press("Enter")
    fc.value.set_files([file_payload("keyboard.png", photo_bytes("coffee.png", "PNG"), "image/png")])
    tab_to(page, "el.matches('#view-convert select[name=format]')")
    page.keyboard.press("ArrowDown")  # WebP -> AVIF
    page.keyboard.press("ArrowDown")  # AVIF -> JPEG
    assert page.eval_on_selector("#view-convert select[name=format]", "el => el.value") == "jpeg"
    tab_to(page, "el.matches('#view-convert form.options button[type=submit]')")
    page.keyboard.press("Enter")
    wait_rows(page, "convert", 1)
    tab_to(page, "el.matches('#view-convert .job[data-status=done] .job-actions button.primary')")
    name, data = download(page, lambda: page.keyboard.press("Enter"))
    assert name == "keyboard.jpg"
    im = decode(data)
    assert im.format == "JPEG" and im.size == (600, 400)


def test_paste_and_drop_add_files(page):
    view(page, "web-sizes")
    png = list(photo_bytes("coffee.png", "PNG"))
    page.evaluate("""(bytes) => {
        const file = (name) => new File([new Uint8Array(bytes)], name, { type: 'image/png' });
        const pasted = new DataTransfer(); pasted.items.add(file('image.png'));
        document.body.dispatchEvent(new ClipboardEvent('paste', { clipboardData: pasted, bubbles: true }));
        const dropped = new DataTransfer(); dropped.items.add(file('dropped.png'));
        const zone = document.querySelector('#view-web-sizes .dropzone');
        zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: dropped, bubbles: true, cancelable: true }));
        zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dropped, bubbles: true, cancelable: true }));
    }""", png)
    chips = page.locator("#view-web-sizes .staged li")
    assert chips.count() == 2
    texts = chips.all_inner_texts()
    assert any(t.startswith("pasted-") for t in texts) and any(t.startswith("dropped.png") for t in texts)
    assert page.locator("#view-web-sizes form.options button[type=submit]").inner_text() == "Make web sizes for 2 images"
    for _ in range(2):
        page.locator("#view-web-sizes .staged .chip-x").first.click()
    assert page.locator("#view-web-sizes form.options button[type=submit]").is_disabled()


def test_convert_batch_with_error_rows(page):
    view(page, "convert")
    page.select_option("#view-convert select[name=format]", "webp")
    corrupt = photo_bytes("astronaut.png", "JPEG")[:300] + bytes(2000)
    bomb = encode(Image.new("1", (9000, 8000)), "PNG")
    stage(page, "convert", [
        file_payload("astronaut.jpg", photo_bytes("astronaut.png", "JPEG")),
        file_payload("chelsea.png", photo_bytes("chelsea.png", "PNG"), "image/png"),
        file_payload("corrupt.jpg", corrupt),
        file_payload("notes.txt", b"these are not pixels\n" * 20, "text/plain"),
        file_payload("huge.png", bomb, "image/png"),
    ])
    assert page.locator("#view-convert form.options button[type=submit]").inner_text() == "Convert 5 images"
    rows_before = page.locator("#view-convert .job").count()  # rows earlier tests may have left
    start(page, "convert")
    wait_rows(page, "convert", rows_before + 5)
    for name, size in (("astronaut.jpg", (512, 512)), ("chelsea.png", (451, 300))):
        r = row(page, "convert", name)
        assert r.get_attribute("data-status") == "done"
        assert "Processed on this device" in r.locator(".badge.path").inner_text()
        _, data = download(page, lambda r=r, name=name: r.get_by_role("button", name=f"Download {name}").click())
        assert decode(data).size == size
    errors = {}
    for name in ("corrupt.jpg", "notes.txt", "huge.png"):
        r = row(page, "convert", name)
        assert r.get_attribute("data-status") == "failed", name
        errors[name] = (r.get_attribute("data-code"), r.locator(".job-msg").inner_text())
        assert errors[name][1], f"{name} shows no message"
    assert errors["notes.txt"][0] == "unsupported_format"
    assert errors["huge.png"][0] in ("decompression_bomb", "too_large")
    assert "megapixel" in errors["huge.png"][1]
    assert errors["corrupt.jpg"][0] in ("corrupt_image", "unsupported_format")
    assert len({m for _, m in errors.values()}) == 3, "each failure has its own message"

    name, data = download(page, lambda: row(page, "convert", "astronaut.jpg")
                          .get_by_role("button", name="Download astronaut.jpg").click())
    assert name == "astronaut.webp"
    im = decode(data)
    assert im.format == "WEBP" and im.size == (512, 512)
    name, data = download(page, lambda: page.click("#view-convert .queue-actions >> text=Download all (.zip)"))
    files = unzip(data)
    assert {"astronaut.webp", "chelsea.webp"} <= set(files)
    assert not any(n.startswith(("corrupt", "notes", "huge")) for n in files)  # failures are not zipped
    assert decode(files["chelsea.webp"]).size == (451, 300)
    shot(page, "studio-convert")
    page.evaluate("() => document.querySelector('#view-convert .queue').scrollIntoView()")
    doc_shot(page, "convert-batch")


def test_cache_serves_repeat_instantly(page):
    view(page, "convert")
    page.select_option("#view-convert select[name=format]", "webp")
    same = photo_bytes("astronaut.png", "JPEG", quality=77)  # bytes no other test converts
    stage(page, "convert", [file_payload("first.jpg", same)])
    start(page, "convert")
    page.wait_for_selector("#view-convert .job:has-text('first.jpg')[data-status=done] .badge.path[data-path=device]",
                           timeout=60_000)
    stage(page, "convert", [file_payload("again.jpg", same)])
    start(page, "convert")
    page.wait_for_selector("#view-convert .job:has-text('again.jpg')[data-status=done] .badge.path[data-path=cache]",
                           timeout=10_000)
    r = row(page, "convert", "again.jpg")
    assert "From cache" in r.locator(".badge.path").inner_text()
    _, data = download(page, lambda: r.get_by_role("button", name="Download again.jpg").click())
    assert decode(data).format == "WEBP"


def test_convert_preview_follows_the_slider(page):
    view(page, "convert")
    page.evaluate("() => { window.__previews.length = 0; }")
    stage(page, "convert", [file_payload("preview.jpg", photo_bytes("rocket.jpg", "JPEG"))])
    page.wait_for_function("() => window.__previews.length >= 1", timeout=30_000)
    assert page.locator("#view-convert .cmp-after").get_attribute("src")
    page.focus("#view-convert input[name=quality]")
    page.keyboard.press("Home")
    page.wait_for_function("() => document.querySelector('#view-convert .cmp-status').textContent.includes('q1 ')",
                           timeout=15_000)
    # the divider moves by keyboard too
    page.focus("#view-convert .cmp-range")
    page.keyboard.press("End")
    assert page.eval_on_selector("#view-convert .cmp-after", "el => el.style.clipPath") == "inset(0px 0px 0px 100%)"
    page.evaluate("""() => { const r = document.querySelector('#view-convert .cmp-range');
        r.value = 50; r.dispatchEvent(new Event('input')); }""")
    page.click("#view-convert .staged .chip-x")  # unstage: the preview goes with it
    assert page.locator("#view-convert .compare").is_hidden()


def test_cancel_all_then_retry(page):
    view(page, "convert")
    clear_finished(page, "convert")
    big = large_photo(2400, 1800)
    files = [file_payload(f"batch-{i}.png", encode(big.rotate(i * 90, expand=True), "PNG", compress_level=1), "image/png")
             for i in range(4)]
    page.select_option("#view-convert select[name=format]", "png")
    stage(page, "convert", files)
    start(page, "convert")
    page.wait_for_selector("#view-convert .job[data-status=running]", timeout=30_000)
    page.click("#view-convert .queue-actions >> text=Cancel all")
    wait_rows(page, "convert", 4)
    statuses = page.eval_on_selector_all("#view-convert .job", "rows => rows.map((r) => r.dataset.status)")
    assert statuses.count("cancelled") >= 2, statuses
    page.click("#view-convert .queue-actions >> text=Retry failed")
    page.wait_for_function("() => [...document.querySelectorAll('#view-convert .job')]"
                           ".every((r) => r.dataset.status === 'done')",
                           timeout=120_000)
    _, data = download(page, lambda: row(page, "convert", "batch-1.png")
                       .get_by_role("button", name="Download batch-1.png").click())
    assert decode(data).size == (1800, 2400)
    page.select_option("#view-convert select[name=format]", "webp")


def test_cancel_one_queued_job(page):
    view(page, "convert")
    clear_finished(page, "convert")
    big = large_photo(2000, 1500)
    stage(page, "convert", [file_payload(f"one-{i}.jpg", encode(big, "JPEG", quality=70 + i)) for i in range(4)])
    start(page, "convert")
    last = row(page, "convert", "one-3.jpg")
    last.get_by_role("button", name="Cancel one-3.jpg").click()
    wait_rows(page, "convert", 4, timeout=90_000)
    assert last.get_attribute("data-status") == "cancelled"
    assert page.locator("#view-convert .job[data-status=done]").count() == 3
    last.get_by_role("button", name="Retry one-3.jpg").click()
    page.wait_for_function("() => document.querySelectorAll('#view-convert .job[data-status=done]').length === 4", timeout=60_000)


def test_url_import(page, site_url):
    view(page, "convert")
    clear_finished(page, "convert")
    for url in (f"{site_url}icons/icon-512.png", f"{site_url}missing-photo.jpg", "http://127.0.0.1:9/blocked.jpg"):
        page.fill("#view-convert .url-form input", url)
        page.press("#view-convert .url-form input", "Enter")
    start(page, "convert")
    wait_rows(page, "convert", 3)
    ok = row(page, "convert", "icon-512.png")
    assert ok.get_attribute("data-status") == "done"
    missing = row(page, "convert", "missing-photo.jpg")
    assert missing.get_attribute("data-code") == "fetch_failed"
    assert "404" in missing.locator(".job-msg").inner_text()
    blocked = row(page, "convert", "blocked.jpg")
    assert blocked.get_attribute("data-code") == "fetch_failed"
    assert "CORS" in blocked.locator(".job-msg").inner_text()


def test_oil_paint_preview_and_export(page):
    v = view(page, "oil-paint")
    page.evaluate("() => { window.__previews.length = 0; }")
    stage(page, "oil-paint", [file_payload("cat.png", photo_bytes("chelsea.png", "PNG"), "image/png")])
    page.wait_for_function("() => window.__previews.some((p) => p.view === 'oil-paint')", timeout=60_000)
    page.focus("#view-oil-paint input[name=brush_size]")
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => window.__previews.filter((p) => p.view === 'oil-paint').length >= 2", timeout=30_000)
    assert v.locator("input[name=brush_size]").input_value() == "5"
    start(page, "oil-paint")
    wait_rows(page, "oil-paint", 1, timeout=90_000)
    r = row(page, "oil-paint", "cat.png")
    assert r.get_attribute("data-status") == "done", r.inner_text()
    name, data = download(page, lambda: r.get_by_role("button", name="Download cat.png").click())
    assert name == "cat-oil.jpg"  # auto: JPEG for an opaque photo
    im = decode(data)
    assert im.format == "JPEG" and im.size == (451, 300)
    assert page.locator("#view-oil-paint .compare.side").count() == 0  # same framing: the divider stays
    page.focus("#view-oil-paint .cmp-range")
    shot(page, "studio-oil-paint")
    page.evaluate("() => window.scrollTo(0, 0)")
    doc_shot(page, "oil-paint")


def test_car_listing_flow(page):
    from composites import make
    view(page, "car-listing")
    stage(page, "car-listing", [file_payload("car.jpg", make(0).data)])
    start(page, "car-listing")
    wait_rows(page, "car-listing", 1, timeout=120_000)
    r = row(page, "car-listing", "car.jpg")
    shot(page, "studio-car-listing")
    assert r.get_attribute("data-status") == "done", r.locator(".job-msg").inner_text()
    assert "Processed on this device" in r.locator(".badge.path").inner_text()
    name, data = download(page, lambda: r.get_by_role("button", name="Download car.jpg").click())
    files = unzip(data)
    assert set(files) == {"car-processed.png", "car-grid.png", "car-detail.png"}
    assert decode(files["car-grid.png"]).size == (600, 400)
    assert decode(files["car-detail.png"]).size == (1200, 800)
    assert decode(files["car-processed.png"]).mode == "RGBA"


def test_reframed_result_is_shown_beside_the_original_on_a_checkerboard(page):
    """A car listing crops the photo, so a divider would compare misaligned
    pictures: the two are shown side by side instead. The cut-out must show on
    the checkerboard, never on the original's backdrop."""
    import io

    import numpy as np
    from PIL import ImageDraw
    view(page, "car-listing")
    studio = Image.new("RGB", (900, 600), (220, 30, 30))  # a backdrop no result may show
    ImageDraw.Draw(studio).rounded_rectangle((220, 220, 680, 420), radius=60, fill=(30, 60, 160))
    stage(page, "car-listing", [file_payload("red.jpg", encode(studio, "JPEG", quality=95))])
    page.wait_for_function("""() => /rendered in/.test(document.querySelector('#view-car-listing .cmp-status').textContent)
                              && document.querySelector('#view-car-listing .cmp-after').complete""", timeout=60_000)
    page.wait_for_selector("#view-car-listing .compare.side", timeout=5_000)
    assert not page.locator("#view-car-listing .cmp-range").is_visible()  # nothing to drag
    px = np.asarray(Image.open(io.BytesIO(page.locator("#view-car-listing .cmp-stage").screenshot())).convert("RGB"), int)
    half = px.shape[1] // 2
    red = (px[..., 0] > 180) & (px[..., 1] < 80) & (px[..., 2] < 80)
    blue = (px[..., 2] > 120) & (px[..., 0] < 80)
    assert red[:, :half].mean() > 0.3  # the original, with its backdrop, on the left
    assert red[:, half:].mean() < 0.005, f"{red[:, half:].mean():.1%} of the result shows the red backdrop"
    assert blue[:, half:].mean() > 0.05  # and the cut-out subject on the right
    shot(page, "studio-car-listing-side-by-side")
    page.click("#view-car-listing .chip button, #view-car-listing .staged button", timeout=5_000)


def test_team_assets_flow(page):
    from logos import png, shield
    v = view(page, "team-assets")
    stage(page, "team-assets", [file_payload("logo.png", png(shield()), "image/png")])
    start(page, "team-assets")
    assert "team name" in v.locator(".form-error").inner_text()
    assert v.locator(".job").count() == 0
    v.locator("input[name=team_name]").fill("Riverside Hawks")
    v.locator("input[name=sport]").fill("Football")
    v.locator("textarea[name=roster]").fill("1 Maximilian Alexander Featherstonehaugh\n7 Ana Silva\n10 Sam Lee\n23 Jo Park")
    start(page, "team-assets")
    page.wait_for_function("() => /Processing \\d+ of \\d+/"
                           ".test(document.querySelector('#view-team-assets .job-status')?.textContent ?? '')",
                           timeout=60_000)
    wait_rows(page, "team-assets", 1, timeout=120_000)
    r = row(page, "team-assets", "logo.png")
    assert r.get_attribute("data-status") == "done", r.inner_text()
    # the featured player's name does not fit the shirt's back: the row says so, by name
    assert "Shortened to fit the shirt, banners or cards: “Maximilian Alexander Featherstonehaugh”" in r.inner_text()
    page.wait_for_selector("#view-team-assets .pack-gallery img")
    name, data = download(page, lambda: r.get_by_role("button", name="Download logo.png").click())
    assert name == "riverside-hawks-assets.zip"
    files = unzip(data)
    for f in ("logo/logo-256.png", "favicon.ico", "shirt/tshirt-front.jpg", "banners/roster-1500x500.png", "manifest.json"):
        assert f in files, f
    assert decode(files["logo/logo-256.png"]).size == (256, 256)
    assert json.loads(files["manifest.json"])["team"]["name"] == "Riverside Hawks"
    shot(page, "studio-team-assets")
    page.evaluate("() => document.querySelector('#view-team-assets .queue').scrollIntoView()")
    doc_shot(page, "team-assets")


def test_web_sizes_flow(page):
    view(page, "web-sizes")
    assert page.locator("#view-web-sizes form.options input[name=alt]").count() == 0  # alt text is per image
    logo = encode(large_photo(300, 200), "PNG")
    stage(page, "web-sizes", [file_payload("Moto Bike.jpg", encode(large_photo(1600, 1200), "JPEG", quality=90)),
                              file_payload("logo.png", logo, "image/png")])
    rows_before = page.locator("#view-web-sizes .job").count()
    start(page, "web-sizes")
    wait_rows(page, "web-sizes", rows_before + 2, timeout=90_000)
    r, small = row(page, "web-sizes", "Moto Bike.jpg"), row(page, "web-sizes", "logo.png")
    assert r.get_attribute("data-status") == "done", r.inner_text()
    # the source's own width is one of the sizes; one width is said in the singular
    assert "5 widths: 320, 640, 960, 1280, 1600 px" in r.inner_text()
    assert "1 width: 300 px" in small.inner_text()
    # each image its own alt text, empty by default
    assert 'alt=""' in r.locator(".snippet").inner_text() and 'alt=""' in small.locator(".snippet").inner_text()
    r.get_by_label("Alt text for this image").fill('A "café" racer')
    snippet = r.locator(".snippet").inner_text()
    assert "<picture" in snippet and 'alt="A &quot;café&quot; racer"' in snippet
    assert 'alt=""' in small.locator(".snippet").inner_text()
    _, data = download(page, lambda: r.get_by_role("button", name="Download Moto Bike.jpg").click())
    files = unzip(data)
    assert 'alt="A &quot;café&quot; racer"' in files.pop("moto-bike.html").decode()  # the <picture> HTML, as typed
    kinds = {ext: sorted(n for n in files if n.endswith(f".{ext}")) for ext in ("avif", "webp", "jpg")}
    assert all(len(names) == 5 for names in kinds.values()) and len(files) == 15
    for n in files:
        assert n.startswith("moto-bike-")
        width = int(n.rsplit("-", 1)[1].split(".")[0])
        im = decode(files[n])
        assert im.width == width and im.format == {"avif": "AVIF", "webp": "WEBP", "jpg": "JPEG"}[n.rsplit(".", 1)[1]]
    shot(page, "studio-web-sizes")


def test_web_sizes_chosen_widths(page):
    view(page, "web-sizes")
    widths = page.locator("#view-web-sizes input[name=widths]")
    assert widths.input_value() == "320, 640, 960, 1280, 1920"  # the engine's default list
    widths.fill("800, 400, 9000")
    stage(page, "web-sizes", [file_payload("moto.jpg", encode(large_photo(1600, 1200), "JPEG"))])
    rows_before = page.locator("#view-web-sizes .job").count()
    page.click("#view-web-sizes form.options button[type=submit]")
    problem = page.locator("#view-web-sizes .field[data-field=widths] .field-error")
    assert "9000" in problem.inner_text() and page.locator("#view-web-sizes .job").count() == rows_before
    widths.fill("800 400")
    start(page, "web-sizes")
    wait_rows(page, "web-sizes", rows_before + 1, timeout=90_000)
    assert "2 widths: 400, 800 px" in row(page, "web-sizes", "moto.jpg").inner_text()
    widths.fill("320, 640, 960, 1280, 1920")  # the next tests start from the defaults


def test_dark_theme_screenshot(page):
    view(page, "convert")
    page.emulate_media(color_scheme="dark")
    page.wait_for_timeout(400)  # let the colour transitions finish
    bg = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    assert bg == "rgb(15, 18, 24)"
    shot(page, "studio-convert-dark")
    page.emulate_media(color_scheme="light")


def test_360px_viewport_has_no_horizontal_scroll(page):
    page.set_viewport_size({"width": 360, "height": 780})
    try:
        for v in ("convert", "oil-paint", "car-listing", "team-assets", "web-sizes"):
            view(page, v)
            page.wait_for_timeout(100)
            width = page.evaluate("() => document.scrollingElement.scrollWidth")
            assert width <= 360, f"{v}: scrollWidth {width}"
            shot(page, f"studio-{v}-360")
    finally:
        page.set_viewport_size({"width": 1280, "height": 900})


def test_server_path_and_fallback(browser, site_url):
    """With a server answering /api/health, background removal goes there; a
    failing server falls back to this device, and each row says which path ran."""
    from composites import make
    calls = {"n": 0}
    cut = Image.new("RGBA", (720, 480), (0, 0, 0, 0))
    cut.paste(Image.new("RGBA", (400, 200), (200, 30, 30, 255)), (160, 160))
    cut_png = encode(cut, "PNG")
    a_jpg, b_jpg = make(1).data, make(2).data
    a_marker = a_jpg[len(a_jpg) // 2: len(a_jpg) // 2 + 64]  # identifies a.jpg inside the multipart body

    def health(route):
        route.fulfill(status=200, content_type="application/json",
                      body=json.dumps({"status": "ok", "storage": "supabase",
                                       "partners": {"api4ai": {"configured": True}, "supabase": {"configured": True}}}))

    def remove_bg(route):
        # The fake decides by content, not call order: a.jpg always meets a
        # failing upstream, b.jpg a working one, however the jobs interleave.
        calls["n"] += 1
        if a_marker in (route.request.post_data_buffer or b""):
            route.fulfill(status=503, content_type="application/json",
                          body=json.dumps({"error": {"code": "not_configured", "message": "API4.ai is not configured"}}))
        else:
            route.fulfill(status=200, content_type="image/png", body=cut_png, headers={"X-Pixelpress-Provider": "api4ai"})

    context = studio_context(browser)
    context.route("**/api/health", health)
    context.route("**/api/v1/remove-background", remove_bg)
    context.route("**/api/v1/uploads", lambda route: route.fulfill(
        status=200, content_type="application/json", body=json.dumps({"url": "https://storage.example/car-listing/x.png"})))
    try:
        p = open_studio(context, f"{site_url}?nosw#car-listing")
        p.wait_for_selector("#server-badge[data-path=server]")
        assert p.inner_text("#server-badge") == "Server: background removal + uploads"
        assert p.locator("#view-car-listing select[name=provider] option[value=auto]").inner_text() \
            == "Automatic (server cut-out)"
        stage(p, "car-listing", [file_payload("a.jpg", a_jpg), file_payload("b.jpg", b_jpg)])
        start(p, "car-listing")
        wait_rows(p, "car-listing", 2, timeout=120_000)
        rows = p.locator("#view-car-listing .job")
        assert p.locator("#view-car-listing .job[data-status=done]").count() == 2, rows.all_inner_texts()
        path_of = {name: p.locator(f"#view-car-listing .job:has-text('{name}') .badge.path").get_attribute("data-path")
                   for name in ("a.jpg", "b.jpg")}
        assert path_of == {"a.jpg": "device", "b.jpg": "server"}, (calls, rows.all_inner_texts())
        dev = p.locator("#view-car-listing .job:has(.badge.path[data-path=device])")
        # one short line in the row, the reason behind "Why"
        assert "Cut out on this device: the server’s cut-out failed" in dev.locator(".job-msg").inner_text()
        assert "server background removal unavailable" in dev.locator(".job-why").text_content()
        assert p.locator("#view-car-listing .job .upload button").count() == 2
        p.locator("#view-car-listing .job .upload button").first.click()
        p.wait_for_selector("#view-car-listing .upload-out a[href='https://storage.example/car-listing/x.png']")
        assert p.locator("#view-car-listing .upload-out").first.inner_text().startswith("Uploaded to car-listing/")
        shot(p, "studio-car-listing-server")
    finally:
        context.close()


def test_the_badge_says_only_what_the_server_has(browser, site_url):
    """A server with storage but no cut-out service: not "Server connected", and Automatic says this device."""
    context = browser.new_context(viewport={"width": 360, "height": 800})
    context.route("**/api/health", lambda route: route.fulfill(
        status=200, content_type="application/json",
        body=json.dumps({"status": "ok", "storage": "local",
                         "partners": {"api4ai": {"configured": False}, "supabase": {"configured": False}}})))
    try:
        p = open_studio(context, f"{site_url}?nosw#car-listing")
        p.wait_for_selector("#server-badge[data-path=server]")
        assert p.inner_text("#server-badge") == "Server: uploads"
        assert "no cut-out service" in p.get_attribute("#server-badge", "title")
        assert p.locator("#view-car-listing select[name=provider] option[value=auto]").inner_text() \
            == "Automatic (this device)"
    finally:
        context.close()
